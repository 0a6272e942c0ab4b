"""The window of one layer, from a spec or from the command line, and its frames.

A layer is analysed the way ``convlint lint`` analyses it (so an ad-hoc layer is a one-layer
spec); its type's :meth:`~convlint.LayerType.window_axes` gives the sliding window along each
spatial axis.  The first two spatial axes are drawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from convlint.analysis.arithmetic import TransposedAxis, WindowAxis
from convlint.suggestions import suggest
from convlint.analysis.infer import analyze, describe_error
from convlint.analysis.window_findings import axis_symbols
from convlint.layers.registry import Registry
from convlint.render.animate.frames import (GATHER, SCATTER, Frames, gather_axis, scatter_axis, single_cell_axis,
                                            transposed_gather_axis)
from convlint.render.animate.scene import Labels
from convlint.report.concise import concise
from convlint.spec.files import read_text
from convlint.spec.model import Spec, parse_spec

AD_HOC_NAME = "layer"
"""The name of an ad-hoc layer in its one-layer spec (its input is ``input``)."""
MAX_TITLE = 120
"""Longest title drawn, in characters (a spec's names and values are cut to fit)."""
MAX_TAPS, MAX_EXTENT = 64, 10**6
"""Largest kernel drawn (taps per axis), and bound on the cells the frames model lists per axis."""
TRANSPOSED_VIEWS = {"conv": GATHER, "scatter": SCATTER}
"""``--transposed-as`` choices: the equivalent direct convolution (vdumoulin's drawing), or the scatter."""


class AnimateError(Exception):
    """A layer that cannot be drawn, or a bad argument; the message says why and what to do."""


@dataclass(frozen=True)
class Window:
    """What is drawn of a layer: ``axes`` (one per spatial axis) named by ``symbols``; ``title``
    names the layer, its type and keywords; ``unread_code`` is ``S001`` when the linter reports
    input the layer drops."""

    title: str
    axes: tuple[WindowAxis | TransposedAxis, ...]
    symbols: tuple[str, ...]
    unread_code: str | None = None


def _describe(layer) -> str:
    keywords = ", ".join(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}"
                         for key, value in layer.kwargs.items())
    return f"{layer.type}({keywords})"


def _window(spec: Spec, name: str, registry: Registry, title: str) -> Window:
    analysis = analyze(spec, registry)
    node = analysis.nodes.get(name)
    if node is None:
        names = [layer.name for layer in spec.layers]
        problems = [f for f in spec.findings if f.severity.value == "error"][:3]
        raise AnimateError(f"{spec.path} has no layer `{name}`{suggest(name, names)}"
                           + ("; the spec has errors:\n" + concise(problems).rstrip() if problems else ""))
    layer_findings = [f for f in analysis.findings if f.layer == name]
    if node.context is None:
        problems = [f for f in layer_findings if f.severity.value == "error"] or analysis.findings[:1]
        raise AnimateError(f"the output size of `{name}` is unknown, so there is nothing to draw:\n"
                           + concise(problems).rstrip())
    layer_type = registry.types[node.type]
    try:
        axes = layer_type.window_axes(node.context)
    except Exception as error:  # a plugin's fault, reported, not a traceback
        raise AnimateError(f"plugin `{registry.owners.get(node.type, '?')}` failed on {node.type}.window_axes: "
                           f"{describe_error(error)}") from None
    if not axes:
        raise AnimateError(f"`{name}` ({node.type}) has no sliding window to draw "
                           f"(conv, pool and transposed conv layers have one)")
    for axis in axes[:2]:
        if axis.kernel > MAX_TAPS or _extent(axis) > MAX_EXTENT:
            raise AnimateError(f"`{name}` is too large to draw: a kernel of at most {MAX_TAPS} taps and sizes, "
                               f"strides and padding within {MAX_EXTENT:,} cells per axis can be drawn")
    symbols = axis_symbols(len(axes))
    unread = "S001" if any(f.code == "S001" for f in layer_findings) else None
    return Window(title, tuple(axes), symbols, unread)


def _extent(axis: WindowAxis | TransposedAxis) -> int:
    """A bound on the canvas cells :mod:`~convlint.render.animate.frames` lists for ``axis`` (in either view)."""
    if isinstance(axis, WindowAxis):
        return axis.padded + axis.stride + axis.dilation * axis.kernel
    return ((axis.size - 1) * axis.stride + 2 * axis.dilation * axis.kernel + 2 * axis.padding
            + axis.output_padding + 1)


def spec_window(path: str, name: str, sizes: dict[str, int], registry: Registry) -> Window:
    """Layer ``name`` of the spec at ``path``; ``sizes`` gives a number to each named input size.

    Raises :class:`AnimateError` (unknown layer or size name, a named size left without a number,
    a layer with no window) and the errors of reading a spec (``UnreadableFile``, ``NotASpec``).
    """
    spec = parse_spec(read_text(Path(path)), str(path))
    names = spec.size_names
    unknown = [key for key in sizes if key not in names]
    if unknown:
        known = f"its named sizes are {', '.join(names)}" if names else "it has no named sizes"
        raise AnimateError(f"--size names {', '.join(unknown)}, but {known}")
    missing = [key for key in names if key not in sizes]
    if missing:
        example = " ".join(f"--size {key}=64" for key in missing)
        raise AnimateError(f"{path} has named input sizes ({', '.join(names)}); say which size to draw the "
                           f"layer at, e.g. {example}")
    if names:
        spec = spec.at_sizes(sizes)
    layer = spec.layer_by_name.get(name)
    at = "" if not sizes else " at " + ", ".join(f"{key}={value}" for key, value in sizes.items())
    title = f"{name}: {_describe(layer)}{at}" if layer else name
    return _window(spec, name, registry, title)


def parse_value(text: str):
    """A keyword's value as written on the command line, read as a YAML value: ``3``, ``[3, 5]``,
    ``true``, ``same``."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def ad_hoc_window(type_name: str, sizes: list[int], keywords: dict, registry: Registry) -> Window:
    """A layer of type ``type_name`` with ``keywords`` on an input of spatial ``sizes`` (one size
    for a 2-D or 3-D type means a square or cube); channels default to 1."""
    layer_type = registry.types.get(type_name)
    if layer_type is None:
        raise AnimateError(f"unknown layer type `{type_name}`{suggest(type_name, registry.types)}")
    unknown = [key for key in keywords if key not in layer_type.keywords]
    if unknown:
        raise AnimateError(f"{type_name} has no keyword {', '.join(f'`{key}`' for key in unknown)}"
                           f"{suggest(unknown[0], layer_type.keywords)}; its keywords are "
                           f"{', '.join(layer_type.keywords)}")
    ndim = layer_type.spatial_dims or len(sizes)
    if len(sizes) == 1 and ndim > 1:
        sizes = sizes * ndim
    if len(sizes) != ndim:
        raise AnimateError(f"{type_name} has {ndim} spatial axes; --input gives {len(sizes)} sizes")
    layer = {"name": AD_HOC_NAME, "type": type_name, **keywords}
    if "out_channels" in layer_type.keywords:
        layer.setdefault("out_channels", 1)
    channels = keywords.get("in_channels") or keywords.get("groups") or 1
    text = yaml.safe_dump({"name": "ad-hoc", "inputs": {"input": [1, channels, *sizes]}, "layers": [layer]},
                          sort_keys=False, allow_unicode=True)
    spec = parse_spec(text, "<command line>")
    problems = [f for f in spec.findings if f.severity.value == "error"]
    if problems:
        raise AnimateError(concise(problems).rstrip())
    keyword_text = ", ".join(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}"
                             for key, value in keywords.items())
    return _window(spec, AD_HOC_NAME, registry, f"{type_name}({keyword_text}) on {'×'.join(map(str, sizes))}")


def window_frames(window: Window, transposed_as: str = "conv") -> tuple[Frames, Labels]:
    """The frames of ``window``'s first two spatial axes, and the words around them."""
    axes, symbols = window.axes[:2], window.symbols[:2]
    transposed = isinstance(axes[0], TransposedAxis)
    windows = [axis for axis in axes if isinstance(axis, WindowAxis)]  # a layer's axes are all of one kind
    spread = [axis for axis in axes if isinstance(axis, TransposedAxis)]
    view = TRANSPOSED_VIEWS[transposed_as] if transposed else GATHER
    if not transposed:
        per_axis = [gather_axis(axis, symbol) for axis, symbol in zip(windows, symbols)]
    elif view == GATHER:
        per_axis = [transposed_gather_axis(axis, symbol) for axis, symbol in zip(spread, symbols)]
    else:
        per_axis = [scatter_axis(axis, symbol) for axis, symbol in zip(spread, symbols)]
    rows, columns = (per_axis[0], per_axis[1]) if len(per_axis) == 2 else (single_cell_axis(view), per_axis[0])
    frames = Frames(view, rows, columns, len(per_axis))
    sizes = "×".join(str(axis.size) for axis in axes)
    outs = "×".join(str(axis.out) for axis in axes)
    notes = []
    if len(window.axes) > 2:
        notes.append(f"drawn along {', '.join(symbols)} of {', '.join(window.symbols)}")
    if not transposed:
        pads = sorted({(axis.pad_left, axis.pad_right) for axis in windows})
        padding = "" if pads == [(0, 0)] else " · padding " + ", ".join(
            str(left) if left == right else f"{left}+{right}" for left, right in pads)
        canvas_title, frames_title = f"input {sizes}{padding}", f"output {outs}"
    elif view == GATHER:
        canvas_title, frames_title = f"input {sizes}, zeros inserted, padded", f"output {outs}"
        described: dict[str, list[str]] = {}
        for axis, symbol in zip(spread, symbols):
            before = axis.dilation * (axis.kernel - 1) - axis.padding
            extra = f" + output_padding {axis.output_padding} after" if axis.output_padding else ""
            described.setdefault(f"{axis.stride - 1} zero(s) between inputs, padding {before} per side{extra}, "
                                 f"then a stride-1 window of {axis.kernel} taps (the kernel flipped)", []).append(symbol)
        notes.extend(f"{', '.join(named)}: {text}" for text, named in described.items())
    else:
        canvas_title, frames_title = f"output {outs} (grey: cut by padding)", f"input {sizes}"
        notes.append("each input cell stamps the kernel onto the output; numbers count the stamps summed")
    title = window.title if len(window.title) <= MAX_TITLE else window.title[:MAX_TITLE - 1] + "…"
    labels = Labels(title, canvas_title, frames_title, tuple(notes), window.unread_code)
    return frames, labels
