"""The Python API: load a spec, analyse it, lint it, summarise it, run it.

A facade over the stages of the package: no module inside ``convlint`` imports it.
"""
from __future__ import annotations

from pathlib import Path

from convlint.analysis.infer import Analysis
from convlint.analysis.loading import analyze_numeric, as_spec, load_spec, load_spec_text
from convlint.findings import Finding
from convlint.layers.registry import Registry, default_registry
from convlint.linting.config import Config, load_config
from convlint.linting.enabled import lint_at_declared_sizes
from convlint.linting.runner import Checked, check_spec
from convlint.spec.model import Spec

__all__ = ["analyze", "check", "default_registry", "lint", "lint_at_declared_sizes", "load", "load_text", "run",
           "summarize"]


def load(path: str | Path) -> Spec:
    """Read and parse the spec at ``path`` and build its graph (``spec.graph``).

    Raises :class:`convlint.spec.model.NotASpec` for YAML without a top-level ``layers`` key and
    :class:`convlint.spec.files.UnreadableFile` for a missing, binary or non-UTF-8 file.
    Problems inside the spec are not raised: they are in ``spec.findings`` and :func:`lint`.
    """
    return load_spec(path)


def load_text(text: str, path: str = "<string>") -> Spec:
    """Parse spec ``text`` (``path`` is used in findings) and build its graph."""
    return load_spec_text(text, path)


def analyze(spec: Spec | str | Path, registry: Registry | None = None) -> Analysis:
    """Infer every node's shape and parameter count; see :class:`convlint.analysis.infer.Analysis`.

    A spec with named sizes is analysed at the sizes :func:`summarize` states (``sizes_at``).
    """
    spec = as_spec(spec)
    registry = registry or default_registry()
    if spec.size_names:
        return check(spec, registry).analysis
    return analyze_numeric(spec, registry)


def _config(config: Config | str | Path | None) -> Config:
    """``config`` itself, or read from the file it names, or (``None``) found as ``convlint lint`` finds it."""
    return config if isinstance(config, Config) else load_config(config)


def check(spec: Spec | str | Path, registry: Registry | None = None,
          config: Config | str | Path | None = None) -> Checked:
    """The lint pipeline's whole result for ``spec``: findings, notes and analysis
    (see :class:`convlint.linting.runner.Checked`)."""
    return check_spec(as_spec(spec), registry or default_registry(), _config(config))


def lint(spec: Spec | str | Path, registry: Registry | None = None,
         config: Config | str | Path | None = None) -> list[Finding]:
    """The findings ``convlint lint`` reports for ``spec``, in source order.

    ``config`` is a :class:`~convlint.linting.config.Config`, a TOML file, or ``None`` for the
    nearest ``pyproject.toml`` with a ``[tool.convlint]`` table (as on the command line): rule
    selection, per-file ignores, noqa comments and budgets apply as in ``convlint lint``.  When the
    declared input size is what fails, the first size finding also names the nearest valid sizes.
    """
    return check(spec, registry, config).findings


def summarize(spec: Spec | str | Path, registry: Registry | None = None, depth: int | None = None,
              flops: bool = False, config: Config | str | Path | None = None) -> dict:
    """The summary of ``spec`` as the JSON object of ``convlint summary --format json``
    (see :func:`convlint.report.summary.build_summary`); ``diagnostics`` are the findings of
    :func:`lint` under the same ``config``; ``depth`` folds layers into their block instances,
    ``flops`` adds ``flops`` per layer and ``total_flops``."""
    from convlint.report.summary import build_summary

    spec = as_spec(spec)
    registry = registry or default_registry()
    return build_summary(spec, check(spec, registry, config), registry, depth, flops)


def run(spec: Spec | str | Path, inputs: dict | None = None, weights=None, seed: int = 0,
        config: Config | str | Path | None = None, **options) -> dict:
    """Run ``spec`` on NumPy arrays and return ``{output layer name: numpy.ndarray}``.

    ``inputs`` maps input names to arrays (default: seeded random arrays of the declared
    shapes); ``weights`` is a PyTorch-style state dict or an ``.npz`` path; ``config`` is as for
    :func:`lint`, whose findings decide whether the spec may run (an error refuses it); ``options``
    are those of :func:`convlint.execute.executor.run` (``dtype``, ``keep_all``, ``memory_limit``, ...).
    NumPy is imported only here, never on the lint path.
    """
    from convlint.execute.executor import run as run_executor
    return run_executor(spec, inputs, weights, seed, config=_config(config), **options)
