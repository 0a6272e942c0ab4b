"""Keyword-argument kinds: how a layer type declares, checks and defaults its keywords.

A layer type maps each keyword name to one of these objects.  ``convert``
turns a YAML value into the value the layer's arithmetic uses (a tuple per
spatial axis for ``IntTuple``), or raises :class:`KeywordError` with a
message that says what was expected.  ``json_schema`` describes the same
rule for editors.
"""
from __future__ import annotations

import reprlib
from typing import Any

REQUIRED = object()
"""Default of a keyword that must be given."""

MAX_INT = 2**63 - 1
"""Largest integer PyTorch takes for a size or keyword (int64); larger values are findings."""

class _ShortRepr(reprlib.Repr):
    """``reprlib.Repr`` that also bounds the work on huge integers (Python refuses to print more than
    4300 digits, and printing fewer is still quadratic in their length)."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 256:
            return f"{'-' if x < 0 else ''}an integer of about {round(abs(x).bit_length() * 0.30103):,} digits"
        return super().repr_int(x, level)


_short = _ShortRepr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlist = 6
_short.maxlevel = 2


def show(value: Any) -> str:
    """A short, bounded rendering of a YAML value for messages."""
    return _short.repr(value)


class KeywordError(ValueError):
    """A keyword value PyTorch would not accept; the message says what is expected."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(value: int) -> None:
    """Raise :class:`KeywordError` for an integer outside PyTorch's int64 range."""
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise KeywordError(f"expected an integer that fits in 64 bits, got {show(value)}")


class Keyword:
    """Base of all keyword kinds: a default and a one-line description."""

    kind = "value"

    def __init__(self, default: Any = REQUIRED, doc: str = ""):
        self.default = default
        self.doc = doc

    @property
    def required(self) -> bool:
        """True when the keyword has no default."""
        return self.default is REQUIRED

    def convert(self, value: Any, ndim: int) -> Any:
        """Check ``value`` and return it in the form the arithmetic uses.

        The result must depend only on ``value`` and ``ndim`` and must not be
        mutated by its users: one analysis converts each distinct value once
        and shares the result between layers (:mod:`convlint.analysis.keyword_cache`).
        """
        raise NotImplementedError

    def schema(self, ndim: int) -> dict:
        """JSON Schema (draft 2020-12) fragment for this keyword's YAML value."""
        raise NotImplementedError

    def json_schema(self, ndim: int) -> dict:
        """The schema fragment with the description and default filled in."""
        fragment = self.schema(ndim)
        if self.doc:
            fragment["description"] = self.doc
        if not self.required and self.default is not None and not isinstance(self.default, tuple):
            fragment["default"] = self.default
        return fragment


class Int(Keyword):
    """An integer with an optional lower bound."""

    kind = "int"

    def __init__(self, default: Any = REQUIRED, doc: str = "", minimum: int | None = None):
        super().__init__(default, doc)
        self.minimum = minimum

    def convert(self, value: Any, ndim: int) -> int:
        if not _is_int(value):
            raise KeywordError(f"expected an integer, got {show(value)}")
        _check_range(value)
        if self.minimum is not None and value < self.minimum:
            raise KeywordError(f"expected an integer ≥ {self.minimum}, got {value}")
        return value

    def schema(self, ndim: int) -> dict:
        schema: dict = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        return schema


class Float(Keyword):
    """A real number (an integer is accepted too)."""

    kind = "float"

    def __init__(self, default: Any = REQUIRED, doc: str = "", minimum: float | None = None,
                 maximum: float | None = None):
        super().__init__(default, doc)
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: Any, ndim: int) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise KeywordError(f"expected a number, got {show(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise KeywordError(f"expected a finite number, got {value}")
        if self.minimum is not None and value < self.minimum:
            raise KeywordError(f"expected a number ≥ {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise KeywordError(f"expected a number ≤ {self.maximum}, got {value}")
        return float(value)

    def schema(self, ndim: int) -> dict:
        schema: dict = {"type": "number"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


class Bool(Keyword):
    """``true`` or ``false``."""

    kind = "bool"

    def convert(self, value: Any, ndim: int) -> bool:
        if not isinstance(value, bool):
            raise KeywordError(f"expected true or false, got {show(value)}")
        return value

    def schema(self, ndim: int) -> dict:
        return {"type": "boolean"}


class Choice(Keyword):
    """One of a fixed set of strings."""

    kind = "choice"

    def __init__(self, choices: tuple[str, ...], default: Any = REQUIRED, doc: str = ""):
        super().__init__(default, doc)
        self.choices = choices

    def convert(self, value: Any, ndim: int) -> str:
        if value not in self.choices or not isinstance(value, str):
            raise KeywordError(f"expected one of {', '.join(map(repr, self.choices))}, got {show(value)}")
        return value

    def schema(self, ndim: int) -> dict:
        return {"enum": list(self.choices)}


class IntTuple(Keyword):
    """An int, or a list with one int per spatial axis; converted to a tuple of ``ndim`` ints."""

    kind = "ints"

    def __init__(self, default: Any = REQUIRED, doc: str = "", minimum: int = 0):
        super().__init__(default, doc)
        self.minimum = minimum

    def convert(self, value: Any, ndim: int) -> tuple[int, ...]:
        items = [value] * ndim if _is_int(value) else value
        if not isinstance(items, list) or not all(_is_int(item) for item in items):
            raise KeywordError(f"expected an integer or a list of {ndim} integers, got {show(value)}")
        if len(items) != ndim:
            raise KeywordError(f"expected {ndim} values (one per spatial axis), got {len(items)}")
        for item in items:
            _check_range(item)
        if any(item < self.minimum for item in items):
            raise KeywordError(f"expected integers ≥ {self.minimum}, got {show(value)}")
        return tuple(items)

    def schema(self, ndim: int) -> dict:
        item = {"type": "integer", "minimum": self.minimum}
        return {"oneOf": [item, {"type": "array", "items": item, "minItems": ndim, "maxItems": ndim}]}


class Padding(Keyword):
    """Conv padding: an int, a list per axis (as :class:`IntTuple`), or ``same`` / ``valid``."""

    kind = "padding"

    def __init__(self, default: Any = REQUIRED, doc: str = "", minimum: int = 0):
        super().__init__(default, doc)
        self.per_axis = IntTuple(minimum=minimum)

    def convert(self, value: Any, ndim: int) -> tuple[int, ...] | str:
        if value in ("same", "valid"):
            return value
        if isinstance(value, str):
            raise KeywordError(f"expected an integer, a list of {ndim} integers, 'same' or 'valid', got {show(value)}")
        return self.per_axis.convert(value, ndim)

    def schema(self, ndim: int) -> dict:
        schema = self.per_axis.schema(ndim)
        schema["oneOf"].append({"enum": ["same", "valid"]})
        return schema


class Optional(Keyword):
    """``null`` or a value of the wrapped kind; the default is ``null`` unless given."""

    def __init__(self, inner: Keyword, doc: str = "", default: Any = None):
        super().__init__(default, doc or inner.doc)
        self.inner = inner
        self.kind = f"optional {inner.kind}"

    def convert(self, value: Any, ndim: int) -> Any:
        return None if value is None else self.inner.convert(value, ndim)

    def schema(self, ndim: int) -> dict:
        return {"oneOf": [{"type": "null"}, self.inner.schema(ndim)]}


class SizeTuple(Keyword):
    """Adaptive-pool ``output_size``: an int, or a list per axis of ints (or ``null`` = keep the input size,
    where ``allow_none``)."""

    kind = "sizes"

    def __init__(self, default: Any = REQUIRED, doc: str = "", allow_none: bool = True):
        super().__init__(default, doc)
        self.allow_none = allow_none

    def convert(self, value: Any, ndim: int) -> tuple[int | None, ...]:
        items = [value] * ndim if _is_int(value) else value
        if not isinstance(items, list) or len(items) != ndim or not all(
            (item is None and self.allow_none) or (_is_int(item) and item >= 1) for item in items
        ):
            nulls = " or nulls" if self.allow_none else ""
            raise KeywordError(
                f"expected a positive integer or a list of {ndim} positive integers{nulls}, got {show(value)}"
            )
        for item in items:
            if item is not None:
                _check_range(item)
        return tuple(items)

    def schema(self, ndim: int) -> dict:
        item: dict = {"type": "integer", "minimum": 1}
        entry = {"oneOf": [item, {"type": "null"}]} if self.allow_none else item
        return {"oneOf": [item, {"type": "array", "items": entry, "minItems": ndim, "maxItems": ndim}]}


class FloatTuple(Keyword):
    """A positive number, or a list with one per spatial axis (Upsample's ``scale_factor``)."""

    kind = "floats"

    def convert(self, value: Any, ndim: int) -> tuple[float, ...]:
        items = value if isinstance(value, list) else [value] * ndim
        number = Float(minimum=0, maximum=MAX_INT)
        try:
            converted = tuple(number.convert(item, ndim) for item in items)
        except KeywordError:
            raise KeywordError(f"expected a positive number or a list of {ndim} numbers, got {show(value)}") from None
        if len(converted) != ndim or any(item <= 0 for item in converted):
            raise KeywordError(f"expected a positive number or a list of {ndim} positive numbers, got {show(value)}")
        return converted

    def schema(self, ndim: int) -> dict:
        item = {"type": "number", "exclusiveMinimum": 0}
        return {"oneOf": [item, {"type": "array", "items": item, "minItems": ndim, "maxItems": ndim}]}


class IntList(Keyword):
    """A list of integers of any length (``dims`` of Permute, ``shape`` of Reshape), or a single integer
    where ``scalar`` allows it; converted to a tuple."""

    kind = "int list"

    def __init__(self, default: Any = REQUIRED, doc: str = "", minimum: int | None = None, scalar: bool = False):
        super().__init__(default, doc)
        self.minimum = minimum
        self.scalar = scalar

    def convert(self, value: Any, ndim: int) -> tuple[int, ...]:
        items = [value] if self.scalar and _is_int(value) else value
        if not isinstance(items, list) or not items or not all(_is_int(item) for item in items):
            single = "an integer or " if self.scalar else ""
            raise KeywordError(f"expected {single}a non-empty list of integers, got {show(value)}")
        for item in items:
            _check_range(item)
        if self.minimum is not None and any(item < self.minimum for item in items):
            raise KeywordError(f"expected integers ≥ {self.minimum}, got {show(value)}")
        return tuple(items)

    def schema(self, ndim: int) -> dict:
        item: dict = {"type": "integer"}
        if self.minimum is not None:
            item["minimum"] = self.minimum
        listed = {"type": "array", "items": item, "minItems": 1}
        return {"oneOf": [item, listed]} if self.scalar else listed
