"""LSP answers built from an analysed spec: diagnostics, inlay hints, hovers, code actions,
completions and definitions.  Positions inside are 0-based code points; ``Codec`` converts them
to the client's encoding."""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from lsprotocol import types

from convlint.analysis.infer import format_shape
from convlint.findings import Finding, Severity
from convlint.layers.registry import Registry
from convlint.report.full import KEY_AT
from convlint.server import analysis_adapter as adapter
from convlint.server.analysis_adapter import LayerFacts, SpecFacts
from convlint.server.edits import Edit, add_noqa, rename_keyword, set_keyword

SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
              Severity.INFO: types.DiagnosticSeverity.Information}
SOURCE = "convlint"
WORD = re.compile(r"[\w.\-]+")
REFERENCE = re.compile(r"\b(from|like)\s*:\s*\[?(?:\s*[\w.\-]+\s*,)*\s*[\w.\-]*$")
TYPE_VALUE = re.compile(r"\btype\s*:\s*[\w.\-]*$")
KEY_START = re.compile(r"(?:^\s*-?\s*|[{,]\s*)[\w]*$")
TYPE_ON_LINE = re.compile(r"\btype\s*:\s*([\w.\-]+)")


class Codec:
    """Converts 0-based code-point positions of ``lines`` to and from the client's units."""

    def __init__(self, codec, lines: Sequence[str]):
        self.codec, self.lines = codec, list(lines) or [""]

    def position(self, line: int, column: int) -> types.Position:
        return self.codec.position_to_client_units(self.lines, types.Position(line=line, character=column))

    def range(self, start: tuple[int, int], end: tuple[int, int]) -> types.Range:
        return types.Range(start=self.position(*start), end=self.position(*end))

    def from_client(self, position: types.Position) -> tuple[int, int]:
        server = self.codec.position_from_client_units(self.lines, position)
        return server.line, server.character

    def line_text(self, line: int) -> str:
        return self.lines[line].rstrip("\r\n") if 0 <= line < len(self.lines) else ""


def diagnostics(facts: SpecFacts, codec: Codec) -> list[types.Diagnostic]:
    """One diagnostic per finding, over the key (or comment) the finding points at."""
    found = []
    for finding in facts.findings:
        line, column = max(finding.line - 1, 0), max(finding.column - 1, 0)
        key = KEY_AT.match(codec.line_text(line), column)
        end = column + (len(key.group()) if key else 1)
        found.append(types.Diagnostic(
            range=codec.range((line, column), (line, end)),
            message=finding.message + (f" [{finding.layer}]" if finding.layer else ""),
            severity=SEVERITIES[finding.severity], code=finding.code, source=SOURCE,
            code_description=types.CodeDescription(href=adapter.rule_url(finding.code)),
        ))
    return found


def hint_label(layer: LayerFacts) -> str:
    """``→ 1×64×56×56 · 1,792 params`` (the parameter count left out when there are none)."""
    label = f"→ {format_shape(layer.shape)}"
    if layer.shape is not None and layer.params:
        label += f" · {layer.params:,} params"
    return label


def inlay_hints(facts: SpecFacts, codec: Codec, first: int, last: int) -> list[types.InlayHint]:
    """A hint at the end of each layer's first line from 0-based ``first`` to ``last``; lines that
    several layers share (block templates, written once for every instance) get none."""
    spec = facts.spec
    if spec is None:
        return []
    shared = Counter(layer.line for layer in spec.layers)
    hints = []
    for layer in spec.layers:
        line = layer.line - 1
        if shared[layer.line] != 1 or not first <= line <= last or layer.name not in facts.layers:
            continue
        hints.append(types.InlayHint(position=codec.position(line, len(codec.line_text(line))),
                                     label=hint_label(facts.layers[layer.name]), padding_left=True))
    return hints


def _word_at(text: str, column: int) -> tuple[str, int] | None:
    for match in WORD.finditer(text):
        if match.start() <= column <= match.end():
            return match.group(), match.start()
    return None


def hover(facts: SpecFacts, codec: Codec, line: int, column: int, registry: Registry) -> types.Hover | None:
    """A keyword's doc when hovering a keyword, a type's doc on its name, else the layer's numbers."""
    layer = adapter.layer_at_line(facts, line + 1)
    if layer is None:
        return None
    text = codec.line_text(line)
    word = _word_at(text, column)
    layer_type = adapter.layer_types(registry).get(layer.type)
    if word is not None and layer_type is not None:
        name, start = word
        after = text[start + len(name):].lstrip()
        docs = {keyword: (default, doc) for keyword, default, doc in adapter.keyword_docs(layer_type)}
        if name in docs and after.startswith(":"):
            default, doc = docs[name]
            return _markdown(f"**{name}** of {layer_type.name} (default: `{default}`)\n\n{doc}")
        if name == layer_type.name and TYPE_VALUE.search(text[:start + len(name)]):
            return _markdown(f"**{layer_type.name}** ({layer_type.family})\n\n{adapter.type_doc(layer_type)}")
    return _markdown(layer_hover(facts, layer, registry))


def layer_hover(facts: SpecFacts, layer: LayerFacts, registry: Registry) -> str:
    """The Markdown of a layer's hover: output shape, size arithmetic per axis, params, MACs, RF."""
    parts = [f"**{layer.name}** ({layer.type}) {hint_label(layer)}"]
    arithmetic = adapter.arithmetic_lines(facts, layer.name)
    if arithmetic:
        parts.append("```\n" + "\n".join(arithmetic) + "\n```")
    numbers = [f"params: {'—' if layer.params is None else f'{layer.params:,}'}"]
    if layer.macs is not None:
        numbers.append(f"MACs: {layer.macs:,}")
    field = adapter.receptive_field(facts, layer.name, registry)
    if field is not None:
        numbers.append("receptive field: " + "×".join(map(str, field)))
    parts.append(" · ".join(numbers))
    return "\n\n".join(parts)


def _markdown(text: str) -> types.Hover:
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


def _workspace_edit(uri: str, codec: Codec, *edits: Edit) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(changes={uri: [types.TextEdit(range=codec.range(start, end), new_text=text)
                                              for start, end, text in edits]})


def _fix_edits(codec: Codec, layer, fix) -> list[Edit] | None:
    """The edits that apply every rename and change of ``fix`` to ``layer``; keys added at the same
    place are written in one insertion.  ``None`` when a change cannot be placed."""
    by_place: dict = {}
    for old, new in fix.renames:
        edit = rename_keyword(codec.lines, layer, old, new)
        if edit is None:
            return None
        by_place[edit[0], edit[1]] = edit[2]
    for key, value in fix.changes:
        edit = set_keyword(codec.lines, layer, key, adapter.yaml_value(value))
        if edit is None:
            return None
        start, end, text = edit
        if (start, end) in by_place and start == end:  # two keys added where the mapping ends
            text = by_place[start, end] + text
        by_place[start, end] = text
    return [(start, end, text) for (start, end), text in by_place.items()]


def code_actions(facts: SpecFacts, codec: Codec, uri: str, first: int, last: int) -> list[types.CodeAction]:
    """For each finding on 0-based lines ``first``..``last``: its fix (when it has one) and a noqa."""
    if facts.spec is None:
        return []
    actions = []
    for finding in facts.findings:
        if not first <= finding.line - 1 <= last or finding.line < 1:
            continue
        diagnostic = diagnostics(SpecFacts([finding], facts.spec, {}, facts.parsed), codec)
        fix = adapter.fix_of(finding, facts)
        layer = facts.spec.layer_by_name.get(finding.layer) if finding.layer else None
        target = facts.spec.layer_by_name.get(fix.layer) if fix is not None else None
        edits = _fix_edits(codec, target, fix) if target is not None else None
        if edits and fix is not None:
            actions.append(types.CodeAction(title=f"{adapter.fix_title(fix)} ({finding.code})",
                                            kind=types.CodeActionKind.QuickFix,
                                            diagnostics=diagnostic, is_preferred=True,
                                            edit=_workspace_edit(uri, codec, *edits)))
        actions.append(types.CodeAction(title=f"Suppress {finding.code} with a noqa comment",
                                        kind=types.CodeActionKind.QuickFix, diagnostics=diagnostic,
                                        edit=_workspace_edit(uri, codec, _noqa_edit(codec, finding, layer))))
    return actions


def _noqa_edit(codec: Codec, finding: Finding, layer) -> Edit:
    line = layer.line if layer is not None else finding.line
    return add_noqa(codec.lines, line, finding.code)


def completions(facts: SpecFacts | None, codec: Codec, line: int, column: int,
                registry: Registry) -> list[types.CompletionItem]:
    """Layer types after ``type:``, layer names after ``from:``/``like:``, else the keywords of the
    line's layer type with their defaults and docs."""
    before = codec.line_text(line)[:column]
    types_by_name = adapter.layer_types(registry)
    if TYPE_VALUE.search(before):
        return [types.CompletionItem(label=name, kind=types.CompletionItemKind.Class, detail=layer_type.family,
                                     documentation=adapter.type_doc(layer_type))
                for name, layer_type in sorted(types_by_name.items())]
    if REFERENCE.search(before):
        spec = facts.spec if facts else None
        names = list(spec.inputs) + [layer.name for layer in spec.layers] if spec else []
        return [types.CompletionItem(label=name, kind=types.CompletionItemKind.Reference)
                for name in dict.fromkeys(names)]
    typed = TYPE_ON_LINE.search(codec.line_text(line))
    layer_type = types_by_name.get(typed.group(1)) if typed else None
    if layer_type is None or not KEY_START.search(before):
        return []
    written = set(re.findall(r"([\w]+)\s*:", codec.line_text(line)))
    return [types.CompletionItem(label=name, kind=types.CompletionItemKind.Property, detail=f"default: {default}",
                                 documentation=doc, insert_text=f"{name}: ")
            for name, default, doc in adapter.keyword_docs(layer_type) if name not in written]


def definition(facts: SpecFacts, codec: Codec, uri: str, line: int, column: int, text: str) -> types.Location | None:
    """From a name in ``from:``/``like:`` to that layer (or input); from a block's use to the block."""
    spec = facts.spec
    current = codec.line_text(line)
    word = _word_at(current, column)
    if spec is None or word is None:
        return None
    name, start = word
    before = current[:start + len(name)]
    target = None
    if REFERENCE.search(before):
        if name in spec.layer_by_name:
            target = spec.layer_by_name[name].position_of(None)
        elif name in spec.inputs:
            target = (spec.inputs[name].line, spec.inputs[name].column)
    elif TYPE_VALUE.search(before):
        target = adapter.block_definitions(text).get(name)
    if target is None:
        return None
    position = (target[0] - 1, target[1] - 1)
    return types.Location(uri=uri, range=codec.range(position, position))
