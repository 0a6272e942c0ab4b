"""The ``concise`` format of ``convlint lint``: one line per finding, then the tally.  Formatters only print;
they decide nothing."""
from __future__ import annotations

from convlint.escaping import printable
from convlint.findings import Finding, Severity
from convlint.report.lint_output import LintOutput
from convlint.report.tally import lint_tally


SEVERITY_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
"""ANSI colours of the rule code by severity: red, yellow, cyan."""


def paint(text: str, code: str, colour: bool) -> str:
    """``text`` in the ANSI style ``code`` (``"1"`` bold, ``"31"`` red, ...) when ``colour``, else as is."""
    return f"\033[{code}m{text}\033[0m" if colour else text


def concise(findings: list[Finding], colour: bool = False) -> str:
    """One line per finding: ``path:line:col: CODE message`` (untrusted text escaped, see
    convlint.escaping; path bold, code by severity when ``colour``)."""
    return "".join(
        f"{paint(f'{printable(f.path)}:{f.line}:{f.column}:', '1', colour)} "
        f"{paint(f.code, SEVERITY_COLOURS[f.severity], colour)} {printable(f.message)}"
        f"{f' [{printable(f.layer)}]' if f.layer else ''}{f' (fix: {printable(f.fix.describe())})' if f.fix else ''}\n"
        for f in findings
    )


def render(output: LintOutput) -> str:
    """:func:`concise` lines (coloured when ``output.colour``), then :func:`~convlint.report.tally.lint_tally`."""
    return concise(output.findings, output.colour) + lint_tally(output.findings, output.checked, output.skipped)
