"""The summary of one spec as a JSON object (``convlint summary --format json``, :func:`convlint.summarize`).

The same keys for every spec.  For a spec with named input sizes (``image: [N, 3, H, W]``) each
``output_shape`` holds expressions in the names (strings such as ``"⌊H/2⌋"``), and every number
(parameters, MACs, memory, receptive fields) is the one at the sizes in ``sizes_at``
(``{"N": 1, "H": 32, "W": 32}``; ``{}`` for a spec with numeric sizes).

A total is ``complete`` only when every layer was counted; ``not_counted`` lists the layers
whose parameters or MACs are unknown (an unknown layer type, a layer whose input is unknown).
"""
from __future__ import annotations

from convlint.analysis.metrics import layer_measures, totals
from convlint.layers.registry import Registry
from convlint.linting.runner import Checked
from convlint.report.block_rows import fold
from convlint.spec.model import Spec


def build_summary(spec: Spec, checked: Checked, registry: Registry, depth: int | None = None,
                  flops: bool = False) -> dict:
    """The summary object of ``spec`` from the lint pipeline's result ``checked``.

    Keys: ``path``, ``name``, ``sizes_at``, ``layers`` (each ``name``, ``type``, ``output_shape``
    (``None`` when it cannot be computed), ``params``, ``macs``, ``activation_bytes`` and per-axis
    ``receptive_field``, ``effective_stride`` and ``receptive_field_center``), ``total_params``,
    ``complete``, ``not_counted``, ``diagnostics`` (the findings ``convlint lint`` reports, as JSON
    objects) and the totals of :func:`convlint.analysis.metrics.totals`.  ``depth`` folds layers into
    block instances; ``flops`` adds ``flops`` per layer and ``total_flops`` (2 × MACs).
    """
    analysis = checked.analysis
    measures = layer_measures(analysis, registry)
    expressions = {}
    named = bool(spec.size_names)
    if named:
        from convlint.sizes.named import symbolic_shapes
        expressions = symbolic_shapes(spec, registry)
    layers = [
        {"name": node.name, "type": node.type,
         "output_shape": expressions.get(node.name) if named else None if node.shape is None else list(node.shape),
         "params": node.params, **measures[node.name]}
        for node in analysis.nodes.values() if node.family != "input"
    ]
    order = {layer.name: layer.index for layer in spec.layers}
    layers.sort(key=lambda row: order.get(row["name"], 0))
    not_counted = [row["name"] for row in layers if row["params"] is None or row["macs"] is None]
    if depth is not None:
        layers = fold(layers, depth, spec.groups)
    summary = {
        "path": spec.path,
        "name": spec.name,
        "sizes_at": dict(checked.sizes_at),
        "layers": layers,
        "total_params": analysis.total_params,
        "complete": not not_counted,
        "not_counted": not_counted,
        "diagnostics": [finding.to_json() for finding in checked.findings],
        **totals(analysis, measures),
    }
    if flops:
        for row in layers:
            row["flops"] = None if row["macs"] is None else 2 * row["macs"]
        summary["total_flops"] = 2 * summary["total_macs"]
    return summary
