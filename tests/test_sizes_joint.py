"""Several named sizes solved together: the valid tuples equal brute force (lint at every tuple up to a bound).

Networks with a Flatten + Linear head couple the sizes through a product; two inputs
merged couple their sizes through an equality; anisotropic strides make square sizes
fail.  The oracle lints the spec at each tuple, one by one.
"""
from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.api import default_registry, lint, lint_at_declared_sizes
from convlint.cli.main import main
from convlint.sizes.joint import solve_joint
from convlint.sizes.solver import size_problem
from tests.size_cases import spec_from

REGISTRY = default_registry()


def brute_force(problem, bound: int) -> set[tuple[int, ...]]:
    """Every tuple of the names (in order), each size up to ``bound``, at which lint reports nothing."""
    return {sizes for sizes in itertools.product(range(1, bound + 1), repeat=len(problem.names))
            if not lint_at_declared_sizes(problem.instantiate(dict(zip(problem.names, sizes))), REGISTRY)}


def solved(problem, bound: int) -> set[tuple[int, ...]]:
    """The valid tuples the joint solution lists, each size up to ``bound``, in the order of the names."""
    joint = solve_joint(problem)
    assert all(component.why_not is None for component in joint.components), joint.components
    per_component = []
    for component in joint.components:
        tuples, cut = joint.tuples(component, bound)
        assert not cut
        per_component.append([dict(zip(component.names, item)) for item in tuples])
    return {tuple({key: value for part in parts for key, value in part.items()}[name] for name in problem.names)
            for parts in itertools.product(*per_component)}


def assert_joint_equals_brute_force(text: str, bound: int) -> None:
    problem = size_problem(spec_from(text), REGISTRY)
    truth = brute_force(problem, bound)
    assert solved(problem, bound) == truth, text
    joint = solve_joint(problem)
    for index, solution in enumerate(joint.solutions):  # every value of a valid tuple is in the projection
        assert {sizes[index] for sizes in truth} <= set(solution.valid.values(bound)), (text, solution.name)
    findings = lint(problem.spec)
    assert not [f for f in findings if f.severity.value == "error"] or not truth, (text, findings)


def _window(draw, ndim: int) -> str:
    """A conv or max-pool with anisotropic kernel and stride."""
    axis = lambda values: draw(st.lists(values, min_size=ndim, max_size=ndim))  # noqa: E731
    kernel = axis(st.integers(1, 3))
    stride = axis(st.integers(1, 3))
    if draw(st.booleans()):
        return f"type: Conv{ndim}d, out_channels: 2, kernel_size: {kernel}, stride: {stride}"
    return f"type: MaxPool{ndim}d, kernel_size: {kernel}, stride: {stride}, ceil_mode: {str(draw(st.booleans())).lower()}"


@st.composite
def head_networks(draw, ndim: int = 2):
    """Convs and pools, then Flatten and a Linear whose declared in_features some sizes give."""
    names = ["H", "W"] if ndim == 2 else ["D", "H", "W"]
    lines = [f"inputs: {{x: [1, 2, {', '.join(names)}]}}", "layers:"]
    for index in range(draw(st.integers(0, 3))):
        lines.append(f"  - {{name: l{index}, {_window(draw, ndim)}}}")
    features = 2 * draw(st.integers(1, 6)) * draw(st.integers(1, 6)) * (draw(st.integers(1, 3)) if ndim == 3 else 1)
    lines += ["  - {name: flat, type: Flatten}",
              f"  - {{name: head, type: Linear, in_features: {features + draw(st.sampled_from([0, 0, 0, 1]))}, "
              f"out_features: 3}}"]
    return "\n".join(lines) + "\n"


@st.composite
def two_input_networks(draw):
    """Inputs `x: [1, 2, H, W]` and `y: [1, 2, G, W]`, a few layers on each, merged by Concat or Add."""
    lines = ["inputs: {x: [1, 2, H, W], y: [1, 2, G, W]}", "layers:"]
    ends = {}
    for branch in ("x", "y"):
        previous = branch
        for index in range(draw(st.integers(0, 2))):
            name = f"{branch}{index}"
            lines.append(f"  - {{name: {name}, from: {previous}, {_window(draw, 2)}}}")
            previous = name
        ends[branch] = previous
    merge = draw(st.sampled_from(["Concat", "Add"]))
    lines.append(f"  - {{name: merge, type: {merge}, from: [{ends['x']}, {ends['y']}]}}")
    if draw(st.booleans()):
        lines.append(f"  - {{name: after, {_window(draw, 2)}}}")
    return "\n".join(lines) + "\n"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head_networks())
def test_linear_head_pairs_equal_brute_force(text):
    assert_joint_equals_brute_force(text, 24)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_input_networks())
def test_two_inputs_merged_equal_brute_force(text):
    assert_joint_equals_brute_force(text, 11)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head_networks())
def test_linear_head_pairs_equal_brute_force_long(text):
    assert_joint_equals_brute_force(text, 40)


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_input_networks())
def test_two_inputs_merged_equal_brute_force_long(text):
    assert_joint_equals_brute_force(text, 16)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head_networks(ndim=3))
def test_three_sizes_in_a_product_equal_brute_force(text):
    assert_joint_equals_brute_force(text, 12)


def test_three_sizes_in_a_product_example():
    """D×H×W flattened into 2·D·(H − 1)·⌊W/2⌋ = 24: every triple up to 12, against brute force."""
    assert_joint_equals_brute_force("inputs: {x: [1, 2, D, H, W]}\nlayers:\n"
                                    "  - {name: c, type: Conv3d, out_channels: 2, kernel_size: [1, 2, 1]}\n"
                                    "  - {name: p, type: MaxPool3d, kernel_size: [1, 1, 2]}\n"
                                    "  - {name: flat, type: Flatten}\n"
                                    "  - {name: head, type: Linear, in_features: 24, out_features: 3}\n", 12)


LENET_LIKE = """inputs: {image: [N, 3, H, W]}
layers:
  - {name: c1, type: Conv2d, out_channels: 8, kernel_size: 5}
  - {name: p1, type: MaxPool2d, kernel_size: 2}
  - {name: c2, type: Conv2d, out_channels: 8, kernel_size: 3}
  - {name: p2, type: MaxPool2d, kernel_size: 2}
  - {name: flat, type: Flatten}
  - {name: head, type: Linear, in_features: 280, out_features: 10}
"""


def test_flatten_linear_spec_lists_its_pairs(tmp_path, capsys):
    """8·(⌊H/4⌋ − 2)·(⌊W/4⌋ − 2) = 280 with H, W multiples of 4: exactly the pairs lint accepts, no square one."""
    spec = tmp_path / "head.yaml"
    spec.write_text(LENET_LIKE)
    assert main(["sizes", str(spec), "--format", "json", "--upto", "200"]) == 0
    data = json.loads(capsys.readouterr().out)
    [joint] = data["joint"]
    assert joint["names"] == ["H", "W"] and joint["jointly"]
    assert joint["tuples"] == [[12, 148], [28, 36], [36, 28], [148, 12]]
    assert data["symbols"]["H"]["valid"] == [12, 28, 36, 148]  # each valid with some W
    assert "= 280" in joint["conditions"]
    [info] = lint(spec_from(LENET_LIKE))
    assert info.code == "S018" and "8·(⌊H/4⌋ − 2)·(⌊W/4⌋ − 2) = 280" in info.message
    assert main(["sizes", str(spec)]) == 0
    assert "valid (H, W) up to 1024: (12, 148), (28, 36), (36, 28), (148, 12)" in capsys.readouterr().out


@pytest.mark.slow
def test_flatten_linear_pairs_are_those_lint_accepts():
    """The pairs above, against a lint at every (H, W) up to 200."""
    problem = size_problem(spec_from(LENET_LIKE), REGISTRY)
    truth = [[h, w] for h in range(1, 201) for w in range(1, 201)
             if not lint_at_declared_sizes(problem.instantiate({"N": 1, "H": h, "W": w}), REGISTRY)]
    assert truth == [[12, 148], [28, 36], [36, 28], [148, 12]]


def test_head_has_pairs_but_no_square_size():
    """A Linear(in_features: 280) after an H×W map: H = 35, W = 28 lints clean, so lint reports no error."""
    text = ("inputs: {x: [1, 1, H, W]}\nlayers:\n  - {name: flat, type: Flatten}\n"
            "  - {name: head, type: Linear, in_features: 980, out_features: 2}\n")
    problem = size_problem(spec_from(text), REGISTRY)
    joint = solve_joint(problem)
    [component] = joint.components
    tuples, _ = joint.tuples(component, 1000)
    assert (35, 28) in tuples and (28, 35) in tuples and (49, 20) in tuples
    assert [f.code for f in lint(spec_from(text))] == ["S018"]


def test_product_no_size_meets_names_the_layer_and_the_closest_sizes():
    """8·(⌊H/4⌋ − 2)·(⌊W/4⌋ − 2) is a multiple of 8: never 283.  S015 names `head` and the nearest products."""
    [finding] = lint(spec_from(LENET_LIKE.replace("280", "283")))
    assert finding.code == "S015" and finding.layer == "head"
    assert "`head` needs 8·(⌊H/4⌋ − 2)·(⌊W/4⌋ − 2) = 283" in finding.message and ": S008 " in finding.message
    assert "closest: H = 12, W = 148 (8·(⌊H/4⌋ − 2)·(⌊W/4⌋ − 2) = 280)" in finding.message
    problem = size_problem(spec_from(LENET_LIKE.replace("280", "288")), REGISTRY)
    assert problem.is_valid({"N": 1, "H": 12, "W": 152})  # 8·1·36 = 288: the other side of 283 exists


def test_two_inputs_are_solved_together():
    """⌊H/2⌋ must equal G: each G is valid with H = 2G or 2G + 1; W is on its own."""
    text = ("inputs: {x: [1, 2, H, W], y: [1, 2, G, W]}\nlayers:\n"
            "  - {name: down, from: x, type: MaxPool2d, kernel_size: [2, 1]}\n"
            "  - {name: cat, type: Concat, from: [down, y]}\n")
    problem = size_problem(spec_from(text), REGISTRY)
    joint = solve_joint(problem)
    pair = joint.component_of("H")
    assert pair.names == ["H", "G"] and [link.describe() for link in pair.equalities] == ["⌊H/2⌋ = G"]
    assert joint.component_of("W").names == ["W"]
    by_name = {solution.name: solution.valid for solution in joint.solutions}
    assert by_name["H"].describe("H") == "H is a multiple of 2"  # the pool must read every row
    assert by_name["G"].describe("G") == "G ≥ 1"
    assert_joint_equals_brute_force(text, 14)


def test_no_blame_for_a_value_held():
    """W can never be valid (a 1×2 conv concatenated with its input); H is fine.  S015 names W only."""
    text = ("inputs: {x: [1, 4, H, W]}\nlayers:\n"
            "  - {name: c, type: Conv2d, out_channels: 4, kernel_size: [3, 2]}\n"
            "  - {name: pad, type: ZeroPad2d, padding: [0, 0, 1, 1]}\n"
            "  - {name: cat, type: Concat, from: [pad, x]}\n")
    [finding] = lint(spec_from(text))
    assert finding.code == "S015" and "no value of W" in finding.message and finding.layer == "cat"
    assert "closest: W = " in finding.message


def test_merged_inputs_that_never_meet_name_the_merge_and_the_closest_sizes():
    """2·⌊H/2⌋ is even and 2·G + 1 odd: no (H, G) is valid.  S015 names `cat`, its S009 and the closest pair."""
    text = ("inputs: {x: [1, 2, H, W], y: [1, 2, G, W]}\nlayers:\n"
            "  - {name: down, from: x, type: MaxPool2d, kernel_size: [2, 1]}\n"
            "  - {name: back, type: ConvTranspose2d, out_channels: 2, kernel_size: [2, 1], stride: [2, 1]}\n"
            "  - {name: up, from: y, type: ConvTranspose2d, out_channels: 2, kernel_size: [3, 1], stride: [2, 1]}\n"
            "  - {name: cat, type: Concat, from: [back, up]}\n")
    problem = size_problem(spec_from(text), REGISTRY)
    assert brute_force(problem, 9) == set()
    [finding] = lint(spec_from(text))
    assert finding.code == "S015" and finding.layer == "cat" and "needs 2·⌊H/2⌋ = 2·G + 1" in finding.message
    assert "closest: H = 2, G = 1 (2·⌊H/2⌋ = 2, 2·G + 1 = 3)" in finding.message and ": S009 " in finding.message


def test_a_product_of_sizes_that_is_zero_at_small_sizes():
    """4·⌊H/2⌋·⌊W/2⌋ is 0 at H = 1 whatever W is: the product is then the number 0, not a form of W.
    An Add of the flattened product and the conv's 4-d output fails at every size: S015, no internal error."""
    text = ("inputs: {x: [1, 3, H, W]}\nlayers:\n"
            "  - {name: c, type: Conv2d, out_channels: 4, kernel_size: 2, stride: 2}\n"
            "  - {name: flat, type: Flatten}\n"
            "  - {name: add, type: Add, from: [flat, c]}\n")
    [finding] = lint(spec_from(text))
    assert (finding.code, finding.layer) == ("S015", "add")
    assert "S010 `flat` gives 1×16 but `c` gives 1×4×2×2" in finding.message
