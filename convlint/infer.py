"""Shape inference: every node's output shape and parameter count, in topological order.

For each layer the core looks up its type, rejects unknown keywords, checks
the number and rank of its inputs, converts its keyword arguments, and then
asks the layer type for the output shape and parameter count.  A layer whose
input shape is unknown (after an earlier error) is skipped without further
findings, so one mistake is reported once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from .findings import Finding
from .graph import build_graph, suggest
from .keywords import KeywordError
from .layer_type import LayerContext, LayerType, Shape
from .plugins import Registry
from .rules import RULES
from .spec import Layer, Spec


@dataclass
class NodeInfo:
    """What inference learned about one input or layer.

    ``shape`` is the output shape (``None`` when it cannot be computed),
    ``params`` the learnable parameter count, ``macs`` the multiply-accumulates
    of one forward pass, ``input_shapes`` the shapes read, and ``context`` the
    layer's :class:`LayerContext` once its shape is known.
    """

    name: str
    type: str
    family: str
    shape: Shape | None
    params: int | None = None
    input_shapes: list[Shape] = field(default_factory=list)
    args: dict = field(default_factory=dict)
    macs: int | None = None
    context: LayerContext | None = None


@dataclass
class Analysis:
    """Inference result of a spec: nodes in topological order, and all findings."""

    spec: Spec
    nodes: dict[str, NodeInfo]
    findings: list[Finding]

    @property
    def total_params(self) -> int:
        """Sum of the parameters of all layers whose count is known."""
        return sum(node.params or 0 for node in self.nodes.values())


def analyze(spec: Spec, registry: Registry) -> Analysis:
    """Build the graph (if not yet built) and infer every node of ``spec``."""
    if spec.graph is None:
        build_graph(spec)
    graph = spec.graph
    findings = list(spec.findings)
    findings.extend(_plugin_problems(spec, registry))
    order = _topological_order(spec, graph, findings)
    nodes: dict[str, NodeInfo] = {}
    for name in order:
        data = graph.nodes[name]
        if data["kind"] == "input":
            decl = data["decl"]
            nodes[name] = NodeInfo(name, "Input", "input", decl.shape)
            continue
        layer: Layer = data["decl"]
        inputs = [nodes[source].shape if source in nodes else None for source in layer.sources]
        info, layer_findings = _infer_layer(spec, registry, layer, inputs)
        nodes[name] = info
        findings.extend(layer_findings)
    return Analysis(spec, nodes, findings)


def _plugin_problems(spec: Spec, registry: Registry) -> list[Finding]:
    rule = registry.rules["X001"]
    return [Finding("X001", rule.severity, problem, spec.path, 1, 1, None) for problem in registry.problems]


def _topological_order(spec: Spec, graph: nx.DiGraph, findings: list[Finding]) -> list[str]:
    """Nodes in dependency order; layers on a cycle are reported (G002) and left out."""
    if nx.is_directed_acyclic_graph(graph):
        return list(nx.topological_sort(graph))
    cyclic = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or graph.has_edge(*(2 * tuple(component))):
            cyclic |= component
            members = sorted(component, key=lambda node: graph.nodes[node]["decl"].index)
            first = graph.nodes[members[0]]["decl"]
            loop = " → ".join(members + [members[0]])
            findings.append(Finding("G002", RULES["G002"].severity, f"layers form a cycle: {loop}",
                                    spec.path, *first.position_of("from"), first.name))
    acyclic = graph.subgraph(node for node in graph if node not in cyclic)
    return list(nx.topological_sort(acyclic))


def _infer_layer(spec: Spec, registry: Registry, layer: Layer, inputs: list[Shape | None]) -> tuple[NodeInfo, list[Finding]]:
    layer_type = registry.types.get(layer.type) if layer.type else None
    info = NodeInfo(layer.name, layer.type or "?", layer_type.family if layer_type else "other", None)
    ctx = LayerContext(layer, [], {}, 0, spec.path, registry.rules)
    if layer_type is None:
        if layer.type is not None:
            ctx.report("Y007", f"unknown layer type `{layer.type}`{suggest(layer.type, registry.types)}", "type")
        return info, ctx.findings
    for key in layer.kwargs:
        if key not in layer_type.keywords:
            ctx.report("Y006", f"{layer.type} has no keyword `{key}`{suggest(key, layer_type.keywords)}", key)
    if not _check_arity(ctx, layer_type, layer) or any(shape is None for shape in inputs) or not layer.sources:
        _convert_args(ctx, layer_type, layer_type.spatial_dims)
        return info, ctx.findings
    info.input_shapes = list(inputs)
    rank = len(inputs[0])
    if layer_type.input_ranks is not None and rank not in layer_type.input_ranks:
        accepted = " or ".join(str(r) for r in layer_type.input_ranks)
        ctx.report("S011", f"{layer.type} takes a {accepted}-D input, got a {rank}-D tensor "
                           f"{format_shape(inputs[0])} from `{layer.sources[0]}`", "from")
        return info, ctx.findings
    ndim = layer_type.spatial_dims if layer_type.spatial_dims is not None else max(rank - 2, 0)
    args = _convert_args(ctx, layer_type, ndim)
    if args is None:
        return info, ctx.findings
    ctx.inputs, ctx.args, ctx.ndim = list(inputs), args, ndim
    ctx.source_layers = [spec.layer_by_name.get(source) for source in layer.sources]
    info.args = args
    try:
        shape = layer_type.infer(ctx)
        if shape is not None:
            shape = _checked_shape(shape)
            info.params = _checked_count(layer_type.count_params(ctx, shape))
            info.macs = _checked_count(layer_type.count_macs(ctx, shape), "count_macs")
    except Exception as error:  # a plugin bug is a finding, not a crash
        owner = registry.owners.get(layer.type, "?")
        ctx.report("X001", f"plugin `{owner}` failed on {layer.type}: {type(error).__name__}: {error}", "type")
        return info, ctx.findings
    if shape is not None and min(shape, default=1) < 1:
        if not ctx.has_errors:
            ctx.report("S002", f"output shape {format_shape(shape)} has a dimension ≤ 0")
        shape = None
    info.shape = shape
    info.context = ctx if shape is not None else None
    return info, ctx.findings


def _check_arity(ctx: LayerContext, layer_type: LayerType, layer: Layer) -> bool:
    count = len(layer.sources)
    if not layer.sources:
        return False
    low, high = layer_type.min_inputs, layer_type.max_inputs
    if count < low or (high is not None and count > high):
        wanted = f"exactly {low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
        given = "`from` and `like` give" if "like" in layer.key_positions else "`from` gives"
        ctx.report("G004", f"{layer.type} takes {wanted} input tensor{'s' if low != 1 or high != 1 else ''}, "
                           f"{given} {count}", "from")
        return False
    return True


def _convert_args(ctx: LayerContext, layer_type: LayerType, ndim: int | None) -> dict | None:
    """Check and default the keyword arguments; ``None`` if any is wrong or ``ndim`` unknown."""
    if ndim is None:
        return None
    args = {}
    ok = True
    for key, keyword in layer_type.keywords.items():
        if key not in ctx.layer.kwargs:
            if keyword.required:
                ctx.report("Y008", f"{layer_type.name} requires `{key}`", "type")
                ok = False
                continue
            args[key] = None if keyword.default is None else keyword.convert(keyword.default, ndim)
            continue
        try:
            args[key] = keyword.convert(ctx.layer.kwargs[key], ndim)
        except KeywordError as error:
            ctx.report("Y005", f"`{key}`: {error}", key)
            ok = False
    return args if ok else None


def _checked_shape(shape) -> Shape:
    if not isinstance(shape, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        raise TypeError(f"infer() returned {shape!r}, not a tuple of ints")
    return tuple(shape)


def _checked_count(count, method: str = "count_params") -> int:
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise TypeError(f"{method}() returned {count!r}, not a count")
    return count


def format_shape(shape) -> str:
    """``1×64×56×56`` for a shape tuple, ``?`` for ``None``."""
    return "?" if shape is None else "×".join(str(dim) for dim in shape)
