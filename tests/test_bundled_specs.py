"""The bundled networks: each lints clean, and every layer's shape and parameter count from
`convlint summary --format json` equals what PyTorch computes for the same spec."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from convlint.linting.runner import lint_file

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).parent))
import torch_reference  # noqa: E402  (the independent PyTorch oracle)

SPECS = Path(__file__).resolve().parent.parent / "specs"
CORE_SPECS = ["lenet5", "alexnet", "vgg16", "resnet18", "unet", "dcgan"]
# torchvision's published totals (the rest are checked against the PyTorch build of the spec)
PUBLISHED = {"alexnet": 61_100_840, "vgg16": 138_357_544, "resnet18": 11_689_512}


def test_the_core_networks_are_bundled():
    assert {path.stem for path in SPECS.glob("*.yaml")} >= set(CORE_SPECS)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda path: path.stem)
def test_bundled_spec_lints_clean(registry, path):
    result = lint_file(path, registry)
    assert not result.skipped
    assert result.findings == []


@pytest.fixture(scope="module")
def summaries():
    """`convlint summary --format json` of the core specs, run as a user would."""
    paths = [str(SPECS / f"{name}.yaml") for name in CORE_SPECS]
    done = subprocess.run([sys.executable, "-m", "convlint", "summary", "--format", "json", *paths],
                          capture_output=True, text=True, check=True)
    return {Path(item["path"]).stem: item for item in json.loads(done.stdout)}


@pytest.mark.parametrize("name", CORE_SPECS)
def test_summary_json_matches_pytorch(summaries, name):
    summary = summaries[name]
    net = torch_reference.build(SPECS / f"{name}.yaml")
    torch_shapes = net.output_shapes()
    torch_params = net.layer_params()
    assert [layer["name"] for layer in summary["layers"]] == list(torch_shapes)
    for layer in summary["layers"]:
        assert tuple(layer["output_shape"]) == tuple(torch_shapes[layer["name"]]), layer["name"]
        assert layer["params"] == torch_params[layer["name"]], layer["name"]
    assert summary["total_params"] == net.total_params()
    assert summary["diagnostics"] == []
    if name in PUBLISHED:
        assert summary["total_params"] == PUBLISHED[name]
