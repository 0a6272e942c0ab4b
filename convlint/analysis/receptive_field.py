"""Receptive fields: which input pixels each layer's outputs see, per spatial axis.

Each layer type says which input positions one output position reads
(:meth:`~convlint.LayerType.input_spans`).  Padding is treated as if the input
extended past its border (the convention of Araujo, Norris and Sim, "Computing
Receptive Fields of Convolutional Neural Networks", Distill 2019), so indices
can be negative.

Every layer built from windows and shifts is *periodic*: output ``o + P`` reads
what output ``o`` reads shifted by ``Q`` input positions (a conv of stride ``s``:
``P = 1, Q = s``; a transposed conv or an up-sampling by ``s``: ``P = s, Q = 1``).
So is their composition, and it is stored per node and axis as a :class:`PeriodicMap`:
the input span of each of ``P`` output phases.  Along a chain of convs and pools
``P`` stays 1 and the composition is Distill's recurrence (``r ← r + (k'−1)·j``,
``j ← j·s``, ``start ← start − p·j``); only transposed, up-sampling and crop
layers (and where paths with different phases meet) need per-phase spans.  The
work is linear in the number of layers times the number of phases, and bounded
by :data:`MAX_PHASES` per node and :data:`CALL_BUDGET` calls of ``input_spans``
in all: past those the field is reported as unknown.

From the composed map, per layer and axis:

- ``size``: the receptive field, in input pixels: the largest
  ``last − first + 1`` over the output phases.  Where branches meet it is the
  union (the maximum over branches).
- ``stride``: the effective stride ``Q / P``, in input pixels per output step
  (a fraction below 1 after up-sampling).
- ``center``: the centre of the first output's receptive field (the first
  output that reads any input), in input pixel coordinates
  (``(first + last) / 2``; Distill's offset).

Where paths whose effective strides differ meet, no periodic map exists and the
field is unknown.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import gcd
from typing import NamedTuple, TypeGuard, TypeVar

from convlint.analysis.graph import producer
from convlint.analysis.infer import Analysis

MAX_PHASES = 4096
"""Most output phases one node's map may have (a transposed conv of stride 30000 has 30000)."""

CALL_BUDGET = 1 << 20
"""Most calls of ``input_spans`` for one spec, over all nodes and axes: bounds the work on any input
(a chain of convs takes six per layer and axis)."""

PROBE_START = 64
"""First output position probed to learn a layer's period: past the border clamping of interpolation."""

FAR = 720720
"""A distance along the axis (lcm of 1..16) over which a layer's stride is measured: a whole number of
periods of any pattern of strides and up-sampling factors up to 16 (larger ones are found and verified)."""

Span = tuple[int, int]


class Unknown(Exception):
    """Some layer on the way cannot say which inputs it reads, or its map is not periodic within bounds."""


class AxisField(NamedTuple):
    """Receptive field of one layer along one spatial axis (input pixels)."""

    size: int
    stride: Fraction
    center: Fraction


class PeriodicMap(NamedTuple):
    """Input span of every output position along one axis: position ``k + m·period`` reads
    ``spans[k]`` shifted by ``m·shift`` (``None``: that phase reads nothing)."""

    period: int
    shift: int
    spans: tuple[Span | None, ...]

    def at(self, position: int) -> Span | None:
        """Input span of output ``position`` (any integer, also past the border)."""
        cycle, phase = divmod(position, self.period)
        span = self.spans[phase]
        return None if span is None else (span[0] + cycle * self.shift, span[1] + cycle * self.shift)

    def over(self, first: int, last: int) -> Span | None:
        """Input span of output positions ``first..last``: from the first reading position's first index
        to the last reading position's last index (spans grow with the position), or ``None``."""
        low = self._reading(first, +1, last - first)
        if low is None:
            return None
        high = self._reading(last, -1, last - first)
        assert high is not None, "searching back from last reaches low at the latest"
        start, end = self.at(low), self.at(high)
        assert start is not None and end is not None, "_reading finds positions that read"
        return start[0], end[1]

    def _reading(self, start: int, step: int, limit: int) -> int | None:
        """The first position from ``start`` in direction ``step``, at most ``limit`` away, that reads."""
        for distance in range(min(limit, self.period - 1) + 1):
            if self.spans[(start + step * distance) % self.period] is not None:
                return start + step * distance
        return None


IDENTITY = PeriodicMap(1, 1, ((0, 0),))


@lru_cache(maxsize=4096)
def _fraction(numerator: int, denominator: int) -> Fraction:
    """``numerator / denominator``; layers of a network share few distinct strides and centres."""
    return Fraction(numerator, denominator)


def _valid(reads, count: int) -> bool:
    """True for a list of ``count`` entries, each ``None`` or a pair of ints."""
    if type(reads) is not list or len(reads) != count:
        return False
    for read in reads:
        if read is not None and not (type(read) is tuple and len(read) == 2
                                     and type(read[0]) is int and type(read[1]) is int):
            return False
    return True


class _Budget:
    """Calls of ``input_spans`` left for one spec."""

    def __init__(self, calls: int):
        self.calls = calls

    def spend(self) -> None:
        """Count one call; :class:`Unknown` once none are left."""
        if self.calls <= 0:
            raise Unknown
        self.calls -= 1


Known = TypeVar("Known")


def _all_known(items: list[Known | None]) -> TypeGuard[list[Known]]:
    """True when no item of ``items`` is ``None``."""
    return None not in items  # an identity test first, in C: no item's __eq__ is reached for None


def _checked_spans(budget: _Budget, layer_type, context, axis: int, position: int,
                   sources: int) -> list[Span | None]:
    """The layer's ``input_spans`` at ``position``, counted against ``budget`` and checked: one span or
    ``None`` per source (:class:`Unknown` when the layer type does not know, fails or answers malformed)."""
    budget.spend()
    try:
        reads = layer_type.input_spans(context, axis, position)
    except Exception:  # a plugin bug leaves the field unknown rather than stopping the summary
        raise Unknown from None
    if not _valid(reads, sources):
        raise Unknown
    return reads


class _Layer:
    """One layer's own map along one axis: per source, the source positions each output reads."""

    def __init__(self, layer_type, context, axis: int, sources: int, budget: _Budget):
        self.layer_type, self.context, self.axis, self.sources = layer_type, context, axis, sources
        self.budget = budget
        self._reads: dict[int, list[Span | None]] = {}
        self.period, self.shift = self._period()

    def reads(self, position: int) -> list[Span | None]:
        """:func:`_checked_spans` at ``position``, asked once."""
        if position not in self._reads:
            self._reads[position] = _checked_spans(self.budget, self.layer_type, self.context, self.axis, position,
                                                   self.sources)
        return self._reads[position]

    def _period(self) -> tuple[int, int]:
        """``(P, Q)`` with ``reads(o + P) == reads(o) + Q`` for every source, verified over two periods."""
        reading = next((position for position in range(PROBE_START, PROBE_START + MAX_PHASES)
                        if any(self.reads(position))), None)
        if reading is None:
            raise Unknown
        index, near = next((index, read) for index, read in enumerate(self.reads(reading)) if read is not None)
        far = self.reads(reading + FAR)[index]
        if far is None:
            raise Unknown
        distance = far[0] - near[0]
        ratio = Fraction(distance // FAR) if distance % FAR == 0 else \
            Fraction(distance, FAR).limit_denominator(MAX_PHASES)
        for multiple in range(1, 5):
            period, shift = ratio.denominator * multiple, ratio.numerator * multiple
            if period > MAX_PHASES:
                break
            if self._repeats(period, shift):
                return period, shift
        raise Unknown

    def _repeats(self, period: int, shift: int) -> bool:
        """True when the ``period`` outputs from the first whole period past :data:`PROBE_START` read what
        the ``period`` before them read, shifted by ``shift``."""
        start = -(-PROBE_START // period) * period
        for position in range(start, start + period):
            for here, there in zip(self.reads(position), self.reads(position + period)):
                if (here is None) != (there is None) or (here is not None and there is not None and (
                        (there[0] - here[0], there[1] - here[1]) != (shift, shift))):
                    return False
        return True


class ReceptiveFields:
    """Composed periodic maps of the nodes of an analysed spec, computed once per axis in topological order."""

    def __init__(self, analysis: Analysis, registry):
        self.analysis = analysis
        self.registry = registry
        self._maps: dict[tuple[str, int], PeriodicMap | None] = {}
        self._axes: set[int] = set()
        self._budget = _Budget(CALL_BUDGET)
        ranks = {len(info.shape) for info in analysis.nodes.values() if info.family == "input" and info.shape}
        self._input_rank = ranks.pop() if len(ranks) == 1 else None

    def of(self, name: str) -> list[AxisField] | None:
        """Per-axis receptive field of node ``name``, or ``None`` where it is not defined or not known."""
        node = self.analysis.nodes.get(name)
        if node is None or node.shape is None or len(node.shape) < 3 or len(node.shape) != self._input_rank:
            return None
        fields = []
        for axis in range(len(node.shape) - 2):
            found = self.map(name, axis)
            if found is None:
                return None
            spans = [span for span in found.spans if span is not None]
            fields.append(AxisField(max([last - start + 1 for start, last in spans]),
                                    _fraction(found.shift, found.period), _fraction(spans[0][0] + spans[0][1], 2)))
        return fields

    def span(self, name: str, axis: int, position: int) -> Span | None:
        """First and last input index that output ``position`` of node ``name`` reads, or ``None`` if none."""
        found = self.map(name, axis)
        if found is None:
            raise Unknown(name)
        return found.at(position)

    def map(self, name: str, axis: int) -> PeriodicMap | None:
        """The composed map of node ``name`` along ``axis``, or ``None`` when unknown.

        The first call for an axis computes the maps of every node in topological order (no recursion)."""
        if axis not in self._axes:
            self._axes.add(axis)
            for node in self.analysis.nodes:
                self._maps[node, axis] = self._compose(node, axis)
        return self._maps.get((name, axis))

    def _compose(self, name: str, axis: int) -> PeriodicMap | None:
        node = self.analysis.nodes[name]
        if node.family == "input":
            return IDENTITY
        layer_type = self.registry.types.get(node.type)
        if node.context is None or layer_type is None:
            return None
        # every output of a layer with several (a Split's) reads its input alike
        sources = [self._maps.get((producer(source, self.analysis.nodes)[0], axis))
                   for source in node.context.layer.sources]
        if not any(sources):
            return None
        try:
            return self._recurrence(layer_type, node.context, axis, sources) or \
                self._through(_Layer(layer_type, node.context, axis, len(sources), self._budget), sources)
        except Unknown:
            return None

    def _recurrence(self, layer_type, context, axis: int, sources: list[PeriodicMap | None]) -> PeriodicMap | None:
        """Distill's recurrence, for a layer of one phase reading every source, all of one phase: output
        ``o`` reads ``a + s·o .. b + s·o`` of a source whose output ``x`` reads ``c + j·x .. d + j·x``, so
        it reads ``c + j·a + j·s·o .. d + j·b + j·s·o``.  ``None`` where that does not apply."""
        if len(sources) == 1:
            return self._one_source(layer_type, context, axis, sources[0])
        if not _all_known(sources) or any(source.period != 1 for source in sources):
            return None
        reads = [source.spans[0] for source in sources]  # each source's one phase
        if not _all_known(reads):
            return None
        count, budget = len(sources), self._budget
        here = _checked_spans(budget, layer_type, context, axis, 0, count)
        step = _checked_spans(budget, layer_type, context, axis, 1, count)
        far = _checked_spans(budget, layer_type, context, axis, FAR, count)
        if not _all_known(here) or not _all_known(step) or not _all_known(far):
            return None
        stride = step[0][0] - here[0][0]
        jump = sources[0].shift
        for source, now, after, later in zip(sources, here, step, far):
            if (after[0] - now[0], after[1] - now[1]) != (stride, stride) or \
                    (later[0] - now[0], later[1] - now[1]) != (stride * FAR, stride * FAR):
                return None
            if source.shift != jump:
                return None
        lows = [read[0] + jump * now[0] for read, now in zip(reads, here)]
        highs = [read[1] + jump * now[1] for read, now in zip(reads, here)]
        return PeriodicMap(1, jump * stride, ((min(lows), max(highs)),))

    def _one_source(self, layer_type, context, axis: int, source: PeriodicMap | None) -> PeriodicMap | None:
        """:meth:`_recurrence` for a layer with one source (most layers), without its per-source lists: on a
        20,000-layer chain this takes about a third off the receptive fields' time."""
        if source is None or source.period != 1 or source.spans[0] is None:
            return None
        budget = self._budget
        (here,) = _checked_spans(budget, layer_type, context, axis, 0, 1)
        (step,) = _checked_spans(budget, layer_type, context, axis, 1, 1)
        (far,) = _checked_spans(budget, layer_type, context, axis, FAR, 1)
        if here is None or step is None or far is None:
            return None
        stride = step[0] - here[0]
        if step[1] - here[1] != stride or far[0] - here[0] != stride * FAR or far[1] - here[1] != stride * FAR:
            return None
        (low, high), jump = source.spans[0], source.shift
        return PeriodicMap(1, jump * stride, ((low + jump * here[0], high + jump * here[1]),))

    def _through(self, layer: _Layer, sources: list[PeriodicMap | None]) -> PeriodicMap:
        """The composition of ``layer``'s own map with the maps of the sources it reads."""
        read = {index for phase in range(layer.period) for index, span in enumerate(layer.reads(phase)) if span}
        known = {index: source for index, source in enumerate(sources) if source is not None}
        if not read <= known.keys():
            raise Unknown
        period, shift = layer.period, None
        for index in read:  # whole cycles of every source's phases
            period *= known[index].period // gcd(known[index].period, period // layer.period * layer.shift)
        for index in read:
            source = known[index]
            steps = period // layer.period * layer.shift  # source positions per composed period
            if shift not in (None, steps // source.period * source.shift):
                raise Unknown  # paths with different effective strides meet
            shift = steps // source.period * source.shift
        if period > MAX_PHASES:
            raise Unknown
        spans = []
        for position in range(period):
            lows, highs = [], []
            for index, span in enumerate(layer.reads(position)):
                found = span and known[index].over(*span)
                if found:
                    lows.append(found[0])
                    highs.append(found[1])
            spans.append((min(lows), max(highs)) if lows else None)
        if not any(spans):
            raise Unknown
        return PeriodicMap(period, shift if shift is not None else 0, tuple(spans))
