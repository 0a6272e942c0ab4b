"""The test suite runs from any working directory (`pytest /abs/path/tests`)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_tests_with_relative_paths_pass_from_another_directory(tmp_path):
    tests = [f"{ROOT / 'tests' / 'test_cli.py'}::test_lint_bundled_specs_is_clean",
             f"{ROOT / 'tests' / 'test_sizes.py'}::test_unet_concat_fix_and_nearest_sizes"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *tests],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "2 passed" in done.stdout
