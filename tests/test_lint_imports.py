"""`convlint lint` is a pre-commit hook: it must not import numpy or graphviz."""
from __future__ import annotations

from tests.lint_imports import modules_lint_imports


def test_lint_does_not_import_numpy_or_graphviz():
    assert modules_lint_imports("numpy", "graphviz") == []


def test_the_check_sees_numpy_when_it_is_imported():
    assert modules_lint_imports("numpy", first="numpy")[:1] == ["numpy"]
