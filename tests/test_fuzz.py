"""A bounded fuzzing round of every strategy in the test suite (about 50 s of CPU time, pathological strides
included), the same examples on every run; tests/fuzz.py has the long run, with new examples each time."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz  # noqa: E402

EXAMPLES = int(os.environ.get("CONVLINT_FUZZ_EXAMPLES", "250"))


@pytest.mark.slow
@pytest.mark.parametrize("name", fuzz.IN_SUITE)
def test_fuzz(name):
    fuzz.fuzz_test(name, EXAMPLES, in_suite=True)()


def test_check_lint_catches_internal_errors(tmp_path, monkeypatch):
    """The fuzz check is not vacuous: an exception inside linting fails it."""
    def broken(spec, registry=None):
        raise RuntimeError("boom")
    monkeypatch.setattr("convlint.linting.runner.analyze", broken)
    with pytest.raises(AssertionError, match="internal error: RuntimeError: boom"):
        fuzz.check_lint(fuzz.BUNDLED[0], tmp_path)
