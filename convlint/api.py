"""The Python API: load a spec, analyse it, lint it, summarise it."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .files import read_text
from .findings import Finding
from .graph import build_graph
from .infer import Analysis
from .infer import analyze as _analyze
from .plugins import Registry, load_registry
from .spec import Spec, parse_spec


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The layer types of every installed plugin (``convlint`` entry points), loaded once."""
    return load_registry()


def load(path: str | Path) -> Spec:
    """Read and parse the spec at ``path`` and build its graph (``spec.graph``).

    Raises :class:`convlint.spec.NotASpec` for YAML without a top-level ``layers`` key and
    :class:`convlint.files.UnreadableFile` for a missing, binary or non-UTF-8 file.
    Problems inside the spec are not raised: they are in ``spec.findings`` and :func:`lint`.
    """
    path = Path(path)
    spec = parse_spec(read_text(path), str(path))
    build_graph(spec)
    return spec


def _as_spec(spec: Spec | str | Path) -> Spec:
    return spec if isinstance(spec, Spec) else load(spec)


def analyze(spec: Spec | str | Path, registry: Registry | None = None) -> Analysis:
    """Infer every node's shape and parameter count; see :class:`convlint.infer.Analysis`."""
    return _analyze(_as_spec(spec), registry or default_registry())


def lint(spec: Spec | str | Path, registry: Registry | None = None) -> list[Finding]:
    """All findings for ``spec`` (rules that are off by default excluded), in source order."""
    registry = registry or default_registry()
    return _reported(analyze(spec, registry).findings, registry)


def _reported(findings: list[Finding], registry: Registry) -> list[Finding]:
    """The findings of enabled rules, sorted by position and code."""
    rules = registry.rules
    enabled = [finding for finding in findings if finding.code not in rules or rules[finding.code].default_enabled]
    return sorted(enabled, key=lambda finding: (finding.line, finding.column, finding.code))


def summarize(spec: Spec | str | Path, registry: Registry | None = None) -> dict:
    """The summary of ``spec`` as the JSON object of ``convlint summary --format json``.

    Keys: ``path``, ``name``, ``layers`` (each ``name``, ``type``, ``output_shape``
    (list of ints, or ``None`` when it cannot be computed) and ``params``),
    ``total_params`` and ``diagnostics`` (the lint findings as JSON objects).
    """
    registry = registry or default_registry()
    spec = _as_spec(spec)
    analysis = _analyze(spec, registry)
    layers = [
        {"name": node.name, "type": node.type,
         "output_shape": list(node.shape) if node.shape is not None else None, "params": node.params}
        for node in analysis.nodes.values() if node.family != "input"
    ]
    order = {layer.name: layer.index for layer in spec.layers}
    layers.sort(key=lambda row: order.get(row["name"], 0))
    return {
        "path": spec.path,
        "name": spec.name,
        "layers": layers,
        "total_params": analysis.total_params,
        "diagnostics": [finding.to_json() for finding in _reported(analysis.findings, registry)],
    }
