"""Shapes as exact functions of named input sizes, for the built-in layer types.

:func:`propagate` walks the graph like :mod:`convlint.analysis.infer`, but every
dimension is an ``int``, an :class:`~convlint.sizes.expr.Expr` (a quasi-affine
form in the size names) or a :class:`~convlint.sizes.expr.Product` (Flatten of
several varying sizes).  Window and transposed layers call the same functions
of :mod:`convlint.analysis.arithmetic` as the plugins, with forms instead of ints.

Only sizes are computed here; which sizes are *valid* is decided by the
linter itself (see :mod:`convlint.sizes.solver`).  Besides the shapes,
:class:`Propagation` records what the solver needs to bound the sizes where
validity can still change: the constants that layer checks compare a varying
size with, and the pairs of dimensions that Concat and Add require equal.

A layer whose output cannot be computed for a reason that does not depend on
the sizes (unknown type, bad keyword, wrong rank or arity, merged channel
counts that differ) gets ``None``, as do the layers after it.  A layer type whose arithmetic this module does not
know raises :class:`Unsupported`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

import networkx as nx

from convlint.analysis.arithmetic import WindowAxis, same_padding, transposed_out
from convlint.layers.keywords import KeywordError
from convlint.layers.registry import Registry
from convlint.sizes.expr import Expr, Product, multiply, scaled_floor
from convlint.spec.model import Layer, Spec

CONV = re.compile(r"^Conv([123])d$")
POOL = re.compile(r"^(Max|Avg)Pool([123])d$")
TRANSPOSED = re.compile(r"^ConvTranspose([123])d$")
ADAPTIVE = re.compile(r"^Adaptive(Avg|Max)Pool([123])d$")
SHAPE_PRESERVING = frozenset(
    ["ReLU", "ReLU6", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU", "Hardswish", "Softmax", "Dropout",
     "Dropout1d", "Dropout2d", "Dropout3d", "Identity", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"])
MAX_SCALE_DENOMINATOR = 1024


class Unsupported(Exception):
    """The sizes of a layer cannot be followed exactly (unknown arithmetic or a non-affine comparison).

    ``layer`` is the :class:`~convlint.spec.model.Layer` at fault, when there is one.
    """

    def __init__(self, message: str, layer=None):
        super().__init__(message)
        self.layer = layer


@dataclass
class Propagation:
    """Shapes of every node, plus what layer checks compare varying sizes with.

    ``shapes``: node name → tuple of dims, or ``None``.  ``bounds``: constants
    ``c`` such that a window check compares some varying spatial size with
    ``c`` (``size ≥ span``, ``size > padding``).  ``compared``: ``(dim, c)``
    for a declared size ``c`` that one dim must equal (``in_features``).
    ``pairs``: ``(layer, a, b)`` for each pair of dims that a merge requires equal.
    """

    shapes: dict[str, tuple | None] = field(default_factory=dict)
    bounds: list[int] = field(default_factory=list)
    compared: list[tuple[object, int]] = field(default_factory=list)
    pairs: list[tuple[str, object, object]] = field(default_factory=list)


def varies(dim) -> bool:
    """True for a dim that depends on some input size."""
    return isinstance(dim, Product) or (isinstance(dim, Expr) and not dim.is_constant)


def constant(dim) -> "int | Expr | Product":
    """An :class:`Expr` without names as a plain int; other dims unchanged."""
    return dim.const if isinstance(dim, Expr) and dim.is_constant else dim


def propagate(spec: Spec, registry: Registry, inputs: dict[str, tuple]) -> Propagation:
    """Shapes of every node of ``spec`` when input ``name`` has the dims ``inputs[name]``."""
    graph = spec.graph
    result = Propagation()
    order = list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else []
    for name in order:
        data = graph.nodes[name]
        if data["kind"] == "input":
            result.shapes[name] = inputs.get(name)
            continue
        layer: Layer = data["decl"]
        sources = [result.shapes.get(source) for source in layer.sources]
        shape = None
        if sources and all(source is not None for source in sources):
            shape = _layer_shape(layer, registry, sources, result)
        result.shapes[name] = None if shape is None else tuple(constant(dim) for dim in shape)
    return result


def _args(layer: Layer, layer_type, ndim: int) -> dict | None:
    args = {}
    for key, keyword in layer_type.keywords.items():
        if key not in layer.kwargs:
            if keyword.required:
                return None
            args[key] = None if keyword.default is None else keyword.convert(keyword.default, ndim)
        else:
            try:
                args[key] = keyword.convert(layer.kwargs[key], ndim)
            except KeywordError:
                return None
    if any(key not in layer_type.keywords for key in layer.kwargs):
        return None
    return args


def _layer_shape(layer: Layer, registry: Registry, inputs: list[tuple], found: Propagation):
    layer_type = registry.types.get(layer.type) if layer.type else None
    if layer_type is None:
        return None
    count = len(inputs)
    if count < layer_type.min_inputs or (layer_type.max_inputs is not None and count > layer_type.max_inputs):
        return None
    rank = len(inputs[0])
    if layer_type.input_ranks is not None and rank not in layer_type.input_ranks:
        return None
    ndim = layer_type.spatial_dims if layer_type.spatial_dims is not None else max(rank - 2, 0)
    args = _args(layer, layer_type, ndim)
    if args is None:
        return None
    name, shape = layer.type, inputs[0]
    if name in SHAPE_PRESERVING:
        return _preserving(name, args, shape, found)
    if CONV.match(name):
        return _conv(args, shape, found)
    if POOL.match(name):
        return _pool(args, shape, found)
    if TRANSPOSED.match(name):
        return _transposed(args, shape)
    if ADAPTIVE.match(name):
        return (*shape[:2], *(size if target is None else target
                              for size, target in zip(shape[2:], args["output_size"])))
    if name == "Upsample":
        return _upsample(layer, args, shape)
    if name == "Linear":
        _compare(found, shape[-1], args["in_features"])
        return (*shape[:-1], args["out_features"])
    if name == "Flatten":
        return _flatten(args, shape)
    if name in ("Concat", "Add"):
        return _merge(layer, args, inputs, found)
    raise Unsupported(f"layer `{layer.name}`: the size arithmetic of {name} is not known to the solver", layer)


def _compare(found: Propagation, dim, declared) -> None:
    """Record a check ``dim == declared`` (declared may be ``None``: nothing is checked)."""
    if declared is not None and varies(dim):
        found.compared.append((dim, declared))


def _preserving(name: str, args: dict, shape: tuple, found: Propagation):
    if name.startswith("BatchNorm"):
        _compare(found, shape[1], args["num_features"])
    if name == "Softmax" and args["dim"] is not None and not -len(shape) <= args["dim"] < len(shape):
        return None
    return shape


def _conv(args: dict, shape: tuple, found: Propagation):
    batch, channels, *spatial = shape
    padding = args["padding"]
    if padding == "valid":
        pads = [(0, 0)] * len(spatial)
    elif padding == "same":
        if any(s != 1 for s in args["stride"]):
            return None
        pads = [same_padding(k, d) for k, d in zip(args["kernel_size"], args["dilation"])]
    else:
        pads = [(p, p) for p in padding]
        if args["padding_mode"] in ("reflect", "circular"):
            found.bounds.extend(p + 1 for size, p in zip(spatial, padding) if varies(size))
    sizes = []
    for size, k, s, (left, right), d in zip(spatial, args["kernel_size"], args["stride"], pads, args["dilation"]):
        axis = WindowAxis(size, k, s, left, right, d)
        if varies(size):
            found.bounds.append(axis.span)
        sizes.append(axis.out)
    return (batch, args["out_channels"], *sizes)


def _pool(args: dict, shape: tuple, found: Propagation):
    batch, channels, *spatial = shape
    kernel = args["kernel_size"]
    stride = args["stride"] or kernel
    dilation = args.get("dilation", (1,) * len(kernel))
    if any(p > k // 2 for k, p in zip(kernel, args["padding"])):
        return None
    sizes = []
    for size, k, s, p, d in zip(spatial, kernel, stride, args["padding"], dilation):
        axis = WindowAxis(size, k, s, p, p, d, args["ceil_mode"])
        if varies(size):
            found.bounds.append(axis.span)
        sizes.append(axis.out)
    return (batch, channels, *sizes)


def _transposed(args: dict, shape: tuple):
    batch, channels, *spatial = shape
    sizes = []
    for size, k, s, p, d, op in zip(spatial, args["kernel_size"], args["stride"], args["padding"],
                                    args["dilation"], args["output_padding"]):
        if op >= s and op >= d:
            return None
        sizes.append(transposed_out(size, k, s, p, d, op))
    return (batch, args["out_channels"], *sizes)


def _upsample(layer: Layer, args: dict, shape: tuple):
    if (args["size"] is None) == (args["scale_factor"] is None):
        return None
    batch, channels, *spatial = shape
    if args["size"] is not None:
        return (batch, channels, *args["size"])
    sizes = []
    for size, scale in zip(spatial, args["scale_factor"]):
        if not varies(size):
            sizes.append(math.floor(size * scale))
            continue
        ratio = Fraction(scale)
        if ratio.denominator > MAX_SCALE_DENOMINATOR or ratio < 0 or isinstance(size, Product):
            raise Unsupported(f"layer `{layer.name}`: scale_factor {scale} is not a simple fraction", layer)
        sizes.append(scaled_floor(size, ratio.numerator, ratio.denominator))
    return (batch, channels, *sizes)


def _flatten(args: dict, shape: tuple):
    rank = len(shape)
    start, end = args["start_dim"], args["end_dim"]
    if not (-rank <= start < rank and -rank <= end < rank) or start % rank > end % rank:
        return None
    start, end = start % rank, end % rank
    return (*shape[:start], multiply(list(shape[start:end + 1])), *shape[end + 1:])


def _merge(layer: Layer, args: dict, inputs: list[tuple], found: Propagation):
    first = inputs[0]
    if any(len(shape) != len(first) for shape in inputs):
        return None
    axis = None
    if layer.type == "Concat":
        if not -len(first) <= args["dim"] < len(first):
            return None
        axis = args["dim"] % len(first)
    for shape in inputs[1:]:
        for index, (a, b) in enumerate(zip(first, shape)):
            if index == axis:
                continue
            if isinstance(a, int) and isinstance(b, int) and a != b:
                return None  # e.g. different channel counts: a mismatch at every size
            if isinstance(a, Product) or isinstance(b, Product):
                if a is not b:
                    raise Unsupported(f"layer `{layer.name}`: compares flattened sizes that are not affine", layer)
                continue
            found.pairs.append((layer.name, a, b))
    if axis is None:
        return first
    parts = [shape[axis] for shape in inputs]
    if any(isinstance(part, Product) for part in parts):
        raise Unsupported(f"layer `{layer.name}`: concatenates flattened sizes that are not affine", layer)
    total = sum(parts[1:], parts[0])
    return (*first[:axis], total, *first[axis + 1:])
