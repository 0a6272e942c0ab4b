"""MACs, memory, CenterCrop and the summary command's new options."""
from __future__ import annotations

import io
import itertools
import json
import random
import textwrap

import pytest
import yaml

import convlint
from convlint import lint
from convlint.cli.main import main
from convlint.analysis.graph import build_graph
from convlint.spec.model import parse_spec

torch = pytest.importorskip("torch")


def summary_of(spec: dict | str, **options) -> dict:
    text = spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False)
    parsed = parse_spec(textwrap.dedent(text), "t.yaml")
    build_graph(parsed)
    return convlint.summarize(parsed, **options)


def explicit_transposed_conv(x, weight, stride, padding, dilation, output_padding, groups):
    """ConvTranspose1d as the scatter loop it is: every input element times every tap, added into a full
    output that is then cropped by ``padding``.  Returns (output, number of multiply-adds)."""
    batch, channels_in, length = x.shape
    _, out_per_group, kernel = weight.shape
    full = (length - 1) * stride + dilation * (kernel - 1) + 1 + output_padding
    out = torch.zeros(batch, out_per_group * groups, full, dtype=x.dtype)
    macs = 0
    per_group = channels_in // groups
    for n, ci, i, co, t in itertools.product(range(batch), range(channels_in), range(length),
                                             range(out_per_group), range(kernel)):
        g = ci // per_group
        out[n, g * out_per_group + co, i * stride + t * dilation] += x[n, ci, i] * weight[ci, co, t]
        macs += 1
    return out[:, :, padding:full - padding], macs


@pytest.mark.parametrize("seed", range(12))
def test_transposed_macs_equal_an_explicit_loop(seed):
    rng = random.Random(seed)
    groups = rng.choice([1, 2])
    channels_in, channels_out = groups * rng.randint(1, 2), groups * rng.randint(1, 3)
    stride, kernel, dilation = rng.randint(1, 3), rng.randint(1, 4), rng.randint(1, 2)
    padding, output_padding = rng.randint(0, 1), rng.randint(0, max(stride, dilation) - 1)
    x = torch.randn(2, channels_in, rng.randint(3, 6), dtype=torch.float64)
    layer = torch.nn.ConvTranspose1d(channels_in, channels_out, kernel, stride, padding, output_padding, groups,
                                     bias=False, dilation=dilation).double()
    out, macs = explicit_transposed_conv(x, layer.weight.detach(), stride, padding, dilation, output_padding, groups)
    torch.testing.assert_close(out, layer(x).detach())  # the loop is the real computation
    (row,) = summary_of({"name": "t", "inputs": {"x": list(x.shape)}, "layers": [
        {"type": "ConvTranspose1d", "out_channels": channels_out, "kernel_size": kernel, "stride": stride,
         "padding": padding, "output_padding": output_padding, "groups": groups, "dilation": dilation}]})["layers"]
    assert row["macs"] == macs
    assert row["output_shape"] == list(out.shape)


def test_transposed_macs_are_not_counted_over_outputs():
    """Over output positions (torchinfo, thop) a k4 s2 layer would be counted about 4x too high in 2-d."""
    (row,) = summary_of({"name": "t", "inputs": {"x": [1, 8, 16, 16]}, "layers": [
        {"type": "ConvTranspose2d", "out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1}]})["layers"]
    assert row["output_shape"] == [1, 4, 32, 32]
    assert row["macs"] == 1 * 8 * 16 * 16 * 4 * 4 * 4
    assert 32 * 32 * 4 * 8 * 16 == 4 * row["macs"]


def test_grouped_conv_and_linear_macs():
    summary = summary_of({"name": "t", "inputs": {"x": [2, 8, 10, 10]}, "layers": [
        {"name": "dw", "type": "Conv2d", "out_channels": 8, "kernel_size": 3, "groups": 8},
        {"name": "flat", "type": "Flatten"},
        {"name": "fc", "type": "Linear", "out_features": 5}]})
    macs = {row["name"]: row["macs"] for row in summary["layers"]}
    assert macs == {"dw": 2 * 8 * 8 * 8 * 9, "flat": 0, "fc": 2 * 512 * 5}
    assert summary["total_macs"] == sum(macs.values())


def test_memory_follows_dtype_and_batch():
    text = """\
    name: t
    dtype: float16
    inputs: {x: [4, 3, 8, 8]}
    layers:
      - {name: conv, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1}
    """
    summary = summary_of(text)
    assert summary["layers"][0]["activation_bytes"] == 4 * 16 * 8 * 8 * 2
    assert summary["param_bytes"] == (16 * 3 * 9 + 16) * 2 and summary["input_bytes"] == 4 * 3 * 64 * 2
    assert summary["inference_bytes"] == summary["param_bytes"] + summary["input_bytes"] + 4 * 16 * 64 * 2
    assert summary_of(text.replace("float16", "float32"))["param_bytes"] == (16 * 3 * 9 + 16) * 4


@pytest.mark.parametrize("dtype", ["float12", "[float32]", "{a: 1}", "4"])
def test_unknown_dtype_is_a_finding(dtype):
    summary = summary_of(f"name: t\ndtype: {dtype}\ninputs: {{x: [1, 3, 8, 8]}}\nlayers:\n  - {{type: ReLU}}\n")
    assert [(d["code"], d["line"]) for d in summary["diagnostics"]] == [("Y002", 2)]


@pytest.mark.parametrize("size, target", [(9, 4), (10, 7), (8, 5), (12, 3), (6, 6)])
def test_center_crop_matches_torchvision_offsets(size, target):
    """torchvision's center_crop: top = int(round((h − th) / 2)), Python's round (halves to even)."""
    x = torch.arange(size * size, dtype=torch.float64).reshape(1, 1, size, size)
    top = int(round((size - target) / 2.0))
    expected = x[..., top:top + target, top:top + target]
    analysis = convlint.analyze(_crop_spec(size, target))
    assert analysis.nodes["crop"].shape == (1, 1, target, target)
    fields = convlint.analysis.receptive_field.ReceptiveFields(analysis, convlint.default_registry())
    (row, row_end), (column, column_end) = fields.span("crop", 0, 0), fields.span("crop", 1, 0)
    assert (row, column) == (row_end, column_end) and x[0, 0, row, column] == expected[0, 0, 0, 0]


def _crop_spec(size: int, target: int):
    spec = parse_spec(textwrap.dedent(f"""\
    name: t
    inputs: {{x: [1, 1, {size}, {size}], ref: [1, 2, {target}, {target}]}}
    layers:
      - {{name: crop, type: CenterCrop, from: x, like: ref}}
    """), "t.yaml")
    build_graph(spec)
    return spec


@pytest.mark.parametrize("layer, words", [
    ("{name: crop, type: CenterCrop, from: ref, like: x}", "cannot crop 3 to 9"),
    ("{name: crop, type: CenterCrop, from: x}", "exactly one of `size` and `like`"),
    ("{name: crop, type: CenterCrop, from: x, like: ref, size: 2}", "exactly one of `size` and `like`"),
    ("{name: crop, type: CenterCrop, from: x, like: [ref]}", "`like` must be a layer name"),
    ("{name: conv, type: Conv2d, from: x, like: ref, out_channels: 1, kernel_size: 1}",
     "Conv2d takes exactly 1 input tensor, `from` and `like` give 2"),
])
def test_center_crop_errors(layer, words):
    spec = parse_spec(f"name: t\ninputs: {{x: [1, 1, 9, 9], ref: [1, 1, 3, 3]}}\nlayers:\n  - {layer}\n", "t.yaml")
    build_graph(spec)
    assert any(words in f.message for f in lint(spec))


def test_center_crop_with_size():
    spec = parse_spec("name: t\ninputs: {x: [1, 1, 9, 9]}\nlayers:\n  - {type: CenterCrop, size: [4, 5]}\n", "t.yaml")
    build_graph(spec)
    assert convlint.analyze(spec).nodes["centercrop_0"].shape == (1, 1, 4, 5)


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


def test_summary_json_keeps_the_contract_and_adds_the_numbers():
    code, text = run("summary", "specs/resnet50.yaml", "--format", "json")
    (summary,) = json.loads(text)
    assert code == 0
    assert {"path", "name", "layers", "total_params", "diagnostics", "total_macs", "param_bytes",
            "inference_bytes", "total_activation_bytes", "input_bytes", "dtype"} <= set(summary)
    row = summary["layers"][0]
    assert set(row) == {"name", "type", "output_shape", "params", "macs", "activation_bytes", "receptive_field",
                        "effective_stride", "receptive_field_center"}
    assert row["receptive_field"] == [7, 7] and row["activation_bytes"] == 64 * 112 * 112 * 4


def test_summary_depth_folds_blocks_and_flops_double_macs():
    code, text = run("summary", "specs/resnet50.yaml", "--format", "json", "--depth", "1", "--flops")
    (summary,) = json.loads(text)
    names = [row["name"] for row in summary["layers"]]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
                     "flatten", "fc"]
    layer3 = summary["layers"][6]
    assert layer3["type"] == "Bottleneck ×6" and layer3["output_shape"] == [1, 1024, 14, 14]
    assert summary["total_params"] == sum(row["params"] for row in summary["layers"]) == 25_557_032
    assert summary["total_flops"] == 2 * summary["total_macs"] == sum(row["flops"] for row in summary["layers"])


def test_summary_table_states_the_conventions():
    code, text = run("summary", "specs/resnet50.yaml", "--depth", "2")
    assert code == 0
    assert "Total MACs: 4,089,184,256 (4.09 G)" in text and "fvcore" in text
    assert "layer4.2 (Bottleneck)" in text and "427×427" in text and "Estimated total for inference" in text


def test_depth_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["summary", "specs/resnet50.yaml", "--depth", "0"])
    assert exit_info.value.code == 2
