"""The Python API: load a spec, analyse it, lint it, summarise it."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from convlint.spec.files import read_text
from convlint.findings import Finding
from convlint.analysis.graph import build_graph
from convlint.analysis.infer import Analysis
from convlint.analysis.infer import analyze as _analyze
from convlint.layers.registry import Registry, load_registry
from convlint.linting.config import Config, load_config
from convlint.spec.model import Spec, parse_spec

if TYPE_CHECKING:  # the runner imports the size solver, which imports this module
    from convlint.linting.runner import Checked


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The layer types of every installed plugin (``convlint`` entry points), loaded once."""
    return load_registry()


def load(path: str | Path) -> Spec:
    """Read and parse the spec at ``path`` and build its graph (``spec.graph``).

    Raises :class:`convlint.spec.model.NotASpec` for YAML without a top-level ``layers`` key and
    :class:`convlint.spec.files.UnreadableFile` for a missing, binary or non-UTF-8 file.
    Problems inside the spec are not raised: they are in ``spec.findings`` and :func:`lint`.
    """
    path = Path(path)
    return load_text(read_text(path), str(path))


def load_text(text: str, path: str = "<string>") -> Spec:
    """Parse spec ``text`` (``path`` is used in findings) and build its graph."""
    spec = parse_spec(text, path)
    build_graph(spec)
    return spec


def _as_spec(spec: Spec | str | Path) -> Spec:
    return spec if isinstance(spec, Spec) else load(spec)


def analyze(spec: Spec | str | Path, registry: Registry | None = None) -> Analysis:
    """Infer every node's shape and parameter count; see :class:`convlint.analysis.infer.Analysis`.

    A spec with named sizes is analysed at the sizes :func:`summarize` states (``sizes_at``).
    """
    spec = _as_spec(spec)
    registry = registry or default_registry()
    if spec.size_names:
        return check(spec, registry).analysis
    return _analyze(spec, registry)


def _config(config: Config | str | Path | None) -> Config:
    """``config`` itself, or read from the file it names, or (``None``) found as ``convlint lint`` finds it."""
    return config if isinstance(config, Config) else load_config(config)


def check(spec: Spec | str | Path, registry: Registry | None = None,
          config: Config | str | Path | None = None) -> Checked:
    """The lint pipeline's whole result for ``spec``: findings, notes and analysis
    (see :class:`convlint.linting.runner.Checked`)."""
    from convlint.linting.runner import check_spec
    return check_spec(_as_spec(spec), registry or default_registry(), _config(config))


def lint(spec: Spec | str | Path, registry: Registry | None = None,
         config: Config | str | Path | None = None) -> list[Finding]:
    """The findings ``convlint lint`` reports for ``spec``, in source order.

    ``config`` is a :class:`~convlint.linting.config.Config`, a TOML file, or ``None`` for the
    nearest ``pyproject.toml`` with a ``[tool.convlint]`` table (as on the command line): rule
    selection, per-file ignores, noqa comments and budgets apply as in ``convlint lint``.  When the
    declared input size is what fails, the first size finding also names the nearest valid sizes.
    """
    return check(spec, registry, config).findings


def lint_at_declared_sizes(spec: Spec, registry: Registry) -> list[Finding]:
    """The findings of a spec with numeric sizes, in source order, without the nearest-size hint."""
    rules = registry.rules
    findings = [finding for finding in _analyze(spec, registry).findings
                if finding.code not in rules or rules[finding.code].default_enabled]
    return sorted(findings, key=lambda finding: (finding.line, finding.column, finding.code))


def summarize(spec: Spec | str | Path, registry: Registry | None = None, depth: int | None = None,
              flops: bool = False, config: Config | str | Path | None = None) -> dict:
    """The summary of ``spec`` as the JSON object of ``convlint summary --format json``
    (see :func:`convlint.report.summary.build_summary`); ``diagnostics`` are the findings of
    :func:`lint` under the same ``config``."""
    from convlint.report.summary import build_summary

    spec = _as_spec(spec)
    registry = registry or default_registry()
    return build_summary(spec, check(spec, registry, config), registry, depth, flops)


def run(spec: Spec | str | Path, inputs: dict | None = None, weights=None, seed: int = 0, **options) -> dict:
    """Run ``spec`` on NumPy arrays and return ``{output layer name: numpy.ndarray}``.

    ``inputs`` maps input names to arrays (default: seeded random arrays of the declared
    shapes); ``weights`` is a PyTorch-style state dict or an ``.npz`` path; ``options`` are
    those of :func:`convlint.execute.executor.run` (``dtype``, ``keep_all``, ``memory_limit``, ...).
    NumPy is imported only here, never on the lint path.
    """
    from convlint.execute.executor import run as run_executor
    return run_executor(spec, inputs, weights, seed, **options)
