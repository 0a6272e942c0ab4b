"""Shared fixtures: a registry of this distribution's own plugins only, and spec helpers.

Property tests draw the same examples on every run (hypothesis profile ``suite``), so the suite's
result depends on the code alone; ``HYPOTHESIS_PROFILE=explore`` draws new examples each run, as
``python tests/fuzz.py`` does for the fuzzer.
"""
from __future__ import annotations

import os

if os.environ.get("PYTEST_XDIST_WORKER"):  # one thread per worker: the workers already share the cores
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

from convlint.layers.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(autouse=True)
def _from_the_project_root(monkeypatch):
    """Every test starts in the project root, so `pytest /abs/path/tests` works from any directory."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def registry():
    """The built-in layer types, loaded through convlint's own entry points only."""
    loaded = load_registry(only_distribution="convlint")
    assert not loaded.problems
    return loaded


@pytest.fixture
def write_spec(tmp_path):
    """Write dedented YAML text to a file in tmp_path and return its path."""
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path
    return write
