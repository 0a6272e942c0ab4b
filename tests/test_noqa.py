"""`# convlint: noqa: CODE` silences exactly its layer and code; unused ones are N001."""
from __future__ import annotations

from pathlib import Path

from convlint.linting.config import Config
from convlint.linting.runner import lint_paths as run_lint
from convlint.layers.registry import load_registry

REGISTRY = load_registry(only_distribution="convlint")

# c1 and c2 both lose their last row and column (S001, reported at `stride`); c2 also has
# a misspelled keyword (Y006).
TWO_LOSSY = """\
inputs:
  image: [1, 3, 5, 5]
layers:
  - {name: c1, type: Conv2d, out_channels: 8, kernel_size: 2, stride: 2}@C1@
  - {name: r, type: ReLU, from: image}
  - name: c2@C2START@
    type: Conv2d
    out_channels: 8
    kernel_size: 2
    stride: 2@C2STRIDE@
    strides: 1
"""


def lint(tmp_path: Path, c1: str = "", c2_start: str = "", c2_stride: str = "", config: Config | None = None):
    path = tmp_path / "net.yaml"
    text = TWO_LOSSY.replace("@C1@", c1).replace("@C2START@", c2_start).replace("@C2STRIDE@", c2_stride)
    path.write_text(text, encoding="utf-8")
    return sorted((f.code, f.line, f.layer) for f in run_lint([path], REGISTRY, config or Config()).findings)


def test_without_comments(tmp_path):
    assert lint(tmp_path) == [("S001", 4, "c1"), ("S001", 10, "c2"), ("Y006", 11, "c2")]


def test_comment_on_a_flow_layer_silences_only_that_layer(tmp_path):
    assert lint(tmp_path, c1="  # convlint: noqa: S001") == [("S001", 10, "c2"), ("Y006", 11, "c2")]


def test_comment_where_a_block_layer_starts_silences_its_code_on_the_whole_layer(tmp_path):
    found = lint(tmp_path, c2_start="  # convlint: noqa: S001")
    assert found == [("S001", 4, "c1"), ("Y006", 11, "c2")]


def test_comment_on_the_offending_key_line(tmp_path):
    assert lint(tmp_path, c2_stride="  # convlint: noqa: S001") == [("S001", 4, "c1"), ("Y006", 11, "c2")]


def test_comment_on_a_key_line_does_not_reach_other_lines_of_the_layer(tmp_path):
    found = lint(tmp_path, c2_stride="  # convlint: noqa: S001, Y006")
    assert found == [("N001", 10, "c2"), ("S001", 4, "c1"), ("Y006", 11, "c2")]


def test_several_codes_and_lower_case(tmp_path):
    assert lint(tmp_path, c2_start="  # convlint: noqa: s001, Y006") == [("S001", 4, "c1")]


def test_bare_comment_silences_every_code_of_the_layer(tmp_path):
    assert lint(tmp_path, c2_start="  # convlint: noqa") == [("S001", 4, "c1")]


def test_unused_code_is_reported_with_its_reason(tmp_path):
    path = tmp_path / "net.yaml"
    lint(tmp_path, c1="  # convlint: noqa: S001, S003, Q123")
    findings = [f for f in run_lint([path], REGISTRY, Config()).findings if f.code == "N001"]
    assert [(f.line, f.column, f.layer) for f in findings] == [(4, 75, "c1"), (4, 75, "c1")]
    assert "no S003 finding on layer `c1`" in findings[0].message
    assert "`Q123` is no rule code" in findings[1].message


def test_suppressing_a_code_that_is_not_enabled_is_unused(tmp_path):
    found = lint(tmp_path, c1="  # convlint: noqa: S001", config=Config(ignore=["S001"]))
    assert found == [("N001", 4, "c1"), ("Y006", 11, "c2")]


def test_n001_can_be_ignored(tmp_path):
    assert lint(tmp_path, c1="  # convlint: noqa: S003", config=Config(ignore=["N001"])) == [
        ("S001", 4, "c1"), ("S001", 10, "c2"), ("Y006", 11, "c2")]


def test_text_that_only_mentions_noqa_is_no_comment(tmp_path):
    assert lint(tmp_path, c1="  # see convlint's noqa docs") == [("S001", 4, "c1"), ("S001", 10, "c2"),
                                                                ("Y006", 11, "c2")]


def test_suppressed_size_findings_get_no_nearest_sizes(tmp_path, monkeypatch):
    """The nearest-size search runs for a size finding that is shown, never for one a comment silences."""
    import convlint.sizes.solver as solver

    searched = []
    real = solver.size_problem
    monkeypatch.setattr(solver, "size_problem", lambda spec, registry: searched.append(spec) or real(spec, registry))
    silenced = lint(tmp_path, c1="  # convlint: noqa: S001", c2_stride="  # convlint: noqa: S001")
    assert silenced == [("Y006", 11, "c2")] and searched == []
    assert lint(tmp_path) == [("S001", 4, "c1"), ("S001", 10, "c2"), ("Y006", 11, "c2")] and len(searched) == 1
