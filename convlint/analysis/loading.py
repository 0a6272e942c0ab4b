"""From a path or YAML text to a :class:`~convlint.spec.model.Spec` with its graph built, and its analysis.

These are the steps every command starts with; :mod:`convlint.api` exposes them to Python users.
"""
from __future__ import annotations

from pathlib import Path

from convlint.analysis.graph import wire
from convlint.analysis.infer import Analysis, analyze
from convlint.layers.registry import Registry
from convlint.spec.files import read_text
from convlint.spec.model import Spec, parse_spec


def load_spec(path: str | Path) -> Spec:
    """Read and parse the spec at ``path`` and build its graph (``spec.graph``).

    Raises :class:`convlint.spec.model.NotASpec` for YAML without a top-level ``layers`` key and
    :class:`convlint.spec.files.UnreadableFile` for a missing, binary or non-UTF-8 file.
    Problems inside the spec are not raised: they are in ``spec.findings`` and the lint findings.
    """
    path = Path(path)
    return load_spec_text(read_text(path), str(path))


def load_spec_text(text: str, path: str = "<string>") -> Spec:
    """Parse spec ``text`` (``path`` is used in findings) and build its graph."""
    spec = parse_spec(text, path)
    wire(spec)
    return spec


def as_spec(spec: Spec | str | Path) -> Spec:
    """``spec`` itself, or the spec loaded from the path ``spec``."""
    return spec if isinstance(spec, Spec) else load_spec(spec)


def analyze_numeric(spec: Spec, registry: Registry) -> Analysis:
    """The analysis of a spec whose input sizes are all numbers.

    Raises ``ValueError`` for a spec with named sizes (their analysis is the size solver's, :mod:`convlint.sizes`).
    """
    if spec.size_names:
        raise ValueError(f"{spec.path} has named input sizes ({', '.join(spec.size_names)}); "
                         f"give numbers to analyze it")
    return analyze(spec, registry)
