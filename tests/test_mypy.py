"""mypy with its default settings on the package: no module outside the listed ones has a type error,
and the listed ones have no more than they had when the check was introduced."""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KNOWN_ERRORS = {
    "convlint/analysis/infer.py": 8,
    "convlint/analysis/keyword_cache.py": 2,
    "convlint/analysis/metrics.py": 2,
    "convlint/analysis/receptive_field.py": 25,
    "convlint/cli/render.py": 2,
    "convlint/cli/summary.py": 1,
    "convlint/execute/executor.py": 6,
    "convlint/execute/kernels/conv.py": 5,
    "convlint/execute/kernels/parallel.py": 1,
    "convlint/execute/kernels/rearrange.py": 1,
    "convlint/execute/kernels/transposed.py": 1,
    "convlint/linting/config.py": 1,
    "convlint/linting/noqa.py": 5,
    "convlint/render/animate/frames.py": 1,
    "convlint/render/animate/layer.py": 9,
    "convlint/render/animate/scene.py": 3,
    "convlint/render/collapse.py": 1,
    "convlint/report/output_formats.py": 1,
    "convlint/server/analysis_adapter.py": 3,
    "convlint/server/features.py": 1,
    "convlint/server/protocol.py": 2,
    "convlint/sizes/contract.py": 1,
    "convlint/sizes/expr.py": 1,
    "convlint/sizes/solver.py": 15,
    "convlint/sizes/symbolic.py": 2,
    "convlint/spec/blocks.py": 3,
    "convlint/spec/yaml_source.py": 3,
}
"""Type errors each module still has (mostly ``X | None`` used without a check, and NumPy's array types):
a module may only lose entries, and one that is clean leaves this table."""


def mypy_errors() -> Counter:
    """Errors per module of ``mypy convlint`` (default settings; pyproject.toml only names untyped libraries)."""
    done = subprocess.run([sys.executable, "-m", "mypy", "convlint"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode in (0, 1), done.stderr or done.stdout
    return Counter(match.group(1) for match in re.finditer(r"^(\S+\.py):\d+: error:", done.stdout, re.MULTILINE))


def test_mypy_finds_no_new_type_errors():
    errors = mypy_errors()
    grown = {module: count for module, count in errors.items() if count > KNOWN_ERRORS.get(module, 0)}
    assert grown == {}, f"new type errors (run `mypy convlint`): {grown}"
