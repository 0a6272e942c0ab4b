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


def suggest(name: str, known) -> str:
    """`` (did you mean `x`?)`` for the closest known name, or an empty string.

    Only names of at most :data:`MAX_NAME_LENGTH` characters whose lengths could reach the cutoff
    (ratio ≤ 2·min/(sum of lengths)) are compared.
    """
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        return ""
    size = len(name)
    candidates = [item for item in known if isinstance(item, str) and len(item) <= MAX_NAME_LENGTH
                  and 2 * min(size, len(item)) >= CUTOFF * (size + len(item))]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=CUTOFF)
    return f" (did you mean `{close[0]}`?)" if close else ""


class Suggestions:
    """:func:`suggest` within a budget of :data:`MAX_COMPARISONS` name comparisons per spec.

    Each suggestion compares the name with every known one, so a spec with
    thousands of wrong names would take quadratic time without this budget;
    once it is spent, findings come without a suggestion.
    """

    MAX_COMPARISONS = 20_000

    def __init__(self):
        self.left = self.MAX_COMPARISONS

    def __call__(self, name: str, known) -> str:
        if len(known) > self.left:
            return ""
        self.left -= len(known)
        return suggest(name, known)
