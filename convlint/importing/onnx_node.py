"""What a layer type sees of one ONNX node while importing it, and what it answers.

No ``onnx`` import here: :mod:`convlint.importing.onnx_graph` reads the file and fills these in, so the
layer types' ``from_onnx`` work on plain Python values and NumPy arrays.
Shapes are tuples whose dims are ints, or strings for sizes the file leaves dynamic (``"H"``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

Dim = int | str
Shape = tuple[Dim, ...]


@dataclass
class Imported:
    """A layer type's answer for one node.

    ``keywords``: the layer's keyword arguments, as written in a spec.  ``parameters``: NumPy arrays
    keyed by the entries of ``parameter_shapes`` (``weight``, ``bias``).  ``sources``: the indices of
    the node inputs the layer reads as tensors (default: every input that is no constant).
    ``absorbs``: further nodes whose work this layer does (a MatMul's following Add of a bias): their
    outputs become this layer's output.
    """

    keywords: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    sources: list[int] | None = None
    absorbs: list["OnnxNode"] = field(default_factory=list)


class OnnxNode:
    """One ONNX node: ``op`` (its op type), ``name``, ``attributes`` (ints, floats, strings and lists of
    them, as Python values), the shapes of its inputs and outputs, and its constant inputs."""

    def __init__(self, op: str, name: str, attributes: dict[str, Any], input_names: Sequence[str],
                 output_names: Sequence[str], shape_of: Callable[[str], Shape | None],
                 constant_of: Callable[[str], Any], consumers_of: Callable[[str], list["OnnxNode"]]):
        self.op = op
        self.name = name
        self.attributes = attributes
        self.input_names = list(input_names)
        self.output_names = list(output_names)
        self._shape_of = shape_of
        self._constant_of = constant_of
        self._consumers_of = consumers_of

    def attribute(self, key: str, default: Any = None) -> Any:
        """The attribute ``key``, or ``default`` when the node does not set it."""
        return self.attributes.get(key, default)

    def constant(self, index: int) -> Any:
        """Input ``index`` as a NumPy array of numbers when it is a constant (an initializer, a Constant
        node or a folded shape computation), else ``None`` (also for an absent optional input, and for a
        shape computation that holds a dynamic size: see :meth:`shape_constant`)."""
        value = self.shape_constant(index)
        return None if value is None or value.dtype == object else value

    def shape_constant(self, index: int) -> Any:
        """Input ``index`` as :meth:`constant` gives it, except that a folded shape computation may hold
        dynamic sizes, as size names (``"H"``) in an object array: a ``Reshape``'s target ``[N, -1]``."""
        if index >= len(self.input_names) or not self.input_names[index]:
            return None
        return self._constant_of(self.input_names[index])

    def input_shape(self, index: int = 0) -> Shape | None:
        """The shape of input ``index``, when the file or shape inference knows it."""
        if index >= len(self.input_names) or not self.input_names[index]:
            return None
        return self._shape_of(self.input_names[index])

    @property
    def output_shape(self) -> Shape | None:
        """The shape of the (first) output, when known."""
        return self._shape_of(self.output_names[0]) if self.output_names else None

    @property
    def ndim(self) -> int | None:
        """Spatial axes of the first input (its rank less 2), or ``None`` when its rank is unknown."""
        shape = self.input_shape(0)
        return None if shape is None else len(shape) - 2

    @property
    def rank(self) -> int | None:
        """Rank of the first input, or ``None`` when unknown."""
        shape = self.input_shape(0)
        return None if shape is None else len(shape)

    def other_input(self, tensor: str) -> int | None:
        """For a node of two inputs, one of them the tensor ``tensor``: the index of the other one (``None``
        for other nodes, and when both inputs or neither are ``tensor``)."""
        names = self.input_names
        if len(names) != 2 or (names[0] == tensor) == (names[1] == tensor):
            return None
        return 1 if names[0] == tensor else 0

    def constant_beside(self, tensor: str) -> Any:
        """The constant input beside ``tensor`` of a two-input node (a bias ``Add``'s bias), as
        :meth:`constant` gives it; ``None`` when there is none (see :meth:`other_input`)."""
        index = self.other_input(tensor)
        return None if index is None else self.constant(index)

    def input_consumers(self, index: int) -> list["OnnxNode"]:
        """Every node that reads input ``index`` (this one included)."""
        return self._consumers_of(self.input_names[index])

    def only_consumer(self) -> "OnnxNode | None":
        """The one node that reads the values of this node's output, or ``None`` when there are none or
        several (or the output is also a graph output).  ``Shape`` nodes, which read its shape only (and
        are evaluated before any node is imported), do not count."""
        readers = [reader for reader in self._consumers_of(self.output_names[0]) if reader.op != "Shape"]
        return readers[0] if len(readers) == 1 else None


def window_padding(node: OnnxNode, kernel: Sequence[int], dilation: Sequence[int] | None = None,
                   stride: Sequence[int] | None = None) -> list[int] | None:
    """The symmetric padding per spatial axis of a Conv/pool node: its ``pads`` (``[b1, b2, …, e1, e2, …]``),
    or its ``auto_pad`` (``SAME_UPPER``/``SAME_LOWER``: ``total = max((⌈in/s⌉ − 1)·s + d·(k − 1) + 1 − in, 0)``
    per axis, needing known input sizes unless every stride is 1; ``VALID``: 0).
    ``None`` when the padding differs between the two sides of an axis (no torch.nn keyword expresses it)."""
    ndim = len(kernel)
    dilation = list(dilation or [1] * ndim)
    stride = list(stride or [1] * ndim)
    auto_pad = node.attribute("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        spatial = (node.input_shape(0) or ())[2:]
        totals = []
        for axis in range(ndim):
            span = dilation[axis] * (kernel[axis] - 1) + 1
            if stride[axis] == 1:
                totals.append(span - 1)
            elif axis < len(spatial) and isinstance(spatial[axis], int):
                size = int(spatial[axis])
                totals.append(max((-(-size // stride[axis]) - 1) * stride[axis] + span - size, 0))
            else:
                return None
        begins = [total // 2 if auto_pad == "SAME_UPPER" else total - total // 2 for total in totals]
        pads = begins + [total - begin for total, begin in zip(totals, begins)]
    elif auto_pad == "VALID":
        pads = [0] * (2 * ndim)
    else:
        pads = list(node.attribute("pads", [0] * (2 * ndim)))
    if pads[:ndim] != pads[ndim:]:
        return None
    return pads[:ndim]


def written(values: Sequence[int]) -> int | list[int]:
    """A per-axis value as a spec writes it: one int when every axis has the same, else the list."""
    values = [int(value) for value in values]
    return values[0] if len(set(values)) == 1 else values
