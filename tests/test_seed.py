"""The worked examples of the tutorial convlint started from: conv sizes, parameter formula, pooling.

Expected values are the tutorial's own output column, written out by hand.
"""
from __future__ import annotations

import pytest

from convlint import summarize
from convlint.analysis.arithmetic import WindowAxis
from convlint.spec.model import parse_spec
from convlint.analysis.graph import build_graph

# input, kernel, stride, padding -> output (the tutorial's 计算示例 table)
SEED_TABLE = [
    (5, 2, 1, 0, 4),
    (5, 3, 1, 0, 3),
    (5, 2, 2, 0, 2),
    (6, 2, 2, 0, 3),
    (5, 2, 1, 1, 6),
    (5, 3, 1, 1, 5),
    (5, 3, 2, 2, 4),
]


def spec_summary(registry, text: str) -> dict:
    spec = parse_spec(text, "seed.yaml")
    build_graph(spec)
    return summarize(spec, registry)


@pytest.mark.parametrize("size, kernel, stride, padding, expected", SEED_TABLE)
def test_seed_conv_table_arithmetic(size, kernel, stride, padding, expected):
    assert WindowAxis(size, kernel, stride, padding, padding).out == expected


@pytest.mark.parametrize("size, kernel, stride, padding, expected", SEED_TABLE)
def test_seed_conv_table_through_a_spec(registry, size, kernel, stride, padding, expected):
    text = f"""
inputs: {{x: [1, 1, {size}, {size}]}}
layers:
  - {{name: c, type: Conv2d, out_channels: 1, kernel_size: {kernel}, stride: {stride}, padding: {padding}}}
"""
    layer = spec_summary(registry, text)["layers"][0]
    assert layer["output_shape"] == [1, 1, expected, expected]


def test_seed_formula_text_shows_the_numbers():
    # The tutorial writes 4 = (5 − 2)/1 + 1; convlint shows the padding term too.
    assert WindowAxis(5, 2, 1).formula("H") == "H_out = (5 + 2·0 − 2)/1 + 1 = 4"
    assert WindowAxis(5, 2, 2).formula("H") == "H_out = (5 + 2·0 − 2)/2 + 1 = 2.5, floored to 2"


@pytest.mark.parametrize("f, c_in, k_out, bias, expected", [
    (3, 3, 64, True, 3 * 3 * 3 * 64 + 64),      # F·F·C_in·K + K
    (5, 1, 6, True, 5 * 5 * 1 * 6 + 6),
    (1, 256, 64, False, 256 * 64),
])
def test_seed_parameter_formula(registry, f, c_in, k_out, bias, expected):
    text = f"""
inputs: {{x: [1, {c_in}, 32, 32]}}
layers:
  - {{type: Conv2d, out_channels: {k_out}, kernel_size: {f}, bias: {str(bias).lower()}}}
"""
    assert spec_summary(registry, text)["total_params"] == expected


@pytest.mark.parametrize("ceil_mode, expected", [(True, 2), (False, 1)])
def test_seed_maxpool_ceil_mode(registry, ceil_mode, expected):
    # The tutorial: MaxPool2d(kernel_size=3) on its 5×5 input gives [[2, 3], [5, 1]] with
    # ceil_mode=True and [[2]] with ceil_mode=False.
    text = f"""
inputs: {{x: [1, 1, 5, 5]}}
layers:
  - {{type: MaxPool2d, kernel_size: 3, ceil_mode: {str(ceil_mode).lower()}}}
"""
    assert spec_summary(registry, text)["layers"][0]["output_shape"] == [1, 1, expected, expected]
