"""Diagrams too large for Graphviz to lay out: drawn with block instances collapsed.

``dot``'s layout time grows faster than linearly with the number of boxes (a
chain of 10,000 boxes takes about ten seconds, one of 20,000 over a minute and
2 GB).  Past :data:`MAX_BOXES` boxes a diagram is drawn at the deepest block
depth that fits: every box whose layer path (its name split at dots, as in
``layer1.0.conv1``) shares its first ``depth`` levels becomes one box, named by
that prefix and labelled with the block's name, as ``convlint summary --depth``
folds its rows.
"""
from __future__ import annotations

from dataclasses import replace

from convlint.render.diagram import Box, Diagram, Edge, _mark_spine

MAX_BOXES = 2000
"""Most boxes drawn through ``dot``; larger diagrams are collapsed to a block depth that fits."""

MAX_DEPTH_TRIED = 16
"""Deepest block depth tried: bounds the search on names of many dotted levels."""


def _prefix(box: Box, depth: int) -> str:
    """The box's group at ``depth``: its first ``depth`` name levels (inputs and outputs stay apart)."""
    return box.id if box.kind != "layer" else ".".join(box.name.split(".")[:depth])


def collapse(diagram: Diagram, depth: int, groups: dict[str, str]) -> Diagram:
    """``diagram`` with the boxes of each block instance at ``depth`` (``≥ 1``) merged into one box.

    A merged box takes the first member's family, the last member's shape, the summed parameters and
    every member's findings; its type is the block's label from ``groups`` (``"N layers"`` otherwise).
    Edges inside a merged box disappear, parallel edges between two merged boxes are drawn once.
    """
    members: dict[str, list[Box]] = {}
    box_of: dict[str, str] = {}
    for box in diagram.boxes.values():
        group = _prefix(box, depth)
        members.setdefault(group, []).append(box)
        box_of[box.id] = group
    boxes = {}
    for group, inside in members.items():
        if len(inside) == 1 and inside[0].name == group:
            boxes[group] = replace(inside[0], spine=None)
            continue
        names = [name for box in inside for name in box.members]
        params = [box.params for box in inside if box.params is not None]
        boxes[group] = Box(group, "layer", group, groups.get(group, f"{len(names)} layers"), inside[0].family,
                           members=names, shape=inside[-1].shape,
                           params=None if len(params) < len(inside) else sum(params),
                           findings=[finding for box in inside for finding in box.findings])
    edges, seen = [], set()
    for edge in diagram.edges:
        tail, head = box_of[edge.tail], box_of[edge.head]
        if tail != head and (tail, head) not in seen:
            seen.add((tail, head))
            edges.append(Edge(tail, head, edge.label, edge.order))
    _mark_spine(boxes, edges)
    return replace(diagram, boxes=boxes, edges=edges)


def fitting_depth(diagram: Diagram, limit: int) -> int | None:
    """The deepest block depth at which the diagram has at most ``limit`` boxes, or ``None`` if none does."""
    deepest = max((box.name.count(".") for box in diagram.boxes.values() if box.kind == "layer"), default=0)
    for depth in range(min(deepest, MAX_DEPTH_TRIED), 0, -1):
        if len({_prefix(box, depth) for box in diagram.boxes.values()}) <= limit:
            return depth
    return None
