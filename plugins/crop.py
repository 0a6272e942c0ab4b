"""Cropping: CenterCrop, the crop-and-copy of the original U-Net's skip connections."""
from __future__ import annotations

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.infer import format_shape
from convlint.layers.keywords import IntTuple, Optional
from convlint.analysis.window_findings import axis_symbols


def crop_start(size: int, target: int) -> int:
    """First kept index when cropping ``size`` to ``target`` about the centre.

    ``int(round((size − target) / 2))``, exactly as torchvision's ``center_crop``
    (Python rounds halves to even).
    """
    return int(round((size - target) / 2.0))


class CenterCrop(LayerType):
    """Crops ``(N, C, *spatial)`` about the centre to ``(N, C, *target)``, like torchvision's ``center_crop``.

    The target is ``size`` (per axis), or the spatial size of the tensor named by
    ``like`` (which is read as a second input: ``from: skip, like: up``).  No parameters.
    """

    name = "CenterCrop"
    family = "reshape"
    diagram_role = "crop"
    input_ranks = (3, 4, 5)
    max_inputs = 2
    keywords = {"size": Optional(IntTuple(minimum=1), "output size per axis (or give `like`)")}

    def infer(self, ctx: LayerContext):
        batch, channels, *spatial = ctx.input
        target = self.target(ctx)
        if target is None:
            return None
        for symbol, size, want in zip(axis_symbols(ctx.ndim), spatial, target):
            if want > size:
                ctx.report("S012", f"{symbol}: cannot crop {size} to {want}; the input `{ctx.layer.sources[0]}` "
                                   f"({format_shape(ctx.input)}) is smaller than the target", "like")
                return None
        return (batch, channels, *target)

    def target(self, ctx: LayerContext) -> tuple[int, ...] | None:
        """The spatial target size, or ``None`` after reporting why it is not known."""
        size = ctx.args["size"]
        if (size is None) == (len(ctx.inputs) == 1):
            ctx.report("S012", "CenterCrop needs exactly one of `size` and `like`", "size")
            return None
        if size is not None:
            return size
        like = ctx.inputs[1]
        if len(like) != len(ctx.input):
            ctx.report("S011", f"`like` names a {len(like)}-D tensor {format_shape(like)}, but the input is "
                               f"{len(ctx.input)}-D", "like")
            return None
        return tuple(like[2:])

    def symbolic_shape(self, layer):
        """``(N, C, *target)``; each input size is compared with its target (``size`` or ``like``'s)."""
        batch, channels, *spatial = layer.input
        size = layer.args["size"]
        if (size is None) == (len(layer.inputs) == 1):
            return None
        if size is None:
            like = layer.inputs[1]
            if len(like) != len(layer.input):
                return None
            size = tuple(like[2:])
        for have, want in zip(spatial, size):
            layer.compare(have, want)
        return (batch, channels, *size)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        x = inputs[0]
        target = self.target(ctx)
        assert target is not None, "forward runs only on layers whose infer succeeded"
        window = tuple(slice(crop_start(size, want), crop_start(size, want) + want)
                       for size, want in zip(x.shape[2:], target))
        return x[(slice(None), slice(None), *window)]

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        target = self.target(ctx)
        assert target is not None, "input_spans is asked only of layers whose infer succeeded"
        start = crop_start(ctx.input[2 + axis], target[axis])
        return [(position + start, position + start)] + [None] * (len(ctx.inputs) - 1)

    # ---- Import (convlint import) ----
    onnx_ops = ("Slice",)

    def from_onnx(self, node):
        """``size`` of a ``Slice`` of every spatial axis (in order, by steps of 1) of an input of known
        sizes, each from ``round((size − target) / 2)``: convlint's export at fixed sizes.  (Its export at
        symbolic sizes computes the start in the graph, which no type imports yet.)"""
        from convlint.importing.onnx_node import Imported
        shape = node.input_shape(0)
        starts, ends, axes, steps = (node.constant(index) for index in (1, 2, 3, 4))
        if shape is None or len(shape) not in self.input_ranks or starts is None or ends is None or axes is None \
                or not all(isinstance(size, int) for size in shape[2:]):
            return None
        if axes.tolist() != list(range(2, len(shape))) or not starts.shape == ends.shape == axes.shape \
                or (steps is not None and set(steps.tolist()) != {1}):
            return None
        spatial, first, last = shape[2:], starts.tolist(), ends.tolist()
        target = [end - start for start, end in zip(first, last)]
        if not all(0 < want <= size and start == crop_start(size, want)
                   for size, want, start in zip(spatial, target, first)):
            return None
        return Imported({"size": target}, sources=[0])

    # --- export (convlint export) ---
    def torch_module(self, args):
        """None: the helper ``center_crop`` in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        size = f"{inputs[1]}.shape[2:]" if len(inputs) > 1 else args["size"]
        return f"center_crop({inputs[0]}, {size})"

    def torch_helpers(self) -> dict:
        return {"center_crop": CENTER_CROP_SOURCE}

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Slice`` from ``round((size − target) / 2)``; with symbolic sizes computed at run time (``Round``
        halves to even, as Python)."""
        x = inputs[0]
        axes = list(range(2, len(ctx.input)))
        if not graph.dynamic:
            target = self.target(ctx)
            assert target is not None, "a layer with a known shape has a target"
            starts = [crop_start(size, want) for size, want in zip(ctx.input[2:], target)]
            return graph.node("Slice", [x, graph.constant(starts), graph.constant([a + b for a, b in zip(starts, target)]),
                                        graph.constant(axes)])
        target = graph.shape_of(inputs[1], 2) if len(inputs) > 1 else graph.constant(list(ctx.args["size"]))
        spare = graph.node("Cast", [graph.node("Sub", [graph.shape_of(x, 2), target])], to=1)
        start = graph.node("Cast", [graph.node("Round", [graph.node("Div", [spare, graph.scalar(2.0)])])], to=7)
        return graph.node("Slice", [x, start, graph.node("Add", [start, target]), graph.constant(axes)])


CENTER_CROP_SOURCE = '''def center_crop(x, size):
    """Crop the spatial dims of ``x`` about the centre to ``size`` (an int or one per axis), as
    torchvision's ``center_crop``: the first kept index is ``round((have - want) / 2)``."""
    size = (size,) * (x.dim() - 2) if isinstance(size, int) else tuple(size)
    starts = [int(round((have - want) / 2.0)) for have, want in zip(x.shape[2:], size)]
    return x[(slice(None), slice(None), *(slice(start, start + want) for start, want in zip(starts, size)))]
'''


@hookimpl
def register_layer_types(register):
    register(CenterCrop())
