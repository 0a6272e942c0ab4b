"""Opaque: the stand-in for an operation convlint does not model, made by ``convlint import`` so that an
imported graph stays connected.  Its output shape is the one the imported model states."""
from __future__ import annotations

from convlint import LayerContext, LayerType, hookimpl
from convlint.layers.keywords import Keyword, KeywordError, Optional


class Str(Keyword):
    """A string, written as it is."""

    kind = "string"

    def convert(self, value, ndim: int):
        if not isinstance(value, str):
            raise KeywordError(f"expected a string, got {type(value).__name__}")
        return value

    def schema(self, ndim: int) -> dict:
        return {"type": "string"}


class OutputShape(Keyword):
    """``shape``: one entry per output dim, an int or ``null`` (the input's size on that dim)."""

    kind = "shape"

    def convert(self, value, ndim: int):
        if not isinstance(value, list) or not all(
                item is None or (isinstance(item, int) and not isinstance(item, bool) and item >= 1) for item in value):
            raise KeywordError("expected a list of positive ints or nulls (null: the input's size on that dim)")
        return tuple(value)

    def schema(self, ndim: int) -> dict:
        return {"type": "array", "items": {"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]}}


class Opaque(LayerType):
    """An operation of an imported model that no layer type models (``op``, from node ``node``): its output
    has the shape ``shape`` states (``null`` entries: the input's size on that dim; left out: the
    input's shape).  Reported as I001 where it stands, since nothing is checked inside it."""

    name = "Opaque"
    family = "other"
    min_inputs, max_inputs = 0, None
    keywords = {"op": Str(doc="the operation it stands for (the ONNX op type, or the module's class)"),
                "node": Str("", "the node or module path it stands for"),
                "shape": Optional(OutputShape(), "the output shape; left out: the input's")}
    onnx_fallback = True

    def _shape(self, inputs: list, shape):
        first = inputs[0] if inputs else ()
        if shape is None:
            return tuple(first)
        return tuple(first[index] if size is None and index < len(first) else size
                     for index, size in enumerate(shape))

    def infer(self, ctx: LayerContext):
        args = ctx.args
        ctx.report("I001", f"stands in for `{args['op']}`, which no layer type imports as it is: its output "
                           f"shape is taken as stated and nothing inside it is checked", "op")
        shape = self._shape(ctx.inputs, args["shape"])
        if any(size is None for size in shape):
            ctx.report("S012", "shape has a null entry past the input's rank; give the size", "shape")
            return None
        return shape

    def symbolic_shape(self, layer):
        """The stated shape, with the input's sizes at its ``null`` entries."""
        shape = self._shape(layer.inputs, layer.args["shape"])
        return None if any(size is None for size in shape) else shape

    def from_onnx(self, node):
        """``op`` and ``node`` named, ``shape`` from the node's output shape as the file states it: a dim the
        file leaves dynamic is ``null`` when it is the input's dim at that place (else not imported)."""
        from convlint.importing.onnx_node import Imported
        keywords = {"op": node.op, "node": node.name}
        stated, first = node.output_shape, node.input_shape(0) or ()
        if stated is not None and tuple(stated) != tuple(first):
            keywords["shape"] = [size if isinstance(size, int) and size > 0 else None for size in stated]
        return Imported(keywords)


@hookimpl
def register_layer_types(register):
    register(Opaque())
