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
    """A change to the spec that removes a finding: on ``layer``, rename each key in ``renames``, then
    set each keyword in ``changes``.

    ``changes`` holds ``(keyword, value)`` pairs, the value as written in YAML (an int, a bool, a
    string such as a layer type, or a list with one entry per spatial axis).  ``renames`` holds
    ``(written key, new key)`` pairs whose values stay as written.  ``outcome`` says what the change
    does to the layer's output (``output stays 2×2``).  Every rule that suggests a concrete edit
    builds its ``Fix`` where it makes the finding; tools apply it without reading the message.
    """

    layer: str
    changes: tuple[tuple[str, object], ...] = ()
    outcome: str = ""
    renames: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        """``set kernel_size: 3, stride: 2 on `pool` (output stays 2×2)``; ``rename `kernal_size` to
        `kernel_size` on `c1```."""
        edits = [f"rename `{old}` to `{new}`" for old, new in self.renames]
        if self.changes:
            edits.append("set " + ", ".join(f"{key}: {value}" for key, value in self.changes))
        return f"{'; '.join(edits)} on `{self.layer}`" + (f" ({self.outcome})" if self.outcome else "")

    def to_json(self) -> dict:
        """``{"layer": …, "set": {keyword: value}, "outcome": …, "description": …}``, with
        ``"rename": {old: new}`` when the fix renames keys."""
        data = {"layer": self.layer, "set": dict(self.changes), "outcome": self.outcome,
                "description": self.describe()}
        if self.renames:
            data["rename"] = dict(self.renames)
        return data


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
