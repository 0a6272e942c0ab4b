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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(network=networks())
def test_every_fix_removes_its_finding_and_brings_none(network, tmp_path, registry):
    before = findings_of(network, tmp_path, registry)
    for finding in before:
        if finding.fix is None:
            continue
        after = findings_of(applied(network, finding.fix), tmp_path, registry)
        kept = {(f.code, f.layer) for f in before} - {(finding.code, finding.layer)}
        assert {(f.code, f.layer) for f in after} <= kept, (finding.fix.describe(), after)


def test_some_random_networks_have_fixes(tmp_path, registry):
    """The property above is not vacuous: the pool that loses a row has a fix, with the stride written."""
    network = {"inputs": {"x": [1, 3, 5, 5]}, "layers": [{"name": "pool", "type": "MaxPool2d", "kernel_size": 2}]}
    (finding,) = findings_of(network, tmp_path, registry)
    assert finding.code == "S001" and dict(finding.fix.changes) == {"kernel_size": 3, "stride": 2}
    assert findings_of(applied(network, finding.fix), tmp_path, registry) == []
