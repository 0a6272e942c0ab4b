"""The [tool.convlint] configuration: discovery, --config, select/ignore, per-file-ignores,
include/exclude, rule options, and clear errors (exit code 2) for a bad configuration."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from convlint.cli.main import main

DROPS_INPUT = """\
inputs:
  image: [1, 3, 5, 5]
layers:
  - {name: c1, type: Conv2d, out_channels: 8, kernel_size: 2, stride: 2}
"""
# 1x1 stride-2 on 6x6 skips input by design (S013, off by default);
# kernel 3, stride 2, padding 1 on 8x8 leaves only padding unread (S014, off by default).
BY_DESIGN = """\
inputs:
  image: [1, 3, 6, 6]
layers:
  - {name: down, type: Conv2d, out_channels: 8, kernel_size: 1, stride: 2}
"""
PADDING_ONLY = """\
inputs:
  image: [1, 3, 8, 8]
layers:
  - {name: c1, type: Conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def lint(capsys, *args) -> tuple[int, str, str]:
    code = main(["lint", "--format", "concise", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def codes(out: str) -> list[str]:
    return [line.split(": ")[1].split()[0] for line in out.splitlines() if ": " in line and not line.startswith(("Found", "All"))]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory with one spec that loses input (S001); the current directory is its subfolder."""
    write(tmp_path / "models" / "net.yaml", DROPS_INPUT)
    (tmp_path / "models" / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "models" / "deep")
    return tmp_path


def test_without_configuration_the_default_rules_apply(project, capsys):
    code, out, _ = lint(capsys, project / "models")
    assert (code, codes(out)) == (1, ["S001"])


def test_pyproject_is_found_by_walking_up(project, capsys):
    write(project / "pyproject.toml", '[project]\nname = "x"\n\n[tool.convlint]\nignore = ["S001"]\n')
    code, out, _ = lint(capsys, project / "models")
    assert (code, codes(out)) == (0, [])


def test_a_pyproject_without_the_table_is_passed_over(project, capsys):
    write(project / "pyproject.toml", '[tool.convlint]\nignore = ["S001"]\n')
    write(project / "models" / "pyproject.toml", '[project]\nname = "inner"\n')
    code, _, _ = lint(capsys, project / "models")
    assert code == 0


@pytest.mark.parametrize("selector", ["S", "S00", "S001"])
def test_ignore_by_code_or_prefix(project, capsys, selector):
    write(project / "pyproject.toml", f'[tool.convlint]\nignore = ["{selector}"]\n')
    assert lint(capsys, project / "models")[0] == 0


def test_select_replaces_the_default_set(project, capsys):
    write(project / "pyproject.toml", '[tool.convlint]\nselect = ["Y", "G"]\n')
    assert lint(capsys, project / "models")[0] == 0


def test_the_more_specific_selector_wins(project, capsys):
    write(project / "pyproject.toml", '[tool.convlint]\nselect = ["S001"]\nignore = ["S"]\n')
    code, out, _ = lint(capsys, project / "models")
    assert (code, codes(out)) == (1, ["S001"])


def test_explicit_config_file_with_keys_at_top_level(project, tmp_path, capsys):
    config = write(tmp_path / "elsewhere" / "convlint.toml", 'ignore = ["S001"]\n')
    assert lint(capsys, "--config", config, project / "models")[0] == 0


def test_explicit_config_file_with_a_tool_table(project, tmp_path, capsys):
    config = write(tmp_path / "elsewhere" / "ci.toml", '[tool.convlint]\nignore = ["S001"]\n')
    assert lint(capsys, "--config", config, project / "models")[0] == 0


def test_off_by_default_rule_is_enabled_by_its_code_only(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path / "down.yaml", BY_DESIGN)
    assert codes(lint(capsys, spec)[1]) == []
    write(tmp_path / "pyproject.toml", '[tool.convlint]\nextend-select = ["S"]\n')
    assert codes(lint(capsys, spec)[1]) == []
    write(tmp_path / "pyproject.toml", '[tool.convlint]\nextend-select = ["S013"]\n')
    assert codes(lint(capsys, spec)[1]) == ["S013"]


def test_report_padding_only_remainder_option(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path / "pad.yaml", PADDING_ONLY)
    assert lint(capsys, spec)[0] == 0
    write(tmp_path / "pyproject.toml", "[tool.convlint]\nreport-padding-only-remainder = true\n")
    code, out, _ = lint(capsys, spec)
    assert (code, codes(out)) == (1, ["S014"])
    assert "H_out = (8 + 2·1 − 3)/2 + 1 = 4.5" in out


def test_per_file_ignores(project, capsys):
    write(project / "models" / "other.yaml", DROPS_INPUT)
    write(project / "pyproject.toml", '[tool.convlint.per-file-ignores]\n"models/net.yaml" = ["S001"]\n')
    code, out, _ = lint(capsys, project / "models")
    assert code == 1
    assert [line.split(":")[0].endswith("other.yaml") for line in out.splitlines()[:-1]] == [True]


def test_exclude_and_include(project, capsys):
    write(project / "models" / "legacy" / "old.yaml", DROPS_INPUT)
    write(project / "pyproject.toml", '[tool.convlint]\nexclude = ["legacy"]\n')
    _, out, _ = lint(capsys, project / "models")
    assert "old.yaml" not in out and "net.yaml" in out
    write(project / "pyproject.toml", '[tool.convlint]\ninclude = ["models/legacy/*.yaml"]\n')
    _, out, _ = lint(capsys, project / "models")
    assert "old.yaml" in out and "net.yaml" not in out


def test_exclude_applies_to_files_named_on_the_command_line(project, capsys):
    write(project / "pyproject.toml", '[tool.convlint]\nexclude = ["net.yaml"]\n')
    code, out, _ = lint(capsys, project / "models" / "net.yaml")
    assert code == 0 and "0 specs checked" in out


@pytest.mark.parametrize("body, named", [
    ('selct = ["S"]', "selct"),
    ('select = "S001"', "select"),
    ('ignore = ["Q9"]', "Q9"),
    ('[tool.convlint.per-file-ignores]\n"*.yaml" = ["ZZ"]', "per-file-ignores.*.yaml"),
    ('report-padding-only-remainder = "yes"', "report-padding-only-remainder"),
    ("[tool.convlint.budget]\nparams = -1", "budget.params"),
    ("[tool.convlint.budget]\nflops = 10", "budget.flops"),
    ("select = [", "invalid TOML"),
])
def test_bad_configuration_is_a_clear_error(project, capsys, body, named):
    header = "" if body.startswith("[tool") else "[tool.convlint]\n"
    write(project / "pyproject.toml", header + body + "\n")
    code, out, err = lint(capsys, project / "models")
    assert code == 2
    assert named in err and "pyproject.toml" in err
    assert "Traceback" not in err and out == ""


def test_config_file_that_is_not_utf8_is_exit_2(project, capsys):
    (project / "pyproject.toml").write_bytes(b"[tool.convlint]\nignore = [\"\xff\"]\n")
    code, _, err = lint(capsys, project / "models")
    assert code == 2 and "invalid TOML" in err and "internal error" not in err


def test_missing_config_file_is_exit_2(project, capsys):
    code, _, err = lint(capsys, "--config", project / "nope.toml", project / "models")
    assert code == 2 and "nope.toml" in err


def test_documented_configuration_example_is_valid(tmp_path):
    from convlint.linting.config import load_config
    from convlint.layers.registry import load_registry
    from convlint.linting.selection import RuleSelection

    readme = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    example = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path / "pyproject.toml", example)
    config = load_config(start=tmp_path)
    selection = RuleSelection(config, load_registry(only_distribution="convlint").rules)
    assert (config.source, config.budget) == (path, {"params": 25_000_000})
    assert {"S001", "S013", "S014"} <= selection.enabled and "S012" not in selection.enabled
    assert selection.is_enabled("S001", str(tmp_path / "models" / "a.yaml"))
    assert not selection.is_enabled("S001", str(tmp_path / "experiments" / "a.yaml"))
