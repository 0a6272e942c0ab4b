"""The executor against PyTorch (CPU): random single layers of every built-in type, and whole
bundled networks with the same weights.  Max relative error ≤ 1e-4 in float32, ≤ 1e-10 in float64
(relative to the largest PyTorch output value)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlint
from convlint.api import load_text

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).parent))
import torch_reference  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def randomise_buffers(net, generator) -> None:
    """Give BatchNorm layers non-trivial running statistics and affine parameters."""
    for module in net.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            if module.running_mean is not None:
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator))
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
            if module.weight is not None:
                module.weight.data.copy_(torch.randn(module.weight.shape, generator=generator))


def compare(spec_data: dict, registry, dtype: str = "float32", seed: int = 0) -> None:
    """Run the spec in PyTorch and in convlint with the same inputs and weights; compare every output."""
    generator = torch.Generator().manual_seed(seed)
    net = torch_reference.build(spec_data).to(TORCH_DTYPES[dtype]).eval()
    randomise_buffers(net, generator)
    inputs = {name: torch.randn(shape, generator=generator, dtype=TORCH_DTYPES[dtype])
              for name, shape in net.input_shapes.items()}
    with torch.no_grad():
        expected = net(**inputs)
    weights = {key: value.numpy() for key, value in net.state_dict().items()}
    spec = load_text(yaml.safe_dump(spec_data), "random.yaml")
    actual = convlint.run(spec, {name: value.numpy() for name, value in inputs.items()}, weights,
                          dtype=dtype, keep_all=True, registry=registry)
    for name, value in expected.items():
        reference = value.numpy()
        scale = max(float(np.abs(reference).max()), 1e-30)
        error = float(np.abs(actual[name] - reference).max()) / scale if reference.size else 0.0
        assert actual[name].shape == reference.shape, name
        assert error <= TOLERANCE[dtype], f"{name}: max relative error {error:.3g}"


SLOW = pytest.mark.slow


@pytest.mark.parametrize("name, dtype", [
    ("lenet5", "float64"), pytest.param("alexnet", "float32", marks=SLOW), ("resnet18", "float32"),
    pytest.param("resnet18", "float64", marks=SLOW), ("unet", "float64"), pytest.param("unet", "float32", marks=SLOW),
    ("dcgan", "float32"), ("dcgan", "float64"),
])
def test_bundled_network_matches_pytorch(registry, name, dtype):
    compare(yaml.safe_load((SPECS / f"{name}.yaml").read_text()), registry, dtype)


def per_axis(draw, ndim, values):
    return draw(values) if draw(st.booleans()) else [draw(values) for _ in range(ndim)]


@st.composite
def layer_case(draw):
    """A valid single-layer spec of a random built-in type (invalid ones are filtered by assume)."""
    ndim = draw(st.integers(1, 3))
    sizes = [draw(st.integers(3, {1: 16, 2: 10, 3: 6}[ndim])) for _ in range(ndim)]
    channels = draw(st.sampled_from([1, 2, 4, 6]))
    family = draw(st.sampled_from(["conv", "transposed", "maxpool", "avgpool", "adaptive", "upsample", "norm",
                                   "elementwise", "linear"]))
    if family == "conv":
        groups = draw(st.sampled_from([g for g in (1, 2, channels) if channels % g == 0]))
        layer = {"type": f"Conv{ndim}d", "out_channels": groups * draw(st.integers(1, 3)),
                 "kernel_size": per_axis(draw, ndim, st.integers(1, 3)), "groups": groups,
                 "dilation": per_axis(draw, ndim, st.integers(1, 2)), "bias": draw(st.booleans()),
                 "padding_mode": draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))}
        if draw(st.booleans()):
            layer["padding"] = "same"
        else:
            layer["padding"] = per_axis(draw, ndim, st.integers(0, 2))
            layer["stride"] = per_axis(draw, ndim, st.integers(1, 3))
    elif family == "transposed":
        groups = draw(st.sampled_from([g for g in (1, 2, channels) if channels % g == 0]))
        stride = draw(st.integers(1, 3))
        layer = {"type": f"ConvTranspose{ndim}d", "out_channels": groups * draw(st.integers(1, 2)),
                 "kernel_size": per_axis(draw, ndim, st.integers(1, 4)), "stride": stride, "groups": groups,
                 "padding": draw(st.integers(0, 1)), "output_padding": draw(st.integers(0, stride - 1)),
                 "dilation": draw(st.integers(1, 2)), "bias": draw(st.booleans())}
    elif family == "maxpool":
        layer = {"type": f"MaxPool{ndim}d", "kernel_size": draw(st.integers(2, 3)), "stride": draw(st.integers(1, 3)),
                 "padding": draw(st.integers(0, 1)), "dilation": draw(st.integers(1, 2)),
                 "ceil_mode": draw(st.booleans())}
    elif family == "avgpool":
        layer = {"type": f"AvgPool{ndim}d", "kernel_size": draw(st.integers(2, 3)), "stride": draw(st.integers(1, 3)),
                 "padding": draw(st.integers(0, 1)), "ceil_mode": draw(st.booleans()),
                 "count_include_pad": draw(st.booleans())}
        if ndim > 1 and draw(st.booleans()):
            layer["divisor_override"] = draw(st.integers(1, 5))
    elif family == "adaptive":
        layer = {"type": f"Adaptive{draw(st.sampled_from(['Avg', 'Max']))}Pool{ndim}d",
                 "output_size": [draw(st.integers(1, 7)) for _ in range(ndim)]}
    elif family == "upsample":
        modes = ["nearest", "nearest-exact", {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim]]
        mode = draw(st.sampled_from(modes + (["bicubic"] if ndim == 2 else [])))
        layer = {"type": "Upsample", "mode": mode}
        if not mode.startswith("nearest"):
            layer["align_corners"] = draw(st.booleans())
        if draw(st.booleans()):
            layer["size"] = [draw(st.integers(1, 12)) for _ in range(ndim)]
        else:
            layer["scale_factor"] = draw(st.sampled_from([0.5, 1.5, 2, 3]))
    elif family == "norm":
        layer = {"type": f"BatchNorm{ndim}d", "affine": draw(st.booleans()),
                 "track_running_stats": draw(st.booleans()), "eps": draw(st.sampled_from([1e-5, 1e-3]))}
    elif family == "elementwise":
        layer = draw(st.sampled_from([
            {"type": "ReLU"}, {"type": "ReLU6"}, {"type": "SiLU"}, {"type": "Hardswish"}, {"type": "Sigmoid"},
            {"type": "Tanh"}, {"type": "LeakyReLU", "negative_slope": 0.2}, {"type": "ELU", "alpha": 0.7},
            {"type": "GELU"}, {"type": "GELU", "approximate": "tanh"}, {"type": "Softmax", "dim": 1},
            {"type": "Softmax", "dim": -1}, {"type": "Dropout", "p": 0.3}, {"type": "Identity"},
        ]))
    else:
        layer = {"type": "Flatten"} if draw(st.booleans()) else {"type": "Linear", "out_features": 5}
    return {"inputs": {"x": [2, channels, *sizes]}, "layers": [{"name": "layer", **layer}]}


@pytest.mark.slow
@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(spec_data=layer_case(), dtype=st.sampled_from(["float32", "float64"]))
def test_random_layers_match_pytorch(registry, spec_data, dtype):
    from hypothesis import assume
    from convlint.findings import Severity
    analysis = convlint.analyze(load_text(yaml.safe_dump(spec_data), "random.yaml"), registry)
    assume(not any(f.severity is Severity.ERROR for f in analysis.findings))
    compare(spec_data, registry, dtype)
