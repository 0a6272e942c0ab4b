"""ONNX graph → :class:`~convlint.importing.model.ImportedModel`.

Each node is offered to the layer types whose ``onnx_ops`` name its op (their ``from_onnx``), after
the types whose ``onnx_patterns`` name it (a pattern of several nodes starts there); the first that
accepts it makes the layer, and the nodes its answer absorbs are its own.  A node that reads constants
only (and ``Shape``, which reads no values) is evaluated here with ONNX's reference implementation, so
the shape computations PyTorch's exporter writes for a flatten (``Shape`` → ``Gather`` → ``Unsqueeze`` →
``Concat`` → ``Reshape``) reach the node that uses them as a constant.  A dynamic dim travels through
them as a sentinel number and comes out as its size name.  A node no type accepts becomes the fallback
type's stand-in (``onnx_fallback``), with its output shape from the file's shape information, and a
line in ``problems``.  ``onnx`` is imported here only, when a file is imported.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from convlint.importing.model import ImportedLayer, ImportedModel, clean_name
from convlint.importing.onnx_node import OnnxNode, Shape
from convlint.layers.layer_type import state_key

SENTINEL = 1 << 40
"""Dynamic dim ``k`` of the graph's shapes is the number ``SENTINEL + k`` while shape computations are
evaluated.  A node that reads a sentinel is kept evaluated only when every value it gives is one it read
(``Gather``, ``Slice``, ``Concat``, ``Cast`` to int64 move values): arithmetic would make a number that is
another dim's sentinel (``SENTINEL + k − 1``) or a plain number (the difference of two), so a node that
computes with a dynamic dim is left a node, read as a tensor.  (Any output sized by a sentinel would need
terabytes: its allocation fails at once, and the node is left a node too.)"""


class OnnxImportError(Exception):
    """The file cannot be read as an ONNX model; the message says why."""


def load_model(path: Path):
    """The ONNX model in ``path`` with inferred shapes; :class:`OnnxImportError` when it cannot be read."""
    try:
        import onnx
    except ImportError:
        raise OnnxImportError("reading ONNX files needs the onnx package: pip install 'convlint[onnx]'") from None
    try:
        model = onnx.load(str(path))
    except Exception as error:  # protobuf's errors have no common base
        raise OnnxImportError(f"not a readable ONNX model: {type(error).__name__}: {error}") from None
    if not model.graph.node:
        raise OnnxImportError("the ONNX model has no nodes")
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # a file shape inference cannot follow keeps the shapes it states
        pass
    return model


def _dims(value_type) -> Shape | None:
    """The shape of an ONNX value type: ints, size names, or ``"?"`` for an unnamed dynamic dim."""
    tensor = value_type.tensor_type
    if not tensor.HasField("shape"):
        return None
    return tuple(dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or "?") for dim in tensor.shape.dim)


def _attributes(node) -> dict[str, Any]:
    from onnx import helper, numpy_helper
    values = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list):
            value = [item.decode("utf-8", "replace") if isinstance(item, bytes) else item for item in value]
        elif hasattr(value, "dims") and hasattr(value, "data_type"):  # a TensorProto
            value = numpy_helper.to_array(value)
        values[attribute.name] = value
    return values


def _module_path(scopes: list[str]) -> str:
    """The module path that PyTorch's scope names spell: ``["layer1", "layer1.0", "conv1"]`` →
    ``layer1.0.conv1``, ``["layer2.0", "downsample", "downsample.1"]`` → ``layer2.0.downsample.1`` (a
    scope whose head is the end of the path so far replaces that end; any other scope is appended)."""
    parts: list[str] = []
    for scope in scopes:
        if not scope:
            continue
        head = scope.split(".")[:-1]
        if head and parts[-len(head):] == head:
            parts[len(parts) - len(head):] = scope.split(".")
        else:
            parts += scope.split(".")
    return ".".join(parts)


class _Graph:
    """The state of one import: known values, shapes, which tensor is which layer's output."""

    def __init__(self, model, registry, source: str):
        import numpy
        from onnx import numpy_helper
        self.numpy = numpy
        self.registry = registry
        self.graph = model.graph
        self.shapes: dict[str, Shape | None] = {}
        for info in [*self.graph.input, *self.graph.value_info, *self.graph.output]:
            self.shapes[info.name] = _dims(info.type)
        self.values: dict[str, Any] = {item.name: numpy_helper.to_array(item) for item in self.graph.initializer}
        self.tensors: dict[str, str] = {}
        """ONNX tensor name → the spec's name of that tensor (an input, a layer, ``layer.k``)."""
        self.readers: dict[str, list] = defaultdict(list)
        for node in self.graph.node:
            for name in node.input:
                self.readers[name].append(node)
        self.graph_outputs = {output.name for output in self.graph.output}
        self.names: set[str] = set()
        self.result = ImportedModel(clean_name(Path(source).stem, "model"), source, {}, [], [])
        self.by_proto: dict[int, OnnxNode] = {}
        self.absorbed: dict[int, str] = {}
        self.dim_names: dict[int, str] = {}
        """Sentinel number → the size name it stands for."""

    # -- names --------------------------------------------------------------------------------------
    def unique(self, name: str) -> str:
        candidate, count = name, 0
        while candidate in self.names:
            count += 1
            candidate = f"{name}_{count}"
        self.names.add(candidate)
        return candidate

    def layer_name(self, node) -> str:
        """From the weights' names (``layer1.0.conv1.weight``), the node's scope name
        (``/layer1/layer1.0/conv1/Conv``, or ``act/Relu_2`` as convlint's export writes it), PyTorch's
        recorded scopes or the node's own name; else
        the op's name (``flatten``; :meth:`unique` numbers repeats).  A path
        that is a module holding others (the block an ``Add`` is written in) gets the op appended:
        ``layer1.0.add``."""
        path = self.module_path(node) or node.op_type.lower()
        return f"{path}.{node.op_type.lower()}" if path in self.containers else path

    def module_path(self, node) -> str:
        for name in node.input[1:]:
            if name in self.graph_initializer_names and "." in name:
                return name.rsplit(".", 1)[0]
        if node.name.startswith("/") and node.name.count("/") > 1:
            path = _module_path(node.name.strip("/").split("/")[:-1])
            if path:
                return path
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.name_scopes":
                import ast
                try:
                    scopes = ast.literal_eval(prop.value)
                except (ValueError, SyntaxError):
                    break
                return _module_path([str(scope) for scope in scopes[:-1]])
        if "/" in node.name and not node.name.startswith("/"):
            return node.name.rsplit("/", 1)[0]      # `scope/Op_3`: convlint's export names a node by its layer
        return "" if node.name.startswith("/") else node.name

    # -- values ---------------------------------------------------------------------------------------
    def shape_of(self, name: str) -> Shape | None:
        return self.shapes.get(name)

    def constant_of(self, name: str):
        """The known value of tensor ``name``, with sentinel dims as their size names (an object array);
        :class:`OnnxImportError` for a constant that is not boolean, integer or real (strings, complex
        numbers), which no layer reads."""
        value = self.values.get(name)
        if value is not None and value.dtype.kind not in "biuf":
            kind = {"U": "text", "S": "text", "O": "text", "c": "complex"}.get(value.dtype.kind, str(value.dtype))
            raise OnnxImportError(f"constant `{name}` holds {kind} values, which no layer reads")
        if value is None or value.dtype.kind not in "iu" or not (value >= SENTINEL).any():
            return value
        return self.numpy.array([self.dim_names.get(int(item), int(item)) for item in value.flat],
                                dtype=object).reshape(value.shape)

    def sentinel(self, dim) -> int:
        """``dim`` as a number: itself, or the sentinel of a size name."""
        if isinstance(dim, int):
            return dim
        for number, name in self.dim_names.items():
            if name == dim and dim != "?":
                return number
        number = SENTINEL + len(self.dim_names)
        self.dim_names[number] = dim  # an unnamed dim ("?") gets a sentinel of its own each time
        return number

    def fold(self, node) -> bool:
        """Evaluate ``node`` when it reads known values only (``Shape``: a tensor of known rank); True when
        its outputs are then known."""
        np = self.numpy
        if node.op_type == "Shape" and node.domain in ("", "ai.onnx"):
            shape = self.shapes.get(node.input[0])
            if shape is None:
                return False
            attributes = _attributes(node)
            dims = [self.sentinel(dim) for dim in shape][attributes.get("start", 0):attributes.get("end", len(shape))]
            self.values[node.output[0]] = np.array(dims, dtype=np.int64)
            return True
        if not all(not name or name in self.values for name in node.input):
            return False
        inputs = {name: self.values[name] for name in node.input if name}
        try:
            from onnx.reference import ReferenceEvaluator
            outputs = [np.asarray(value) for value in ReferenceEvaluator(node).run(None, inputs)]
        except Exception:  # an op the reference cannot run (or that fails on these values): a layer after all
            return False
        numbers = [value.ravel() for value in inputs.values() if value.dtype.kind in "iuf"]
        if any((value >= SENTINEL).any() for value in numbers):
            read = np.concatenate(numbers)
            if not all(value.dtype.kind in "iuf" and np.isin(value, read).all() for value in outputs):
                return False
        for name, value in zip(node.output, outputs):
            if name:
                self.values[name] = value
        return True

    graph_initializer_names: set[str] = set()
    containers: set[str] = set()
    """Module paths that hold other modules' nodes."""


def import_onnx(path: Path, registry) -> ImportedModel:
    """Import the ONNX file at ``path`` with the layer types of ``registry``; raises
    :class:`OnnxImportError` for a file that is no readable ONNX model."""
    model = load_model(path)
    state = _Graph(model, registry, str(path))
    state.graph_initializer_names = set(state.values)
    for proto in state.graph.node:
        parts = state.module_path(proto).split(".")
        state.containers.update(".".join(parts[:end]) for end in range(1, len(parts)))
    result = state.result
    patterns: dict[str, list] = defaultdict(list)
    plain: dict[str, list] = defaultdict(list)
    for layer_type in registry.types.values():
        for op in getattr(layer_type, "onnx_patterns", ()):
            patterns[op].append(layer_type)
        for op in getattr(layer_type, "onnx_ops", ()):
            plain[op].append(layer_type)
    # a node that may start a pattern is offered to the pattern's type first
    types_of = {op: patterns[op] + [t for t in plain[op] if t not in patterns[op]] for op in {*patterns, *plain}}
    fallback = next((t for t in registry.types.values() if getattr(t, "onnx_fallback", False)), None)
    for position, graph_input in enumerate(state.graph.input):
        if graph_input.name in state.values:
            continue
        shape = state.shapes.get(graph_input.name) or ()
        name = state.unique(clean_name(graph_input.name, f"input{position}"))
        result.inputs[name] = [_size(dim, axis) for axis, dim in enumerate(shape)]
        state.tensors[graph_input.name] = name
        state.shapes[graph_input.name] = tuple(result.inputs[name])
    nodes = list(state.graph.node)
    # every node that computes from known values is evaluated first (in the file's order, so a chain of
    # them is): a layer type that absorbs the nodes after its own (a pattern) reads their constants
    folded = {id(proto) for proto in nodes if state.fold(proto)}
    for index, proto in enumerate(nodes):
        if id(proto) not in state.absorbed and id(proto) not in folded:
            _import_node(state, proto, index, types_of.get(proto.op_type, []), fallback)
    result.outputs = [state.tensors[output.name] for output in state.graph.output if output.name in state.tensors]
    return result


def _size(dim, axis: int):
    """A graph input's dim: its number, its name as a size name, or ``N``/``D<axis>`` when unnamed."""
    if isinstance(dim, int) and dim > 0:
        return dim
    if isinstance(dim, str) and dim != "?":
        name = clean_name(dim, "")
        return name if name and not name[0].isdigit() else f"D{axis}"
    return "N" if axis == 0 else f"D{axis}"


def _node_view(state: _Graph, proto) -> OnnxNode:
    view = state.by_proto.get(id(proto))
    if view is None:
        view = OnnxNode(proto.op_type, proto.name, _attributes(proto), proto.input, proto.output, state.shape_of,
                        state.constant_of,
                        lambda name: [] if name in state.graph_outputs else
                        [_node_view(state, reader) for reader in state.readers.get(name, [])])
        view.proto = proto  # type: ignore[attr-defined]
        state.by_proto[id(proto)] = view
    return view


def _import_node(state: _Graph, proto, index: int, candidates: list, fallback) -> None:
    result = state.result
    node = _node_view(state, proto)
    answer, layer_type = None, None
    described = f"node `{proto.name}` ({proto.op_type})" if proto.name else f"node {index + 1} ({proto.op_type})"
    try:
        for candidate in candidates:
            answer = candidate.from_onnx(node)
            if answer is not None:
                layer_type = candidate
                break
    except OnnxImportError as error:
        raise OnnxImportError(f"{error} (met importing {described})") from None
    name = state.unique(clean_name(state.layer_name(proto), f"node{index}"))
    if answer is None:
        why = ("no layer type imports this op" if not candidates
               else "its attributes or inputs fit no layer type that imports this op")
        result.problems.append(f"{described}: {why}; imported as a stand-in layer `{name}`")
        if fallback is None:
            raise OnnxImportError(f"{described}: {why}, and no stand-in layer type is installed")
        layer_type, answer = fallback, fallback.from_onnx(node)
    assert layer_type is not None and answer is not None
    sources_at = answer.sources if answer.sources is not None else [
        position for position, tensor in enumerate(proto.input) if tensor and tensor not in state.values]
    sources = [state.tensors.get(proto.input[position], clean_name(proto.input[position])) for position in sources_at
               if position < len(proto.input) and proto.input[position]]
    result.layers.append(ImportedLayer(name, layer_type.name, sources, answer.keywords, described))
    result.origins[name] = (index + 1, described)
    for entry, array in answer.parameters.items():
        result.weights[state_key(name, entry)] = array
    outputs = list(proto.output)
    for absorbed in answer.absorbs:
        state.absorbed[id(absorbed.proto)] = name
        outputs = list(absorbed.output_names)
    if getattr(layer_type, "multiple_outputs", False):
        for k, output in enumerate(outputs):
            state.tensors[output] = f"{name}.{k}"
    else:
        for output in outputs[:1]:
            state.tensors[output] = name
