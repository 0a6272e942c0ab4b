"""Products: Mul (a broadcasting elementwise product of several tensors, as squeeze-excitation gates)
and LayerScale (ConvNeXt's learnt per-channel scale)."""
from __future__ import annotations

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.infer import format_shape
from convlint.findings import Fix
from convlint.layers.keywords import Float, Int, Optional

from .merge import ElementwiseOfTensors


def broadcast(first: tuple, other: tuple) -> tuple | None:
    """The shape two shapes broadcast to (NumPy's and PyTorch's rule, aligned at the last dim), or ``None``."""
    rank = max(len(first), len(other))
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in (first, other)]
    if any(a != b and 1 not in (a, b) for a, b in zip(*padded)):
        return None
    return tuple(max(a, b) for a, b in zip(*padded))


def symbolic_broadcast(layer, first: tuple, other: tuple) -> tuple | None:
    """:func:`broadcast` of shapes whose dims may vary (see :meth:`Mul.symbolic_shape`); ``None`` when two
    constant dims do not broadcast."""
    from convlint.sizes.symbolic import varies
    rank = max(len(first), len(other))
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in (first, other)]
    joined = []
    for a, b in zip(*padded):
        if varies(a) and varies(b):
            if a is not b and a != b:
                layer.unsupported(f"broadcasts the varying sizes {a} and {b} against each other")
            joined.append(a)
        elif varies(a) or varies(b):
            size, fixed = (a, b) if varies(a) else (b, a)
            if fixed != 1:
                layer.compare(size, fixed)
            joined.append(size if fixed == 1 else fixed)
        elif a != b and 1 not in (a, b):
            return None
        else:
            joined.append(max(a, b))
    return tuple(joined)


class Mul(ElementwiseOfTensors, LayerType):
    """``torch.mul`` of two or more tensors, broadcast against each other (a ``(N, C, 1, 1)`` gate times a
    ``(N, C, H, W)`` map)."""

    name = "Mul"
    family = "merge"
    min_inputs, max_inputs = 2, None

    def infer(self, ctx: LayerContext):
        names = ctx.layer.sources
        shape = ctx.inputs[0]
        for name, other in zip(names[1:], ctx.inputs[1:]):
            joined = broadcast(shape, other)
            if joined is None:
                ctx.report("S033", f"`{names[0]}` gives {format_shape(ctx.inputs[0])} and `{name}` gives "
                                   f"{format_shape(other)}: they do not broadcast (each dim must be equal or 1, "
                                   f"aligned at the last dim)", "from")
                return None
            shape = joined
        return shape

    def symbolic_shape(self, layer):
        """The broadcast shape, pair by pair as :meth:`infer`.  A varying size against a constant
        ``c ≠ 1`` is compared with ``c`` (it broadcasts when equal to ``c`` or 1, giving ``c``);
        against 1 it passes through.  Two different varying sizes are unsupported: their broadcast
        (``max``, or a mismatch unless one is 1) is not affine."""
        shape = layer.inputs[0]
        for other in layer.inputs[1:]:
            shape = symbolic_broadcast(layer, shape, other)
            if shape is None:
                return None
        return shape

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        product = inputs[0]
        for other in inputs[1:]:
            product = product * other
        return product

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """Each input at ``position``, or at 0 along an axis it broadcasts from size 1."""
        rank = len(self.infer(ctx))
        spans = []
        for shape in ctx.inputs:
            dim = 2 + axis - (rank - len(shape))
            spans.append((0, 0) if dim < 0 or shape[dim] == 1 else (position, position))
        return spans

    # ---- Import (convlint import) ----
    onnx_ops = ("Mul",)
    torch_functions = ("operator.mul", "operator.imul", "torch.mul", "torch.Tensor.mul", "aten.mul.Tensor",
                       "aten.mul_.Tensor")
    python_operator = "*"
    onnx_op = "Mul"


class LayerScale(LayerType):
    """ConvNeXt's learnt per-channel scale (torchvision's ``CNBlock.layer_scale``): ``x · γ`` with ``γ`` of shape
    ``(C, 1, …)``, a bare parameter whose state-dict key is the layer's own name (``features.1.0.layer_scale``).

    Parameters: ``C``.
    """

    name = "LayerScale"
    family = "norm"
    preserves_shape = True
    input_ranks = (3, 4, 5)
    keywords = {"channels": Optional(Int(minimum=1), "channels; inferred when left out"),
                "init_value": Float(1e-6, "initial scale of every channel")}

    def infer(self, ctx: LayerContext):
        declared = ctx.args["channels"]
        if declared is not None and declared != ctx.input[1]:
            ctx.report("S008", f"channels is {declared}, but `{ctx.layer.sources[0]}` gives {ctx.input[1]} "
                               f"channels; set channels: {ctx.input[1]} or leave it out", "channels",
                       Fix(ctx.layer.name, (("channels", ctx.input[1]),)))
        return ctx.input

    def parameter_shapes(self, ctx: LayerContext) -> dict:
        return {"": (ctx.args["channels"] or ctx.input[1], *(1,) * (len(ctx.input) - 2))}

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        import numpy
        return {"": numpy.full(self.parameter_shapes(ctx)[""], ctx.args["init_value"], numpy.float32)}

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        return inputs[0] * params[""]

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)]

    # ---- Import (convlint import) ----
    onnx_ops = ("Mul",)

    def from_onnx(self, node):
        """A ``Mul`` of a tensor ``(N, C, …)`` by a constant of shape ``(C, 1, …)``, the scale."""
        from convlint.importing.onnx_node import Imported
        tensor = next((index for index in (0, 1) if node.constant(index) is None), None)
        scale = None if tensor is None else node.constant(1 - tensor)
        shape = node.input_shape(tensor) if tensor is not None else None
        if len(node.input_names) != 2 or scale is None or shape is None or len(shape) not in self.input_ranks \
                or not isinstance(shape[1], int) or scale.shape != (shape[1], *(1,) * (len(shape) - 2)) \
                or scale.dtype.kind != "f":
            return None
        return Imported({}, {"": scale}, sources=[tensor])

    # --- export (convlint export) ---
    def torch_inferred(self, ctx: LayerContext) -> dict:
        """``channels`` (the input's), and ``spatial_dims``, the trailing 1s of the parameter's shape."""
        return {"channels": ctx.input[1], "spatial_dims": len(ctx.input) - 2}

    def torch_module(self, args):
        """A bare ``nn.Parameter`` of shape ``(C, 1, …)`` filled with ``init_value``."""
        shape = f"({args['channels']},) + (1,) * {args.get('spatial_dims', 2)}"
        return f"nn.Parameter(torch.full({shape}, {args.get('init_value', '1e-06')}))"

    def torch_forward(self, module, inputs, args):
        return f"{inputs[0]} * {module}"

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        return graph.node("Mul", [inputs[0], params[""]])


@hookimpl
def register_layer_types(register):
    register(Mul())
    register(LayerScale())
