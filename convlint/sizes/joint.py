"""The valid input sizes of several named sizes together, exact.

Each layer's checks read its dims one axis at a time, except where its
:meth:`~convlint.layers.layer_type.LayerType.symbolic_shape` records otherwise,
so the names fall into **components**:

- a name no layer couples with another is solved on its own (its valid set is
  the same whatever valid values the other names take);
- a **product link**: a flattened size ``c·f₁(H)·f₂(W)…`` (Flatten) that a layer
  compares with constants (a Linear's ``in_features``).  The layer passes for
  the product values in a union of intervals between those constants, found by
  checking one value per interval;
- an **equality link**: a merge of branches from two inputs requires
  ``f(a) = g(b)`` (:func:`~convlint.sizes.symbolic.propagate` with ``unify``).
  The layers after it see one form.

Everything else a component's layers check is a condition on one name at a
time: its **factor**, solved by :func:`~convlint.sizes.solver.solve_propagation`
on the shapes with the other names held at values that pass their own
conditions (the product layers left to their link).  The valid set of a
component is then exactly: every name in its factor, and every link met.
From that description, per name the values valid for *some* values of the
others (the projection), and the valid tuples up to a bound, are computed from
the forms, never by linting tuple after tuple:

- a product link with a largest allowed value ``M`` bounds every factor by
  ``M/c``: the few factor values are combined directly;
- a product link allowed from some value on: every name of the component can
  make the product large, so each projection is its factor;
- an equality link ``f(a) = g(b)``: if ``(a, b)`` is valid, so is
  ``(a + Tₐ, b + T_b)`` for the shift that moves ``f`` and ``g`` alike and keeps
  both factors' residues, so the projection repeats with period ``Tₐ`` past the
  point where every ``b`` it needs is in the periodic part of its factor.

A coupling outside these (a sum of sizes from two inputs, a crop to another
input's size, several links in one component) is **not followed jointly**: its
names are solved one at a time with the others held, as the report says.
"""
from __future__ import annotations

import copy
import itertools
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from math import gcd, lcm, prod
from typing import cast

from convlint.sizes.expr import Expr, Product, names_of, period_and_shift, substitute, table
from convlint.sizes.solver import (MAX_SIZES, Closest, SizeProblem, SizeSet, Solution, _plan, _reduce, _settles,
                                   reference_values, solve, solve_propagation)
from convlint.sizes.symbolic import LayerRecord, Propagation, Unsupported, varies
from convlint.spec.model import Layer

MAX_TUPLES = 10_000
"""The most valid tuples listed per component."""

CLOSEST_UPTO = 1024
"""The largest size looked at for the sizes closest to meeting an equality no sizes meet."""

MAX_COMBINATIONS = 200_000
"""The most combinations of factor values a product link may need."""


@dataclass
class ProductLink:
    """Layers that read one flattened size ``form``; ``allowed``: the closed intervals ``(lo, hi)`` of its
    values at which every one of them passes (``hi`` ``None``: no upper end)."""

    layers: list[Layer]
    form: Product
    allowed: list[tuple[int, int | None]] = field(default_factory=list)

    def admits(self, value: int) -> bool:
        return any(lo <= value and (hi is None or value <= hi) for lo, hi in self.allowed)

    def describe(self) -> str:
        """``8·⌊H/4⌋·⌊W/4⌋ = 280``, ``… ≥ 10``, ``… in 3–7 or ≥ 20``."""
        if not self.allowed:
            return f"{self.form} takes no allowed value"
        if len(self.allowed) == 1:
            lo, hi = self.allowed[0]
            if hi == lo:
                return f"{self.form} = {lo}"
            if hi is None:
                return f"{self.form} ≥ {lo}"
            if lo == 1:
                return f"{self.form} ≤ {hi}"
        parts = [str(lo) if lo == hi else f"≥ {lo}" if hi is None else f"{lo}–{hi}" for lo, hi in self.allowed]
        return f"{self.form} in {', '.join(parts)}"


@dataclass
class EqualityLink:
    """``layer`` requires ``left`` (a form in one name) equal to ``right`` (a form in another)."""

    layer: Layer
    left: Expr
    right: Expr

    def describe(self) -> str:
        return f"{self.left} = {self.right}"


@dataclass
class Component:
    """Names coupled with each other, and how; ``why_not`` says why they are not solved jointly."""

    names: list[str]
    equalities: list[EqualityLink] = field(default_factory=list)
    products: list[ProductLink] = field(default_factory=list)
    why_not: str | None = None
    projections: dict[str, SizeSet] = field(default_factory=dict)
    """Per name, the values valid for some values of the other names of the component."""
    factors: dict[str, SizeSet] = field(default_factory=dict)
    """Per name, the conditions on it alone."""
    closest: str | None = None
    """When no tuple is valid: the sizes that come closest to meeting the link, in words."""
    closest_sizes: dict[str, int] | None = None
    """The closest sizes themselves (the first when there are two)."""

    @property
    def coupled(self) -> bool:
        """True for names linked with each other (a link the solver follows, or one it does not)."""
        return self.why_not is not None or bool(self.products or self.equalities)

    @property
    def empty(self) -> bool:
        return any(valid.empty for valid in self.projections.values())

    def links(self) -> list[str]:
        """Each link in words, with the layer it comes from."""
        return ([f"{link.describe()} ({', '.join(f'`{layer.name}`' for layer in link.layers)})"
                 for link in self.products] +
                [f"{link.describe()} (`{link.layer.name}`)" for link in self.equalities])

    def describe(self) -> str:
        """The component's valid set in words: each factor, and each link."""
        parts = [self.factors[name].describe(name) for name in self.names
                 if name in self.factors and self.factors[name].describe(name) != f"{name} ≥ 1"]
        return " and ".join(parts + [link.describe() for link in self.products]
                            + [link.describe() for link in self.equalities]) or "every size"


@dataclass
class JointSolution:
    """Every name's :class:`~convlint.sizes.solver.Solution` (``valid``: its projection) and the components."""

    held: dict[str, int]
    solutions: list[Solution]
    components: list[Component]
    never: list[str] = field(default_factory=list)
    """Names with no valid value whatever the others are (then no name has one)."""
    nowhere: Layer | None = None
    """A layer that passes at no sizes at all (then no name has a valid value)."""

    def component_of(self, name: str) -> Component:
        return next(component for component in self.components if name in component.names)

    def tuples(self, component: Component, upto: int) -> tuple[list[tuple[int, ...]], bool]:
        """The valid tuples of ``component`` with every size ≤ ``upto`` (at most ``MAX_TUPLES``) and whether
        the list was cut short."""
        return _tuples(component, upto)


# --- structure --------------------------------------------------------------------------------------------------


def _coupling(record: LayerRecord) -> tuple[set[str], Product | None, str | None]:
    """The names one layer couples, the flattened size it compares (if any), and why it cannot be followed."""
    names: set[str] = set()
    product, why = None, None
    dims = [dim for shape in [*record.inputs, *record.all_outputs] if shape for dim in shape if varies(dim)]
    for dim in dims:  # a flattened size couples its names where a layer reads it
        found = names_of(dim)
        if len(found) < 2:
            continue
        if isinstance(dim, Product) and any(dim is item for shape in record.inputs if shape for item in shape):
            product = dim
            names |= found
        elif isinstance(dim, Expr):
            names |= found
            why = f"`{record.layer.name}` reads a size made of several names ({dim})"
    if product is not None:
        factors = [factor for factor in product.factors if not isinstance(factor, int)]
        if len({next(iter(names_of(factor))) for factor in factors}) < len(factors) or \
                any(len(names_of(factor)) != 1 for factor in factors):
            why = why or f"`{record.layer.name}` reads a flattened size whose factors share names ({product})"
        others = [dim for shape in record.inputs if shape for dim in shape if varies(dim) and dim is not product]
        if any(names_of(dim) & names_of(product) or isinstance(dim, Product) for dim in others):
            why = why or f"`{record.layer.name}` reads a flattened size beside other sizes of the same names"
    for a, b in [*record.pairs, *record.ordered]:
        if names_of(a) != names_of(b) and (varies(a) and varies(b)):
            names |= names_of(a) | names_of(b)
            why = why or f"`{record.layer.name}` compares {a} with {b}"
    for form in record.tracked:
        if len(names_of(form)) > 1:
            names |= names_of(form)
            why = why or f"`{record.layer.name}` divides {form}"
    return names, product, why


def _components(problem: SizeProblem, found: Propagation) -> tuple[list[Component], dict[str, Product]]:
    """The components of the names, and the flattened size each product layer reads (by layer name)."""
    parent = {name: name for name in problem.names}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    def join(names) -> None:
        names = [root(name) for name in names if name in parent]
        for name in names[1:]:
            parent[name] = names[0]

    reasons: list[tuple[set[str], str]] = []
    products: dict[str, tuple[Layer, Product]] = {}
    equalities: list[EqualityLink] = []
    for record in found.records:
        names, product, why = _coupling(record)
        join(sorted(names))
        if why:
            reasons.append((names, why))
        if product is not None and not why:
            products[record.layer.name] = (record.layer, product)
    for layer, kept, replaced in found.equalities:
        join([*names_of(kept), *names_of(replaced)])
        equalities.append(EqualityLink(layer, cast(Expr, kept), cast(Expr, replaced)))
    groups: dict[str, list[str]] = {}
    for name in problem.names:
        groups.setdefault(root(name), []).append(name)
    components = []
    for members in groups.values():
        component = Component(members)
        component.why_not = next((why for found_names, why in reasons if found_names & set(members)), None)
        component.equalities = [link for link in equalities if names_of(link.left) <= set(members)]
        links: dict[str, ProductLink] = {}
        for layer, product in products.values():
            if names_of(product) <= set(members):
                links.setdefault(str(product), ProductLink([], product)).layers.append(layer)
        component.products = list(links.values())
        if component.why_not is None and len(members) > 1:
            if len(component.products) + bool(component.equalities) > 1:
                component.why_not = "its names are linked in more than one way"
            elif component.equalities and len(members) != 2:
                component.why_not = "more than two names are required equal"
        components.append(component)
    return components, {name: product for name, (_, product) in products.items()}


# --- factors ------------------------------------------------------------------------------------------------------


def _substituted(found: Propagation, values: dict, per_layer: dict[str, dict] | None = None) -> Propagation:
    """``found`` with the names in ``values`` replaced in every shape and record (in the record of a layer
    named in ``per_layer``, by the values given there first)."""
    chosen, memo = values, {}

    def dim(form):
        """``form`` with the ``chosen`` values; a form that many shapes share is substituted once."""
        if type(form) is int:
            return form
        if form not in memo:
            memo[form] = substitute(form, chosen)
        return memo[form]

    def shape(item):
        return None if item is None else tuple(dim(form) for form in item)

    result = Propagation({node: shape(item) for node, item in found.shapes.items()}, [],
                         {node: [shape(item) for item in items] for node, items in found.outputs.items()})
    for record in found.records:
        if per_layer and record.layer.name in per_layer:
            chosen, memo = {**values, **per_layer[record.layer.name]}, {}
        elif chosen is not values:
            chosen, memo = values, {}
        result.records.append(LayerRecord(
            record.layer, [shape(item) for item in record.inputs], shape(record.output),
            [(dim(form), value) for form, value in record.bounds if varies(dim(form))],
            [(dim(a), dim(b)) for a, b in record.pairs if varies(dim(a)) or varies(dim(b))],
            [(dim(a), dim(b)) for a, b in record.ordered if varies(dim(a)) or varies(dim(b))],
            [dim(form) for form in record.tracked if varies(dim(form))],
            None if record.outputs is None else [shape(item) for item in record.outputs]))
    return result


class _Factors:
    """Solves of one name with the others held, on shapes where merged branches read as the solved name
    and the product layers are left out."""

    def __init__(self, problem: SizeProblem, base: Propagation, skip: frozenset[str], max_sizes: int):
        self.problem, self.base, self.skip, self.max_sizes = problem, base, skip, max_sizes
        self._unified: dict[str, Propagation] = {}
        self._solved: dict[tuple, Solution] = {}

    def found(self, name: str) -> Propagation:
        """Shapes with merged branches read in ``name`` where it is one of them."""
        if not self.base.equalities:
            return self.base
        if name not in self._unified:
            order = [name, *(other for other in self.problem.names if other != name)]
            self._unified[name] = self.problem.propagation({}, unify=order)
        return self._unified[name]

    def solve(self, name: str, held: dict[str, int], witnesses: bool = False) -> Solution:
        """``name`` with the others at ``held``; with ``witnesses``, each layer that reads several names
        has the others at values where its checks of them pass (see :func:`_witness`)."""
        others = {other: value for other, value in held.items() if other != name}
        key = (name, tuple(sorted(others.items())), witnesses)
        if key not in self._solved:  # the same question is asked again (the reference sizes, then each name)
            found = self.found(name)
            per_layer = self._witnesses(name, found) if witnesses else None
            self._solved[key] = solve_propagation(self.problem, name, _substituted(found, others, per_layer),
                                                  others, self.max_sizes, self.skip)
        return copy.copy(self._solved[key])  # a copy: the caller may set its fields

    def _witnesses(self, name: str, found: Propagation) -> dict[str, dict]:
        per_layer = {}
        for record in found.records:
            names = _record_names(record)
            if record.layer.name in self.skip or not names - {name}:
                continue
            witness = _witness(self.problem, record, sorted(names), self.max_sizes)
            if witness is None or witness is NOWHERE:
                apart = _apart(record, self.max_sizes)
                if apart:
                    raise _Never(apart, record)
                if witness is NOWHERE:
                    raise _Never(sorted(names), record, together=True)
                raise Unsupported(f"layer `{record.layer.name}`: no sizes were found at which it passes "
                                  f"within the solver's budget", record.layer)
            per_layer[record.layer.name] = {other: value for other, value in witness.items() if other != name}
        return per_layer

    def tied(self, names: list[str], held: dict[str, int]) -> Solution:
        """Every name in ``names`` equal (a square image), the others held."""
        values = {**held, **{other: Expr.symbol(names[0]) for other in names[1:]}}
        found = _substituted(self.base, values)
        return solve_propagation(self.problem, names[0], found, held, self.max_sizes, self.skip)


WITNESS_PROBES = 4096
"""The most single-layer checks spent looking for sizes at which one layer reading several names passes."""


def _record_names(record: LayerRecord) -> set[str]:
    forms = [dim for shape in [*record.inputs, *record.all_outputs] if shape for dim in shape]
    forms += [form for pair in [*record.pairs, *record.ordered] for form in pair] + list(record.tracked)
    return set().union(*(names_of(form) for form in forms))


NOWHERE: dict[str, int] = {}
"""What :func:`_witness` returns for a layer that passes at no sizes at all."""


def _witness(problem: SizeProblem, record: LayerRecord, names: list[str], max_sizes: int) -> dict[str, int] | None:
    """Values of ``names`` at which the layer of ``record`` passes: first one period past its threshold per
    name, where every residue its checks tell apart occurs (each name's plan with the others at 1), then
    every size below that.  ``NOWHERE`` when every size was tried, ``None`` when the budget ran out."""
    plans = []
    for name in names:
        alone = _substituted(Propagation({}, [record]), {other: 1 for other in names if other != name}).records[0]
        plans.append(_plan(name, alone, max_sizes, {}))
    checks = problem.checks()
    tried, probes = set(), 0
    everywhere = [range(1, plan.threshold + plan.period) for plan in plans]
    if prod(len(values) for values in everywhere) > 20 * WITNESS_PROBES:
        everywhere = []
    for ranges in ([range(plan.threshold, plan.threshold + plan.period) for plan in plans], everywhere):
        for values in itertools.islice(itertools.product(*ranges), 20 * WITNESS_PROBES):
            assignment = dict(zip(names, values))
            if values in tried or any(substitute(a, assignment) != substitute(b, assignment) for a, b in record.pairs):
                continue
            tried.add(values)
            key = tuple(tuple(substitute(dim, assignment) for dim in shape) for shape in record.inputs if shape is not None)
            if checks.outcome(record.layer, key).ok:
                return assignment
            probes += 1
            if probes >= WITNESS_PROBES:
                return None
    return NOWHERE if everywhere else None


def _reference(problem: SizeProblem, factors: _Factors) -> dict[str, int]:
    """Values at which every name passes its own conditions (the links aside), where they can be found.

    Tried in turn: the declared sizes, one size for all spatial names (a square
    image), then each name set to its smallest valid value with the others held,
    then the sizes :func:`~convlint.sizes.solver.reference_values` finds for the
    whole network; failing all, sizes past every lower bound."""
    batch = {name: 1 for name in problem.batch_only}
    spatial = [name for name in problem.names if name not in batch]
    if problem.declared and _passes(factors, problem.declared):
        return dict(problem.declared)
    if not spatial:
        return batch
    tied = factors.tied(spatial, batch)
    common = tied.valid.smallest(1)
    if common:
        return {**batch, **{name: common[0] for name in spatial}}
    held = {**batch, **{name: tied.threshold + tied.period - 1 for name in spatial}}
    for _ in range(3):
        for name in spatial:
            smallest = factors.solve(name, held).valid.smallest(1)
            if smallest:
                held[name] = smallest[0]
        if _passes(factors, held):
            return held
    found = reference_values(problem, factors.max_sizes)
    return found if _passes(factors, found) else held


def _never(base: Propagation, name: str, solution: Solution) -> bool:
    """True when ``name``'s empty factor does not depend on the values the other names were held at: the layer
    that rules out its last sizes reads ``name`` alone, or two dims in ``name`` alone it requires equal differ
    at every size the layers before it accept."""
    closest = solution.closest
    if closest is None:
        return False
    record = next(record for record in base.records if record.layer is closest.layer)
    dims = [dim for shape in record.inputs if shape for dim in shape if varies(dim)]
    if all(names_of(dim) <= {name} for dim in dims):
        return True
    survivors = [x for x in range(1, len(closest.before)) if closest.before[x]]
    return any(names_of(a) | names_of(b) == {name} and
               all(substitute(a, {name: x}) != substitute(b, {name: x}) for x in survivors)
               for a, b in record.pairs)


class _Never(Exception):
    """``names`` have no valid value whatever the others are: ``record``'s layer requires two of their dims
    equal that always differ; or (``together``) that layer fails at every value of its names."""

    def __init__(self, names: list[str], record: LayerRecord, together: bool = False):
        super().__init__(", ".join(names))
        self.names, self.record, self.together = names, record, together


def _apart(record: LayerRecord, max_sizes: int = MAX_SIZES) -> list[str]:
    """Names of pairs that ``record``'s layer requires equal and that differ at every size where they are
    not empty (a constant other than 0, as ``W`` and ``W − 2``, or at every size up to where the sign of
    the difference settles, and so for good): such a name has no valid value, whatever the others are."""
    found: list[str] = []
    for a, b in record.pairs:
        difference = _difference(a, b)
        names = names_of(a) | names_of(b)
        if len(names) != 1 or names <= set(found):
            continue
        [name] = names
        if difference.is_constant:
            if difference.const:
                found.append(name)
            continue
        period, shift = period_and_shift(difference, name)
        end = (_settles(name, difference, None, period, shift, {}) if shift else 1) + period
        if end <= max_sizes and not any(difference.evaluate({name: x}) == 0 and substitute(b, {name: x}) >= 1
                                        for x in range(1, end)):  # equal only where the dims are empty
            found.append(name)
    return found


def _difference(a, b) -> Expr:
    """``a − b`` of two dims (ints or forms) as a form."""
    return (a if isinstance(a, Expr) else Expr((), cast(int, a))) - b


def _pair_closest(record: LayerRecord, name: str) -> Closest:
    """Where the dims in ``name`` alone that ``record``'s layer requires equal come nearest (both non-empty),
    over one period past where their differences settle."""
    pairs = [(a, b) for a, b in record.pairs if names_of(a) | names_of(b) == {name}]
    end = 2
    for a, b in pairs:
        difference = _difference(a, b)
        if not difference.is_constant:
            period, shift = period_and_shift(difference, name)
            end = max(end, (_settles(name, difference, None, period, shift, {}) if shift else 1) + period)
    end = max(end, 8)
    distances = {}
    for x in range(1, min(end, MAX_SIZES)):
        values = [(substitute(a, {name: x}), substitute(b, {name: x})) for a, b in pairs]
        if all(min(pair) >= 1 for pair in values):
            distances[x] = (sum(abs(p - q) for p, q in values), values)
    best = min((distance for distance, _ in distances.values()), default=None)
    sizes = [x for x, (distance, _) in distances.items() if distance == best][:2]
    return Closest(record.layer, sizes, [distances[x][1] for x in sizes], b"")


def _always_apart(base: Propagation, solutions) -> list[str]:
    """The names :func:`_apart` finds at the layers at fault in ``solutions``."""
    found = []
    for solution in solutions:
        if solution.closest is not None:
            found += _apart(next(record for record in base.records if record.layer is solution.closest.layer))
    return found


def _passes(factors: _Factors, values: dict[str, int]) -> bool:
    """True when ``values`` meets every name's own conditions (one solve of the last name)."""
    last = factors.problem.names[-1]
    return values[last] in factors.solve(last, values).valid


# --- links ------------------------------------------------------------------------------------------------------


def _allowed(problem: SizeProblem, found: Propagation, link: ProductLink, held: dict[str, int]) -> None:
    """Fill ``link.allowed``: the product values at which every layer of the link passes, one check per
    interval between the constants the layers compare the product with (the other sizes as held)."""
    checks = problem.checks()
    held_found = {record.layer.name: record for record in _substituted(found, {
        name: value for name, value in held.items() if name not in names_of(link.form)}).records}
    allowed: list[tuple[int, int | None]] = [(1, None)]
    for layer in link.layers:
        record = held_found[layer.name]
        constants = sorted({value for form, value in record.bounds if isinstance(form, Product) and value >= 1})
        regions: list[tuple[int, int | None]] = []
        low = 1
        for constant in constants:
            if low <= constant - 1:
                regions.append((low, constant - 1))
            regions.append((constant, constant))
            low = constant + 1
        regions.append((low, None))
        passing: list[tuple[int, int | None]] = []
        for lo, hi in regions:
            key = tuple(tuple(lo if isinstance(dim, Product) else dim for dim in shape) for shape in record.inputs
                        if shape is not None)
            if checks.outcome(layer, key).ok:
                passing.append((lo, hi))
        allowed = _intersect(allowed, _merged(passing))
    link.allowed = allowed


def _merged(intervals: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    merged: list[tuple[int, int | None]] = []
    for lo, hi in intervals:
        if merged and merged[-1][1] is not None and merged[-1][1] + 1 == lo:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _intersect(first: list, second: list) -> list[tuple[int, int | None]]:
    result = []
    for lo1, hi1 in first:
        for lo2, hi2 in second:
            lo = max(lo1, lo2)
            his = [hi for hi in (hi1, hi2) if hi is not None]
            hi = min(his) if his else None
            if hi is None or lo <= hi:
                result.append((lo, hi))
    return _merged(sorted(result))


def _factor_forms(link: ProductLink) -> tuple[int, dict[str, Expr]]:
    """The constant of the flattened size and its factor in each name."""
    scale = prod(factor for factor in link.form.factors if isinstance(factor, int))
    return scale, {next(iter(names_of(factor))): factor for factor in link.form.factors
                   if not isinstance(factor, int)}


def _growing(form: Expr, name: str) -> tuple[int, int]:
    period, shift = period_and_shift(form, name)
    if shift <= 0:
        raise Unsupported(f"{name}: the flattened or merged size {form} does not grow with {name}")
    return period, shift


def _below(form: Expr, name: str, most: int, memo: dict) -> int:
    """A bound ``X`` with ``form(x) > most`` for every ``x ≥ X``."""
    period, shift = _growing(form, name)
    return _settles(name, form, most + 1, period, shift, memo)


def _solve_product(component: Component, link: ProductLink, max_sizes: int) -> None:
    """The projections of a component whose names only meet in one flattened size."""
    scale, forms = _factor_forms(link)
    highest = max((hi for _, hi in link.allowed if hi is not None), default=0)
    unbounded = any(hi is None for _, hi in link.allowed)
    if not link.allowed or any(component.factors[name].empty for name in component.names):
        component.projections = {name: SizeSet(1, frozenset(), 1) for name in component.names}
        return
    if unbounded:  # every other name can make the product as large as wanted
        if any(not component.factors[name].residues for name in component.names):
            raise Unsupported(f"{', '.join(component.names)}: the flattened size {link.form} is allowed from "
                              f"{link.allowed[-1][0]} on, but a name has finitely many valid values")
        component.projections = dict(component.factors)
        return
    memo: dict = {}
    values, preimages = {}, {}
    for name, form in forms.items():
        bound = _below(form, name, highest // max(1, scale), memo)
        if bound > max_sizes:
            raise Unsupported(f"{name}: the flattened size {link.form} needs {bound} sizes to be checked")
        column = table(form, name, bound, memo.setdefault("tables", {}))
        found: dict[int, list[int]] = {}
        for x in range(1, bound):
            if x in component.factors[name] and column[x] >= 1:
                found.setdefault(column[x], []).append(x)
        values[name], preimages[name] = sorted(found), found
    used = _combinations(component.names, values, scale, link)
    component.projections = {
        name: SizeSet(1, frozenset(), 1, tuple(sorted(x for value in used[name] for x in preimages[name][value])))
        for name in component.names}


def _combinations(names: list[str], values: dict[str, list[int]], scale: int,
                  link: ProductLink) -> dict[str, set[int]]:
    """Per name, the factor values that take part in some combination whose product the link admits."""
    highest = max(hi for _, hi in link.allowed if hi is not None)
    used: dict[str, set[int]] = {name: set() for name in names}
    count = 0

    def walk(index: int, product: int, chosen: list[int]) -> None:
        nonlocal count
        if index == len(names):
            if link.admits(product):
                for name, value in zip(names, chosen):
                    used[name].add(value)
            return
        for value in values[names[index]]:
            if product * value > highest:
                break
            count += 1
            if count > MAX_COMBINATIONS:
                raise Unsupported(f"{', '.join(names)}: too many combinations of sizes for {link.form}")
            walk(index + 1, product * value, [*chosen, value])

    walk(0, scale, [])
    return used


def _solve_equality(component: Component, max_sizes: int) -> None:
    """The projections of two names required equal through ``f(a) = g(b)`` (one or more such links)."""
    a, b = component.names
    pairs = [(link.left, link.right) if names_of(link.left) == {a} else (link.right, link.left)
             for link in component.equalities]
    component.projections = {
        a: _equality_projection(a, [f for f, _ in pairs], component.factors[a], b, [g for _, g in pairs],
                                component.factors[b], max_sizes),
        b: _equality_projection(b, [g for _, g in pairs], component.factors[b], a, [f for f, _ in pairs],
                                component.factors[a], max_sizes)}


def _equality_projection(x_name: str, x_forms: list[Expr], x_valid: SizeSet, y_name: str, y_forms: list[Expr],
                         y_valid: SizeSet, max_sizes: int) -> SizeSet:
    """The ``x`` in ``x_valid`` with some ``y`` in ``y_valid`` where every ``x_forms[j](x) = y_forms[j](y)``."""
    if x_valid.empty or y_valid.empty:
        return SizeSet(1, frozenset(), 1)
    x_shifts = [_growing(form, x_name) for form in x_forms]
    y_shifts = [_growing(form, y_name) for form in y_forms]
    x_period = lcm(x_valid.period, *(p for p, _ in x_shifts))
    y_period = lcm(y_valid.period, *(p for p, _ in y_shifts))
    alphas = [x_period * q // p for p, q in x_shifts]  # how far each x form moves per x_period
    betas = [y_period * q // p for p, q in y_shifts]
    if any(alpha * betas[0] != beta * alphas[0] for alpha, beta in zip(alphas, betas)):
        raise Unsupported(f"{x_name}, {y_name}: merged sizes that grow at different rates")
    common = gcd(alphas[0], betas[0])
    x_step, y_step = x_period * betas[0] // common, y_period * alphas[0] // common
    y_start = max(y_valid.start, max(y_valid.extra, default=0) + 1)
    highest_early = max(y_forms[0].evaluate({y_name: y}) for y in range(1 - y_step, y_start + 1))
    memo: dict = {}
    x_threshold = max(x_valid.start, max(x_valid.extra, default=0) + 1,
                      _below(x_forms[0], x_name, highest_early, memo))
    size = x_threshold + x_step
    if size > max_sizes:
        raise Unsupported(f"{x_name}: the merge with {y_name} repeats only after {size} sizes; too many to check")
    x_columns = [table(form, x_name, size, memo.setdefault("x", {})) for form in x_forms]
    y_bound = _below(y_forms[0], y_name, max(x_columns[0][1:size]), memo)
    if y_bound > max_sizes:
        raise Unsupported(f"{y_name}: the merge with {x_name} needs {y_bound} sizes to be checked")
    y_columns = [table(form, y_name, y_bound, memo.setdefault("y", {})) for form in y_forms]
    by_value: dict[int, list[int]] = {}
    for y in range(1, y_bound):
        if y in y_valid:
            by_value.setdefault(y_columns[0][y], []).append(y)
    verdicts = bytearray(size)
    for x in range(1, size):
        if x in x_valid and any(all(x_column[x] == y_column[y] for x_column, y_column in zip(x_columns, y_columns))
                                for y in by_value.get(x_columns[0][x], ())):
            verdicts[x] = 1
    return _reduce(bytes(verdicts), x_step, x_threshold)


# --- tuples and the closest sizes ------------------------------------------------------------------------------------


def _tuples(component: Component, upto: int) -> tuple[list[tuple[int, ...]], bool]:
    names = component.names
    lists = {name: component.projections[name].values(upto) for name in names}
    if component.why_not is not None or not (component.products or component.equalities):
        found = list(itertools.islice(itertools.product(*(lists[name] for name in names)), MAX_TUPLES + 1))
        return found[:MAX_TUPLES], len(found) > MAX_TUPLES
    memo: dict = {}
    if component.equalities:
        a, b = names
        checks = [(link.left, link.right) if names_of(link.left) == {a} else (link.right, link.left)
                  for link in component.equalities]
        pairs = [(table(f, a, upto + 1, memo.setdefault("a", {})), table(g, b, upto + 1, memo.setdefault("b", {})))
                 for f, g in checks]
        by_value: dict[int, list[int]] = {}
        for y in lists[b]:
            by_value.setdefault(pairs[0][1][y], []).append(y)
        found = [(x, y) for x in lists[a] for y in by_value.get(pairs[0][0][x], ())
                 if all(f[x] == g[y] for f, g in pairs)]
        return found[:MAX_TUPLES], len(found) > MAX_TUPLES
    [link] = component.products
    scale, forms = _factor_forms(link)
    columns = {name: table(forms[name], name, upto + 1, memo.setdefault(name, {})) for name in names}
    last = names[-1]
    ordered = sorted((columns[last][x], x) for x in lists[last])
    keys = [value for value, _ in ordered]
    found = []
    for head in itertools.product(*(lists[name] for name in names[:-1])):
        partial = scale * prod(columns[name][x] for name, x in zip(names, head))
        for lo, hi in link.allowed:  # the last factor must lie in [lo/partial, hi/partial]
            start = bisect_left(keys, -(-lo // partial))
            end = len(keys) if hi is None else bisect_right(keys, hi // partial)
            found += [(*head, x) for value, x in ordered[start:end] if link.admits(partial * value)]
        if len(found) > MAX_TUPLES:
            break
    return sorted(found)[:MAX_TUPLES], len(found) > MAX_TUPLES


def _closest_product(component: Component, link: ProductLink, max_sizes: int) -> None:
    """``component.closest``: the sizes whose product comes nearest to an allowed value, one on each side
    (each name in its own valid set)."""
    scale, forms = _factor_forms(link)
    targets = [lo for lo, _ in link.allowed] + [hi for _, hi in link.allowed if hi is not None]
    if not targets or any(component.factors[name].empty for name in component.names):
        return
    most = 2 * max(targets)
    memo: dict = {}
    firsts: dict[str, dict[int, int]] = {}
    for name, form in forms.items():
        bound = min(_below(form, name, most // max(1, scale), memo), max_sizes)
        column = table(form, name, bound, memo.setdefault(name, {}))
        firsts[name] = {}
        for x in range(1, bound):
            if x in component.factors[name] and column[x] >= 1:
                firsts[name].setdefault(column[x], x)
    best: list = []
    names = component.names
    for chosen in itertools.islice(itertools.product(*(sorted(firsts[name]) for name in names)), MAX_COMBINATIONS):
        value = scale * prod(chosen)
        distance = min(abs(value - target) for target in targets)
        best.append((distance, value, tuple(firsts[name][v] for name, v in zip(names, chosen))))
    best.sort()
    nearest = [next((item for item in best if item[1] < targets[0]), None),
               next((item for item in best if item[1] > targets[0]), None)]
    found = sorted(item for item in nearest if item is not None)
    if found:
        component.closest = " or ".join(f"{', '.join(f'{n} = {x}' for n, x in zip(names, sizes))} "
                                        f"({link.form} = {value})" for _, value, sizes in found)
        component.closest_sizes = dict(zip(names, found[0][2]))


def _closest_equality(component: Component, upto: int) -> None:
    """``component.closest``: the sizes up to ``upto`` (each in its own valid set) where the two sides of
    the first equality come nearest."""
    a, b = component.names
    link = component.equalities[0]
    left, right = (link.left, link.right) if names_of(link.left) == {a} else (link.right, link.left)
    xs, ys = component.factors[a].values(upto), component.factors[b].values(upto)
    if not xs or not ys:
        return
    lefts = table(left, a, upto + 1, {})
    rights = sorted((value, y) for y, value in zip(range(upto + 1), table(right, b, upto + 1, {})) if y in ys)
    keys = [value for value, _ in rights]
    best = None
    for x in xs:
        index = bisect_left(keys, lefts[x])
        for value, y in rights[max(0, index - 1):index + 1]:
            candidate = (abs(value - lefts[x]), x, y)
            best = candidate if best is None or candidate < best else best
    if best is not None:
        _, x, y = best
        component.closest = f"{a} = {x}, {b} = {y} ({left} = {lefts[x]}, {right} = {substitute(right, {b: y})})"
        component.closest_sizes = {a: x, b: y}


# --- the whole problem ------------------------------------------------------------------------------------------------


def _solve_links(problem: SizeProblem, base: Propagation, component: Component, held: dict[str, int],
                 max_sizes: int) -> None:
    """The projections of one component whose names are solved jointly (and the closest sizes when none)."""
    if component.products:
        [link] = component.products
        _allowed(problem, base, link, held)
        if link.allowed == [(1, None)]:  # every product is allowed: the names are apart after all
            component.products = []
            component.projections = dict(component.factors)
            return
        _solve_product(component, link, max_sizes)
        if component.empty and link.allowed:
            _closest_product(component, link, max_sizes)
    elif component.equalities:
        _solve_equality(component, max_sizes)
        if component.empty:
            _closest_equality(component, CLOSEST_UPTO)
    else:
        component.projections = dict(component.factors)


def _nothing_valid(held: dict[str, int], own: dict[str, Solution], components: list[Component],
                   never: list[str], nowhere: Layer | None = None) -> JointSolution:
    """The solution when the names ``never`` have no valid value, or the layer ``nowhere`` passes at no
    sizes at all: then no name has one."""
    for solution in own.values():
        solution.valid = SizeSet(1, frozenset(), 1)
    for component in components:
        component.projections = {name: own[name].valid for name in component.names}
    return JointSolution(held, list(own.values()), components, never, nowhere)


def solve_joint(problem: SizeProblem, max_sizes: int = MAX_SIZES) -> JointSolution:
    """Every name's valid values (for some values of the others) and the components' joint description."""
    base = problem.propagation({}, unify=problem.names)
    components, products = _components(problem, base)
    factors = _Factors(problem, base, frozenset(products), max_sizes)
    held = _reference(problem, factors)
    own = {name: factors.solve(name, held) for name in problem.names}
    good = {name: held[name] in own[name].valid for name in problem.names}
    if not all(good.values()):  # some layer may fail for the values held: per layer, values where it passes
        try:
            own = {name: factors.solve(name, held, witnesses=True) for name in problem.names}
        except _Never as apart:
            if apart.together:
                return _nothing_valid(held, own, components, [], apart.record.layer)
            for name in apart.names:
                own[name].closest = _pair_closest(apart.record, name)
            return _nothing_valid(held, own, components, apart.names)
        good = {name: True for name in problem.names}
    never = [name for name, solution in own.items() if solution.valid.empty
             and (all(good[other] for other in problem.names if other != name) or _never(base, name, solution))]
    never += [name for name in _always_apart(base, own.values()) if name not in never]
    if never:
        return _nothing_valid(held, own, components, never)
    if any(solution.valid.empty for solution in own.values()):
        raise Unsupported(f"{', '.join(name for name in problem.names if own[name].valid.empty)}: no sizes were "
                          f"found at which the other sizes pass their own conditions")
    solutions: dict[str, Solution] = {}
    fallback = None
    for component in components:
        if component.why_not is not None:
            if fallback is None:
                fallback = reference_values(problem, max_sizes)
            for name in component.names:
                solutions[name] = solve(problem, name, fallback, max_sizes)
                component.projections[name] = component.factors[name] = solutions[name].valid
            continue
        for name in component.names:
            solutions[name] = own[name]
            component.factors[name] = own[name].valid
        try:
            _solve_links(problem, base, component, held, max_sizes)
        except Unsupported as error:  # at the layer the link comes from
            if error.layer is not None:
                raise
            links = [*(layer for link in component.products for layer in link.layers),
                     *(link.layer for link in component.equalities)]
            raise Unsupported(str(error), links[-1] if links else None) from None
        for name in component.names:
            solutions[name].valid = component.projections[name]
    return JointSolution(held, [solutions[name] for name in problem.names], components)



def solve_all(problem: SizeProblem, max_sizes: int = MAX_SIZES) -> tuple[dict[str, int], list[Solution]]:
    """The values held for examples and every name's :class:`~convlint.sizes.solver.Solution` (see
    :func:`solve_joint`)."""
    joint = solve_joint(problem, max_sizes)
    return joint.held, joint.solutions
