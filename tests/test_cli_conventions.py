"""Command-line conventions (ruff's): --version, rule selection flags, stdin, format names,
--config and --debug on every command, colour, size units, render's -o, run with named sizes."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import convlint
from convlint.cli import lint as lint_command
from convlint.cli.common import use_colour
from convlint.cli.main import build_parser, main
from convlint.execute.memory import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
S001 = ROOT / "tests" / "fixtures" / "rules" / "S001.yaml"
LOSSY = "inputs: {x: [1, 3, 5, 5]}\nlayers:\n  - {name: pool, type: MaxPool2d, kernel_size: 2}\n"
COMMANDS = {"lint": [str(SPECS / "lenet5.yaml")], "summary": [str(SPECS / "lenet5.yaml")],
            "sizes": [str(SPECS / "lenet5.yaml")], "render": [str(SPECS / "lenet5.yaml"), "-o", "-"],
            "run": [str(SPECS / "lenet5.yaml"), "-o", "out.npz"], "rule": [], "plugins": [], "schema": []}


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version():
    done = subprocess.run([sys.executable, "-m", "convlint", "--version"], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, f"convlint {convlint.__version__}\n")


@pytest.mark.parametrize("flags, codes", [([], ["S001"]), (["--ignore", "S001"], []), (["--select", "G"], []),
                                          (["--select", "S", "--ignore", "S00"], []),
                                          (["--select", "G", "--extend-select", "S001"], ["S001"])])
def test_selection_flags(tmp_path, capsys, flags, codes):
    path = tmp_path / "lossy.yaml"
    path.write_text(LOSSY)
    code, out, _ = run(capsys, "lint", "--format", "json", *flags, path)
    assert [item["code"] for item in json.loads(out)] == codes and code == (1 if codes else 0)


def test_extend_select_enables_a_rule_that_is_off_by_default(tmp_path, capsys):
    path = tmp_path / "strided.yaml"  # 1×1 stride-2 conv on 6×6 skips input by design: S013 (off by default)
    path.write_text("inputs: {x: [1, 3, 6, 6]}\nlayers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 1, stride: 2}\n")
    assert run(capsys, "lint", path)[0] == 0
    code, out, _ = run(capsys, "lint", "--format", "json", "--extend-select", "S013", path)
    assert [item["code"] for item in json.loads(out)] == ["S013"]


def test_unknown_selector_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "lossy.yaml"
    path.write_text(LOSSY)
    code, _, err = run(capsys, "lint", "--select", "Q9", path)
    assert code == 2 and "`Q9`" in err


def test_stdin_with_a_file_name(tmp_path):
    done = subprocess.run([sys.executable, "-m", "convlint", "lint", "--format", "concise", "-",
                           "--stdin-filename", "nets/lossy.yaml"], input=LOSSY, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("nets/lossy.yaml:3:") and " S001 " in done.stdout.splitlines()[0]


def test_stdin_honours_per_file_ignores_by_its_file_name(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.convlint.per-file-ignores]\n"legacy/*" = ["S001"]\n')
    def lint_as(name):
        return subprocess.run([sys.executable, "-m", "convlint", "lint", "-", "--stdin-filename", name],
                              input=LOSSY, capture_output=True, text=True, cwd=tmp_path).returncode
    assert (lint_as("legacy/a.yaml"), lint_as("new/a.yaml")) == (0, 1)


@pytest.mark.parametrize("command", ["summary", "sizes", "rule", "plugins"])
def test_full_and_json_are_the_format_names_of_every_text_command(capsys, command):
    args = COMMANDS[command]
    full = run(capsys, command, *args, "--format", "full")
    assert full[0] == 0 and full[1]
    code, out, _ = run(capsys, command, *args, "--format", "json")
    assert code == 0
    json.loads(out)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_takes_config_and_reports_a_broken_one(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[tool.convlint]\nselect = [\n")
    code, _, err = run(capsys, command, *COMMANDS[command], "--config", bad)
    assert code == 2 and "bad.toml: invalid TOML" in err


def test_debug_prints_the_traceback_of_an_internal_error(capsys, monkeypatch):
    def broken(args, out):
        raise RuntimeError("boom")
    monkeypatch.setattr(lint_command, "run", broken)
    code, _, err = run(capsys, "lint", SPECS / "lenet5.yaml")
    assert code == 2 and "internal error: RuntimeError: boom" in err and "Traceback" not in err
    code, _, err = run(capsys, "lint", "--debug", SPECS / "lenet5.yaml")
    assert code == 2 and "Traceback (most recent call last)" in err and "RuntimeError: boom" in err


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("env, stream, expected", [({}, Terminal(), True), ({}, io.StringIO(), False),
                                                   ({"NO_COLOR": "1"}, Terminal(), False),
                                                   ({"FORCE_COLOR": "1"}, io.StringIO(), True)])
def test_colour(monkeypatch, env, stream, expected):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert use_colour(stream) is expected


def test_forced_colour_paints_the_code(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    lint_command.run(build_parser().parse_args(["lint", "--format", "concise", str(S001)]), out)
    assert "\033[33mS001\033[0m" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = io.StringIO()
    lint_command.run(build_parser().parse_args(["lint", "--format", "concise", str(S001)]), plain)
    assert "\033[" not in plain.getvalue()


@pytest.mark.parametrize("text, expected", [("2GiB", 2 * 1024**3), ("512MB", 512 * 10**6), ("512 mb", 512 * 10**6),
                                            ("1.5G", 1_500_000_000), ("100", 100), ("8KiB", 8192)])
def test_size_units(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "2XB", "-1GB"])
def test_bad_sizes_name_the_units(text):
    with pytest.raises(ValueError, match="GiB"):
        parse_bytes(text)


def test_run_takes_a_binary_unit(tmp_path, capsys):
    code, out, err = run(capsys, "run", SPECS / "lenet5.yaml", "-o", tmp_path / "out.npz", "--max-memory", "2GiB")
    assert code == 0, err


def test_run_lenet_fits_in_a_few_megabytes(tmp_path, capsys):
    """LeNet-5's largest unfold is c3's (16·10·10·150 MACs bound it: 0.96 MB as float32), far below 256 MB."""
    code, out, err = run(capsys, "run", SPECS / "lenet5.yaml", "-o", tmp_path / "out.npz", "--max-memory", "10MB")
    assert code == 0, err
    peak = float(out.split("planned peak memory ")[1].split(" MB")[0])
    assert peak < 2.0


def test_run_refusal_counts_only_the_work_buffer_it_needs(tmp_path, capsys):
    code, _, err = run(capsys, "run", SPECS / "lenet5.yaml", "-o", tmp_path / "out.npz", "--max-memory", "100kB")
    assert code == 2 and "work buffer" in err and "256.0 MB" not in err


def test_run_on_named_sizes_asks_for_sizes(tmp_path, capsys):
    spec = tmp_path / "seg.yaml"
    spec.write_text("inputs: {image: [N, 3, H, W]}\nlayers:\n  - {name: c, type: Conv2d, out_channels: 4, "
                    "kernel_size: 3, padding: 1}\n")
    code, _, err = run(capsys, "run", spec, "-o", tmp_path / "out.npz")
    assert code == 2 and "--input" in err and "--size H=" in err
    code, out, err = run(capsys, "run", spec, "-o", tmp_path / "out.npz", "--size", "N=2", "--size", "H=9",
                         "--size", "W=7")
    assert code == 0, err
    assert "c 2×4×9×7" in out


def test_render_several_specs_to_one_file_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "render", SPECS / "lenet5.yaml", SPECS / "alexnet.yaml", "-o", tmp_path / "file.svg")
    assert code == 2 and "names one file" in err
    assert not (tmp_path / "file.svg").exists()


def test_unknown_plugin_name_is_a_usage_error(capsys):
    code, _, err = run(capsys, "render", SPECS / "lenet5.yaml", "-o", "-", "--format", "dot", "-p", "nosuch")
    assert code == 2 and "no plugin is called 'nosuch'" in err


def test_render_honours_no_name(tmp_path, capsys):
    """Without the conv plugin, Conv2d is an unknown layer type: the diagram shows the finding."""
    code, _, err = run(capsys, "render", SPECS / "lenet5.yaml", "-o", tmp_path / "lenet.dot", "-p", "no:conv")
    assert code == 1 and "finding(s) drawn in red" in err
    assert run(capsys, "render", SPECS / "lenet5.yaml", "-o", tmp_path / "lenet.dot")[0] == 0


def test_debug_prints_the_traceback_of_an_internal_error_on_one_file(capsys, monkeypatch):
    import convlint.linting.runner as runner

    def broken(*args, **kwargs):
        raise RuntimeError("inside")
    monkeypatch.setattr(runner, "check_spec", broken)
    code, out, err = run(capsys, "lint", "--format", "concise", SPECS / "lenet5.yaml")
    assert code == 2 and "X002 internal error: RuntimeError: inside" in out and "Traceback" not in err
    code, out, err = run(capsys, "lint", "--format", "concise", "--debug", SPECS / "lenet5.yaml")
    assert code == 2 and "Traceback (most recent call last)" in err and "RuntimeError: inside" in err
