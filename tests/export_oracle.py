"""Helpers of the export tests: import generated PyTorch source, run the NumPy executor beside it."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch

import convlint
from convlint.execute.executor import execute
from convlint.export.prepare import prepare
from convlint.export.torch_source import torch_source
from tests.torchvision_oracle import torchvision_models


def generated_module(spec, registry, tmp_path: Path, stem: str):
    """Export ``spec`` to ``tmp_path/<stem>.py`` and import it; returns the module."""
    source = torch_source(prepare(spec, registry), stem)
    path = tmp_path / f"{stem}.py"
    path.write_text(source)
    if "torchvision.ops" in source:
        torchvision_models()  # the stub that lets torchvision import beside CPU torch (see torchvision_oracle)
    loader = importlib.util.spec_from_file_location(f"generated_{stem}_{abs(hash(str(tmp_path)))}", path)
    module = importlib.util.module_from_spec(loader)
    sys.modules[loader.name] = module
    loader.loader.exec_module(module)
    return module


def executor_weights(analysis, registry, seed: int = 0) -> dict[str, np.ndarray]:
    """The state dict the executor uses when no weights are given (PyTorch's initialisation from ``seed``),
    with every normalisation's statistics and affine parameters randomised, so no layer is an identity."""
    from convlint.execute.executor import checked_parameters
    state, _ = checked_parameters(analysis, registry, {}, seed, np.float64, 1 << 26)
    rng = np.random.default_rng(seed + 7)
    weights = {}
    for layer, entries in state.items():
        for entry, array in entries.items():
            key = f"{layer}.{entry}" if entry else layer
            array = np.array(array, dtype=np.float64)
            if entry == "running_var":
                array = 0.5 + rng.random(array.shape)
            elif entry == "running_mean" or (entry in ("weight", "bias") and array.ndim == 1
                                             and (np.all(array == 1) or np.all(array == 0))):
                array = rng.random(array.shape) + (0.5 if entry == "weight" else -0.5)
            weights[key] = array
    return weights


def load_strictly(model: torch.nn.Module, weights: dict[str, np.ndarray]) -> None:
    """``load_state_dict(strict=True)`` of ``weights`` plus the BatchNorm step counters, which are the only
    keys a spec's state dict leaves out (they take no part in inference)."""
    own = model.state_dict()
    extra = set(own) - set(weights)
    assert all(key.endswith(".num_batches_tracked") for key in extra), sorted(extra)[:5]
    state = {key: torch.from_numpy(np.asarray(value)).to(own[key].dtype) for key, value in weights.items()}
    state.update({key: own[key] for key in extra})
    model.load_state_dict(state, strict=True)


def compare(spec, registry, tmp_path: Path, stem: str, seed: int = 0, tolerance: float = 1e-4) -> None:
    """Export ``spec`` (numeric sizes), load the executor's weights into the generated module strictly,
    and check its forward equals the executor's outputs (float64 on both sides) within ``tolerance``."""
    module = generated_module(spec, registry, tmp_path, stem)
    network = getattr(module, convlint_class_name(stem))().double().eval()
    analysis = convlint.analyze(spec, registry)
    weights = executor_weights(analysis, registry, seed)
    load_strictly(network, weights)
    rng = np.random.default_rng(seed)
    inputs = {name: rng.standard_normal(decl.shape) for name, decl in spec.inputs.items()}
    expected = execute(analysis, registry, inputs, weights, dtype="float64").outputs
    with torch.no_grad():
        got = network(*(torch.from_numpy(array) for array in inputs.values()))
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(spec.outputs)
    for name, tensor in zip(spec.outputs, got):
        want = expected[name]
        assert tuple(tensor.shape) == want.shape, name
        scale = max(1.0, float(np.abs(want).max()))
        assert np.abs(tensor.numpy() - want).max() <= tolerance * scale, name


def convlint_class_name(stem: str) -> str:
    from convlint.export.names import class_name
    return class_name(stem)
