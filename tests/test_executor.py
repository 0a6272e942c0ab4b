"""The NumPy executor: the tutorial's worked examples, weights handling, refusals and the CLI."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import convlint
from convlint.execute.executor import ExecutionError, ExecutorBug, SpecHasErrors

ROOT = Path(__file__).resolve().parent.parent

SEED_INPUT = np.array([[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
                      dtype=np.float32)
SEED_KERNEL = np.array([[1, 2, 1], [0, 1, 0], [2, 1, 0]], dtype=np.float32)


def one_layer(write_spec, layer: str, shape="[1, 1, 5, 5]") -> Path:
    return write_spec(f"inputs: {{x: {shape}}}\nlayers:\n  - {{name: layer, {layer}}}\n")


@pytest.mark.parametrize("stride, padding, expected", [
    (1, 0, [[10, 12, 12], [18, 16, 16], [13, 9, 3]]),
    (2, 0, [[10, 12], [13, 3]]),
    (2, 1, [[1, 4, 8], [7, 16, 8], [14, 9, 4]]),
])
def test_seed_conv2d_examples(write_spec, registry, stride, padding, expected):
    path = one_layer(write_spec, f"type: Conv2d, out_channels: 1, kernel_size: 3, stride: {stride}, "
                                 f"padding: {padding}, bias: false")
    outputs = convlint.run(path, {"x": SEED_INPUT[None, None]}, {"layer.weight": SEED_KERNEL[None, None]},
                           registry=registry)
    np.testing.assert_array_equal(outputs["layer"][0, 0], np.array(expected, dtype=np.float32))


@pytest.mark.parametrize("ceil_mode, expected", [(True, [[2, 3], [5, 1]]), (False, [[2]])])
def test_seed_maxpool_examples(write_spec, registry, ceil_mode, expected):
    path = one_layer(write_spec, f"type: MaxPool2d, kernel_size: 3, ceil_mode: {str(ceil_mode).lower()}")
    outputs = convlint.run(path, {"x": SEED_INPUT[None, None]}, registry=registry)
    np.testing.assert_array_equal(outputs["layer"][0, 0], np.array(expected, dtype=np.float32))


def test_wrong_weight_shape_names_the_key_and_both_shapes(write_spec, registry):
    path = one_layer(write_spec, "type: Conv2d, out_channels: 2, kernel_size: 3")
    with pytest.raises(ExecutionError, match=r"weight `layer.weight` has shape 2×1×5×5, but the layer needs 2×1×3×3"):
        convlint.run(path, weights={"layer.weight": np.zeros((2, 1, 5, 5))}, registry=registry)


def test_a_weight_for_no_layer_is_an_error(write_spec, registry):
    path = one_layer(write_spec, "type: Conv2d, out_channels: 2, kernel_size: 3")
    with pytest.raises(ExecutionError, match="weight `conv.weight` belongs to no layer"):
        convlint.run(path, weights={"conv.weight": np.zeros((2, 1, 3, 3))}, registry=registry)
    with pytest.raises(ExecutionError, match="that layer has layer.weight, layer.bias"):
        convlint.run(path, weights={"layer.weights": np.zeros((2, 1, 3, 3))}, registry=registry)


def test_num_batches_tracked_is_ignored(write_spec, registry):
    path = one_layer(write_spec, "type: BatchNorm2d")
    convlint.run(path, weights={"layer.num_batches_tracked": np.array(3)}, registry=registry)


def test_missing_weights_are_initialised_from_the_seed_and_reported(write_spec, registry):
    from convlint.execute.executor import execute
    path = one_layer(write_spec, "type: Conv2d, out_channels: 4, kernel_size: 3")
    analysis = convlint.analyze(path, registry)
    first = execute(analysis, registry, seed=3)
    again = execute(analysis, registry, seed=3)
    other = execute(analysis, registry, seed=4)
    assert first.initialised == ["layer.weight", "layer.bias"]
    np.testing.assert_array_equal(first.outputs["layer"], again.outputs["layer"])
    assert not np.array_equal(first.outputs["layer"], other.outputs["layer"])


def test_initialised_weights_are_drawn_once_per_spec_and_seed(write_spec, registry, monkeypatch):
    """Running again without weights reuses the drawn parameters; given inputs do not change them."""
    from convlint.execute.executor import execute
    conv = registry.types["Conv2d"]
    drawn = []
    original = type(conv).initial_parameters
    monkeypatch.setattr(conv, "initial_parameters", lambda ctx, rng: drawn.append(ctx.layer.name) or
                        original(conv, ctx, rng))
    path = one_layer(write_spec, "type: Conv2d, out_channels: 4, kernel_size: 3, stride: 7", "[1, 2, 9, 9]")
    analysis = convlint.analyze(path, registry)
    x = np.ones((1, 2, 9, 9), np.float32)
    first = execute(analysis, registry, inputs={"x": x}, seed=11).outputs["layer"]
    again = execute(analysis, registry, inputs={"x": x}, seed=11).outputs["layer"]
    assert drawn == ["layer"]
    np.testing.assert_array_equal(first, again)
    execute(analysis, registry, seed=11)  # random inputs drawn first: the parameters stay the same
    assert drawn == ["layer"]
    execute(analysis, registry, inputs={"x": x}, seed=12)
    assert drawn == ["layer", "layer"]


def test_a_spec_with_lint_errors_is_refused_with_its_findings(registry):
    with pytest.raises(SpecHasErrors) as refused:
        convlint.run(ROOT / "tests/fixtures/broken/resnet_missing_downsample.yaml", registry=registry)
    assert [f.code for f in refused.value.findings] == ["S010"]


def test_input_arrays_of_another_size_resize_the_network(registry):
    outputs = convlint.run(ROOT / "specs/unet.yaml", {"image": np.zeros((2, 3, 64, 48), np.float32)},
                           registry=registry)
    assert outputs["head"].shape == (2, 2, 64, 48)
    with pytest.raises(SpecHasErrors):
        convlint.run(ROOT / "specs/unet.yaml", {"image": np.zeros((1, 3, 60, 60), np.float32)}, registry=registry)


def test_the_memory_limit_refuses_before_allocating(registry):
    with pytest.raises(ExecutionError, match=r"over the limit of 1.0 kB") as refused:
        convlint.run(ROOT / "specs/vgg16.yaml", memory_limit=1000, registry=registry)
    needed_mb = float(str(refused.value).split("needs about ")[1].split(" MB")[0])
    weights_mb = 138_357_544 * 4 / 1e6          # VGG-16's float32 parameters alone
    first_activation_mb = 64 * 224 * 224 * 4 / 1e6
    assert weights_mb + 2 * first_activation_mb < needed_mb < weights_mb + 256 + 20 * first_activation_mb


def test_a_layer_type_without_forward_is_named(write_spec):
    class Shapeless(convlint.LayerType):
        name = "Shapeless"

        def infer(self, ctx):
            return ctx.input

    class Plugin:
        @convlint.hookimpl
        def register_layer_types(self, register):
            register(Shapeless())

    from convlint.layers.registry import load_registry
    loaded = load_registry(only_distribution="convlint", extra=[("shapeless", Plugin())])
    path = one_layer(write_spec, "type: Shapeless")
    with pytest.raises(ExecutionError, match=r"layer `layer` \(line 3\): layer type Shapeless has no executor"):
        convlint.run(path, registry=loaded)


def test_a_forward_whose_shape_differs_from_the_prediction_is_a_bug(write_spec):
    class Liar(convlint.LayerType):
        name = "Liar"

        def infer(self, ctx):
            return ctx.input

        def forward(self, ctx, inputs, params):
            return inputs[0][:, :, :-1]

    class Plugin:
        @convlint.hookimpl
        def register_layer_types(self, register):
            register(Liar())

    from convlint.layers.registry import load_registry
    loaded = load_registry(only_distribution="convlint", extra=[("liar", Plugin())])
    with pytest.raises(ExecutorBug, match=r"layer `layer` \(Liar\) produced 1×1×4×5 but the linter predicted 1×1×5×5"):
        convlint.run(one_layer(write_spec, "type: Liar"), registry=loaded)


def test_float64(write_spec, registry):
    path = one_layer(write_spec, "type: Conv2d, out_channels: 2, kernel_size: 3")
    assert convlint.run(path, dtype="float64", registry=registry)["layer"].dtype == np.float64
    assert convlint.run(path, registry=registry)["layer"].dtype == np.float32


def test_run_command_writes_outputs_and_reports_initialised_weights(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((1, 3, 32, 32), np.float32))
    done = subprocess.run([sys.executable, "-m", "convlint", "run", "specs/unet.yaml", "--input",
                           f"image={tmp_path / 'x.npy'}", "-o", str(tmp_path / "out.npz"), "--all", "--seed", "1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "initialised as PyTorch does (seed 1)" in done.stderr
    with np.load(tmp_path / "out.npz") as archive:
        assert archive["head"].shape == (1, 2, 32, 32)
        assert archive["cat1"].shape == (1, 32, 32, 32)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_run_command_refuses_a_broken_spec_with_exit_1(tmp_path):
    done = subprocess.run([sys.executable, "-m", "convlint", "run", "tests/fixtures/broken/cycle.yaml", "-o",
                           str(tmp_path / "out.npz")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert "G002" in done.stdout and "Traceback" not in done.stderr
    assert not (tmp_path / "out.npz").exists()


def test_save_images_writes_one_png_grid_per_layer(tmp_path):
    pytest.importorskip("PIL")
    done = subprocess.run([sys.executable, "-m", "convlint", "run", "specs/lenet5.yaml", "-o", str(tmp_path / "o.npz"),
                           "--all", "--save-images", str(tmp_path / "maps")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    from PIL import Image
    c1 = Image.open(tmp_path / "maps" / "c1.png")
    assert c1.format == "PNG" and c1.size == (3 * 28 + 2 * 2, 2 * 28 + 2)   # 6 channels of 28×28 in 3 columns


@pytest.mark.parametrize("size, target, first", [(64, 56, 4), (9, 4, 2), (10, 5, 2), (136, 104, 16)])
def test_center_crop_keeps_the_centre_as_torchvision_does(write_spec, registry, size, target, first):
    # torchvision's center_crop starts at int(round((size - target) / 2)); e.g. (9 - 4)/2 = 2.5 → 2.
    path = write_spec(f"inputs: {{x: [1, 1, {size}, {size}]}}\nlayers:\n"
                      f"  - {{name: layer, type: CenterCrop, size: {target}}}\n")
    x = np.arange(size * size, dtype=np.float64).reshape(1, 1, size, size)
    out = convlint.run(path, {"x": x}, dtype="float64", registry=registry)["layer"]
    np.testing.assert_array_equal(out, x[:, :, first:first + target, first:first + target])


@pytest.mark.slow
def test_the_original_unet_runs(registry):
    outputs = convlint.run(ROOT / "specs/unet_original.yaml", registry=registry)
    assert next(iter(outputs.values())).shape[-2:] == (388, 388)


SPLIT_SPEC = """\
inputs: {x: [1, 6, 4, 4]}
layers:
  - {name: split, type: Split, split_size_or_sections: [2, 4]}
  - {name: wide, type: Conv2d, from: split.1, out_channels: 2, kernel_size: 1}
  - {name: cat, type: Concat, from: [split.0, wide]}
"""


def test_outputs_of_a_split_are_read_as_name_dot_index(registry):
    spec = convlint.api.load_text(SPLIT_SPEC, "split.yaml")
    analysis = convlint.analyze(spec, registry)
    assert analysis.findings == []
    assert analysis.nodes["split"].outputs == [(1, 2, 4, 4), (1, 4, 4, 4)]
    assert analysis.nodes["wide"].input_shapes == [(1, 4, 4, 4)]
    x = np.arange(96, dtype=np.float64).reshape(1, 6, 4, 4)
    weights = {"wide.weight": np.ones((2, 4, 1, 1)), "wide.bias": np.zeros(2)}
    result = convlint.run(spec, {"x": x}, weights, dtype="float64", keep_all=True, registry=registry)
    np.testing.assert_array_equal(result["cat"][:, :2], x[:, :2])
    np.testing.assert_array_equal(result["cat"][:, 2], x[:, 2:].sum(axis=1))
    np.testing.assert_array_equal(result["split.1"], x[:, 2:])


def test_reading_a_split_without_an_index_or_past_its_outputs_is_g001(registry):
    spec = convlint.api.load_text(SPLIT_SPEC.replace("from: split.1", "from: split").replace("split.0", "split.2"),
                                  "split.yaml")
    messages = [(f.code, f.layer, f.message) for f in convlint.lint(spec)]
    assert messages == [
        ("G001", "wide", "`split` gives 2 tensors; name one of them: `split.0`, `split.1`"),
        ("G001", "cat", "`split` gives 2 tensors; `split.2` is none of them"),
    ]


def test_diagram_edges_from_a_split_carry_each_outputs_shape(registry):
    from convlint.render.diagram import build_diagram
    analysis = convlint.analyze(convlint.api.load_text(SPLIT_SPEC, "split.yaml"), registry)
    diagram = build_diagram(analysis, analysis.findings, registry, fold=False)
    labels = {(edge.tail, edge.head): (edge.label, edge.order) for edge in diagram.edges}
    assert labels[("split", "wide")] == ("1×4×4×4", None)
    assert labels[("split", "cat")] == ("1×2×4×4", 1)
