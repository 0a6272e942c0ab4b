"""Which input sizes a network accepts: exact, per named size, with the reason a size fails.

A size ``x`` of a spec is **valid** when ``convlint lint`` reports nothing for
the spec with that size filled in (no dropped input, no empty output,
matching Concat/Add inputs, ...).  :func:`solve` finds every valid ``x`` for
one size name while the other names are held at fixed values.

Why a finite number of lint runs gives the exact answer
---------------------------------------------------------
Every dimension of every layer is a quasi-affine function ``f`` of ``x``
(:mod:`convlint.sizes.symbolic`), and with ``P`` the least common period of
all of them (:func:`convlint.sizes.expr.period_and_shift`), ``f(x + P) = f(x) +
Q_f`` for every integer ``x`` (``Q_f < 0`` only where a size held fixed is
already too small).  The checks the built-in
layers make on sizes are of three kinds:

1. a varying size compared with a constant: ``size ≥ span`` (S003),
   ``out ≥ 1`` (S002), ``padding < size`` (reflect padding), ``in_features =
   size`` (S008).  A dim with ``Q_f > 0`` grows by ``Q_f`` per period in each
   residue class, so beyond a computable threshold it exceeds the constant
   for good and the check no longer changes (every dim is held above the
   largest window constant; a dim compared with a declared size, above that
   size; a flattened product ``c·f₁·…·fₖ``, above it once each growing
   factor is at least ``B`` with ``c·Bᵏ`` above it; a dim with ``Q_f < 0``
   likewise falls below every constant for good);
2. a remainder: the unread tail of a window layer is ``n mod s`` for its
   numerator ``n``, and ceil mode's correction is a floor of it; both are
   differences of dims and so have shift ``0``: they repeat with period ``P``;
3. two dims required equal (Concat, Add): their difference ``d`` has
   ``d(x + P) = d(x) + (Q_a − Q_b)``; with equal shifts it repeats with period
   ``P``, otherwise it is zero at most once per residue class, at a computable
   point, and never after.

So beyond a threshold ``T`` (the largest of those points) validity depends on
``x mod P`` only.  The solver lints every ``x`` in ``[1, T + P)`` (the checks
themselves are the linter's, so the answer cannot drift from ``convlint
lint``) and extends the last period periodically.  The result is then reduced
to the smallest period and start that describe it (:class:`SizeSet`).

Sizes held fixed: validity of one layer along one axis depends only on that
axis, so for networks whose layers keep axes apart the answer for ``H`` does
not depend on the value ``W`` is held at; layers that mix axes (Flatten then
Linear) make it depend, and the report names the values held.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from math import lcm, prod

from convlint.linting.enabled import lint_at_declared_sizes
from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.sizes.expr import Expr, Product, period_and_shift
from convlint.spec.model import Spec
from convlint.sizes.symbolic import Propagation, Unsupported, propagate, varies
from convlint.analysis.window_findings import axis_symbols


GRID_SEARCH = 500
"""The most size combinations :func:`reference_values` tries when no square size is valid."""

MAX_LINT_RUNS = 100_000
"""The most sizes :func:`solve` lints for one name before giving up (about a minute)."""


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
            value = self.start
            while len(found) < count:
                if value % self.period in self.residues:
                    found.append(value)
                value += 1
        return sorted(found)[:count]

    def nearest(self, value: int) -> tuple[int | None, int | None]:
        """The largest member below ``value`` and the smallest above it (``None`` where there is none)."""
        below = next((x for x in range(value - 1, 0, -1) if x in self), None)
        above = next((x for x in range(value + 1, max(value, self.start, *self.extra, 0) + self.period + 1)
                      if x in self), None)
        return below, above

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


def _describe_pattern(name: str, period: int, residues: list[int], start: int) -> str:
    first = next(x for x in range(start, start + period) if x % period in residues)
    if period == 1:
        return f"{name} ≥ {first}"
    from_start = start <= min(r if r else period for r in residues)  # every positive member of the classes
    if len(residues) == 1 and residues[0] == 0 and from_start:
        return f"{name} is a multiple of {period}"
    if len(residues) * 2 > period:
        missing = [r for r in range(period) if r not in residues]
        condition = f"{name} ≢ {_join(missing).replace(' or ', ', ')} (mod {period})"
    else:
        condition = f"{name} ≡ {_join(residues)} (mod {period})"
    return condition if from_start else f"{name} ≥ {first} and {condition}"


@dataclass
class Solution:
    """The valid values of one size name, with the others held fixed.

    ``held``: the values of the other names; ``period``/``threshold``: the ``P``
    and ``T`` of the module docstring; ``lint_runs``: how many sizes were linted;
    ``always``: findings (as at size 1) that every linted size has, so every size has.
    """

    name: str
    valid: SizeSet
    held: dict[str, int]
    period: int
    threshold: int
    lint_runs: int
    always: list[Finding] = field(default_factory=list)


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

    @property
    def names(self) -> list[str]:
        """The size names, in order of first appearance."""
        return list(self.positions)

    @property
    def batch_only(self) -> set[str]:
        """Names that appear only in the batch position."""
        return {name for name, places in self.positions.items() if all(index == 0 for _, index in places)}

    def instantiate(self, values: dict[str, int]) -> Spec:
        """The spec with every named size replaced by its integer in ``values``."""
        shapes = {}
        for decl in self.spec.inputs.values():
            shape = list(decl.shape)
            for name, places in self.positions.items():
                for input_name, index in places:
                    if input_name == decl.name:
                        shape[index] = values[name]
            shapes[decl.name] = tuple(shape)
        return self.spec.with_input_shapes(shapes)

    def findings(self, values: dict[str, int]) -> list[Finding]:
        """What ``convlint lint`` reports with these sizes."""
        return lint_at_declared_sizes(self.instantiate(values), self.registry)

    def is_valid(self, values: dict[str, int]) -> bool:
        """True when the network lints clean with these sizes."""
        return not self.findings(values)

    def propagation(self, values: dict[str, "int | Expr"]) -> Propagation:
        """Symbolic shapes with the names in ``values`` replaced (ints) and the rest as names."""
        inputs = {}
        for decl in self.spec.inputs.values():
            shape = list(decl.shape)
            for name, places in self.positions.items():
                for input_name, index in places:
                    if input_name == decl.name:
                        shape[index] = values.get(name, Expr.symbol(name))
            inputs[decl.name] = tuple(shape)
        return propagate(self.spec, self.registry, inputs)


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
        spatial = decl.shape[2:]
        for offset, (symbol, value) in enumerate(zip(axis_symbols(len(spatial)), spatial)):
            groups.setdefault((symbol, value), []).append((decl.name, offset + 2))
    symbols = [symbol for symbol, _ in groups]
    positions, declared = {}, {}
    for (symbol, value), places in groups.items():
        name = symbol if symbols.count(symbol) == 1 else f"{places[0][0]}.{symbol}"
        positions[name], declared[name] = places, value
    return SizeProblem(spec, registry, positions, declared)


def solve(problem: SizeProblem, name: str, held: dict[str, int], max_runs: int = MAX_LINT_RUNS) -> Solution:
    """Every valid value of ``name`` with the other names at ``held`` (exact; see the module docstring).

    Raises :class:`~convlint.sizes.symbolic.Unsupported` for a layer whose
    arithmetic the solver does not follow, or when more than ``max_runs`` sizes
    would have to be linted.
    """
    others = {other: value for other, value in held.items() if other != name}
    return _solve_line(problem, name, lambda x: {**others, name: x}, {**others}, others, max_runs)


def solve_tied(problem: SizeProblem, names: list[str], held: dict[str, int],
               max_runs: int = MAX_LINT_RUNS) -> Solution:
    """Valid values ``x`` when every name in ``names`` equals ``x`` (a square image: ``H = W``)."""
    tied = names[0]
    substitution = {**held, **{other: Expr.symbol(tied) for other in names[1:]}}
    return _solve_line(problem, tied, lambda x: {**held, **{other: x for other in names}}, substitution, held,
                       max_runs)


def _solve_line(problem: SizeProblem, name: str, assignment, substitution: dict, held: dict,
                max_runs: int) -> Solution:
    found = problem.propagation(substitution)
    dims = [dim for shape in found.shapes.values() if shape for dim in shape if varies(dim)]
    # A layer that cannot be sized at any size stops the linter there as it stops the propagation,
    # so the dims computed up to it are the ones whose checks can change.
    period, threshold = _period_and_threshold(name, dims, found)
    if threshold + period > max_runs:
        raise Unsupported(f"{name}: validity settles only after {threshold + period} sizes "
                          f"(period {period}); too many to lint")
    verdicts, always = {}, None
    for x in range(1, threshold + period):
        findings = problem.findings(assignment(x))
        verdicts[x] = not findings
        keys = {_key(finding) for finding in findings}
        always = [finding for finding in findings if _key(finding) in keys] if always is None else \
            [finding for finding in always if _key(finding) in keys]
    valid = _reduce(verdicts, period, threshold)
    return Solution(name, valid, dict(held), period, threshold, len(verdicts), always)


def fails_at_every_size(problem: SizeProblem, found: Propagation) -> bool:
    """True when some layer cannot be sized for a reason that does not depend on the sizes (or a cycle)."""
    return any(shape is None for shape in found.shapes.values()) or len(found.shapes) < len(problem.spec.graph)


def _key(finding: Finding) -> tuple:
    return finding.code, finding.layer, finding.line, finding.column


def _period_and_threshold(name: str, dims: list, found: Propagation) -> tuple[int, int]:
    """``P`` and ``T`` of the module docstring for the sizes ``dims`` (all varying) as functions of ``name``."""
    bound = max([2, *(value + 1 for value in found.bounds)])
    required: dict[Expr, int] = {}  # form → a value it must reach (and then never fall below)
    for dim in dims:
        if isinstance(dim, Expr):
            required[dim] = bound
    products = []
    for dim, declared in found.compared:
        if isinstance(dim, Product):
            products.append((dim, declared + 1))
        else:
            required[dim] = max(required.get(dim, 0), declared + 1)
    differences = []
    for layer, a, b in found.pairs:
        difference = (a if isinstance(a, Expr) else Expr((), a)) - b
        if not difference.is_constant:
            differences.append(difference)
    factors = [factor for product, _ in products for factor in product.factors if varies(factor)]
    shifts = {form: period_and_shift(form, name) for form in [*required, *factors, *differences]}
    period = lcm(1, *(p for p, _ in shifts.values()))
    for product, least in products:  # |c·f₁·…·fₖ| ≥ least once each moving |fᵢ| is ≥ B with c·Bᵏ ≥ least
        growing = [f for f in product.factors if varies(f) and shifts[f][1] != 0]
        scale = prod(f for f in product.factors if isinstance(f, int))
        factor_bound = 1
        while scale * factor_bound ** len(growing) < least:
            factor_bound += 1
        for factor in growing:
            required[factor] = max(required.get(factor, 0), factor_bound)
    threshold = 1
    for form, least in required.items():  # a growing form must reach least, a shrinking one −least
        form_period, shift = shifts[form]
        if shift == 0:
            continue
        step = abs(shift) * (period // form_period)
        sign = 1 if shift > 0 else -1
        for x in range(period):
            missing = least - sign * form.evaluate({name: x})
            threshold = max(threshold, x + period * max(0, -(-missing // step)))
    for difference in differences:
        form_period, shift = shifts[difference]
        step = shift * (period // form_period)
        if step == 0:
            continue
        for x in range(period):
            gap = difference.evaluate({name: x})
            if gap % step == 0 and -gap // step >= 0:
                threshold = max(threshold, x + period * (-gap // step) + 1)
    return period, threshold


def _reduce(verdicts: dict[int, bool], period: int, threshold: int) -> SizeSet:
    """The smallest period and start that describe ``verdicts`` (periodic from ``threshold`` on)."""
    last = [verdicts[x] for x in range(threshold, threshold + period)]
    smallest = next(p for p in range(1, period + 1)
                    if period % p == 0 and all(last[i] == last[i % p] for i in range(period)))
    residues = frozenset(x % smallest for x in range(threshold, threshold + smallest) if verdicts[x])
    start = threshold
    while start > 1 and verdicts[start - 1] == ((start - 1) % smallest in residues):
        start -= 1
    extra = tuple(x for x in range(1, start) if verdicts[x])
    return SizeSet(smallest, residues, start, extra)


def reference_values(problem: SizeProblem, max_runs: int = MAX_LINT_RUNS) -> dict[str, int]:
    """Values to hold the other names at: the declared sizes when they are valid, else small valid sizes.

    Batch-only names are held at 1.  The spatial names are first tied to one
    ``x`` (a square image) and the smallest valid ``x`` is used; when there is
    none, small combinations are searched (at most ``GRID_SEARCH`` lint runs);
    when that fails too, the declared values (or 1) are kept.
    """
    if problem.declared and problem.is_valid(problem.declared):
        return dict(problem.declared)
    batch = {name: 1 for name in problem.batch_only}
    spatial = [name for name in problem.names if name not in batch]
    fallback = {**batch, **{name: problem.declared.get(name, 1) for name in spatial}}
    if not spatial:
        return fallback
    common = solve_tied(problem, spatial, batch, max_runs).valid.smallest(1)
    if common:
        return {**batch, **{name: common[0] for name in spatial}}
    if len(spatial) == 1 or fails_at_every_size(problem, problem.propagation(batch)):
        return fallback  # the tied answer was already exact, or nothing can help
    runs = 0
    for largest in itertools.count(1):  # combinations by their largest size: (1, 1), (1, 2), (2, 1), (2, 2), ...
        for sizes in itertools.product(range(1, largest + 1), repeat=len(spatial)):
            if max(sizes) != largest:
                continue
            values = {**batch, **dict(zip(spatial, sizes))}
            if problem.is_valid(values):
                return values
            runs += 1
            if runs >= GRID_SEARCH:
                return fallback
