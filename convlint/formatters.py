"""Printing findings and summaries. Formatters only print; they decide nothing."""
from __future__ import annotations

import json

from .findings import Finding, Severity
from .infer import format_shape


def concise(findings: list[Finding]) -> str:
    """One line per finding: ``path:line:col: CODE message``."""
    return "".join(
        f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}{f' [{f.layer}]' if f.layer else ''}\n"
        for f in findings
    )


def lint_json(findings: list[Finding]) -> str:
    """A JSON list of finding objects (path, line, column, code, severity, layer, message), one per line."""
    if not findings:
        return "[]\n"
    rows = ",\n  ".join(json.dumps(finding.to_json(), ensure_ascii=False) for finding in findings)
    return f"[\n  {rows}\n]\n"


def lint_tally(findings: list[Finding], checked: int) -> str:
    """The closing line: ``Found 3 problems (2 errors, 1 warning) in 2 of 6 specs.`` or all clear."""
    if not findings:
        return f"All checks passed ({checked} spec{'s' if checked != 1 else ''} checked).\n"
    counts = {severity: sum(1 for f in findings if f.severity is severity) for severity in Severity}
    parts = [f"{count} {severity.value}{'s' if count != 1 else ''}" for severity, count in counts.items() if count]
    files = len({f.path for f in findings})
    return (f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''} ({', '.join(parts)}) "
            f"in {files} of {checked} spec{'s' if checked != 1 else ''}.\n")


def _thousands(value) -> str:
    return "—" if value is None else f"{value:,}"


def summary_table(summary: dict) -> str:
    """A torchinfo-style table of one spec: layer (type), output shape, params, and totals."""
    rows = [(f"{layer['name']} ({layer['type']})",
             "?" if layer["output_shape"] is None else format_shape(layer["output_shape"]),
             "—" if layer["params"] is None else _thousands(layer["params"]))
            for layer in summary["layers"]]
    header = ("Layer (type)", "Output shape", "Params")
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) if rows else len(header[i]) for i in range(3)]
    rule = "=" * (sum(widths) + 4)
    line = lambda row: f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}".rstrip() + "\n"
    text = f"{summary['name']}  ({summary['path']})\n{rule}\n{line(header)}{rule}\n"
    text += "".join(line(row) for row in rows)
    text += f"{rule}\nTotal params: {_thousands(summary['total_params'])}\n"
    errors = [d for d in summary["diagnostics"] if d["severity"] == "error"]
    if summary["diagnostics"]:
        text += f"{len(summary['diagnostics'])} finding(s), {len(errors)} error(s): run `convlint lint` for details\n"
    return text
