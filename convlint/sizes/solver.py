"""Which input sizes a network accepts: exact, per named size, with the reason a size fails.

A size ``x`` of a spec is **valid** when ``convlint lint`` reports nothing for
the spec with that size filled in (no dropped input, no empty output,
matching Concat/Add inputs, ...).  :func:`solve` finds every valid ``x`` for
one size name while the other names are held at fixed values.

Why a finite number of checks gives the exact answer
----------------------------------------------------
Every dimension of every layer is a quasi-affine function ``f`` of ``x``
(:mod:`convlint.sizes.symbolic`, computed by each layer type's
``symbolic_shape``), and ``f(x + p) = f(x) + q`` for its period ``p``
(:func:`convlint.sizes.expr.period_and_shift`).  A layer's findings depend only
on its input shapes, and its checks read, besides its input and output dims,
only what its ``symbolic_shape`` recorded:

1. a varying size compared with a constant (``size ≥ span − padding``, a
   declared ``in_features``); every dim is also compared with 1 (S002).  In
   each residue class a dim with ``q > 0`` grows by ``q`` per period, so past a
   computable point it stays above the constant for good (a flattened product
   ``c·f₁·…·fₖ`` once each growing factor is at least ``⌈(C/c)^(1/k)⌉``);
2. remainders (the unread tail of a window is ``n mod s``, ceil mode's
   correction is a floor of it): differences of dims, so they repeat with the
   dims' common period;
3. two dims required equal (Concat, Add) or ordered (a crop): their difference
   moves by a constant per period, so its sign settles at a computable point.

So from a threshold ``T_l`` on, layer ``l``'s verdict depends on ``x mod P_l``
only (``P_l``: the common period of its forms).  The solver checks each layer
with the linter's own code (:class:`~convlint.analysis.infer.LayerChecker`),
once per run of sizes in ``[1, T_l + P_l)`` over which the layer's input shapes
stay the same, extends the verdicts periodically, and takes the sizes every
layer passes: the answer cannot drift from ``convlint lint``.  Layers are taken
in order, and sizes that an earlier layer already rules out (in every size of
their class) are not checked again; where two dims the layer requires equal
differ, it fails without being checked.  The result is reduced to the smallest
period and start that describe it (:class:`SizeSet`).

Budgets: every period and threshold is compared with ``MAX_SIZES`` before any
size is tried, and the layer checks of one spec are counted (``MAX_CHECKS``);
past either, :class:`~convlint.sizes.symbolic.Unsupported` names the layer.

Sizes held fixed: validity of one layer along one axis depends only on that
axis, so for networks whose layers keep axes apart the answer for ``H`` does
not depend on the value ``W`` is held at (as long as ``W`` passes its own
conditions).  Layers that couple names (Flatten then Linear, a merge of two
inputs) are solved jointly by :mod:`convlint.sizes.joint`, which uses
:func:`solve_propagation` for each name's own conditions.
"""
from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from math import lcm, prod
from typing import Callable, Mapping

from convlint.analysis.graph import producer
from convlint.analysis.infer import LayerChecker, spec_findings
from convlint.linting.enabled import lint_at_declared_sizes
from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.sizes.expr import Expr, Product, period_and_shift, table
from convlint.spec.model import Layer, Spec
from convlint.sizes.symbolic import LayerRecord, Propagation, Unsupported, propagate, varies
from convlint.analysis.window_findings import axis_symbols


GRID_SEARCH = 500
"""The most size combinations :func:`reference_values` tries when no square size is valid."""

GRID_LAYER_BUDGET = 20_000
"""The most layer checks (combinations × layers) that search may cost: each combination is a whole
lint, so about half a second of the 2 s a spec may take (a 200-layer network tries 100 combinations)."""

MAX_SIZES = 200_000
"""The most sizes of one name whose verdicts :func:`solve` may need before validity repeats
(checked before any size is tried)."""

TABLE_BUDGET = 50
"""The distinct forms times the sizes they are followed over may be at most this many times ``MAX_SIZES``
(or the budget given to :func:`solve`)."""

MAX_CHECKS = 12_000
"""The most single-layer checks all solves of one spec may run (about a second)."""


@dataclass
class Outcome:
    """One layer checked at one set of input shapes: its output shape and its (enabled) findings."""

    shape: tuple | None
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """True when the layer gives a shape and reports nothing."""
        return self.shape is not None and not self.findings


class LayerChecks:
    """The linter's own checks, one layer at a time, remembered per (layer, input shapes).

    ``base``: the findings of the spec that belong to no layer (they hold at every size).
    """

    def __init__(self, spec: Spec, registry: Registry, max_checks: int = MAX_CHECKS):
        self._check = LayerChecker(spec, registry)
        self._left = max_checks
        self._rules = registry.rules
        self._known: dict[tuple, Outcome] = {}
        self._kinds: dict[str, tuple] = {}
        self.base = self._enabled(spec_findings(spec, registry))

    def _kind(self, layer: Layer) -> tuple:
        """The layer's type and keywords as written: what its verdict depends on besides its inputs."""
        kind = self._kinds.get(layer.name)
        if kind is None:
            kind = self._kinds[layer.name] = (layer.type, repr(sorted(layer.kwargs.items())))
        return kind

    def _enabled(self, findings: list[Finding]) -> list[Finding]:
        rules = self._rules
        return [finding for finding in findings if finding.code not in rules or rules[finding.code].default_enabled]

    def outcome(self, layer: Layer, inputs: tuple, exact: bool = True) -> Outcome:
        """What the linter reports for ``layer`` reading ``inputs`` (a tuple of shapes).

        Not ``exact``: the outcome of any layer of the same type and keywords may be
        returned (its shape and verdict are the same; its findings name the other layer).
        """
        key = (layer.name if exact else self._kind(layer), inputs)
        known = self._known.get(key)
        if known is None:
            self._left -= 1
            if self._left < 0:
                raise Unsupported(f"layer `{layer.name}`: more sizes to check than the solver's budget", layer)
            shape, findings = self._check(layer, list(inputs))
            known = self._known[key] = Outcome(shape, self._enabled(findings))
        return known


@dataclass
class SizeSet:
    """A set of positive integers: ``extra`` ∪ {x ≥ start : x mod period ∈ residues}."""

    period: int
    residues: frozenset[int]
    start: int
    extra: tuple[int, ...] = ()

    def __contains__(self, value: int) -> bool:
        return value in self.extra or (value >= self.start and value % self.period in self.residues)

    def values(self, upto: int) -> list[int]:
        """Every member ≤ ``upto``, ascending."""
        return [value for value in range(1, upto + 1) if value in self]

    def smallest(self, count: int) -> list[int]:
        """The ``count`` smallest members (fewer when the set is smaller)."""
        found = list(self.extra)
        if self.residues:
            firsts = sorted(self._first_at_least(self.start, residue) for residue in self.residues)
            laps = -(-count // len(firsts))
            found += [first + lap * self.period for lap in range(laps) for first in firsts]
        return sorted(found)[:count]

    def _first_at_least(self, value: int, residue: int) -> int:
        """The least ``x ≥ value`` with ``x ≡ residue (mod period)``."""
        return value + (residue - value) % self.period

    def nearest(self, value: int) -> tuple[int | None, int | None]:
        """The largest member below ``value`` and the smallest above it (``None`` where there is none).

        Worked out per residue, without trying values one by one."""
        below = [x for x in self.extra if x < value]
        above = [x for x in self.extra if x > value]
        for residue in self.residues:
            up = self._first_at_least(max(value + 1, self.start), residue)
            above.append(up)
            down = up - self.period
            while down >= value:
                down -= self.period
            if down >= self.start:
                below.append(down)
        return max(below, default=None), min(above, default=None)

    @property
    def empty(self) -> bool:
        """True when no size is valid."""
        return not self.residues and not self.extra

    def describe(self, name: str) -> str:
        """The set in words, e.g. ``H ≥ 68 and H ≡ 4 (mod 16)``."""
        if self.empty:
            return f"no value of {name} is valid"
        if not self.residues:
            return f"only {name} = {_join(self.extra)}"
        text = _describe_pattern(name, self.period, sorted(self.residues), self.start)
        if self.extra:
            text += f", or {name} = {_join(self.extra)}"
        return text


def _join(values) -> str:
    values = [str(value) for value in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def _ranges(values: list[int]) -> list[str]:
    """Ascending ``values`` as text, runs of consecutive values as ``a–b`` when some run has three or more."""
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    if all(len(run) < 3 for run in runs):
        return [str(value) for value in values]
    return [str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]


def _describe_pattern(name: str, period: int, residues: list[int], start: int) -> str:
    first = next(x for x in range(start, start + period) if x % period in residues)
    if period == 1:
        return f"{name} ≥ {first}"
    from_start = start <= min(r if r else period for r in residues)  # every positive member of the classes
    if len(residues) == 1 and residues[0] == 0 and from_start:
        return f"{name} is a multiple of {period}"
    if len(residues) * 2 > period:
        missing = [r for r in range(period) if r not in residues]
        condition = f"{name} ≢ {_join(_ranges(missing)).replace(' or ', ', ')} (mod {period})"
    else:
        condition = f"{name} ≡ {_join(_ranges(residues))} (mod {period})"
    return condition if from_start else f"{name} ≥ {first} and {condition}"


@dataclass
class Solution:
    """The valid values of one size name, with the others held fixed.

    ``held``: the values of the other names; ``period``/``threshold``: the ``P``
    and ``T`` of the module docstring; ``lint_runs``: the work done, in whole-network
    lints (the sizes each layer needed, averaged over the layers); ``always``: the
    findings every size has (computed only when no size is valid).
    """

    name: str
    valid: SizeSet
    held: dict[str, int]
    period: int
    threshold: int
    lint_runs: int
    always: list[Finding] = field(default_factory=list)
    closest: "Closest | None" = None
    """When no size is valid: the layer at fault and the sizes that come closest."""


@dataclass
class SizeProblem:
    """A spec with named input sizes: where each name sits and the value the spec declares.

    ``positions``: name → list of (input name, dim index).  ``declared``: name →
    declared value (only for a spec with fixed sizes).  ``batch_only``: names
    used only as batch sizes (held at 1 by default).
    """

    spec: Spec
    registry: Registry
    positions: dict[str, list[tuple[str, int]]]
    declared: dict[str, int] = field(default_factory=dict)
    max_checks: int = MAX_CHECKS
    _checks: LayerChecks | None = None

    def checks(self) -> LayerChecks:
        """The spec's :class:`LayerChecks`, shared by every solve of this problem (at most ``max_checks`` checks)."""
        if self._checks is None:
            self._checks = LayerChecks(self.spec, self.registry, self.max_checks)
        return self._checks

    @property
    def names(self) -> list[str]:
        """The size names, in order of first appearance."""
        return list(self.positions)

    @property
    def batch_only(self) -> set[str]:
        """Names that appear only in the batch position."""
        return {name for name, places in self.positions.items() if all(index == 0 for _, index in places)}

    def input_shapes(self, size_of: Callable[[str], "int | Expr"]) -> dict[str, tuple]:
        """Each input's shape with ``size_of(name)`` at every place of a named size."""
        shapes = {}
        for decl in self.spec.inputs.values():
            shape: list[int | str | Expr] = list(decl.shape)
            for name, places in self.positions.items():
                for input_name, index in places:
                    if input_name == decl.name:
                        shape[index] = size_of(name)
            shapes[decl.name] = tuple(shape)
        return shapes

    def instantiate(self, values: dict[str, int]) -> Spec:
        """The spec with every named size replaced by its integer in ``values``."""
        return self.spec.with_input_shapes(self.input_shapes(values.__getitem__))

    def findings(self, values: dict[str, int]) -> list[Finding]:
        """What ``convlint lint`` reports with these sizes."""
        return lint_at_declared_sizes(self.instantiate(values), self.registry)

    def is_valid(self, values: dict[str, int]) -> bool:
        """True when the network lints clean with these sizes."""
        return not self.findings(values)

    def propagation(self, values: Mapping[str, "int | Expr"], unify: list[str] | None = None) -> Propagation:
        """Symbolic shapes with the names in ``values`` replaced (ints) and the rest as names; ``unify``:
        see :func:`~convlint.sizes.symbolic.propagate`."""
        inputs = self.input_shapes(lambda name: values.get(name, Expr.symbol(name)))
        return propagate(self.spec, self.registry, inputs, unify)


def size_problem(spec: Spec, registry: Registry) -> SizeProblem:
    """The named sizes of ``spec``; for a spec with fixed sizes, its spatial sizes get names.

    Spatial sizes of the same axis and value in several inputs share one name
    (``H``); otherwise each is ``input.H``.
    """
    if spec.size_names:
        positions: dict[str, list] = {}
        for decl in spec.inputs.values():
            for index, dim in enumerate(decl.shape):
                if isinstance(dim, str):
                    positions.setdefault(dim, []).append((decl.name, index))
        return SizeProblem(spec, registry, positions)
    groups: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for decl in spec.inputs.values():
        spatial = [dim for dim in decl.shape[2:] if isinstance(dim, int)]  # every one: no size is named
        for offset, (symbol, value) in enumerate(zip(axis_symbols(len(spatial)), spatial)):
            groups.setdefault((symbol, value), []).append((decl.name, offset + 2))
    symbols = [symbol for symbol, _ in groups]
    positions, declared = {}, {}
    for (symbol, value), places in groups.items():
        name = symbol if symbols.count(symbol) == 1 else f"{places[0][0]}.{symbol}"
        positions[name], declared[name] = places, value
    return SizeProblem(spec, registry, positions, declared)


def solve(problem: SizeProblem, name: str, held: dict[str, int], max_sizes: int = MAX_SIZES) -> Solution:
    """Every valid value of ``name`` with the other names at ``held`` (exact; see the module docstring).

    Raises :class:`~convlint.sizes.symbolic.Unsupported` for a layer whose
    arithmetic the solver does not follow, or when validity settles only after
    more than ``max_sizes`` sizes (checked before any size is tried).
    """
    others = {other: value for other, value in held.items() if other != name}
    return _solve_line(problem, name, {**others}, others, max_sizes)


def solve_tied(problem: SizeProblem, names: list[str], held: dict[str, int],
               max_sizes: int = MAX_SIZES) -> Solution:
    """Valid values ``x`` when every name in ``names`` equals ``x`` (a square image: ``H = W``)."""
    tied = names[0]
    substitution = {**held, **{other: Expr.symbol(tied) for other in names[1:]}}
    return _solve_line(problem, tied, substitution, held, max_sizes)


def _solve_line(problem: SizeProblem, name: str, substitution: dict, held: dict, max_sizes: int) -> Solution:
    return solve_propagation(problem, name, problem.propagation(substitution), held, max_sizes)


def solve_propagation(problem: SizeProblem, name: str, found: Propagation, held: dict, max_sizes: int = MAX_SIZES,
                      skip: frozenset[str] = frozenset()) -> Solution:
    """Every ``x`` at which each layer of ``found`` (shapes as forms in ``name`` only) passes, except the
    layers named in ``skip`` (their verdicts are left to the caller); ``held`` is only recorded."""
    if _cyclic(problem, found):  # G002 at every size, the one reason to give (names tied to ``name`` at 1 too)
        at_one = {**dict.fromkeys(problem.positions, 1), **held, name: 1}
        cycles = [finding for finding in problem.findings(at_one) if finding.code == "G002"]
        return Solution(name, SizeSet(1, frozenset(), 1), dict(held), 1, 1, 1, cycles)
    memo: dict = {}
    plans = [_plan(name, record, max_sizes, memo) for record in found.records if record.layer.name not in skip]
    period = lcm(1, *(plan.period for plan in plans))
    threshold = max([1, *(plan.threshold for plan in plans)])
    if threshold + period > max_sizes:
        raise Unsupported(f"{name}: validity settles only after {threshold + period} sizes "
                          f"(period {period}); too many to check", _slowest(plans))
    forms = {dim for plan in plans for shape in plan.record.inputs if shape for dim in shape if varies(dim)}
    if len(forms) * (threshold + period) > TABLE_BUDGET * max_sizes:
        raise Unsupported(f"{name}: {len(forms)} sizes to follow over {threshold + period} values; too many "
                          f"to check", _slowest(plans))
    checks = problem.checks()
    size = threshold + period
    tables = _Tables(name, size)
    culprit: list = []
    valid = _verdicts(found, plans, checks, tables, size, skip=True, culprit=culprit)
    always: list[Finding] = []
    if valid.find(1) < 0:  # nothing valid: find what fails everywhere, checking every size this time
        always = list(checks.base)
        _verdicts(found, plans, checks, tables, size, skip=False, always=always)
    checked = sum(plan.threshold + plan.period for plan in plans)
    runs = -(-checked // max(1, len(plans)))
    closest = _closest(culprit, tables) if culprit else None
    return Solution(name, _reduce(bytes(valid), period, threshold), dict(held), period, threshold, runs, always,
                    closest)


def _closest(culprit: list, tables: "_Tables") -> "Closest | None":
    """The sizes, among those every layer before the culprit accepts, where the culprit's comparisons come
    nearest to holding (two dims it requires equal or ordered, a size and the constant it is compared with)."""
    record, before = culprit
    compared = [(a, b) for a, b in [*record.pairs, *record.ordered]]
    compared += [(dim, value) for dim, value in record.bounds if isinstance(dim, Expr)]
    if not compared:
        return Closest(record.layer, [], [], before)
    columns = [(tables.values(a) if varies(a) else None, a, tables.values(b) if varies(b) else None, b)
               for a, b in compared]

    def at(column, constant, x):
        return constant if column is None else column[x]

    distance = {x: sum(abs(at(ca, a, x) - at(cb, b, x)) for ca, a, cb, b in columns)
                for x in range(1, len(before)) if before[x]}
    if not distance:
        return Closest(record.layer, [], [], before)
    best = min(distance.values())
    sizes = [x for x, value in distance.items() if value == best][:2]
    values = [[(at(ca, a, x), at(cb, b, x)) for ca, a, cb, b in columns] for x in sizes]
    return Closest(record.layer, sizes, values, before)


@dataclass
class Closest:
    """Where no size is valid: the first ``layer`` that fails at every size the layers before it accept, the
    ``sizes`` (at most two) where its comparisons come nearest to holding, and per size the pairs of values
    compared there (dim, and the dim or constant it must meet); ``before``: per size (index), 1 where every
    layer before it passes."""

    layer: Layer
    sizes: list[int]
    values: list[list[tuple[int, int]]]
    before: bytes


def _verdicts(found: Propagation, plans: list, checks: LayerChecks, tables: _Tables, size: int, skip: bool,
              always: list | None = None, culprit: list | None = None) -> bytearray:
    """Validity at ``x = 0 … size − 1`` (1: valid; index 0 is no size): every layer's verdict, and-ed.

    Layers are checked in order; with ``skip``, sizes that an earlier layer already
    rules out are not checked again.  ``always`` (when given) receives the findings
    that a layer reached at every size reports at every size; ``culprit`` (when given)
    receives the record of the layer after which no size is left, and the validity before it.
    """
    valid = bytearray(b"\x01") * size
    valid[0] = 0
    if checks.base:
        valid[:] = bytes(size)
    layers = {plan.record.layer.name for plan in plans}
    clean: dict[str, bool] = {name: True for name in found.shapes if name not in layers}
    for plan in plans:
        record = plan.record
        row, outcomes = _layer_row(record, plan, checks, tables, _still_valid(valid, plan) if skip else None)
        before = bytes(valid) if culprit is not None and not culprit else None
        _and_periodic(valid, row, plan)
        if culprit is not None and before is not None and before.find(1) >= 0 and valid.find(1) < 0:
            culprit += [record, before]
        if always is not None:
            reached = all(clean.get(producer(source, clean)[0], False) for source in record.layer.sources)
            clean[record.layer.name] = reached and all(outcome.shape is not None for outcome in outcomes)
            if reached:
                always += _everywhere(outcomes)
    return valid


def _still_valid(valid: bytearray, plan: _Plan) -> bytearray:
    """Per ``x < T + P`` of the plan: 1 where ``x`` is still valid, or (from ``T`` on) some size of its
    class modulo ``P`` is: the sizes where this layer's verdict still matters."""
    start, period, size = plan.threshold, plan.period, len(valid)
    needed = bytearray(valid[:start])
    laps = -(-(size - start) // period)
    if period <= laps:
        needed += bytes(1 if valid.find(1, residue, size) >= 0 and 1 in valid[residue::period] else 0
                        for residue in range(start, start + period))
    else:
        folded = 0
        for lap in range(laps):
            chunk = bytes(valid[start + lap * period:start + (lap + 1) * period])
            folded |= int.from_bytes(chunk + bytes(period - len(chunk)), "big")
        needed += folded.to_bytes(period, "big")
    return needed


def _and_periodic(valid: bytearray, row: bytearray, plan: _Plan) -> None:
    """``valid &= row``, ``row`` read periodically (period ``plan.period``) from ``plan.threshold`` on."""
    if not row.count(0):
        return
    start, period, size = plan.threshold, plan.period, len(valid)
    for x in range(1, start):
        if not row[x]:
            valid[x] = 0
    failing = [x for x in range(start, start + period) if not row[x]]
    if len(failing) * 8 < period:
        for x in failing:
            valid[x::period] = bytes(len(range(x, size, period)))
        return
    tiled = bytes(start) + bytes(row[start:start + period]) * -(-(size - start) // period)
    mask = int.from_bytes(b"\x01" * start + tiled[start:size], "big")
    valid[:] = (int.from_bytes(valid, "big") & mask).to_bytes(size, "big")


class _Tables:
    """Values of forms in ``name`` at ``x = 0 … size − 1``, and where each changes, computed once per form."""

    def __init__(self, name: str, size: int):
        self.name, self.size = name, size
        self._tables: dict = {}
        self._changes: dict = {}

    def values(self, form) -> list[int]:
        """``form(x)`` for every ``x`` (an int form gives itself everywhere)."""
        return table(form, self.name, self.size, self._tables)

    def changes(self, form) -> list[int]:
        """The ``x ≥ 1`` where ``form(x) ≠ form(x − 1)``, ascending."""
        known = self._changes.get(form)
        if known is None:
            values = self.values(form)
            known = self._changes[form] = [x for x, (before, now) in enumerate(zip(values, values[1:]), 1)
                                           if before != now]
        return known


def _layer_row(record: LayerRecord, plan: _Plan, checks: LayerChecks, tables: _Tables,
               needed: bytearray | None) -> tuple[bytearray, list]:
    """One layer's verdict at ``x = 0 … T + P − 1`` of its plan (1: it passes) and the outcomes seen.

    The layer is checked once per run of sizes over which its input shapes stay the
    same; where two dims it requires equal differ it fails without being checked.
    With ``needed`` (see :func:`_still_valid`), a run where it is all 0 is not checked (and
    left passing: every size there is ruled out already).
    """
    size = plan.threshold + plan.period
    row = bytearray(b"\x01") * size
    if not record.inputs or any(shape is None for shape in record.inputs):
        outcome = checks.outcome(record.layer, tuple(record.inputs), needed is None)
        if not outcome.ok:
            row[:] = bytes(size)
        return row, [outcome]
    shapes = [shape for shape in record.inputs if shape is not None]  # every one, as checked above
    changed = {1}
    for form in {dim for shape in shapes for dim in shape if varies(dim)}:
        changes = tables.changes(form)
        changed.update(changes[:bisect_left(changes, size)])
    starts = sorted(changed)
    columns = [[tables.values(dim) if varies(dim) else dim for dim in shape] for shape in shapes]
    pairs = [tuple(tables.values(dim) if varies(dim) else [dim] * tables.size for dim in pair)
             for pair in record.pairs]
    outcomes: dict[tuple, Outcome] = {}
    mismatch: Outcome | None = None
    x = 1 if needed is None else needed.find(1, 1)
    while 0 <= x < size:  # one run of equal input shapes at a time, only runs where the verdict matters
        index = bisect_right(starts, x) - 1
        start, end = starts[index], (starts[index + 1] if index + 1 < len(starts) else size)
        key = tuple(tuple(dim if type(dim) is int else dim[start] for dim in shape) for shape in columns)
        if any(left[start] != right[start] for left, right in pairs):
            outcome = mismatch = mismatch or checks.outcome(record.layer, key, needed is None)
        else:
            if key not in outcomes:
                outcomes[key] = checks.outcome(record.layer, key, needed is None)
            outcome = outcomes[key]
        if not outcome.ok:
            row[start:end] = bytes(end - start)
        x = end if needed is None else needed.find(1, end)
    return row, [*outcomes.values(), *([mismatch] if mismatch else [])]


def _slowest(plans: list) -> object:
    """The layer whose sizes settle last (to blame when that is too late)."""
    return max(plans, key=lambda plan: plan.threshold + plan.period).record.layer if plans else None


@dataclass
class _Plan:
    """One layer's share of the solution: from ``threshold`` on, its verdict depends on ``x mod period``."""

    record: LayerRecord
    period: int
    threshold: int


def _plan(name: str, record: LayerRecord, max_sizes: int, memo: dict) -> _Plan:
    """``P`` and ``T`` of the module docstring for one layer: its shapes, comparisons and tracked forms.

    ``memo`` keeps periods and settling points of forms that several layers share.
    """
    required: dict[Expr, int] = {}  # form → a value it must reach (and then never fall below)
    shapes = [*record.inputs, *record.all_outputs]
    dims = [dim for shape in shapes if shape for dim in shape if varies(dim)]
    products = []
    for dim in dims:  # every size must stay ≥ 1 (S002)
        if isinstance(dim, Expr):
            required[dim] = max(required.get(dim, 0), 1)
        else:
            products.append((dim, 1))
    for dim, value in record.bounds:
        if isinstance(dim, Product):
            products.append((dim, value + 1))
        else:
            required[dim] = max(required.get(dim, 0), value + 1)
    differences = [difference for a, b in [*record.pairs, *record.ordered]
                   if not (difference := (a if isinstance(a, Expr) else Expr((), a)) - b).is_constant]
    periodic = [form for form in record.tracked if isinstance(form, Expr)]
    for product, least in products:  # |c·f₁·…·fₖ| ≥ least once each growing |fᵢ| is ≥ B with c·Bᵏ ≥ least
        growing = [factor for factor in product.factors if varies(factor)]
        scale = prod(factor for factor in product.factors if isinstance(factor, int)) or 1
        bound = _root_ceiling(-(-least // abs(scale)), len(growing))
        for factor in growing:
            required[factor] = max(required.get(factor, 0), bound)
    shifts: dict[Expr, tuple[int, int]] = {}
    for form in [*required, *differences, *periodic]:
        if form not in memo:
            memo[form] = period_and_shift(form, name)
        shifts[form] = memo[form]
    period = lcm(1, *(p for p, _ in shifts.values()))
    if period > max_sizes:
        raise Unsupported(f"{name}: the sizes of layer `{record.layer.name}` repeat only every {period} values; "
                          f"too many to check", record.layer)
    threshold = 1
    for form, floor in [*required.items(), *((difference, None) for difference in differences)]:
        form_period, shift = shifts[form]
        if shift:
            if (form, floor) not in memo:
                memo[form, floor] = _settles(name, form, floor, form_period, shift, memo)
            threshold = max(threshold, memo[form, floor])
    if threshold > max_sizes:
        raise Unsupported(f"{name}: layer `{record.layer.name}` settles only at {name} = {threshold}; "
                          f"too many sizes to check", record.layer)
    return _Plan(record, period, threshold)


def _settles(name: str, form: Expr, least: int | None, period: int, shift: int, memo: dict) -> int:
    """The first ``x`` from which ``form`` stays ≥ ``least`` (growing) or ≤ −``least`` (shrinking) for good;
    for ``least`` ``None`` (a difference of two dims), the first from which its sign stays the same."""
    values = table(form, name, period + 1, memo.setdefault("tables", {}))
    step, sign = abs(shift), (1 if shift > 0 else -1)
    least = 1 if least is None else least
    # in the class of x (1 ≤ x ≤ period) the last failing size is x + period·(laps − 1)
    laps = [(x, -(-(least - sign * values[x]) // step)) for x in range(1, period + 1)]
    return max([1, *(x + period * (lap - 1) + 1 for x, lap in laps if lap > 0)])


def _root_ceiling(value: int, degree: int) -> int:
    """The least ``B ≥ 1`` with ``B**degree ≥ value`` (by bisection, so huge values cost little)."""
    low, high = 1, 1
    while high ** degree < value:
        high *= 2
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if middle ** degree < value else (low, middle)
    return low


def _everywhere(outcomes: list) -> list[Finding]:
    """The findings (by code, layer and position) that every outcome has."""
    if not outcomes:
        return []
    common = {_key(finding): finding for finding in outcomes[0].findings}
    for outcome in outcomes[1:]:
        keys = {_key(finding) for finding in outcome.findings}
        common = {key: finding for key, finding in common.items() if key in keys}
    return list(common.values())


def fails_at_every_size(problem: SizeProblem, found: Propagation) -> bool:
    """True when some layer cannot be sized for a reason that does not depend on the sizes (or a cycle)."""
    return any(shape is None for shape in found.shapes.values()) or _cyclic(problem, found)


def _cyclic(problem: SizeProblem, found: Propagation) -> bool:
    """True when the graph has a cycle (its layers are not all in ``found``)."""
    return len(found.shapes) < len(problem.spec.wiring.nodes)


def _key(finding: Finding) -> tuple:
    return finding.code, finding.layer, finding.line, finding.column


def _reduce(verdicts: bytes, period: int, threshold: int) -> SizeSet:
    """The smallest period and start that describe ``verdicts`` (periodic from ``threshold`` on)."""
    last = bytes(verdicts[threshold:threshold + period])
    smallest = next(p for p in range(1, period + 1) if period % p == 0 and last == last[:p] * (period // p))
    residues = frozenset(x % smallest for x in range(threshold, threshold + smallest) if verdicts[x])
    start = threshold
    while start > 1 and verdicts[start - 1] == ((start - 1) % smallest in residues):
        start -= 1
    extra = tuple(x for x in range(1, start) if verdicts[x])
    return SizeSet(smallest, residues, start, extra)


def _one_name_at_a_time(problem: SizeProblem, spatial: list[str], batch: dict[str, int], start: int,
                        max_sizes: int) -> dict[str, int] | None:
    """Valid sizes found by solving one name at a time, the others held (all at ``start`` at first,
    past every lower bound), each set to its smallest valid value in turn (a valid assignment stays
    valid: each name then takes its smallest value with the others held); ``None`` after two rounds
    without a valid assignment."""
    held = {**batch, **{name: start for name in spatial}}
    found = False
    for _ in range(3):  # two rounds to find a valid assignment, one more to make each name its smallest
        for name in spatial:
            smallest = solve(problem, name, held, max_sizes).valid.smallest(1)
            if smallest:
                held[name] = smallest[0]
        valid = held[spatial[-1]] in solve(problem, spatial[-1], held, max_sizes).valid
        if valid and found:
            return held
        found = valid
    return held if found else None


def reference_values(problem: SizeProblem, max_sizes: int = MAX_SIZES,
                     declared_checked: bool = False) -> dict[str, int]:
    """Values to hold the other names at: the declared sizes when they are valid, else small valid sizes.

    Batch-only names are held at 1.  The spatial names are first tied to one
    ``x`` (a square image) and the smallest valid ``x`` is used; when there is
    none, one name at a time is solved with the others held, and then small
    combinations are searched (at most ``GRID_SEARCH`` lint runs);
    when that fails too, the declared values (or 1) are kept.  ``declared_checked``:
    the declared sizes are known not to be valid.
    """
    if problem.declared and not declared_checked and problem.is_valid(problem.declared):
        return dict(problem.declared)
    batch = {name: 1 for name in problem.batch_only}
    spatial = [name for name in problem.names if name not in batch]
    fallback = {**batch, **{name: problem.declared.get(name, 1) for name in spatial}}
    if not spatial:
        return fallback
    tied = solve_tied(problem, spatial, batch, max_sizes)
    common = tied.valid.smallest(1)
    if common:
        return {**batch, **{name: common[0] for name in spatial}}
    if len(spatial) == 1 or fails_at_every_size(problem, problem.propagation(batch)):
        return fallback  # the tied answer was already exact, or nothing can help
    found = _one_name_at_a_time(problem, spatial, batch, tied.threshold + tied.period - 1, max_sizes)
    if found is not None:
        return found
    runs, most = 0, min(GRID_SEARCH, GRID_LAYER_BUDGET // max(1, len(problem.spec.layers)))
    largest = 0
    while True:  # combinations by their largest size: (1, 1), (1, 2), (2, 1), (2, 2), ...
        largest += 1
        for sizes in itertools.product(range(1, largest + 1), repeat=len(spatial)):
            if max(sizes) != largest:
                continue
            values = {**batch, **dict(zip(spatial, sizes))}
            if problem.is_valid(values):
                return values
            runs += 1
            if runs >= most:
                return fallback
