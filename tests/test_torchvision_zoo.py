"""The bundled torchvision specs against torchvision's own models (see tests/torchvision_oracle.py).

For each spec: torchvision's parameter total; the spec's state-dict keys and shapes equal the
model's ``state_dict()``; per layer named as a torchvision module, the output shape and the
parameter count; and the executor, given the model's weights, computes the model's output
(float64 on both sides, within 1e-4).  Inputs are small (64×64) to keep the run short.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import convlint
from convlint.execute.executor import execute
from convlint.layers.layer_type import state_key
from tests.conftest import ROOT, SPECS
from tests.torchvision_oracle import module_outputs, oracle_model, state_dict_arrays

SIZE = (1, 3, 64, 64)
"""The input every comparison runs on."""

ZOO = {
    "resnet18": "resnet18",
    "resnet50": "resnet50",
    "mobilenetv2": "mobilenet_v2",
    "mobilenet_v3_small": "mobilenet_v3_small",
    "mobilenet_v3_large": "mobilenet_v3_large",
    "efficientnet_b0": "efficientnet_b0",
    "shufflenet_v2_x1_0": "shufflenet_v2_x1_0",
    "convnext_tiny": "convnext_tiny",
    "densenet121": "densenet121",
    "googlenet": "googlenet",
    "squeezenet1_1": "squeezenet1_1",
    "regnet_y_400mf": "regnet_y_400mf",
}
"""Bundled spec → torchvision model builder."""

OPTIONS = {"googlenet": {"aux_logits": False, "init_weights": True}}
"""Builder options that give the model torchvision's pretrained weights load into (no auxiliary heads)."""

HEAVY = {"resnet50", "convnext_tiny", "densenet121"}
"""Specs whose executor comparison takes long enough to be marked slow."""

BUNDLED = [name for name in ZOO if (SPECS / f"{name}.yaml").exists()]


def analysed(name: str, registry):
    spec = convlint.load(SPECS / f"{name}.yaml").with_input_shapes({"image": SIZE})
    return convlint.analyze(spec, registry)


def spec_state_shapes(analysis, registry) -> dict[str, tuple]:
    """Every state-dict key the spec's layers define, with its shape."""
    shapes = {}
    for node in analysis.nodes.values():
        if node.context is None:
            continue
        for entry, shape in registry.types[node.type].parameter_shapes(node.context).items():
            shapes[state_key(node.name, entry)] = tuple(shape)
    return shapes


@pytest.fixture(scope="module", params=BUNDLED)
def case(request, registry):
    name = request.param
    model = oracle_model(ZOO[name], **OPTIONS.get(name, {}))
    return name, model, analysed(name, registry)


def test_every_zoo_spec_is_bundled():
    assert BUNDLED == list(ZOO)


def test_total_is_torchvisions_count(case):
    """(That each bundled spec lints clean is checked in tests/test_bundled_specs.py.)"""
    name, model, analysis = case
    assert analysis.total_params == sum(p.numel() for p in model.parameters())


def test_state_dict_keys_and_shapes_are_torchvisions(case, registry):
    name, model, analysis = case
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()
                if not key.endswith("num_batches_tracked")}
    assert spec_state_shapes(analysis, registry) == expected


def test_each_module_has_torchvisions_shape_and_parameters(case):
    name, model, analysis = case
    _, shapes = module_outputs(model, torch.zeros(SIZE, dtype=torch.float64))
    modules = dict(model.named_modules())
    compared = 0
    for node in analysis.nodes.values():
        if node.name in shapes and not list(modules[node.name].children()):
            assert node.shape == shapes[node.name], node.name
            assert node.params == sum(p.numel() for p in modules[node.name].parameters()), node.name
            compared += 1
    assert compared >= len([n for n in analysis.nodes.values() if n.params]) / 2


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name
                                  for name in BUNDLED])
def test_executor_with_torchvision_weights_computes_its_output(name, registry):
    model = oracle_model(ZOO[name], **OPTIONS.get(name, {}))
    image = torch.randn(SIZE, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected, _ = module_outputs(model, image)
    analysis = analysed(name, registry)
    result = execute(analysis, registry, {"image": image.numpy()}, state_dict_arrays(model), dtype="float64")
    assert result.initialised == []
    (output,) = result.outputs.values()
    np.testing.assert_allclose(output, expected.numpy(), rtol=1e-4, atol=1e-4 * float(expected.abs().max()))


@pytest.mark.parametrize("name", [name if name == "resnet18" else pytest.param(name, marks=pytest.mark.slow)
                                  for name in BUNDLED])
def test_cli_runs_a_saved_torchvision_state_dict(name, tmp_path):
    """As a user would: np.savez of the state_dict, `convlint run --weights`, float32 (the executor's
    float64 output is compared with every network's above; this checks the command around it)."""
    model = oracle_model(ZOO[name], **OPTIONS.get(name, {})).float()
    np.savez(tmp_path / "weights.npz", **state_dict_arrays(model))
    image = np.random.default_rng(5).standard_normal(SIZE).astype(np.float32)
    np.save(tmp_path / "image.npy", image)
    run = subprocess.run([sys.executable, "-m", "convlint", "run", str(SPECS / f"{name}.yaml"),
                          "--weights", str(tmp_path / "weights.npz"), "--input", f"image={tmp_path / 'image.npy'}",
                          "--output", str(tmp_path / "out.npz")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    with torch.no_grad():
        expected = model(torch.from_numpy(image)).numpy()
    with np.load(tmp_path / "out.npz") as out:
        (output,) = out.values()
        np.testing.assert_allclose(output, expected, rtol=1e-4, atol=1e-4 * float(np.abs(expected).max()))
