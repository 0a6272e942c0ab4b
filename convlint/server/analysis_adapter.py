"""The language server's one door into convlint: findings, per-layer facts, fixes and keyword docs.

Everything the server shows comes from the functions here, so the editor sees exactly what
``convlint lint`` and ``convlint summary`` print: findings through the lint runner (configuration,
noqa comments, plugins, budgets), shapes and parameter counts from the same inference (symbolic
shapes from the size solver when the spec names its input sizes), and receptive fields from
:mod:`convlint.analysis.receptive_field`.  Nothing here knows about LSP types.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from convlint.analysis.infer import Analysis
from convlint.analysis.window_findings import axis_symbols
from convlint.findings import Finding, Fix
from convlint.layers.keywords import REQUIRED
from convlint.layers.layer_type import LayerType
from convlint.layers.registry import Registry
from convlint.linting.config import Config, load_config
from convlint.linting.runner import lint_file
from convlint.spec.model import Spec
from convlint.spec.yaml_source import Node, load_yaml

if TYPE_CHECKING:
    from convlint.analysis.receptive_field import ReceptiveFields

RULE_DOCS_URL = "https://github.com/your-org/convlint/blob/main/docs/rules.md"
"""The rule catalogue page (``convlint rule --markdown``); each rule has an anchor named after its code."""


@dataclass
class LayerFacts:
    """What the server shows of one layer: ``shape`` (ints, or strings for sizes that depend on named
    input sizes; ``None`` after a failure), learnable ``params``, ``macs`` of one forward pass, and the
    shapes it reads (``input_shapes``; empty when unknown)."""

    name: str
    type: str
    line: int
    column: int
    shape: list | None
    params: int | None
    macs: int | None = None
    input_shapes: list = field(default_factory=list)


@dataclass
class SpecFacts:
    """The result of analysing one text: its findings (as ``convlint lint`` reports them), the parsed
    ``spec`` (``None`` when the text is no spec), its layers by name, and whether the YAML parsed."""

    findings: list[Finding]
    spec: Spec | None
    layers: dict[str, LayerFacts]
    parsed: bool
    analysis: Analysis | None = None
    receptive_fields: ReceptiveFields | None = None
    """The :class:`~convlint.analysis.receptive_field.ReceptiveFields` of ``analysis``, made on first use."""


def config_for(path: Path) -> Config:
    """The configuration ``convlint lint`` uses for ``path``: the nearest ``[tool.convlint]`` table."""
    return load_config(start=path.parent)


def analyse_text(text: str, path: Path, registry: Registry, config: Config) -> SpecFacts:
    """Lint and infer ``text`` (the editor's content of ``path``) as ``convlint lint`` would the file."""
    result = lint_file(path, registry, config, text=text)
    spec = result.spec
    if spec is None:  # unreadable (findings), or YAML that is no spec (skipped quietly, as `lint` does)
        return SpecFacts(result.findings, None, {}, parsed=False)
    parsed = not any(finding.code == "Y001" for finding in spec.findings)
    analysis = result.checked.analysis if result.checked is not None else None
    if spec.size_names:  # shapes as expressions; the analysis holds them at stated sizes only
        return SpecFacts(result.findings, spec, _symbolic_layers(spec, registry, analysis), parsed)
    layers = _numeric_layers(spec, analysis) if analysis is not None else {}
    return SpecFacts(result.findings, spec, layers, parsed, analysis)


def _numeric_layers(spec: Spec, analysis: Analysis) -> dict[str, LayerFacts]:
    facts = {}
    for layer in spec.layers:
        node = analysis.nodes.get(layer.name)
        if node is None:
            facts[layer.name] = LayerFacts(layer.name, layer.type or "?", layer.line, layer.column, None, None)
            continue
        facts[layer.name] = LayerFacts(layer.name, node.type, layer.line, layer.column,
                                       None if node.shape is None else list(node.shape), node.params, node.macs,
                                       [list(shape) for shape in node.input_shapes if shape is not None])
    return facts


def _symbolic_layers(spec: Spec, registry: Registry, analysis: Analysis | None) -> dict[str, LayerFacts]:
    """Shapes as expressions of the named input sizes (as ``summary`` prints them); parameter counts
    from the pipeline's analysis at the stated sizes."""
    from convlint.sizes.named import symbolic_shapes

    shapes = symbolic_shapes(spec, registry)
    facts = {}
    for layer in spec.layers:
        node = analysis.nodes.get(layer.name) if analysis is not None else None
        facts[layer.name] = LayerFacts(layer.name, layer.type or "?", layer.line, layer.column,
                                       shapes.get(layer.name), None if node is None else node.params)
    for name, fact in facts.items():
        sources = spec.layer_by_name[name].sources
        shapes_read = [facts[source].shape if source in facts else _input_shape(spec, source) for source in sources]
        fact.input_shapes = [shape for shape in shapes_read if shape is not None]
    return facts


def _input_shape(spec: Spec, name: str) -> list | None:
    decl = spec.inputs.get(name)
    return None if decl is None else list(decl.shape)


def receptive_field(facts: SpecFacts, name: str, registry: Registry) -> list[int] | None:
    """The receptive field of layer ``name`` in input pixels per spatial axis (``None`` when unknown)."""
    if facts.analysis is None:
        return None
    from convlint.analysis.receptive_field import ReceptiveFields

    if facts.receptive_fields is None:
        facts.receptive_fields = ReceptiveFields(facts.analysis, registry)
    axes = facts.receptive_fields.of(name)
    return None if axes is None else [axis.size for axis in axes]


def arithmetic_lines(facts: SpecFacts, name: str) -> list[str]:
    """The size arithmetic of layer ``name``: each spatial axis from input to output size, then the
    arithmetic of each of its findings (as the ``full`` format prints it)."""
    layer = facts.layers[name]
    lines = []
    if layer.shape is not None and layer.input_shapes:
        source = layer.input_shapes[0]
        spatial_in, spatial_out = source[2:], layer.shape[2:]
        if len(source) > 2 and len(spatial_in) == len(spatial_out):
            for symbol, size_in, size_out in zip(axis_symbols(len(spatial_in)), spatial_in, spatial_out):
                lines.append(f"{symbol}: {size_in} → {size_out}")
    for finding in facts.findings:
        if finding.layer == name:
            lines.append(f"{finding.code}: {finding.message}")
    return lines


def layer_at_line(facts: SpecFacts, line: int) -> LayerFacts | None:
    """The layer written on 1-based ``line``: its mapping starts there or one of its keys is there;
    ``None`` when no single layer is (block templates are shared by their instances)."""
    found = [layer for layer in facts.spec.layers if layer.line == line
             or any(key_line == line for key_line, _ in layer.key_positions.values())] if facts.spec else []
    return facts.layers.get(found[0].name) if len(found) == 1 else None


def layer_types(registry: Registry) -> dict[str, LayerType]:
    """The loaded layer types by name (the ``type:`` values a spec may use)."""
    return registry.types


def keyword_docs(layer_type: LayerType) -> list[tuple[str, str, str]]:
    """(keyword, default as YAML text or ``required``, doc) of each keyword of ``layer_type``."""
    rows = []
    for name, keyword in layer_type.keywords.items():
        default = "required" if keyword.default is REQUIRED else yaml_value(keyword.default)
        rows.append((name, default, keyword.doc))
    return rows


def type_doc(layer_type: LayerType) -> str:
    """The layer type's documentation: its class docstring's first paragraph."""
    doc = (type(layer_type).__doc__ or "").strip()
    return doc.split("\n\n")[0] if doc else f"{layer_type.name} ({layer_type.family})"


def block_definitions(text: str) -> dict[str, tuple[int, int]]:
    """Block name → 1-based (line, column) of its definition under ``blocks:`` (empty when none)."""
    document = load_yaml(text)
    blocks = document.data.get("blocks") if isinstance(document.data, dict) else None
    if not isinstance(blocks, Node):
        return {}
    return {name: blocks.position_of(name) for name in blocks if isinstance(name, str)}


def fix_of(finding: Finding, facts: SpecFacts) -> Fix | None:
    """The change a finding suggests: its structured :attr:`~convlint.findings.Finding.fix`, when the
    layer it changes is in the analysed text; ``None`` otherwise."""
    fix = finding.fix
    return fix if fix is not None and fix.layer in facts.layers else None


def fix_title(fix: Fix) -> str:
    """The code action's title: ``Use type Conv2d``, ``Rename `kernal_size` to `kernel_size```, or
    ``Set kernel_size: 3, stride: 2``."""
    if not fix.renames and len(fix.changes) == 1 and fix.changes[0][0] == "type":
        return f"Use type {fix.changes[0][1]}"
    parts = [f"Rename `{old}` to `{new}`" for old, new in fix.renames]
    if fix.changes:
        parts.append("Set " + ", ".join(f"{key}: {yaml_value(value)}" for key, value in fix.changes))
    return "; ".join(parts)


def rule_url(code: str) -> str:
    """The link to ``code``'s entry in the rule catalogue."""
    return f"{RULE_DOCS_URL}#{code.lower()}"


def rule_title(code: str, registry: Registry) -> str:
    """The rule's one-line title, or the code when the rule is unknown."""
    rule = registry.rules.get(code)
    return rule.title if rule else code


def yaml_value(value) -> str:
    """``value`` as YAML flow text: ``true``, ``null``, ``[3, 2]``, ``Conv2d``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    return str(value)
