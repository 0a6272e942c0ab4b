"""ONNX import: bundled specs exported by torch.onnx.export come back with PyTorch's shapes, parameter
counts and outputs; single ONNX nodes map to the layer types that import them; an op without a type
is a stand-in with a finding; `convlint lint`/`sizes` read .onnx files."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from convlint.api import analyze  # noqa: E402
from convlint.api import load_text, run  # noqa: E402
from convlint.cli.main import main  # noqa: E402
from convlint.importing.onnx_file import load_onnx  # noqa: E402
from convlint.importing.onnx_graph import OnnxImportError  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import torch_reference  # noqa: E402
from onnx_export import export, valid_sizes, with_named_sizes  # noqa: E402
from test_executor_torch import randomise_buffers  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"


class Outputs(torch.nn.Module):
    """A reference network as a module of one input that returns its output tensors."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        outputs = self.net(**{next(iter(self.net.input_shapes)): image})
        return tuple(outputs[name] for name in self.net.output_names)


def imported(path: Path, registry):
    model, text = load_onnx(path, registry)
    spec = load_text(text, str(path))
    return model, spec, analyze(spec, registry)


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "unet", "dcgan",
                                  pytest.param("alexnet", marks=pytest.mark.slow),
                                  pytest.param("vgg16", marks=pytest.mark.slow)])
def test_bundled_spec_round_trip(tmp_path, registry, name):
    generator = torch.Generator().manual_seed(0)
    net = torch_reference.build(SPECS / f"{name}.yaml").eval()
    with torch.no_grad():
        randomise_buffers(net, generator)
    shape = next(iter(net.input_shapes.values()))
    image = torch.randn(shape, generator=generator)
    path = export(Outputs(net), image, tmp_path / f"{name}.onnx")
    model, spec, analysis = imported(path, registry)
    assert [f for f in analysis.findings if f.severity.value == "error"] == []
    assert model.problems == []
    assert analysis.total_params == net.total_params()
    expected_shapes = net.output_shapes()
    with_weights = {key.rsplit(".", 1)[0] for key in model.weights}
    assert with_weights
    for layer in with_weights:  # layers with weights are named by their module paths (under the wrapper's `net`)
        assert analysis.nodes[layer].shape == expected_shapes[layer.removeprefix("net.")], layer
    with torch.no_grad():
        expected = Outputs(net)(image)
    actual = run(spec, {spec_input(spec): image.numpy()}, model.weights, registry=registry)
    for output, reference in zip(spec.outputs, expected):
        assert actual[output].shape == tuple(reference.shape)
        np.testing.assert_allclose(actual[output], reference.numpy(), rtol=1e-4, atol=1e-4 * float(reference.abs().max()))


def test_unet_exported_with_dynamic_sizes_has_the_bundled_valid_sizes(tmp_path, registry, capsys):
    net = torch_reference.build(SPECS / "unet.yaml").eval()
    path = export(Outputs(net), torch.randn(next(iter(net.input_shapes.values()))), tmp_path / "unet.onnx",
                  dynamic=True)
    model, _, analysis = imported(path, registry)
    assert model.problems == [] and analysis.total_params == net.total_params()
    sizes = valid_sizes(path, capsys)
    assert sizes["H"] and sizes == valid_sizes(with_named_sizes(SPECS / "unet.yaml", tmp_path), capsys)


def spec_input(spec) -> str:
    return next(iter(spec.inputs))


def single_node_model(node, inputs, output_shape, initializers=()):
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
                                             for name, shape in inputs],
                              [helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, output_shape)],
                              [numpy_helper.from_array(array, name) for name, array in initializers])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_auto_pad_same_upper_becomes_explicit_padding(tmp_path, registry):
    weight = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", auto_pad="SAME_UPPER", kernel_shape=[3, 3])
    path = tmp_path / "same.onnx"
    onnx.save(single_node_model(node, [("x", [1, 3, 10, 12])], [1, 4, 10, 12], [("w", weight)]), path)
    model, spec, analysis = imported(path, registry)
    assert model.layers[0].keywords == {"out_channels": 4, "kernel_size": 3, "padding": 1, "bias": False}
    assert analysis.nodes["conv"].shape == (1, 4, 10, 12)
    import onnxruntime
    x = np.random.default_rng(1).standard_normal((1, 3, 10, 12)).astype(np.float32)
    expected = onnxruntime.InferenceSession(str(path)).run(None, {"x": x})[0]
    np.testing.assert_allclose(run(spec, {"x": x}, model.weights, registry=registry)["conv"], expected, rtol=1e-5,
                               atol=1e-5)


def test_asymmetric_same_padding_is_a_stand_in(tmp_path, registry):
    weight = np.ones((4, 3, 2, 2), np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="even", auto_pad="SAME_UPPER", kernel_shape=[2, 2])
    path = tmp_path / "even.onnx"
    onnx.save(single_node_model(node, [("x", [1, 3, 8, 8])], [1, 4, 8, 8], [("w", weight)]), path)
    model, spec, analysis = imported(path, registry)
    assert model.problems == ["node `even` (Conv): its attributes or inputs fit no layer type that imports this op; "
                              "imported as a stand-in layer `even`"]
    assert analysis.nodes["even"].shape == (1, 4, 8, 8)


def test_unknown_op_is_reported_and_the_rest_imported(tmp_path, registry, capsys):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="/act/Relu"),
             helper.make_node("Celu", ["r"], ["c"], name="/odd/Celu"),
             helper.make_node("MaxPool", ["c"], ["y"], name="/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "odd.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    model, spec, analysis = imported(path, registry)
    assert [layer.type for layer in model.layers] == ["ReLU", "Opaque", "MaxPool2d"]
    assert model.inputs == {"x": [1, 3, "H", "W"]}
    assert [layer.name for layer in model.layers] == ["act", "odd", "pool"]
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out
    assert (f"{path}:2:1: I001 node `/odd/Celu` (Celu): stands in for `Celu`, which no layer type imports as it "
            f"is") in out
    assert main(["import", str(path), "-o", str(tmp_path / "odd.yaml")]) == 0
    assert "not imported: node `/odd/Celu` (Celu): no layer type imports this op" in capsys.readouterr().err
    assert yaml.safe_load((tmp_path / "odd.yaml").read_text())["layers"][1] == {
        "name": "odd", "type": "Opaque", "op": "Celu", "node": "/odd/Celu"}


def test_not_an_onnx_file(tmp_path, registry, capsys):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07garbage that is no protobuf")
    with pytest.raises(OnnxImportError, match="not a readable ONNX model"):
        load_onnx(path, registry)
    assert main(["lint", str(path)]) == 1
    assert "Y001 not a readable ONNX model" in capsys.readouterr().out



@pytest.mark.parametrize("node, constant", [
    (helper.make_node("Mul", ["x", "x"], ["sq"]), None),                  # where a tanh GELU would start
    (helper.make_node("Pow", ["x", "c"], ["y"]), helper.make_tensor("c", TensorProto.STRING, [], [b"3"])),
    (helper.make_node("Div", ["x", "c"], ["y"]), helper.make_tensor("c", TensorProto.COMPLEX64, [], [1.5 + 0j])),
    (helper.make_node("Conv", ["x", "c"], ["y"], kernel_shape=[1, 1]),
     helper.make_tensor("c", TensorProto.STRING, [2, 3, 1, 1], [b"w"] * 6)),
    (helper.make_node("Clip", ["x", "c"], ["y"]), helper.make_tensor("c", TensorProto.STRING, [], [b"0"])),
    (helper.make_node("Pad", ["x", "p", "c"], ["y"]), helper.make_tensor("c", TensorProto.COMPLEX128, [], [0j])),
    (helper.make_node("Reshape", ["x", "c"], ["y"]), helper.make_tensor("c", TensorProto.STRING, [2], [b"1", b"-1"])),
], ids=["Mul then Mul", "Pow", "Div", "Conv", "Clip", "Pad", "Reshape"])
def test_a_constant_of_text_or_complex_values_is_a_clear_error(tmp_path, registry, capsys, node, constant):
    """A layer's constant input holding text or complex numbers (no layer reads them) stops the import with
    an error that names the constant and the node, and `lint` reports it as Y001; no file is written."""
    nodes, constants = [node], [constant]
    if constant is None:           # x·x·x, then x³·c with c text: the tanh GELU pattern reads c
        nodes += [helper.make_node("Mul", ["sq", "x"], ["cube"]), helper.make_node("Mul", ["cube", "c"], ["y"])]
        constants = [helper.make_tensor("c", TensorProto.STRING, [], [b"abc"])]
    constants.append(helper.make_tensor("p", TensorProto.INT64, [8], [0] * 8))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], constants)
    path = tmp_path / "odd.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(OnnxImportError, match=r"constant `c` holds (text|complex) values, which no layer reads "
                                              r"\(met importing node 1 \("):
        load_onnx(path, registry)
    assert main(["lint", str(path)]) == 1
    assert "Y001 constant `c` holds" in capsys.readouterr().out
    assert main(["import", str(path), "-o", str(tmp_path / "odd.yaml")]) == 2
    assert "constant `c` holds" in capsys.readouterr().err and not (tmp_path / "odd.yaml").exists()

@pytest.mark.parametrize("node, initializers", [
    (helper.make_node("Concat", ["x", "x"], ["y"], name="cat"), []),  # no `axis`, which ONNX requires
    (helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], name="gn"),  # no `num_groups`
     [("s", np.ones(4, np.float32)), ("b", np.zeros(4, np.float32))]),
], ids=["Concat", "GroupNormalization"])
def test_a_node_without_a_required_attribute_is_a_stand_in(tmp_path, registry, capsys, node, initializers):
    """A node that lacks an attribute ONNX requires fits no layer type: it is imported as a stand-in and
    `lint` reports it as I001, with no internal error."""
    path = tmp_path / "bare.onnx"
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(array, name) for name, array in initializers])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    model, spec, analysis = imported(path, registry)
    assert [layer.type for layer in model.layers] == ["Opaque"]
    assert model.problems == [f"node `{node.name}` ({node.op_type}): its attributes or inputs fit no layer type "
                              f"that imports this op; imported as a stand-in layer `{node.name}`"]
    main(["lint", str(path)])
    out = capsys.readouterr().out
    assert f"I001 node `{node.name}` ({node.op_type})" in out and "X002" not in out


def test_a_clip_bound_of_no_number_is_no_relu6(tmp_path, registry, capsys):
    """A ``Clip`` whose bound is a constant of no numbers fits no layer type (it was an internal error)."""
    node = helper.make_node("Clip", ["x", "low", "high"], ["y"], name="clip")
    path = tmp_path / "clip.onnx"
    onnx.save(single_node_model(node, [("x", [1, 4, 6, 6])], [1, 4, 6, 6],
                                [("low", np.zeros(0, np.float32)), ("high", np.array(6, np.float32))]), path)
    model, spec, analysis = imported(path, registry)
    assert [layer.type for layer in model.layers] == ["Opaque"]
    main(["lint", str(path)])
    out = capsys.readouterr().out
    assert "I001 node `clip` (Clip)" in out and "X002" not in out


@pytest.mark.parametrize("end, axis", [(0, 1), (4, 3), (4, -4)],
                         ids=["empty axis", "axis past the rank", "axis before the first"])
def test_a_split_into_equal_pieces_of_no_axis_is_a_stand_in(tmp_path, registry, capsys, end, axis):
    """A ``Split`` without sizes, of an empty axis (a ``Slice`` of no channels before it) or of an axis the
    input lacks, fits no layer type (it was an internal error: a division by the empty size)."""
    nodes = [helper.make_node("Slice", ["x", "start", "end", "axis"], ["kept"], name="kept"),
             helper.make_node("Split", ["kept"], ["a", "b"], name="split", axis=axis)]
    constants = [numpy_helper.from_array(np.array([value], np.int64), name)
                 for name, value in (("start", 0), ("end", end), ("axis", 1))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6])],
                              [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in "ab"],
                              constants)
    path = tmp_path / "split.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    model, spec, analysis = imported(path, registry)
    assert [layer.type for layer in model.layers][-1] == "Opaque"
    main(["lint", str(path)])
    out = capsys.readouterr().out
    assert "I001 node `split` (Split)" in out and "X002" not in out


def test_a_shape_computation_holding_a_dynamic_size_is_no_number(tmp_path, registry, capsys):
    """``Shape`` of an input of dynamic height, read where a layer needs numbers (the group count of a
    GroupNorm's ``Reshape`` target, a ``Pad``'s widths), is taken for none: the ``Pad`` is a stand-in,
    and each ``Reshape`` imports as a ``Reshape``, the dynamic size as ``-1``."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"),
             helper.make_node("Reshape", ["x", "shape"], ["same"], name="same"),
             helper.make_node("Slice", ["shape", "start", "end"], ["three"], name="three"),
             helper.make_node("Reshape", ["same", "three"], ["grouped"], name="grouped"),
             helper.make_node("Concat", ["shape", "shape"], ["widths"], name="widths", axis=0),
             helper.make_node("Pad", ["same", "widths"], ["y"], name="pad")]
    constants = [numpy_helper.from_array(np.array([1], np.int64), "start"),
                 numpy_helper.from_array(np.array([4], np.int64), "end")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, "H", 6])],
                              [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
                               for name in ("grouped", "y")], constants)
    path = tmp_path / "dynamic.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    model, spec, analysis = imported(path, registry)
    assert [(layer.name, layer.type) for layer in model.layers] == [
        ("same", "Reshape"), ("grouped", "Reshape"), ("pad", "Opaque")]
    assert [layer.keywords for layer in model.layers[:2]] == [{"shape": [1, 4, -1, 6]}, {"shape": [4, -1, 6]}]
    main(["lint", str(path)])
    assert "X002" not in capsys.readouterr().out


def test_arithmetic_on_a_dynamic_size_is_left_a_node(tmp_path, registry, capsys):
    """``H − 1`` computed from ``Shape`` (a ``Sub``) is no number while importing: the ``Pad`` whose width
    it is becomes a stand-in, where evaluating it would give a width of about 2**40."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"),
             helper.make_node("Slice", ["shape", "two", "three"], ["height"], name="height"),
             helper.make_node("Sub", ["height", "one"], ["less"], name="less"),
             helper.make_node("Concat", ["zeros", "less"], ["widths"], name="widths", axis=0),
             helper.make_node("Pad", ["x", "widths"], ["y"], name="pad")]
    constants = [numpy_helper.from_array(np.array(values, np.int64), name)
                 for name, values in (("two", [2]), ("three", [3]), ("one", [1]), ("zeros", [0] * 7))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, "H", 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], constants)
    path = tmp_path / "arithmetic.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    model, spec, analysis = imported(path, registry)
    assert [layer.type for layer in model.layers if layer.name == "pad"] == ["Opaque"]
    main(["lint", str(path)])
    assert "X002" not in capsys.readouterr().out


def test_flatten_through_shape_computations_and_matmul_add(tmp_path, registry):
    """PyTorch's ``x.view(x.size(0), -1)`` and a Linear written as MatMul + Add, dynamic batch."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)
            self.fc = torch.nn.Linear(4 * 6 * 6, 5)

        def forward(self, x):
            x = self.conv(x)
            x = x.view(x.size(0), -1)
            return torch.matmul(x, self.fc.weight.t()) + self.fc.bias

    net = Net().eval()
    x = torch.randn(2, 3, 8, 8)
    path = tmp_path / "view.onnx"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, do_constant_folding=False, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}})
    model, spec, analysis = imported(path, registry)
    assert [layer.type for layer in model.layers] == ["Conv2d", "Flatten", "Linear"]
    assert model.inputs == {"x": ["batch", 3, 8, 8]}
    assert analysis.total_params == sum(p.numel() for p in net.parameters())
    with torch.no_grad():
        expected = net(x).numpy()
    actual = run(spec, {"x": x.numpy()}, model.weights, registry=registry)
    np.testing.assert_allclose(actual[spec.outputs[0]], expected, rtol=1e-5, atol=1e-5)


class SplitSwapTranspose(torch.nn.Module):
    def forward(self, x):
        a, b = torch.split(x, [1, 3], dim=1)
        return torch.cat([b, a], 1).permute(0, 1, 3, 2)


LAYER_NETS = {
    "activations_pads_resampling": lambda: torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.PReLU(4), torch.nn.ConvTranspose2d(4, 4, 2, stride=2),
        torch.nn.InstanceNorm2d(4, affine=True), torch.nn.Hardswish(), torch.nn.Hardsigmoid(), torch.nn.ReLU6(),
        torch.nn.LeakyReLU(0.2), torch.nn.ELU(), torch.nn.GELU(), torch.nn.Tanh(), torch.nn.Sigmoid(),
        torch.nn.AvgPool2d(2), torch.nn.ZeroPad2d((1, 0, 2, 1)), torch.nn.ReflectionPad2d(1),
        torch.nn.Upsample(scale_factor=2, mode="nearest"), torch.nn.Upsample(scale_factor=2, mode="bilinear"),
        torch.nn.Softmax(dim=1), SplitSwapTranspose()),
    "layer_norm_linear": lambda: torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LayerNorm(4 * 6 * 6), torch.nn.Linear(144, 5)),
}


@pytest.mark.parametrize("name", LAYER_NETS)
def test_layer_ops_round_trip(tmp_path, registry, name):
    """The ops of the import table, as torch.onnx.export writes them (opset 20), run as PyTorch runs them."""
    import warnings
    torch.manual_seed(0)
    net = LAYER_NETS[name]().eval()
    x = torch.randn(1, 3, 8, 8)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, do_constant_folding=False, opset_version=20,
                          training=torch.onnx.TrainingMode.PRESERVE, input_names=["x"])
    model, spec, analysis = imported(path, registry)
    assert model.problems == []
    assert analysis.total_params == sum(p.numel() for p in net.parameters())
    with torch.no_grad():
        expected = net(x).numpy()
    actual = run(spec, {"x": x.numpy()}, model.weights, registry=registry)[spec.outputs[0]]
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_group_normalization_node(tmp_path, registry):
    """Opset 21's GroupNormalization (per-channel scale and bias) is GroupNorm, as PyTorch computes it."""
    rng = np.random.default_rng(0)
    scale, bias = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    node = helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], name="/gn/GroupNormalization",
                            num_groups=3, epsilon=1e-5)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6, 5, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6, 5, 5])],
                              [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(bias, "b")])
    path = tmp_path / "gn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), path)
    model, spec, analysis = imported(path, registry)
    assert [(layer.name, layer.type, layer.keywords) for layer in model.layers] == [("gn", "GroupNorm",
                                                                                     {"num_groups": 3})]
    x = rng.standard_normal((2, 6, 5, 5)).astype(np.float32)
    expected = torch.nn.functional.group_norm(torch.from_numpy(x), 3, torch.from_numpy(scale), torch.from_numpy(bias))
    np.testing.assert_allclose(run(spec, {"x": x}, model.weights, registry=registry)["gn"], expected.numpy(),
                               rtol=1e-4, atol=1e-5)


def imported_from_torchscript_export(net, tmp_path: Path, registry):
    """``net`` exported by PyTorch's TorchScript exporter at opset 17 for a ``(2, 3, 8, 8)`` input ``x``, and
    imported: the import's (model, spec, analysis), after checking that it runs as ``net`` does."""
    import warnings
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, opset_version=17, input_names=["x"])
    model, spec, analysis = imported(path, registry)
    with torch.no_grad():
        expected = net(x).numpy()
    actual = run(spec, {"x": x.numpy()}, model.weights, registry=registry)[spec.outputs[0]]
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    return model, spec, analysis


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_of_an_older_opset_imports_as_gelu(tmp_path, registry, approximate):
    """Before opset 20 ONNX has no Gelu: PyTorch writes ``(x·(1 + erf(x/√2)))·½``, or for ``tanh``
    ``½·(x·(1 + tanh(√(2/π)·(x + 0.044715·x·x·x))))``; either imports as GELU, computing what PyTorch does."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.GELU(approximate=approximate),
                              torch.nn.Conv2d(4, 2, 1)).eval()
    model, spec, _ = imported_from_torchscript_export(net, tmp_path, registry)
    assert model.problems == []
    assert [layer.type for layer in spec.layers] == ["Conv2d", "GELU", "Conv2d"]
    assert spec.layers[1].kwargs.get("approximate", "none") == approximate


@pytest.mark.parametrize("order", ["x·a·½", "a·½·x", "x·½·a"])
@pytest.mark.parametrize("cube", ["Pow", "Mul"])
def test_tanh_gelu_written_in_other_orders_imports_as_gelu(tmp_path, registry, order, cube):
    """The tanh GELU as other exporters write it: ``x³`` as ``Pow(x, 3)`` or ``(x·x)·x``, and the product
    with ``x`` and ½ in each order; one GELU layer whose output is onnxruntime's for the same file."""
    import onnxruntime

    def scalar(name, value):
        return helper.make_tensor(name, TensorProto.FLOAT, [], [value])

    nodes = ([helper.make_node("Pow", ["x", "three"], ["cube"])] if cube == "Pow" else
             [helper.make_node("Mul", ["x", "x"], ["square"]), helper.make_node("Mul", ["square", "x"], ["cube"])])
    nodes += [helper.make_node("Mul", ["kappa", "cube"], ["scaled"]), helper.make_node("Add", ["x", "scaled"], ["sum"]),
              helper.make_node("Mul", ["sum", "beta"], ["inner"]), helper.make_node("Tanh", ["inner"], ["t"]),
              helper.make_node("Add", ["one", "t"], ["a"])]
    nodes += {"x·a·½": [helper.make_node("Mul", ["x", "a"], ["xa"]), helper.make_node("Mul", ["xa", "half"], ["y"])],
              "a·½·x": [helper.make_node("Mul", ["a", "half"], ["ah"]), helper.make_node("Mul", ["x", "ah"], ["y"])],
              "x·½·a": [helper.make_node("Mul", ["half", "x"], ["hx"]), helper.make_node("Mul", ["a", "hx"], ["y"])]}[order]
    graph = helper.make_graph(
        nodes, "gelu", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        [scalar("three", 3.0), scalar("kappa", 0.044715), scalar("beta", math.sqrt(2 / math.pi)),
         scalar("one", 1.0), scalar("half", 0.5)])
    path = tmp_path / "gelu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    model, spec, _ = imported(path, registry)
    assert model.problems == []
    assert [(layer.type, layer.kwargs.get("approximate")) for layer in spec.layers] == [("GELU", "tanh")]
    x = np.random.default_rng(3).standard_normal((1, 3, 4, 4)).astype(np.float32) * 3
    expected = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    actual = run(spec, {"x": x}, model.weights, registry=registry)[spec.outputs[0]]
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_a_near_miss_of_the_tanh_gelu_is_not_gelu(tmp_path, registry):
    """The same nodes with another constant (0.05 for 0.044715) are not GELU: they import as what they
    are, each node a layer or a stand-in, never as one GELU layer."""
    nodes = [helper.make_node("Mul", ["x", "x"], ["square"]), helper.make_node("Mul", ["square", "x"], ["cube"]),
             helper.make_node("Mul", ["cube", "kappa"], ["scaled"]), helper.make_node("Add", ["x", "scaled"], ["sum"]),
             helper.make_node("Mul", ["sum", "beta"], ["inner"]), helper.make_node("Tanh", ["inner"], ["t"]),
             helper.make_node("Add", ["t", "one"], ["a"]), helper.make_node("Mul", ["x", "a"], ["xa"]),
             helper.make_node("Mul", ["xa", "half"], ["y"])]
    graph = helper.make_graph(
        nodes, "near", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor(name, TensorProto.FLOAT, [], [value]) for name, value in
         (("kappa", 0.05), ("beta", math.sqrt(2 / math.pi)), ("one", 1.0), ("half", 0.5))])
    path = tmp_path / "near.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    model, spec, _ = imported(path, registry)
    assert "GELU" not in [layer.type for layer in spec.layers]
    assert len(spec.layers) > 1


@pytest.mark.parametrize("opset, approximate", [(17, "none"), (17, "tanh"), (20, "none"), (20, "tanh")])
def test_exported_gelu_imports_as_gelu(tmp_path, capsys, registry, opset, approximate):
    """`convlint export` writes GELU as ONNX's Gelu from opset 20 and before as ``(x·½)·(1 + erf(x/√2))``,
    or ``(x·½)·(1 + tanh(√(2/π)·(x + 0.044715·x³)))``; each imports back as one GELU layer, with the same
    output."""
    spec_path = tmp_path / "gelu.yaml"
    spec_path.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {name: c, type: Conv2d, out_channels: 4, "
                         f"kernel_size: 3}}\n  - {{name: g, type: GELU, approximate: {approximate}}}\n")
    onnx_path = tmp_path / "gelu.onnx"
    assert main(["export", str(spec_path), "--to", "onnx", "--opset", str(opset), "-o", str(onnx_path)]) == 0
    capsys.readouterr()
    ops = [node.op_type for node in onnx.load(str(onnx_path)).graph.node]
    assert ("Gelu" in ops) == (opset >= 20)
    assert ("Erf" in ops, "Tanh" in ops) == (opset < 20 and approximate == "none", opset < 20 and approximate == "tanh")
    model, spec, _ = imported(onnx_path, registry)
    assert model.problems == [] and [(layer.name, layer.type) for layer in spec.layers] == [("c", "Conv2d"),
                                                                                           ("g", "GELU")]
    assert spec.layers[1].kwargs.get("approximate", "none") == approximate
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    original = run(load_text(spec_path.read_text(), str(spec_path)), {"x": x}, model.weights, registry=registry)
    actual = run(spec, {"x": x}, model.weights, registry=registry)[spec.outputs[0]]
    np.testing.assert_allclose(actual, original["g"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_written_with_instance_normalization_imports_as_group_norm(tmp_path, registry, affine):
    """PyTorch's TorchScript exporter writes GroupNorm as ``Reshape → InstanceNormalization → Reshape``
    (then ``Mul`` and ``Add`` when affine): one GroupNorm layer, computing what PyTorch computes."""
    torch.manual_seed(0)
    norm = torch.nn.GroupNorm(3, 6, eps=1e-4, affine=affine)
    if affine:
        with torch.no_grad():
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), norm, torch.nn.ReLU()).eval()
    model, spec, analysis = imported_from_torchscript_export(net, tmp_path, registry)
    assert model.problems == []
    assert [layer.type for layer in spec.layers] == ["Conv2d", "GroupNorm", "ReLU"]
    assert spec.layers[1].kwargs["num_groups"] == 3 and spec.layers[1].kwargs.get("affine", True) == affine
    assert analysis.total_params == sum(p.numel() for p in net.parameters())


def test_exported_group_norm_imports_as_group_norm(tmp_path, capsys, registry):
    """`convlint export` writes GroupNorm as PyTorch's TorchScript exporter does; it imports back as GroupNorm,
    named as the spec names it."""
    spec_path = tmp_path / "gn.yaml"
    spec_path.write_text("inputs: {x: [1, 4, 6, 6]}\nlayers:\n  - {name: n, type: GroupNorm, num_groups: 2}\n")
    onnx_path = tmp_path / "gn.onnx"
    assert main(["export", str(spec_path), "--to", "onnx", "-o", str(onnx_path), "--seed", "3"]) == 0
    capsys.readouterr()
    model, spec, _ = imported(onnx_path, registry)
    assert model.problems == [] and [(layer.name, layer.type, layer.kwargs["num_groups"]) for layer in spec.layers] \
        == [("n", "GroupNorm", 2)]
    x = np.random.default_rng(0).standard_normal((1, 4, 6, 6)).astype(np.float32)
    original = run(load_text(spec_path.read_text(), str(spec_path)), {"x": x}, model.weights, registry=registry)
    actual = run(spec, {"x": x}, model.weights, registry=registry)[spec.outputs[0]]
    np.testing.assert_allclose(actual, original["n"], rtol=1e-5, atol=1e-6)
