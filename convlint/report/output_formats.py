"""The ``lint`` output formats beside concise and JSON: full (source excerpts), GitHub workflow
annotations, and SARIF 2.1.0.  Formatters only print; they decide nothing."""
from __future__ import annotations

import json
import os
import re
from typing import Mapping
from urllib.parse import quote

from convlint.escaping import encodable, printable
from convlint.findings import Finding, Severity
from convlint.report.rule_docs import doc_sections
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


GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[Finding]) -> str:
    """One GitHub Actions workflow command per finding: ``::error file=…,line=…,col=…,title=CODE::message``."""
    lines = []
    for finding in findings:
        properties = [f"file={_escape_property(finding.path)}"]
        if finding.line:
            properties += [f"line={finding.line}", f"col={finding.column}"]
        properties.append(f"title={_escape_property(finding.code)}")
        layer = f" [{finding.layer}]" if finding.layer else ""
        fix = f" (fix: {finding.fix.describe()})" if finding.fix is not None else ""
        lines.append(f"::{GITHUB_COMMANDS[finding.severity]} {','.join(properties)}::"
                     f"{_escape_data(finding.code + ' ' + finding.message + layer + fix)}\n")
    return "".join(lines)


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _sarif_rule(rule: Rule) -> dict:
    sections = doc_sections(rule)
    help_text = "\n".join(f"{heading}: {text}" for heading, text in sections.items())
    return {
        "id": rule.code,
        "name": rule.title,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": sections.get("What it does", rule.title)},
        "help": {"text": help_text or rule.title},
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity], "enabled": rule.default_enabled},
    }


def _sarif_result(finding: Finding, index: Mapping[str, int]) -> dict:
    uri = quote(os.fsencode(finding.path).replace(b"\\", b"/"))  # undecodable bytes as %XX
    location: dict = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
    if finding.line >= 1:
        location["physicalLocation"]["region"] = {"startLine": finding.line, "startColumn": max(finding.column, 1)}
    if finding.layer:
        location["logicalLocations"] = [{"name": encodable(finding.layer), "kind": "object"}]
    result = {"ruleId": finding.code, "level": SARIF_LEVELS[finding.severity],
              "message": {"text": encodable(finding.message)}, "locations": [location]}
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.fix is not None:  # a SARIF `fixes` entry needs byte ranges: the change goes in a property bag
        result["properties"] = {"fix": finding.fix.to_json()}
    return result


def sarif(findings: list[Finding], rules: Mapping[str, Rule], version: str) -> str:
    """A SARIF 2.1.0 log with one run: every known rule in ``tool.driver.rules``, one result per finding."""
    catalogue = list(rules.values())
    index = {rule.code: position for position, rule in enumerate(catalogue)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "convlint", "version": version,
                                "rules": [_sarif_rule(rule) for rule in catalogue]}},
            "columnKind": "unicodeCodePoints",
            "results": [_sarif_result(finding, index) for finding in findings],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
