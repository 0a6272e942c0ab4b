"""Exact symbolic sizes: integer affine forms in named sizes, with floor divisions.

An :class:`Expr` is ``const + Σ coef·atom`` where an atom is an input-size
name (``"H"``) or ``⌊e/d⌋`` for an :class:`Expr` ``e`` and an integer
``d ≥ 2``.  These "quasi-affine" forms are closed under what the size
arithmetic of :mod:`convlint.analysis.arithmetic` does with a size: adding and
subtracting integers, multiplying by integers and floor division by a
positive integer (ceil division is ``-(-e // d)``).  So the very functions
that compute concrete sizes (``WindowAxis.out``, ``transposed_out``)
compute symbolic ones when handed an ``Expr``.

Forms are kept canonical, so that equal functions usually print alike and
compare equal: inside a floor every coefficient lies in ``1..d−1`` and the
constant in ``0..d−1`` (integer parts are pulled out), common factors are
cancelled, and a floor of a floor collapses (``⌊(⌊a/m⌋ + k)/d⌋ =
⌊(a + k·m)/(m·d)⌋``).  Printing uses ``⌈e/d⌉`` where that reads shorter:
``⌊(H + 1)/2⌋`` prints as ``⌈H/2⌉``.

:func:`period_and_shift` gives, for a form in one name ``x``, a period
``P`` and shift ``Q`` with ``e(x + P) = e(x) + Q`` for every integer ``x``,
the fact the input-size solver (:mod:`convlint.sizes.solver`) rests on.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from math import gcd, lcm
from typing import Mapping, Sequence, Union

Atom = Union[str, "Floor"]


@dataclass(frozen=True)
class Floor:
    """The atom ``⌊num/den⌋`` (``den ≥ 2``), in canonical form (see the module docstring)."""

    num: "Expr"
    den: int

    @cached_property
    def key(self) -> tuple:
        """Where the atom sorts among the terms of a form (computed once)."""
        return 1, str(self.num), self.den


def _atom_key(atom: Atom) -> tuple:
    return (0, atom) if isinstance(atom, str) else atom.key


class Expr:
    """``const + Σ coef·atom``, an exact integer-valued function of named sizes.

    Supports ``+``, ``-`` (with ints and other forms), ``*`` by an int, ``//``
    by a positive int, unary minus, and :meth:`evaluate`.
    """

    __slots__ = ("terms", "const", "_hash")

    def __init__(self, terms: Mapping[Atom, int] | tuple = (), const: int = 0):
        items = terms if isinstance(terms, tuple) else terms.items()  # (atom, coef) pairs or a Mapping
        self.terms: tuple[tuple[Atom, int], ...] = tuple(
            sorted(((atom, coef) for atom, coef in items if coef), key=lambda item: _atom_key(item[0])))
        self.const = const
        self._hash = None

    @staticmethod
    def symbol(name: str) -> "Expr":
        """The size called ``name``."""
        return Expr({name: 1})

    @property
    def is_constant(self) -> bool:
        """True when the form has no atom (it is the integer ``const``)."""
        return not self.terms

    # arithmetic -----------------------------------------------------------
    def _combine(self, other: "Expr | int", sign: int) -> "Expr":
        if isinstance(other, int):
            return Expr(self.terms, self.const + sign * other)
        if not isinstance(other, Expr):
            return NotImplemented
        merged = dict(self.terms)
        for atom, coef in other.terms:
            merged[atom] = merged.get(atom, 0) + sign * coef
        return Expr(merged, self.const + sign * other.const)

    def __add__(self, other):
        return self._combine(other, 1)

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, -1)

    def __rsub__(self, other):
        return (-self)._combine(other, 1)

    def __neg__(self):
        return self * -1

    def __mul__(self, factor):
        if not isinstance(factor, int):
            return NotImplemented
        return Expr(tuple((atom, coef * factor) for atom, coef in self.terms), self.const * factor)

    __rmul__ = __mul__

    def __floordiv__(self, divisor):
        if not isinstance(divisor, int):
            return NotImplemented
        return floor_div(self, divisor)

    def __eq__(self, other):
        if isinstance(other, int):
            return self.is_constant and self.const == other
        return isinstance(other, Expr) and self.terms == other.terms and self.const == other.const

    def __hash__(self):
        if self._hash is None:
            self._hash = hash((self.terms, self.const))
        return self._hash

    # evaluation -------------------------------------------------------------
    def evaluate(self, values: Mapping[str, int]) -> int:
        """The integer value for the sizes ``values`` (every name must be given)."""
        total = self.const
        for atom, coef in self.terms:
            total += coef * (values[atom] if isinstance(atom, str) else atom.num.evaluate(values) // atom.den)
        return total

    # printing ----------------------------------------------------------------
    def __str__(self) -> str:
        parts: list[tuple[int, str]] = []
        for atom, coef in self.terms:
            text = atom if isinstance(atom, str) else _show_floor(atom)
            parts.append((coef, text if abs(coef) == 1 else f"{abs(coef)}·{text}"))
        if self.const or not parts:
            parts.append((self.const, str(abs(self.const))))
        first_sign, first = parts[0]
        text = ("−" if first_sign < 0 else "") + first
        for sign, part in parts[1:]:
            text += f" {'−' if sign < 0 else '+'} {part}"
        return text

    def __repr__(self) -> str:
        return f"Expr({str(self)!r})"


def _show_floor(atom: Floor) -> str:
    """``⌊(H + 1)/4⌋``, or the equal ``⌈(H − 2)/4⌉`` when its constant is smaller."""
    inner, k, d = atom.num - atom.num.const, atom.num.const, atom.den
    ceil_k = k - (d - 1)
    bracket = ("⌈", "⌉") if abs(ceil_k) < abs(k) else ("⌊", "⌋")
    body = inner + (ceil_k if bracket[0] == "⌈" else k)
    text = str(body)
    if len(body.terms) + (1 if body.const else 0) > 1 or (body.terms and abs(body.terms[0][1]) != 1):
        text = f"({text})"
    return f"{bracket[0]}{text}/{d}{bracket[1]}"


def floor_div(expr: Expr, divisor: int) -> Expr:
    """``⌊expr/divisor⌋`` in canonical form (``divisor ≥ 1``)."""
    if divisor < 1:
        raise ValueError(f"floor division by {divisor}")
    if divisor == 1:
        return expr
    if expr.is_constant:
        return Expr((), expr.const // divisor)
    if expr.terms[0][1] < 0:  # ⌊e/d⌋ = −⌊(−e + d − 1)/d⌋: keep the leading coefficient positive
        return -floor_div(-expr + (divisor - 1), divisor)
    whole: dict[Atom, int] = {}
    rest: dict[Atom, int] = {}
    for atom, coef in expr.terms:
        whole[atom], rest[atom] = divmod(coef, divisor)
    whole_const, rest_const = divmod(expr.const, divisor)
    integral = Expr(whole, whole_const)
    remainder = Expr(rest)
    if remainder.is_constant:
        return integral
    common = gcd(divisor, *(coef for _, coef in remainder.terms))
    if common > 1:  # ⌊(g·u + k)/(g·d)⌋ = ⌊(u + ⌊k/g⌋)/d⌋
        reduced = Expr(tuple((atom, coef // common) for atom, coef in remainder.terms), rest_const // common)
        return integral + floor_div(reduced, divisor // common)
    if len(remainder.terms) == 1 and remainder.terms[0][1] == 1 and isinstance(remainder.terms[0][0], Floor):
        inner = remainder.terms[0][0]  # ⌊(⌊a/m⌋ + k)/d⌋ = ⌊(a + k·m)/(m·d)⌋
        return integral + floor_div(inner.num + rest_const * inner.den, inner.den * divisor)
    return integral + Expr({Floor(remainder + rest_const, divisor): 1})


def scaled_floor(expr: Expr, numerator: int, denominator: int) -> Expr:
    """``⌊expr·numerator/denominator⌋`` (an upsampling by a rational factor)."""
    return floor_div(expr * numerator, denominator)


def period_and_shift(expr: Expr, name: str) -> tuple[int, int]:
    """``(P, Q)`` with ``expr(x + P) = expr(x) + Q`` for every integer ``x``.

    ``expr`` may depend on ``name`` only.  ``P`` is the product of the
    divisors needed so that every floor's numerator moves by a multiple of its
    divisor; ``Q/P`` is the form's growth rate.
    """
    period, shifts = 1, []
    for atom, coef in expr.terms:
        if isinstance(atom, str):
            if atom != name:
                raise ValueError(f"{expr} depends on {atom}, not only on {name}")
            atom_period, atom_shift = 1, 1
        else:
            inner_period, inner_shift = period_and_shift(atom.num, name)
            steps = atom.den // gcd(inner_shift, atom.den)
            atom_period, atom_shift = inner_period * steps, inner_shift * steps // atom.den
        shifts.append((coef, atom_period, atom_shift))
        period = lcm(period, atom_period)
    return period, sum(coef * shift * (period // atom_period) for coef, atom_period, shift in shifts)


def table(form: "Expr | Product", name: str, count: int, cache: dict) -> list[int]:
    """``[form(0), form(1), …, form(count − 1)]`` for a form in the one name ``name``.

    ``cache`` maps forms to tables already computed (shared sub-forms are computed
    once); floors are evaluated on whole tables, so a table costs a few list passes.
    """
    known = cache.get(form)
    if known is not None and len(known) >= count:
        return known
    if isinstance(form, Product):
        values = [1] * count
        for factor in form.factors:
            if isinstance(factor, int):
                values = [value * factor for value in values]
            else:
                values = [value * other for value, other in zip(values, table(factor, name, count, cache))]
    else:
        values = [form.const] * count
        for atom, coef in form.terms:
            if isinstance(atom, str):
                if atom != name:
                    raise ValueError(f"{form} depends on {atom}, not only on {name}")
                column: Sequence[int] = range(count)
            else:
                column = [value // atom.den for value in table(atom.num, name, count, cache)]
            values = [value + coef * item for value, item in zip(values, column)]
    cache[form] = values
    return values


class NotAffine(TypeError):
    """Arithmetic on a :class:`Product` other than comparing it: the result is no quasi-affine form."""


class Product:
    """A product of several non-constant sizes (what Flatten makes of ``H × W``).

    Not affine, so the solver only lets it be compared with constants (other
    arithmetic raises :class:`NotAffine`); it prints as ``16·⌊H/4⌋·⌊W/4⌋`` and
    evaluates like an :class:`Expr`.
    """

    def __init__(self, factors: tuple):
        self.factors = factors

    def _not_affine(self, *_):
        raise NotAffine(f"the flattened size {self} is a product of sizes, and arithmetic on it is not affine")

    __add__ = __radd__ = __sub__ = __rsub__ = __floordiv__ = __neg__ = _not_affine

    def evaluate(self, values: Mapping[str, int]) -> int:
        """The integer value for the sizes ``values``."""
        total = 1
        for factor in self.factors:
            total *= factor if isinstance(factor, int) else factor.evaluate(values)
        return total

    def __str__(self) -> str:
        shown = [str(f) if isinstance(f, int) or f.is_constant or len(f.terms) + bool(f.const) == 1
                 else f"({f})" for f in self.factors]
        return "·".join(shown)


def multiply(factors: list) -> "int | Expr | Product":
    """The product of ints and forms: an int, an :class:`Expr` (one varying factor), or a :class:`Product`."""
    constant, varying = 1, []
    pending = list(factors)
    while pending:
        factor = pending.pop(0)
        if isinstance(factor, Product):
            pending.extend(factor.factors)
            continue
        if isinstance(factor, Expr) and factor.is_constant:
            factor = factor.const
        if isinstance(factor, int):
            constant *= factor
        else:
            varying.append(factor)
    if not varying or constant == 0:  # a factor of 0 makes the product 0 at every size
        return constant
    if len(varying) == 1:
        return varying[0] * constant
    return Product(((constant,) if constant != 1 else ()) + tuple(varying))


def names_of(form) -> frozenset[str]:
    """The size names an int, :class:`Expr` or :class:`Product` depends on."""
    if isinstance(form, Product):
        return frozenset().union(*(names_of(factor) for factor in form.factors))
    if not isinstance(form, Expr):
        return frozenset()
    found: set[str] = set()
    for atom, _ in form.terms:
        found |= {atom} if isinstance(atom, str) else names_of(atom.num)
    return frozenset(found)


def substitute(form, values: Mapping[str, "int | Expr"]):
    """``form`` with each name in ``values`` replaced by its int or form (a constant form becomes an int)."""
    if isinstance(form, Product):
        return multiply([substitute(factor, values) for factor in form.factors])
    if not isinstance(form, Expr):
        return form
    total: "Expr | int" = Expr((), form.const)
    for atom, coef in form.terms:
        if isinstance(atom, str):
            part = values.get(atom, Expr.symbol(atom))
        else:
            inner = substitute(atom.num, values)
            part = inner // atom.den if isinstance(inner, int) else floor_div(inner, atom.den)
        total = total + coef * part
    return total.const if isinstance(total, Expr) and total.is_constant else total
