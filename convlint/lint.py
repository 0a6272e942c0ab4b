"""Linting files: from paths on the command line to findings, one file at a time."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from . import api
from .findings import Finding
from .gc_pause import paused_gc
from .files import TooLargeFile, UnreadableFile, iter_yaml_files, read_text
from .graph import build_graph
from .plugins import Registry
from .rules import RULES
from .spec import SPEC_MARKER, NotASpec, Spec, parse_spec


@dataclass
class FileResult:
    """The outcome for one file: its findings, and ``spec`` (``None`` if skipped or unreadable)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    spec: Spec | None = None
    skipped: bool = False


@dataclass
class LintReport:
    """Findings of a whole run and the number of spec files checked."""

    results: list[FileResult]

    @property
    def findings(self) -> list[Finding]:
        """All findings, file by file, in source order."""
        return [finding for result in self.results for finding in result.findings]

    @property
    def checked(self) -> int:
        """How many files were specs (not skipped)."""
        return sum(1 for result in self.results if not result.skipped)


def _file_finding(path: str, code: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(code, RULES[code].severity, message, path, line, column, None)


def load_file(path: Path) -> FileResult:
    """Read and parse one file; unreadable files and YAML errors become findings, non-specs are skipped."""
    name = str(path)
    try:
        text = read_text(path)
    except TooLargeFile as error:
        if not SPEC_MARKER.search(error.head.decode("utf-8", "replace")):
            return FileResult(name, skipped=True)  # a large YAML file that is no spec
        return FileResult(name, [_file_finding(name, "Y001", str(error))])
    except UnreadableFile as error:
        return FileResult(name, [_file_finding(name, "Y001", str(error), error.line, error.column)])
    try:
        spec = parse_spec(text, name)
    except NotASpec:
        return FileResult(name, skipped=True)
    build_graph(spec)
    return FileResult(name, spec=spec)


def lint_file(path: Path, registry: Registry) -> FileResult:
    """Lint one file; an unexpected exception becomes an X002 finding instead of a crash."""
    try:
        with paused_gc():
            result = load_file(path)
            if result.spec is not None:
                result.findings = api.lint(result.spec, registry)
    except Exception as error:  # the last line of defence: report, go on with the next file
        return FileResult(str(path), [_file_finding(str(path), "X002",
                                                    f"internal error: {type(error).__name__}: {error}")])
    return result


def lint_paths(paths: Iterable[str | Path], registry: Registry) -> LintReport:
    """Lint every spec under ``paths``. Raises ``FileNotFoundError`` for a missing path."""
    return LintReport([lint_file(path, registry) for path in iter_yaml_files(paths)])
