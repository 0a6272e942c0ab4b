"""Findings: what the linter reports, as plain data."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    """How bad a finding is: ``error`` breaks the network, ``warning`` loses data."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Fix:
    """A change to the spec that removes a finding: set each keyword in ``changes`` on ``layer``.

    ``changes`` holds ``(keyword, value)`` pairs, the value as written in YAML (an int, or a list
    with one entry per spatial axis).  ``outcome`` says what the change does to the layer's output
    (``output stays 2×2``).
    """

    layer: str
    changes: tuple[tuple[str, object], ...]
    outcome: str = ""

    def describe(self) -> str:
        """``set kernel_size: 3, stride: 2 on `pool` (output stays 2×2)``."""
        edits = ", ".join(f"{key}: {value}" for key, value in self.changes)
        return f"set {edits} on `{self.layer}`" + (f" ({self.outcome})" if self.outcome else "")

    def to_json(self) -> dict:
        """``{"layer": …, "set": {keyword: value}, "outcome": …, "description": …}``."""
        return {"layer": self.layer, "set": dict(self.changes), "outcome": self.outcome,
                "description": self.describe()}


@dataclass(frozen=True)
class Finding:
    """One problem at one place in one spec file.

    ``line`` and ``column`` are 1-based positions in the YAML source (0 when
    the problem has no place, e.g. an unreadable file).  ``layer`` is the
    layer's name, or ``None`` for file- and spec-level problems.  ``fix``, when known, is a change
    that removes the finding without bringing another; ``help`` says in words what to change.
    """

    code: str
    severity: Severity
    message: str
    path: str = ""
    line: int = 0
    column: int = 0
    layer: str | None = None
    fix: Fix | None = None
    help: str | None = None
    """The change to make, in words, when it is particular to this finding but not a :class:`Fix`."""

    def to_json(self) -> dict:
        """The JSON object of the lint contract: path, line, column, code, severity, layer, message and
        fix (``None``, or :meth:`Fix.to_json`)."""
        return {"path": self.path, "line": self.line, "column": self.column, "code": self.code,
                "severity": self.severity.value, "layer": self.layer, "message": self.message,
                "fix": None if self.fix is None else self.fix.to_json()}
