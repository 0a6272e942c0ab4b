"""Which modules `convlint lint` imports: it is a pre-commit hook, so it must stay clear of heavy and
optional packages."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import SPECS

_CHILD = ("import json, sys\n{first}from convlint.cli.main import main\nmain(['lint', sys.argv[1]])\n"
          "print(json.dumps(sorted(module for module in sys.modules\n"
          "                        if any(module == p or module.startswith(p + '.') for p in sys.argv[2:]))))")


def modules_lint_imports(*packages: str, first: str | None = None) -> list[str]:
    """The modules of ``packages`` (each a package or module with everything below it) loaded after
    `convlint lint` of the bundled specs, in a fresh interpreter that imports ``first`` beforehand."""
    code = _CHILD.format(first=f"import {first}\n" if first else "")
    done = subprocess.run([sys.executable, "-c", code, str(SPECS), *packages], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
