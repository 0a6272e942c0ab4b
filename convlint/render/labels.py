"""A layer's key keyword arguments in the short form diagrams use: ``3×3 s2 p1``, ``↑2``, ``groups 32``.

Works on any layer type by keyword name (the torch.nn names), so plugin layers
get the same notation; a layer type picks its options in :meth:`convlint.LayerType.label`.  Values may be the converted arguments (tuples per
spatial axis) or the raw values written in the spec (ints or lists), so a
layer whose arguments could not be checked still shows what was written.
Only settings that differ from the usual identity value are shown (stride 1,
padding 0, dilation 1 and groups 1 are left out); the kernel size always is.
"""
from __future__ import annotations

from typing import Any, Mapping


def _axes(value: Any) -> str:
    """``(3, 3)`` → ``3×3``; ``3`` → ``3``; ``None`` entries (keep the input size) → ``·``."""
    if isinstance(value, (list, tuple)):
        return "×".join("·" if item is None else _number(item) for item in value)
    return _number(value)


def _number(value: Any) -> str:
    """``2.0`` → ``2``, ``0.5`` → ``0.5``, anything else as ``str``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _uniform(value: Any) -> str:
    """A per-axis value written once when all axes agree: ``(2, 2)`` → ``2``, ``(2, 1)`` → ``2×1``."""
    if isinstance(value, (list, tuple)) and value and all(item == value[0] for item in value):
        return _number(value[0])
    return _axes(value)


def _all(value: Any, target: int) -> bool:
    """True when ``value`` (a number or a per-axis sequence) is ``target`` on every axis."""
    if isinstance(value, (list, tuple)):
        return all(item == target for item in value)
    return value == target


def args_label(args: Mapping[str, Any], stride_defaults_to_kernel: bool = False, upsampling: bool = False) -> str:
    """The key arguments of a layer as one short string.

    ``Conv2d(kernel_size=3, stride=2, padding=1)`` → ``3×3 s2 p1``;
    ``ConvTranspose2d(kernel_size=2, stride=2)`` → ``2×2 ↑2`` (with ``upsampling``: the stride
    multiplies the size); ``MaxPool2d(2)`` → ``2×2 s2`` (with ``stride_defaults_to_kernel``, as
    a pool's stride does); ``AdaptiveAvgPool2d((1, 1))`` → ``→1×1``;
    ``Concat(dim=1)`` → ``dim 1``; ``Dropout(p=0.5)`` → ``p 0.5``.  Empty when nothing is worth showing.
    """
    parts = []
    kernel = args.get("kernel_size")
    if kernel is not None:
        parts.append(_axes(kernel))
    stride = args.get("stride")
    if stride is None and stride_defaults_to_kernel and kernel is not None:
        stride = kernel
    if stride is not None and not _all(stride, 1):
        parts.append(("↑" if upsampling else "s") + _uniform(stride))
    padding = args.get("padding")
    if isinstance(padding, str):
        parts.append(padding)
    elif padding is not None and not _all(padding, 0):
        parts.append("p" + _uniform(padding))
    for key, prefix, identity in (("output_padding", "op", 0), ("dilation", "d", 1)):
        value = args.get(key)
        if value is not None and not _all(value, identity):
            parts.append(prefix + _uniform(value))
    groups = args.get("groups")
    if groups is not None and groups != 1:
        parts.append(f"groups {groups}")
    if args.get("ceil_mode"):
        parts.append("ceil")
    for key in ("output_size", "size"):
        if args.get(key) is not None:
            parts.append("→" + _axes(args[key]))
    if args.get("scale_factor") is not None:
        parts.append("×" + _uniform(args["scale_factor"]))
    mode = args.get("mode")
    if mode is not None and mode != "nearest":
        parts.append(str(mode))
    for key, label in (("dim", "dim"), ("p", "p")):
        if args.get(key) is not None:
            parts.append(f"{label} {_number(args[key])}")
    return " ".join(parts)
