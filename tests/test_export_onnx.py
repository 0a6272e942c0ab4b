"""``convlint export --to onnx``: the model checked by onnx, its inferred shapes against the linter's, and
ONNX Runtime's outputs against the NumPy executor's, over every bundled spec and random networks."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import convlint
from convlint.api import load_text
from convlint.cli.main import main
from convlint.export.onnx_model import onnx_model
from convlint.export.prepare import prepare
from convlint.importing.onnx_file import load_onnx
from convlint.layers.layer_type import NotExportable
from tests.conftest import SPECS
from tests.export_cases import NAMED, bundled_params, small_spec
from tests.export_onnx_oracle import assert_imports_back, compare_onnx, run_onnx
from tests.export_oracle import executor_weights
from tests.test_export_torch import check_random, random_network

NEEDS_FIXED_SIZES = {"alexnet", "vgg16"}
"""Specs with an adaptive pool to a size other than 1, whose windows depend on the input size."""


@pytest.mark.parametrize("name", bundled_params())
def test_bundled_spec_at_fixed_sizes(name, registry, tmp_path):
    spec = small_spec(name, registry)
    model = compare_onnx(spec, registry)
    assert_imports_back(model, spec, registry, tmp_path, SLICED_AT_FIXED_SIZES.get(name))


@pytest.mark.parametrize("name", bundled_params())
def test_bundled_spec_with_symbolic_sizes(name, registry, tmp_path):
    spec = small_spec(name, registry)
    if name in NEEDS_FIXED_SIZES:
        with pytest.raises(NotExportable, match=r"layer `avgpool` \(AdaptiveAvgPool2d\).*--static"):
            onnx_model(prepare(spec, registry), dynamic=True)
        return
    model = compare_onnx(spec, registry, dynamic=True)
    assert_imports_back(model, spec, registry, tmp_path, COMPUTED_AT_SYMBOLIC_SIZES.get(name))


SLICED_AT_FIXED_SIZES = {"alexnet": r"avgpool/.*", "vgg16": r"avgpool/.*"}
"""Node names that import as stand-ins, by spec, at the small fixed sizes: an AdaptiveAvgPool2d whose input
size is no multiple of its output exports as slices and means, which no layer type imports (docs/import.md)."""

COMPUTED_AT_SYMBOLIC_SIZES = {"unet_original": r"up\d\.crop/.*"}
"""Node names that import as stand-ins, by spec, at symbolic sizes: a CenterCrop's start computed in the
graph (``Sub``, ``Div``, ``Round``), which no layer type imports (docs/import.md)."""


def _unet_valid_sizes(bound: int) -> list[tuple[int, int]]:
    """(H, W) pairs the size solver lists for specs/unet.yaml up to ``bound``, each with the other size held."""
    from convlint.layers.registry import default_registry
    from convlint.sizes.report import sizes_report
    report = sizes_report(convlint.load(SPECS / "unet.yaml"), default_registry(), {}, bound)
    pairs = []
    for solution in report.solutions:
        for value in solution.valid.values(bound):
            values = {**solution.held, solution.name: value}
            pairs.append((values["H"], values["W"]))
    return pairs


def _done_when_unet(tmp_path, pairs) -> None:
    """`convlint export specs/unet.yaml --to onnx` runs in ONNX Runtime at each (H, W) of ``pairs`` and
    matches `convlint run` there (both with the weights initialised from seed 0)."""
    import onnx
    model_path = tmp_path / "unet.onnx"
    assert main(["export", str(SPECS / "unet.yaml"), "--to", "onnx", "-o", str(model_path)]) == 0
    model = onnx.load(str(model_path))
    dims = [dim.dim_param or dim.dim_value for dim in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, "H", "W"]
    rng = np.random.default_rng(1)
    for height, width in pairs:
        image = rng.standard_normal((1, 3, height, width)).astype(np.float32)
        np.save(tmp_path / "image.npy", image)
        assert main(["run", str(SPECS / "unet.yaml"), "-i", f"image={tmp_path / 'image.npy'}",
                     "-o", str(tmp_path / "run.npz")]) == 0
        want = np.load(tmp_path / "run.npz")["head"]
        [got] = run_onnx(model, {"image": image})
        assert got.shape == want.shape == (1, 2, height, width)
        assert np.abs(got - want).max() <= 1e-4 * max(1.0, float(np.abs(want).max())), (height, width)


EVERY_LAYER = Path(__file__).parent / "data" / "every_layer.yaml"


@pytest.mark.parametrize("dynamic", [False, True], ids=["fixed_sizes", "symbolic_sizes"])
def test_every_exported_layer_imports_back_and_computes_the_same(dynamic, registry, tmp_path):
    """A network of every kind of layer the export writes: exported, imported back as the same layers,
    and the imported spec run with the imported weights gives ONNX Runtime's output."""
    spec = convlint.load(EVERY_LAYER).with_input_shapes({"image": (1, 3, 8, 12)})
    model = compare_onnx(spec, registry, dynamic=dynamic)
    assert_imports_back(model, spec, registry, tmp_path)
    imported, text = load_onnx(tmp_path / "exported.onnx", registry)
    image = np.random.default_rng(0).standard_normal((1, 3, 8, 12)).astype(np.float32)
    [want] = run_onnx(model, {"image": image})
    actual = convlint.run(load_text(text), {"image": image}, imported.weights, registry=registry)
    np.testing.assert_allclose(actual["probs"], want, rtol=1e-4, atol=1e-6)


def test_done_when_unet_runs_at_valid_sizes_and_matches_run(tmp_path):
    pairs = _unet_valid_sizes(24)
    assert (8, 128) in pairs and (128, 16) in pairs and all(h % 8 == 0 and w % 8 == 0 for h, w in pairs)
    _done_when_unet(tmp_path, pairs)


@pytest.mark.slow
def test_done_when_unet_runs_at_every_valid_size_up_to_128(tmp_path):
    _done_when_unet(tmp_path, _unet_valid_sizes(128))


def test_weights_from_a_file_are_the_models(tmp_path, registry):
    spec = convlint.load(SPECS / "unet.yaml").with_input_shapes({"image": (1, 3, 16, 16)})
    weights = {key: value.astype(np.float32) for key, value in
               executor_weights(convlint.analyze(spec, registry), registry, seed=5).items()}
    np.savez(tmp_path / "w.npz", **weights)
    assert main(["export", str(SPECS / "unet.yaml"), "--to", "onnx", "--weights", str(tmp_path / "w.npz"),
                 "-o", str(tmp_path / "unet.onnx")]) == 0
    import onnx
    from onnx import numpy_helper
    stored = {tensor.name: numpy_helper.to_array(tensor) for tensor in onnx.load(str(tmp_path / "unet.onnx")).graph.initializer}
    for key, value in weights.items():
        assert np.array_equal(stored[key], value), key


def test_a_layer_without_lowering_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text("inputs: {image: [1, 3, 8, 8]}\n"
                    "layers:\n  - {name: pool, type: AvgPool2d, kernel_size: 2, divisor_override: 3}\n")
    assert main(["export", str(path), "--to", "onnx", "-o", str(tmp_path / "out.onnx")]) == 2
    error = capsys.readouterr().err
    assert "layer `pool` (AvgPool2d)" in error and "divisor_override has no ONNX lowering" in error
    assert not (tmp_path / "out.onnx").exists()


CIRCULAR = """
inputs: {image: [1, 2, 8, 8]}
layers:
  - {name: conv, type: Conv2d, out_channels: 3, kernel_size: 3, padding: 1, padding_mode: circular}
  - {name: pad, type: CircularPad2d, padding: 2}
"""


def test_circular_padding_needs_opset_19(tmp_path, registry, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(CIRCULAR)
    assert main(["export", str(path), "--to", "onnx", "-o", str(tmp_path / "out.onnx")]) == 2
    assert "opset 19" in capsys.readouterr().err
    from tests import export_onnx_oracle
    spec = convlint.load(path)
    original = export_onnx_oracle.onnx_model
    export_onnx_oracle.onnx_model = lambda *args, **kwargs: original(*args, **kwargs, opset=19)
    try:
        compare_onnx(spec, registry)
    finally:
        export_onnx_oracle.onnx_model = original


def test_lint_does_not_import_onnx():
    code = ("import sys\nfrom convlint.cli.main import main\nmain(['lint', sys.argv[1]])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime', 'torch')))")
    done = subprocess.run([sys.executable, "-c", code, str(SPECS)], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                                    HealthCheck.function_scoped_fixture])
@given(spec_data=random_network())
def test_random_networks_in_onnx_runtime(spec_data, registry, tmp_path_factory):
    check_random(spec_data, registry, tmp_path_factory, lambda spec, registry, *_: compare_onnx(spec, registry))


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(spec_data=random_network())
def test_more_random_networks_in_onnx_runtime(spec_data, registry, tmp_path_factory):
    check_random(spec_data, registry, tmp_path_factory, lambda spec, registry, *_: compare_onnx(spec, registry))


def test_named_sizes_are_symbolic_dimensions(tmp_path, registry):
    path = tmp_path / "named.yaml"
    path.write_text(NAMED)
    spec = convlint.load(path)
    prepared = prepare(spec, registry)
    model = onnx_model(prepared)
    dims = [dim.dim_param or dim.dim_value for dim in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 3, "H", "W"]
    assert "H: H is a multiple of 2" in model.doc_string
    weights = {key: value.astype(np.float32) for key, value in executor_weights(prepared.analysis, registry).items()}
    model = onnx_model(prepared, weights)
    for shape in ((2, 3, 4, 6), (1, 3, 10, 8)):
        at = spec.with_input_shapes({"image": shape})
        image = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        want = convlint.run(at, {"image": image}, weights)
        [got] = run_onnx(model, {"image": image})
        assert np.abs(got - want["sum"]).max() <= 1e-4 * max(1.0, float(np.abs(want["sum"]).max()))
