"""Receptive fields: which input pixels each layer's outputs see, per spatial axis.

Each layer type says which input positions one output position reads
(:meth:`~convlint.LayerType.input_spans`); composing these maps through the
graph gives, for output position ``o`` of any layer, the first and last
input index it depends on.  Padding is treated as if the input extended
past its border (the convention of Araujo, Norris and Sim, "Computing
Receptive Fields of Convolutional Neural Networks", Distill 2019), so
indices can be negative.  From the composed map, per layer and axis:

- ``size``: the receptive field, in input pixels: the largest
  ``last − first + 1`` over the layer's first :data:`SAMPLED` output
  positions.  Where branches meet it is the union (the maximum over branches);
  after a transposed conv it is the largest over the output phases.
- ``stride``: the effective stride, in input pixels per output step (a
  fraction below 1 after up-sampling).
- ``center``: the centre of the first output's receptive field (the first
  output that reads any input), in input pixel coordinates
  (``(first + last) / 2``; Distill's offset).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from convlint.analysis.graph import producer
from convlint.analysis.infer import Analysis

SAMPLED = 64
"""Output positions examined per axis: a full period of any up-sampling pattern up to 64 long."""

FAR = 720720
"""A distance along the axis (lcm of 1..16) over which the effective stride is measured exactly:
a whole number of periods of any pattern of strides and up-sampling factors up to 16."""

Span = tuple[int, int]

MAX_SPANS = 200_000
"""Spans computed for one spec at most; past it, the remaining layers' fields are reported unknown.
Bounds the time of very deep, densely connected networks (DenseNet-121 needs about 480,000)."""


class Unknown(Exception):
    """Some layer on the way cannot say which inputs it reads."""


@dataclass(frozen=True)
class AxisField:
    """Receptive field of one layer along one spatial axis (input pixels)."""

    size: int
    stride: Fraction
    center: Fraction


def _valid(reads, count: int) -> bool:
    """True for a list of ``count`` entries, each ``None`` or a pair of ints."""
    if type(reads) is not list or len(reads) != count:
        return False
    for read in reads:
        if read is not None and not (type(read) is tuple and len(read) == 2
                                     and type(read[0]) is int and type(read[1]) is int):
            return False
    return True


class ReceptiveFields:
    """Composed input spans of the nodes of an analysed spec, computed on demand and cached."""

    def __init__(self, analysis: Analysis, registry):
        self.analysis = analysis
        self.registry = registry
        self._spans: dict[tuple[str, int, int], Span | None] = {}

    def of(self, name: str) -> list[AxisField] | None:
        """Per-axis receptive field of node ``name``, or ``None`` where it is not defined or not known."""
        node = self.analysis.nodes.get(name)
        if node is None or node.shape is None or len(node.shape) < 3 or not self._same_axes(node):
            return None
        try:
            return [self._axis(name, axis, node.shape[2 + axis]) for axis in range(len(node.shape) - 2)]
        except Unknown:
            return None

    def _same_axes(self, node) -> bool:
        inputs = [info.shape for info in self.analysis.nodes.values() if info.family == "input"]
        return all(len(shape) == len(node.shape) for shape in inputs)

    def _axis(self, name: str, axis: int, size: int) -> AxisField:
        spans = [self.span(name, axis, position) for position in range(min(size, SAMPLED))]
        read = [span for span in spans if span is not None]
        if not read:
            raise Unknown(name)
        position = next(index for index, span in enumerate(spans) if span is not None)
        first, far = spans[position], self.span(name, axis, position + FAR)
        if far is None:  # not the same phase after all: no exact stride
            raise Unknown(name)
        stride = Fraction(far[0] - first[0], FAR).limit_denominator(1000)
        return AxisField(max(last - start + 1 for start, last in read), stride, Fraction(first[0] + first[1], 2))

    def span(self, name: str, axis: int, position: int) -> Span | None:
        """First and last input index that output ``position`` of node ``name`` reads, or ``None`` if none.

        Evaluated with an explicit stack (no recursion), so arbitrarily deep networks are fine.
        """
        goal = (name, axis, position)
        stack = [goal]
        while stack:
            key = stack[-1]
            if key in self._spans:
                stack.pop()
                continue
            if len(self._spans) >= MAX_SPANS:
                raise Unknown(name)
            missing, value = self._try(*key)
            if missing:
                stack.extend(missing)
            else:
                self._spans[key] = value
                stack.pop()
        return self._spans[goal]

    def _try(self, name: str, axis: int, position: int):
        """``(missing keys, None)`` while source spans are still needed, else ``([], span)``."""
        node = self.analysis.nodes[name]
        if node.family == "input":
            return [], (position, position)
        layer_type = self.registry.types.get(node.type)
        if node.context is None or layer_type is None:
            raise Unknown(name)
        try:
            reads = layer_type.input_spans(node.context, axis, position)
        except Exception:  # a plugin bug leaves the field unknown rather than stopping the summary
            raise Unknown(name) from None
        if not _valid(reads, len(node.context.layer.sources)):
            raise Unknown(name)
        missing, lows, highs = [], [], []
        for source, read in zip(node.context.layer.sources, reads):
            if read is None:
                continue
            source = producer(source, self.analysis.nodes)[0]  # every output of a Split spans alike
            found = self._ends(source, axis, read)
            if isinstance(found, list):
                missing += found
            elif found is not None:
                lows.append(found[0])
                highs.append(found[1])
        if missing:
            return missing, None
        return [], ((min(lows), max(highs)) if lows else None)

    def _ends(self, source: str, axis: int, read: Span):
        """The source's input span over positions ``read``, a list of keys still needed, or ``None``."""
        low = high = None
        for position in range(read[0], read[1] + 1):  # first position that reads anything
            key = (source, axis, position)
            if key not in self._spans:
                return [key]
            if self._spans[key] is not None:
                low = self._spans[key][0]
                break
        for position in range(read[1], read[0] - 1, -1):  # last position that reads anything
            key = (source, axis, position)
            if key not in self._spans:
                return [key]
            if self._spans[key] is not None:
                high = self._spans[key][1]
                break
        return None if low is None else (low, high)
