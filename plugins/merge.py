"""Merges of several tensors: Concat (``torch.cat``) and Add (elementwise sum)."""
from __future__ import annotations

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.infer import format_shape
from convlint.findings import Fix
from convlint.layers.keywords import Int, IntTuple, KeywordError
from .basic import normalised_dim


def meeting_output_padding(first: tuple, other: tuple, producers: list) -> Fix | None:
    """The change of a ConvTranspose's ``output_padding`` that makes ``first`` and ``other`` meet
    (``set output_padding: [1, 0] on `up3```), when one exists.

    ``producers`` are the layers that made ``first`` and ``other`` (``None`` for
    an input).  Only spatial dims may differ, and the new output_padding must
    stay below the stride or the dilation (S007).
    """
    if len(first) < 3 or first[:2] != other[:2]:
        return None
    ndim = len(first) - 2
    for mine, target, layer in ((first, other, producers[0]), (other, first, producers[-1])):
        if layer is None or not str(layer.type).startswith("ConvTranspose"):
            continue
        try:
            stride, dilation, padding = (IntTuple(1, minimum=minimum).convert(layer.kwargs.get(key, default), ndim)
                                         for key, default, minimum in (("stride", 1, 1), ("dilation", 1, 1),
                                                                       ("output_padding", 0, 0)))
        except KeywordError:
            continue
        wanted = [op + want - have for op, want, have in zip(padding, target[2:], mine[2:])]
        if all(0 <= op and (op < s or op < d) for op, s, d in zip(wanted, stride, dilation)):
            shown = wanted[0] if ndim == 1 else list(wanted)
            return Fix(layer.name, (("output_padding", shown),), f"output becomes {format_shape((*mine[:2], *target[2:]))}")
    return None


def mismatch_help(first: tuple, other: tuple, name: str) -> str:
    """What kind of mismatch two same-rank shapes have, as the tail of a message: an off-by-one (a
    spatial size differs by 1: padding or rounding), or a projection (channels differ, or sizes differ
    by a whole factor: the branch ``name`` needs a 1×1 conv with a stride, as ResNet's downsample)."""
    if len(first) != len(other) or len(first) < 3:
        return ""
    spatial = list(zip(first[2:], other[2:]))
    if first[1] == other[1] and all(abs(a - b) <= 1 for a, b in spatial):
        axes = ", ".join(str(axis + 2) for axis, (a, b) in enumerate(spatial) if a != b)
        return (f"; an off-by-one in dim {axes}: a padding or a rounding (ceil_mode, output_padding) upstream "
                f"makes one branch 1 larger")
    factors = {a // b if a >= b else b // a for a, b in spatial if a != b and max(a, b) % min(a, b) == 0}
    if len(factors) <= 1 and all(a == b or max(a, b) % min(a, b) == 0 for a, b in spatial):
        stride = factors.pop() if factors else 1
        return (f"; a projection is missing: give `{name}` a 1×1 conv to {first[1]} channels"
                f"{f' with stride {stride}' if stride > 1 else ''} (as ResNet's downsample)")
    return ""


def _producers(ctx: LayerContext, index: int) -> list:
    """The layers that made input 0 and input ``index`` (``None`` where unknown)."""
    layers = ctx.source_layers or [None] * len(ctx.inputs)
    return [layers[0], layers[index]]


def symbolic_merge(layer, axis: int | None):
    """The merged shape of ``layer.inputs`` on forms: every dim but ``axis`` required equal, ``axis`` summed.

    ``None`` (fails at every size) for inputs of different ranks or constant dims that differ.
    """
    from convlint.sizes.expr import Product
    first = layer.inputs[0]
    if any(len(shape) != len(first) for shape in layer.inputs):
        return None
    for shape in layer.inputs[1:]:
        for index, (a, b) in enumerate(zip(first, shape)):
            if index == axis:
                continue
            if isinstance(a, int) and isinstance(b, int) and a != b:
                return None  # e.g. different channel counts: a mismatch at every size
            layer.require_equal(a, b)
    if axis is None:
        return first
    parts = [shape[axis] for shape in layer.inputs]
    if any(isinstance(part, Product) for part in parts):
        layer.unsupported("concatenates flattened sizes that are not affine")
    return (*first[:axis], sum(parts[1:], parts[0]), *first[axis + 1:])


class Concat(LayerType):
    """``torch.cat(inputs, dim)``: all dims but ``dim`` must agree; ``dim`` sizes add up."""

    name = "Concat"
    family = "merge"
    diagram_role = "concat"
    min_inputs, max_inputs = 2, None
    keywords = {"dim": Int(1, "axis to concatenate along (1: channels)")}

    def infer(self, ctx: LayerContext):
        first = ctx.inputs[0]
        dim = normalised_dim(ctx, "dim", ctx.args["dim"], len(first))
        if dim is None:
            return None
        names = ctx.layer.sources
        for index, (name, shape) in enumerate(zip(names[1:], ctx.inputs[1:]), start=1):
            if len(shape) != len(first):
                ctx.report("S009", f"cannot concatenate `{names[0]}` ({format_shape(first)}, {len(first)}-D) with "
                                   f"`{name}` ({format_shape(shape)}, {len(shape)}-D)", "from")
                return None
            differ = [axis for axis in range(len(first)) if axis != dim and shape[axis] != first[axis]]
            if differ:
                axes = ", ".join(str(axis) for axis in differ)
                ctx.report("S009", f"`{names[0]}` gives {format_shape(first)} but `{name}` gives "
                                   f"{format_shape(shape)}: they differ in dim {axes}, and only dim {dim} may differ",
                           "from", meeting_output_padding(first, shape, _producers(ctx, index)))
                return None
        return (*first[:dim], sum(shape[dim] for shape in ctx.inputs), *first[dim + 1:])

    def symbolic_shape(self, layer):
        """Dims other than ``dim`` required equal; ``dim`` sizes add up."""
        rank = len(layer.input)
        if not -rank <= layer.args["dim"] < rank:
            return None
        return symbolic_merge(layer, layer.args["dim"] % rank)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        import numpy
        return numpy.concatenate(inputs, axis=ctx.args["dim"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """Identity for every input when concatenating channels; unknown along a spatial axis."""
        if ctx.args["dim"] % len(ctx.input) >= 2:
            return None
        return [(position, position)] * len(ctx.inputs)

    # ---- Import (convlint import) ----
    onnx_ops = ("Concat",)
    torch_functions = ("torch.cat", "torch.concat", "torch.concatenate", "aten.cat.default")

    def from_torch_call(self, args, kwargs, ndim, inputs):
        """``torch.cat(tensors, dim)`` of two tensors or more."""
        if inputs < 2:
            return None
        dim = args[0] if args else kwargs.get("dim", 0)
        return {} if dim == 1 else {"dim": dim}

    def from_onnx(self, node):
        """Every input a tensor of the graph (an input that is a constant is no merge of tensors), and the
        ``axis`` that ONNX requires."""
        from convlint.importing.onnx_node import Imported
        axis = node.attribute("axis")
        if axis is None or any(node.shape_constant(index) is not None for index in range(len(node.input_names))):
            return None
        return Imported({} if axis == 1 else {"dim": int(axis)}, sources=list(range(len(node.input_names))))

    # --- export (convlint export) ---
    def torch_module(self, args):
        """None: ``torch.cat`` in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        return f"torch.cat([{', '.join(inputs)}], dim={args.get('dim', 1)})"

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        return graph.node("Concat", inputs, axis=ctx.args["dim"])


class ElementwiseOfTensors:
    """Import and export of an operation on two tensors or more, element by element (``Add``: ``+``,
    ``Mul``: ``*``): no module of its own, the operator in the forward, one ONNX node per extra tensor."""

    python_operator = "+"
    """The Python operator the generated forward applies between the tensors."""
    onnx_op = "Add"
    """The ONNX operator applied to two tensors at a time."""

    def from_torch_call(self, args, kwargs, ndim, inputs):
        """A call on two tensors or more, without another argument (``alpha``, a number)."""
        return {} if inputs >= 2 and not args and not kwargs else None

    def from_onnx(self, node):
        """Every input a tensor of the graph (an input that is a constant is no operation on tensors)."""
        from convlint.importing.onnx_node import Imported
        if any(node.shape_constant(index) is not None for index in range(len(node.input_names))):
            return None
        return Imported({}, sources=list(range(len(node.input_names))))

    def torch_module(self, args):
        """None: the operator in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        return f" {self.python_operator} ".join(inputs)

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        result = inputs[0]
        for other in inputs[1:]:
            result = graph.node(self.onnx_op, [result, other])
        return result


class Add(ElementwiseOfTensors, LayerType):
    """Elementwise sum of tensors of one shape (a residual connection)."""

    name = "Add"
    family = "merge"
    diagram_role = "merge"
    min_inputs, max_inputs = 2, None

    def infer(self, ctx: LayerContext):
        names = ctx.layer.sources
        first = ctx.inputs[0]
        for index, (name, shape) in enumerate(zip(names[1:], ctx.inputs[1:]), start=1):
            if shape != first:
                fix = meeting_output_padding(first, shape, _producers(ctx, index))
                kind = "" if fix is not None else mismatch_help(first, shape, name)
                ctx.report("S010", f"`{names[0]}` gives {format_shape(first)} but `{name}` gives "
                                   f"{format_shape(shape)}; Add needs equal shapes{kind}", "from", fix)
                return None
        return first

    def symbolic_shape(self, layer):
        """Every dim of every input required equal to the first's."""
        return symbolic_merge(layer, None)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        total = inputs[0].copy()
        for other in inputs[1:]:
            total += other
        return total

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)] * len(ctx.inputs)

    # ---- Import (convlint import) ----
    onnx_ops = ("Add", "Sum")
    torch_functions = ("operator.add", "operator.iadd", "torch.add", "torch.Tensor.add", "aten.add.Tensor",
                       "aten.add_.Tensor")


@hookimpl
def register_layer_types(register):
    register(Concat())
    register(Add())
