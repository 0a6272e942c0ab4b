"""`convlint import` on the command line: the example ONNX file is what a fresh export gives, weights
go to a state_dict-keyed .npz that `convlint run` reads, and bad sources are clear errors."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from convlint.cli.main import main  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import import_models  # noqa: E402


def test_example_onnx_file_is_a_fresh_export(tmp_path, capsys):
    fresh = import_models.write_tiny_onnx(tmp_path / "tiny_net.onnx")
    assert main(["import", str(fresh)]) == 0
    from_fresh = capsys.readouterr().out.replace("tiny_net.onnx", "")
    assert main(["import", str(import_models.TINY_ONNX)]) == 0
    assert capsys.readouterr().out.replace("tiny_net.onnx", "") == from_fresh


def test_weights_out_runs_as_pytorch(tmp_path, capsys):
    spec, weights, out = tmp_path / "tiny.yaml", tmp_path / "tiny.npz", tmp_path / "out.npz"
    assert main(["import", str(import_models.TINY_ONNX), "-o", str(spec), "--weights-out", str(weights)]) == 0
    image = torch.randn(1, 3, 65, 65, generator=torch.Generator().manual_seed(0))
    np.save(tmp_path / "image.npy", image.numpy())
    assert main(["run", str(spec), "--weights", str(weights), "--input", f"image={tmp_path / 'image.npy'}",
                 "-o", str(out)]) == 0
    with torch.no_grad():
        expected = import_models.tiny_net()(image).numpy()
    np.testing.assert_allclose(np.load(out)["head"], expected, rtol=1e-4, atol=1e-5)
    assert set(np.load(weights)) == set(import_models.tiny_net().state_dict()) - {
        key for key in import_models.tiny_net().state_dict() if key.endswith("num_batches_tracked")}


@pytest.mark.parametrize("argv, message", [
    (["import", "missing.onnx"], "missing.onnx: no such file"),
    (["import", "--torch", "no_such_module:make"], "no_such_module:make: cannot build the model: ModuleNotFoundError"),
    (["import", "--torch", "import_models"], "expected package.module:factory"),
    (["import", "--torch", "pathlib:Path"], "the factory returned a PosixPath, not a torch.nn.Module"),
    (["import", "--torch", "import_models:tiny_net", "--input-shape", "1,3,x"], "--input-shape: expected positive"),
])
def test_bad_sources_are_usage_errors(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_untraceable_module_says_to_export(capsys, tmp_path, monkeypatch):
    (tmp_path / "branchy.py").write_text(
        "import torch\n"
        "class Branchy(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        return x if x.sum() > 0 else -x\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["import", "--torch", "branchy:Branchy"]) == 2
    assert "neither torch.fx (" in capsys.readouterr().err


def test_size_dependent_module_is_imported_through_torch_export(capsys, tmp_path, monkeypatch):
    """``torch.fx`` cannot branch on a size; ``torch.export`` takes the branch of the given input shape."""
    (tmp_path / "sized.py").write_text(
        "import torch\n"
        "class Sized(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)\n"
        "        self.pool = torch.nn.MaxPool2d(2)\n"
        "        self.head = torch.nn.Linear(8, 4)\n"
        "    def forward(self, x):\n"
        "        x = torch.relu(self.conv(x))\n"
        "        if x.shape[-1] > 16:\n"
        "            x = self.pool(x)\n"
        "        return self.head(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = tmp_path / "sized.yaml"
    assert main(["import", "--torch", "sized:Sized", "--input-shape", "1,3,32,32", "-o", str(spec)]) == 0
    capsys.readouterr()
    assert main(["summary", str(spec), "--format", "json"]) == 0
    import json
    summary = json.loads(capsys.readouterr().out)[0]
    import sized
    module = sized.Sized().eval()
    assert summary["total_params"] == sum(p.numel() for p in module.parameters())
    shapes = {row["name"]: row["output_shape"] for row in summary["layers"]}
    assert shapes["pool"] == [1, 8, 16, 16] and shapes["head"] == [1, 4]
    assert [row["type"] for row in summary["layers"]] == ["Conv2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d",
                                                          "Flatten", "Linear"]


SUBCLASSED = (
    "import torch\n"
    "class Conv3DSimple(torch.nn.Conv3d):\n"
    "    def __init__(self, c_in, c_out):\n"
    "        super().__init__(c_in, c_out, kernel_size=(3, 3, 3), padding=1, bias=False)\n"
    "class Doubled(torch.nn.Conv3d):\n"
    "    def forward(self, x):\n"
    "        return 2 * super().forward(x)\n"
    "class Net(torch.nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.simple = Conv3DSimple(2, 4)\n"
    "        self.doubled = Doubled(4, 4, 1)\n"
    "    def forward(self, x):\n"
    "        return self.doubled(self.simple(x))\n")


@pytest.mark.parametrize("through", ["fx", "export"])
def test_subclass_of_a_torch_layer_imports_as_that_layer(capsys, tmp_path, monkeypatch, through):
    """A module that extends a ``torch.nn`` layer and keeps its ``forward`` (torchvision's ``Conv3DSimple``)
    imports as that layer, with its arguments; one that changes ``forward`` is a stand-in layer."""
    from convlint.api import default_registry
    from convlint.importing import torch_trace

    (tmp_path / "subclassed.py").write_text(SUBCLASSED, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import subclassed
    if through == "fx":
        imported = torch_trace.import_torch("subclassed:Net", default_registry(), (1, 2, 4, 5, 6))
    else:
        imported = torch_trace.exported(subclassed.Net().eval(), default_registry(), (1, 2, 4, 5, 6), "net")
    simple = next(layer for layer in imported.layers if layer.name == "simple")
    assert simple.type == "Conv3d"
    assert simple.keywords["out_channels"] == 4 and simple.keywords["kernel_size"] in (3, [3, 3, 3], (3, 3, 3))
    doubled = [layer for layer in imported.layers if layer.name.startswith("doubled")]
    assert doubled and "Conv3d" not in [layer.type for layer in doubled]
    assert len(imported.problems) == len([layer for layer in doubled if layer.type == "Opaque"]) > 0
