"""The ``json`` format of ``convlint lint``: a JSON list of the findings.  Formatters only print; they decide
nothing."""
from __future__ import annotations

import json

from convlint.escaping import MAX_SHOWN, encodable_values, has_undecodable
from convlint.findings import Finding
from convlint.report.lint_output import LintOutput

_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""Encodes as ``json.dumps(data, ensure_ascii=False)`` does, without building an encoder for each row."""


def lint_json(findings: list[Finding]) -> str:
    """A JSON list of finding objects (path, line, column, code, severity, layer, message), one per line."""
    if not findings:
        return "[]\n"
    rows = ",\n  ".join(_json_row(finding.to_json()) for finding in findings)
    if has_undecodable(rows):  # a file name with a byte that is not UTF-8: one search over all rows
        rows = ",\n  ".join(_ENCODER.encode(encodable_values(finding.to_json())) for finding in findings)
    return f"[\n  {rows}\n]\n"


def _json_row(data: dict) -> str:
    """One finding as JSON, its strings cut to the shown length when one of them is longer (undecodable
    bytes are left to :func:`lint_json`'s search).  A row holds each of its strings, so only a row longer
    than the shown length can need a cut: the common short row is encoded once and measured, not
    searched value by value."""
    row = _ENCODER.encode(data)
    return row if len(row) <= MAX_SHOWN else _ENCODER.encode(encodable_values(data))


def render(output: LintOutput) -> str:
    """:func:`lint_json` of the run's findings."""
    return lint_json(output.findings)
