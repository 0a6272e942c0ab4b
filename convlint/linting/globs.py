"""Matching file paths against the glob patterns of the configuration (``include``, ``exclude``,
``per-file-ignores``), the way ``.gitignore`` and ruff read them.

A pattern without ``/`` matches a file name anywhere (``*.yaml``, ``scratch_*.yml``); a pattern
with ``/`` matches the path relative to the project root (``specs/**/*.yaml``).  ``*`` and ``?``
stay inside one path segment, ``**`` spans any number of segments, and a pattern naming a
directory (``legacy`` or ``legacy/``) matches every file below it.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path, PurePosixPath


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern:
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    regex, i = "", 0
    while i < len(body):
        if body.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif body.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif body[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif body[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(body[i]), i + 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{regex}(?:/.*)?")


def relative_posix(path: str | Path, root: Path) -> str:
    """``path`` relative to ``root`` in ``/`` form, or as given when it lies outside ``root``."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return PurePosixPath(Path(path).as_posix()).as_posix()


def matches(pattern: str, relative: str) -> bool:
    """True when ``relative`` (a ``/``-separated path below the project root) matches ``pattern``."""
    return _compile(pattern).fullmatch(relative) is not None


def matches_any(patterns, relative: str) -> bool:
    """True when any of ``patterns`` matches ``relative``."""
    return any(matches(pattern, relative) for pattern in patterns)
