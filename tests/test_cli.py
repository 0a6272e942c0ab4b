"""The command line as a user runs it: output formats, exit codes, skipping non-specs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "fixtures" / "broken"


def convlint(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "convlint", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def test_lint_bundled_specs_is_clean():
    done = convlint("lint", "specs/")
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("All checks passed (")
    assert done.stderr == ""


def test_lint_prints_path_line_column_code_message_and_exits_1():
    done = convlint("lint", BROKEN / "resnet_missing_downsample.yaml")
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"{BROKEN / 'resnet_missing_downsample.yaml'}:12:28: S010 `bn2` gives 1×128×28×28")
    assert done.stdout.splitlines()[-1] == "Found 1 problem (1 error) in 1 of 1 spec."


def test_lint_json_contract():
    done = convlint("lint", "--format", "json", BROKEN / "unet_odd_input.yaml")
    assert done.returncode == 1
    items = json.loads(done.stdout)
    assert [set(item) for item in items] == [{"path", "line", "column", "code", "severity", "layer", "message",
                                              "fix"}] * 2
    assert [(i["line"], i["code"], i["severity"], i["layer"]) for i in items] == [
        (12, "S001", "warning", "down3"), (15, "S009", "error", "cat3")]


def test_exit_zero():
    assert convlint("lint", "--exit-zero", BROKEN / "cycle.yaml").returncode == 0


def test_usage_errors_exit_2():
    assert convlint("lint").returncode == 2
    missing = convlint("lint", "no/such/dir")
    assert missing.returncode == 2
    assert "no/such/dir: no such file or directory" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert convlint("rule", "Q999").returncode == 2


def test_yaml_without_layers_is_skipped_quietly(tmp_path):
    (tmp_path / "config.yaml").write_text("key: value\nlist: [1, 2]\n")
    (tmp_path / "broken-config.yml").write_text("key: [unclosed\n")
    (tmp_path / "notes.txt").write_text("layers: not yaml we look at\n")
    done = convlint("lint", tmp_path)
    assert done.returncode == 0
    assert done.stdout == ("All checks passed (0 specs checked).\n"
                           "Skipped 2 YAML files that are not a spec (no top-level `layers`).\n")


def test_directories_are_searched_recursively(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "net.yml").write_text((BROKEN / "cycle.yaml").read_text())
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "net.yaml").write_text((BROKEN / "cycle.yaml").read_text())
    done = convlint("lint", tmp_path)
    assert done.returncode == 1
    assert f"{nested / 'net.yml'}:6:26: G002" in done.stdout
    assert ".hidden" not in done.stdout


def test_summary_table_shows_shapes_params_and_total():
    done = convlint("summary", "specs/resnet18.yaml")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "resnet18  (specs/resnet18.yaml)"
    conv1 = next(line for line in lines if line.startswith("conv1 (Conv2d)"))
    assert conv1.split()[2:4] == ["1×64×112×112", "9,408"]
    assert "Total params: 11,689,512" in lines


def test_summary_json_marks_unknown_shapes_null():
    done = convlint("summary", "--format", "json", BROKEN / "bad_windows.yaml")
    assert done.returncode == 1
    (summary,) = json.loads(done.stdout)
    assert {"path", "name", "layers", "total_params", "diagnostics"} <= set(summary)
    by_name = {layer["name"]: layer for layer in summary["layers"]}
    assert by_name["tiny"]["output_shape"] is None
    assert by_name["lossy"]["output_shape"] == [1, 4, 3]
    assert {d["code"] for d in summary["diagnostics"]} >= {"S001", "S002"}


def test_rule_prints_its_documentation():
    done = convlint("rule", "s001")
    assert done.returncode == 0
    for section in ("What it does:", "Why it matters:", "Example:", "Fix:"):
        assert section in done.stdout
    listing = convlint("rule").stdout
    assert "S001  Input silently dropped" in listing
