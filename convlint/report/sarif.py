"""The ``sarif`` format of ``convlint lint``: a SARIF 2.1.0 log, for code-scanning services.  Each finding
becomes one ``result`` (:func:`_sarif_result`), each rule of the catalogue one ``reportingDescriptor``
(:func:`_sarif_rule`).  Formatters only print; they decide nothing."""
from __future__ import annotations

import json
import os
from typing import Mapping
from urllib.parse import quote

from convlint.escaping import encodable
from convlint.findings import Finding, Severity
from convlint.report.lint_output import LintOutput
from convlint.report.rule_docs import doc_sections
from convlint.rules import Rule

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
    result: dict[str, object] = {"ruleId": finding.code, "level": SARIF_LEVELS[finding.severity],
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


def render(output: LintOutput) -> str:
    """:func:`sarif` of the run's findings and rules, with the installed convlint's version."""
    from importlib.metadata import version

    return sarif(output.findings, output.rules, version("convlint"))
