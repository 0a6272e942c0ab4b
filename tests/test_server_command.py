"""`convlint server` as a command: an optional extra that the lint path never imports."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SPECS = Path(__file__).resolve().parent.parent / "specs"


def test_lint_does_not_import_the_server_extra():
    code = ("import sys\nfrom convlint.cli.main import main\nmain(['lint', sys.argv[1]])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'convlint.server')))")
    done = subprocess.run([sys.executable, "-c", code, str(SPECS)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_server_without_pygls_says_how_to_install_it():
    code = ("import sys\nsys.modules['pygls'] = None\nfrom convlint.cli.main import main\n"
            "sys.exit(main(['server']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "pip install 'convlint[server]'" in done.stderr and "Traceback" not in done.stderr
