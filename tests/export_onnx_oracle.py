"""Helpers of the ONNX export tests: the model checked, its inferred shapes, ONNX Runtime beside the executor."""
from __future__ import annotations

import numpy as np

import convlint
from convlint.execute.executor import execute
from convlint.export.onnx_model import onnx_model
from convlint.export.prepare import prepare
from tests.export_oracle import executor_weights


def checked_model(spec, registry, weights: dict, dynamic: bool):
    """The exported model, after ``onnx.checker.check_model(full_check=True)``."""
    import onnx
    model = onnx_model(prepare(spec, registry), weights, dynamic=dynamic)
    onnx.checker.check_model(model, full_check=True)
    return model


def inferred_shapes(model) -> dict[str, tuple]:
    """Tensor name → shape from ONNX shape inference (strict); a symbolic or unknown dim is ``None``."""
    import onnx
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    shapes = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]:
        dims = info.type.tensor_type.shape.dim
        shapes[info.name] = tuple(dim.dim_value if dim.HasField("dim_value") else None for dim in dims)
    return shapes


def run_onnx(model, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {name: array.astype(np.float32) for name, array in inputs.items()})


def compare_onnx(spec, registry, seed: int = 0, tolerance: float = 1e-4, dynamic: bool = False):
    """Export ``spec`` (numeric sizes) with the executor's weights; check the model, its inferred shapes
    against the linter's (every layer's tensor; fixed dims only when ``dynamic``), and ONNX Runtime's outputs
    against the executor's within ``tolerance`` (relative to the output's largest magnitude).  Returns the
    model."""
    analysis = convlint.analyze(spec, registry)
    weights = executor_weights(analysis, registry, seed)
    model = checked_model(spec, registry, weights, dynamic)
    shapes = inferred_shapes(model)
    initializers = {tensor.name for tensor in model.graph.initializer}
    for name, node in analysis.nodes.items():
        if node.family == "input":
            continue
        own = f"{name}:output" if name in initializers else name
        for tensor, want in ([(own, node.shape)] if node.outputs is None
                             else [(f"{name}.{k}", shape) for k, shape in enumerate(node.outputs)]):
            got = shapes.get(tensor)
            assert got is not None and len(got) == len(want), (tensor, got, want)
            assert all(g is None or g == w for g, w in zip(got, want)), (tensor, got, want)
            if not dynamic:
                assert got == tuple(want), (tensor, got, want)
    rng = np.random.default_rng(seed)
    inputs = {name: rng.standard_normal(decl.shape).astype(np.float32) for name, decl in spec.inputs.items()}
    expected = execute(analysis, registry, inputs, weights, dtype="float64").outputs
    got = run_onnx(model, inputs)
    for name, array in zip(spec.outputs, got):
        want = expected[name]
        assert array.shape == want.shape, name
        scale = max(1.0, float(np.abs(want).max()))
        assert np.abs(array - want).max() <= tolerance * scale, (name, float(np.abs(array - want).max()))
    return model


IMPORTED_AS = {"Chunk": "Split", "View": "Reshape", "Dropout": "Identity", "Dropout2d": "Identity",
               "StochasticDepth": "Identity"}
"""Layer types whose export imports back as another type that computes the same at inference
(``torch.chunk`` and ``torch.split`` both export as ``Split``; a view as a ``Reshape``; dropout as ``Identity``)."""


def assert_imports_back(model, spec, registry, directory, stand_ins: str | None = None) -> None:
    """``model`` (exported from ``spec``) saved and imported back: every node is a layer of a known type (no
    stand-in), the layer types are the spec's (up to :data:`IMPORTED_AS`) and so is the parameter count.
    Lint finds in a file of fixed sizes the errors and warnings of the spec's analysis (before its noqa
    comments), and in a file of dynamic sizes no error.  With ``stand_ins`` (a pattern of node names), the
    stand-ins are exactly the nodes whose names match it, and nothing else is compared."""
    import re

    import onnx
    from convlint.api import load_text
    from convlint.importing.onnx_file import load_onnx
    from convlint.linting.runner import lint_file
    path = directory / "exported.onnx"
    onnx.save(model, str(path))
    imported, text = load_onnx(path, registry)
    if stand_ins is not None:
        assert imported.problems, "the stand-ins are gone: drop them from the test"
        named = [re.match(r"node `([^`]*)`", str(problem)) for problem in imported.problems]
        assert all(match and re.fullmatch(stand_ins, match[1]) for match in named), imported.problems
        return
    assert imported.problems == []
    analysis, imported_spec = convlint.analyze(spec, registry), load_text(text, str(path))
    assert convlint.analyze(imported_spec, registry).total_params == analysis.total_params
    spec_types = sorted(IMPORTED_AS.get(node.type, node.type) for node in analysis.nodes.values()
                        if node.family != "input")
    assert sorted(layer.type for layer in imported.layers) == spec_types
    found = lint_file(path, registry).findings
    if imported_spec.size_names:
        assert [finding for finding in found if finding.severity.value == "error"] == []
        return
    def serious(findings):
        return sorted(finding.code for finding in findings if finding.severity.value in ("error", "warning"))
    assert serious(found) == serious(analysis.findings)
