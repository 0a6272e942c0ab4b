"""Block expansion: names, parameter substitution, repeat/first/when, and the findings it reports."""
from __future__ import annotations

import textwrap

import pytest

import convlint
from convlint import lint
from convlint.spec.blocks import ExpressionError, evaluate, substitute
from convlint.analysis.graph import build_graph
from convlint.spec.model import parse_spec

BLOCKS = """\
name: t
inputs:
  x: [1, 8, 16, 16]
blocks:
  Unit:
    params: {width: 8, stride: 1, project: false}
    layers:
      - {name: conv, type: Conv2d, out_channels: $width, kernel_size: 3, stride: $stride, padding: 1}
      - {name: proj, type: Conv2d, from: x, out_channels: $width, kernel_size: 1, stride: $stride, when: $project}
      - {name: add, type: Add, from: [conv, proj]}
"""


def spec_of(text: str):
    spec = parse_spec(textwrap.dedent(text), "t.yaml")
    build_graph(spec)
    return spec


def codes(spec) -> list[tuple[str, int, str | None]]:
    return [(f.code, f.line, f.layer) for f in lint(spec)]


def test_repeat_first_and_when_expand_to_module_paths():
    spec = spec_of(BLOCKS + """\
layers:
  - {name: stage, type: Unit, repeat: 3, width: 16, first: {stride: 2, project: true}}
  - {name: head, type: Conv2d, out_channels: 4, kernel_size: 1}
""")
    names = [layer.name for layer in spec.layers]
    assert names == ["stage.0.conv", "stage.0.proj", "stage.0.add", "stage.1.conv", "stage.1.add",
                     "stage.2.conv", "stage.2.add", "head"]
    table = spec.layer_by_name
    assert table["stage.0.proj"].sources == ["x"] and table["stage.0.proj"].kwargs["stride"] == 2
    assert table["stage.1.conv"].sources == ["stage.0.add"] and table["stage.1.conv"].kwargs["stride"] == 1
    assert table["stage.1.add"].sources == ["stage.1.conv", "stage.0.add"]  # `proj` left out: reads its input
    assert table["head"].sources == ["stage.2.add"]
    assert lint(spec) == []
    shapes = {node.name: node.shape for node in convlint.analyze(spec).nodes.values()}
    assert shapes["stage.0.add"] == (1, 16, 8, 8) and shapes["stage.2.add"] == (1, 16, 8, 8)
    assert spec.groups == {"stage": "Unit ×3", "stage.0": "Unit", "stage.1": "Unit", "stage.2": "Unit"}


def test_numbered_name_continues_numbering_and_outputs_resolve():
    spec = spec_of(BLOCKS + """\
layers:
  - {name: features.3, type: Unit, repeat: 2}
outputs: [features.3]
""")
    assert [layer.name for layer in spec.layers] == ["features.3.conv", "features.3.add", "features.4.conv",
                                                     "features.4.add"]
    assert spec.outputs == ["features.4.add"]


def test_finding_inside_a_block_points_at_the_definition_and_names_the_instance():
    spec = spec_of(BLOCKS + """\
layers:
  - {name: a, type: Unit}
  - {name: b, type: Unit, stride: 2}
""")
    # b halves the size on the conv path but keeps its input on the shortcut (no projection)
    assert codes(spec) == [("S010", 10, "b.add")]
    (finding,) = lint(spec)
    assert "`b.conv` gives 1×8×8×8" in finding.message and "`a.add` gives 1×8×16×16" in finding.message


def test_unknown_parameter_is_reported_at_the_use_with_a_suggestion():
    spec = spec_of(BLOCKS + """\
layers:
  - {name: a, type: Unit, widht: 4}
""")
    (finding,) = [f for f in lint(spec) if f.code == "C001"]
    assert (finding.line, finding.layer) == (12, "a") and "did you mean `width`" in finding.message


def test_bad_expression_is_reported_once_at_the_block_line():
    spec = spec_of("""\
name: t
inputs: {x: [1, 3, 8, 8]}
blocks:
  B:
    params: {width: 4}
    layers:
      - {name: conv, type: Conv2d, out_channels: $(widht * 2), kernel_size: 1}
layers:
  - {name: a, type: B}
  - {name: b, type: B}
""")
    found = [(f.code, f.line, f.layer) for f in lint(spec) if f.code == "C001"]
    assert found == [("C001", 7, "a.conv")]


def test_recursive_blocks_are_reported():
    spec = spec_of("""\
name: t
inputs: {x: [1, 3, 8, 8]}
blocks:
  A:
    layers: [{name: inner, type: B}]
  B:
    layers: [{name: inner, type: A}]
layers:
  - {name: a, type: A}
""")
    (finding,) = [f for f in lint(spec) if f.code == "C002"]
    assert "A → B → A" in finding.message and finding.line == 7


@pytest.mark.parametrize("use, words", [
    ("{name: a, type: Unit, repeat: 0}", "`repeat` must be an integer from 1 to"),
    ("{name: a, type: Unit, repeat: 1000000000000000000}", "`repeat` must be an integer from 1 to"),
    ("{name: a, type: Unit, first: 3, repeat: 2}", "`first` must map"),
    ("{name: a, type: Unit, project: maybe}", "`when` must be true or false"),
    ("{name: a, type: Unit, from: [x, x]}", "takes 1 input(s)"),
])
def test_bad_uses_are_findings_not_crashes(use, words):
    spec = spec_of(BLOCKS + f"layers:\n  - {use}\n")
    messages = [f.message for f in lint(spec) if f.code == "C001"]
    assert any(words in message for message in messages), messages


def test_unknown_reference_inside_a_block_is_g001_at_its_line():
    spec = spec_of("""\
name: t
inputs: {x: [1, 3, 8, 8]}
blocks:
  B:
    layers:
      - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 1}
      - {name: add, type: Add, from: [conv, cnov]}
layers:
  - {name: a, type: B}
""")
    (finding,) = lint(spec)
    assert (finding.code, finding.line, finding.layer) == ("G001", 7, "a.add")
    assert "a.cnov" in finding.message and "did you mean `a.conv`" in finding.message


def test_malformed_blocks_section():
    spec = spec_of("""\
name: t
inputs: {x: [1, 3, 8, 8]}
blocks: [1, 2]
layers:
  - {type: ReLU}
""")
    assert [f.code for f in lint(spec)] == ["C001"]


def test_runaway_repeat_stops_with_a_finding():
    spec = spec_of("""\
name: t
inputs: {x: [1, 3, 8, 8]}
blocks:
  R:
    layers: [{name: r, type: ReLU}]
  Many:
    layers: [{name: m, type: R, repeat: 1000}]
layers:
  - {name: a, type: Many, repeat: 1000}
""")
    assert any(f.code == "C001" and "more than" in f.message for f in spec.findings)


def test_block_specs_without_blocks_are_unchanged():
    text = "name: t\ninputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU}\n"
    assert [layer.name for layer in spec_of(text).layers] == ["relu_0"]


@pytest.mark.parametrize("expression, value", [
    ("planes * 4", 256), ("(k - 1) // 2", 1), ("stride == 1 and inp == out", False),
    ("2 if stride > 1 else 1", 1), ("not flag", True), ("-planes % 5", 1), ("stride == 2 and 1 // 0", False),
    ("flag or planes", True),
])
def test_expressions(expression, value):
    env = {"planes": 64, "k": 3, "stride": 1, "inp": 16, "out": 24, "flag": False}
    assert evaluate(expression, env) == value


@pytest.mark.parametrize("expression", ["__import__('os')", "planes.real", "[1, 2]", "1 +", "nope", "1 // 0",
                                        "'a' * 999999999", "sizes * 99999999", "-sizes", "1" + " + 1" * 20000,
                                        "(" * 300 + "1" + ")" * 300, "1 if 1 // 0 else 2",
                                        "planes < 's'", "1 < sizes"])
def test_expressions_outside_the_grammar_are_refused(expression):
    with pytest.raises(ExpressionError):
        evaluate(expression, {"planes": 64, "sizes": [1, 2]})


def test_substitute_forms():
    env = {"k": 3, "d": [1, 2]}
    assert substitute(["$k", "$(k + 1)", "k", 5], env) == [3, 4, "k", 5]
    assert substitute("$d", env) == [1, 2]
    with pytest.raises(ExpressionError, match="did you mean `k`"):
        substitute("$kk", env)


def test_a_failed_parameter_is_reported_once_and_not_again_downstream():
    spec = spec_of("""\
name: t
inputs: {x: [1, 3, 8, 8]}
blocks:
  Inner:
    params: {w: 4}
    layers:
      - {name: conv, type: Conv2d, out_channels: $(w * 2), kernel_size: 1}
  Outer:
    params: {w: 4}
    layers:
      - {name: inner, type: Inner, w: $(w +)}
      - {name: after, type: Conv2d, out_channels: $w, kernel_size: 1}
layers:
  - {name: a, type: Outer}
  - {name: b, type: Outer}
""")
    assert [(f.code, f.line) for f in lint(spec)] == [("C001", 11)]


def test_a_block_needs_layers():
    spec = spec_of("name: t\ninputs: {x: [1, 3, 8, 8]}\nblocks:\n  E: {layers: []}\nlayers:\n  - {type: ReLU}\n")
    assert [(f.code, f.line) for f in lint(spec)] == [("C001", 4)]


def test_block_output_must_be_one_of_its_layers():
    spec = spec_of("""\
name: t
inputs: {x: [1, 3, 8, 8]}
blocks:
  B:
    layers: [{name: relu, type: ReLU}]
    outputs: [rleu]
layers:
  - {name: a, type: B}
""")
    (finding,) = lint(spec)
    assert (finding.code, finding.line) == ("C001", 6) and "did you mean `relu`" in finding.message


def test_deep_nesting_stops_with_a_finding():
    blocks = "".join(f"  B{i}:\n    layers: [{{name: n, type: B{i + 1}}}]\n" for i in range(200))
    spec = spec_of(f"name: t\ninputs: {{x: [1, 3, 8, 8]}}\nblocks:\n{blocks}  B200:\n    layers: [{{type: ReLU}}]\n"
                   "layers:\n  - {name: a, type: B0}\n")
    assert [f.code for f in spec.findings] == ["C001"] and "nested more than" in spec.findings[0].message


def test_placeholder_numbers_any_part_of_a_name_from_start():
    spec = spec_of(BLOCKS + """\
layers:
  - {name: "features.denseblock1.denselayer{i}", type: Unit, repeat: 3, start: 1}
  - {name: "block2-{i}", type: Unit, repeat: 2}
""")
    names = [layer.name for layer in spec.layers]
    assert names == ["features.denseblock1.denselayer1.conv", "features.denseblock1.denselayer1.add",
                     "features.denseblock1.denselayer2.conv", "features.denseblock1.denselayer2.add",
                     "features.denseblock1.denselayer3.conv", "features.denseblock1.denselayer3.add",
                     "block2-0.conv", "block2-0.add", "block2-1.conv", "block2-1.add"]
    assert spec.layer_by_name["block2-0.conv"].sources == ["features.denseblock1.denselayer3.add"]
    assert spec.groups["features.denseblock1"] == "Unit ×3" and "block2" not in spec.groups
    assert lint(spec) == []


def test_a_copy_reads_its_index_and_a_type_comes_from_a_parameter():
    spec = spec_of("""\
name: t
inputs:
  x: [1, 8, 16, 16]
blocks:
  Act:
    params: {act: ReLU, p: 0.0}
    layers:
      - {name: act, type: $act}
      - {name: drop, type: Dropout, p: $p}
layers:
  - {name: "stage.{i}", type: Act, repeat: 3, p: $(0.1 * index), first: {act: Hardswish}}
""")
    table = spec.layer_by_name
    assert [table[f"stage.{i}.act"].type for i in range(3)] == ["Hardswish", "ReLU", "ReLU"]
    assert [table[f"stage.{i}.drop"].kwargs["p"] for i in range(3)] == [0.0, 0.1, 0.2]
    assert lint(spec) == []


def test_a_type_parameter_that_is_no_name_and_a_bad_start_are_findings():
    spec = spec_of(BLOCKS + """\
  Typed:
    params: {act: 3}
    layers:
      - {name: act, type: $act}
layers:
  - {name: a, type: Typed}
  - {name: "b{i}", type: Unit, repeat: 2, start: -1}
""")
    found = [(f.code, f.message) for f in lint(spec)]
    assert ("C001", "`type` must name a layer type or block, got 3") in found
    assert ("C001", "`start` must be a non-negative integer, got -1") in found
