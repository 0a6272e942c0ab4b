"""The graph a layer type's ``onnx_lower`` adds its nodes to (see :meth:`LayerType.onnx_lower`).

Tensors are named by the layer that makes them (``layer1.0.conv1/Mul_0``); the builder renames a
layer's last tensor to the layer's own name, so the ONNX model's tensors carry the spec's names.
"""
from __future__ import annotations

from typing import Any, Sequence


class OnnxGraph:
    """Nodes and initializers of one ONNX graph, built layer by layer.

    ``dynamic``: True when some input sizes are symbolic, so a lowering must not write in the sizes
    of ``ctx.input`` other than the channels; ``opset``: the opset the model declares.
    """

    def __init__(self, opset: int, dynamic: bool):
        self.opset = opset
        self.dynamic = dynamic
        self.nodes: list = []
        self.initializers: list = []
        self.layer = ""
        self._count = 0

    def _fresh(self, op: str) -> str:
        self._count += 1
        return f"{self.layer}/{op}_{self._count}"

    def node(self, op: str, inputs: Sequence[str], outputs: int = 1, **attributes: Any):
        """Add node ``op`` reading ``inputs`` (``""`` for an optional input left out); returns the name
        of its output, or the list of names when ``outputs`` > 1."""
        from onnx import helper
        names = [self._fresh(op) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, list(inputs), names, name=names[0],
                                           **{key: value for key, value in attributes.items() if value is not None}))
        return names if outputs > 1 else names[0]

    def constant(self, values, dtype: str = "int64") -> str:
        """An initializer holding ``values`` (a number or nested list) as ``dtype``; returns its name."""
        import numpy
        array = numpy.asarray(values, dtype=dtype)
        return self.initializer(self._fresh("const"), array)

    def initializer(self, name: str, array) -> str:
        """Store ``array`` (NumPy) as initializer ``name``; returns the name."""
        from onnx import numpy_helper
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def shape_of(self, tensor: str, start: int = 0, end: int | None = None) -> str:
        """A 1-D int64 tensor of the sizes of ``tensor`` from dim ``start`` to ``end`` (exclusive; ``None``:
        the last), read at run time."""
        shape = self.node("Shape", [tensor])
        ends = self.constant([end if end is not None else 2**62])
        return self.node("Slice", [shape, self.constant([start]), ends])

    def rename_output(self, old: str, new: str) -> bool:
        """Give the tensor ``old`` (made by the last nodes added) the name ``new``; False when no node made it."""
        for node in reversed(self.nodes):
            if old in node.output:
                node.output[list(node.output).index(old)] = new
                for later in self.nodes:
                    for position, name in enumerate(later.input):
                        if name == old:
                            later.input[position] = new
                return True
        return False

    def per_channel(self, tensor: str, rank: int) -> str:
        """A ``(C,)`` tensor shaped ``(C, 1, …)`` to broadcast over dim 1 of a rank-``rank`` tensor."""
        if rank <= 2:
            return tensor
        return self.node("Unsqueeze", [tensor, self.constant(list(range(1, rank - 1)))])

    def pad(self, tensor: str, pads: Sequence[tuple[int, int]], mode: str = "constant", value: float = 0.0) -> str:
        """``tensor`` padded along its spatial dims by ``(before, after)`` per axis; ``mode`` is ONNX's
        (``constant``, ``reflect``, ``edge``, ``wrap``; ``wrap`` needs opset 19)."""
        if mode == "wrap" and self.opset < 19:
            from convlint.layers.layer_type import NotExportable
            raise NotExportable("circular padding needs ONNX opset 19 or later (--opset 19)")
        widths = [0, 0, *(before for before, _ in pads), 0, 0, *(after for _, after in pads)]
        inputs = [tensor, self.constant(widths)]
        if mode == "constant":
            inputs.append(self.constant(value, "float32"))
        return self.node("Pad", inputs, mode=mode)

    def scalar(self, value: float) -> str:
        """A float32 scalar constant."""
        return self.constant(value, "float32")

    def fixed_sizes(self, what: str) -> None:
        """Raise :class:`NotExportable` when the input sizes are symbolic: ``what`` writes sizes in."""
        if self.dynamic:
            from convlint.layers.layer_type import NotExportable
            raise NotExportable(f"{what} depends on the input sizes; export with --static")

    def reduce(self, op: str, tensor: str, axes: list[int]) -> str:
        """``ReduceMean``/``ReduceMax``… over ``axes``, keeping them (axes an attribute before opset 18, an input after)."""
        if self.opset >= 18:
            return self.node(op, [tensor, self.constant(axes)], keepdims=1)
        return self.node(op, [tensor], axes=axes, keepdims=1)
