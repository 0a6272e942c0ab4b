"""`convlint plugins` and disabling a plugin with -p."""
from __future__ import annotations

from pathlib import Path

import pytest

from convlint.cli.main import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rules"


def run(capsys, *args) -> tuple[int, str]:
    code = main([*map(str, args)])
    return code, capsys.readouterr().out


def test_plugins_lists_the_builtin_plugins_and_their_types(capsys):
    code, out = run(capsys, "plugins")
    lines = dict(line.split(": ", 1) for line in out.splitlines() if not line.startswith("problem"))
    assert code == 0
    assert lines["conv"] == "Conv1d, Conv2d, Conv3d"
    assert lines["transposed"] == "ConvTranspose1d, ConvTranspose2d, ConvTranspose3d"
    assert {"pool", "basic", "merge"} <= set(lines)
    assert "Concat" in lines["merge"] and "Add" in lines["merge"]


@pytest.mark.parametrize("name", ["conv", "no:conv"])
def test_disabled_plugin_is_not_listed(capsys, name):
    _, out = run(capsys, "plugins", "-p", name)
    assert not any(line.startswith("conv:") for line in out.splitlines())
    assert any(line.startswith("pool:") for line in out.splitlines())


def test_disabled_plugin_types_become_unknown(capsys):
    spec = FIXTURES / "S014.yaml"
    assert run(capsys, "lint", "--format", "concise", spec)[0] == 0
    code, out = run(capsys, "lint", "--format", "concise", "-p", "conv", spec)
    assert code == 1 and ": Y007 unknown layer type `Conv2d`" in out


def test_disabled_plugin_types_leave_the_schema(capsys):
    _, out = run(capsys, "schema", "-p", "conv")
    assert '"Conv2d"' not in out and '"MaxPool2d"' in out
