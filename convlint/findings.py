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
class Finding:
    """One problem at one place in one spec file.

    ``line`` and ``column`` are 1-based positions in the YAML source (0 when
    the problem has no place, e.g. an unreadable file).  ``layer`` is the
    layer's name, or ``None`` for file- and spec-level problems.
    """

    code: str
    severity: Severity
    message: str
    path: str = ""
    line: int = 0
    column: int = 0
    layer: str | None = None

    def to_json(self) -> dict:
        """The JSON object of the lint contract: path, line, column, code, severity, layer, message."""
        return {"path": self.path, "line": self.line, "column": self.column, "code": self.code,
                "severity": self.severity.value, "layer": self.layer, "message": self.message}
