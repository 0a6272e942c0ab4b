"""Local plugins: a project's own layer modules load without packaging, from ``[tool.convlint] plugins``
or ``-p dotted.module`` / ``-p path/to/module.py``."""
from __future__ import annotations

import json

import pytest

from convlint.cli.main import main
from tests.local_plugins import enter_project, write_plugin

SPEC = "inputs: {{x: [1, 2, 4, 4]}}\nlayers:\n  - {{type: Conv2d, out_channels: 3, kernel_size: 3}}\n  - {{type: {name}}}\n"


@pytest.fixture
def project(tmp_path, monkeypatch, request):
    """A project directory (the current directory) with a spec using a type named after the test."""
    name = "Twice" + request.node.name.removeprefix("test_").title().replace("_", "")
    return enter_project(tmp_path, monkeypatch, SPEC.format(name=name)), name


def _write_package(root, package: str, name: str) -> None:
    """A package ``package`` in ``root`` whose module ``layers`` is the plugin of type ``name``."""
    (root / package).mkdir()
    (root / package / "__init__.py").write_text("")
    write_plugin(root / package / "layers.py", name)


def _lint(capsys, *args) -> tuple[int, str]:
    code = main(["lint", "--format", "concise", *args])
    return code, capsys.readouterr().out


def test_without_the_plugin_the_type_is_unknown(project, capsys):
    code, out = _lint(capsys, "spec.yaml")
    assert code == 1 and "Y007" in out


def test_configured_module_name(project, capsys):
    root, name = project
    _write_package(root, f"team_{name.lower()}", name)
    (root / "pyproject.toml").write_text(f'[tool.convlint]\nplugins = ["team_{name.lower()}.layers"]\n')
    assert _lint(capsys, "spec.yaml")[0] == 0
    assert main(["summary", "--format", "json", "spec.yaml"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert [row["type"] for row in summary["layers"]] == ["Conv2d", name]


def test_configured_file_is_read_from_the_project_root(project, capsys, monkeypatch):
    root, name = project
    (root / "tools").mkdir()
    write_plugin(root / "tools" / "layers.py", name)
    (root / "pyproject.toml").write_text('[tool.convlint]\nplugins = ["tools/layers.py"]\n')
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    assert _lint(capsys, "../spec.yaml")[0] == 0


def test_option_with_a_file(project, capsys):
    root, name = project
    write_plugin(root / "layers.py", name)
    assert _lint(capsys, "-p", "layers.py", "spec.yaml")[0] == 0
    assert main(["plugins", "-p", "layers.py"]) == 0
    assert f"layers.py: {name}" in capsys.readouterr().out


def test_option_with_a_dotted_module(project, capsys):
    root, name = project
    _write_package(root, f"pkg_{name.lower()}", name)
    assert _lint(capsys, "-p", f"pkg_{name.lower()}.layers", "spec.yaml")[0] == 0


def test_the_local_type_runs(project, capsys, tmp_path):
    root, name = project
    write_plugin(root / "layers.py", name)
    assert main(["run", "-p", "layers.py", "spec.yaml", "-o", "out.npz"]) == 0
    import numpy as np
    with np.load(root / "out.npz") as outputs:
        assert [outputs[key].shape for key in outputs.files] == [(1, 3, 2, 2)]


def test_a_plugin_that_cannot_load_is_a_finding(project, capsys):
    root, _ = project
    (root / "broken.py").write_text("raise RuntimeError('boom')\n")
    code, out = _lint(capsys, "-p", "broken.py", "spec.yaml")
    assert code == 2
    assert "X001 plugin `broken.py` failed to load" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("reference", ["missing.py", "no_such_package.layers"])
def test_a_plugin_that_does_not_exist_is_a_usage_error(project, capsys, reference):
    assert main(["lint", "--format", "concise", "-p", reference, "spec.yaml"]) == 2
    err = capsys.readouterr().err
    assert f"-p {reference}: no plugin is called {reference!r}" in err and "Traceback" not in err


def test_installed_plugins_are_still_disabled_by_name(project, capsys):
    code, out = _lint(capsys, "-p", "conv", "spec.yaml")
    assert "unknown layer type `Conv2d`" in out
