"""The example plugin package (examples/convlint-example-plugin): its layer types take part in lint,
summary, run and render like built-in ones, checked against PyTorch."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

import convlint
from convlint.cli.main import main
from convlint.layers.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "convlint-example-plugin"
MODULE = "convlint_example_plugin/layers.py"
SPEC = EXAMPLE / "specs" / "se_depth_to_space.yaml"


@pytest.fixture(scope="module")
def registry():
    loaded = load_registry(only_distribution="convlint", local=[(MODULE, EXAMPLE)])
    assert loaded.problems == []
    return loaded


class SqueezeExcitation(torch.nn.Module):
    """torchvision's ops.SqueezeExcitation, written out (its wheel here cannot load its C++ ops)."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.fc1 = torch.nn.Conv2d(channels, squeeze, 1)
        self.fc2 = torch.nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        scale = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(scale))))


class Network(torch.nn.Module):
    """The example spec in PyTorch, with the spec's layer names as attribute names."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 32, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(32)
        self.se = SqueezeExcitation(32, 8)
        self.conv2 = torch.nn.Conv2d(32, 12, 3, padding=1)
        self.shuffle = torch.nn.PixelShuffle(2)

    def forward(self, image):
        features = self.se(torch.relu(self.bn1(self.conv1(image))))
        upsampled = torch.nn.functional.interpolate(image, scale_factor=2, mode="nearest")
        return self.shuffle(self.conv2(features)) + upsampled


def _torch_network() -> Network:
    torch.manual_seed(0)
    network = Network().eval()
    with torch.no_grad():  # non-trivial running statistics
        network.bn1.running_mean.uniform_(-0.5, 0.5)
        network.bn1.running_var.uniform_(0.5, 2.0)
    return network


def test_the_package_publishes_the_module_as_a_convlint_plugin():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    target = project["project"]["entry-points"]["convlint"]["example"]
    assert target.replace(".", "/") + ".py" == MODULE


def test_lint_is_clean(registry):
    assert convlint.lint(SPEC, registry) == []


def test_depth_to_space_reports_its_own_rule(registry, write_spec):
    spec = write_spec("inputs: {x: [1, 6, 8, 8]}\nlayers:\n  - {type: DepthToSpace, upscale_factor: 2}\n")
    (finding,) = convlint.lint(spec, registry)
    assert finding.code == "D001" and finding.line == 3 and "6 channels" in finding.message


def test_summary_shapes_and_parameters_equal_torch(registry):
    network = _torch_network()
    summary = convlint.summarize(SPEC, registry)
    rows = {row["name"]: row for row in summary["layers"]}
    image = torch.zeros(2, 3, 12, 12)
    features = network.se(torch.relu(network.bn1(network.conv1(image))))
    assert rows["se"]["output_shape"] == list(features.shape)
    assert rows["shuffle"]["output_shape"] == list(network.forward(image).shape)
    assert rows["se"]["params"] == sum(p.numel() for p in network.se.parameters())
    assert summary["total_params"] == sum(p.numel() for p in network.parameters())


def test_run_equals_torch(registry):
    network = _torch_network()
    image = np.random.default_rng(1).standard_normal((2, 3, 12, 12)).astype(np.float32)
    weights = {key: value.numpy() for key, value in network.state_dict().items()}
    outputs = convlint.run(SPEC, {"image": image}, weights, registry=registry)
    with torch.no_grad():
        expected = network(torch.from_numpy(image)).numpy()
    np.testing.assert_allclose(outputs["sum"], expected, rtol=1e-4, atol=1e-5)


def test_run_initialises_the_block_as_torch_does(registry):
    """Without weights, the block's 1×1 convolutions get PyTorch's Conv2d keys, shapes and bound; the run is finite."""
    from convlint.analysis.loading import analyze_numeric, load_spec
    from convlint.execute.executor import execute
    from convlint.layers.layer_type import LayerContext
    from convlint.spec.model import Layer

    result = execute(analyze_numeric(load_spec(SPEC), registry), registry, {}, {}, seed=0)
    assert {"se.fc1.weight", "se.fc1.bias", "se.fc2.weight", "se.fc2.bias"} <= set(result.initialised)
    assert np.isfinite(result.outputs["sum"]).all()
    block = SqueezeExcitation(32, 8)
    ctx = LayerContext(Layer("se", "SqueezeExcitation", ["x"], {}, 0, 1, 1), [(2, 32, 12, 12)],
                       {"input_channels": None, "squeeze_channels": 8}, 2, "t.yaml")
    params = registry.types["SqueezeExcitation"].initial_parameters(ctx, np.random.default_rng(0))
    assert {key: value.shape for key, value in params.items()} == {k: tuple(v.shape) for k, v in block.state_dict().items()}
    for conv in ("fc1", "fc2"):
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(getattr(block, conv).weight)
        bound = 1 / fan_in ** 0.5
        assert np.abs(params[f"{conv}.weight"]).max() <= bound and np.abs(params[f"{conv}.bias"]).max() <= bound
        assert np.abs(params[f"{conv}.weight"]).max() > bound / 2


def test_render_draws_labels_and_roles(registry, tmp_path, capsys):
    target = tmp_path / "example.dot"
    assert main(["render", "-p", str(EXAMPLE / MODULE), str(SPEC), "-o", str(target)]) == 0
    dot = target.read_text(encoding="utf-8")
    assert "DepthToSpace" in dot and "↑2" in dot
    assert "SqueezeExcitation" in dot and "squeeze 8" in dot


def test_summary_command_with_the_plugin_file(capsys):
    assert main(["summary", "--format", "json", "-p", str(EXAMPLE / MODULE), str(SPEC)]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert [row["output_shape"] for row in summary["layers"] if row["name"] == "shuffle"] == [[2, 3, 24, 24]]


def test_named_sizes_are_solved_exactly(registry):
    """With `image: [N, 3, H, W]` the plugin's layers take part in `convlint sizes`: its valid set equals
    linting every size one by one."""
    from convlint.linting.enabled import lint_at_declared_sizes
    from convlint.sizes.solver import reference_values, size_problem, solve

    spec = convlint.api.load_text(SPEC.read_text().replace("[2, 3, 12, 12]", "[N, 3, H, W]"), "named.yaml")
    problem = size_problem(spec, registry)
    held = reference_values(problem)
    solution = solve(problem, "H", held)
    brute = [x for x in range(1, 41) if not lint_at_declared_sizes(problem.instantiate({**held, "H": x}), registry)]
    assert solution.valid.values(40) == brute
    assert not any(finding.code == "S016" for finding in convlint.lint(spec, registry))
