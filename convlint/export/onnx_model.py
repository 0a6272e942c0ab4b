"""A checked spec as an ONNX model, built with the ``onnx`` package.

Each layer's nodes come from its type's ``onnx_lower``; its parameters are initializers named by
their state-dict keys (``layer1.0.conv1.weight``), taken from a weights file or initialised as the
executor initialises them; each layer's output tensor is named after the layer (see :func:`output_name`;
a layer whose lowering passes its input on, without a node, has no tensor of its own).  Named input sizes,
and by default the spatial sizes of a spec with numbers, are symbolic dimensions (``H``, ``W``);
the model's doc string states the sizes that are valid.
"""
from __future__ import annotations

from convlint.export.onnx_graph import OnnxGraph
from convlint.export.prepare import Prepared
from convlint.layers.layer_type import NotExportable, state_key

IR_VERSION = 8
"""The ONNX IR version written (read by ONNX Runtime 1.14 and later)."""


def onnx_model(prepared: Prepared, weights: dict | None = None, seed: int = 0, opset: int = 17,
               dynamic: bool = True):
    """The ``onnx.ModelProto`` of ``prepared``'s network (float32).  ``weights``: a state dict (arrays by
    key; missing entries are initialised from ``seed``); ``dynamic``: symbolic dimensions for the sizes
    the size solver follows.  Raises :class:`NotExportable` for a layer type without a lowering."""
    import numpy
    from onnx import TensorProto, helper

    from convlint.execute.executor import ExecutionError, checked_parameters

    spec, analysis = prepared.spec, prepared.analysis
    try:
        state, _ = checked_parameters(analysis, prepared.registry, weights or {}, seed, numpy.float32, 1 << 26)
    except ExecutionError as error:
        raise ValueError(str(error)) from None
    symbolic = dynamic and any(isinstance(dim, str) for decl in spec.inputs.values() for dim in decl.shape) \
        or (dynamic and bool(prepared.size_names))
    graph = OnnxGraph(opset, symbolic)
    inputs = []
    for name, decl in spec.inputs.items():
        shape = analysis.nodes[name].shape or decl.shape
        dims = [dim if isinstance(dim, str) else prepared.size_names.get((name, index), size) if dynamic else size
                for index, (dim, size) in enumerate(zip(decl.shape, shape))]
        inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
    tensors = {name: name for name in spec.inputs}
    for name, node in analysis.nodes.items():
        if node.family == "input":
            continue
        layer_type, ctx, _ = prepared.context(name)
        params = {}
        for entry, array in state[name].items():
            params[entry] = graph.initializer(state_key(name, entry), numpy.ascontiguousarray(array, numpy.float32))
        graph.layer = name
        sources = [_tensor(source, tensors) for source in spec.layer_by_name[name].sources]
        try:
            result = layer_type.onnx_lower(ctx, graph, sources, params)
        except NotExportable as error:
            raise NotExportable(f"layer `{name}` ({node.type}): {error}") from None
        if node.outputs is not None:
            for index, output in enumerate(result):
                tensors[f"{name}.{index}"] = _named(graph, output, f"{name}.{index}", sources)
        else:
            tensors[name] = _named(graph, result, output_name(name, params), sources)
    outputs = [helper.make_tensor_value_info(tensors[_output_tensor(output, analysis)], TensorProto.FLOAT,
                                             _output_dims(analysis.nodes[output].shape or (), symbolic))
               for output in spec.outputs]
    body = helper.make_graph(graph.nodes, spec.name, inputs, outputs, graph.initializers)
    model = helper.make_model(body, opset_imports=[helper.make_opsetid("", opset)], producer_name="convlint",
                              doc_string=_doc(prepared))
    model.ir_version = IR_VERSION
    return model


def onnx_bytes(prepared: Prepared, weights_path: str | None, seed: int, opset: int, dynamic: bool = True) -> bytes:
    """:func:`onnx_model` serialised, with the weights read from ``weights_path`` (an ``.npz``), if given."""
    weights = {}
    if weights_path:
        from convlint.execute.executor import ExecutionError, load_weights
        try:
            weights = load_weights(weights_path)
        except ExecutionError as error:
            raise ValueError(f"--weights: {error}") from None
    return onnx_model(prepared, weights, seed, opset, dynamic).SerializeToString()


def output_name(layer: str, params: dict) -> str:
    """The name of a layer's output tensor: the layer's name, or ``<name>:output`` for a layer whose
    parameter has the layer's name as state-dict key (ConvNeXt's ``layer_scale``)."""
    return f"{layer}:output" if state_key(layer, "") in params.values() else layer


def _output_dims(shape: tuple, symbolic: bool) -> list:
    """The declared output shape: the linter's, or with symbolic inputs only its rank and channels."""
    if not symbolic:
        return list(shape)
    return [size if index == 1 else None for index, size in enumerate(shape)]


def _tensor(source: str, tensors: dict) -> str:
    if source in tensors:
        return tensors[source]
    raise NotExportable(f"`{source}` names a layer with several outputs; read one of them as `{source}.0`")


def _output_tensor(output: str, analysis) -> str:
    node = analysis.nodes.get(output)
    if node is not None and node.outputs is not None:
        raise NotExportable(f"output `{output}` has several tensors; list them as `{output}.0`, `{output}.1`, …")
    return output


def _named(graph: OnnxGraph, tensor: str, name: str, sources: list[str]) -> str:
    """Name the layer's output tensor after the layer; a lowering that passed an input on makes no tensor,
    and the layer's output is that input."""
    if tensor in sources or not graph.rename_output(tensor, name):
        return tensor
    return name


def _doc(prepared: Prepared) -> str:
    lines = [f"{prepared.spec.name}, exported by convlint from {prepared.spec.path}."]
    if prepared.valid_sizes:
        lines += ["Valid input sizes:", *(f"  {line}" for line in prepared.valid_sizes)]
    return "\n".join(lines)
