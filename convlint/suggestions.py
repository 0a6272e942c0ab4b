""""Did you mean" suggestions for misspelled names, with bounded work.

Each suggestion compares one name with every known one (difflib's ratio, quadratic in the names'
lengths), so both the names compared and the number of comparisons per spec are capped: names longer
than :data:`MAX_NAME_LENGTH` are never compared, and :class:`Suggestions` stops suggesting once
:data:`Suggestions.MAX_COMPARISONS` comparisons are spent.
"""
from __future__ import annotations

import difflib

MAX_NAME_LENGTH = 100
"""Longest name a suggestion is looked for, or offered (real layer, keyword and parameter names are short)."""

CUTOFF = 0.6
"""Least similarity (difflib's ratio) of a suggested name."""


def closest(name: str, known) -> str | None:
    """The known name closest to ``name``, compared ignoring case (``Relu`` → ``ReLU``), or ``None``.

    Only names of at most :data:`MAX_NAME_LENGTH` characters whose lengths could reach the cutoff
    (ratio ≤ 2·min/(sum of lengths)) are compared.
    """
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        return None
    by_lower: dict[str, str] = {}
    for choice in known:
        if isinstance(choice, str) and len(choice) <= MAX_NAME_LENGTH:
            by_lower.setdefault(choice.lower(), choice)
    lowered, size = name.lower(), len(name)
    if lowered in by_lower:
        return by_lower[lowered]
    candidates = [item for item in by_lower if 2 * min(size, len(item)) >= CUTOFF * (size + len(item))]
    close = difflib.get_close_matches(lowered, candidates, n=1, cutoff=CUTOFF)
    return by_lower[close[0]] if close else None


def suggest(name: str, known) -> str:
    """`` (did you mean `x`?)`` for :func:`closest`, or an empty string."""
    found = closest(name, known)
    return f" (did you mean `{found}`?)" if found is not None else ""


class Suggestions:
    """:func:`closest` within a budget of :data:`MAX_COMPARISONS` name comparisons per spec.

    Each suggestion compares the name with every known one, so a spec with
    thousands of wrong names would take quadratic time without this budget;
    once it is spent, findings come without a suggestion.  A question asked
    again (the same misspelling among the same names, as in a spec that repeats
    one layer) is charged to the budget again, so which findings get a
    suggestion does not change, but is answered from memory.
    """

    MAX_COMPARISONS = 20_000

    def __init__(self):
        self.left = self.MAX_COMPARISONS
        self._answers: dict[tuple[str, tuple], str | None] = {}

    def closest(self, name: str, known) -> str | None:
        """:func:`closest`, or ``None`` once the budget is spent."""
        if len(known) > self.left:
            return None
        self.left -= len(known)
        if not isinstance(name, str):
            return closest(name, known)
        question = (name, tuple(known))
        if question not in self._answers:
            self._answers[question] = closest(name, known)
        return self._answers[question]

    def __call__(self, name: str, known) -> str:
        """`` (did you mean `x`?)`` for the closest known name, or an empty string."""
        found = self.closest(name, known)
        return f" (did you mean `{found}`?)" if found is not None else ""
