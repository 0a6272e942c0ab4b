"""Suggestions for a misspelled name: the closest known one, compared case-insensitively."""
from __future__ import annotations

import difflib


def closest(name: str, known) -> str | None:
    """The known name closest to ``name`` ignoring case (``Relu`` → ``ReLU``), or ``None``."""
    by_lower: dict[str, str] = {}
    for choice in known:
        by_lower.setdefault(str(choice).lower(), str(choice))
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def did_you_mean(name: str, known) -> str:
    """`` (did you mean `x`?)`` for the closest known name, or an empty string."""
    found = closest(name, known)
    return f" (did you mean `{found}`?)" if found is not None else ""
