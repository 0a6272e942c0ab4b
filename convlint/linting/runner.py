"""Linting files as ``convlint lint`` does: which files, which rules, which suppressions and budgets.

For each file: read it safely (unreadable files and YAML errors become findings, non-specs are
skipped), infer it, check its budget, keep the findings whose code the configuration enables for
that file, drop those a ``# convlint: noqa`` comment covers, and report unused suppressions (N001).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from traceback import format_exc
from pathlib import Path
from typing import Callable, Iterable

from convlint.linting.budget import check_budget
from convlint.sizes.contract import contract_findings
from convlint.linting.config import Config
from convlint.spec.files import TooLargeFile, UnreadableFile, iter_yaml_files, read_text
from convlint.findings import Finding
from convlint.spec.cycle_collector import paused_cycle_collector
from convlint.linting.globs import matches_any, relative_posix
from convlint.analysis.graph import wire
from convlint.analysis.infer import Analysis, analyze
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
    checked: "Checked | None" = None
    traceback: str | None = None
    """The traceback of an internal error (X002), for ``--debug``."""
    relocate: Callable[[list[Finding]], list[Finding]] | None = None
    """For a file imported in memory (an ONNX model): places the spec's findings in that file."""


def _file_finding(path: str, code: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(code, RULES[code].severity, message, path, line, column, None)


def load_file(path: Path, named: bool = False) -> FileResult:
    """Read and parse one file; unreadable files and YAML errors become findings.  A YAML file that is
    no spec is skipped, unless ``named`` (given by name rather than found in a directory): then it is
    a Y002 finding that says why it is no spec."""
    name = str(path)
    if path.suffix.lower() == ".onnx":
        return _load_onnx(path)
    try:
        text = read_text(path)
    except TooLargeFile as error:
        if not error.mentions(re.compile(SPEC_MARKER.pattern.encode(), SPEC_MARKER.flags & ~re.UNICODE)):
            if named:
                return FileResult(name, [_file_finding(name, "Y002", f"not a spec: no `layers:` line ({error})")])
            return FileResult(name, skipped=True)  # a large YAML file that is no spec
        return FileResult(name, [_file_finding(name, "Y001", str(error))])
    except UnreadableFile as error:
        return FileResult(name, [_file_finding(name, "Y001", str(error), error.line, error.column)])
    return load_text(text, name, named)


def _load_onnx(path: Path) -> FileResult:
    """An ONNX model imported in memory (see :mod:`convlint.importing.onnx_file`); a file that cannot be
    imported is a Y001 finding."""
    from convlint.importing.onnx_file import OnnxImportError, load_onnx, relocated
    try:
        model, text = load_onnx(path)
    except OnnxImportError as error:
        return FileResult(str(path), [_file_finding(str(path), "Y001", str(error))])
    result = load_text(text, str(path))
    result.relocate = lambda findings: relocated(findings, model)
    return result


def load_text(text: str, name: str, named: bool = True) -> FileResult:
    """Parse spec ``text`` read from ``name`` (a file, or standard input); see :func:`load_file`."""
    try:
        spec = parse_spec(text, name)
    except NotASpec as error:
        if named or error.looks_like_spec:
            return FileResult(name, [_file_finding(name, "Y002", f"not a spec: {error.reason}")])
        return FileResult(name, skipped=True)
    wire(spec)
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

    @property
    def skipped(self) -> int:
        """How many YAML files found in directories were skipped as not specs."""
        return sum(1 for result in self.results if result.skipped)


def select_files(paths: Iterable[str | Path], config: Config) -> list[tuple[Path, bool]]:
    """The files to lint, each with ``True`` when named on the command line: each named file and the
    YAML files below each named directory, less those ``exclude`` matches and, when ``include`` is
    configured, those it does not match."""
    chosen = []
    for raw in paths:
        named = not Path(raw).is_dir()
        for path in iter_yaml_files([raw]):
            relative = relative_posix(path, config.root)
            if matches_any(config.exclude, relative):
                continue
            if config.include is not None and not matches_any(config.include, relative):
                continue
            chosen.append((path, named))
    return chosen


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda finding: (finding.line, finding.column, finding.code))


@dataclass
class Checked:
    """What the lint pipeline found in one spec.

    ``findings``: as ``convlint lint`` reports them (selection, noqa and budgets applied), in source
    order.  ``notes``: remarks for the user.  ``analysis``: the inference of the spec, or, for a spec
    with named sizes, of the spec at the sizes ``sizes_at`` (``{}`` for a spec with numeric sizes).
    """

    findings: list[Finding]
    notes: list[str]
    analysis: Analysis
    sizes_at: dict[str, int] = field(default_factory=dict)


def sizes_text(values: dict[str, int]) -> str:
    """``N = 1, H = 32, W = 32``: named sizes and the values they are taken at."""
    return ", ".join(f"{name} = {value}" for name, value in values.items())


def check_spec(spec: Spec, registry: Registry, config: Config | None = None,
               selection: RuleSelection | None = None, tried: bool = False) -> Checked:
    """The one lint pipeline, shared by every command (``lint``, ``summary``, ``render``, ``sizes``,
    ``run``, the language server) and the Python API.

    Infers the spec (a spec with named sizes: the findings that hold at every size, and the
    inference at its reference sizes), checks its budget, keeps the findings whose code the
    configuration enables for the spec's file, adds the nearest valid sizes to a size finding,
    drops those a noqa comment covers and reports unused suppressions (N001).  ``tried``: the spec
    is the file's spec at other input sizes (``convlint sizes --try``), so neither the nearest sizes
    nor unused suppressions (comments written for the declared sizes) are reported.
    """
    config = config or Config()
    selection = selection or RuleSelection(config, registry.rules)
    name = spec.path
    if spec.size_names:
        from convlint.sizes.named import lint_and_reference_sizes
        raw, sizes_at = lint_and_reference_sizes(spec, registry)
        analysis = analyze(spec.at_sizes(sizes_at), registry)
    else:
        sizes_at = {}
        analysis = analyze(spec, registry)
        raw = analysis.findings + contract_findings(spec, registry)  # a named-size spec's are in lint_named_sizes
    budget = check_budget(spec, analysis, config.budget, registry.rules, sizes_text(sizes_at))
    raw += budget.findings
    enabled = [finding for finding in raw if selection.is_enabled(finding.code, name)]
    suppressions = find_suppressions(spec)
    enabled = apply_suppressions(enabled, suppressions)
    if enabled and not spec.size_names and not tried:  # only a finding that is shown gets the hint
        enabled = with_nearest_sizes(spec, registry, _sorted(enabled))
    if selection.is_enabled("N001", name) and not tried:
        enabled += unused_suppressions(suppressions, name, registry.rules,
                                       lambda code: selection.is_enabled(code, name))
    return Checked(_sorted(enabled), budget.notes, analysis, sizes_at)


def lint_file(path: Path, registry: Registry, config: Config | None = None, selection: RuleSelection | None = None,
              notes: list[str] | None = None, named: bool = True, text: str | None = None,
              keep: bool = True) -> FileResult:
    """Lint one file under ``config`` (default: no configuration); an unexpected exception becomes an
    X002 finding.  Notes for the user are appended to ``notes``.  A file that is no spec is a finding
    when ``named`` (see :func:`load_file`), else skipped.  ``text``, when given, is the file's
    content (read from standard input), and ``path`` only names it.  ``keep``: keep the pipeline's
    result (with the analysis) in ``result.checked``; otherwise only the findings are kept."""
    notes = notes if notes is not None else []
    name = str(path)
    try:
        with paused_cycle_collector():  # a large parse makes no garbage cycles worth collecting
            result = load_file(path, named) if text is None else load_text(text, name)
            if result.spec is not None:
                checked = check_spec(result.spec, registry, config, selection)
                result.findings, result.checked = checked.findings, checked if keep else None
                if result.relocate is not None:
                    result.findings = result.relocate(result.findings)
                notes.extend(checked.notes)
            else:
                selection = selection or RuleSelection(config or Config(), registry.rules)
                result.findings = [finding for finding in result.findings if selection.is_enabled(finding.code, name)]
    except Exception as error:  # the last line of defence: report, go on with the next file
        message = f"internal error: {type(error).__name__}: {error}"
        return FileResult(name, [_file_finding(name, "X002", message)], traceback=format_exc())
    return result


def lint_paths(paths: Iterable[str | Path], registry: Registry, config: Config | None = None,
               stdin: str | None = None, stdin_filename: str = "-", skip_non_specs: bool = False,
               keep: bool = False) -> RunReport:
    """Lint every selected file; the path ``-`` stands for ``stdin`` (the text of standard input),
    named ``stdin_filename`` in findings and ``per-file-ignores``.  With ``skip_non_specs`` a named YAML
    file that is no spec is skipped as one found in a directory is (pre-commit names every YAML file),
    unless it looks like a broken spec.  ``keep``: keep each spec's analysis (see :func:`lint_file`).  Raises ``FileNotFoundError`` for a
    missing path and :class:`~convlint.linting.config.ConfigError` for rule codes the configuration
    gets wrong."""
    config = config or Config()
    selection = RuleSelection(config, registry.rules)
    notes: list[str] = []
    results = []
    for raw in paths:
        if str(raw) == "-":
            results.append(lint_file(Path(stdin_filename), registry, config, selection, notes, text=stdin or "",
                                     keep=keep))
            continue
        results += [lint_file(path, registry, config, selection, notes, named and not skip_non_specs, keep=keep)
                    for path, named in select_files([raw], config)]
    return RunReport(results, notes)
