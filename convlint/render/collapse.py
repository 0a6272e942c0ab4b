"""Block uses in diagrams: drawn as labelled clusters, or each collapsed into one box.

A spec's ``groups`` (:attr:`convlint.spec.model.Spec.groups`) name every block use: a repeat
(``layer3`` → ``Bottleneck ×6``) and each instance (``layer3.0`` → ``Bottleneck``).  A box lies in
a group when its name continues the group's path (``layer3.0.conv1`` lies in ``layer3`` and in
``layer3.0``).  A group's *level* is how many groups hold it, itself included: ``layer3`` is at
level 1, ``layer3.0`` at 2, ``layer3.0.downsample`` at 3.

At depth ``n`` every group at level ``n`` becomes one box (its path, its label such as
``Bottleneck ×6``, its output shape and summed parameters) and the groups above it are drawn as
clusters.  A spec without blocks whose layer names have dotted levels (``features.3.conv``, as an
imported network has) is grouped by those name levels instead, each group labelled ``N layers``.

``dot``'s layout time grows faster than linearly with the number of boxes (a chain of 10,000
boxes takes about ten seconds, one of 20,000 over a minute and 2 GB), so past :data:`MAX_BOXES`
boxes a diagram is always collapsed to the deepest depth that fits; and by default a diagram of
more than :data:`PAGE_BOXES` boxes is drawn at the deepest depth that fits a page
(:func:`page_depth`).
"""
from __future__ import annotations

from dataclasses import replace

import networkx as nx

from convlint.render.diagram import Box, Diagram, Edge, _mark_spine

MAX_BOXES = 2000
"""Most boxes drawn through ``dot``; larger diagrams are collapsed to a block depth that fits."""

PAGE_BOXES = 60
"""Most boxes drawn on one page: a larger diagram is collapsed by default."""

PAGE_RANKS = 16
"""Most boxes along the longest path of a diagram drawn on one page (top to bottom)."""


def name_groups(names: list[str]) -> dict[str, str]:
    """Groups from dotted names alone: each proper prefix shared by two or more ``names``,
    labelled ``N layers`` (``features.3`` for ``features.3.0`` … ``features.3.4``)."""
    counts: dict[str, int] = {}
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts)):
            prefix = ".".join(parts[:end])
            counts[prefix] = counts.get(prefix, 0) + 1
    return {prefix: f"{count} layers" for prefix, count in counts.items() if count >= 2}


def block_groups(diagram: Diagram, groups: dict[str, str]) -> dict[str, str]:
    """The groups to draw: the spec's block uses, or for a spec without blocks its name levels."""
    if groups:
        return groups
    return name_groups([name for box in diagram.boxes.values() if box.kind == "layer" for name in box.members])


def chain(name: str, groups: dict[str, str]) -> list[str]:
    """The groups holding ``name``, outermost first (``layer3``, ``layer3.0`` for ``layer3.0.conv1``)."""
    parts = name.split(".")
    return [prefix for prefix in (".".join(parts[:end]) for end in range(1, len(parts))) if prefix in groups]


def _group_at(box: Box, depth: int, groups: dict[str, str]) -> str:
    """The box's id once collapsed at ``depth``: its group at that level, else its own id."""
    if box.kind != "layer":
        return box.id
    held = chain(box.name, groups)
    return held[depth - 1] if len(held) >= depth else box.id


def collapse(diagram: Diagram, depth: int, groups: dict[str, str]) -> Diagram:
    """``diagram`` with the boxes of each group at level ``depth`` (``≥ 1``) merged into one box.

    A merged box takes the first member's family, the last member's shape, the summed parameters and
    every member's findings; its type is the group's label (``Bottleneck ×6``) and ``collapsed``
    counts its layers.  Edges inside a merged box disappear, parallel edges between two boxes are
    drawn once.
    """
    members: dict[str, list[Box]] = {}
    box_of: dict[str, str] = {}
    for box in diagram.boxes.values():
        group = _group_at(box, depth, groups)
        members.setdefault(group, []).append(box)
        box_of[box.id] = group
    boxes = {}
    for group, inside in members.items():
        if len(inside) == 1 and inside[0].id == group:
            boxes[group] = replace(inside[0], spine=None)
            continue
        names = [name for box in inside for name in box.members]
        boxes[group] = Box(group, "layer", group, groups.get(group, f"{len(names)} layers"), inside[0].family,
                           members=names, shape=inside[-1].shape,
                           params=_total([box.params for box in inside]),
                           findings=[finding for box in inside for finding in box.findings],
                           merges=any(box.merges for box in inside), collapsed=len(names))
    edges, seen = [], set()
    for edge in diagram.edges:
        tail, head = box_of[edge.tail], box_of[edge.head]
        if tail != head and (tail, head) not in seen:
            seen.add((tail, head))
            edges.append(replace(edge, tail=tail, head=head, on_spine=False, upward=False, level=False))
    _mark_spine(boxes, edges)
    return replace(diagram, boxes=boxes, edges=edges)


def _total(counts: list[int | None]) -> int | None:
    """The sum of parameter ``counts``, ``None`` when one is unknown."""
    known = [count for count in counts if count is not None]
    return sum(known) if len(known) == len(counts) else None


def deepest_level(diagram: Diagram, groups: dict[str, str]) -> int:
    """The most groups holding one box (0 when no box lies in a group)."""
    return max((len(chain(box.name, groups)) for box in diagram.boxes.values() if box.kind == "layer"), default=0)


def fitting_depth(diagram: Diagram, limit: int, groups: dict[str, str]) -> int | None:
    """The deepest depth at which the diagram has at most ``limit`` boxes, or ``None`` if none does."""
    for depth in range(deepest_level(diagram, groups), 0, -1):
        if len({_group_at(box, depth, groups) for box in diagram.boxes.values()}) <= limit:
            return depth
    return None


def ranks(diagram: Diagram) -> int:
    """Boxes along the diagram's longest path."""
    graph = nx.DiGraph((edge.tail, edge.head) for edge in diagram.edges)
    graph.add_nodes_from(diagram.boxes)
    return len(nx.dag_longest_path(graph)) if nx.is_directed_acyclic_graph(graph) else len(diagram.boxes)


def page_depth(diagram: Diagram, groups: dict[str, str]) -> int | None:
    """The depth drawn by default: ``None`` (everything) for a diagram of at most :data:`PAGE_BOXES`
    boxes or one without groups; else the deepest depth whose diagram has at most :data:`PAGE_BOXES`
    boxes and :data:`PAGE_RANKS` along its longest path, or depth 1 when none has."""
    if len(diagram.boxes) <= PAGE_BOXES:
        return None
    deepest = deepest_level(diagram, groups)
    for depth in range(deepest, 0, -1):
        collapsed = collapse(diagram, depth, groups)
        if len(collapsed.boxes) <= PAGE_BOXES and ranks(collapsed) <= PAGE_RANKS:
            return depth
    return 1 if deepest else None


def clusters(diagram: Diagram, groups: dict[str, str]) -> dict[str, str]:
    """The groups drawn as clusters (path → label): those holding a box that is not the group itself;
    sets each box's :attr:`~convlint.render.diagram.Box.block` to the innermost one holding it."""
    drawn: dict[str, str] = {}
    for box in diagram.boxes.values():
        if box.kind != "layer":
            continue
        held = [group for group in chain(box.name, groups) if group != box.id]
        box.block = held[-1] if held else None
        for group in held:
            drawn[group] = groups[group]
    return drawn


def merge_runs(diagram: Diagram) -> Diagram:
    """``diagram`` with each run of collapsed copies of one block drawn as one box.

    A run is a chain of collapsed boxes of the same block type, each the only reader of the one
    before and keeping its shape, after the box that starts it: the copies of a repeat whose
    numbering left no group to hold them (``features.4``, ``features.5``, ``features.6`` become
    ``features.4–6``, ``InvertedResidual ×3``).
    """
    leaving: dict[str, list[Edge]] = {}
    entering: dict[str, list[Edge]] = {}
    for edge in diagram.edges:
        leaving.setdefault(edge.tail, []).append(edge)
        entering.setdefault(edge.head, []).append(edge)
    run_of: dict[str, str] = {}
    runs: dict[str, list[Box]] = {}
    for box in diagram.boxes.values():
        before = entering.get(box.id, [])
        if (box.collapsed and len(before) == 1 and len(leaving.get(before[0].tail, [])) == 1
                and before[0].tail in run_of):
            start = run_of[before[0].tail]
            last = runs[start][-1]
            if last.id == before[0].tail and last.type == box.type and last.shape_text == box.shape_text:
                runs[start].append(box)
                run_of[box.id] = start
                continue
        run_of[box.id] = box.id
        runs[box.id] = [box]
    if all(len(run) == 1 for run in runs.values()):
        return diagram
    boxes = {}
    for start, run in runs.items():
        if len(run) == 1:
            boxes[start] = run[0]
            continue
        name = f"{run[0].name}–{run[-1].name.rsplit('.', 1)[-1]}"
        boxes[start] = replace(run[0], name=name, type=f"{run[0].type} ×{len(run)}",
                               members=[member for box in run for member in box.members], shape=run[-1].shape,
                               params=_total([box.params for box in run]),
                               findings=[finding for box in run for finding in box.findings],
                               merges=any(box.merges for box in run), collapsed=sum(box.collapsed for box in run))
    edges = [replace(edge, tail=run_of[edge.tail], head=run_of[edge.head], on_spine=False, upward=False, level=False)
             for edge in diagram.edges if run_of[edge.tail] != run_of[edge.head]]
    _mark_spine(boxes, edges)
    return replace(diagram, boxes=boxes, edges=edges)
