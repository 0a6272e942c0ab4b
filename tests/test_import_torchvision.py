"""torchvision models imported from ONNX (exported with dynamic H and W) and traced with --torch:
exact parameter counts, the valid input sizes of the bundled specs, and PyTorch's per-layer shapes."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from convlint.api import analyze, load_text  # noqa: E402
from convlint.execute.executor import execute  # noqa: E402
from convlint.importing.onnx_file import load_onnx  # noqa: E402
from convlint.importing.spec_writer import spec_text  # noqa: E402
from convlint.importing.torch_trace import exported, import_torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from onnx_export import export, valid_sizes, with_named_sizes  # noqa: E402
from torchvision_oracle import module_outputs, oracle_model, state_dict_arrays, torchvision_models  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
BUNDLED = {"resnet18": "resnet18", "mobilenet_v2": "mobilenetv2", "densenet121": "densenet121",
           "efficientnet_b0": "efficientnet_b0"}
INPUT_SHAPE = (1, 3, 224, 224)
SLOW = pytest.mark.slow
MODELS = ["resnet18", pytest.param("mobilenet_v2", marks=SLOW), pytest.param("densenet121", marks=SLOW),
          pytest.param("efficientnet_b0", marks=SLOW)]


def parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", MODELS)
def test_onnx_export_with_dynamic_sizes(tmp_path, registry, capsys, name):
    model = getattr(torchvision_models(), name)(weights=None).eval()
    path = export(model, torch.randn(INPUT_SHAPE), tmp_path / f"{name}.onnx", dynamic=True)
    imported, text = load_onnx(path, registry)
    assert imported.problems == []
    assert imported.inputs == {"image": [1, 3, "H", "W"]}
    assert analyze(load_text(text, str(path)), registry).total_params == parameters(model)
    assert valid_sizes(path, capsys) == valid_sizes(with_named_sizes(SPECS / f"{BUNDLED[name]}.yaml", tmp_path),
                                                    capsys)


def traced(model, registry, name: str):
    """The model imported as ``convlint import --torch torchvision.models:NAME`` does, through ``torch.fx``
    (with blocks)."""
    return import_torch(f"torchvision.models:{name}", registry, INPUT_SHAPE)


def exported_graph(model, registry, name: str):
    """The model imported from the graph ``torch.export`` gives (used where ``torch.fx`` fails)."""
    return exported(model, registry, INPUT_SHAPE, name)


@pytest.mark.parametrize("importer", [traced, exported_graph])
@pytest.mark.parametrize("name", MODELS)
def test_torch_import_matches_pytorch(registry, name, importer):
    """Either way of importing a PyTorch model gives no problems, no errors, PyTorch's parameter count
    and PyTorch's per-layer shapes."""
    model = getattr(torchvision_models(), name)(weights=None).eval()
    imported = importer(model, registry, name)
    assert imported.problems == []
    analysis = analyze(load_text(spec_text(imported, name), f"{name}.yaml"), registry)
    assert [f for f in analysis.findings if f.severity.value == "error"] == []
    assert analysis.total_params == parameters(model)
    _, shapes = module_outputs(model, torch.randn(INPUT_SHAPE))
    compared = [layer for layer in analysis.nodes if layer in shapes]
    assert len(compared) > 20
    for layer in compared:
        assert analysis.nodes[layer].shape == shapes[layer], layer


def test_repeated_blocks_become_uses_with_repeat(registry):
    torchvision_models()
    imported = import_torch("torchvision.models:resnet18", registry, INPUT_SHAPE)
    text = spec_text(imported, "resnet18")
    uses = {layer.name: (layer.type, layer.keywords) for layer in imported.layers if layer.block}
    assert uses == {"layer1.0": ("BasicBlock", {"repeat": 2}), "layer2.0": ("BasicBlock2", {}),
                    "layer2.1": ("BasicBlock", {"out_channels": 128}),
                    "layer3.0": ("BasicBlock2", {"out_channels": 256}),
                    "layer3.1": ("BasicBlock", {"out_channels": 256}),
                    "layer4.0": ("BasicBlock2", {"out_channels": 512}),
                    "layer4.1": ("BasicBlock", {"out_channels": 512})}
    assert imported.blocks["BasicBlock"]["params"] == {"out_channels": 64}
    assert "  - {name: layer1.0, type: BasicBlock, repeat: 2}\n" in text
    assert "      - {name: conv1, type: Conv2d, out_channels: $out_channels, kernel_size: 3, bias: false, padding: 1}\n" \
        in text


VIDEO = ["r3d_18", pytest.param("mc3_18", marks=SLOW), pytest.param("r2plus1d_18", marks=SLOW)]
CLIP = (1, 3, 8, 48, 48)


@pytest.mark.parametrize("name", VIDEO)
def test_video_networks_import_and_run_as_pytorch(registry, name):
    """torchvision's 3-D CNNs, whose convolutions are subclasses of ``nn.Conv3d``, import with no stand-in
    layer and PyTorch's parameter count, and the executor computes PyTorch's output from their weights."""
    model = oracle_model(f"video.{name}")
    imported = import_torch(f"torchvision.models.video:{name}", registry, CLIP)
    assert imported.problems == []
    analysis = analyze(load_text(spec_text(imported, name), f"{name}.yaml"), registry)
    assert [f for f in analysis.findings if f.severity.value == "error"] == []
    assert analysis.total_params == parameters(model)
    clip = torch.randn(CLIP, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    expected, _ = module_outputs(model, clip)
    (input_name,) = imported.inputs
    result = execute(analysis, registry, {input_name: clip.numpy()}, state_dict_arrays(model), dtype="float64")
    assert result.initialised == []
    (output,) = result.outputs.values()
    np.testing.assert_allclose(output, expected.numpy(), rtol=1e-4, atol=1e-4 * float(expected.abs().max()))
