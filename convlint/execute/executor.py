"""The reference executor: run a spec's graph on NumPy arrays, in inference mode.

Each layer type runs through its own ``forward`` (the plugin that owns the
type provides it), so third-party layers run too.  Before anything is
allocated the executor lints the spec (a spec with errors is refused with its
findings) and checks the memory the run needs against a limit.  After each
layer, the executed shape is compared with the linter's prediction; a
difference is a bug and is reported as such.

Arrays are NCHW-style ``(N, C, *spatial)``, float32 by default.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, cast

import numpy as np

from convlint.findings import Finding, Severity
from convlint.analysis.infer import Analysis, NodeInfo, describe_error, format_shape
from convlint.analysis.graph import producer
from convlint.layers.layer_type import LayerContext, LayerType, state_key
from convlint.layers.registry import PLUGIN_TIME_LIMIT, PluginFault, plugin_call
from convlint.execute.memory import DEFAULT_CHUNK_BYTES, available_memory, format_bytes
from convlint.spec.model import Spec

DTYPES = {"float32": np.float32, "float64": np.float64}
"""The dtypes a run computes in."""
PARAMETER_STREAM = 1
"""Missing parameters are drawn from ``default_rng([seed, PARAMETER_STREAM])``, random inputs from
``default_rng(seed)``: the parameters do not depend on which inputs were given, so they can be reused."""
DEFAULT_MEMORY_FRACTION = 0.5
"""Without an explicit limit, a run may use this fraction of the available memory."""
MACS_PER_SECOND_FLOOR = 10_000_000
"""Multiply-accumulates per second that every layer's ``forward`` is assumed to reach at least (NumPy
reaches far more): its time limit grows by one second for each (see :func:`forward_time_limit`)."""


class ExecutionError(Exception):
    """The spec cannot be run as asked: the message says why and names the layer or key."""


class SpecHasErrors(ExecutionError):
    """The spec has lint errors; ``findings`` lists them."""

    def __init__(self, findings: list[Finding]):
        super().__init__(f"the spec has {len(findings)} lint error(s); fix them before running it")
        self.findings = findings


class ExecutorBug(ExecutionError):
    """An executed shape differs from the predicted one: a bug in convlint or a plugin."""


@dataclass
class RunResult:
    """What a run produced.

    ``outputs`` maps the spec's output layers (or every layer, with ``keep_all``)
    to arrays; ``initialised`` lists the state-dict keys that were not given and
    were initialised as PyTorch initialises them; ``peak_bytes`` is the planned
    peak of live activations plus parameters.
    """

    outputs: dict[str, np.ndarray]
    initialised: list[str] = field(default_factory=list)
    peak_bytes: int = 0


def _context(analysis: Analysis, registry, node: NodeInfo, chunk_bytes: int) -> tuple[LayerType, LayerContext]:
    layer = analysis.spec.layer_by_name[node.name]
    layer_type = registry.types[layer.type]
    rank = len(node.input_shapes[0])
    ndim = layer_type.spatial_dims if layer_type.spatial_dims is not None else max(rank - 2, 0)
    ctx = LayerContext(layer, node.input_shapes, node.args, ndim, analysis.spec.path, registry.rules)
    ctx.chunk_bytes = chunk_bytes
    return layer_type, ctx


def with_input_shapes(spec: Spec, arrays: Mapping[str, np.ndarray]) -> Spec:
    """``spec`` with its declared input shapes replaced by the given arrays' shapes."""
    unknown = sorted(set(arrays) - set(spec.inputs))
    if unknown:
        raise ExecutionError(f"input `{unknown[0]}` is not declared; the spec's inputs are "
                             f"{', '.join(spec.inputs)}")
    if all(tuple(arrays[name].shape) == decl.shape for name, decl in spec.inputs.items() if name in arrays):
        return spec
    return spec.with_input_shapes({name: array.shape for name, array in arrays.items()})


def plan_memory(analysis: Analysis, itemsize: int, keep_all: bool) -> int:
    """Peak bytes of activations alive at once (freed after their last reader) plus all parameters."""
    graph = analysis.spec.graph
    order = list(analysis.nodes)
    position = {name: index for index, name in enumerate(order)}
    kept = set(order) if keep_all else set(analysis.spec.outputs)
    frees_at: dict[int, list[str]] = {}
    for name in order:
        if name not in kept:
            last = max([position[reader] for reader in graph.successors(name) if reader in position] + [position[name]])
            frees_at.setdefault(last, []).append(name)
    sizes = {name: sum(math.prod(shape) for shape in node.all_outputs) * itemsize
             for name, node in analysis.nodes.items()}
    live = peak = 0
    for index, name in enumerate(order):
        live += sizes[name]
        peak = max(peak, live)
        live -= sum(sizes[freed] for freed in frees_at.get(index, ()))
    return peak + sum(node.params or 0 for node in analysis.nodes.values()) * itemsize


def _random_input(shape: tuple[int, ...], rng: np.random.Generator, dtype) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def checked_parameters(analysis: Analysis, registry, weights: Mapping[str, np.ndarray], seed: int, dtype,
                       chunk_bytes: int) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Every layer's parameters and buffers, as a run of ``analysis`` uses them (``convlint run`` and
    the ONNX export share them).

    ``weights`` is a state dict (``conv1.weight`` → array; ``*.num_batches_tracked`` entries are
    ignored): each entry must belong to a layer of the spec and have the shape that layer needs,
    else :class:`ExecutionError` names it.  Entries it lacks are initialised as PyTorch initialises
    them, from ``seed``'s parameter stream (:data:`PARAMETER_STREAM`).  ``dtype`` is the NumPy dtype of
    the arrays returned; ``chunk_bytes`` the work-buffer size the layers' contexts carry.

    Returns ``(state, initialised)``: layer name → entry (``weight``, ``bias``, ``running_mean``, …, or
    ``""`` for a layer that is one array) → array of the shape ``parameter_shapes`` gives; and the
    state-dict keys that were initialised, in layer order.
    """
    expected: dict[str, tuple[str, str, tuple[int, ...]]] = {}
    contexts = {}
    for name, node in analysis.nodes.items():
        if node.family == "input":
            continue
        layer_type, ctx = _context(analysis, registry, node, chunk_bytes)
        contexts[name] = (layer_type, ctx)
        for key, shape in layer_type.parameter_shapes(ctx).items():
            expected[state_key(name, key)] = (name, key, tuple(shape))
    given = {key: value for key, value in weights.items() if not key.endswith(".num_batches_tracked")}
    for key in sorted(given):
        if key not in expected:
            close = [k for k in expected if k.rsplit(".", 1)[0] == key.rsplit(".", 1)[0]]
            hint = f"; that layer has {', '.join(close)}" if close else ""
            raise ExecutionError(f"weight `{key}` belongs to no layer of the spec{hint}")
        shape = tuple(np.shape(given[key]))
        if shape != expected[key][2]:
            raise ExecutionError(f"weight `{key}` has shape {format_shape(shape)}, but the layer needs "
                                 f"{format_shape(expected[key][2])}")
    state: dict[str, dict[str, np.ndarray]] = {name: {} for name in contexts}
    initialised = [key for key in expected if key not in given]
    defaults = _initial_state(contexts, expected, seed, dtype) if initialised else {}
    for full, (name, short, _) in expected.items():
        state[name][short] = np.asarray(given[full], dtype=dtype) if full in given else defaults[full]
    return state, initialised


_INITIAL_STATES: OrderedDict[tuple, dict[str, np.ndarray]] = OrderedDict()
INITIAL_STATES_KEPT = 4
"""Initialised state dicts kept for reuse, most recently used first (a ResNet-50's is about 100 MB)."""


def _initial_state(contexts: dict, expected: dict, seed: int, dtype) -> dict[str, np.ndarray]:
    """Every parameter as PyTorch initialises it, drawn from ``seed``'s parameter stream: state-dict key →
    read-only array.  Cached per (layer types, arguments, parameter shapes, seed, dtype), so running a
    spec again without weights does not draw them again."""
    key = (seed, np.dtype(dtype).str, tuple((full, contexts[name][0].name, repr(contexts[name][1].args), shape)
                                            for full, (name, _, shape) in expected.items()))
    if key in _INITIAL_STATES:
        _INITIAL_STATES.move_to_end(key, last=False)
        return _INITIAL_STATES[key]
    rng = np.random.default_rng([seed, PARAMETER_STREAM])
    owned: dict[str, list[tuple[str, str]]] = {}
    for full, (owner, short, _) in expected.items():
        owned.setdefault(owner, []).append((full, short))
    state = {}
    for name, (layer_type, ctx) in contexts.items():
        if name in owned:
            drawn = layer_type.initial_parameters(ctx, rng)
            for full, short in owned[name]:
                state[full] = np.array(drawn[short], dtype=dtype)
                state[full].flags.writeable = False
    _INITIAL_STATES[key] = state
    _INITIAL_STATES.move_to_end(key, last=False)
    while len(_INITIAL_STATES) > INITIAL_STATES_KEPT:
        _INITIAL_STATES.popitem()
    return state


def work_buffer_bytes(analysis: Analysis, itemsize: int, chunk_bytes: int) -> int:
    """Bytes of the largest temporary a kernel unfolds (im2col columns), at most ``chunk_bytes``.

    An unfold holds one element per kernel tap, input channel of a group and output (or, transposed,
    input) position; each takes part in at least one multiply-accumulate, so a layer's MACs bound it.
    """
    largest = max((node.macs or 0 for node in analysis.nodes.values()), default=0)
    return min(chunk_bytes, largest * itemsize)


def execute(analysis: Analysis, registry, inputs: Mapping[str, np.ndarray] | None = None,
            weights: Mapping[str, np.ndarray] | None = None, seed: int = 0, dtype: str = "float32",
            keep_all: bool = False, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
            memory_limit: int | None = None, findings: list[Finding] | None = None) -> RunResult:
    """Run an analysed spec. See :func:`run` for the arguments; ``memory_limit`` is in bytes.

    ``findings`` are the lint findings that decide whether the spec may run (those of the lint
    pipeline, :func:`convlint.linting.runner.check_spec`, with configuration, noqa comments and
    budgets applied); by default every finding of ``analysis``.  An error among them refuses the run;
    so does a suppressed error that left some layer without a shape, since nothing can compute it.
    """
    errors = [f for f in (analysis.findings if findings is None else findings) if f.severity is Severity.ERROR]
    if not errors and any(node.shape is None for node in analysis.nodes.values()):
        errors = [f for f in analysis.findings if f.severity is Severity.ERROR]
    if errors:
        raise SpecHasErrors(errors)
    if dtype not in DTYPES:
        raise ExecutionError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    numpy_dtype = DTYPES[dtype]
    itemsize = np.dtype(numpy_dtype).itemsize
    missing = [node.name for node in analysis.nodes.values()
               if node.family != "input" and not _has_forward(registry.types[node.type])]
    if missing:
        layer = analysis.spec.layer_by_name[missing[0]]
        raise ExecutionError(f"layer `{layer.name}` (line {layer.line}): layer type {layer.type} has no executor "
                             f"(its plugin `{registry.owners.get(layer.type, '?')}` defines no forward)")
    work = work_buffer_bytes(analysis, itemsize, chunk_bytes)
    peak = plan_memory(analysis, itemsize, keep_all) + work
    limit = memory_limit if memory_limit is not None else int(available_memory() * DEFAULT_MEMORY_FRACTION)
    if peak > limit:
        raise ExecutionError(f"this run needs about {format_bytes(peak)} (activations, parameters and a "
                             f"{format_bytes(work)} work buffer), over the limit of {format_bytes(limit)}; "
                             f"use a smaller batch or input, or raise the limit (--max-memory)")
    rng = np.random.default_rng(seed)
    given_inputs = dict(inputs or {})
    values: dict[str, np.ndarray | list[np.ndarray]] = {}  # a list for a layer with several outputs
    for name, decl in analysis.spec.inputs.items():
        array = given_inputs.get(name)
        shape = cast("tuple[int, ...]", decl.shape)  # an analysis to execute has every size a number
        values[name] = (_random_input(shape, rng, numpy_dtype) if array is None
                        else np.asarray(array, dtype=numpy_dtype))
    state, initialised = checked_parameters(analysis, registry, weights or {}, seed, numpy_dtype, chunk_bytes)
    graph = analysis.spec.graph
    remaining = {name: graph.out_degree(name) for name in analysis.nodes}
    outputs = set(analysis.spec.outputs)
    for name, node in analysis.nodes.items():
        if node.family == "input":
            continue
        layer_type, ctx = _context(analysis, registry, node, chunk_bytes)
        reads = [producer(source, values) for source in analysis.spec.layer_by_name[name].sources]
        arrays = [values[source] if index is None else values[source][index] for source, index in reads]
        result = _forward(registry, layer_type, ctx, node, arrays, state[name])
        results = [np.asarray(array) for array in result] if node.outputs is not None else [np.asarray(result)]
        for array, predicted in zip(results, node.all_outputs):
            if tuple(array.shape) != predicted:
                raise ExecutorBug(f"layer `{name}` ({node.type}) produced {format_shape(array.shape)} but the "
                                  f"linter predicted {format_shape(predicted)}: this is a bug in convlint or in "
                                  f"plugin `{registry.owners.get(node.type, '?')}`")
        results = [array.astype(numpy_dtype, copy=False) for array in results]
        values[name] = results if node.outputs is not None else results[0]
        for source in {source for source, _ in reads}:
            remaining[source] -= 1
            if remaining[source] == 0 and not keep_all and source not in outputs:
                del values[source]
    keep = [name for name in analysis.nodes if analysis.nodes[name].family != "input"] if keep_all \
        else analysis.spec.outputs
    return RunResult(_output_arrays(values, keep), initialised, peak)


def _output_arrays(values: dict, names: list[str]) -> dict[str, np.ndarray]:
    """The arrays of tensors ``names``; a layer with several outputs gives ``<name>.<k>`` for each."""
    arrays = {}
    for name in names:
        source, index = producer(name, values)
        value = values[source]
        if index is not None:
            arrays[name] = value[index]
        elif isinstance(value, list):
            arrays.update((f"{name}.{number}", array) for number, array in enumerate(value))
        else:
            arrays[name] = value
    return arrays


def forward_time_limit(macs: int | None) -> float:
    """Seconds one layer's ``forward`` may run: ten plugin time limits, plus one second per
    :data:`MACS_PER_SECOND_FLOOR` multiply-accumulates of the layer (a large layer legitimately takes
    longer than a shape check; a hang never ends)."""
    return 10 * PLUGIN_TIME_LIMIT + (macs or 0) / MACS_PER_SECOND_FLOOR


def _forward(registry, layer_type: LayerType, ctx: LayerContext, node: NodeInfo, arrays: list, state: dict):
    """``layer_type.forward`` run as a plugin call (its printing kept off stdout, stopped after
    :func:`forward_time_limit`); a fault or exception in it becomes an :class:`ExecutionError` naming
    the plugin and the layer."""
    owner = registry.owners.get(node.type, "?")
    where = f"layer `{node.name}` ({node.type}, line {ctx.layer.line}): plugin `{owner}`"
    try:
        with plugin_call(owner, forward_time_limit(node.macs)):
            return layer_type.forward(ctx, arrays, state)
    except PluginFault as fault:
        raise ExecutionError(f"{where} failed in forward: {fault}") from None
    except MemoryError:
        raise ExecutionError(f"{where} ran out of memory in forward") from None
    except Exception as error:
        raise ExecutionError(f"{where} failed in forward: {describe_error(error)}") from None


def _has_forward(layer_type: LayerType) -> bool:
    return type(layer_type).forward is not LayerType.forward


def run(spec, inputs: Mapping[str, np.ndarray] | None = None, weights: Mapping[str, np.ndarray] | str | Path | None = None,
        seed: int = 0, dtype: str = "float32", keep_all: bool = False, registry=None,
        memory_limit: int | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES, config=None) -> dict[str, np.ndarray]:
    """Run ``spec`` (a :class:`~convlint.spec.model.Spec` or a path) and return its outputs.

    ``inputs`` maps input names to arrays (missing ones are seeded standard-normal
    arrays of the declared shape; an array of another shape re-sizes the network);
    ``weights`` is a PyTorch-style state dict (``<layer>.weight``, ``<layer>.bias``,
    ``<layer>.running_mean``, ...) or the path of an ``.npz`` holding one; missing
    entries are initialised as PyTorch does, from ``seed``.  The spec is linted as ``convlint lint``
    lints it under ``config`` (configuration, noqa comments, budgets); one with errors is refused.  Returns a dict from
    output layer name (every layer with ``keep_all``) to ``numpy.ndarray``.
    Raises :class:`ExecutionError` (or its subclasses) with a clear message.
    """
    from convlint.analysis.loading import as_spec
    from convlint.layers.registry import default_registry

    spec = as_spec(spec)
    registry = registry or default_registry()
    arrays = {name: np.asarray(value) for name, value in (inputs or {}).items()}
    spec = with_input_shapes(spec, arrays)
    if isinstance(weights, (str, Path)):
        weights = load_weights(weights)
    checked = checked_numeric(spec, registry, config)
    return execute(checked.analysis, registry, arrays, weights, seed, dtype, keep_all, chunk_bytes, memory_limit,
                   checked.findings).outputs


def checked_numeric(spec: Spec, registry, config=None):
    """The lint pipeline's result (:func:`convlint.linting.runner.check_spec`) for a spec whose input
    sizes are all numbers, under ``config`` (a :class:`~convlint.linting.config.Config`; ``None``: none).

    Raises ``ValueError`` for a spec with named sizes (give numbers to run it).
    """
    from convlint.linting.runner import check_spec

    if spec.size_names:
        raise ValueError(f"{spec.path} has named input sizes ({', '.join(spec.size_names)}); "
                         f"give numbers to run it")
    return check_spec(spec, registry, config)


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """A state dict from an ``.npz`` file (``np.savez(path, **state_dict)``), refused before allocation
    when its arrays need more than half the available memory."""
    from convlint.execute.arrays_io import ArrayFileError, read_npz

    try:
        return read_npz(str(path), int(available_memory() * DEFAULT_MEMORY_FRACTION))
    except ArrayFileError as error:
        raise ExecutionError(str(error)) from None
