"""Merges of several tensors: Concat (``torch.cat``) and Add (elementwise sum)."""
from __future__ import annotations

from convlint import LayerContext, LayerType, hookimpl
from convlint.infer import format_shape
from convlint.keywords import Int
from convlint_plugins.basic import normalised_dim


class Concat(LayerType):
    """``torch.cat(inputs, dim)``: all dims but ``dim`` must agree; ``dim`` sizes add up."""

    name = "Concat"
    family = "merge"
    min_inputs, max_inputs = 2, None
    keywords = {"dim": Int(1, "axis to concatenate along (1: channels)")}

    def infer(self, ctx: LayerContext):
        first = ctx.inputs[0]
        dim = normalised_dim(ctx, "dim", ctx.args["dim"], len(first))
        if dim is None:
            return None
        names = ctx.layer.sources
        for name, shape in zip(names[1:], ctx.inputs[1:]):
            if len(shape) != len(first):
                ctx.report("S009", f"cannot concatenate `{names[0]}` ({format_shape(first)}, {len(first)}-D) with "
                                   f"`{name}` ({format_shape(shape)}, {len(shape)}-D)", "from")
                return None
            differ = [axis for axis in range(len(first)) if axis != dim and shape[axis] != first[axis]]
            if differ:
                axes = ", ".join(str(axis) for axis in differ)
                ctx.report("S009", f"`{names[0]}` gives {format_shape(first)} but `{name}` gives "
                                   f"{format_shape(shape)}: they differ in dim {axes}, and only dim {dim} may differ",
                           "from")
                return None
        return (*first[:dim], sum(shape[dim] for shape in ctx.inputs), *first[dim + 1:])

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        import numpy
        return numpy.concatenate(inputs, axis=ctx.args["dim"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """Identity for every input when concatenating channels; unknown along a spatial axis."""
        if ctx.args["dim"] % len(ctx.input) >= 2:
            return None
        return [(position, position)] * len(ctx.inputs)


class Add(LayerType):
    """Elementwise sum of tensors of one shape (a residual connection)."""

    name = "Add"
    family = "merge"
    min_inputs, max_inputs = 2, None

    def infer(self, ctx: LayerContext):
        names = ctx.layer.sources
        first = ctx.inputs[0]
        for name, shape in zip(names[1:], ctx.inputs[1:]):
            if shape != first:
                ctx.report("S010", f"`{names[0]}` gives {format_shape(first)} but `{name}` gives "
                                   f"{format_shape(shape)}; Add needs equal shapes", "from")
                return None
        return first

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        total = inputs[0].copy()
        for other in inputs[1:]:
            total += other
        return total

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)] * len(ctx.inputs)


@hookimpl
def register_layer_types(register):
    register(Concat())
    register(Add())
