"""What every output format of ``convlint lint`` is given, and what it must provide (see
:mod:`convlint.report.formats` for the formats by name)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

from convlint.findings import Finding
from convlint.rules import Rule
from convlint.spec.model import Spec


@dataclass(frozen=True)
class LintOutput:
    """The result of one ``convlint lint`` run, as the formats print it."""

    findings: list[Finding]
    """The findings to print, in the order of the run."""
    specs: Mapping[str, Spec]
    """The specs that parsed, by path: the source the full format quotes."""
    rules: Mapping[str, Rule]
    """Every known rule by code (built-in and from plugins)."""
    checked: int
    """How many specs were checked (the tally's count)."""
    skipped: int = 0
    """How many YAML files found in directories were skipped as not specs."""
    colour: bool = False
    """Whether the output may use ANSI colours."""


class Format(Protocol):
    """An output format: a module with a ``render`` function."""

    def render(self, output: LintOutput) -> str:
        """The whole text written to standard output for ``output``."""
        ...
