"""``convlint export --to torch``: the generated PyTorch source, checked against the NumPy executor and
torchvision (the oracles), over every bundled spec and random networks."""
from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlint
from convlint.cli.main import main
from convlint.export.names import class_name
from convlint.export.prepare import SpecRefused, prepare
from convlint.export.torch_source import torch_source
from convlint.spec.model import parse_spec
from tests.conftest import SPECS
from tests.export_cases import BUNDLED, NAMED, bundled_params, small_spec
from tests.export_oracle import compare, generated_module
from tests.test_torchvision_zoo import OPTIONS, ZOO
from tests.torchvision_oracle import oracle_model


@pytest.mark.parametrize("name", bundled_params())
def test_bundled_spec_loads_the_executors_weights_and_computes_its_output(name, registry, tmp_path):
    compare(small_spec(name, registry), registry, tmp_path, name)


TORCHVISION_FAST = {"resnet18", "squeezenet1_1", "shufflenet_v2_x1_0"}
"""torchvision models the default run compares; building the others takes long enough to mark them slow."""


@pytest.mark.parametrize("name", [name if name in TORCHVISION_FAST else pytest.param(name, marks=pytest.mark.slow)
                                  for name in ZOO])
def test_torchvisions_state_dict_loads_strictly_and_gives_its_output(name, registry, tmp_path):
    model = oracle_model(ZOO[name], **OPTIONS.get(name, {}))
    module = generated_module(convlint.load(SPECS / f"{name}.yaml"), registry, tmp_path, name)
    network = getattr(module, class_name(name))().double().eval()
    network.load_state_dict(model.state_dict(), strict=True)
    image = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 64, 64)))
    with torch.no_grad():
        want, got = model(image), network(image)
    assert torch.allclose(got, want, atol=1e-4 * max(1.0, float(want.abs().max())), rtol=0)


@pytest.mark.parametrize("name", BUNDLED)
def test_generated_file_imports_only_torch(name, registry):
    spec = convlint.load(SPECS / f"{name}.yaml")
    tree = ast.parse(torch_source(prepare(spec, registry), name))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    torchvision_layers = {"StochasticDepth"} & {layer.type for layer in spec.layers}
    assert imported == {"torch", *(["torchvision.ops"] if torchvision_layers else [])}


@pytest.mark.parametrize("stem, expected", [("resnet50", "Resnet50"), ("mobilenet_v3_small", "MobilenetV3Small"),
                                            ("unet-original", "UnetOriginal"), ("3d_net", "Net3dNet")])
def test_class_name_is_the_file_stem_in_camel_case(stem, expected):
    assert class_name(stem) == expected


DROPPING = """
name: drops
inputs: {image: [1, 3, 10, 10]}
layers:
  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 3, stride: 2}
  - {name: pool, type: MaxPool2d, kernel_size: 2}
"""


def test_a_warning_becomes_a_comment_at_its_layer(registry, tmp_path):
    spec = convlint.load(_write(tmp_path, DROPPING))
    prepared = prepare(spec, registry)
    warnings = prepared.warnings["conv"]
    assert warnings and all(finding.severity.value == "warning" for finding in warnings)
    lines = torch_source(prepared, "drops").splitlines()
    statement = next(index for index, line in enumerate(lines) if "self.conv(" in line)
    comment = []
    for line in reversed(lines[:statement]):
        if not line.strip().startswith("#"):
            break
        comment.insert(0, line.strip()[2:])
    assert " ".join(comment) == f"convlint {warnings[-1].code}: {warnings[-1].message}"
    compare(spec, registry, tmp_path, "drops")


def test_a_spec_with_lint_errors_is_refused_with_its_findings(tmp_path, capsys):
    path = _write(tmp_path, DROPPING.replace("kernel_size: 2}", "kernel_size: 9}"))
    with pytest.raises(SpecRefused) as refused:
        prepare(convlint.load(path), convlint_registry())
    assert {finding.code for finding in refused.value.findings} == {"S002"}
    output = tmp_path / "out.py"
    assert main(["export", str(path), "--to", "torch", "-o", str(output)]) == 1
    assert "S002" in capsys.readouterr().out and not output.exists()


def test_named_sizes_give_a_docstring_of_the_valid_sizes_and_a_module_for_each(registry, tmp_path):
    spec = convlint.load(_write(tmp_path, NAMED))
    module = generated_module(spec, registry, tmp_path, "named")
    assert "H: H is a multiple of 2" in module.Named.__doc__
    for height, width in ((4, 6), (10, 8)):
        compare(spec.with_input_shapes({"image": (2, 3, height, width)}), registry, tmp_path, f"named{height}")


@pytest.mark.slow
def test_done_when_resnet50_takes_torchvisions_state_dict(tmp_path):
    done = subprocess.run([sys.executable, "-m", "convlint", "export", str(SPECS / "resnet50.yaml"), "--to", "torch",
                           "-o", "resnet50.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "class Resnet50" in done.stdout
    check = ("import sys, types\n"  # torchvision's C++ ops cannot load beside CPU torch here: see torchvision_oracle
             "sys.modules['torchvision._meta_registrations'] = types.ModuleType('stub')\n"
             "import resnet50, torchvision; m = resnet50.Resnet50()\n"
             "print(m.load_state_dict(torchvision.models.resnet50().state_dict()))")
    loaded = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "All keys matched successfully" in loaded.stdout, loaded.stderr


# --- random networks ---------------------------------------------------------------------------------

@st.composite
def random_network(draw):
    """A small random network: a 1-, 2- or 3-D input, a trunk of 1 to 4 layers, and optionally a second
    branch from the input merged with the trunk by Add, Concat or Mul."""
    ndim = draw(st.integers(1, 3))
    channels = draw(st.sampled_from([2, 4]))
    sizes = [draw(st.integers(5, {1: 14, 2: 9, 3: 6}[ndim])) for _ in range(ndim)]
    layers = []
    for index in range(draw(st.integers(1, 4))):
        layers.append({"name": f"l{index}", **draw(trunk_layer(ndim, channels))})
    if draw(st.booleans()):
        merge = draw(st.sampled_from(["Add", "Concat", "Mul"]))
        layers.append({"name": "branch", "type": f"Conv{ndim}d", "from": "x", "out_channels": channels,
                       "kernel_size": 1})
        layers.append({"name": "merge", "type": merge, "from": [layers[-2]["name"], "branch"]})
    return {"inputs": {"x": [2, channels, *sizes]}, "layers": layers}


def trunk_layer(ndim: int, channels: int):
    """One layer that keeps ``channels`` channels (so a branch can be merged), of a random family."""
    d = f"{ndim}d"
    return st.one_of(
        st.fixed_dictionaries({"type": st.just(f"Conv{d}"), "out_channels": st.just(channels),
                               "kernel_size": st.integers(1, 3), "padding": st.integers(0, 1),
                               "stride": st.integers(1, 2), "dilation": st.integers(1, 2),
                               "groups": st.sampled_from([1, 2]), "bias": st.booleans(),
                               "padding_mode": st.sampled_from(["zeros", "reflect", "replicate"])}),
        st.fixed_dictionaries({"type": st.just(f"ConvTranspose{d}"), "out_channels": st.just(channels),
                               "kernel_size": st.integers(1, 3), "stride": st.integers(1, 2),
                               "padding": st.integers(0, 1)}),
        st.fixed_dictionaries({"type": st.just(f"MaxPool{d}"), "kernel_size": st.integers(2, 3),
                               "stride": st.integers(1, 2), "padding": st.just(1), "ceil_mode": st.booleans()}),
        st.fixed_dictionaries({"type": st.just(f"AvgPool{d}"), "kernel_size": st.integers(2, 3),
                               "stride": st.integers(1, 2), "count_include_pad": st.booleans()}),
        st.fixed_dictionaries({"type": st.just(f"BatchNorm{d}")}),
        st.fixed_dictionaries({"type": st.just(f"InstanceNorm{d}"), "affine": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("GroupNorm"), "num_groups": st.sampled_from([1, 2])}),
        st.fixed_dictionaries({"type": st.just(f"AdaptiveAvgPool{d}"), "output_size": st.integers(1, 3)}),
        st.sampled_from([{"type": name} for name in ("ReLU", "ReLU6", "SiLU", "Hardswish", "Sigmoid", "Tanh", "GELU",
                                                     "Hardsigmoid", "Mish", "Softplus", "Identity", "Dropout")]),
        st.sampled_from([{"type": "LeakyReLU", "negative_slope": 0.2}, {"type": "ELU", "alpha": 0.5},
                         {"type": "PReLU", "num_parameters": channels}, {"type": "Softmax", "dim": 1}]),
        st.fixed_dictionaries({"type": st.just("Upsample"), "scale_factor": st.sampled_from([2, 1.5]),
                               "mode": st.sampled_from(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim]])}),
        st.fixed_dictionaries({"type": st.just(f"ZeroPad{d}"), "padding": st.integers(0, 2)}),
        st.fixed_dictionaries({"type": st.just(f"ReflectionPad{d}"), "padding": st.just(1)}),
    )


def valid(spec_data: dict, registry):
    """The parsed spec when it lints without errors, else ``None``."""
    spec = parse_spec(yaml.safe_dump(spec_data), "random.yaml")
    findings = convlint.analyze(spec, registry).findings
    return None if any(finding.severity.value == "error" for finding in findings) else spec


def check_random(spec_data, registry, tmp_path_factory, check) -> None:
    from hypothesis import assume
    from convlint.analysis.graph import build_graph
    spec = valid(spec_data, registry)
    assume(spec is not None)
    build_graph(spec)
    check(spec, registry, tmp_path_factory.mktemp("random"), "random")


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                                    HealthCheck.function_scoped_fixture])
@given(spec_data=random_network())
def test_random_networks_compute_the_executors_output(spec_data, registry, tmp_path_factory):
    check_random(spec_data, registry, tmp_path_factory, compare)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(spec_data=random_network())
def test_more_random_networks_compute_the_executors_output(spec_data, registry, tmp_path_factory):
    check_random(spec_data, registry, tmp_path_factory, compare)


def convlint_registry():
    from convlint.layers.registry import load_registry
    return load_registry(only_distribution="convlint")


def _write(tmp_path, text: str):
    path = tmp_path / "spec.yaml"
    path.write_text(text.lstrip("\n"))
    return path
