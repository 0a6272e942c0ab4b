"""The padding layers of torch.nn: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad,
each in 1, 2 and 3 dimensions."""
from __future__ import annotations

from typing import Any

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.infer import format_shape
from convlint.layers.keywords import REQUIRED, Float, IntList, Keyword, KeywordError
from convlint.analysis.window_findings import axis_symbols

MODES = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect", "Replication": "replicate",
         "Circular": "circular"}
"""Class-name prefix → the padding mode of :func:`convlint.execute.kernels.rearrange.pad`."""


class PadWidths(Keyword):
    """``padding``: one int for every side, or ``2·ndim`` ints in PyTorch's order, last axis first
    (``[left, right, top, bottom, front, back]``); converted to ``(before, after)`` per axis, first axis first.
    Each width is checked as an :class:`IntList` item (``minimum``: the smallest width allowed)."""

    kind = "pad widths"

    def __init__(self, default: Any = REQUIRED, doc: str = "", minimum: int | None = None):
        super().__init__(default, doc)
        self.widths = IntList(minimum=minimum, scalar=True)

    def schema(self, ndim: int) -> dict:
        return self.widths.schema(ndim)

    def convert(self, value, ndim: int) -> tuple[tuple[int, int], ...]:
        widths = self.widths.convert(value, ndim)
        if len(widths) == 1 and not isinstance(value, list):
            widths = widths * (2 * ndim)
        if len(widths) != 2 * ndim:
            raise KeywordError(f"expected an integer or {2 * ndim} integers (before and after, last axis first), "
                               f"got {len(widths)}")
        pairs = [(widths[2 * axis], widths[2 * axis + 1]) for axis in range(ndim)]
        return tuple(reversed(pairs))


class Pad(LayerType):
    """``torch.nn.{Zero,Constant,Reflection,Replication,Circular}Pad{1,2,3}d``: each spatial axis grows by its
    before and after widths (negative widths crop, for zero and constant padding)."""

    family = "reshape"

    def __init__(self, prefix: str, ndim: int):
        self.name = f"{prefix}Pad{ndim}d"
        self.mode = MODES[prefix]
        self.spatial_dims = ndim
        self.input_ranks = (ndim + 2,)
        self.keywords = {"padding": PadWidths(doc="width per side: one int, or before/after per axis, last axis "
                                                  "first", minimum=None if self.mode == "constant" else 0)}
        if prefix == "Constant":
            self.keywords["value"] = Float(doc="the value padded in")

    def infer(self, ctx: LayerContext):
        batch, channels, *spatial = ctx.input
        for symbol, size, (before, after) in zip(axis_symbols(ctx.ndim), spatial, ctx.args["padding"]):
            widest = max(before, after)
            if (self.mode == "reflect" and widest >= size) or (self.mode == "circular" and widest > size):
                limit = "below" if self.mode == "reflect" else "at most"
                ctx.report("S012", f"{symbol}: {self.name} needs padding {limit} the input size {size}, got {widest} "
                                   f"(input {format_shape(ctx.input)} from `{ctx.layer.sources[0]}`)", "padding")
                return None
        return (batch, channels, *(size + before + after for size, (before, after) in zip(spatial, ctx.args["padding"])))

    def symbolic_shape(self, layer):
        """Each spatial size plus its widths; reflection and circular padding compare each size with
        its wider width."""
        batch, channels, *spatial = layer.input
        for size, (before, after) in zip(spatial, layer.args["padding"]):
            if self.mode not in ("reflect", "circular"):
                continue
            widest = max(before, after)
            if isinstance(size, int) and (widest >= size if self.mode == "reflect" else widest > size):
                return None
            layer.compare(size, widest)
        return (batch, channels, *(size + before + after
                                   for size, (before, after) in zip(spatial, layer.args["padding"])))

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.rearrange import pad
        return pad(inputs[0], ctx.args["padding"], self.mode, ctx.args.get("value", 0.0))

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """The input position copied into ``position`` (outside the input for constant padding)."""
        size = ctx.input[2 + axis]
        index = position - ctx.args["padding"][axis][0]
        if self.mode == "reflect" and not 0 <= index < size:
            index = -index if index < 0 else 2 * (size - 1) - index
        elif self.mode == "replicate":
            index = min(max(index, 0), size - 1)
        elif self.mode == "circular":
            index %= size
        return [(index, index)]

    # ---- Import (convlint import) ----
    onnx_ops = ("Pad",)

    def from_onnx(self, node):
        """A ``Pad`` of the spatial axes only, ``pads`` ``[b1, …, bn, e1, …, en]`` as PyTorch's widths (last
        axis first); ``constant`` mode with value 0 is ``ZeroPad``, another value ``ConstantPad``, ``reflect``
        ``ReflectionPad``, ``edge`` ``ReplicationPad``, ``wrap`` ``CircularPad``."""
        from convlint.importing.onnx_node import Imported
        pads, value = node.constant(1), node.constant(2)
        if pads is None:
            pads = node.attribute("pads")
        rank = node.rank
        if pads is None or rank != self.spatial_dims + 2 or node.constant(3) is not None:
            return None
        pads = [int(width) for width in list(getattr(pads, "flat", pads))]
        if len(pads) != 2 * rank or any(pads[axis] or pads[rank + axis] for axis in (0, 1)):
            return None
        modes = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}
        fill = float(value.flat[0]) if value is not None else float(node.attribute("value", 0.0))
        if modes.get(node.attribute("mode", "constant")) != self.mode:
            return None
        if self.mode == "constant" and (fill == 0.0) != ("value" not in self.keywords):
            return None
        widths = [width for axis in reversed(range(2, rank)) for width in (pads[axis], pads[rank + axis])]
        keywords: dict = {"padding": widths[0] if len(set(widths)) == 1 else widths}
        if "value" in self.keywords:
            keywords["value"] = fill
        return Imported(keywords, sources=[0])

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Pad`` (circular padding needs opset 19)."""
        mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[self.mode]
        return graph.pad(inputs[0], ctx.args["padding"], mode, ctx.args.get("value", 0.0))


@hookimpl
def register_layer_types(register):
    for prefix in MODES:
        for ndim in (1, 2, 3):
            register(Pad(prefix, ndim))
