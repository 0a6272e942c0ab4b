"""Every suggested fix is proved: applied to the spec over many random networks, the finding is gone
and no new finding appears (this is what catches a pool fix that forgets the stride follows the kernel)."""
from __future__ import annotations

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
    layers = [dict(layer) for layer in network["layers"]]
    for layer in layers:
        if layer["name"] == fix.layer:
            layer.update(dict(fix.changes))
    return {**network, "layers": layers}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=networks())
def test_every_fix_removes_its_finding_and_brings_none(network, tmp_path, registry):
    assert_fixes_hold(network, tmp_path, registry)


def assert_fixes_hold(network: dict, tmp_path, registry) -> None:
    """Each finding's fix, applied alone, removes that finding and brings no new one."""
    before = findings_of(network, tmp_path, registry)
    for finding in before:
        if finding.fix is None:
            continue
        after = findings_of(applied(network, finding.fix), tmp_path, registry)
        kept = {(f.code, f.layer) for f in before} - {(finding.code, finding.layer)}
        assert {(f.code, f.layer) for f in after} <= kept, (finding.fix.describe(), after)


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


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=skip_networks())
def test_every_fix_of_a_skip_connection_removes_its_finding(network, tmp_path, registry):
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
