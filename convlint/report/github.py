"""The ``github`` format of ``convlint lint``: GitHub Actions workflow commands, which annotate the lines of a
pull request.  Formatters only print; they decide nothing."""
from __future__ import annotations

from convlint.escaping import printable
from convlint.findings import Finding, Severity
from convlint.report.lint_output import LintOutput

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


def render(output: LintOutput) -> str:
    """:func:`github` commands of the run's findings."""
    return github(output.findings)
