"""Tests for the independent PyTorch oracle (tests/torch_reference.py) and
for the bundled specs in specs/, checked against PyTorch and torchvision's
published parameter counts."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_reference as tr  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
SPEC_NAMES = ["lenet5", "alexnet", "vgg16", "resnet18", "unet", "dcgan"]

# torchvision's published totals (models.alexnet / vgg16 / resnet18), plus the
# hand-checked totals of the other bundled specs (also stated in their headers).
EXPECTED_TOTALS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "dcgan": 3_576_704,
    "lenet5": 61_706,
    "unet": 482_050,
}

_CACHE: dict = {}


def net(name: str) -> "tr.TorchNet":
    """Build each bundled spec once per session (VGG-16 has 138M parameters)."""
    if name not in _CACHE:
        torch.manual_seed(0)
        _CACHE[name] = tr.build(SPECS / f"{name}.yaml").eval()
    return _CACHE[name]


BLOCK_SPEC_NAMES = ["resnet50", "mobilenetv2", "unet_original", "fcn"]  # tests/test_block_specs.py
ZOO_SPEC_NAMES = ["mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "convnext_tiny",
                  "densenet121", "googlenet", "squeezenet1_1", "regnet_y_400mf",  # tests/test_torchvision_zoo.py
                  "tcn", "diffusion_unet"]  # tests/test_tcn_and_diffusion_specs.py


def test_all_bundled_specs_are_covered():
    assert sorted(p.stem for p in SPECS.glob("*.yaml")) == sorted(SPEC_NAMES + BLOCK_SPEC_NAMES + ZOO_SPEC_NAMES)


def test_dotted_names_are_module_paths():
    """A layer named `a.b` is module `b` inside container `a`, as torchvision nests its modules."""
    n = tr.build({"name": "dotted", "inputs": {"x": [1, 4]}, "layers": [{"name": "a.b", "type": "Linear",
                                                                          "out_features": 2}]})
    assert set(n.state_dict()) == {"a.b.weight", "a.b.bias"}
    assert set(n(x=torch.zeros(1, 4))) == {"a.b"} and n.layer_params() == {"a.b": 10}


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_spec_builds_and_runs_forward(name):
    n = net(name)
    inputs = {k: torch.randn(s) for k, s in n.input_shapes.items()}
    with torch.no_grad():
        outs = n(**inputs)
    assert list(outs) == list(n.layer_types)
    # the real forward agrees with the meta-tensor shape propagation
    assert {k: tuple(v.shape) for k, v in outs.items()} == n.output_shapes()
    for o in n.output_names:
        assert torch.isfinite(outs[o]).all()


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_total_params(name):
    n = net(name)
    assert n.total_params() == EXPECTED_TOTALS[name]
    assert n.total_params() == sum(p.numel() for p in n.parameters())


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_header_states_total(name):
    header = (SPECS / f"{name}.yaml").read_text().split("\nname:")[0]
    m = re.search(r"Total parameters: ([\d,]+)", header)
    assert m and int(m.group(1).replace(",", "")) == EXPECTED_TOTALS[name]


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet18"])
def test_classifier_outputs(name):
    n = net(name)
    assert n.output_shapes()[n.output_names[0]] == (1, 1000)


def test_dcgan_output_shape():
    n = net("dcgan")
    assert n.output_names == ["main_13"]
    assert n.output_shapes()["main_13"] == (1, 3, 64, 64)


def test_unet_output_keeps_spatial_size():
    n = net("unet")
    (out,) = n.output_names
    assert n.output_shapes()[out][2:] == n.input_shapes["image"][2:]
    with torch.no_grad():  # also at another size divisible by 8
        y = n(image=torch.randn(1, 3, 40, 56))[out]
    assert tuple(y.shape) == (1, 2, 40, 56)


def test_lenet5_shapes():
    s = net("lenet5").output_shapes()
    assert s["c1"] == (1, 6, 28, 28) and s["s4"] == (1, 16, 5, 5)
    assert s["flatten"] == (1, 400) and s["out"] == (1, 10)


def test_resnet18_state_dict_mirrors_torchvision():
    keys = set(net("resnet18").state_dict())
    for k in ["conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight",
              "layer2.0.downsample.0.weight", "layer4.1.bn2.num_batches_tracked",
              "fc.weight", "fc.bias"]:
        assert k in keys  # the spec's layers are named by torchvision's module paths
    assert "conv1.bias" not in keys and "layer1.0.conv1.bias" not in keys
    # 20 convs (17 3x3/7x7 + 3 downsample) and 20 BNs; torchvision state_dict has
    # 20*1 + 20*5 + 2 = 122 entries
    assert len(keys) == 122


def _lost_rows(layer_type: str, kw: dict, size: int, dim: int) -> int:
    """Input rows (along one spatial dim) that a conv/pool silently drops,
    beyond trailing padding: ((L + 2p - d(k-1) - 1) mod s) - p, clipped at 0."""
    def get(key, default):
        v = kw.get(key, default)
        return v[dim] if isinstance(v, (list, tuple)) else v
    k = get("kernel_size", None)
    default_stride = k if "Pool" in layer_type else 1
    s, p = get("stride", default_stride), get("padding", 0)
    d = 1 if layer_type.startswith("AvgPool") else get("dilation", 1)
    if kw.get("ceil_mode"):
        return 0
    return max(0, (size + 2 * p - d * (k - 1) - 1) % s - p)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_no_input_rows_silently_dropped(name):
    n = net(name)
    spec = tr.load_spec(SPECS / f"{name}.yaml")
    shapes = {**n.input_shapes, **n.output_shapes()}
    for i, layer in enumerate(spec["layers"]):
        t = layer["type"]
        if not re.fullmatch(r"(Conv|MaxPool|AvgPool)[123]d", t):
            continue
        lname = layer.get("name") or f"{t.lower()}_{i}"
        if t == "Conv2d" and lname.endswith(".downsample.0"):
            continue  # ResNet 1x1 stride-2 shortcut subsamples by design
        (src,) = n.sources[lname]
        spatial = shapes[src][2:]
        for dim, size in enumerate(spatial):
            assert _lost_rows(t, layer, size, dim) == 0, (name, lname, dim)


# ---- the oracle itself ---------------------------------------------------

def test_auto_names_and_default_from():
    spec = {"name": "t", "inputs": {"x": [2, 3, 8, 8]},
            "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3},
                       {"type": "ReLU"},
                       {"name": "cat", "type": "Concat", "from": ["conv2d_0", "relu_1"]},
                       {"type": "BatchNorm2d"},
                       {"type": "Add", "from": ["cat", "batchnorm2d_3"]},
                       {"type": "Flatten"},
                       {"type": "Linear", "out_features": 5}]}
    n = tr.build(spec)
    assert list(n.layer_types) == ["conv2d_0", "relu_1", "cat", "batchnorm2d_3",
                                   "add_4", "flatten_5", "linear_6"]
    assert n.output_names == ["linear_6"]
    assert n.sources["conv2d_0"] == ["x"] and n.sources["relu_1"] == ["conv2d_0"]
    assert n.output_shapes()["cat"] == (2, 8, 6, 6)
    assert n.layers["batchnorm2d_3"].num_features == 8
    assert n.layers["linear_6"].in_features == 8 * 6 * 6
    p = n.layer_params()
    assert p["conv2d_0"] == 4 * 3 * 9 + 4 and p["cat"] == 0 and p["add_4"] == 0
    assert p["batchnorm2d_3"] == 16 and p["linear_6"] == 288 * 5 + 5
    x = torch.randn(2, 3, 8, 8)
    outs = n.eval()(x=x)
    c = n.layers["conv2d_0"](x)
    torch.testing.assert_close(outs["cat"], torch.cat([c, torch.relu(c)], 1))
    torch.testing.assert_close(outs["add_4"], outs["cat"] + outs["batchnorm2d_3"])


def test_inplace_layer_does_not_clobber_its_source():
    n = tr.build({"name": "t", "inputs": {"x": [1, 4]},
                  "layers": [{"name": "fc", "type": "Linear", "out_features": 4},
                             {"name": "act", "type": "ReLU", "inplace": True}]})
    x = torch.randn(1, 4)
    with torch.no_grad():
        outs = n(x=x)
        torch.testing.assert_close(outs["fc"], n["fc"](x))
    torch.testing.assert_close(outs["act"], torch.relu(outs["fc"]))


@pytest.mark.parametrize("bad, msg", [
    ({"layers": [{"type": "Frobnicate"}]}, "unknown type"),
    ({"layers": [{"type": "ReLU", "from": "nope"}]}, "not an input or earlier layer"),
    ({"layers": [{"name": "a", "type": "ReLU"}, {"name": "a", "type": "ReLU"}]}, "duplicate"),
    ({"layers": [{"type": "ReLU"}], "outputs": ["zzz"]}, "is not a layer"),
    ({"layers": [{"name": "training", "type": "ReLU"}]}, "reserved by nn.Module"),
])
def test_oracle_rejects_bad_specs(bad, msg):
    """(A dotted name such as `layer1.0.conv1` is accepted: see test_dotted_names_are_module_paths.)"""
    spec = {"name": "bad", "inputs": {"x": [1, 4]}, **bad}
    with pytest.raises(tr.SpecError, match=re.escape(msg)):
        tr.build(spec)
