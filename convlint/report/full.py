"""The ``full`` format of ``convlint lint`` (the default on a terminal): each finding with the YAML around it,
a caret under the offending key, the arithmetic and the fix; then the tally.  Formatters only print; they
decide nothing."""
from __future__ import annotations

import re
from typing import Mapping

from convlint.escaping import printable
from convlint.findings import Finding
from convlint.report.lint_output import LintOutput
from convlint.report.rule_docs import doc_sections
from convlint.report.tally import lint_tally
from convlint.rules import Rule
from convlint.spec.model import Spec

KEY_AT = re.compile(r"[\w-]+|#.*")
"""What the caret marks: the key at the finding's column, or a whole comment (for N001)."""
CONTEXT_LINES = 6
"""At most this many lines above the finding are shown to reach the start of its layer."""


MAX_EXCERPT_WIDTH = 160
"""Most characters of one source line shown in an excerpt: a window around the finding's column."""


def _clip(line: str, start: int) -> str:
    """At most :data:`MAX_EXCERPT_WIDTH` characters of ``line`` from ``start``, escaped for a terminal."""
    shown = printable(line[start:start + MAX_EXCERPT_WIDTH], MAX_EXCERPT_WIDTH)
    return ("…" if start else "") + shown + ("…" if len(line) > start + MAX_EXCERPT_WIDTH else "")


def _excerpt(finding: Finding, spec: Spec, lines: list[str]) -> list[str]:
    """The source lines around ``finding`` (``lines``: the spec's source, split once per spec), each
    clipped to a window around the finding's column, with a caret under the key."""
    if not 1 <= finding.line <= len(lines):
        return []
    start = finding.line
    layer = spec.layer_by_name.get(finding.layer) if finding.layer else None
    if layer is not None and 0 <= finding.line - layer.line <= CONTEXT_LINES:
        start = layer.line
    first, last = max(1, start - 1), min(len(lines), finding.line + 1)
    column = max(finding.column, 1)
    window = max(0, column - 1 - MAX_EXCERPT_WIDTH // 2)
    width = len(str(last))
    gutter = " " * width + " |"
    out = [gutter]
    for number in range(first, last + 1):
        out.append(f"{number:>{width}} | {_clip(lines[number - 1], window)}".rstrip())
        if number == finding.line:
            text = lines[number - 1]
            key = KEY_AT.match(text, column - 1, column - 1 + MAX_EXCERPT_WIDTH // 2)
            marker = "^" * (len(printable(key.group())) if key else 1)
            offset = len(printable(text[window:column - 1])) + (1 if window else 0)
            out.append(f"{gutter} {' ' * offset}{marker} {finding.code}")
    out.append(gutter)
    return out


def full(findings: list[Finding], specs: Mapping[str, Spec], rules: Mapping[str, Rule]) -> str:
    """Ruff-style findings: location, code and title, the YAML around the layer with a caret
    under the offending key, the arithmetic, and the fix (the finding's own, else the rule's advice).
    Linear in the findings and the source: each spec's source is split once, and each excerpt line is clipped."""
    blocks = []
    source_lines: dict[str, list[str]] = {}
    for finding in findings:
        rule = rules.get(finding.code)
        title = rule.title if rule else finding.severity.value
        layer = f" [{printable(finding.layer)}]" if finding.layer else ""
        block = [f"{printable(finding.path)}:{finding.line}:{finding.column}: {finding.code} {title}{layer}"]
        spec = specs.get(finding.path)
        excerpt = []
        if spec is not None:
            if finding.path not in source_lines:
                source_lines[finding.path] = spec.source.splitlines()
            excerpt = _excerpt(finding, spec, source_lines[finding.path])
        block += excerpt
        fix = finding.fix.describe() if finding.fix is not None else finding.help
        if fix is None and rule is not None:
            fix = doc_sections(rule).get("Fix")
        pad = " " * (excerpt[0].index("|") if excerpt else 0)
        block.append(f"{pad}= {finding.severity.value}: {printable(finding.message)}")
        if fix:
            block.append(f"{pad}= help: {printable(fix)}")
        blocks.append("\n".join(block) + "\n")
    return "\n".join(blocks) + ("\n" if blocks else "")


def render(output: LintOutput) -> str:
    """:func:`full` blocks of the run's findings, then :func:`~convlint.report.tally.lint_tally`."""
    return (full(output.findings, output.specs, output.rules)
            + lint_tally(output.findings, output.checked, output.skipped))
