"""Shapes as exact functions of named input sizes, computed by each layer type's ``symbolic_shape``.

:func:`propagate` walks the graph like :mod:`convlint.analysis.infer`, but every
dimension is an ``int``, an :class:`~convlint.sizes.expr.Expr` (a quasi-affine
form in the size names) or a :class:`~convlint.sizes.expr.Product` (Flatten of
several varying sizes).  The arithmetic of each layer comes from its
:class:`~convlint.layers.layer_type.LayerType`: a type that ``preserves_shape``
passes its input on, any other type computes its output in
:meth:`~convlint.layers.layer_type.LayerType.symbolic_shape` from a
:class:`SymbolicLayer`, usually with the same functions of
:mod:`convlint.analysis.arithmetic` that its ``infer`` calls on integers.

Only sizes are computed here; which sizes are *valid* is decided by the
linter's own checks (see :mod:`convlint.sizes.solver`).  Besides the shapes,
each :class:`LayerRecord` keeps what the solver needs to know where a layer's
validity can still change: the values its checks compare a varying size with,
and the pairs of dimensions it compares with each other.

A layer whose output cannot be computed for a reason that does not depend on
the sizes (unknown type, bad keyword, wrong rank or arity) gets ``None``, as
do the layers after it.  A layer type whose arithmetic cannot be followed
raises :class:`Unsupported`.

A layer type with ``multiple_outputs`` returns a list of shapes from
``symbolic_shape``, as its ``infer`` does; a layer reading ``name.k`` gets output
``k`` (resolved by :func:`convlint.analysis.graph.producer`, as in inference).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from convlint.analysis.graph import dependency_order, producer
from convlint.analysis.keyword_cache import KeywordCache
from convlint.layers.registry import Registry
from convlint.sizes.expr import Expr, NotAffine, Product, names_of
from convlint.spec.model import Layer, Spec


class Unsupported(Exception):
    """The sizes of a layer cannot be followed exactly (unknown arithmetic, a non-affine comparison,
    or more work than the solver's budget).

    ``layer`` is the :class:`~convlint.spec.model.Layer` at fault, when there is one.
    """

    def __init__(self, message: str, layer=None):
        super().__init__(message)
        self.layer = layer


@dataclass
class LayerRecord:
    """What one layer's symbolic arithmetic found.

    ``inputs``: the shapes it reads (``None`` where one is unknown: the layer is then never
    sized); ``output``: its shape (``None`` when it fails at
    every size); ``bounds``: ``(dim, c)`` for each check that compares a varying
    ``dim`` with the integer ``c``; ``pairs``: ``(a, b)`` for two dims the layer needs
    equal (a merge); ``ordered``: ``(a, b)`` for two dims a check orders (a crop's
    input and target); ``tracked``: other
    forms its checks read (a channel count divided by ``groups``); ``outputs``: every
    output of a layer with several (``output`` is then the first, as in inference).
    """

    layer: Layer
    inputs: Sequence[tuple | None]
    output: tuple | None = None
    bounds: list[tuple[Expr | Product, int]] = field(default_factory=list)
    pairs: list[tuple[int | Expr, int | Expr]] = field(default_factory=list)
    ordered: list[tuple[int | Expr, int | Expr]] = field(default_factory=list)
    tracked: list[object] = field(default_factory=list)
    outputs: list[tuple] | None = None

    @property
    def all_outputs(self) -> list[tuple]:
        """Every output shape this layer makes (none when it fails at every size)."""
        if self.outputs is not None:
            return self.outputs
        return [] if self.output is None else [self.output]


class SymbolicLayer:
    """What a layer type sees of one layer while computing its shape from named sizes.

    ``args`` are the converted keyword arguments (as in
    :class:`~convlint.layers.layer_type.LayerContext`), ``inputs`` the shapes read,
    each dim an ``int``, an :class:`~convlint.sizes.expr.Expr` or a
    :class:`~convlint.sizes.expr.Product`; ``ndim`` the number of spatial axes.
    """

    def __init__(self, layer: Layer, args: dict, inputs: list[tuple], ndim: int):
        self.layer = layer
        self.args = args
        self.inputs = inputs
        self.ndim = ndim
        self.record = LayerRecord(layer, inputs)

    @property
    def input(self) -> tuple:
        """The first (usually only) input shape."""
        return self.inputs[0]

    def compare(self, dim, declared) -> None:
        """Record that the layer's checks compare ``dim`` with ``declared`` (``==``, ``<`` or ``≤``).

        ``declared`` is an int (a kernel span, a declared ``in_features``; ``None``
        records nothing) or another dim (a crop target taken from a second input).
        The solver then follows ``dim`` until the comparison no longer changes.
        """
        if declared is None:
            return
        if isinstance(declared, int):
            if varies(dim):
                self.record.bounds.append((dim, declared))
        else:
            self._pair(self.record.ordered, dim, declared)

    def require_equal(self, a, b) -> None:
        """Record that the layer fails unless dims ``a`` and ``b`` are equal (a merge)."""
        self._pair(self.record.pairs, a, b)

    def _pair(self, pairs: list, a, b) -> None:
        if not (varies(a) or varies(b)):
            return
        if isinstance(a, Product) or isinstance(b, Product):
            if a is not b:
                self.unsupported("compares flattened sizes that are not affine")
            return
        pairs.append((a, b))

    def track(self, form) -> None:
        """Record a form the layer's checks read besides its shapes (``channels // groups``)."""
        if isinstance(form, Product):
            self.unsupported("divides a flattened size that is not affine")
        if varies(form):
            self.record.tracked.append(form)

    def unsupported(self, why: str):
        """Stop: the sizes of this layer cannot be followed, for the reason ``why``."""
        raise Unsupported(f"layer `{self.layer.name}`: {why}", self.layer)


@dataclass
class Propagation:
    """Shapes of every node, and each layer's :class:`LayerRecord`, in topological order.

    A layer with an input that is never sized (after a layer that fails at every
    size) has a record with ``output`` ``None``, for its size-independent checks.
    ``outputs``: every output of each layer with several (``shapes`` holds its first).
    """

    shapes: dict[str, tuple | None] = field(default_factory=dict)
    records: list[LayerRecord] = field(default_factory=list)
    outputs: dict[str, list[tuple]] = field(default_factory=dict)
    equalities: list[tuple[Layer, object, object]] = field(default_factory=list)
    """``(layer, kept, replaced)``: two dims in different names that ``layer`` requires equal, when
    :func:`propagate` unifies them (``replaced`` then reads as ``kept`` from that layer on)."""

    def shape_of(self, source: str) -> tuple | None:
        """The shape tensor ``source`` (a node, or ``name.k`` of a layer with several outputs) has,
        ``None`` where it has none (not sized, or an output the layer does not make)."""
        name, index = producer(source, self.shapes)
        pieces = self.outputs.get(name)
        if pieces is None:
            return self.shapes.get(name) if index is None else None
        return pieces[index] if index is not None and index < len(pieces) else None


def varies(dim) -> bool:
    """True for a dim that depends on some input size."""
    return isinstance(dim, Product) or (isinstance(dim, Expr) and not dim.is_constant)


def constant(dim) -> "int | Expr | Product":
    """An :class:`Expr` without names as a plain int; other dims unchanged."""
    return dim.const if isinstance(dim, Expr) and dim.is_constant else dim


def propagate(spec: Spec, registry: Registry, inputs: dict[str, tuple], unify: list[str] | None = None) -> Propagation:
    """Shapes of every node of ``spec`` when input ``name`` has the dims ``inputs[name]``.

    ``unify``: size names, most preferred first.  A layer that requires two dims in
    different single names equal (a merge of branches from two inputs) then sees
    both as the one in the preferred name, and so do the layers after it; the pair
    is kept in :attr:`Propagation.equalities`.  Without it, the pair stays in the
    layer's record and the layer fails wherever the two differ.
    """
    order = dependency_order(spec) or []  # a cycle: no layer is followed
    nodes = spec.wiring.nodes
    result = Propagation()
    keywords = KeywordCache()
    for name in order:
        data = nodes[name]
        if data["kind"] == "input":
            result.shapes[name] = inputs.get(name)
            continue
        layer: Layer = data["decl"]
        sources = [result.shape_of(source) for source in layer.sources]
        known = [source for source in sources if source is not None]
        if not sources or len(known) < len(sources):
            record = LayerRecord(layer, sources)  # never sized: only its size-independent checks run
        else:
            record = _layer_record(layer, registry, known, keywords)
            if unify is not None:
                record = _unified(record, layer, registry, keywords, unify, result.equalities)
        result.records.append(record)
        shape = record.output
        result.shapes[name] = None if shape is None else tuple(constant(dim) for dim in shape)
        if record.outputs is not None:
            result.outputs[name] = [tuple(constant(dim) for dim in output) for output in record.outputs]
    return result


def _unified(record: LayerRecord, layer: Layer, registry: Registry, keywords: KeywordCache, order: list[str],
             equalities: list) -> LayerRecord:
    """``record`` again, its inputs rewritten so that each group of dims it requires equal across different
    single names reads as the group's dim in the earliest name of ``order``."""
    def rank(form) -> int:
        [name] = names_of(form)
        return order.index(name) if name in order else len(order)

    groups: dict = {}  # form → the forms it is required equal to, transitively (a small union-find)
    for a, b in record.pairs:
        names_a, names_b = names_of(a), names_of(b)
        if len(names_a) == 1 and len(names_b) == 1 and names_a != names_b:
            merged = groups.get(a, {a}) | groups.get(b, {b})
            for form in merged:
                groups[form] = merged
    if not groups:
        return record
    replace = {}
    for form, group in groups.items():
        kept = min(group, key=lambda item: (rank(item), str(item)))
        if form != kept:
            replace[form] = kept
            equalities.append((layer, kept, form))
    inputs = [tuple(replace.get(dim, dim) for dim in shape) for shape in record.inputs if shape is not None]
    return _layer_record(layer, registry, inputs, keywords)


def _args(layer: Layer, layer_type, ndim: int, keywords: KeywordCache) -> dict | None:
    """The converted keyword arguments, or ``None`` when one is missing, unknown or wrong."""
    defaults, required = keywords.defaults(layer_type, ndim)
    if any(key not in layer.kwargs for key in required) or any(key not in layer_type.keywords for key in layer.kwargs):
        return None
    args = dict(defaults)
    for key, value in layer.kwargs.items():
        args[key], problem = keywords.convert(layer_type.keywords[key], value, ndim)
        if problem is not None:
            return None
    return args


def _layer_record(layer: Layer, registry: Registry, inputs: list[tuple], keywords: KeywordCache) -> LayerRecord:
    """The layer's record; its ``output`` is ``None`` when it fails at every size before its arithmetic is asked."""
    refused = LayerRecord(layer, inputs)
    layer_type = registry.types.get(layer.type) if layer.type else None
    if layer_type is None:
        return refused
    count = len(inputs)
    if count < layer_type.min_inputs or (layer_type.max_inputs is not None and count > layer_type.max_inputs):
        return refused
    rank = len(inputs[0])
    if layer_type.input_ranks is not None and rank not in layer_type.input_ranks:
        return refused
    ndim = layer_type.spatial_dims if layer_type.spatial_dims is not None else max(rank - 2, 0)
    args = _args(layer, layer_type, ndim, keywords)
    if args is None:
        return refused
    symbolic = SymbolicLayer(layer, args, inputs, ndim)
    try:
        shape = layer_type.symbolic_shape(symbolic)
    except Unsupported:
        raise
    except NotAffine as error:
        raise Unsupported(f"layer `{layer.name}`: {error}", layer) from None
    except Exception as error:  # a plugin's fault: the solver cannot follow that layer
        raise Unsupported(f"layer `{layer.name}`: symbolic_shape of {layer.type} failed: "
                          f"{type(error).__name__}", layer) from None
    if shape is not None and layer_type.multiple_outputs:
        symbolic.record.outputs = [tuple(output) for output in shape]
        shape = symbolic.record.outputs[0] if symbolic.record.outputs else None
    symbolic.record.output = None if shape is None else tuple(shape)
    return symbolic.record
