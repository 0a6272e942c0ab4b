"""Named sizes through the rearranging layers: Permute, Reshape/View, Unflatten, PixelShuffle/PixelUnshuffle,
Split/Chunk (several outputs), Chomp1d, the padding layers and Mul.

Two oracles: brute force (lint the spec at every size up to a bound, one size at a time) for the valid
set, and inference at concrete sizes for the size expressions (each form evaluated at a size must give
the shape ``analyze`` computes there).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.analysis.infer import analyze
from convlint.api import default_registry, lint, summarize
from convlint.sizes.solver import reference_values, size_problem, solve
from tests.conftest import SPECS
from tests.size_cases import brute_force, spec_from

REGISTRY = default_registry()
BOUND = 40


def value(dim, values):
    return dim if isinstance(dim, int) else dim.evaluate(values)


def assert_solved_exactly(text: str) -> dict:
    """The solver's valid set equals brute force for every name; the forms agree with inference at a
    valid size (every output of a layer with several).  Returns the held values."""
    problem = size_problem(spec_from(text), REGISTRY)
    held = reference_values(problem)
    for name in problem.names:
        valid = solve(problem, name, held).valid.values(BOUND)
        assert valid == brute_force(problem, name, held, BOUND, REGISTRY), name
    found = problem.propagation({})
    analysis = analyze(problem.instantiate(held), REGISTRY)
    for node, shape in found.shapes.items():
        info = analysis.nodes[node]
        if shape is None or info.shape is None:
            continue
        assert tuple(value(dim, held) for dim in shape) == info.shape, node
        if node in found.outputs:
            assert [tuple(value(dim, held) for dim in output) for output in found.outputs[node]] == info.outputs
    return held


# --- random chains --------------------------------------------------------------------------------------

PADS = ["ZeroPad2d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d", "CircularPad2d"]


@st.composite
def chains(draw):
    """A spec ``x: [1, 4, H, W]`` → a chain of 1–5 of the layers under test (with convolutions between,
    for floors), channels tracked so that most chains are valid somewhere."""
    channels, lines, previous = 4, [], "x"
    for index in range(draw(st.integers(1, 5))):
        name = f"l{index}"
        kind = draw(st.sampled_from(["unshuffle", "shuffle", "pad", "conv", "split", "chunk", "mul", "permute",
                                     "unflatten"]))
        source = f", from: {previous}"
        if kind == "unshuffle":
            factor = draw(st.integers(1, 3))
            lines.append(f"{{name: {name}, type: PixelUnshuffle, downscale_factor: {factor}{source}}}")
            channels *= factor * factor
        elif kind == "shuffle":
            factor = draw(st.integers(1, 2))
            lines.append(f"{{name: {name}, type: PixelShuffle, upscale_factor: {factor}{source}}}")
            channels //= factor * factor
        elif kind == "pad":
            layer_type = draw(st.sampled_from(PADS))
            low = -1 if layer_type in ("ZeroPad2d", "ConstantPad2d") else 0
            widths = draw(st.lists(st.integers(low, 3), min_size=4, max_size=4))
            lines.append(f"{{name: {name}, type: {layer_type}, padding: {widths}{source}}}")
        elif kind == "conv":
            kernel, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            lines.append(f"{{name: {name}, type: Conv2d, out_channels: 4, kernel_size: {kernel}, "
                         f"stride: {stride}{source}}}")
            channels = 4
        elif kind == "split":
            piece = draw(st.integers(1, max(1, channels)))
            pick = draw(st.integers(0, max(0, -(-channels // piece) - 1)))
            lines.append(f"{{name: {name}, type: Split, split_size_or_sections: {piece}{source}}}")
            name, channels = f"{name}.{pick}", min(piece, channels - pick * piece)
        elif kind == "chunk":
            lines.append(f"{{name: {name}, type: Chunk, chunks: 2{source}}}")
            name, channels = f"{name}.0", -(-channels // 2)
        elif kind == "mul":
            lines.append(f"{{name: {name}, type: Mul, from: [{previous}, {previous}]}}")
        elif kind == "permute":  # H and W change places
            lines.append(f"{{name: {name}, type: Permute, dims: [0, 1, 3, 2]{source}}}")
        else:  # H cut into (H/2, 2), then merged again
            lines.append(f"{{name: {name}, type: Unflatten, dim: 2, unflattened_size: [-1, 2]{source}}}")
            lines.append(f"{{name: {name}f, type: Flatten, start_dim: 2, end_dim: 3}}")
            name = f"{name}f"
        previous = name
    tail = draw(st.sampled_from(["", "{name: flat, type: View, shape: [1, -1]}",
                                 f"{{name: rows, type: Reshape, shape: [1, {max(channels, 1)}, -1]}}"]))
    layers = "\n".join(f"  - {line}" for line in lines + ([tail] if tail else []))
    return f"inputs: {{x: [1, 4, H, W]}}\nlayers:\n{layers}\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_random_chains_are_solved_exactly(text):
    assert_solved_exactly(text)


# --- one layer type at a time ---------------------------------------------------------------------------

CASES = {
    "unshuffle then conv": ("x: [1, 2, H, W]", """
  - {name: down, type: PixelUnshuffle, downscale_factor: 2}
  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 3, stride: 2}"""),
    "shuffle of a conv": ("x: [1, 3, H, W]", """
  - {name: conv, type: Conv2d, out_channels: 8, kernel_size: 3, stride: 2}
  - {name: up, type: PixelShuffle, upscale_factor: 2}
  - {name: down, type: PixelUnshuffle, downscale_factor: 3}"""),
    "reflection pad after a stride": ("x: [1, 1, H, W]", """
  - {name: conv, type: Conv2d, out_channels: 1, kernel_size: 2, stride: 2}
  - {name: pad, type: ReflectionPad2d, padding: [2, 0, 1, 3]}"""),
    "circular pad": ("x: [1, 1, H, W]", """
  - {name: pad, type: CircularPad2d, padding: [3, 3, 2, 2]}
  - {name: pool, type: MaxPool2d, kernel_size: 4}"""),
    "negative zero pad": ("x: [1, 1, H, W]", """
  - {name: pad, type: ZeroPad2d, padding: [-2, -1, 0, -3]}"""),
    "channels-last and back": ("x: [1, 3, H, W]", """
  - {name: last, type: Permute, dims: [0, 2, 3, 1]}
  - {name: norm, type: LayerNorm, normalized_shape: 3}
  - {name: first, type: Permute, dims: [0, 3, 1, 2]}
  - {name: conv, type: Conv2d, out_channels: 2, kernel_size: 3, stride: 2}"""),
    "height into channels": ("x: [1, 3, H, W]", """
  - {name: swap, type: Permute, dims: [0, 2, 1, 3]}
  - {name: conv, type: Conv2d, in_channels: 6, out_channels: 2, kernel_size: 1}"""),
    "view after flatten": ("x: [1, 3, H, W]", """
  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 3, stride: 2}
  - {name: flat, type: View, shape: [1, -1]}
  - {name: head, type: Linear, in_features: 36, out_features: 2}"""),
    "reshape with a -1 in the height": ("x: [1, 1, H, 3]", """
  - {name: pool, type: AvgPool2d, kernel_size: [3, 1], stride: [2, 1]}
  - {name: rows, type: Reshape, shape: [1, 2, -1, 3]}"""),
    "reshape to a fixed shape": ("x: [1, 2, H, W]", """
  - {name: rows, type: Reshape, shape: [1, 2, 6, 4]}"""),
    "unflatten the width": ("x: [1, 2, H, W]", """
  - {name: cut, type: Unflatten, dim: 3, unflattened_size: [3, -1]}
  - {name: pool, type: MaxPool3d, kernel_size: [1, 2, 2]}"""),
    "unflatten to fixed sizes": ("x: [1, 2, H, W]", """
  - {name: cut, type: Unflatten, dim: 2, unflattened_size: [2, 5]}"""),
    "split by sections of the height": ("x: [1, 2, H, W]", """
  - {name: cut, type: Split, split_size_or_sections: [3, 4], dim: 2}
  - {name: top, type: Conv2d, out_channels: 2, kernel_size: 3, from: cut.0}
  - {name: bottom, type: Conv2d, out_channels: 2, kernel_size: 3, from: cut.1}
  - {name: join, type: Concat, from: [top, bottom], dim: 2}"""),
    "split and chunk of channels": ("x: [1, 5, H, W]", """
  - {name: cut, type: Split, split_size_or_sections: 2}
  - {name: halves, type: Chunk, chunks: 2, from: cut.0}
  - {name: a, type: Conv2d, out_channels: 1, kernel_size: 3, stride: 2, from: halves.1}
  - {name: b, type: MaxPool2d, kernel_size: 2, from: cut.2}
  - {name: add, type: Add, from: [a, b]}"""),
    "gate against a fixed map": ("x: [1, 2, H, W]\n  g: [1, 2, 5, 1]", """
  - {name: gate, type: Mul, from: [x, g]}
  - {name: conv, type: Conv2d, out_channels: 2, kernel_size: 3, stride: 2}"""),
    "squeeze-excitation": ("x: [1, 4, H, W]", """
  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 3, stride: 2}
  - {name: squeeze, type: AdaptiveAvgPool2d, output_size: 1}
  - {name: excite, type: Conv2d, out_channels: 4, kernel_size: 1}
  - {name: scale, type: Mul, from: [conv, excite]}
  - {name: pad, type: ReplicationPad2d, padding: 1}"""),
}


def case_text(inputs: str, layers: str) -> str:
    return f"inputs:\n  {inputs}\nlayers:{layers}\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_types_are_solved_exactly(case):
    assert_solved_exactly(case_text(*CASES[case]))


def test_valid_sets_in_words():
    """Worked by hand: each layer's own condition, stated exactly."""
    def described(case, name, **held):
        problem = size_problem(spec_from(case_text(*CASES[case])), REGISTRY)
        return solve(problem, name, {**reference_values(problem), **held}).valid.describe(name)

    assert described("unshuffle then conv", "H") == "H ≥ 6 and H ≡ 2 (mod 4)"  # H/2 ≥ 3 and odd (no dropped row)
    assert described("height into channels", "H") == "only H = 6"  # the conv's in_channels
    assert described("reshape to a fixed shape", "H", W=4) == "only H = 6"  # H·W = 24
    assert described("reshape to a fixed shape", "H", W=5) == "no value of H is valid"
    assert described("unflatten to fixed sizes", "H") == "only H = 10"
    assert described("split by sections of the height", "H", W=8) == "only H = 7"
    assert described("gate against a fixed map", "H", W=5) == "only H = 1 or 5"  # broadcasts against 5
    # width 3 at most the size (W = 2 fails), then 4-windows of W + 6 that drop nothing
    assert described("circular pad", "W") == "W ≥ 6 and W ≡ 2 (mod 4)"


def test_chomp_and_reflection_pad_1d():
    """A TCN block (dilated Conv1d padded both sides, then the causal trim) and a 1-D reflection pad."""
    text = case_text("x: [1, 2, L]", """
  - {name: pad, type: ReflectionPad1d, padding: [4, 1]}
  - {name: conv, type: Conv1d, out_channels: 2, kernel_size: 3, dilation: 2, padding: 4, stride: 2}
  - {name: chomp, type: Chomp1d, chomp_size: 6}""")
    assert_solved_exactly(text)
    problem = size_problem(spec_from(text), REGISTRY)
    assert solve(problem, "L", reference_values(problem)).valid.describe("L") == "L ≥ 5"


def test_summary_shows_expressions():
    shapes = {row["name"]: row["output_shape"] for row in summarize(spec_from(case_text(
        "x: [1, 5, H, W]", """
  - {name: down, type: PixelUnshuffle, downscale_factor: 2}
  - {name: cut, type: Split, split_size_or_sections: [4, 16]}
  - {name: pad, type: ReflectionPad2d, padding: [1, 2, 3, 0], from: cut.1}
  - {name: up, type: PixelShuffle, upscale_factor: 2, from: cut.0}
  - {name: chomp, type: Unflatten, dim: 1, unflattened_size: [4, -1], from: pad}
  - {name: last, type: Permute, dims: [0, 3, 4, 2, 1], from: chomp}
  - {name: flat, type: View, shape: [1, -1], from: last}""")), REGISTRY)["layers"]}
    assert shapes["down"] == [1, 20, "⌊H/2⌋", "⌊W/2⌋"]
    assert shapes["cut"] == [1, 4, "⌊H/2⌋", "⌊W/2⌋"]  # the first piece
    assert shapes["pad"] == [1, 16, "(⌊H/2⌋ + 3)", "(⌊W/2⌋ + 3)"]
    assert shapes["up"] == [1, 1, "2·⌊H/2⌋", "2·⌊W/2⌋"]
    assert shapes["chomp"] == [1, 4, 4, "(⌊H/2⌋ + 3)", "(⌊W/2⌋ + 3)"]
    assert shapes["last"] == [1, "(⌊H/2⌋ + 3)", "(⌊W/2⌋ + 3)", 4, 4]
    assert shapes["flat"] == [1, "16·(⌊H/2⌋ + 3)·(⌊W/2⌋ + 3)"]


@pytest.mark.parametrize("layers, why", [
    ("  - {name: cut, type: Split, split_size_or_sections: 3, dim: 2}\n  - {name: a, type: ReLU, from: cut.0}",
     "number of pieces changes"),
    ("  - {name: cut, type: Chunk, chunks: 2, dim: 3}\n  - {name: a, type: ReLU, from: cut.0}",
     "number and size of the pieces"),
    ("  - {name: flat, type: Reshape, shape: [1, 3, -1]}", "product of several varying sizes"),
    ("  - {name: half, type: MaxPool2d, kernel_size: 2}\n  - {name: m, type: Mul, from: [x, half]}",
     "broadcasts the varying sizes"),
])
def test_unfollowable_arithmetic_is_named(layers, why):
    """A layer whose sizes cannot be followed exactly gets S016 naming it and why, not a guess."""
    [finding] = lint(spec_from(f"inputs: {{x: [1, 2, H, W]}}\nlayers:\n{layers}\n"), REGISTRY)
    assert finding.code == "S016" and why in finding.message


@pytest.mark.parametrize("spec, sizes", [("shufflenet_v2_x1_0", ("[1, 3, 224, 224]", "[1, 3, H, W]")),
                                         ("tcn", ("[1, 8, 256]", "[1, 8, L]"))])
def test_zoo_specs_with_named_sizes(spec, sizes):
    """ShuffleNet (Split, Chunk, ChannelShuffle) and a TCN (Chomp1d) with named sizes: exact, and valid
    at the sizes they declare."""
    text = (SPECS / f"{spec}.yaml").read_text().replace(*sizes)
    assert_solved_exactly(text)
    assert not [finding for finding in lint(spec_from(text), REGISTRY) if finding.code == "S016"]
