"""`convlint lint` is a pre-commit hook: it must not import numpy or graphviz."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SPECS = Path(__file__).resolve().parent.parent / "specs"


def test_lint_does_not_import_numpy_or_graphviz():
    code = ("import sys\nfrom convlint.cli.main import main\nmain(['lint', sys.argv[1]])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'graphviz')))")
    done = subprocess.run([sys.executable, "-c", code, str(SPECS)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_the_check_sees_numpy_when_it_is_imported():
    code = "import sys, numpy\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'numpy')[:1])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['numpy']"
