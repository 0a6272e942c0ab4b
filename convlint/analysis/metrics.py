"""The numbers of ``convlint summary`` beyond shapes: MACs, memory and receptive fields.

Conventions (also printed under the summary table):

- MACs: multiply-accumulates of one forward pass over the spec's batch, as
  fvcore counts them: one per kernel tap per output element for convs, per
  input element for transposed convs (``N·C_in·H_in·W_in·C_out/groups·k²``),
  ``in·out`` per row for Linear; bias additions not counted; layers without
  weights (norms, pools, activations, merges) count 0.  FLOPs = 2 × MACs.
- Memory: bytes of each layer's output at the spec's batch size and ``dtype``
  (float32 unless the spec sets ``dtype:``), in decimal units (1 MB = 10⁶ bytes).
  The inference estimate is input + parameters + every layer's output, as if
  nothing were freed (an upper bound, like torchinfo's forward-pass size).
- Receptive field, effective stride, centre: see :mod:`convlint.analysis.receptive_field`.
"""
from __future__ import annotations

from math import prod

from convlint.analysis.infer import Analysis
from convlint.analysis.receptive_field import ReceptiveFields
from convlint.spec.cycle_collector import paused_cycle_collector
from convlint.spec.model import DTYPE_BYTES


def _number(value):
    """A Fraction as an int when whole, else a float (for JSON)."""
    return int(value) if value.denominator == 1 else float(value)


def layer_measures(analysis: Analysis, registry) -> dict[str, dict]:
    """Per layer name: ``macs``, ``activation_bytes``, ``receptive_field``, ``effective_stride``,
    ``receptive_field_center`` (per-axis lists; ``None`` where unknown)."""
    with paused_cycle_collector():  # many small acyclic objects: nothing for the cyclic collector to find
        return _layer_measures(analysis, registry)


def _layer_measures(analysis: Analysis, registry) -> dict[str, dict]:
    element = DTYPE_BYTES[analysis.spec.dtype]
    fields = ReceptiveFields(analysis, registry)
    measures = {}
    for name, node in analysis.nodes.items():
        if node.family == "input":
            continue
        axes = fields.of(name)
        measures[name] = {
            "macs": node.macs,
            "activation_bytes": None if node.shape is None else prod(node.shape) * element,
            "receptive_field": None if axes is None else [axis.size for axis in axes],
            "effective_stride": None if axes is None else [_number(axis.stride) for axis in axes],
            "receptive_field_center": None if axes is None else [_number(axis.center) for axis in axes],
        }
    return measures


def totals(analysis: Analysis, measures: dict[str, dict]) -> dict:
    """Spec totals: ``total_macs``, ``dtype``, ``input_bytes``, ``param_bytes``,
    ``total_activation_bytes`` and ``inference_bytes`` (their sum)."""
    element = DTYPE_BYTES[analysis.spec.dtype]
    inputs = sum(prod(node.shape) * element for node in analysis.nodes.values()
                 if node.family == "input" and node.shape is not None)
    params = analysis.total_params * element
    activations = sum(row["activation_bytes"] or 0 for row in measures.values())
    return {
        "total_macs": sum(row["macs"] or 0 for row in measures.values()),
        "dtype": analysis.spec.dtype,
        "input_bytes": inputs,
        "param_bytes": params,
        "total_activation_bytes": activations,
        "inference_bytes": inputs + params + activations,
    }
