"""What an architecture diagram shows, independent of how it is drawn.

A diagram has one *box* per input, per layer and per output, and one edge per
tensor passed between boxes, labelled with that tensor's shape.  How a layer is
drawn is its type's :attr:`~convlint.LayerType.diagram_role`; its key arguments
are its type's :meth:`~convlint.LayerType.label`.  With folding on (the
default), a layer of role ``fold`` (norms, activations, dropout) whose only
input is a layer read by nothing else is drawn inside that layer's box (``Conv2d 3×3 p1``
with ``+ BatchNorm2d bn1`` and ``+ ReLU relu`` below it), so a ResNet block is
three boxes rather than seven.  A layer with findings is never folded, so it
keeps a box of its own to be drawn in red.

The longest path through the diagram is its *spine*, drawn as one straight
line with branches beside it.  A *skip* joins two spine boxes, straight or
through one or two boxes of its own (a crop, a 1×1 conv), and ends in a merge.
When two or more skips nest (each spans the next, as in a U-Net or an FCN) and
the outermost spans half the spine or more, the diagram is drawn as a U: the
spine turns halfway inside the innermost skip, boxes after the turn are placed
on the way back up, and each of these skips runs level from encoder to decoder.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from convlint.findings import Finding
from convlint.analysis.graph import producer
from convlint.analysis.infer import Analysis, NodeInfo, format_shape
from convlint.layers.keywords import KeywordError
from convlint.layers.registry import Registry
from convlint.render.labels import args_label
from convlint.spec.model import Layer


@dataclass
class Box:
    """One drawn node.

    ``kind`` is ``"input"``, ``"layer"`` or ``"output"``.  ``members`` are the
    spec names drawn in it, the box's own layer first and folded layers after.
    ``shape`` is the output shape of the last member (``None`` when unknown),
    ``params`` the parameter count of all members together (``None`` when the
    box's own layer's count is unknown).  ``role`` is the layer type's
    :attr:`~convlint.LayerType.diagram_role` (``"box"`` for inputs, outputs and unknown types);
    ``merges`` is true when the box joins tensors (role ``merge`` or ``concat``, or a collapsed
    block holding such a layer).  ``collapsed`` counts the layers of a block drawn as this one box
    (0 for any other box) and ``block`` is the innermost block use drawn as a cluster around it.
    """

    id: str
    kind: str
    name: str
    type: str
    family: str
    args: str = ""
    folded: list[tuple[str, str]] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    shape: tuple[int, ...] | None = None
    params: int | None = None
    findings: list[Finding] = field(default_factory=list)
    spine: str | None = None
    role: str = "box"
    merges: bool = False
    collapsed: int = 0
    block: str | None = None

    @property
    def shape_text(self) -> str:
        """``1×64×56×56``, or ``?`` when the shape is unknown."""
        return format_shape(self.shape)


@dataclass
class Edge:
    """A tensor passed from box ``tail`` to box ``head``; ``label`` is its shape.

    ``order`` is the tensor's 1-based position in the ``from`` list of a layer of
    role ``concat`` (``None`` for every other layer, where the order does not matter).
    ``reference`` marks a size-only input (``like:``, or the second input of a layer of role ``crop``).
    ``mismatch`` marks an input of a merge with findings whose shape cannot join the merge's first
    input, whose shape is then ``expected``.
    ``on_spine`` marks a step along the spine, ``upward`` an edge drawn
    upward in a U layout and ``level`` a skip connection drawn horizontally.
    """

    tail: str
    head: str
    label: str
    order: int | None = None
    reference: bool = False
    mismatch: bool = False
    expected: str = ""
    on_spine: bool = False
    upward: bool = False
    level: bool = False


@dataclass
class Diagram:
    """The boxes and edges of one spec, and the findings that belong to no layer.

    ``total_params`` sums the known parameter counts; ``params_complete`` says whether all are known.
    ``clusters`` are the block uses drawn as labelled clusters (path → label such as ``Bottleneck ×6``).
    """

    name: str
    boxes: dict[str, Box]
    edges: list[Edge]
    spec_findings: list[Finding]
    total_params: int
    params_complete: bool
    clusters: dict[str, str] = field(default_factory=dict)

    def families(self) -> list[str]:
        """The families of the layer boxes, in order of first appearance."""
        return list(dict.fromkeys(box.family for box in self.boxes.values() if box.kind == "layer"))


def build_diagram(analysis: Analysis, findings: list[Finding], registry: Registry, fold: bool = True) -> Diagram:
    """The diagram of ``analysis.spec``; ``findings`` are drawn on the layers they name.

    ``registry`` supplies the layer types, used to read the arguments of layers
    that inference did not reach (after an error upstream).
    """
    spec = analysis.spec
    graph: nx.DiGraph = spec.graph
    by_layer: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.layer is not None and finding.layer in graph:
            by_layer.setdefault(finding.layer, []).append(finding)
    spec_findings = [finding for finding in findings if finding.layer is None or finding.layer not in graph]

    order = list(analysis.nodes) + [name for name in graph if name not in analysis.nodes]
    box_of: dict[str, str] = {}
    boxes: dict[str, Box] = {}
    for name in order:
        info = analysis.nodes.get(name) or _unreached_node(graph, registry, name)
        host = _fold_host(graph, registry, spec.outputs, info, by_layer, box_of) if fold else None
        if host is not None:
            _fold_into(boxes[host], info, by_layer.get(name, []))
            box_of[name] = host
            continue
        box = _new_box(graph, registry, info, by_layer.get(name, []))
        boxes[name] = box
        box_of[name] = name

    edges = []
    for tail, head in graph.edges:
        if box_of[tail] == box_of[head]:
            continue
        decl = graph.nodes[head]["decl"]
        reads = [producer(source, graph) for source in decl.sources]
        position = [producer_name for producer_name, _ in reads].index(tail)
        role = _role(registry, decl.type)
        order_in_concat = position + 1 if role == "concat" else None
        like = "like" in decl.key_positions and position == len(reads) - 1
        reference = like or (role == "crop" and position >= 1)
        shape = analysis.nodes[tail].output(reads[position][1]) if tail in analysis.nodes else None
        first = reads[0]
        first_shape = analysis.nodes[first[0]].output(first[1]) if first[0] in analysis.nodes else None
        mismatch = (role in ("merge", "concat") and shape is not None and first_shape is not None
                    and _differ(shape, first_shape, role) and head in by_layer)
        edges.append(Edge(box_of[tail], box_of[head], format_shape(shape), order_in_concat, reference,
                          mismatch, expected=format_shape(first_shape) if mismatch else ""))
    for position, output in enumerate(spec.outputs, start=1):
        if output not in box_of:
            continue
        box_id = free_box_id(boxes, f"output {position}" if len(spec.outputs) > 1 else "output")
        boxes[box_id] = Box(box_id, "output", box_id, "Output", "output")
        shape = analysis.nodes[output].shape if output in analysis.nodes else None
        edges.append(Edge(box_of[output], box_id, format_shape(shape)))
    _mark_spine(boxes, edges)
    complete = all(box.params is not None for box in boxes.values() if box.kind == "layer")
    return Diagram(spec.name, boxes, edges, spec_findings, analysis.total_params, complete)


def _differ(shape: tuple, first: tuple, role: str) -> bool:
    """True when an input of shape ``shape`` cannot join the first input's ``first``: for role
    ``merge`` any difference, for ``concat`` one outside a single axis (the one joined along)."""
    if len(shape) != len(first):
        return True
    differing = sum(1 for mine, theirs in zip(shape, first) if format_shape((mine,)) != format_shape((theirs,)))
    return differing > (1 if role == "concat" else 0)


def _unreached_node(graph: nx.DiGraph, registry: Registry, name: str) -> NodeInfo:
    """A layer inference never reached (it sits on a cycle): its type and family, nothing else."""
    decl = graph.nodes[name]["decl"]
    layer_type = registry.types.get(decl.type)
    return NodeInfo(name, decl.type or "?", layer_type.family if layer_type else "other", None)


def _role(registry: Registry, type_name: str | None) -> str:
    """The :attr:`~convlint.LayerType.diagram_role` of type ``type_name`` (``"box"`` for an unknown type)."""
    layer_type = registry.types.get(type_name or "")
    return layer_type.diagram_role if layer_type is not None else "box"


def _fold_host(graph: nx.DiGraph, registry: Registry, outputs: list[str], info: NodeInfo, by_layer: dict,
               box_of: dict) -> str | None:
    """The box ``info``'s layer is drawn in, when it can be folded into its producer's box."""
    if _role(registry, info.type) != "fold" or info.name in by_layer:
        return None
    producers = list(graph.predecessors(info.name))
    if len(producers) != 1 or len(graph.nodes[info.name]["decl"].sources) != 1:
        return None
    producer = producers[0]
    if (graph.nodes[producer]["kind"] != "layer" or graph.out_degree(producer) != 1 or producer in outputs
            or producer not in box_of):
        return None
    return box_of[producer]


def _new_box(graph: nx.DiGraph, registry: Registry, info: NodeInfo, findings: list[Finding]) -> Box:
    kind = graph.nodes[info.name]["kind"]
    if kind == "input":
        return Box(info.name, "input", info.name, "Input", "input", members=[info.name], shape=info.shape)
    args = info.args or _written_args(registry, graph.nodes[info.name]["decl"])
    layer_type = registry.types.get(info.type)
    label = layer_type.label(args) if layer_type is not None else args_label(args)
    role = _role(registry, info.type)
    return Box(info.name, "layer", info.name, info.type, info.family, label, members=[info.name],
               shape=info.shape, params=info.params, findings=list(findings), role=role,
               merges=role in ("merge", "concat"))


def _written_args(registry: Registry, layer: Layer) -> dict:
    """The arguments as written, each converted where its type and dimensionality allow (``3`` → ``(3, 3)``)."""
    layer_type = registry.types.get(layer.type or "")
    if layer_type is None or layer_type.spatial_dims is None:
        return dict(layer.kwargs)
    args = {}
    for key, value in layer.kwargs.items():
        try:
            args[key] = layer_type.keywords[key].convert(value, layer_type.spatial_dims)
        except (KeyError, KeywordError):
            args[key] = value
    return args


def _fold_into(box: Box, info: NodeInfo, findings: list[Finding]) -> None:
    box.folded.append((info.type, info.name))
    box.members.append(info.name)
    box.shape = info.shape
    if info.params is not None:
        box.params = (box.params or 0) + info.params
    box.findings += findings


def free_box_id(boxes: dict[str, Box], wanted: str) -> str:
    """``wanted``, primed (``output'``) until no box in ``boxes`` uses it."""
    while wanted in boxes:
        wanted += "'"
    return wanted


MAX_SKIP_BOXES = 2
"""Most boxes a skip connection of a U layout passes through (a crop, a 1×1 conv)."""


def _mark_spine(boxes: dict[str, Box], edges: list[Edge]) -> None:
    """Mark the spine (the longest path) and, for an encoder–decoder, the U turn."""
    graph = nx.DiGraph((edge.tail, edge.head) for edge in edges)
    if not nx.is_directed_acyclic_graph(graph) or not graph:
        return
    # a size-only input is no step of the data flow: the spine never runs through it
    spine = nx.dag_longest_path(nx.DiGraph((edge.tail, edge.head) for edge in edges if not edge.reference))
    position = {box_id: index for index, box_id in enumerate(spine)}
    steps = set(zip(spine, spine[1:]))
    for edge in edges:
        edge.on_spine = (edge.tail, edge.head) in steps
    nested = _nested_skips(_skips(edges, position, boxes), len(spine))
    turn = None
    if nested:
        start, end, _ = nested[-1]
        turn = (start + end + 1) // 2
    rising = set(nx.descendants(graph, spine[turn])) | {spine[turn]} if turn is not None else set()
    for box_id in spine:
        boxes[box_id].spine = "up" if box_id in rising else "down"
    level = {id(edge) for _, _, path in nested for edge in path}
    for edge in edges:
        edge.level = id(edge) in level
        edge.upward = edge.head in rising and not edge.level


def _skips(edges: list[Edge], position: dict[str, int], boxes: dict[str, Box]) -> list[tuple[int, int, list[Edge]]]:
    """The skip connections between spine boxes that end in a merge: ``(start, end, edges)``, where
    ``start`` and ``end`` are spine positions and ``edges`` the path between them, straight or through
    at most :data:`MAX_SKIP_BOXES` boxes off the spine (a crop, a 1×1 conv) that read and feed nothing else."""
    leaving: dict[str, list[Edge]] = {}
    entering: dict[str, int] = {}
    for edge in edges:
        leaving.setdefault(edge.tail, []).append(edge)
        if not edge.reference:
            entering[edge.head] = entering.get(edge.head, 0) + 1
    skips = []
    for edge in edges:
        if edge.tail not in position or edge.on_spine or edge.reference:
            continue
        path = [edge]
        while path[-1].head not in position and len(path) <= MAX_SKIP_BOXES:
            box = path[-1].head
            if entering.get(box) != 1 or len(leaving.get(box, [])) != 1:
                break
            path.append(leaving[box][0])
        head = path[-1].head
        if head in position and position[head] > position[edge.tail] and boxes[head].merges:
            skips.append((position[edge.tail], position[head], path))
    return skips


def _nested_skips(skips: list[tuple[int, int, list[Edge]]], length: int) -> list[tuple[int, int, list[Edge]]]:
    """The skips a U layout draws level, outermost first, or ``[]`` when the diagram is no U.

    It is one when two or more skips nest (each starts before and ends after the next) and the
    outermost spans at least half of the spine: the longest such nesting is taken.
    """
    ordered = sorted(skips, key=lambda skip: (skip[0], -skip[1]))
    best: list[list] = []
    for index, (start, end, _) in enumerate(ordered):
        inside = [best[earlier] for earlier in range(index)
                  if ordered[earlier][0] < start and ordered[earlier][1] > end]
        best.append(max(inside, key=len, default=[]) + [ordered[index]])
    chains = [found for found in best if len(found) >= 2 and 2 * (found[0][1] - found[0][0]) >= length]
    return max(chains, key=len, default=[])
