"""The summary of one spec as data: the JSON object of ``convlint summary --format json``."""
from __future__ import annotations

from convlint.analysis.infer import analyze
from convlint.analysis.metrics import layer_measures, totals
from convlint.layers.registry import Registry
from convlint.linting.spec_lint import reported_findings
from convlint.report.block_rows import fold
from convlint.sizes.named import summarize_named_sizes
from convlint.spec.model import Spec


def summarize_spec(spec: Spec, registry: Registry, depth: int | None = None, flops: bool = False) -> dict:
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
    if spec.size_names:
        return summarize_named_sizes(spec, registry)
    analysis = analyze(spec, registry)
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
        "diagnostics": [finding.to_json() for finding in reported_findings(spec, registry, analysis)],
        **totals(analysis, measures),
    }
    if flops:
        for row in layers:
            row["flops"] = None if row["macs"] is None else 2 * row["macs"]
        summary["total_flops"] = 2 * summary["total_macs"]
    return summary
