"""Shape inference: every node's output shape and parameter count, in topological order.

For each layer the core looks up its type, rejects unknown keywords, checks
the number and rank of its inputs, converts its keyword arguments, and then
asks the layer type for the output shape and parameter count.  A layer whose
input shape is unknown (after an earlier error) is skipped without further
findings, so one mistake is reported once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AbstractSet

from convlint.analysis.keyword_cache import KeywordCache
from convlint.findings import Finding, Fix
from convlint.analysis.graph import Suggestions, dependency_order, producer, wire
from convlint.layers.keywords import MAX_INT, show
from convlint.layers.layer_type import LayerContext, LayerType, Shape
from convlint.layers.registry import PluginFault, Registry, plugin_call
from convlint.rules import RULES
from convlint.spec.model import Layer, Spec


@dataclass
class NodeInfo:
    """What inference learned about one input or layer.

    ``shape`` is the output shape (``None`` when it cannot be computed; the first
    one for a layer with several outputs, which are all in ``outputs``),
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
    outputs: list[Shape] | None = None

    def output(self, index: int | None) -> Shape | None:
        """The shape of output ``index`` (``None``: the only output), ``None`` when it does not exist."""
        if index is None:
            return self.shape if self.outputs is None else None
        if self.outputs is None or index >= len(self.outputs):
            return None
        return self.outputs[index]

    @property
    def all_outputs(self) -> list[Shape]:
        """Every output shape: ``outputs`` of a layer with several, else ``[shape]`` (none when unknown)."""
        if self.outputs is not None:
            return self.outputs
        return [] if self.shape is None else [self.shape]


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
    """Wire the spec (if not yet wired) and infer every node of ``spec``."""
    wiring = spec.wiring if spec.wiring is not None else wire(spec)
    findings = list(spec.findings)
    findings.extend(_plugin_problems(spec, registry))
    attributes = wiring.nodes  # name → node attributes
    order = _topological_order(spec, findings)
    nodes: dict[str, NodeInfo] = {}
    run = _Run(spec, registry)
    for name in order:
        data = attributes[name]
        if data["kind"] == "input":
            decl = data["decl"]
            nodes[name] = NodeInfo(name, "Input", "input", decl.shape)
            continue
        layer: Layer = data["decl"]
        inputs = _input_shapes(run, layer, nodes, findings)
        info, layer_findings = _infer_layer(run, layer, inputs)
        nodes[name] = info
        findings.extend(layer_findings)
    return Analysis(spec, nodes, findings)


def _input_shapes(run: "_Run", layer: Layer, nodes: dict[str, NodeInfo], findings: list[Finding]) -> list:
    """The shapes ``layer`` reads, in ``from`` order (``None`` where unknown); reading a layer with
    several outputs without choosing one, or an output it does not have, is a G001 finding."""
    shapes = []
    for source in layer.sources:
        name, index = producer(source, nodes)
        node = nodes.get(name)
        shape = None if node is None else node.output(index)
        if node is not None and node.shape is not None and shape is None:
            if index is None and node.outputs is not None:  # several outputs, none chosen
                problem = (f"`{name}` gives {len(node.outputs)} tensors; name one of them: "
                           f"{', '.join(f'`{name}.{number}`' for number in range(len(node.outputs)))}")
            else:
                count = len(node.outputs) if node.outputs is not None else 1
                problem = f"`{name}` gives {count} tensor{'s' if count > 1 else ''}; `{source}` is none of them"
            line, column = layer.position_of("from")
            findings.append(Finding("G001", run.registry.rules["G001"].severity, problem, run.spec.path, line,
                                    column, layer.name))
        shapes.append(shape)
    return shapes


def _plugin_problems(spec: Spec, registry: Registry) -> list[Finding]:
    rule = registry.rules["X001"]
    return [Finding("X001", rule.severity, problem, spec.path, 1, 1, None) for problem in registry.problems]


class _Run:
    """What the layers of one analysis share: the spec, the registry, keyword conversions, suggestions."""

    def __init__(self, spec: Spec, registry: Registry):
        self.spec = spec
        self.registry = registry
        self.keywords = KeywordCache()
        self.suggestions = Suggestions()


def _topological_order(spec: Spec, findings: list[Finding]) -> list[str]:
    """Nodes in dependency order (:func:`~convlint.analysis.graph.dependency_order`); layers on a cycle
    are reported (G002) and left out."""
    order = dependency_order(spec)
    if order is not None:
        return order
    import networkx as nx

    graph = spec.graph
    cyclic = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or graph.has_edge(*(2 * tuple(component))):
            cyclic |= component
            members = sorted(component, key=lambda node: graph.nodes[node]["decl"].index)
            first = graph.nodes[members[0]]["decl"]
            loop = " → ".join(members + [members[0]])
            line, column = first.position_of("from")
            findings.append(Finding("G002", RULES["G002"].severity, f"layers form a cycle: {loop}",
                                    spec.path, line, column, first.name))
    acyclic = graph.subgraph(node for node in graph if node not in cyclic)
    return list(nx.topological_sort(acyclic))


def _infer_layer(run: _Run, layer: Layer, inputs: list[Shape | None]) -> tuple[NodeInfo, list[Finding]]:
    registry = run.registry
    layer_type = registry.types.get(layer.type) if layer.type else None
    info = NodeInfo(layer.name, layer.type or "?", "other", None)
    ctx = LayerContext(layer, [], {}, 0, run.spec.path, registry.rules)
    if layer_type is None:
        if layer.type is not None:
            suggestion = _type_suggestion(run, layer.type, inputs)
            hint = "" if suggestion is None else f" (did you mean `{suggestion[0]}`{suggestion[1]}?)"
            ctx.report("Y007", f"unknown layer type `{layer.type}`{hint}", "type",
                       None if suggestion is None else Fix(layer.name, (("type", suggestion[0]),)))
        return info, ctx.findings
    owner = registry.owners.get(info.type, "?")  # info.type is layer.type: the type is known
    try:  # everything the layer type's plugin computes; its faults are X001 findings, not crashes
        with plugin_call(owner):
            info.family = layer_type.family
            shape = _infer_with_type(run, ctx, layer_type, info, inputs)
    except PluginFault as fault:
        ctx.report("X001", f"plugin `{owner}` failed on {layer.type}: {fault}", "type")
        return info, ctx.findings
    except Exception as error:
        ctx.report("X001", f"plugin `{owner}` failed on {layer.type}: {describe_error(error)}", "type")
        return info, ctx.findings
    if shape is not None and min(shape, default=1) < 1:
        if not ctx.has_errors:
            ctx.report("S002", f"output shape {format_shape(shape)} has a dimension ≤ 0")
        shape = None
    elif shape is not None and max(shape, default=1) > MAX_INT:
        ctx.report("S012", f"output dimension {show(max(shape))} exceeds PyTorch's limit of 2**63 − 1")
        shape = None
    info.shape = shape
    info.context = ctx if shape is not None else None
    return info, ctx.findings


def _type_suggestion(run: _Run, name: str, inputs: list[Shape | None]) -> tuple[str, str] | None:
    """(type name, why) for an unknown type ``name``: the type spelled the same but for case
    (``Relu`` → ``ReLU``), else the one type whose name extends ``name`` and takes the input's rank
    (``MaxPool`` on a 4-D input → ``MaxPool2d``), else the closest name; ``None`` when none is close."""
    types = run.registry.types
    same = next((type_name for type_name in types if type_name.lower() == name.lower()), None)
    if same is not None:
        return same, ""
    rank = len(inputs[0]) if inputs and inputs[0] is not None else None
    fitting = [type_name for type_name, layer_type in types.items()
               if type_name.lower().startswith(name.lower()) and rank is not None
               and (layer_type.input_ranks is None or rank in layer_type.input_ranks)]
    if len(fitting) == 1:
        return fitting[0], f" for the {rank}-D input"
    closest = run.suggestions.closest(name, types)
    return None if closest is None else (closest, "")


def _infer_with_type(run: _Run, ctx: LayerContext, layer_type: LayerType, info: NodeInfo,
                     inputs: list[Shape | None]) -> Shape | None:
    """Check ``ctx.layer`` against ``layer_type`` and return its output shape (``None`` if unknown)."""
    layer = ctx.layer
    keywords = layer_type.keywords
    meant = set()  # required keywords that a misspelled one stands for: one problem, one finding
    for key in layer.kwargs:
        if key not in keywords:
            guess = run.suggestions.closest(key, keywords)
            if guess is not None and guess not in layer.kwargs and keywords[guess].required:
                meant.add(guess)
                hint = f" (did you mean `{guess}`, which {layer.type} requires?)"
            else:
                hint = "" if guess is None else f" (did you mean `{guess}`?)"
            fix = Fix(layer.name, renames=((key, guess),)) if guess is not None and guess not in layer.kwargs else None
            ctx.report("Y006", f"{layer.type} has no keyword `{key}`{hint}", key, fix,
                       help=f"remove `{key}`; `{guess}` is written already" if guess is not None and fix is None
                       else None)
    if not _check_arity(ctx, layer_type, layer) or any(shape is None for shape in inputs) or not layer.sources:
        _convert_args(run, ctx, layer_type, layer_type.spatial_dims, meant)
        return None
    known = [shape for shape in inputs if shape is not None]  # every one, as checked above
    info.input_shapes = known
    rank = len(known[0])
    if layer_type.input_ranks is not None and rank not in layer_type.input_ranks:
        accepted = " or ".join(str(r) for r in layer_type.input_ranks)
        ctx.report("S011", f"{layer.type} takes a {accepted}-D input, got a {rank}-D tensor "
                           f"{format_shape(known[0])} from `{layer.sources[0]}`", "from")
        return None
    ndim = layer_type.spatial_dims if layer_type.spatial_dims is not None else max(rank - 2, 0)
    args = _convert_args(run, ctx, layer_type, ndim, meant)
    if args is None:
        return None
    ctx.inputs, ctx.args, ctx.ndim = list(known), args, ndim
    ctx.source_layers = [run.spec.layer_by_name.get(producer(source, run.spec.layer_by_name)[0])
                         for source in layer.sources]
    info.args = args
    shape = layer_type.infer(ctx)
    if shape is not None and layer_type.multiple_outputs:
        info.outputs = [_checked_shape(output) for output in shape]
        shape = info.outputs[0] if info.outputs else None
        if shape is not None and min(min(output, default=1) for output in info.outputs) < 1:
            ctx.report("S002", f"an output shape of {format_shape(max(info.outputs, key=min))} has a dimension ≤ 0")
            return None
    if shape is not None:
        shape = _checked_shape(shape)
        info.params = _checked_count(layer_type.count_params(ctx, shape))
        info.macs = _checked_count(layer_type.count_macs(ctx, shape), "count_macs")
    return shape


def describe_error(error: BaseException) -> str:
    """``TypeName: message`` of an exception, bounded in length, even when its ``str()`` fails."""
    try:
        text = str(error)
    except Exception:
        text = "(message cannot be shown)"
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(error).__name__}: {text}"


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


def _convert_args(run: _Run, ctx: LayerContext, layer_type: LayerType, ndim: int | None,
                  misspelled: AbstractSet[str] = frozenset()) -> dict | None:
    """Check and default the keyword arguments; ``None`` if any is wrong or ``ndim`` unknown.

    A missing required keyword is Y008, unless it is in ``misspelled`` (Y006 already says so).
    """
    written = ctx.layer.kwargs
    if ndim is None:  # the input is unknown: what does not need its rank is still checked
        required = [key for key, keyword in layer_type.keywords.items() if keyword.required]
        _report_missing(ctx, layer_type, [key for key in required if key not in written and key not in misspelled])
        return None
    defaults, required = run.keywords.defaults(layer_type, ndim)
    args = dict(defaults)
    ok = not misspelled
    for key in required:
        if key not in written and key not in misspelled:
            _report_missing(ctx, layer_type, [key])
            ok = False
    keywords = layer_type.keywords
    for key, value in written.items():
        keyword = keywords.get(key)
        if keyword is None:
            continue
        args[key], problem = run.keywords.convert(keyword, value, ndim)
        if problem is not None:
            ctx.report("Y005", f"`{key}`: {problem}", key)
            ok = False
    return args if ok else None


def _report_missing(ctx: LayerContext, layer_type: LayerType, keys: list[str]) -> None:
    """Y008 for each required keyword in ``keys`` that the layer does not write, naming it."""
    for key in keys:
        description = layer_type.keywords[key].doc
        ctx.report("Y008", f"{layer_type.name} requires `{key}`{f' ({description})' if description else ''}; "
                           f"add `{key}` to layer `{ctx.layer.name}`", "type",
                   help=f"add `{key}: <value>` to layer `{ctx.layer.name}`")


def _checked_shape(shape) -> Shape:
    if not isinstance(shape, (tuple, list)) or not all(type(d) is int for d in shape):
        raise TypeError(f"infer() returned {show(shape)}, not a tuple of ints")
    return tuple(shape)


MAX_COUNT_BITS = 1024
"""Largest parameter or MAC count taken from a plugin, in bits: far beyond any network, and small
enough that totals stay cheap to add and print (Python prints at most 4300 digits)."""


def _checked_count(count, method: str = "count_params") -> int:
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise TypeError(f"{method}() returned {show(count)}, not a count")
    if count.bit_length() > MAX_COUNT_BITS:
        raise ValueError(f"{method}() returned {show(count)}, more than 2**{MAX_COUNT_BITS}")
    return count


def format_shape(shape) -> str:
    """``1×64×56×56`` for a shape tuple, ``?`` for ``None``."""
    return "?" if shape is None else "×".join(str(dim) for dim in shape)


class LayerChecker:
    """Checks one layer of ``spec`` at given input shapes, exactly as :func:`analyze` does in its walk.

    Calling it with a :class:`~convlint.spec.model.Layer` and its input shapes (in
    ``from`` order, ``None`` for an input that could not be computed) returns the
    output shape (``None`` when the layer fails) and the layer's findings.  The
    size solver uses it to re-check only the layers whose input sizes change.
    """

    def __init__(self, spec: Spec, registry: Registry):
        self._run = _Run(spec, registry)

    def __call__(self, layer: Layer, inputs: list[Shape | None]) -> tuple[Shape | None, list[Finding]]:
        info, findings = _infer_layer(self._run, layer, inputs)
        return info.shape, findings


def spec_findings(spec: Spec, registry: Registry) -> list[Finding]:
    """The findings :func:`analyze` reports that belong to no layer's inference: the spec's own
    (structure, YAML) and the plugins' (X001).  Cycles (G002) are not included."""
    return list(spec.findings) + _plugin_problems(spec, registry)
