"""Every suggested fix is proved: applied to the spec over many random networks, the finding is gone
and no new finding appears (this is what catches a pool fix that forgets the stride follows the kernel)."""
from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlint
from convlint.linting.config import Config

WINDOW = st.fixed_dictionaries({
    "type": st.sampled_from(["Conv2d", "MaxPool2d", "AvgPool2d", "Conv1d", "MaxPool1d"]),
    "kernel_size": st.integers(1, 5),
    "stride": st.none() | st.integers(1, 4),
    "padding": st.integers(0, 2),
    "dilation": st.integers(1, 3),
})


def layer_of(index: int, drawn: dict) -> dict:
    layer = {"name": f"l{index + 1}", "type": drawn["type"], "kernel_size": drawn["kernel_size"]}
    if drawn["type"].startswith("Conv"):
        layer["out_channels"] = 4
    if drawn["stride"] is not None:
        layer["stride"] = drawn["stride"]
    if drawn["padding"] and drawn["padding"] <= drawn["kernel_size"] // 2:
        layer["padding"] = drawn["padding"]
    if drawn["dilation"] > 1 and drawn["type"] != "AvgPool2d":
        layer["dilation"] = drawn["dilation"]
    return layer


@st.composite
def networks(draw) -> dict:
    one_d = draw(st.booleans())
    kinds = ["Conv1d", "MaxPool1d"] if one_d else ["Conv2d", "MaxPool2d", "AvgPool2d"]
    layers = [layer_of(i, dict(draw(WINDOW), type=draw(st.sampled_from(kinds)))) for i in range(draw(st.integers(1, 4)))]
    spatial = [draw(st.integers(8, 64))] if one_d else [draw(st.integers(8, 64)), draw(st.integers(8, 64))]
    return {"inputs": {"x": [1, 3, *spatial]}, "layers": layers}


def findings_of(network: dict, tmp_path, registry) -> list:
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(network, sort_keys=False), encoding="utf-8")
    return convlint.lint(path, registry, Config())


def applied(network: dict, fix) -> dict:
    """``network`` with ``fix`` applied as a user would edit the YAML: keys renamed in place, values set."""
    layers = []
    for layer in network["layers"]:
        if layer["name"] == fix.layer:
            renames = dict(fix.renames)
            layer = {renames.get(key, key): value for key, value in layer.items()}
            layer.update(dict(fix.changes))
        layers.append(dict(layer))
    return {**network, "layers": layers}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=networks())
def test_every_fix_removes_its_finding_and_brings_none(network, tmp_path, registry):
    assert_fixes_hold(network, tmp_path, registry)


def assert_fixes_hold(network: dict, tmp_path, registry) -> int:
    """Each finding's fix, applied alone, removes that finding and brings no new one; returns how many
    fixes were tried.

    A layer whose input size was unknown before the fix (it reads a layer that an error stopped) was
    never checked, so the findings it gets once its input is known are not new ones; every layer
    checked before, the fixed one included, must get none.
    """
    before = checked(network, tmp_path, registry)
    unchecked = {name for name, node in before.analysis.nodes.items() if node.type != "Input" and not node.input_shapes}
    tried = 0
    for finding in before.findings:
        if finding.fix is None:
            continue
        tried += 1
        after = findings_of(applied(network, finding.fix), tmp_path, registry)
        kept = {(f.code, f.layer) for f in before.findings} - {(finding.code, finding.layer)}
        new = {(f.code, f.layer) for f in after} - kept
        assert {(code, layer) for code, layer in new if layer not in unchecked or layer == finding.fix.layer} == set(), \
            (finding.fix.describe(), after)
    return tried


def checked(network: dict, tmp_path, registry):
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(network, sort_keys=False), encoding="utf-8")
    return convlint.api.check(path, registry, Config())


@st.composite
def skip_networks(draw) -> dict:
    """Encoder, downsample, ConvTranspose up and a merge with the skip: the U-Net pattern."""
    down = {"name": "down", "type": draw(st.sampled_from(["MaxPool2d", "Conv2d"])), "kernel_size": draw(st.integers(2, 3)),
            "stride": 2}
    if down["type"] == "Conv2d":
        down.update(out_channels=8, padding=draw(st.integers(0, 1)))
    up = {"name": "up", "type": "ConvTranspose2d", "out_channels": 8, "kernel_size": draw(st.integers(2, 4)),
          "stride": 2, "padding": draw(st.integers(0, 1))}
    merge = {"name": "merge", "type": draw(st.sampled_from(["Concat", "Add"])), "from": ["up", "enc"]}
    layers = [{"name": "enc", "type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, down, up, merge]
    return {"inputs": {"x": [1, 3, draw(st.integers(6, 40)), draw(st.integers(6, 40))]}, "layers": layers}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=skip_networks())
def test_every_fix_of_a_skip_connection_removes_its_finding(network, tmp_path, registry):
    assert_fixes_hold(network, tmp_path, registry)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=skip_networks())
def test_every_fix_of_a_skip_connection_removes_its_finding_long(network, tmp_path, registry):
    assert_fixes_hold(network, tmp_path, registry)


def test_a_skip_connection_fix_sets_output_padding(tmp_path, registry):
    """25 rows pooled to 12 come back as 24 against the skip's 25: output_padding 1 on `up` meets it."""
    network = {"inputs": {"x": [1, 3, 25, 24]}, "layers": [
        {"name": "enc", "type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"name": "down", "type": "MaxPool2d", "kernel_size": 2},
        {"name": "up", "type": "ConvTranspose2d", "out_channels": 8, "kernel_size": 2, "stride": 2},
        {"name": "merge", "type": "Concat", "from": ["up", "enc"]}]}
    found = {f.code: f for f in findings_of(network, tmp_path, registry)}
    assert set(found) == {"S001", "S009"}
    assert (found["S009"].fix.layer, dict(found["S009"].fix.changes)) == ("up", {"output_padding": [1, 0]})
    after = findings_of(applied(network, found["S009"].fix), tmp_path, registry)
    assert [f.code for f in after] == ["S001"]


def test_some_random_networks_have_fixes(tmp_path, registry):
    """The property above is not vacuous: the pool that loses a row has a fix, with the stride written."""
    network = {"inputs": {"x": [1, 3, 5, 5]}, "layers": [{"name": "pool", "type": "MaxPool2d", "kernel_size": 2}]}
    (finding,) = findings_of(network, tmp_path, registry)
    assert finding.code == "S001" and dict(finding.fix.changes) == {"kernel_size": 3, "stride": 2}
    assert findings_of(applied(network, finding.fix), tmp_path, registry) == []


SAFE = [{"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
        {"type": "BatchNorm2d"}]
"""Layers that keep an 8-channel input's sizes and bring no finding of their own."""


@st.composite
def broken_layers(draw, height: int, width: int) -> dict:
    """One layer with a finding whose rule suggests a concrete edit (8 input channels, ``height``×``width``)."""
    kind = draw(st.sampled_from(["pool_padding", "same_strided", "output_padding", "in_channels", "num_features",
                                 "group_norm", "type_typo", "keyword_typo", "return_indices", "layer_norm"]))
    if kind == "pool_padding":
        k = draw(st.integers(1, 5))
        layer = {"type": draw(st.sampled_from(["MaxPool2d", "AvgPool2d"])), "kernel_size": k,
                 "padding": draw(st.integers(k // 2 + 1, k // 2 + 2))}
        stride = draw(st.none() | st.integers(1, 3))
        return layer if stride is None else {**layer, "stride": stride}
    if kind == "same_strided":
        return {"type": "Conv2d", "out_channels": 8, "kernel_size": draw(st.integers(1, 5)),
                "stride": draw(st.integers(2, 3)), "dilation": draw(st.integers(1, 2)), "padding": "same",
                "padding_mode": draw(st.sampled_from(["zeros", "reflect", "circular"]))}
    if kind == "output_padding":
        stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        return {"type": "ConvTranspose2d", "out_channels": 8, "kernel_size": draw(st.integers(1, 4)), "stride": stride,
                "dilation": dilation, "padding": draw(st.integers(0, 1)),
                "output_padding": draw(st.integers(max(stride, dilation), max(stride, dilation) + 2))}
    if kind == "in_channels":
        return {**SAFE[0], "in_channels": draw(st.sampled_from([3, 4, 16]))}
    if kind == "num_features":
        return {"type": "BatchNorm2d", "num_features": draw(st.sampled_from([3, 4, 16]))}
    if kind == "group_norm":
        return draw(st.sampled_from([{"type": "GroupNorm", "num_groups": 3},
                                     {"type": "GroupNorm", "num_groups": 2, "num_channels": 6}]))
    if kind == "type_typo":
        layer = dict(draw(st.sampled_from(SAFE)))
        return {**layer, "type": draw(st.sampled_from([layer["type"].lower(), layer["type"].upper()]))}
    if kind == "keyword_typo":
        written = draw(st.sampled_from([("kernel_size", "kernal_size"), ("out_channels", "out_chanels"),
                                        ("padding", "paddin")]))
        return {written[1] if key == written[0] else key: value for key, value in SAFE[0].items()}
    if kind == "return_indices":
        return {"type": "MaxPool2d", "kernel_size": 1, "return_indices": True}
    return {"type": "LayerNorm", "normalized_shape": draw(st.sampled_from([[width + 1], [height, width + 2], [7]]))}


@st.composite
def broken_networks(draw) -> dict:
    """A chain of findings-free layers around one broken layer, sometimes ending in Flatten and a Linear
    that declares its in_features (rightly or wrongly)."""
    height, width = draw(st.integers(6, 24)), draw(st.integers(6, 24))
    before = [dict(layer) for layer in draw(st.lists(st.sampled_from(SAFE), max_size=2))]
    after = [dict(layer) for layer in draw(st.lists(st.sampled_from(SAFE), max_size=2))]
    layers = [*before, draw(broken_layers(height, width)), *after]
    if draw(st.booleans()):
        layers += [{"type": "Flatten"}, {"type": "Linear", "out_features": 10,
                                         "in_features": draw(st.sampled_from([10, 8 * height * width]))}]
    named = [{"name": f"l{index + 1}", **layer} for index, layer in enumerate(layers)]
    return {"inputs": {"x": [1, 8, height, width]}, "layers": named}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=broken_networks())
def test_every_fix_of_a_broken_keyword_removes_its_finding(network, tmp_path, registry):
    assert_fixes_hold(network, tmp_path, registry)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=broken_networks())
def test_every_fix_of_a_broken_keyword_removes_its_finding_long(network, tmp_path, registry):
    assert_fixes_hold(network, tmp_path, registry)


@pytest.mark.parametrize("layer, code, fix", [
    ({"type": "MaxPool2d", "kernel_size": 3, "padding": 2}, "S004", {"padding": 0}),
    ({"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": "same"}, "S005", {"padding": 1}),
    ({"type": "ConvTranspose2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "output_padding": 3}, "S007",
     {"output_padding": 1}),
    ({"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 1}, "S008", {"in_channels": 8}),
    ({"type": "BatchNorm2d", "num_features": 4}, "S008", {"num_features": 8}),
    ({"type": "LayerNorm", "normalized_shape": [7, 9]}, "S008", {"normalized_shape": [9, 9]}),
    ({"type": "GroupNorm", "num_groups": 3}, "S030", {"num_groups": 2}),
    ({"type": "MaxPool2d", "kernel_size": 1, "return_indices": True}, "S012", {"return_indices": False}),
    ({"type": "conv2d", "out_channels": 8, "kernel_size": 1}, "Y007", {"type": "Conv2d"}),
])
def test_each_rule_that_names_an_edit_carries_it(layer, code, fix, tmp_path, registry):
    """On a 1×8×9×9 input each layer has one finding, whose fix sets the values PyTorch accepts there."""
    network = {"inputs": {"x": [1, 8, 9, 9]}, "layers": [{"name": "l1", **layer}]}
    (finding,) = findings_of(network, tmp_path, registry)
    assert (finding.code, finding.fix.layer, dict(finding.fix.changes)) == (code, "l1", fix)
    assert findings_of(applied(network, finding.fix), tmp_path, registry) == []


def test_a_misspelled_keyword_is_renamed_with_its_value(tmp_path, registry):
    network = {"inputs": {"x": [1, 8, 9, 9]},
               "layers": [{"name": "l1", "type": "Conv2d", "out_channels": 8, "kernal_size": 3}]}
    (finding,) = findings_of(network, tmp_path, registry)
    assert (finding.code, finding.fix.renames, finding.fix.changes) == ("Y006", (("kernal_size", "kernel_size"),), ())
    assert findings_of(applied(network, finding.fix), tmp_path, registry) == []
