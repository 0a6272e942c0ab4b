"""mypy with its default settings finds no type error in the package and the built-in plugins."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mypy(*paths: str) -> subprocess.CompletedProcess:
    """``mypy PATHS`` in the repository (default settings; pyproject.toml only names untyped libraries)."""
    return subprocess.run([sys.executable, "-m", "mypy", *paths], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_mypy_finds_no_type_errors():
    done = mypy("convlint", "plugins")
    errors = re.findall(r"^\S+\.py:\d+: error:.*$", done.stdout, re.MULTILINE)
    assert errors == [], "\n".join(errors)
    assert done.returncode == 0, done.stderr or done.stdout


def test_an_error_would_be_found(tmp_path):
    """The check itself: a module with a type error fails it, with the error's place named."""
    module = tmp_path / "wrong.py"
    module.write_text("def size() -> int:\n    return 'seven'\n")
    done = mypy(str(module))
    assert done.returncode == 1
    assert re.search(r"wrong\.py:2: error: Incompatible return value type", done.stdout)
