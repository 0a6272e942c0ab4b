"""Folding summary rows into block instances, like torchinfo's ``depth``.

A layer's path is its name split at dots (``layer1.0.conv1`` → 3 levels).
At depth ``n`` consecutive rows that share their first ``n`` levels become one
row named by that prefix: output shape and receptive field of its last layer,
parameters, MACs and activation bytes summed.
"""
from __future__ import annotations

SUMMED = ("params", "macs", "activation_bytes")


def _sum(values):
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def fold(layers: list[dict], depth: int, groups: dict[str, str]) -> list[dict]:
    """Summary ``layers`` rows folded to ``depth`` levels (``depth ≥ 1``); ``groups`` labels block paths."""
    folded: list[tuple[str, list[dict]]] = []
    for row in layers:
        prefix = ".".join(row["name"].split(".")[:depth])
        if folded and folded[-1][0] == prefix:
            folded[-1][1].append(row)
        else:
            folded.append((prefix, [row]))
    result = []
    for prefix, rows in folded:
        if len(rows) == 1 and rows[0]["name"] == prefix:
            result.append(rows[0])
            continue
        merged = dict(rows[-1], name=prefix, type=groups.get(prefix, f"{len(rows)} layers"))
        for key in SUMMED:
            merged[key] = _sum(row[key] for row in rows)
        result.append(merged)
    return result
