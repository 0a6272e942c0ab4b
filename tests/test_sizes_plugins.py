"""A third-party layer type takes part in the size solver through ``preserves_shape`` and ``symbolic_shape``.

The oracle is brute force: lint the spec at every size, one size at a time.
"""
from __future__ import annotations

import convlint
from convlint.api import lint, summarize
from convlint.layers.keywords import Int
from convlint.layers.registry import load_registry
from convlint.sizes.solver import reference_values, size_problem, solve
from tests.size_cases import brute_force, spec_from


class Unshuffle(convlint.LayerType):
    """``torch.nn.PixelUnshuffle``: ``(N, C, H, W)`` → ``(N, C·r², H/r, W/r)``; H and W must be multiples of r."""

    name = "SpaceToDepth"
    input_ranks = (4,)
    keywords = {"downscale_factor": Int(minimum=1, doc="r")}

    def infer(self, ctx):
        r = ctx.args["downscale_factor"]
        n, c, h, w = ctx.input
        if h % r or w % r:
            ctx.report("S012", f"{h}×{w} is not a multiple of {r}", "downscale_factor")
            return None
        return (n, c * r * r, h // r, w // r)

    def symbolic_shape(self, layer):
        r = layer.args["downscale_factor"]
        n, c, h, w = layer.input
        return (n, c * r * r, h // r, w // r)  # ⌊h/r⌋ repeats every r: the solver sees the period


class Scale(convlint.LayerType):
    """Multiplies by a constant: shape in = shape out."""

    name = "Scale"
    preserves_shape = True

    def infer(self, ctx):
        return ctx.input


class Unsolved(convlint.LayerType):
    """A layer without symbolic arithmetic."""

    name = "Unsolved"

    def infer(self, ctx):
        return ctx.input


class Plugin:
    @convlint.hookimpl
    def register_layer_types(self, register):
        register(Unshuffle())
        register(Scale())
        register(Unsolved())


REGISTRY = load_registry(only_distribution="convlint", extra=[("unshuffle", Plugin())])

SPEC = """
inputs: {x: [1, 3, H, W]}
layers:
  - {name: down, type: SpaceToDepth, downscale_factor: 3}
  - {name: scale, type: Scale}
  - {name: conv, type: Conv2d, out_channels: 8, kernel_size: 3, stride: 2}
"""


def test_plugin_layer_is_solved_exactly():
    """SpaceToDepth (PixelUnshuffle) by 3 then a 3×3 stride-2 conv: H = 3·m with m odd and m ≥ 3, i.e. H ≥ 9, H ≡ 3 (mod 6)."""
    problem = size_problem(spec_from(SPEC), REGISTRY)
    held = reference_values(problem)
    for name in ("H", "W"):
        solution = solve(problem, name, held)
        assert solution.valid.values(200) == brute_force(problem, name, held, 200, REGISTRY)
    assert solve(problem, "H", held).valid.describe("H") == "H ≥ 9 and H ≡ 3 (mod 6)"
    assert [finding.code for finding in lint(spec_from(SPEC), REGISTRY)] == ["S018"]  # valid at some sizes only


def test_plugin_sizes_in_the_summary():
    shapes = {row["name"]: row["output_shape"] for row in summarize(spec_from(SPEC), REGISTRY)["layers"]}
    assert shapes["down"] == [1, 27, "⌊H/3⌋", "⌊W/3⌋"]
    assert shapes["scale"] == shapes["down"]


def test_layer_without_symbolic_shape_is_named():
    [finding] = lint(spec_from(SPEC.replace("type: Scale", "type: Unsolved")), REGISTRY)
    assert finding.code == "S016" and finding.layer == "scale"
    assert "Unsolved gives no symbolic_shape" in finding.message


def test_summary_counts_params_unless_they_follow_a_size():
    """The Linear's weight follows the flattened ⌊H/4⌋·⌊W/4⌋ unless in_features is declared: it is
    counted at the sizes the summary states (``sizes_at``)."""
    text = ("inputs: {x: [1, 1, H, W]}\nlayers:\n"
            "  - {name: conv, type: Conv2d, out_channels: 2, kernel_size: 4, stride: 4}\n"
            "  - {name: flat, type: Flatten}\n  - {name: head, type: Linear, out_features: 3}\n")
    summary = summarize(spec_from(text))
    params = {row["name"]: row["params"] for row in summary["layers"]}
    features = 2 * (summary["sizes_at"]["H"] // 4) * (summary["sizes_at"]["W"] // 4)
    assert params == {"conv": 2 * 16 + 2, "flat": 0, "head": features * 3 + 3}
    declared = text.replace("out_features: 3}", "out_features: 3, in_features: 32}")
    params = {row["name"]: row["params"] for row in summarize(spec_from(declared))["layers"]}
    assert params["head"] == 32 * 3 + 3
