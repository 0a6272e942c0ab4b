"""Exit codes as in ruff: 0 clean, 1 findings, 2 bad configuration, usage or internal error."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "fixtures" / "rules" / "S001.yaml"
GOOD = ROOT / "specs" / "lenet5.yaml"


def convlint(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "convlint", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, code", [
    (["lint", GOOD], 0),
    (["lint", BAD], 1),
    (["lint", "--exit-zero", BAD], 0),
    (["lint", "--format", "nonsense", GOOD], 2),
    (["lint", ROOT / "no-such-dir"], 2),
    (["lint", "--config", ROOT / "no-such.toml", GOOD], 2),
])
def test_exit_code(args, code):
    result = convlint(*args)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr


def test_bad_configuration_exits_2_naming_the_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\nselect = ["S001"]\nbudget = {parms = 10}\n')
    result = convlint("lint", GOOD, cwd=tmp_path)
    assert result.returncode == 2
    assert "budget.parms" in result.stderr and "Traceback" not in result.stderr


def test_lint_path_imports_neither_numpy_nor_graphviz():
    code = ("import sys; from convlint.cli.main import main; main(['lint', '--format', 'sarif', sys.argv[1]]); "
            "print('numpy' in sys.modules, 'graphviz' in sys.modules, 'jsonschema' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, str(BAD)], capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "False False False"
