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

from convlint.execute.memory import DEFAULT_CHUNK_BYTES
from convlint.analysis.arithmetic import TransposedAxis, WindowAxis
from convlint.findings import Finding, Fix
from convlint.layers.keywords import Keyword
from convlint.rules import RULES, Rule
from convlint.spec.model import Layer

Shape = tuple[int, ...]

FAMILIES = ("conv", "pool", "transposed", "norm", "activation", "dropout", "linear", "merge", "reshape", "resample",
            "other")
"""The values of :attr:`LayerType.family`.  A family only groups layers for people: it picks the
fill colour of a layer's box in diagrams and its legend entry; an unknown family is drawn as ``other``."""

DIAGRAM_ROLES = ("box", "fold", "merge", "concat", "crop")
"""The values of :attr:`LayerType.diagram_role`."""


class LayerContext:
    """What a layer type sees of one layer while inferring its shape.

    ``inputs`` are the shapes of the tensors it reads, in ``from`` order;
    ``args`` are its keyword arguments, checked and with defaults filled in
    (per-axis keywords as tuples of ``ndim`` ints); ``ndim`` is the number of
    spatial axes.  ``chunk_bytes`` bounds the temporary buffers of one ``forward`` call.
    """

    chunk_bytes: int = DEFAULT_CHUNK_BYTES

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


def state_key(layer: str, entry: str) -> str:
    """The state-dict key of entry ``entry`` of :meth:`LayerType.parameter_shapes` of layer ``layer``:
    ``conv1.weight``, or ``layer`` itself for the entry ``""``."""
    return f"{layer}.{entry}" if entry else layer


class LayerType:
    """Base class of a layer type; plugins subclass it and register instances.

    Class attributes a subclass sets:

    - ``name``: the type name used in specs (e.g. ``"Conv2d"``).
    - ``family``: one of :data:`FAMILIES` (``conv``, ``pool``, ``transposed``, ``norm``,
      ``activation``, ``dropout``, ``linear``, ``merge``, ``reshape``, ``resample`` or ``other``);
      it picks the colour of the layer's box in diagrams.
    - ``keywords``: keyword name → :class:`~convlint.layers.keywords.Keyword`.
    - ``spatial_dims``: 1, 2 or 3 for a fixed dimensionality, ``None`` to take it
      from the input's rank minus 2.
    - ``input_ranks``: accepted input ranks, or ``None`` for any.
    - ``min_inputs`` / ``max_inputs``: how many tensors it reads (``None`` = no limit).
    - ``buffers``: entries of :meth:`parameter_shapes` that are buffers, not parameters.
    - ``diagram_role``: how diagrams draw it, one of :data:`DIAGRAM_ROLES` (see the attribute).
    - ``preserves_shape``: True when the output shape always equals the first input's
      (activations, norms, dropout, identity); the size solver then passes sizes through.
    - ``multiple_outputs``: True for a layer that makes several tensors (``Split``):
      its ``infer`` returns a list of shapes, its ``forward`` a list of arrays, and
      other layers read output ``k`` of layer ``name`` as ``from: name.k``.

    Methods a subclass implements: :meth:`infer` (always), :meth:`parameter_shapes` and
    :meth:`initial_parameters` (layers with weights), :meth:`forward` (to run), :meth:`count_macs`,
    :meth:`input_spans` (receptive fields) and :meth:`label` (diagrams) where the defaults do not fit.

    Named input sizes (``convlint sizes``, and ``lint`` of a spec such as
    ``image: [N, 3, H, W]``) need each layer's output as a function of its input
    sizes: see :meth:`symbolic_shape`.
    """

    name: str = ""
    family: str = "other"
    keywords: Mapping[str, Keyword] = {}
    spatial_dims: int | None = None
    input_ranks: tuple[int, ...] | None = None
    min_inputs: int = 1
    max_inputs: int | None = 1
    multiple_outputs: bool = False
    preserves_shape: bool = False

    def symbolic_shape(self, layer: Any):
        """The output shape when input sizes may be expressions of named sizes.

        ``layer`` (:class:`convlint.sizes.symbolic.SymbolicLayer`) gives ``args`` (the
        converted keywords, as in ``infer``), ``inputs`` (the input shapes; each dim an
        ``int``, an :class:`~convlint.sizes.expr.Expr` or a
        :class:`~convlint.sizes.expr.Product`) and ``ndim``.  Return a tuple of such
        dims, computed with the same arithmetic as :meth:`infer`: ``Expr`` supports
        ``+``, ``-``, ``*`` by an int and ``//`` by a positive int, so the functions of
        :mod:`convlint.analysis.arithmetic` work on it unchanged.  Return ``None`` when
        the layer fails at every size for a reason that does not depend on them (a
        keyword combination ``infer`` refuses).  A type with :attr:`multiple_outputs`
        returns a list of shapes, as its ``infer`` does; ``name.k`` then reads shape ``k``.

        The solver decides validity with :meth:`infer` itself, at sizes it chooses; to
        choose them it must know every quantity ``infer``'s checks read besides the
        input and output shapes.  Record them:

        - ``layer.compare(dim, value)``: a check compares ``dim`` with an int (a kernel
          span, a declared ``in_features``) or with another dim (a crop target);
        - ``layer.require_equal(a, b)``: a check needs two dims equal (a merge);
        - ``layer.track(form)``: a check reads another form (``channels // groups``);
        - ``layer.unsupported(why)``: the arithmetic cannot be followed (raises).

        Default: the first input's shape when :attr:`preserves_shape`, else unsupported,
        naming the type.
        """
        if self.preserves_shape:
            return layer.inputs[0]
        layer.unsupported(f"{self.name} gives no symbolic_shape, so its output size cannot be followed "
                          f"as a function of the named sizes")

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
        (``weight``, ``bias``, ``running_mean``, ``running_var``); buffers included.
        The entry ``""`` is a bare parameter whose state-dict key is the layer's own name
        (torchvision's ``features.1.0.layer_scale``); see :func:`state_key`."""
        return {}

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        """NumPy arrays for every entry of :meth:`parameter_shapes`, keyed alike, drawn from ``rng`` (a
        ``numpy.random.Generator``) as PyTorch initialises the layer: :func:`convlint.execute.kernels.init.kaiming_uniform`
        for a conv or linear weight and bias, :func:`~convlint.execute.kernels.init.constant_parameters` for a norm.

        Used by ``convlint run`` for the entries no weights file gives.  The default: nothing for a
        type without parameters; a type with parameters must override it.
        """
        shapes = self.parameter_shapes(ctx)
        if shapes:
            raise ValueError(f"layer type `{self.name}` does not say how to initialise {', '.join(shapes)}; "
                             f"give them in a weights file")
        return {}

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

    diagram_role: str = "box"
    """How ``convlint render`` draws a layer of this type, one of :data:`DIAGRAM_ROLES`:

    - ``"box"``: a box of its own (convolutions, pools, most layers);
    - ``"fold"``: inside the box of the layer it follows, when that layer feeds nothing else
      (norms, activations, dropout: ``Conv2d`` with ``+ BatchNorm2d`` and ``+ ReLU`` below it);
    - ``"merge"``: a small ellipse joining its inputs, in any order (``Add``);
    - ``"concat"``: a merge whose input order matters: its edges are numbered, and skip
      connections into concats that nest lay the diagram out as a U (``Concat``);
    - ``"crop"``: its second input only gives a size (``CenterCrop``'s ``like``), drawn dashed.
    """

    def label(self, args: Mapping[str, Any]) -> str:
        """The key arguments in the short form diagrams show next to the type name (``3×3 s2 p1``).

        ``args`` are the converted arguments, or for a layer that could not be checked the
        values as written.  The default reads the usual ``torch.nn`` keyword names
        (:func:`convlint.render.labels.args_label`); a type overrides it to show its own.
        """
        from convlint.render.labels import args_label
        return args_label(args)

    def window_axes(self, ctx: LayerContext) -> "list[WindowAxis | TransposedAxis] | None":
        """The sliding window along each spatial axis (first spatial axis first), for drawings such as
        ``convlint animate``: a :class:`~convlint.analysis.arithmetic.WindowAxis` per axis for a layer
        whose output cell ``o`` reads the taps ``o·stride − pad_left + t·dilation`` (conv, pool), a
        :class:`~convlint.analysis.arithmetic.TransposedAxis` per axis for one whose input cells stamp
        the kernel onto the output.  ``None`` (the default): the layer has no such window.
        """
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # ---- Import: turning ONNX nodes and torch modules into layers of this type (convlint import) ----
    # See convlint.importing: the importers ask every registered type, never a table of type names.

    onnx_ops: tuple[str, ...] = ()
    """The ONNX operator types (``"Conv"``, ``"Relu"``) that :meth:`from_onnx` may import as this type."""

    onnx_patterns: tuple[str, ...] = ()
    """ONNX operator types at which a pattern of several nodes that this type imports starts (``GELU``'s
    ``Div`` by √2 before opset 20): :meth:`from_onnx` is offered such a node before the types of
    :attr:`onnx_ops` are, so that the pattern is found before its first node imports on its own, and
    answers with the rest of the pattern in ``absorbs`` (or ``None`` where the node starts no pattern)."""

    onnx_fallback: bool = False
    """True for the one stand-in type that keeps an imported graph connected where no type imports a node
    (or a module): its keywords are ``op``, ``node`` and ``shape`` (see :meth:`from_onnx`)."""

    def from_onnx(self, node: Any) -> Any:
        """The layer an ONNX ``node`` (:class:`convlint.importing.onnx_node.OnnxNode`) becomes, as an
        :class:`~convlint.importing.onnx_node.Imported` (keywords, parameter arrays keyed by the entries of
        :meth:`parameter_shapes`, which node inputs are data), or ``None`` when this type does not fit the
        node (another rank, attributes it cannot express).  Only called for ops in :attr:`onnx_ops` and
        :attr:`onnx_patterns`.

        Default: no keywords and no parameters, for a type whose spatial rank (if fixed) is the node's.
        """
        from convlint.importing.onnx_node import Imported
        if self.spatial_dims is not None and node.ndim != self.spatial_dims:
            return None
        return Imported({})

    torch_functions: tuple[str, ...] = ()
    """Functional calls this type stands for, as qualified names of the callables
    (``"torch.nn.functional.relu"``, ``"torch.cat"``, ``"operator.add"``), for ``convlint import --torch``."""

    import_omits: tuple[str, ...] = ()
    """Keywords an importer leaves out because convlint infers them (``in_channels``)."""

    def from_torch(self, module: Any) -> dict[str, Any]:
        """The keywords of ``module``, a ``torch.nn`` module whose class is named like this type.

        Default: every keyword read from the module's attribute of the same name, left out when it
        equals the keyword's default or is in :attr:`import_omits`; a tensor attribute (``bias``) counts
        as ``true``, ``None`` as ``false``, tuples become lists.
        """
        from convlint.importing.keyword_values import keyword_values
        return keyword_values(self, {key: getattr(module, key) for key in self.keywords if hasattr(module, key)})

    def from_torch_call(self, args: tuple, kwargs: dict[str, Any], ndim: int, inputs: int) -> dict[str, Any] | None:
        """The keywords of a functional call of :attr:`torch_functions`: ``args`` are the call's positional
        arguments after the tensors it reads, ``kwargs`` its keyword arguments, ``ndim`` the spatial rank
        of its first input, ``inputs`` the number of tensors it reads.  ``None`` when the call cannot be
        expressed by this type (the next type that names the function is asked).

        Default: the keyword arguments named like this type's keywords (others make it ``None``), and no
        further positional argument.
        """
        from convlint.importing.keyword_values import keyword_values
        if inputs != 1 or args or any(key not in self.keywords and key != "inplace" for key in kwargs):
            return None
        return keyword_values(self, {key: value for key, value in kwargs.items() if key in self.keywords})

    # --- Export: PyTorch source and ONNX lowering (``convlint export``) ------------------------------
    # ``convlint export`` asks these of every layer; see docs/plugins.md.  The defaults fit a type named
    # after a ``torch.nn`` class whose keywords are the spec's; other types override them.

    torch_imports: tuple[str, ...] = ()
    """Modules the generated PyTorch source must import for this type besides ``torch``
    (``("torchvision.ops",)``); the source then refers to them by their full name."""

    def torch_inferred(self, ctx: LayerContext) -> dict[str, Any]:
        """Constructor keywords the spec may leave out but the ``torch.nn`` module needs, valued from the
        inputs (a convolution's ``in_channels``).  Default: none."""
        return {}

    def torch_module(self, args: Mapping[str, str]) -> str | None:
        """Python source that builds this layer's module, such as ``nn.Conv2d(in_channels=3, …)``.

        ``args`` maps each keyword to the Python source of its value: the keywords the spec writes, in
        its order, then those of :meth:`torch_inferred`.  The source may use ``nn`` (``torch.nn``),
        ``torch`` and the modules of :attr:`torch_imports`.  ``None``: the layer has no module, and
        :meth:`torch_forward` does all the work (``torch.cat``).  A bare ``nn.Parameter`` is allowed
        (its state-dict key is then the layer's name).  Default: ``nn.<name>(key=value, …)`` when
        ``torch.nn`` has a class of this type's name, else :class:`NotExportable`.
        """
        from convlint.export.names import torch_nn_has
        if not torch_nn_has(self.name):
            raise NotExportable(f"layer type {self.name} has no PyTorch code generation (it is no torch.nn "
                                f"class, and its plugin gives no torch_module)")
        return f"nn.{self.name}({', '.join(f'{key}={value}' for key, value in args.items())})"

    def torch_forward(self, module: str | None, inputs: list[str], args: Mapping[str, str]) -> str:
        """The Python expression of this layer's output (for :attr:`multiple_outputs`, a sequence of them).

        ``module`` is the expression that reaches the object :meth:`torch_module` built
        (``self.layer1[0].conv1``; ``None`` when it built none), ``inputs`` the expressions of the
        tensors read, in ``from`` order, and ``args`` as in :meth:`torch_module`.  Default: ``module(x)``.
        """
        return f"{module}({', '.join(inputs)})"

    def torch_helpers(self) -> dict[str, str]:
        """Functions the expression of :meth:`torch_forward` calls, as ``name → Python source``; the
        generated file defines each once.  Default: none."""
        return {}

    def onnx_lower(self, ctx: LayerContext, graph: Any, inputs: list[str], params: dict[str, str]):
        """Add this layer's ONNX nodes to ``graph`` and return the name of its output tensor (for
        :attr:`multiple_outputs`, the list of them).

        ``graph`` is a :class:`convlint.export.onnx_graph.OnnxGraph` (``graph.node(op, inputs, **attributes)``,
        ``graph.constant(values)``); ``inputs`` are the names of the tensors read, in ``from`` order;
        ``params`` maps each entry of :meth:`parameter_shapes` to the name of its initializer.  The model
        runs at every valid input size: ``ctx.input`` gives the sizes at one of them only, so use operators
        that read the sizes from the tensors (``Flatten``, ``Shape``) rather than writing varying sizes
        in.  Default: :class:`NotExportable`, naming the type.
        """
        raise NotExportable(f"layer type {self.name} has no ONNX lowering (its plugin gives no onnx_lower)")


class NotExportable(Exception):
    """A layer cannot be exported to the format asked for; the message names the type and what is missing."""
