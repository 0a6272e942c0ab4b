"""The interface a plugin implements for one layer type.

A layer type is one object: its ``name`` (the ``type:`` written in specs,
the torch.nn class name), the keywords it accepts, how it computes its
output shape and parameter count, and the findings it reports on the way.
Shapes are tuples of ints: ``(N, C, *spatial)`` for feature maps,
``(N, features)`` for vectors.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from convlint.findings import Finding, Fix
from convlint.layers.keywords import Keyword
from convlint.rules import RULES, Rule
from convlint.spec.model import Layer

Shape = tuple[int, ...]


class LayerContext:
    """What a layer type sees of one layer while inferring its shape.

    ``inputs`` are the shapes of the tensors it reads, in ``from`` order;
    ``args`` are its keyword arguments, checked and with defaults filled in
    (per-axis keywords as tuples of ``ndim`` ints); ``ndim`` is the number of
    spatial axes.  ``chunk_bytes`` bounds the temporary buffers of one ``forward`` call.
    """

    chunk_bytes: int = 256 * 10**6

    def __init__(self, layer: Layer, inputs: list[Shape], args: dict[str, Any], ndim: int, path: str,
                 rules: Mapping[str, Rule] = RULES):
        self.layer = layer
        self.rules = rules
        self.inputs = inputs
        self.args = args
        self.ndim = ndim
        self.path = path
        self.findings: list[Finding] = []
        self.source_layers: list[Layer | None] = []
        """The layers named in ``from`` (``None`` for a network input), to suggest fixes upstream."""

    @property
    def input(self) -> Shape:
        """The shape of the first (usually only) input."""
        return self.inputs[0]

    @property
    def has_errors(self) -> bool:
        """True once an error-severity finding was reported for this layer."""
        return any(finding.severity.value == "error" for finding in self.findings)

    def written(self, key: str) -> bool:
        """True when the spec writes ``key`` for this layer (rather than taking the default)."""
        return key in self.layer.kwargs

    def report(self, code: str, message: str, key: str | None = None, fix: Fix | None = None,
               help: str | None = None) -> None:
        """Record a finding with ``code``, placed at ``key``'s line when the layer writes it, with an
        optional structured ``fix`` or ``help`` text of its own."""
        line, column = self.layer.position_of(key)
        self.findings.append(Finding(code, self.rules[code].severity, message, self.path, line, column,
                                     self.layer.name, fix, help))


class LayerType:
    """Base class of a layer type; plugins subclass it and register instances.

    Class attributes a subclass sets:

    - ``name``: the type name used in specs (e.g. ``"Conv2d"``).
    - ``family``: a grouping used in summaries and diagrams: ``conv``, ``pool``,
      ``transposed``, ``norm``, ``activation``, ``linear``, ``merge``, ``reshape``,
      ``resample`` or ``other``.
    - ``keywords``: keyword name → :class:`~convlint.layers.keywords.Keyword`.
    - ``spatial_dims``: 1, 2 or 3 for a fixed dimensionality, ``None`` to take it
      from the input's rank minus 2.
    - ``input_ranks``: accepted input ranks, or ``None`` for any.
    - ``min_inputs`` / ``max_inputs``: how many tensors it reads (``None`` = no limit).
    """

    name: str = ""
    family: str = "other"
    keywords: Mapping[str, Keyword] = {}
    spatial_dims: int | None = None
    input_ranks: tuple[int, ...] | None = None
    min_inputs: int = 1
    max_inputs: int | None = 1

    def infer(self, ctx: LayerContext) -> Shape | None:
        """Return the output shape, or ``None`` after reporting an error with ``ctx.report``."""
        raise NotImplementedError

    buffers: tuple[str, ...] = ()
    """Entries of :meth:`parameter_shapes` that are buffers (``running_mean``), not parameters."""

    def count_params(self, ctx: LayerContext, output: Shape) -> int:
        """Number of learnable parameters (sum of ``p.numel()`` in PyTorch): the entries of
        :meth:`parameter_shapes` that are not :attr:`buffers`."""
        return sum(math.prod(shape) for key, shape in self.parameter_shapes(ctx).items() if key not in self.buffers)

    def parameter_shapes(self, ctx: LayerContext) -> dict[str, Shape]:
        """The layer's state-dict entries and their shapes, named as PyTorch names them
        (``weight``, ``bias``, ``running_mean``, ``running_var``); buffers included."""
        return {}

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        """Arrays for every entry of :meth:`parameter_shapes`, initialised as PyTorch initialises
        the ``torch.nn`` class of this type's name, drawn from ``rng`` (a ``numpy.random.Generator``).
        A plugin type with parameters that PyTorch does not define overrides this."""
        from convlint.execute.kernels.init import default_parameters
        return default_parameters(self.name, self.parameter_shapes(ctx), rng)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        """Run the layer in inference mode on NumPy arrays.

        ``inputs`` are the arrays read (shapes ``ctx.inputs``), ``params`` the arrays of
        :meth:`parameter_shapes`; returns the output array.  A type that does not override
        this cannot be executed (``convlint run`` says so, naming the layer).
        """
        raise NotImplementedError

    def count_macs(self, ctx: LayerContext, output: Shape) -> int:
        """Multiply-accumulates of one forward pass over the whole batch (``output`` is the output shape).

        Convention (fvcore's): one MAC per kernel tap per output element, bias
        additions not counted.  Layers without weights count 0.
        """
        return 0

    def input_spans(self, ctx: LayerContext, axis: int, position: int) -> list[tuple[int, int] | None] | None:
        """Which input positions output ``position`` reads along spatial ``axis`` (0 = first spatial axis).

        One ``(first, last)`` index pair per input (indices may fall in the padding,
        below 0 or past the end), or ``None`` for an input whose values this output
        does not read.  Returning ``None`` instead of a list means "unknown": no
        receptive field is reported for this layer or anything after it.
        """
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
