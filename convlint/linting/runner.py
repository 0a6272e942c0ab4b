"""Linting files as ``convlint lint`` does: which files, which rules, which suppressions and budgets.

For each file: read it safely (unreadable files and YAML errors become findings, non-specs are
skipped), infer it, check its budget, keep the findings whose code the configuration enables for
that file, drop those a ``# convlint: noqa`` comment covers, and report unused suppressions (N001).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from convlint.linting.budget import check_budget
from convlint.linting.config import Config
from convlint.spec.files import TooLargeFile, UnreadableFile, iter_yaml_files, read_text
from convlint.findings import Finding
from convlint.spec.gc_pause import paused_gc
from convlint.linting.globs import matches_any, relative_posix
from convlint.analysis.graph import build_graph
from convlint.analysis.infer import Analysis, analyze
from convlint.sizes.named import lint_named_sizes
from convlint.sizes.nearest import with_nearest_sizes
from convlint.linting.noqa import apply_suppressions, find_suppressions, unused_suppressions
from convlint.layers.registry import Registry
from convlint.rules import RULES
from convlint.linting.selection import RuleSelection
from convlint.spec.model import SPEC_MARKER, NotASpec, Spec, parse_spec


@dataclass
class FileResult:
    """The outcome for one file: its findings, and ``spec`` (``None`` if skipped or unreadable)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    spec: Spec | None = None
    skipped: bool = False
    analysis: Analysis | None = None
    """The inference of a spec with numeric input sizes, kept for tools that show more than findings."""


def _file_finding(path: str, code: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(code, RULES[code].severity, message, path, line, column, None)


def load_file(path: Path, text: str | None = None) -> FileResult:
    """Read and parse one file (or ``text``, an editor's unsaved content of it); unreadable files and
    YAML errors become findings, non-specs are skipped."""
    name = str(path)
    try:
        text = read_text(path) if text is None else text
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


@dataclass
class RunReport:
    """Every file's result, and notes for the user (such as budget keys that cannot be checked)."""

    results: list[FileResult]
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """All findings, file by file, in source order."""
        return [finding for result in self.results for finding in result.findings]

    @property
    def checked(self) -> int:
        """How many files were specs (not skipped)."""
        return sum(1 for result in self.results if not result.skipped)


def select_files(paths: Iterable[str | Path], config: Config) -> list[Path]:
    """The files to lint: each named file and the YAML files below each named directory, less
    those ``exclude`` matches and, when ``include`` is configured, those it does not match."""
    chosen = []
    for raw in paths:
        for path in iter_yaml_files([raw]):
            relative = relative_posix(path, config.root)
            if matches_any(config.exclude, relative):
                continue
            if config.include is not None and not matches_any(config.include, relative):
                continue
            chosen.append(path)
    return chosen


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda finding: (finding.line, finding.column, finding.code))


def lint_file(path: Path, registry: Registry, config: Config | None = None, selection: RuleSelection | None = None,
              notes: list[str] | None = None, text: str | None = None) -> FileResult:
    """Lint one file (or ``text``, an editor's unsaved content of it) under ``config`` (default: no
    configuration); an unexpected exception becomes an X002 finding.  Notes for the user (budget keys
    that cannot be checked) are appended to ``notes``."""
    config = config or Config()
    selection = selection or RuleSelection(config, registry.rules)
    notes = notes if notes is not None else []
    name = str(path)
    try:
        with paused_gc():  # a large parse makes no garbage cycles worth collecting
            result = load_file(path, text)
            if result.spec is None:
                raw = result.findings
            elif result.spec.size_names:  # findings that hold for every value of the named sizes
                raw = lint_named_sizes(result.spec, registry)
            else:
                analysis = result.analysis = analyze(result.spec, registry)
                budget = check_budget(result.spec, analysis, config.budget, registry.rules)
                raw = analysis.findings + budget.findings
                notes.extend(budget.notes)
            enabled = [finding for finding in raw if selection.is_enabled(finding.code, name)]
            if enabled and result.spec is not None and not result.spec.size_names:
                enabled = with_nearest_sizes(result.spec, registry, _sorted(enabled))
            if result.spec is not None:
                suppressions = find_suppressions(result.spec)
                enabled = apply_suppressions(enabled, suppressions)
                if selection.is_enabled("N001", name):
                    enabled += unused_suppressions(suppressions, name, registry.rules,
                                                   lambda code: selection.is_enabled(code, name))
            result.findings = _sorted(enabled)
    except Exception as error:  # the last line of defence: report, go on with the next file
        message = f"internal error: {type(error).__name__}: {error}"
        return FileResult(name, [_file_finding(name, "X002", message)])
    return result


def lint_paths(paths: Iterable[str | Path], registry: Registry, config: Config | None = None) -> RunReport:
    """Lint every selected file.  Raises ``FileNotFoundError`` for a missing path and
    :class:`~convlint.linting.config.ConfigError` for rule codes the configuration gets wrong."""
    config = config or Config()
    selection = RuleSelection(config, registry.rules)
    notes: list[str] = []
    results = [lint_file(path, registry, config, selection, notes) for path in select_files(paths, config)]
    return RunReport(results, notes)
