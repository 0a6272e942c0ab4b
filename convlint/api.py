"""The Python API: load a spec, analyse it, lint it, summarise it, run it.

A facade over the stages of the package: no module inside ``convlint`` imports it.
"""
from __future__ import annotations

from pathlib import Path

from convlint.analysis.infer import Analysis
from convlint.analysis.loading import analyze_numeric, as_spec, load_spec, load_spec_text
from convlint.findings import Finding
from convlint.layers.registry import Registry, default_registry
from convlint.linting.enabled import lint_at_declared_sizes
from convlint.linting.spec_lint import lint_spec
from convlint.spec.model import Spec

__all__ = ["analyze", "default_registry", "lint", "lint_at_declared_sizes", "load", "load_text", "run", "summarize"]


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

    Raises ``ValueError`` for a spec with named sizes (use :func:`summarize` or ``convlint sizes``).
    """
    return analyze_numeric(as_spec(spec), registry or default_registry())


def lint(spec: Spec | str | Path, registry: Registry | None = None) -> list[Finding]:
    """All findings for ``spec`` (rules that are off by default excluded), in source order.

    When the declared input size is what fails, the first size finding also names the
    nearest valid input sizes (:mod:`convlint.sizes.nearest`).
    """
    return lint_spec(as_spec(spec), registry or default_registry())


def summarize(spec: Spec | str | Path, registry: Registry | None = None, depth: int | None = None,
              flops: bool = False) -> dict:
    """The summary of ``spec`` as the JSON object of ``convlint summary --format json``.

    See :func:`convlint.report.summary_data.summarize_spec` for its keys; ``depth`` folds
    layers into their block instances, ``flops`` adds ``flops`` per layer and ``total_flops``.
    """
    from convlint.report.summary_data import summarize_spec
    return summarize_spec(as_spec(spec), registry or default_registry(), depth, flops)


def run(spec: Spec | str | Path, inputs: dict | None = None, weights=None, seed: int = 0, **options) -> dict:
    """Run ``spec`` on NumPy arrays and return ``{output layer name: numpy.ndarray}``.

    ``inputs`` maps input names to arrays (default: seeded random arrays of the declared
    shapes); ``weights`` is a PyTorch-style state dict or an ``.npz`` path; ``options`` are
    those of :func:`convlint.execute.executor.run` (``dtype``, ``keep_all``, ``memory_limit``, ...).
    NumPy is imported only here, never on the lint path.
    """
    from convlint.execute.executor import run as run_executor
    return run_executor(spec, inputs, weights, seed, **options)
