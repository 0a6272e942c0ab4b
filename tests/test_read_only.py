"""`lint` and `summary` never write to the specs they read."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from convlint.cli.main import main

SPECS = Path(__file__).resolve().parent.parent / "specs"
HOSTILE = Path(__file__).resolve().parent / "hostile"


def snapshot(root: Path) -> dict:
    """Each file's bytes and modification time (ns), and the directory listing."""
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in sorted(root.iterdir())}


@pytest.mark.parametrize("command", [["lint"], ["lint", "--format", "json"], ["summary"],
                                     ["summary", "--format", "json"]])
def test_specs_are_unchanged_in_a_read_only_directory(tmp_path, command, capsys):
    root = tmp_path / "specs"
    shutil.copytree(SPECS, root)
    shutil.copy(HOSTILE / "duplicate-keys.yaml", root)  # a spec with findings
    shutil.copy(HOSTILE / "binary.yaml", root)  # an unreadable one
    for path in [*root.iterdir(), root]:
        path.chmod(stat.S_IRUSR | (stat.S_IXUSR if path.is_dir() else 0))
    before = snapshot(root)
    try:
        code = main([*command, str(root)])
        after = snapshot(root)
    finally:
        for path in [root, *root.iterdir()]:
            path.chmod(stat.S_IRWXU)
    assert code == 1  # the duplicate key and the binary file are findings
    assert "Traceback" not in capsys.readouterr().err
    assert after == before
    assert not any(name.startswith(".") or name.endswith((".pyc", ".bak")) for name in after)


def test_no_write_even_for_the_owner(tmp_path, monkeypatch):
    """Opening any file for writing while linting fails the test."""
    import builtins
    real_open = builtins.open

    def guarded_open(file, mode="r", *args, **kwargs):
        assert not any(flag in mode for flag in "wax+"), f"opened {file} with mode {mode}"
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "replace", lambda *a, **k: pytest.fail("os.replace called"))
    assert main(["lint", str(SPECS)]) == 0
    assert main(["summary", str(SPECS)]) == 0
