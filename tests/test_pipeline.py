"""One lint pipeline: `lint`, `summary`, `render` and the Python API report the same findings, under
the same configuration, noqa comments and budgets; and every command works on named input sizes."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import convlint
from convlint.cli.main import main

SEG = """\
name: seg
inputs:
  image: [N, 3, H, W]
layers:
  - {name: stem, type: Conv2d, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}
  - {name: down, type: MaxPool2d, kernel_size: 2}
  - {name: up, type: ConvTranspose2d, out_channels: 16, kernel_size: 2, stride: 2}
  - {name: cat, type: Concat, from: [up, stem]}
  - {name: head, type: Conv2d, out_channels: 2, kernel_size: 1}
"""

LOSSY = """\
name: lossy
inputs:
  image: [1, 3, 5, 5]
layers:
  - {name: pool, type: MaxPool2d, kernel_size: 2}  # convlint: noqa: S001
"""
"""A 5×5 image pooled by 2 drops a row and a column (S001), which the noqa comment suppresses."""


def run(capsys, *args) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of the command line ``args``."""
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def seg(tmp_path) -> Path:
    path = tmp_path / "seg.yaml"
    path.write_text(SEG, encoding="utf-8")
    return path


def test_a_suppressed_finding_is_suppressed_everywhere(tmp_path, capsys, registry):
    path = tmp_path / "lossy.yaml"
    path.write_text(LOSSY, encoding="utf-8")
    assert run(capsys, "lint", path)[0] == 0
    code, out, _ = run(capsys, "summary", path)
    assert code == 0 and "finding(s)" not in out
    summary = json.loads(run(capsys, "summary", "--format", "json", path)[1])[0]
    assert summary["diagnostics"] == []
    assert convlint.lint(path, registry) == []
    code, _, err = run(capsys, "render", path, "-o", tmp_path / "lossy.dot")
    assert code == 0 and "drawn in red" not in err
    assert "#c0392b" not in (tmp_path / "lossy.dot").read_text() and "red" not in (tmp_path / "lossy.dot").read_text()


def test_configuration_applies_to_the_api_and_the_summary(tmp_path, capsys, registry, monkeypatch):
    path = tmp_path / "lossy.yaml"
    path.write_text(LOSSY.replace("  # convlint: noqa: S001", ""), encoding="utf-8")
    assert [f.code for f in convlint.lint(path, registry)] == ["S001"]
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\nignore = ["S001"]\n')
    monkeypatch.chdir(tmp_path)
    assert convlint.lint(path, registry) == []
    assert run(capsys, "lint", path)[0] == 0
    assert json.loads(run(capsys, "summary", "--format", "json", path)[1])[0]["diagnostics"] == []


def test_summary_of_named_sizes_has_the_keys_of_a_numeric_summary(seg, tmp_path, capsys):
    numeric = tmp_path / "numeric.yaml"
    numeric.write_text(SEG.replace("[N, 3, H, W]", "[1, 3, 8, 8]"), encoding="utf-8")
    code, out, err = run(capsys, "summary", "--format", "json", seg, numeric)
    assert code == 0 and err == ""
    named, fixed = json.loads(out)
    assert set(named) == set(fixed)
    assert [set(row) for row in named["layers"]] == [set(row) for row in fixed["layers"]]
    assert named["layers"][0]["output_shape"] == ["N", 16, "⌈H/2⌉", "⌈W/2⌉"]
    at = named["sizes_at"]
    assert at["N"] == 1 and at["H"] == at["W"]
    # the numbers are those of the spec at the stated sizes
    stated = tmp_path / "stated.yaml"
    stated.write_text(SEG.replace("[N, 3, H, W]", f"[1, 3, {at['H']}, {at['W']}]"), encoding="utf-8")
    again = json.loads(run(capsys, "summary", "--format", "json", stated)[1])[0]
    for key in ("total_params", "total_macs", "inference_bytes"):
        assert named[key] == again[key]


def test_summary_table_of_named_sizes_states_its_sizes(seg, capsys):
    code, out, err = run(capsys, "summary", seg)
    assert code == 0 and err == ""
    assert "N×16×⌈H/2⌉×⌈W/2⌉" in out
    assert "the numbers below are at N = 1, H = " in out


def test_render_draws_a_named_size_spec(seg, tmp_path, capsys):
    code, _, err = run(capsys, "render", seg, "-o", tmp_path / "seg.dot")
    assert code == 0, err
    dot = (tmp_path / "seg.dot").read_text()
    assert "stem" in dot and "N×16×⌈H/2⌉×⌈W/2⌉" in dot and "N×3×H×W" in dot


def test_schema_accepts_named_sizes(capsys):
    jsonschema = pytest.importorskip("jsonschema")
    import yaml
    schema = json.loads(run(capsys, "schema")[1])
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(SEG))) == []
    assert list(validator.iter_errors(yaml.safe_load(SEG.replace("[N, 3, H, W]", "[N, C, H, W]"))))


def test_summary_of_unknown_types_is_marked_incomplete(tmp_path, capsys):
    path = tmp_path / "odd.yaml"
    path.write_text(textwrap.dedent("""\
        inputs: {x: [1, 3, 8, 8]}
        layers:
          - {name: a, type: Conv2d, out_channels: 4, kernel_size: 3}
          - {name: b, type: FancyBlock, width: 3}
          - {name: c, type: Conv2d, out_channels: 4, kernel_size: 3}
        """), encoding="utf-8")
    summary = json.loads(run(capsys, "summary", "--format", "json", path)[1])[0]
    assert summary["complete"] is False
    assert "b" in summary["not_counted"] and "a" not in summary["not_counted"]
    table = run(capsys, "summary", path)[1]
    assert "Total params: at least " in table and "not counted" in table


def test_summary_of_a_fully_known_spec_is_complete(seg, capsys):
    summary = json.loads(run(capsys, "summary", "--format", "json", seg)[1])[0]
    assert summary["complete"] is True and summary["not_counted"] == []
