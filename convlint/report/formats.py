"""The output formats of ``convlint lint`` by name: one module of :mod:`convlint.report` per format,
each with ``render(output: LintOutput) -> str``."""
from __future__ import annotations

from convlint.report import concise, full, github, json_findings, sarif
from convlint.report.lint_output import Format, LintOutput

FORMATS: dict[str, Format] = {
    "full": full,
    "concise": concise,
    "json": json_findings,
    "github": github,
    "sarif": sarif,
}
"""Format name (``--format``) → its module, in the order ``--help`` lists them."""


def render(name: str, output: LintOutput) -> str:
    """The text of the format called ``name`` (a key of :data:`FORMATS`) for ``output``."""
    return FORMATS[name].render(output)
