"""Matching file paths against the glob patterns of the configuration (``include``, ``exclude``,
``per-file-ignores``), the way ``.gitignore`` reads them (through the ``pathspec`` library).

A pattern without ``/`` matches a file name anywhere (``*.yaml``, ``scratch_*.yml``); a pattern
with ``/`` matches the path relative to the project root (``specs/**/*.yaml``).  ``*`` and ``?``
stay inside one path segment, ``**`` spans any number of segments, and a pattern naming a
directory (``legacy`` or ``legacy/``) matches every file below it.

Patterns are translated to regular expressions, whose backtracking grows with the power of the
number of wildcards; :func:`check_pattern` refuses patterns with more than :data:`MAX_WILDCARDS`
wildcard runs (of which at most :data:`MAX_DOUBLE_STARS` ``**``), which keeps every match well
under a millisecond per path.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path, PurePosixPath

import pathspec

MAX_WILDCARDS = 3
"""Most runs of ``*`` (``*`` or ``**``) in one pattern."""

MAX_DOUBLE_STARS = 2
"""Most ``**`` in one pattern."""

_STARS = re.compile(r"\*+")


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is refused (too many wildcards to match in bounded time), or ``None``."""
    runs = _STARS.findall(pattern)
    doubles = sum(1 for run in runs if len(run) > 1)
    if len(runs) > MAX_WILDCARDS or doubles > MAX_DOUBLE_STARS:
        return (f"glob {pattern[:60]!r} has {len(runs)} wildcards ({doubles} of them `**`); at most "
                f"{MAX_WILDCARDS} ({MAX_DOUBLE_STARS} `**`) keep matching fast")
    return None


@lru_cache(maxsize=256)
def _compile(pattern: str) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def relative_posix(path: str | Path, root: Path) -> str:
    """``path`` relative to ``root`` in ``/`` form, or as given when it lies outside ``root``."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return PurePosixPath(Path(path).as_posix()).as_posix()


def matches(pattern: str, relative: str) -> bool:
    """True when ``relative`` (a ``/``-separated path below the project root) matches ``pattern``
    (checked with :func:`check_pattern` when the configuration was read)."""
    return _compile(pattern).match_file(relative)


def matches_any(patterns, relative: str) -> bool:
    """True when any of ``patterns`` matches ``relative``."""
    return any(matches(pattern, relative) for pattern in patterns)
