"""Shared fixtures: a registry of this distribution's own plugins only, and spec helpers."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from convlint.layers.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


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
