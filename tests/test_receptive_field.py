"""Receptive fields against brute force (the Jacobian of the PyTorch model) and Distill's closed forms."""
from __future__ import annotations

import random
import sys
from fractions import Fraction
from math import prod
from pathlib import Path

import pytest
import yaml

import convlint
from convlint.analysis.receptive_field import ReceptiveFields

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_reference as tr  # noqa: E402


def analysed(spec: dict):
    parsed = convlint.spec.model.parse_spec(yaml.safe_dump(spec, sort_keys=False), "t.yaml")
    convlint.analysis.graph.build_graph(parsed)
    analysis = convlint.analyze(parsed)
    return analysis, ReceptiveFields(analysis, convlint.default_registry())


def brute_force_spans(spec: dict, output: str) -> list[tuple[int, int] | None]:
    """For each position of ``output`` along the first spatial axis: the first and last input index it
    depends on.  With all weights 1, no bias, and max pools replaced by average pools over the same
    windows, the network is linear with non-negative coefficients, so feeding the one-hot inputs as a
    batch gives its Jacobian, and the non-zero entries are exactly the inputs each output reads."""
    net = tr.build(spec).double()
    for name, module in list(net.items()):
        for parameter in module.parameters():
            torch.nn.init.ones_(parameter)
        if isinstance(module, torch.nn.MaxPool1d):
            net[name] = torch.nn.AvgPool1d(module.kernel_size, module.stride, module.padding)
    (shape,) = net.input_shapes.values()
    one_hot = torch.eye(shape[2], dtype=torch.float64).reshape(shape[2], 1, shape[2])
    with torch.no_grad():
        jacobian = net(x=one_hot)[output][:, 0, :].T  # [output position, input position]
    spans = []
    for row in jacobian:
        read = row.nonzero().flatten().tolist()
        spans.append((min(read), max(read)) if read else None)
    return spans


def random_layer(rng: random.Random) -> dict:
    kind = rng.choice(["conv", "conv", "pool", "transposed", "upsample"])
    if kind == "conv":
        k = rng.randint(1, 5)
        return {"type": "Conv1d", "out_channels": 1, "kernel_size": k, "stride": rng.randint(1, 3),
                "padding": rng.randint(0, 2), "dilation": rng.randint(1, 2), "bias": False}
    if kind == "pool":
        k = rng.randint(2, 4)
        return {"type": "MaxPool1d", "kernel_size": k, "stride": rng.randint(1, 3), "padding": rng.randint(0, k // 2)}
    if kind == "transposed":
        s = rng.randint(1, 3)
        return {"type": "ConvTranspose1d", "out_channels": 1, "kernel_size": rng.randint(1, 5), "stride": s,
                "padding": rng.randint(0, 1), "dilation": rng.randint(1, 2), "output_padding": rng.randint(0, s - 1),
                "bias": False}
    return {"type": "Upsample", "scale_factor": rng.randint(2, 3), "mode": "nearest"}


def random_chain(seed: int) -> dict:
    """A random 1-d chain of 1–5 layers whose sizes are all valid."""
    rng = random.Random(seed)
    while True:
        layers = [dict(random_layer(rng), name=f"l{i}") for i in range(rng.randint(1, 5))]
        spec = {"name": "chain", "inputs": {"x": [1, 1, rng.randint(30, 60)]}, "layers": layers}
        analysis, _ = analysed(spec)
        if not any(f.severity.value == "error" for f in analysis.findings):
            return spec


@pytest.mark.parametrize("seed", range(40))
def test_spans_match_brute_force_on_random_chains(seed):
    spec = random_chain(seed)
    last = spec["layers"][-1]["name"]
    analysis, fields = analysed(spec)
    size = spec["inputs"]["x"][2]
    brute = brute_force_spans(spec, last)
    interior = []
    for position, actual in enumerate(brute):
        computed = fields.span(last, 0, position)
        if computed is None:
            assert actual is None, position
        elif 0 <= computed[0] and computed[1] < size:  # away from the border: nothing is clipped
            assert actual == computed, position
            interior.append(position)
        elif actual is not None:  # at the border the padding clips what is read
            assert computed[0] <= actual[0] and actual[1] <= computed[1], position
    (axis,) = fields.of(last)
    assert all(brute[p][1] - brute[p][0] + 1 <= axis.size for p in interior)
    up = prod(layer.get("stride", 1) if layer["type"] == "ConvTranspose1d" else layer.get("scale_factor", 1)
              for layer in spec["layers"] if layer["type"] in ("ConvTranspose1d", "Upsample"))
    period = prod(layer.get("stride", 1) for layer in spec["layers"]) * up
    window = [p for p in interior if p + period in interior]
    if window and all(p - window[0] < 64 - period for p in window):
        centre = lambda p: Fraction(brute[p][0] + brute[p][1], 2)
        assert axis.size == max(brute[p][1] - brute[p][0] + 1 for p in interior if p < 64)
        assert axis.stride == (centre(window[0] + period) - centre(window[0])) / period


def distill(layers: list[dict]) -> tuple[int, Fraction, Fraction]:
    """Receptive field, effective stride and first-output centre of a conv/pool chain, from the closed
    forms of Araujo et al. (Distill 2019): r = 1 + Σ (k'−1)·Πs, j = Πs, centre = Σ ((k'−1)/2 − p)·Πs."""
    size, jump, centre = 1, Fraction(1), Fraction(0)
    for layer in layers:
        span = layer.get("dilation", 1) * (layer["kernel_size"] - 1) + 1
        size += (span - 1) * jump
        centre += (Fraction(span - 1, 2) - layer.get("padding", 0)) * jump
        jump *= layer.get("stride", 1 if layer["type"].startswith("Conv") else layer["kernel_size"])
    return size, jump, centre


@pytest.mark.parametrize("seed", range(30))
def test_conv_and_pool_chains_match_distill_closed_forms(seed):
    rng = random.Random(1000 + seed)
    while True:
        layers = [dict(random_layer(rng), name=f"l{i}") for i in range(rng.randint(1, 6))]
        layers = [layer for layer in layers if layer["type"] in ("Conv1d", "MaxPool1d")] or layers[:0]
        spec = {"name": "c", "inputs": {"x": [1, 1, 500]}, "layers": layers}
        if layers and not any(f.severity.value == "error" for f in analysed(spec)[0].findings):
            break
    (axis,) = analysed(spec)[1].of(layers[-1]["name"])
    assert (axis.size, axis.stride, axis.center) == distill(layers)


def test_branches_take_the_larger_field():
    spec = {"name": "dag", "inputs": {"x": [1, 1, 40]}, "layers": [
        {"name": "small", "type": "Conv1d", "from": "x", "out_channels": 1, "kernel_size": 3, "padding": 1, "bias": False},
        {"name": "big", "type": "Conv1d", "from": "x", "out_channels": 1, "kernel_size": 9, "padding": 4, "bias": False},
        {"name": "sum", "type": "Add", "from": ["small", "big"]},
        {"name": "cat", "type": "Concat", "from": ["sum", "small"]},
    ]}
    _, fields = analysed(spec)
    assert fields.of("small")[0].size == 3 and fields.of("sum")[0].size == 9 and fields.of("cat")[0].size == 9
    assert brute_force_spans(spec, "cat")[20] == (16, 24) == fields.span("cat", 0, 20)


def test_two_d_axes_are_independent():
    analysis, fields = analysed({"name": "t", "inputs": {"x": [1, 1, 32, 32]}, "layers": [
        {"type": "Conv2d", "out_channels": 1, "kernel_size": [3, 5], "stride": [1, 2], "padding": [1, 0]}]})
    (height, width) = fields.of("conv2d_0")
    assert (height.size, height.stride, height.center) == (3, 1, 0)
    assert (width.size, width.stride, width.center) == (5, 2, 2)


def test_transposed_k2_s2_reads_one_input_per_output():
    _, fields = analysed({"name": "t", "inputs": {"x": [1, 1, 8]}, "layers": [
        {"name": "up", "type": "ConvTranspose1d", "out_channels": 1, "kernel_size": 2, "stride": 2}]})
    (axis,) = fields.of("up")
    assert (axis.size, axis.stride, axis.center) == (1, Fraction(1, 2), 0)


def test_unknown_layer_and_flatten_give_no_field():
    analysis, fields = analysed({"name": "t", "inputs": {"x": [1, 2, 8, 8]}, "layers": [
        {"name": "soft", "type": "Softmax", "dim": 2},
        {"name": "flat", "type": "Flatten"},
    ]})
    assert fields.of("soft") is None and fields.of("flat") is None


class BrokenSpans(convlint.LayerType):
    """A plugin layer whose input_spans is wrong in the given way."""

    family = "other"

    def __init__(self, name, result):
        self.name, self.result = name, result

    def infer(self, ctx):
        return ctx.input

    def input_spans(self, ctx, axis, position):
        if self.result == "raise":
            raise ZeroDivisionError("bug")
        return self.result


@pytest.mark.parametrize("result", ["raise", [(0, 1), (0, 1)], [(0.5, 1)], (0, 1), None])
def test_a_plugin_with_bad_spans_leaves_the_field_unknown(result):
    from convlint.layers.registry import load_registry

    class Plugin:
        @convlint.hookimpl
        def register_layer_types(register):
            register(BrokenSpans("Broken", result))

    registry = load_registry(only_distribution="convlint", extra=[("broken", Plugin)])
    spec = convlint.spec.model.parse_spec("name: t\ninputs: {x: [1, 1, 8]}\nlayers:\n  - {name: b, type: Broken}\n"
                                    "  - {name: r, type: ReLU}\n", "t.yaml")
    convlint.analysis.graph.build_graph(spec)
    summary = convlint.summarize(spec, registry)
    assert [row["receptive_field"] for row in summary["layers"]] == [None, None]


def test_unet_shaped_dag_with_crop_matches_brute_force():
    """A 1-d original-U-Net level: valid convs, pool, up-conv, skip cropped to the up-conv, concat."""
    spec = {"name": "u", "inputs": {"x": [1, 1, 46]}, "layers": [
        {"name": "c1", "type": "Conv1d", "out_channels": 1, "kernel_size": 3},
        {"name": "c2", "type": "Conv1d", "out_channels": 1, "kernel_size": 3},
        {"name": "pool", "type": "MaxPool1d", "kernel_size": 2},
        {"name": "d1", "type": "Conv1d", "out_channels": 1, "kernel_size": 3},
        {"name": "d2", "type": "Conv1d", "out_channels": 1, "kernel_size": 3},
        {"name": "up", "type": "ConvTranspose1d", "out_channels": 1, "kernel_size": 2, "stride": 2},
        {"name": "crop", "type": "CenterCrop", "from": "c2", "like": "up"},
        {"name": "cat", "type": "Concat", "from": ["crop", "up"]},
        {"name": "out", "type": "Conv1d", "out_channels": 1, "kernel_size": 3},
    ]}
    analysis, fields = analysed(spec)
    assert not analysis.findings
    conv = lambda t, channels=1: torch.nn.functional.conv1d(t, torch.ones(1, channels, 3, dtype=torch.float64))
    x = torch.eye(46, dtype=torch.float64).reshape(46, 1, 46)
    c2 = conv(conv(x))
    up = torch.nn.functional.conv_transpose1d(conv(conv(torch.nn.functional.avg_pool1d(c2, 2))),
                                              torch.ones(1, 1, 2, dtype=torch.float64), stride=2)
    top = int(round((c2.shape[2] - up.shape[2]) / 2.0))  # torchvision's center_crop
    out = conv(torch.cat([c2[..., top:top + up.shape[2]], up], 1), channels=2)
    assert list(out.shape[1:]) == list(analysis.nodes["out"].shape[1:])
    brute = [(min(read), max(read)) for read in (row.nonzero().flatten().tolist() for row in out[:, 0, :].T)]
    assert brute == [fields.span("out", 0, position) for position in range(out.shape[2])]
    (axis,) = fields.of("out")
    assert axis.size == max(last - first + 1 for first, last in brute) and axis.stride == 1


def test_past_the_span_budget_fields_are_unknown(registry, monkeypatch):
    """A spec that would need more than MAX_SPANS spans gets fields for its first layers only."""
    from convlint.analysis import receptive_field
    layers = "".join(f"  - {{name: c{i}, type: Conv1d, out_channels: 1, kernel_size: 3, padding: 1}}\n"
                     for i in range(40))
    analysis = convlint.analyze(convlint.api.load_text(f"inputs: {{x: [1, 1, 32]}}\nlayers:\n{layers}", "deep.yaml"),
                                registry)
    unbounded = ReceptiveFields(analysis, registry)
    assert unbounded.of("c39")[0].size == 81
    monkeypatch.setattr(receptive_field, "MAX_SPANS", 2_000)
    bounded = ReceptiveFields(analysis, registry)
    assert bounded.of("c0")[0].size == 3
    assert bounded.of("c39") is None
