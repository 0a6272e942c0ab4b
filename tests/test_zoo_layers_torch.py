"""The layer types of the torchvision zoo against PyTorch: for random keyword values and input shapes,
the output shape(s), the state-dict entries and their shapes, the parameter count and the executor's
output equal those of the torch.nn (or torchvision) module; misuse PyTorch refuses is a finding."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import convlint
from convlint.api import load_text
from convlint.execute.executor import execute
from convlint.layers.layer_type import state_key
from tests.torchvision_oracle import torchvision_models


def torchvision_module(path: str):
    """A module class of torchvision (``ops.misc.Permute``), imported as :mod:`tests.torchvision_oracle` explains."""
    torchvision_models()
    import torchvision
    owner, _, name = path.rpartition(".")
    module = torchvision
    for part in owner.split("."):
        module = getattr(module, part)
    return getattr(module, name)


def randomise(module: nn.Module, generator) -> nn.Module:
    """Random values for every floating parameter and buffer (variances positive), float64, eval mode."""
    with torch.no_grad():
        for key, value in module.state_dict().items():
            if value.is_floating_point():
                fresh = torch.rand(value.shape, generator=generator, dtype=value.dtype)
                value.copy_(fresh + 0.5 if key.endswith("running_var") else fresh * 2 - 1)
    return module.double().eval()


def check(layer: dict, shapes: dict[str, tuple], module, registry, seed: int = 0) -> None:
    """Lint and run the one-layer spec; compare with ``module`` (called on the inputs in order)."""
    generator = torch.Generator().manual_seed(seed)
    if isinstance(module, nn.Module):
        module = randomise(module, generator)
    inputs = {name: torch.randn(shape, generator=generator, dtype=torch.float64) for name, shape in shapes.items()}
    spec_data = {"inputs": {name: list(shape) for name, shape in shapes.items()},
                 "layers": [{"name": "layer", "from": list(shapes), **layer}]}
    analysis = convlint.analyze(load_text(yaml.safe_dump(spec_data), "one.yaml"), registry)
    assert [f.message for f in analysis.findings] == []
    with torch.no_grad():
        expected = module(*inputs.values())
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    node = analysis.nodes["layer"]
    assert (node.outputs or [node.shape]) == [tuple(value.shape) for value in expected]
    state = module.state_dict() if isinstance(module, nn.Module) else {}
    layer_type = registry.types[layer["type"]]
    assert {state_key("layer", key): tuple(shape) for key, shape in
            layer_type.parameter_shapes(node.context).items()} == {
        f"layer.{key}": tuple(value.shape) for key, value in state.items() if not key.endswith("num_batches_tracked")}
    if isinstance(module, nn.Module):
        assert node.params == sum(p.numel() for p in module.parameters())
    weights = {f"layer.{key}": value.numpy() for key, value in state.items()}
    result = execute(analysis, registry, {name: value.numpy() for name, value in inputs.items()}, weights,
                     dtype="float64")
    actual = list(result.outputs.values())
    assert len(actual) == len(expected)
    for mine, theirs in zip(actual, expected):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-9, atol=1e-9)


SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
sizes = st.integers(1, 6)


@SETTINGS
@given(st.sampled_from(["Hardsigmoid", "Mish", "Softplus", "PReLU", "StochasticDepth"]), st.data())
def test_activations(registry, name, data):
    shape = (2, data.draw(sizes), data.draw(sizes), data.draw(sizes))
    if name == "Softplus":
        beta, threshold = data.draw(st.floats(0.5, 3)), data.draw(st.floats(0.5, 20))
        layer, module = {"beta": beta, "threshold": threshold}, nn.Softplus(beta, threshold)
    elif name == "PReLU":
        count = data.draw(st.sampled_from([1, shape[1]]))
        layer, module = {"num_parameters": count}, nn.PReLU(count)
    elif name == "StochasticDepth":
        p = data.draw(st.floats(0, 1))
        layer, module = {"p": p, "mode": "row"}, torchvision_module("ops.StochasticDepth")(p, "row")
    else:
        layer, module = {}, getattr(nn, name)()
    check({"type": name, **layer}, {"x": shape}, module, registry)


@SETTINGS
@given(st.data())
def test_norms(registry, data):
    channels = data.draw(st.sampled_from([2, 4, 6, 8]))
    rank = data.draw(st.integers(3, 5))
    shape = (2, channels, *(data.draw(st.integers(2, 5)) for _ in range(rank - 2)))
    kind = data.draw(st.sampled_from(["LayerNorm", "LayerNorm2d", "GroupNorm", "InstanceNorm"]))
    eps = data.draw(st.sampled_from([1e-5, 1e-6, 0.01]))
    if kind == "LayerNorm":
        trailing = list(shape[-data.draw(st.integers(1, 3)):])
        affine, bias = data.draw(st.booleans()), data.draw(st.booleans())
        layer = {"type": "LayerNorm", "normalized_shape": trailing, "eps": eps, "elementwise_affine": affine,
                 "bias": bias}
        module = nn.LayerNorm(trailing, eps, affine, bias)
    elif kind == "LayerNorm2d":
        shape = shape[:2] + (3, 4)
        layer = {"type": "LayerNorm2d", "normalized_shape": channels, "eps": eps}
        module = torchvision_module("models.convnext.LayerNorm2d")(channels, eps=eps)
    elif kind == "GroupNorm":
        groups = data.draw(st.sampled_from([g for g in (1, 2, 3, 4) if channels % g == 0]))
        affine = data.draw(st.booleans())
        layer = {"type": "GroupNorm", "num_groups": groups, "eps": eps, "affine": affine}
        module = nn.GroupNorm(groups, channels, eps, affine)
    else:
        affine, track = data.draw(st.booleans()), data.draw(st.booleans())
        layer = {"type": f"InstanceNorm{rank - 2}d", "eps": eps, "affine": affine, "track_running_stats": track}
        module = getattr(nn, f"InstanceNorm{rank - 2}d")(channels, eps, affine=affine, track_running_stats=track)
    check(layer, {"x": shape}, module, registry)


@SETTINGS
@given(st.sampled_from(["Zero", "Constant", "Reflection", "Replication", "Circular"]), st.integers(1, 3), st.data())
def test_padding_layers(registry, prefix, ndim, data):
    shape = (2, 3, *(data.draw(st.integers(3, 6)) for _ in range(ndim)))
    low = -1 if prefix in ("Zero", "Constant") else 0
    padding = data.draw(st.one_of(st.integers(0, 2), st.lists(st.integers(low, 2), min_size=2 * ndim,
                                                                max_size=2 * ndim)))
    name = f"{prefix}Pad{ndim}d"
    layer = {"type": name, "padding": padding}
    arguments = [tuple(padding) if isinstance(padding, list) else padding]
    if prefix == "Constant":
        layer["value"] = 0.5
        arguments.append(0.5)
    check(layer, {"x": shape}, getattr(nn, name)(*arguments), registry)


@SETTINGS
@given(st.data())
def test_rearranging_layers(registry, data):
    kind = data.draw(st.sampled_from(["PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Permute", "Reshape",
                                      "Unflatten", "Chomp1d"]))
    factor = data.draw(st.integers(1, 3))
    if kind == "PixelShuffle":
        check({"type": kind, "upscale_factor": factor}, {"x": (2, 2 * factor * factor, 3, 4)},
              nn.PixelShuffle(factor), registry)
    elif kind == "PixelUnshuffle":
        check({"type": kind, "downscale_factor": factor}, {"x": (2, 3, 2 * factor, 3 * factor)},
              nn.PixelUnshuffle(factor), registry)
    elif kind == "ChannelShuffle":
        check({"type": kind, "groups": factor}, {"x": (2, 4 * factor, 3, 3)}, nn.ChannelShuffle(factor), registry)
    elif kind == "Permute":
        dims = data.draw(st.permutations([0, 1, 2, 3]))
        check({"type": kind, "dims": list(dims)}, {"x": (2, 3, 4, 5)},
              torchvision_module("ops.misc.Permute")(list(dims)), registry)
    elif kind == "Reshape":
        target = data.draw(st.sampled_from([[2, -1], [-1, 5, 4], [2, 3, 20], [6, 2, 10]]))
        check({"type": kind, "shape": target}, {"x": (2, 3, 4, 5)}, lambda x: x.reshape(target), registry)
    elif kind == "Unflatten":
        check({"type": kind, "dim": 1, "unflattened_size": [3, -1]}, {"x": (2, 12)}, nn.Unflatten(1, (3, -1)),
              registry)
    else:
        check({"type": kind, "chomp_size": factor}, {"x": (2, 3, 7)}, lambda x: x[:, :, :-factor], registry)


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 4), st.integers(0, 3))
def test_split_and_chunk_give_torchs_pieces(registry, size, pieces, dim):
    shape = [2, 3, 4, 5]
    shape[dim] = size
    check({"type": "Chunk", "chunks": pieces, "dim": dim}, {"x": tuple(shape)},
          lambda x: x.chunk(pieces, dim), registry)
    check({"type": "Split", "split_size_or_sections": pieces, "dim": dim}, {"x": tuple(shape)},
          lambda x: x.split(pieces, dim), registry)
    sections = [1] * (size % 3) + [size - size % 3] if size - size % 3 else [1] * size
    check({"type": "Split", "split_size_or_sections": sections, "dim": dim}, {"x": tuple(shape)},
          lambda x: x.split(sections, dim), registry)


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=2, max_size=3))
def test_mul_broadcasts_as_torch(registry, ones):
    shapes = {f"x{index}": tuple(1 if one else size for one, size in zip(mask, (3, 4, 5)))
              for index, mask in enumerate(ones)}
    shapes = {name: (2, *shape) for name, shape in shapes.items()}
    check({"type": "Mul"}, shapes, lambda *xs: __import__("functools").reduce(torch.mul, xs), registry)


def test_layer_scale_is_torchvisions_parameter(registry):
    scale = nn.Module()
    scale.register_parameter("gamma", nn.Parameter(torch.rand(6, 1, 1, dtype=torch.float64)))
    spec = load_text("inputs: {x: [2, 6, 3, 3]}\nlayers:\n  - {name: features.1.0.layer_scale, type: LayerScale}\n",
                     "s.yaml")
    analysis = convlint.analyze(spec, registry)
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 3))
    weights = {"features.1.0.layer_scale": scale.gamma.detach().numpy()}
    out = execute(analysis, registry, {"x": x}, weights, dtype="float64").outputs["features.1.0.layer_scale"]
    np.testing.assert_allclose(out, (torch.from_numpy(x) * scale.gamma).detach().numpy())
    assert analysis.total_params == 6


MISUSE = [
    ("S030", {"type": "GroupNorm", "num_groups": 4}, (1, 6, 4, 4), lambda: nn.GroupNorm(4, 6)(torch.zeros(1, 6, 4, 4))),
    ("S030", {"type": "PixelShuffle", "upscale_factor": 2}, (1, 6, 4, 4),
     lambda: nn.PixelShuffle(2)(torch.zeros(1, 6, 4, 4))),
    ("S030", {"type": "PixelUnshuffle", "downscale_factor": 3}, (1, 2, 4, 6),
     lambda: nn.PixelUnshuffle(3)(torch.zeros(1, 2, 4, 6))),
    ("S030", {"type": "ChannelShuffle", "groups": 4}, (1, 6, 4, 4),
     lambda: nn.ChannelShuffle(4)(torch.zeros(1, 6, 4, 4))),
    ("S031", {"type": "Split", "split_size_or_sections": [2, 2]}, (1, 6, 4, 4),
     lambda: torch.zeros(1, 6, 4, 4).split([2, 2], 1)),
    ("S032", {"type": "Permute", "dims": [0, 1, 1, 2]}, (1, 6, 4, 4),
     lambda: torch.zeros(1, 6, 4, 4).permute(0, 1, 1, 2)),
    ("S034", {"type": "Reshape", "shape": [1, 5, -1]}, (1, 6, 4, 4), lambda: torch.zeros(1, 6, 4, 4).reshape(1, 5, -1)),
    ("S008", {"type": "LayerNorm", "normalized_shape": [6]}, (1, 6, 4, 4),
     lambda: nn.LayerNorm(6)(torch.zeros(1, 6, 4, 4))),
    ("S008", {"type": "PReLU", "num_parameters": 4}, (1, 6, 4, 4), lambda: nn.PReLU(4)(torch.zeros(1, 6, 4, 4))),
    ("S012", {"type": "ReflectionPad2d", "padding": 4}, (1, 6, 4, 4),
     lambda: nn.ReflectionPad2d(4)(torch.zeros(1, 6, 4, 4))),
]


@pytest.mark.parametrize("code, layer, shape, torch_call", MISUSE, ids=[f"{c}-{l['type']}" for c, l, _, _ in MISUSE])
def test_misuse_pytorch_refuses_is_a_finding(registry, code, layer, shape, torch_call):
    with pytest.raises((RuntimeError, ValueError, IndexError)):
        torch_call()
    spec = load_text(yaml.safe_dump({"inputs": {"x": list(shape)}, "layers": [{"name": "layer", **layer}]}), "m.yaml")
    assert [f.code for f in convlint.lint(spec)] == [code]


def test_mul_that_does_not_broadcast_names_both_producers(registry):
    spec = load_text("inputs: {x: [1, 4, 3, 3], gate: [1, 2, 1, 1]}\nlayers:\n"
                     "  - {name: scale, type: Mul, from: [x, gate]}\n", "m.yaml")
    (finding,) = convlint.lint(spec)
    assert finding.code == "S033" and "`x` gives 1×4×3×3" in finding.message and "`gate` gives 1×2×1×1" in finding.message
    with pytest.raises(RuntimeError):
        torch.zeros(1, 4, 3, 3) * torch.zeros(1, 2, 1, 1)
