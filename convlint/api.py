"""The Python API: load a spec, analyse it, lint it, summarise it."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from convlint.spec.files import read_text
from convlint.findings import Finding
from convlint.analysis.graph import build_graph
from convlint.analysis.infer import Analysis
from convlint.analysis.infer import analyze as _analyze
from convlint.layers.registry import Registry, load_registry
from convlint.spec.model import Spec, parse_spec


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The layer types of every installed plugin (``convlint`` entry points), loaded once."""
    return load_registry()


def load(path: str | Path) -> Spec:
    """Read and parse the spec at ``path`` and build its graph (``spec.graph``).

    Raises :class:`convlint.spec.model.NotASpec` for YAML without a top-level ``layers`` key and
    :class:`convlint.spec.files.UnreadableFile` for a missing, binary or non-UTF-8 file.
    Problems inside the spec are not raised: they are in ``spec.findings`` and :func:`lint`.
    """
    path = Path(path)
    return load_text(read_text(path), str(path))


def load_text(text: str, path: str = "<string>") -> Spec:
    """Parse spec ``text`` (``path`` is used in findings) and build its graph."""
    spec = parse_spec(text, path)
    build_graph(spec)
    return spec


def _as_spec(spec: Spec | str | Path) -> Spec:
    return spec if isinstance(spec, Spec) else load(spec)


def analyze(spec: Spec | str | Path, registry: Registry | None = None) -> Analysis:
    """Infer every node's shape and parameter count; see :class:`convlint.analysis.infer.Analysis`.

    Raises ``ValueError`` for a spec with named sizes (use :func:`summarize` or ``convlint sizes``).
    """
    spec = _as_spec(spec)
    if spec.size_names:
        raise ValueError(f"{spec.path} has named input sizes ({', '.join(spec.size_names)}); "
                         f"give numbers to analyze it")
    return _analyze(spec, registry or default_registry())


def lint(spec: Spec | str | Path, registry: Registry | None = None) -> list[Finding]:
    """All findings for ``spec`` (rules that are off by default excluded), in source order.

    When the declared input size is what fails, the first size finding also names the
    nearest valid input sizes (:mod:`convlint.sizes.nearest`).
    """
    registry = registry or default_registry()
    spec = _as_spec(spec)
    if spec.size_names:
        from convlint.sizes.named import lint_named_sizes
        return _enabled(lint_named_sizes(spec, registry), registry)
    return _reported(spec, registry, _analyze(spec, registry))


def _reported(spec: Spec, registry: Registry, analysis: Analysis) -> list[Finding]:
    """The enabled findings of an analysed numeric spec, with the nearest-valid-size hint."""
    findings = _enabled(analysis.findings, registry)
    if findings:
        from convlint.sizes.nearest import with_nearest_sizes
        findings = with_nearest_sizes(spec, registry, findings)
    from convlint.sizes.contract import CONTRACT_MARKER, contract_findings
    if CONTRACT_MARKER.search(spec.source):  # the sizes the spec promises to accept
        findings = _enabled(findings + contract_findings(spec, registry), registry)
    return findings


def lint_at_declared_sizes(spec: Spec, registry: Registry) -> list[Finding]:
    """The findings of a spec with numeric sizes, in source order, without the nearest-size hint."""
    return _enabled(_analyze(spec, registry).findings, registry)


def _enabled(findings: list[Finding], registry: Registry) -> list[Finding]:
    """The findings of enabled rules, sorted by position and code."""
    rules = registry.rules
    enabled = [finding for finding in findings if finding.code not in rules or rules[finding.code].default_enabled]
    return sorted(enabled, key=lambda finding: (finding.line, finding.column, finding.code))


def summarize(spec: Spec | str | Path, registry: Registry | None = None, depth: int | None = None,
              flops: bool = False) -> dict:
    """The summary of ``spec`` as the JSON object of ``convlint summary --format json``.

    Keys: ``path``, ``name``, ``layers`` (each ``name``, ``type``, ``output_shape``
    (list of ints, or ``None`` when it cannot be computed; with named input sizes, sizes
    that depend on them are strings such as ``"⌊H/2⌋"``), ``params``, ``macs``,
    ``activation_bytes`` and per-axis ``receptive_field``, ``effective_stride`` and
    ``receptive_field_center``), ``total_params``, ``diagnostics`` (the lint
    findings as JSON objects) and the totals of :func:`convlint.analysis.metrics.totals`.
    ``depth`` folds layers into their block instances (see :func:`convlint.report.block_rows.fold`);
    ``flops`` adds ``flops`` per layer and ``total_flops`` (2 × MACs).
    """
    from convlint.report.block_rows import fold
    from convlint.analysis.metrics import layer_measures, totals

    registry = registry or default_registry()
    spec = _as_spec(spec)
    if spec.size_names:
        from convlint.sizes.named import summarize_named_sizes
        return summarize_named_sizes(spec, registry)
    analysis = _analyze(spec, registry)
    measures = layer_measures(analysis, registry)
    layers = [
        {"name": node.name, "type": node.type,
         "output_shape": list(node.shape) if node.shape is not None else None, "params": node.params,
         **measures[node.name]}
        for node in analysis.nodes.values() if node.family != "input"
    ]
    order = {layer.name: layer.index for layer in spec.layers}
    layers.sort(key=lambda row: order.get(row["name"], 0))
    if depth is not None:
        layers = fold(layers, depth, spec.groups)
    summary = {
        "path": spec.path,
        "name": spec.name,
        "layers": layers,
        "total_params": analysis.total_params,
        "diagnostics": [finding.to_json() for finding in _reported(spec, registry, analysis)],
        **totals(analysis, measures),
    }
    if flops:
        for row in layers:
            row["flops"] = None if row["macs"] is None else 2 * row["macs"]
        summary["total_flops"] = 2 * summary["total_macs"]
    return summary


def run(spec: Spec | str | Path, inputs: dict | None = None, weights=None, seed: int = 0, **options) -> dict:
    """Run ``spec`` on NumPy arrays and return ``{output layer name: numpy.ndarray}``.

    ``inputs`` maps input names to arrays (default: seeded random arrays of the declared
    shapes); ``weights`` is a PyTorch-style state dict or an ``.npz`` path; ``options`` are
    those of :func:`convlint.execute.executor.run` (``dtype``, ``keep_all``, ``memory_limit``, ...).
    NumPy is imported only here, never on the lint path.
    """
    from convlint.execute.executor import run as run_executor
    return run_executor(spec, inputs, weights, seed, **options)
