"""The spec format contract: defaults for names, `from` and `outputs`; positions; inference of in_*."""
from __future__ import annotations

import convlint
from convlint.linting.runner import lint_file


def test_defaults_for_name_from_and_outputs(write_spec, registry):
    spec = convlint.load(write_spec("""
        name: defaults
        inputs: {image: [2, 3, 16, 16]}
        layers:
          - {type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
          - {type: ReLU}
          - {name: pool, type: MaxPool2d, kernel_size: 2}
    """))
    assert [layer.name for layer in spec.layers] == ["conv2d_0", "relu_1", "pool"]
    assert [layer.sources for layer in spec.layers] == [["image"], ["conv2d_0"], ["relu_1"]]
    assert spec.outputs == ["pool"]
    assert sorted(spec.graph.edges) == [("conv2d_0", "relu_1"), ("image", "conv2d_0"), ("relu_1", "pool")]
    assert spec.graph.nodes["image"]["kind"] == "input"
    assert [layer.line for layer in spec.layers] == [4, 5, 6]


def test_in_channels_in_features_num_features_are_inferred_or_checked(write_spec, registry):
    path = write_spec("""
        inputs: {x: [1, 3, 8, 8]}
        layers:
          - {type: Conv2d, out_channels: 4, kernel_size: 3, in_channels: 3}
          - {type: BatchNorm2d}
          - {type: Flatten}
          - {type: Linear, out_features: 10}
          - {type: Linear, in_features: 11, out_features: 2}
    """)
    findings = lint_file(path, registry).findings
    assert [(f.code, f.line, f.layer) for f in findings] == [("S008", 7, "linear_4")]
    summary = convlint.summarize(convlint.load(path), registry)
    assert [layer["params"] for layer in summary["layers"]] == [3 * 4 * 9 + 4, 8, 0, 4 * 6 * 6 * 10 + 10, 11 * 2 + 2]


def test_padding_only_remainder_is_not_reported_but_real_input_is(write_spec, registry):
    path = write_spec("""
        inputs: {x: [1, 3, 224, 224]}
        layers:
          - {name: stem, type: Conv2d, out_channels: 64, kernel_size: 7, stride: 2, padding: 3}
          - {name: down, type: Conv2d, out_channels: 64, kernel_size: 1, stride: 2, from: x}
          - {name: lossy, type: Conv2d, out_channels: 64, kernel_size: 2, stride: 2, from: stem}
          - {name: fine, type: Conv2d, out_channels: 64, kernel_size: 3, stride: 2, padding: 1, from: stem}
    """)
    # stem: (224 + 6 − 7) mod 2 = 1, falls in the right padding; down: stride > window (S013, off);
    # lossy on 112: exact; fine: (112 + 2 − 3) mod 2 = 1 ≤ padding.
    assert lint_file(path, registry).findings == []
    odd = write_spec("""
        inputs: {x: [1, 3, 225, 225]}
        layers:
          - {name: lossy, type: Conv2d, out_channels: 8, kernel_size: 2, stride: 2}
    """, "odd.yaml")
    assert [(f.code, f.layer) for f in lint_file(odd, registry).findings] == [("S001", "lossy")]


def test_several_inputs_and_outputs(write_spec, registry):
    path = write_spec("""
        inputs: {rgb: [1, 3, 32, 32], depth: [1, 1, 32, 32]}
        layers:
          - {name: a, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1, from: rgb}
          - {name: b, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1, from: depth}
          - {name: sum, type: Add, from: [a, b]}
          - {name: cat, type: Concat, from: [a, b, sum]}
        outputs: [sum, cat]
    """)
    assert lint_file(path, registry).findings == []
    shapes = {layer["name"]: layer["output_shape"] for layer in convlint.summarize(path, registry)["layers"]}
    assert shapes["cat"] == [1, 24, 32, 32]


def test_unknown_output_name(write_spec, registry):
    path = write_spec("""
        inputs: {x: [1, 3, 8, 8]}
        layers:
          - {name: a, type: ReLU}
        outputs: [b]
    """)
    assert [(f.code, f.line) for f in lint_file(path, registry).findings] == [("G001", 4)]


def test_api_lint_accepts_a_path(registry):
    assert convlint.lint("specs/unet.yaml", registry) == []
