"""`convlint server` as a command: an optional extra that the lint path never imports."""
from __future__ import annotations

import subprocess
import sys

from tests.lint_imports import modules_lint_imports


def test_lint_does_not_import_the_server_extra():
    assert modules_lint_imports("pygls", "lsprotocol", "convlint.server") == []


def test_server_without_pygls_says_how_to_install_it():
    code = ("import sys\nsys.modules['pygls'] = None\nfrom convlint.cli.main import main\n"
            "sys.exit(main(['server']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "pip install 'convlint[server]'" in done.stderr and "Traceback" not in done.stderr
