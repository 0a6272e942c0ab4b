"""Findings read like a good compiler's: one problem gives one finding, checks go on downstream of a
failing layer, the help belongs to the finding, and layers are numbered from 1."""
from __future__ import annotations

from convlint.linting.config import Config
from convlint.linting.runner import lint_file


def codes(path, registry) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in lint_file(path, registry, Config()).findings]


def test_misspelled_required_keyword_is_one_finding(write_spec, registry):
    path = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: Conv2d, out_channels: 4, kernal_size: 3}\n")
    assert codes(path, registry) == [
        ("Y006", "Conv2d has no keyword `kernal_size` (did you mean `kernel_size`, which Conv2d requires?)")]


def test_missing_keyword_is_named_in_the_help(write_spec, registry):
    path = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {name: c, type: Conv2d, out_channels: 4}\n")
    ((code, message),) = codes(path, registry)
    assert code == "Y008" and message.startswith("Conv2d requires `kernel_size`")
    assert message.endswith("add `kernel_size` to layer `c`")


def test_type_names_are_suggested_ignoring_case(write_spec, registry):
    path = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: Relu}\n")
    assert codes(path, registry) == [("Y007", "unknown layer type `Relu` (did you mean `ReLU`?)")]


def test_type_names_are_suggested_by_input_rank(write_spec, registry):
    for shape, expected in (("[1, 3, 8, 8]", "MaxPool2d"), ("[1, 3, 8]", "MaxPool1d"), ("[1, 3, 4, 8, 8]", "MaxPool3d")):
        path = write_spec(f"inputs: {{x: {shape}}}\nlayers:\n  - {{type: MaxPool, kernel_size: 2}}\n")
        ((code, message),) = codes(path, registry)
        assert code == "Y007" and f"(did you mean `{expected}` for the" in message


def test_checks_go_on_downstream_of_a_failing_layer(write_spec, registry):
    path = write_spec("""
        inputs: {x: [1, 3, 8, 8]}
        layers:
          - {name: c, type: Conv2d, out_channels: 4}
          - {name: f, type: Flatten}
          - {name: fc, type: Linear}
          - {name: r, type: ReLU, inplce: true}
        """)
    found = [(f.code, f.layer) for f in lint_file(path, registry, Config()).findings]
    assert found == [("Y008", "c"), ("Y008", "fc"), ("Y006", "r")]


def test_layers_are_numbered_from_one(write_spec, registry):
    path = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU}\n  - 5\n  - {name: q}\n")
    messages = [message for _, message in codes(path, registry)]
    assert any(message.startswith("layer 2 must be a mapping") for message in messages)
    assert "layer 3 has no `type`" in messages


def test_add_mismatch_tells_off_by_one_from_projection(write_spec, registry):
    off_by_one = write_spec("""
        inputs: {x: [1, 8, 9, 9]}
        layers:
          - {name: a, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}
          - {name: b, type: Conv2d, from: x, out_channels: 8, kernel_size: 2, padding: 1}
          - {name: add, type: Add, from: [a, b]}
        """)
    ((code, message),) = codes(off_by_one, registry)
    assert code == "S010" and "an off-by-one in dim 2, 3" in message and "projection" not in message
    projection = write_spec("""
        inputs: {x: [1, 8, 16, 16]}
        layers:
          - {name: a, type: Conv2d, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}
          - {name: add, type: Add, from: [a, x]}
        """, "projection.yaml")
    ((code, message),) = codes(projection, registry)
    assert code == "S010" and "give `x` a 1×1 conv to 16 channels with stride 2" in message


def test_yaml_errors_in_plain_words_at_their_position(write_spec, registry):
    tab = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n\t- {type: ReLU}\n")
    (finding,) = lint_file(tab, registry, Config()).findings
    assert (finding.code, finding.line, finding.column) == ("Y001", 3, 1)
    assert finding.message.startswith("invalid YAML: a tab character: YAML indents with spaces only")
    unclosed = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU\n", "unclosed.yaml")
    (finding,) = lint_file(unclosed, registry, Config()).findings
    assert finding.message.startswith("invalid YAML: a `{...}` mapping is not closed")


def test_the_help_line_belongs_to_the_finding(write_spec, capsys):
    from convlint.cli.main import main
    path = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {name: c, type: Conv2d, kernel_size: 3}\n"
                      "  - {name: p, type: MaxPool, from: x, kernel_size: 2}\n")
    main(["lint", "--format", "full", str(path)])
    helps = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("= help:")]
    assert helps == ["= help: add `out_channels: <value>` to layer `c`", "= help: set type: MaxPool2d on `p`"]
