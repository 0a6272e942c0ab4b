"""Named input sizes: exact size forms, the input-size solver, `convlint sizes`, and the fixes it suggests.

The oracle for the solver is brute force: lint the spec at every size one by one.
"""
from __future__ import annotations

import json
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.api import analyze, lint, load, summarize
from convlint.api import default_registry, lint_at_declared_sizes
from convlint.analysis.arithmetic import WindowAxis, transposed_out
from convlint.cli.main import main
from convlint.sizes.solver import SizeSet, reference_values, size_problem, solve
from convlint.sizes.expr import Expr, period_and_shift
from tests.size_cases import brute_force, spec_from

REGISTRY = default_registry()


# --- size forms ------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["floor", "ceil", "transposed"]), st.integers(1, 5), st.integers(1, 4),
                          st.integers(0, 2), st.integers(1, 2)), min_size=1, max_size=6))
def test_form_equals_integer_arithmetic_and_repeats(steps):
    """A chain of window/transposed layers computed on a form agrees with the integers at every size."""
    def run(size):
        for kind, kernel, stride, pad, dilation in steps:
            if kind == "transposed":
                size = transposed_out(size, kernel, stride, pad, dilation, 0)
            else:
                pad = min(pad, kernel // 2)
                size = WindowAxis(size, kernel, stride, pad, pad, dilation, kind == "ceil").out
        return size

    form = run(Expr.symbol("H"))
    period, shift = period_and_shift(form, "H")
    for x in range(-5, 70):
        assert form.evaluate({"H": x}) == run(x)
        assert form.evaluate({"H": x + period}) == form.evaluate({"H": x}) + shift


def test_forms_print_readably():
    h = Expr.symbol("H")
    assert str(WindowAxis(h, 2, 2).out) == "⌊H/2⌋"
    assert str(WindowAxis(h, 3, 2, 1, 1).out) == "⌈H/2⌉"  # ⌊(H − 1)/2⌋ + 1
    assert str(WindowAxis(WindowAxis(h, 2, 2).out, 2, 2).out) == "⌊H/4⌋"
    assert str(WindowAxis(h, 3, 1).out) == "H − 2"
    assert str(transposed_out(WindowAxis(h, 2, 2).out, 2, 2)) == "2·⌊H/2⌋"


# --- the bundled specs ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name, axes", [("unet", ["H", "W"]), ("resnet18", ["H"]), ("vgg16", ["W"]),
                                        ("dcgan", ["H"])])
def test_bundled_specs_agree_with_brute_force(name, axes):
    problem = size_problem(load(f"specs/{name}.yaml"), REGISTRY)
    held = reference_values(problem)
    for axis in axes:
        solution = solve(problem, axis, held)
        assert solution.valid.values(1024) == brute_force(problem, axis, held, 1024, REGISTRY)
        assert solution.lint_runs < 400


def test_declared_in_features_after_flatten_allow_one_size():
    """LeNet-5 on an S×S image with in_features: 400 declared: 16·(⌊S/4⌋ − 3)² = 400 only at S = 32..35,
    and of those only 32 reads every row."""
    text = open("specs/lenet5.yaml").read().replace("[1, 1, 32, 32]", "[1, 1, S, S]")
    text = text.replace("out_features: 120}", "out_features: 120, in_features: 400}")
    problem = size_problem(spec_from(text), REGISTRY)
    solution = solve(problem, "S", reference_values(problem))
    assert solution.valid.describe("S") == "only S = 32"
    assert solution.valid.values(300) == brute_force(problem, "S", {}, 300, REGISTRY)


def test_unet_accepts_multiples_of_8():
    """Three 2×2 max-pools and three ×2 transposed convs: only multiples of 8 come back to the skip size."""
    problem = size_problem(load("specs/unet.yaml"), REGISTRY)
    solution = solve(problem, "H", reference_values(problem))
    assert solution.valid.describe("H") == "H is a multiple of 8"
    assert solution.valid.values(1024) == list(range(8, 1025, 8))


# --- random networks with skips -----------------------------------------------------------------------------


@st.composite
def networks(draw):
    """A YAML spec: a chain of convs, pools and transposed convs with Concat/Add skips, 1-d to 3-d,
    sometimes ending in Flatten and a Linear with a declared in_features.

    The spatial sizes are either one tied name `S` or one name per axis.
    """
    ndim = draw(st.integers(1, 3))
    tied = draw(st.booleans())
    names = ["S"] * ndim if tied else ["L"] if ndim == 1 else ["H", "W"] if ndim == 2 else ["D", "H", "W"]
    per_axis = lambda values: draw(st.lists(values, min_size=ndim, max_size=ndim))  # noqa: E731
    lines = [f"inputs: {{x: [1, 4, {', '.join(names)}]}}", "layers:"]
    nodes = ["x"]
    for index in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool", "transposed", "concat", "add"]))
        name = f"l{index}"
        if kind == "conv":
            kernel = per_axis(st.integers(1, 4))
            lines.append(f"  - {{name: {name}, type: Conv{ndim}d, out_channels: 4, kernel_size: {kernel}, "
                         f"stride: {per_axis(st.integers(1, 3))}, padding: {per_axis(st.integers(0, 2))}, "
                         f"dilation: {per_axis(st.integers(1, 2))}}}")
        elif kind in ("maxpool", "avgpool"):
            kernel = per_axis(st.integers(1, 4))
            padding = [draw(st.integers(0, k // 2)) for k in kernel]
            extra = f", dilation: {per_axis(st.integers(1, 2))}" if kind == "maxpool" else ""
            lines.append(f"  - {{name: {name}, type: {kind[:3].title()}Pool{ndim}d, kernel_size: {kernel}, "
                         f"stride: {per_axis(st.integers(1, 3))}, padding: {padding}, "
                         f"ceil_mode: {str(draw(st.booleans())).lower()}{extra}}}")
        elif kind == "transposed":
            stride = per_axis(st.integers(1, 3))
            output_padding = [draw(st.integers(0, s - 1)) for s in stride]
            lines.append(f"  - {{name: {name}, type: ConvTranspose{ndim}d, out_channels: 4, "
                         f"kernel_size: {per_axis(st.integers(1, 4))}, stride: {stride}, "
                         f"padding: {per_axis(st.integers(0, 1))}, output_padding: {output_padding}}}")
        else:
            skip = draw(st.sampled_from(nodes[:-1])) if len(nodes) > 1 else nodes[0]
            merge = "Concat" if kind == "concat" else "Add"
            lines.append(f"  - {{name: {name}, type: {merge}, from: [{nodes[-1]}, {skip}]}}")
            if kind == "concat":
                lines.append(f"  - {{name: {name}_mix, type: Conv{ndim}d, out_channels: 4, kernel_size: 1}}")
                name = f"{name}_mix"
        nodes.append(name)
    if draw(st.integers(0, 3)) == 0:  # a classifier head: the flattened size must equal in_features
        lines.append("  - {name: flat, type: Flatten}")
        lines.append(f"  - {{name: head, type: Linear, out_features: 3, in_features: {draw(st.integers(1, 300))}}}")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(0, 2))
def test_random_networks_agree_with_brute_force(text, pick):
    problem = size_problem(spec_from(text), REGISTRY)
    held = reference_values(problem)
    name = problem.names[pick % len(problem.names)]
    solution = solve(problem, name, held)
    assert solution.valid.values(90) == brute_force(problem, name, held, 90, REGISTRY), text


@settings(max_examples=60, deadline=None)
@given(networks(), st.integers(1, 60))
def test_summary_forms_equal_concrete_shapes(text, size):
    """Every size printed by the summary of a named-size spec evaluates to the concrete shape."""
    problem = size_problem(spec_from(text), REGISTRY)
    values = {name: size + index for index, name in enumerate(problem.names)}
    forms = problem.propagation({}).shapes
    concrete = analyze(problem.instantiate(values), REGISTRY).nodes
    for node, info in concrete.items():
        if info.shape is not None:
            assert tuple(d if isinstance(d, int) else d.evaluate(values) for d in forms[node]) == info.shape


# --- suggested fixes ------------------------------------------------------------------------------------------

FIX = re.compile(r"(\w): ((?:\w+=\d+ \(output stays \d+\)(?: or )?)+)")
SETTING = re.compile(r"(\w+)=(\d+) \(output stays (\d+)\)")


def _with_setting(spec_text: str, layer: str, key: str, axis: int, value: int, ndim: int) -> str:
    """The spec with ``key`` of ``layer`` set to ``value`` on one axis (other axes as before)."""
    data = yaml.safe_load(spec_text)
    target = next(item for item in data["layers"] if item["name"] == layer)
    keyword = REGISTRY.types[target["type"]].keywords[key]
    current = list(keyword.convert(target.get(key, keyword.default), ndim))
    current[axis] = value
    target[key] = current
    return yaml.safe_dump(data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(4, 40))
def test_dropped_input_fixes_keep_the_output_and_read_everything(text, size):
    """Each `output stays` fix of an S001, applied alone, removes that layer's loss and keeps its shape."""
    problem = size_problem(spec_from(text), REGISTRY)
    ndim = len(next(iter(problem.spec.inputs.values())).shape) - 2
    concrete = re.sub(r"\b(S|L|D|H|W)\b(?=[,\]])", str(size), text.split("\n", 1)[0]) + "\n" + text.split("\n", 1)[1]
    before = analyze(spec_from(concrete), REGISTRY)
    for finding in before.findings:
        if finding.code != "S001":
            continue
        symbols = ["L"] if ndim == 1 else ["H", "W"] if ndim == 2 else ["D", "H", "W"]
        for symbol, options in FIX.findall(finding.message):
            for key, value, output in SETTING.findall(options):
                fixed_text = _with_setting(concrete, finding.layer, key, symbols.index(symbol), int(value), ndim)
                after = analyze(spec_from(fixed_text), REGISTRY)
                assert after.nodes[finding.layer].shape == before.nodes[finding.layer].shape, fixed_text
                still = [f for f in after.findings if f.layer == finding.layer and f.code == "S001"]
                assert not [f for f in still if f"{symbol}_out" in f.message], fixed_text


def test_unet_concat_fix_and_nearest_sizes(capsys):
    """At H = 100 the U-Net's up3 gives 24 rows for enc3's 25: output_padding 1 makes them meet."""
    assert main(["sizes", "specs/unet.yaml", "--try", "H=100"]) == 1
    out = capsys.readouterr().out
    assert "[down3]" in out and "[cat3]" in out
    assert "set output_padding: [1, 0] on `up3`" in out
    assert "nearest valid: H = 96 or H = 104" in out
    text = open("specs/unet.yaml").read().replace("[1, 3, 128, 128]", "[1, 3, 100, 128]")
    fixed = text.replace("name: up3, type: ConvTranspose2d, out_channels: 64, kernel_size: 2, stride: 2",
                         "name: up3, type: ConvTranspose2d, out_channels: 64, kernel_size: 2, stride: 2, "
                         "output_padding: [1, 0]")
    assert {f.layer for f in lint(spec_from(fixed))} == {"down3"}  # the concat meets; row 25 still unread
    [hinted] = [f for f in lint(spec_from(text)) if f.code == "S001"]
    assert hinted.message.endswith("nearest valid input sizes: H = 96 or 104")
    for good in (96, 104):
        assert lint(spec_from(text.replace("[1, 3, 100, 128]", f"[1, 3, {good}, 128]"))) == []


# --- the command line and named-size specs -------------------------------------------------------------------


def test_sizes_command_text_and_json(capsys):
    assert main(["sizes", "specs/unet.yaml"]) == 0
    out = capsys.readouterr().out
    assert "spatial sizes H (image dim 2, declared 128), W (image dim 3, declared 128)" in out
    assert "valid: H is a multiple of 8" in out and "smallest: 8, 16, 24, 32" in out
    assert main(["sizes", "specs/vgg16.yaml", "--format", "json", "--upto", "100"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["symbols"]["H"]["valid"] == [32, 64, 96]  # five 2×2 pools: multiples of 32
    assert data["symbols"]["W"]["conditions"] == "W is a multiple of 32"


def test_sizes_command_errors(capsys):
    assert main(["sizes", "specs/unet.yaml", "--try", "Q=3"]) == 2
    assert main(["sizes", "specs/unet.yaml", "--try", "H=x"]) == 2
    assert main(["sizes", "nope.yaml"]) == 2
    assert main(["sizes", "specs/unet.yaml", "--upto", "0"]) == 2
    assert "error" in capsys.readouterr().err


SYMBOLIC_UNET = """
name: two-level
inputs:
  image: [N, 3, H, W]
layers:
  - {name: enc1, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: down1, type: MaxPool2d, kernel_size: 2}
  - {name: enc2, type: Conv2d, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}
  - {name: up2, type: ConvTranspose2d, out_channels: 8, kernel_size: 2, stride: 2}
  - {name: cat2, type: Concat, from: [up2, down1]}
  - {name: up1, type: ConvTranspose2d, out_channels: 8, kernel_size: 2, stride: 2}
  - {name: cat1, type: Concat, from: [up1, enc1]}
"""


def test_named_sizes_summary_and_lint():
    spec = spec_from(SYMBOLIC_UNET)
    shapes = {row["name"]: row["output_shape"] for row in summarize(spec)["layers"]}
    assert shapes["down1"] == ["N", 8, "⌊H/2⌋", "⌊W/2⌋"]
    assert shapes["enc2"] == ["N", 16, "⌈(H − 1)/4⌉", "⌈(W − 1)/4⌉"]  # ⌊(⌊H/2⌋ − 1)/2⌋ + 1
    [info] = lint(spec)  # valid for some sizes: one info line with the conditions
    assert info.code == "S018" and "H is a multiple of 4 and W is a multiple of 4" in info.message
    problem = size_problem(spec, REGISTRY)
    held = reference_values(problem)
    assert solve(problem, "H", held).valid.describe("H") == "H is a multiple of 4"
    assert solve(problem, "N", held).valid.describe("N") == "N ≥ 1"


def test_named_sizes_lint_reports_what_fails_at_every_size():
    never = spec_from("inputs: {x: [1, 3, S, S]}\nlayers:\n"
                      "  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 3}\n"
                      "  - {name: b, type: Conv2d, from: x, out_channels: 4, kernel_size: 1}\n"
                      "  - {name: cat, type: Concat, from: [a, b]}\n")
    [finding] = lint(never)
    assert finding.code == "S015" and "no value of S" in finding.message and "[cat]" in finding.message
    grouped = spec_from("inputs: {x: [1, 3, S, S]}\nlayers:\n"
                        "  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 3, groups: 2}\n")
    assert [(f.code, f.layer) for f in lint(grouped)] == [("S006", "a")]
    odd = spec_from("inputs: {x: [1, 3, S, S]}\nlayers:\n"
                    "  - {name: up, type: Upsample, scale_factor: 0.1}\n")
    assert [f.code for f in lint(odd)] == ["S016"]


def test_names_only_for_batch_and_spatial_sizes():
    spec = spec_from("inputs: {x: [1, C, H, W]}\nlayers:\n  - {type: ReLU}\n")
    [finding] = [f for f in lint(spec) if f.code == "Y002"]
    assert "names such as H" in finding.message and finding.line == 1


def test_unet_valid_sizes_are_those_pytorch_accepts():
    """Independent oracle: PyTorch builds the U-Net (shapes on the meta device) exactly at the valid heights."""
    torch_reference = pytest.importorskip("torch_reference")
    data = yaml.safe_load(open("specs/unet.yaml"))
    accepted = []
    for height in range(1, 33):
        data["inputs"]["image"] = [1, 3, height, 16]
        try:
            torch_reference.TorchNet(data)
        except Exception:  # torch.cat refuses the branches, or a pool's output would be empty
            continue
        accepted.append(height)
    problem = size_problem(load("specs/unet.yaml"), REGISTRY)
    assert solve(problem, "H", {"W": 16}).valid.values(32) == accepted


@pytest.mark.parametrize("valid, words", [
    (SizeSet(4, frozenset({0, 1, 3}), 1), "H ≢ 2 (mod 4)"),
    (SizeSet(16, frozenset({4}), 60), "H ≥ 68 and H ≡ 4 (mod 16)"),
    (SizeSet(4, frozenset(), 1, (5, 9)), "only H = 5 or 9"),
    (SizeSet(4, frozenset({0}), 9, (5,)), "H ≥ 12 and H ≡ 0 (mod 4), or H = 5"),
    (SizeSet(8, frozenset({0}), 1), "H is a multiple of 8"),
    (SizeSet(1, frozenset({0}), 7), "H ≥ 7"),
    (SizeSet(1, frozenset(), 1), "no value of H is valid"),
])
def test_conditions_in_words(valid, words):
    assert valid.describe("H") == words


def test_nearest_valid_sizes():
    valid = SizeSet(16, frozenset({4}), 60, (5,))
    assert valid.nearest(70) == (68, 84)
    assert valid.nearest(30) == (5, 68)
    assert valid.nearest(3) == (None, 5)


def test_several_inputs_share_or_keep_their_names():
    shared = spec_from("inputs: {image: [1, 3, 64, 48], mask: [1, 1, 64, 48]}\nlayers:\n"
                       "  - {name: cat, type: Concat, from: [image, mask]}\n"
                       "  - {name: pool, type: MaxPool2d, kernel_size: 2}\n")
    problem = size_problem(shared, REGISTRY)
    assert problem.positions == {"H": [("image", 2), ("mask", 2)], "W": [("image", 3), ("mask", 3)]}
    assert solve(problem, "H", reference_values(problem)).valid.describe("H") == "H is a multiple of 2"
    apart = spec_from("inputs: {image: [1, 3, 64, 64], cond: [1, 1, 32, 32]}\nlayers:\n"
                      "  - {name: down, type: MaxPool2d, from: image, kernel_size: 2}\n"
                      "  - {name: cat, type: Concat, from: [down, cond]}\n")
    problem = size_problem(apart, REGISTRY)
    assert problem.names == ["image.H", "image.W", "cond.H", "cond.W"]
    held = reference_values(problem)
    # 65 would leave row 65 unread
    assert solve(problem, "image.H", held).valid.describe("image.H") == "only image.H = 64"
    assert solve(problem, "cond.W", held).valid.describe("cond.W") == "only cond.W = 32"


def test_held_sizes_found_when_no_square_size_is_valid():
    """H must be even and W odd: no square image works, yet each size has its answer, which lint states."""
    spec = spec_from("inputs: {x: [1, 2, H, W]}\nlayers:\n"
                     "  - {name: a, type: MaxPool2d, kernel_size: [2, 3], stride: [2, 2]}\n"
                     "  - {name: b, type: ConvTranspose2d, out_channels: 2, kernel_size: [2, 3], stride: [2, 2]}\n"
                     "  - {name: cat, type: Concat, from: [b, x]}\n")
    problem = size_problem(spec, REGISTRY)
    held = reference_values(problem)
    assert held == {"H": 2, "W": 3}
    assert solve(problem, "H", held).valid.describe("H") == "H is a multiple of 2"
    assert solve(problem, "W", held).valid.describe("W") == "W ≥ 3 and W ≡ 1 (mod 2)"
    assert [(f.code, f.message.split(";")[0]) for f in lint(spec)] == [
        ("S018", "valid only when H is a multiple of 2 and W ≥ 3 and W ≡ 1 (mod 2)")]


# --- every built-in type, and held sizes found when no square size is valid ---------------------------------


def test_original_unet_with_center_crops_agrees_with_brute_force():
    """Unpadded convs, 2×2 pools, up-convs and centre-cropped skips: 572 is valid, as in the paper."""
    problem = size_problem(load("specs/unet_original.yaml"), REGISTRY)
    held = reference_values(problem)
    solution = solve(problem, "H", held)
    assert 572 in solution.valid
    assert solution.valid.values(700) == brute_force(problem, "H", held, 700, REGISTRY)


def test_sizes_flattened_into_channels_are_compared_with_in_channels():
    """4·F channels after Flatten(1, 2) must equal a Conv1d's in_channels: 256, so only F = 64."""
    spec = spec_from("inputs: {x: [1, 4, F, 16]}\nlayers:\n"
                     "  - {name: flat, type: Flatten, start_dim: 1, end_dim: 2}\n"
                     "  - {name: conv, type: Conv1d, in_channels: 256, out_channels: 8, kernel_size: 3, "
                     "groups: 4}\n")
    problem = size_problem(spec, REGISTRY)
    solution = solve(problem, "F", reference_values(problem))
    assert solution.valid.values(200) == brute_force(problem, "F", {}, 200, REGISTRY) == [64]
    assert [finding.code for finding in lint(spec)] == ["S018"]  # valid at some sizes: one info line
    ungrouped = spec_from("inputs: {x: [1, 2, F, 3]}\nlayers:\n"
                          "  - {name: flat, type: Flatten, start_dim: 1, end_dim: 2}\n"
                          "  - {name: conv, type: Conv1d, out_channels: 6, kernel_size: 1, groups: 6}\n")
    problem = size_problem(ungrouped, REGISTRY)  # 2·F channels divisible by 6: F a multiple of 3
    assert solve(problem, "F", reference_values(problem)).valid.values(40) \
        == brute_force(problem, "F", {}, 40, REGISTRY)


def test_flatten_of_two_sizes_into_a_window_is_named_not_a_crash(capsys):
    spec = spec_from("inputs: {x: [1, 4, H, W]}\nlayers:\n  - {name: flat, type: Flatten, start_dim: 2}\n"
                     "  - {name: conv, type: Conv1d, out_channels: 8, kernel_size: 3, padding: 1}\n")
    [finding] = lint(spec)
    assert finding.code == "S016" and finding.layer == "conv" and "product of sizes" in finding.message
    assert summarize(spec)["layers"][1]["output_shape"] is None


def test_no_square_size_valid_gives_no_false_finding():
    """Pool [2, 3] stride 2 then a 12×12 conv: valid at even H ≥ 24 with odd W ≥ 25, never square."""
    spec = spec_from("inputs: {x: [1, 3, H, W]}\nlayers:\n"
                     "  - {name: pool, type: MaxPool2d, kernel_size: [2, 3], stride: 2}\n"
                     "  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 12}\n")
    assert [finding.code for finding in lint(spec)] == ["S018"]  # valid at some sizes: one info line
    problem = size_problem(spec, REGISTRY)
    held = reference_values(problem)
    assert problem.is_valid(held)
    for name in ("H", "W"):
        assert solve(problem, name, held).valid.values(80) == brute_force(problem, name, held, 80, REGISTRY)


def test_hint_moves_one_axis_when_one_suffices(capsys):
    """LeNet-5 at 17×112: rows 17 lose one row at s2, columns 112 are fine; 16 and 20 are the nearest heights."""
    text = open("specs/lenet5.yaml").read().replace("[1, 1, 32, 32]", "[1, 1, 17, 112]")
    [finding] = lint(spec_from(text))
    assert finding.message.endswith("nearest valid input sizes: H = 16 or 20")
    problem = size_problem(spec_from(text), REGISTRY)
    assert brute_force(problem, "H", {"W": 112}, 21, REGISTRY)[-2:] == [16, 20]


def test_try_holds_the_other_sizes_as_declared(tmp_path, capsys):
    spec = tmp_path / "lenet.yaml"
    spec.write_text(open("specs/lenet5.yaml").read().replace("[1, 1, 32, 32]", "[1, 1, 17, 112]"))
    assert main(["sizes", str(spec), "--try", "H=96"]) == 0
    assert "H = 96, W = 112: valid" in capsys.readouterr().out


@pytest.mark.parametrize("valid, words", [
    (SizeSet(180, frozenset([59, 60, *range(62, 118)]), 1), "L ≡ 59–60 or 62–117 (mod 180)"),
    (SizeSet(12, frozenset([0, 1, 2, 3, 4, 5, 6, 7, 9]), 1), "L ≢ 8, 10, 11 (mod 12)"),
])
def test_long_conditions_read_as_ranges(valid, words):
    assert valid.describe("L") == words


def test_torch_export_accepts_the_dynamic_shapes(capsys):
    """`--format torch-export` states the U-Net's valid set as 8·Dim: torch.export accepts it (a plain Dim it
    refuses), and the exported program then refuses a height that is not a multiple of 8."""
    torch = pytest.importorskip("torch")
    torch_reference = pytest.importorskip("torch_reference")
    assert main(["sizes", "specs/unet.yaml", "--format", "torch-export"]) == 0
    namespace: dict = {}
    exec(capsys.readouterr().out, namespace)
    assert str(namespace["dynamic_shapes"]["image"][2]) == "8*H_8"

    class Image(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, image):
            return self.net(image=image)

    module = Image(torch_reference.build("specs/unet.yaml").eval())
    example = (torch.randn(1, 3, 128, 128),)
    exported = torch.export.export(module, example, dynamic_shapes=namespace["dynamic_shapes"])
    assert exported.module()(torch.randn(1, 3, 48, 136))["head"].shape[2:] == (48, 136)
    with pytest.raises(Exception):
        exported.module()(torch.randn(1, 3, 100, 128))
    plain = {"image": {2: torch.export.Dim("H", min=1), 3: torch.export.Dim("W", min=1)}}
    with pytest.raises(Exception, match="Constraints violated"):
        torch.export.export(module, example, dynamic_shapes=plain)


# --- size contracts ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(0, 2), st.integers(1, 40), st.integers(0, 60), st.integers(1, 6), st.booleans())
def test_random_contracts_agree_with_brute_force(text, pick, least, span, step, as_list):
    """S017 names the smallest promised size at which lint reports something (the others held as solved)."""
    from convlint.sizes.joint import solve_all
    problem = size_problem(spec_from(text), REGISTRY)
    name = problem.names[pick % len(problem.names)]
    promised = list(range(-(-least // step) * step, least + span + 1, step))
    if not promised:
        return
    contract = (f"[{', '.join(map(str, promised))}]" if as_list
                else f"{{min: {least}, max: {least + span}, multiple_of: {step}}}")
    contracted = spec_from(text.replace("layers:\n", f"sizes: {{{name}: {contract}}}\nlayers:\n", 1))
    held = solve_all(size_problem(contracted, REGISTRY))[0]
    failing = [x for x in promised if lint_at_declared_sizes(problem.instantiate({**held, name: x}), REGISTRY)]
    broken = [f for f in lint(contracted) if f.code == "S017"]
    if failing:
        [finding] = broken
        assert f"promises {name} = {failing[0]}," in finding.message, (text, contract)
    else:
        assert broken == [], (text, contract)


def test_a_contract_of_a_million_sizes_is_proved_without_trying_them():
    """Every multiple of 8 up to 8·10⁶ on the U-Net: proved by residues; a multiple of 4 is the counterexample."""
    text = open("specs/unet.yaml").read()
    promised = text.replace("layers:\n", "sizes: {H: {min: 8, max: 8000000, multiple_of: 8}, W: H}\nlayers:\n", 1)
    assert lint(spec_from(promised)) == []
    broken = text.replace("layers:\n", "sizes: {H: {min: 8, max: 8000000, multiple_of: 4}}\nlayers:\n", 1)
    [finding] = lint(spec_from(broken))
    assert finding.code == "S017" and "promises H = 12," in finding.message
    assert lint(spec_from(text.replace("[1, 3, 128, 128]", "[1, 3, 12, 128]"))) != []  # 12 fails indeed
