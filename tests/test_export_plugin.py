"""Third-party layer types in ``convlint export``: the example plugin's types give their PyTorch code and
ONNX lowering through ``LayerType``; a type that gives none is a clear error naming it."""
from __future__ import annotations

import pytest

import convlint
from convlint.export.onnx_model import onnx_model
from convlint.export.prepare import prepare
from convlint.export.torch_source import torch_source
from convlint.layers.layer_type import NotExportable
from convlint.layers.registry import load_registry
from tests.export_onnx_oracle import compare_onnx
from tests.export_oracle import compare
from tests.local_plugins import write_plugin
from tests.test_example_plugin import EXAMPLE, MODULE, SPEC


@pytest.fixture(scope="module")
def example_registry():
    loaded = load_registry(only_distribution="convlint", local=[(MODULE, EXAMPLE)])
    assert loaded.problems == []
    return loaded


def test_example_plugin_exports_to_torch(example_registry, tmp_path):
    spec = convlint.load(SPEC)
    source = torch_source(prepare(spec, example_registry), SPEC.stem)
    assert "torchvision.ops.SqueezeExcitation(input_channels=32, squeeze_channels=8)" in source
    assert "nn.PixelShuffle(upscale_factor=2)" in source
    compare(spec, example_registry, tmp_path, SPEC.stem)


@pytest.mark.parametrize("dynamic", [False, True])
def test_example_plugin_exports_to_onnx(example_registry, dynamic):
    compare_onnx(convlint.load(SPEC), example_registry, dynamic=dynamic)


def test_a_type_without_export_methods_is_named(tmp_path):
    write_plugin(tmp_path / "twice.py", "Twice", doc="Doubles its input: runs and lints, but says nothing of export.")
    registry = load_registry(only_distribution="convlint", local=[("twice.py", tmp_path)])
    assert registry.problems == []
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text("inputs: {x: [1, 2, 4]}\nlayers:\n  - {name: double, type: Twice}\n")
    prepared = prepare(convlint.load(spec_path), registry)
    with pytest.raises(NotExportable, match="layer type Twice has no PyTorch code generation"):
        torch_source(prepared, "spec")
    with pytest.raises(NotExportable, match=r"layer `double` \(Twice\): layer type Twice has no ONNX lowering"):
        onnx_model(prepared)
