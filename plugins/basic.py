"""Layers real networks need beside convs and pools: Linear, Flatten, BatchNorm, activations,
Dropout, Identity, Softmax and Upsample."""
from __future__ import annotations

import math

from convlint import LayerContext, LayerType, hookimpl
from convlint.findings import Fix
from convlint.layers.keywords import Bool, Choice, Float, FloatTuple, Int, IntTuple, Optional


class Elementwise(LayerType):
    """A shape-preserving layer without parameters (activations, Dropout, Identity): shape in = shape out.

    ``kernel`` names the function of :mod:`convlint.execute.kernels.elementwise` that runs it (``None``:
    the identity, as Dropout and Identity are in inference); ``kernel_args`` maps the kernel's
    keyword names to the layer's.  Activations and dropouts are drawn inside the box of the layer they follow.
    """

    preserves_shape = True

    def __init__(self, name: str, family: str, keywords: dict | None = None, kernel: str | None = None,
                 kernel_args: dict | None = None):
        self.name = name
        self.family = family
        self.diagram_role = "fold" if family in ("activation", "dropout") else "box"
        self.keywords = keywords or {}
        self.kernel = kernel
        self.kernel_args = kernel_args or {}

    def infer(self, ctx: LayerContext):
        return ctx.input

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        if self.kernel is None:
            return inputs[0]
        from convlint.execute.kernels import elementwise
        function = getattr(elementwise, self.kernel)
        return function(inputs[0], **{name: ctx.args[key] for name, key in self.kernel_args.items()})

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)]

    # ---- Import (convlint import) ----
    import_omits = ("inplace",)
    onnx_attributes: dict = {}
    """ONNX attribute → ``(keyword, ONNX's default)``: the attributes read as keywords."""
    onnx_requires: dict = {}
    """ONNX attribute (a name) or constant input (an index) → ``(value, ONNX's default)`` the node must have
    for this type to import it (``Clip`` between 0 and 6 is ``ReLU6``)."""

    def importing(self, onnx_ops: tuple = (), torch_functions: tuple = (), attributes: dict | None = None,
                  requires: dict | None = None) -> "Elementwise":
        """Set what this type imports (see :attr:`onnx_attributes`, :attr:`onnx_requires`); returns itself."""
        self.onnx_ops, self.torch_functions = onnx_ops, torch_functions
        self.onnx_attributes, self.onnx_requires = attributes or {}, requires or {}
        return self

    def from_onnx(self, node):
        """Keywords from :attr:`onnx_attributes`; ``None`` unless the node has :attr:`onnx_requires` and reads
        one tensor (a ``Concat`` of one tensor is an ``Identity``)."""
        from convlint.importing.onnx_node import Imported
        from convlint.importing.keyword_values import keyword_values
        tensors = [index for index, name in enumerate(node.input_names) if name and node.shape_constant(index) is None]
        if tensors != [0]:
            return None
        for key, (wanted, default) in self.onnx_requires.items():
            value = node.constant(key) if isinstance(key, int) else node.attribute(key)
            if hasattr(value, "size") and value.size != 1:  # a constant of no or several numbers
                return None
            value = default if value is None else float(value.flat[0] if hasattr(value, "flat") else value)
            if value is None or abs(value - wanted) > 1e-6:
                return None
        values = {keyword: node.attribute(attribute, default)
                  for attribute, (keyword, default) in self.onnx_attributes.items()}
        return Imported(keyword_values(self, values), sources=[0])

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """The ONNX operator (or formula) of :data:`ONNX_ELEMENTWISE`; ONNX's ``Identity`` for dropouts and Identity."""
        if self.kernel is None:
            return graph.node("Identity", inputs[:1])
        from convlint.layers.layer_type import NotExportable
        lower = ONNX_ELEMENTWISE.get(self.kernel)
        if lower is None:
            raise NotExportable(f"layer type {self.name} has no ONNX lowering")
        return lower(graph, inputs[0], ctx.args)


class Gelu(Elementwise):
    """``torch.nn.GELU``, without parameters: shape in = shape out.

    Imports ONNX's ``Gelu`` (opset 20) and, from files of older opsets, the decompositions exporters write:

    * the exact form, starting at its ``Div`` by √2: ``Div → Erf → Add 1``;
    * the ``tanh`` form, starting where ``x³`` is computed (``Pow(x, 3)``, or ``Mul(x, x)`` then by ``x``):
      ``Mul 0.044715 → Add x → Mul √(2/π) → Tanh → Add 1``;

    then the product with ``x`` and ½ in any order: PyTorch's ``(x·(1 + ·))·½``, ``((1 + ·)·½)·x``, or
    convlint's own export, ``(x·½)·(1 + ·)``."""

    onnx_patterns = ("Div", "Pow", "Mul")

    def from_onnx(self, node):
        """:meth:`Elementwise.from_onnx` for ``Gelu``; for the first node of a decomposition, the nodes
        after it."""
        if node.op == "Gelu":
            return super().from_onnx(node)
        approximate, chain = ("none", _erf_gelu_chain(node)) if node.op == "Div" else ("tanh", _tanh_gelu_chain(node))
        if chain is None:
            return None
        from convlint.importing.onnx_node import Imported
        from convlint.importing.keyword_values import keyword_values
        return Imported(keyword_values(self, {"approximate": approximate}), sources=[0], absorbs=chain)


class Silu(Elementwise):
    """``torch.nn.SiLU``, ``x·σ(x)``, without parameters: shape in = shape out.  ONNX has no op for it
    before opset 24's ``Swish``; exporters write ``Sigmoid`` and a ``Mul`` of its output by its input."""

    onnx_patterns = ("Sigmoid",)

    def from_onnx(self, node):
        """A ``Sigmoid`` whose one reader is a ``Mul`` of its output by its input."""
        from convlint.importing.onnx_node import Imported
        product = _next(node, "Mul", node.input_names[0]) if node.input_names else None
        return None if product is None else Imported({}, sources=[0], absorbs=[product])


def _next(node, op: str, beside: float | str | None = None):
    """The one reader of ``node``'s output when it is an ``op`` node: of that output alone (``beside``
    ``None``), or of it and the tensor named ``beside``, or of it and a one-element constant equal to the
    number ``beside`` (to float32 rounding); else ``None``."""
    reader = node.only_consumer() if node is not None else None
    if reader is None or reader.op != op:
        return None
    output = node.output_names[0]
    if beside is None:
        return reader if reader.input_names == [output] else None
    index = reader.other_input(output)
    if index is None:
        return None
    if isinstance(beside, str):
        return reader if reader.input_names[index] == beside else None
    return reader if _is_scalar_beside(reader, output, beside) else None


def _is_scalar_beside(node, tensor: str, number: float) -> bool:
    """Whether the input beside ``tensor`` of two-input ``node`` is a one-element constant equal to ``number``
    (to float32 rounding)."""
    value = node.constant_beside(tensor)
    return value is not None and value.size == 1 and math.isclose(float(value.flat[0]), number, rel_tol=1e-6)


def _erf_gelu_chain(div) -> list | None:
    """The nodes after ``div`` (``x / √2``) that compute ``x·½·(1 + erf(x/√2))`` with it, the node giving the
    result last; ``None`` when they do not (each intermediate read by the next node only)."""
    x = div.input_names[0]
    if div.constant(0) is not None or not _is_scalar_beside(div, x, math.sqrt(2.0)):
        return None
    erf = _next(div, "Erf")
    plus_one = _next(erf, "Add", 1.0)
    tail = _times_x_and_half(plus_one, x, div)
    return None if erf is None or plus_one is None or tail is None else [erf, plus_one, *tail]


def _tanh_gelu_chain(first) -> list | None:
    """The nodes after ``first`` (``Pow(x, 3)``, or ``Mul(x, x)`` followed by a ``Mul`` by ``x``) that compute
    ``x·½·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`` with it, the node giving the result last; else ``None``."""
    x = first.input_names[0]
    if first.op == "Pow":
        exponent = first.constant(1)
        if exponent is None or exponent.size != 1 or float(exponent.flat[0]) != 3.0:
            return None
        cube, chain = first, []
    elif first.op == "Mul" and first.input_names == [x, x]:
        cube = _next(first, "Mul", x)
        chain = [cube]
    else:
        return None
    steps = [_next(cube, "Mul", 0.044715)]
    steps.append(_next(steps[-1], "Add", x))
    steps.append(_next(steps[-1], "Mul", math.sqrt(2.0 / math.pi)))
    steps.append(_next(steps[-1], "Tanh"))
    steps.append(_next(steps[-1], "Add", 1.0))
    tail = _times_x_and_half(steps[-1], x, first)
    if cube is None or None in steps or tail is None:
        return None
    return chain + steps + tail


def _times_x_and_half(plus_one, x: str, first) -> list | None:
    """The nodes after ``plus_one`` (``1 + core``) that multiply it by ``x`` and ½, the last giving the
    product: ``(x·a)·½``, ``(a·½)·x``, or ``(x·½)·a`` where ``x·½`` is another reader of ``x`` (``first``
    reads ``x`` too); ``None`` when they do not."""
    if plus_one is None:
        return None
    for factor, then in ((x, 0.5), (0.5, x)):
        step = _next(plus_one, "Mul", factor)
        if step is not None:
            last = _next(step, "Mul", then)
            return None if last is None else [step, last]
    product = plus_one.only_consumer()
    index = product.other_input(plus_one.output_names[0]) if product is not None and product.op == "Mul" else None
    half = None if index is None else next(
        (reader for reader in first.input_consumers(0)
         if reader.op == "Mul" and reader.output_names[:1] == [product.input_names[index]]), None)
    if half is None or _next(half, "Mul", plus_one.output_names[0]) is not product or not _is_scalar_beside(
            half, x, 0.5):
        return None
    return [half, product]


class Passthrough(Elementwise):
    """``Identity``, which also stands for a merge of one tensor (``torch.cat([x], 1)``, an ONNX ``Concat``
    or ``Sum`` of one input), as DenseNet's first layers write."""

    def from_torch_call(self, args, kwargs, ndim, inputs):
        """Any call of :attr:`torch_functions` that reads one tensor."""
        return {} if inputs == 1 else None


def _gelu(graph, x: str, args) -> str:
    """GELU: ONNX's ``Gelu`` (with its ``approximate``) from opset 20; before, ``0.5·x·(1 + erf(x/√2))``, or
    with ``approximate: tanh`` ``0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))``."""
    if graph.opset >= 20:
        return graph.node("Gelu", [x], approximate=args["approximate"])
    if args["approximate"] == "tanh":
        cube = graph.node("Mul", [graph.node("Mul", [x, x]), x])
        inner = graph.node("Add", [x, graph.node("Mul", [cube, graph.scalar(0.044715)])])
        core = graph.node("Tanh", [graph.node("Mul", [inner, graph.scalar(math.sqrt(2 / math.pi))])])
    else:
        core = graph.node("Erf", [graph.node("Div", [x, graph.scalar(math.sqrt(2.0))])])
    half = graph.node("Mul", [x, graph.scalar(0.5)])
    return graph.node("Mul", [half, graph.node("Add", [core, graph.scalar(1.0)])])


ONNX_ELEMENTWISE = {
    "relu": lambda graph, x, args: graph.node("Relu", [x]),
    "relu6": lambda graph, x, args: graph.node("Clip", [x, graph.scalar(0.0), graph.scalar(6.0)]),
    "silu": lambda graph, x, args: graph.node("Mul", [x, graph.node("Sigmoid", [x])]),
    "hardswish": lambda graph, x, args: graph.node("HardSwish", [x]),
    "sigmoid": lambda graph, x, args: graph.node("Sigmoid", [x]),
    "tanh": lambda graph, x, args: graph.node("Tanh", [x]),
    "leaky_relu": lambda graph, x, args: graph.node("LeakyRelu", [x], alpha=args["negative_slope"]),
    "elu": lambda graph, x, args: graph.node("Elu", [x], alpha=args["alpha"]),
    "gelu": _gelu,
}
"""Kernel name → the function that adds its ONNX nodes: ``(graph, input, args) → output``."""


INPLACE = Bool(False, "modify the input in place")


def elementwise_types() -> list[LayerType]:
    """Activations, dropouts and Identity, each with the keywords of its torch.nn class."""
    slope = Float(0.01, "slope for negative inputs")
    probability = Float(0.5, "probability of an element to be zeroed", minimum=0, maximum=1)
    functional = "torch.nn.functional."
    types: list[LayerType] = [Elementwise(name, "activation", {"inplace": INPLACE}, name.lower()).importing(
                 onnx_ops, (functional + name.lower(), f"torch.{name.lower()}", f"torch.Tensor.{name.lower()}",
                            f"aten.{name.lower()}.default", f"aten.{name.lower()}_.default"),
                 requires=requires)
             for name, onnx_ops, requires in (("ReLU", ("Relu",), None),
                                              ("ReLU6", ("Clip",), {1: (0.0, None), 2: (6.0, None)}),
                                              ("Hardswish", ("HardSwish",), None))]
    types.append(Silu("SiLU", "activation", {"inplace": INPLACE}, "silu").importing(
        (), (functional + "silu", "torch.silu", "torch.Tensor.silu", "aten.silu.default", "aten.silu_.default")))
    types += [Elementwise(name, "activation", kernel=name.lower()).importing(
                  (name,), (functional + name.lower(), f"torch.{name.lower()}", f"torch.Tensor.{name.lower()}",
                            f"aten.{name.lower()}.default"))
              for name in ("Sigmoid", "Tanh")]
    types.append(Elementwise("LeakyReLU", "activation", {"negative_slope": slope, "inplace": INPLACE},
                             "leaky_relu", {"negative_slope": "negative_slope"}).importing(
        ("LeakyRelu",), (functional + "leaky_relu",), {"alpha": ("negative_slope", 0.01)}))
    types.append(Elementwise("ELU", "activation", {"alpha": Float(1.0, "scale of the negative part"),
                                                   "inplace": INPLACE}, "elu", {"alpha": "alpha"}).importing(
        ("Elu",), (functional + "elu",), {"alpha": ("alpha", 1.0)}))
    types.append(Gelu("GELU", "activation", {"approximate": Choice(("none", "tanh"), "none", "approximation")},
                      "gelu", {"approximate": "approximate"}).importing(
        ("Gelu",), (functional + "gelu",), {"approximate": ("approximate", "none")}))
    types += [Elementwise(name, "dropout", {"p": probability, "inplace": INPLACE}).importing(
                  ("Dropout",) if name == "Dropout" else (), (functional + name.lower(),))
              for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d")]
    types.append(Passthrough("Identity", "other").importing(("Identity", "Concat", "Sum"),
                                                           ("torch.cat", "torch.concat", "aten.cat.default")))
    return types


def normalised_dim(ctx: LayerContext, key: str, dim: int, rank: int) -> int | None:
    """``dim`` as a non-negative axis of a rank-``rank`` tensor, or ``None`` after reporting S012."""
    if not -rank <= dim < rank:
        ctx.report("S012", f"{key}={dim} is outside a {rank}-D tensor (valid: {-rank} to {rank - 1})", key)
        return None
    return dim % rank


class Softmax(LayerType):
    """``torch.nn.Softmax``: shape in = shape out, normalised along ``dim``."""

    name = "Softmax"
    family = "activation"
    diagram_role = "fold"
    keywords = {"dim": Optional(Int(), "axis to normalise along")}
    preserves_shape = True

    def symbolic_shape(self, layer):
        """The input shape; ``None`` (fails at every size) for a ``dim`` outside the tensor."""
        dim, rank = layer.args["dim"], len(layer.input)
        return None if dim is not None and not -rank <= dim < rank else layer.input

    def infer(self, ctx: LayerContext):
        dim = ctx.args["dim"]
        if dim is not None and normalised_dim(ctx, "dim", dim, len(ctx.input)) is None:
            return None
        return ctx.input

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.elementwise import softmax
        dim = ctx.args["dim"]
        if dim is None:  # PyTorch's legacy implicit dim
            dim = 0 if len(ctx.input) in (0, 1, 3) else 1
        return softmax(inputs[0], dim)

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """Identity, unless normalising along a spatial axis (then unknown)."""
        dim = ctx.args["dim"]
        if dim is None or dim % len(ctx.input) >= 2:
            return None
        return [(position, position)]

    # ---- Import (convlint import) ----
    onnx_ops = ("Softmax",)
    torch_functions = ("torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax")

    def from_onnx(self, node):
        """``dim`` from ``axis`` (ONNX's default: -1 from opset 13, 1 before)."""
        from convlint.importing.onnx_node import Imported
        return Imported({"dim": int(node.attribute("axis", -1))}, sources=[0])

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Softmax`` along ``dim`` (left out: PyTorch's legacy choice, as :meth:`forward`)."""
        dim = ctx.args["dim"]
        if dim is None:
            dim = 0 if len(ctx.input) in (0, 1, 3) else 1
        return graph.node("Softmax", inputs[:1], axis=dim)


class Linear(LayerType):
    """``torch.nn.Linear``: ``(*, in_features)`` → ``(*, out_features)``.

    Parameters: ``in_features · out_features`` weights plus ``out_features`` biases.
    """

    name = "Linear"
    family = "linear"
    keywords = {
        "in_features": Optional(Int(minimum=1), "size of the input's last dimension; inferred when left out"),
        "out_features": Int(minimum=1, doc="size of the output's last dimension"),
        "bias": Bool(True, "learnable bias"),
    }

    def infer(self, ctx: LayerContext):
        features = ctx.input[-1]
        declared = ctx.args["in_features"]
        if declared is not None and declared != features:
            hint = " (add a Flatten before it?)" if len(ctx.input) > 2 else ""
            ctx.report("S008", f"in_features is {declared}, but `{ctx.layer.sources[0]}` gives a tensor of shape "
                               f"{'×'.join(map(str, ctx.input))} whose last dimension is {features}{hint}; "
                               f"set in_features: {features} or leave it out", "in_features",
                       Fix(ctx.layer.name, (("in_features", features),)))
        return (*ctx.input[:-1], ctx.args["out_features"])

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        """PyTorch's ``reset_parameters()``: weight and bias uniform in ``±1/sqrt(fan_in)``."""
        from convlint.execute.kernels.init import kaiming_uniform
        return kaiming_uniform(self.parameter_shapes(ctx), rng)

    def symbolic_shape(self, layer):
        """``(*, out_features)``; a declared ``in_features`` is compared with the last input dim."""
        layer.compare(layer.input[-1], layer.args["in_features"])
        return (*layer.input[:-1], layer.args["out_features"])

    def parameter_shapes(self, ctx: LayerContext) -> dict:
        out = ctx.args["out_features"]
        features = ctx.args["in_features"] or ctx.input[-1]  # the module as declared, as PyTorch builds it
        return {"weight": (out, features), **({"bias": (out,)} if ctx.args["bias"] else {})}

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.elementwise import linear
        return linear(inputs[0], params["weight"], params.get("bias"))

    def count_macs(self, ctx: LayerContext, output) -> int:
        """``prod(input) · out_features``: in·out per row, bias not counted."""
        return math.prod(ctx.input) * ctx.args["out_features"]

    # ---- Import (convlint import) ----
    onnx_ops = ("Gemm", "MatMul")
    import_omits = ("in_features",)
    torch_functions = ("torch.nn.functional.linear",)

    def from_onnx(self, node):
        """``Gemm`` (``alpha = beta = 1``, ``A`` not transposed, constant ``B`` and ``C``) or ``MatMul`` by a
        constant 2-D ``B``, with the ``Add`` of a constant bias that follows it when it is the only reader:
        ``weight`` is ``B`` as PyTorch stores it, ``(out_features, in_features)``.  ``in_features`` is
        written when the input's last dim is dynamic in the file, so the spec keeps the size it requires."""
        from convlint.importing.onnx_node import Imported
        weight, bias, absorbs = node.constant(1), node.constant(2), []
        if weight is None or weight.ndim != 2:
            return None
        if node.op == "Gemm":
            if node.attribute("transA", 0) or node.attribute("alpha", 1.0) != 1.0 or node.attribute("beta", 1.0) != 1.0:
                return None
            weight = weight if node.attribute("transB", 0) else weight.T
        else:
            weight = weight.T
            after = node.only_consumer()
            if after is not None and after.op == "Add":
                other = after.constant_beside(node.output_names[0])
                if other is not None and other.shape == (weight.shape[0],):
                    bias, absorbs = other, [after]
        if bias is not None and bias.shape != (weight.shape[0],):
            return None
        keywords = {"out_features": int(weight.shape[0]), **({} if bias is not None else {"bias": False})}
        if not isinstance((node.input_shape(0) or (None,))[-1], int):  # the weight fixes a dynamic size
            keywords = {"in_features": int(weight.shape[1]), **keywords}
        return Imported(keywords, {"weight": weight.copy(), **({"bias": bias} if bias is not None else {})},
                        sources=[0], absorbs=absorbs)

    # --- export (convlint export) ---
    def torch_inferred(self, ctx: LayerContext) -> dict:
        """``in_features``: the size of the input's last dim."""
        return {"in_features": ctx.input[-1]}

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Gemm`` for a 2-D input, else ``MatMul`` by the transposed weight and ``Add`` of the bias."""
        if len(ctx.input) == 2:
            return graph.node("Gemm", [inputs[0], params["weight"], *([params["bias"]] if "bias" in params else [])],
                              transB=1)
        product = graph.node("MatMul", [inputs[0], graph.node("Transpose", [params["weight"]], perm=[1, 0])])
        return graph.node("Add", [product, params["bias"]]) if "bias" in params else product


class Flatten(LayerType):
    """``torch.nn.Flatten``: merges dims ``start_dim..end_dim`` into one (default: all but the batch)."""

    name = "Flatten"
    family = "reshape"
    keywords = {"start_dim": Int(1, "first dim to flatten"), "end_dim": Int(-1, "last dim to flatten")}

    def infer(self, ctx: LayerContext):
        rank = len(ctx.input)
        start = normalised_dim(ctx, "start_dim", ctx.args["start_dim"], rank)
        end = normalised_dim(ctx, "end_dim", ctx.args["end_dim"], rank)
        if start is None or end is None:
            return None
        if start > end:
            ctx.report("S012", f"start_dim ({start}) comes after end_dim ({end})", "start_dim")
            return None
        return (*ctx.input[:start], math.prod(ctx.input[start:end + 1]), *ctx.input[end + 1:])

    def symbolic_shape(self, layer):
        """The merged dim is the product of the flattened ones (a :class:`~convlint.sizes.expr.Product`
        when several vary)."""
        from convlint.sizes.expr import multiply
        shape, rank = layer.input, len(layer.input)
        start, end = layer.args["start_dim"], layer.args["end_dim"]
        if not (-rank <= start < rank and -rank <= end < rank) or start % rank > end % rank:
            return None
        start, end = start % rank, end % rank
        return (*shape[:start], multiply(list(shape[start:end + 1])), *shape[end + 1:])

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        return inputs[0].reshape(self.infer(ctx))

    # ---- Import (convlint import) ----
    onnx_ops = ("Flatten", "Reshape")
    torch_functions = ("torch.flatten", "torch.Tensor.flatten", "aten.flatten.using_ints")

    def from_onnx(self, node):
        """``Flatten`` with ``axis`` 1, or a ``Reshape`` to ``(batch, -1)`` (or to the batch and the product of the
        other dims): PyTorch's exporter writes ``torch.flatten(x, 1)`` and ``x.view(x.size(0), -1)`` so."""
        import math

        from convlint.importing.onnx_node import Imported
        shape = node.input_shape(0)
        if node.op == "Flatten":
            return Imported({}, sources=[0]) if node.attribute("axis", 1) == 1 else None
        target = node.shape_constant(1)
        if shape is None or target is None or target.ndim != 1 or len(target) != 2:
            return None
        batch, rest = target.tolist()
        if batch not in (shape[0], 0) and not (batch == -1 and all(isinstance(d, int) for d in shape)
                                               and rest == math.prod(shape[1:])):
            return None
        if rest != -1 and not (all(isinstance(d, int) for d in shape[1:]) and rest == math.prod(shape[1:])):
            return None
        return Imported({}, sources=[0])

    def from_torch_call(self, args, kwargs, ndim, inputs):
        """``torch.flatten(x, start_dim, end_dim)``."""
        values = dict(zip(("start_dim", "end_dim"), args), **kwargs)
        return {key: value for key, value in values.items() if value != self.keywords[key].default}

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Reshape`` to the input's sizes before ``start_dim``, one merged size, and those after ``end_dim``."""
        rank = len(ctx.input)
        start, end = ctx.args["start_dim"] % rank, ctx.args["end_dim"] % rank
        shape = graph.node("Concat", [graph.shape_of(inputs[0], 0, start), graph.constant([-1]),
                                      graph.shape_of(inputs[0], end + 1)], axis=0)
        return graph.node("Reshape", [inputs[0], shape])


class BatchNorm(LayerType):
    """``torch.nn.BatchNorm{1,2,3}d``: shape in = shape out, normalised per channel (dim 1).

    Parameters: ``2·C`` (weight and bias) when ``affine``; running statistics are buffers.
    """

    family = "norm"
    diagram_role = "fold"
    buffers = ("running_mean", "running_var")
    preserves_shape = True

    def __init__(self, ndim: int):
        self.name = f"BatchNorm{ndim}d"
        self.input_ranks = (2, 3) if ndim == 1 else (ndim + 2,)
        self.keywords = {
            "num_features": Optional(Int(minimum=1), "channels; inferred when left out"),
            "eps": Float(1e-5, "added to the variance", minimum=0),
            "momentum": Optional(Float(minimum=0, maximum=1), "running-statistics update factor", default=0.1),
            "affine": Bool(True, "learnable weight and bias"),
            "track_running_stats": Bool(True, "keep running mean and variance"),
        }

    def infer(self, ctx: LayerContext):
        channels = ctx.input[1]
        declared = ctx.args["num_features"]
        if declared is not None and declared != channels:
            ctx.report("S008", f"num_features is {declared}, but `{ctx.layer.sources[0]}` gives {channels} "
                               f"channels; set num_features: {channels} or leave it out", "num_features",
                       Fix(ctx.layer.name, (("num_features", channels),)))
        return ctx.input

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        """PyTorch's: weight 1, bias 0, running mean 0, running variance 1."""
        from convlint.execute.kernels.init import constant_parameters
        return constant_parameters(self.parameter_shapes(ctx), NORM_FILLS)

    def symbolic_shape(self, layer):
        """The input shape; a declared ``num_features`` is compared with the channels."""
        layer.compare(layer.input[1], layer.args["num_features"])
        return layer.input

    def parameter_shapes(self, ctx: LayerContext) -> dict:
        return channel_norm_shapes(ctx)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        """Inference: running statistics when tracked, else the batch's own (as PyTorch in eval mode)."""
        from convlint.execute.kernels.elementwise import batch_norm
        x = inputs[0]
        mean, var = params.get("running_mean"), params.get("running_var")
        if mean is None:
            axes = tuple(axis for axis in range(x.ndim) if axis != 1)
            mean, var = x.mean(axis=axes), x.var(axis=axes)
        return batch_norm(x, mean, var, params.get("weight"), params.get("bias"), ctx.args["eps"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)]

    # ---- Import (convlint import) ----
    onnx_ops = ("BatchNormalization",)
    import_omits = ("num_features",)

    def from_onnx(self, node):
        """Inference-mode ``BatchNormalization`` with constant scale, bias, mean and variance; ``eps`` from
        ``epsilon``, ``momentum`` is ``1 −`` ONNX's."""
        from convlint.importing.onnx_node import Imported
        from convlint.importing.keyword_values import keyword_values
        arrays = [node.constant(index) for index in (1, 2, 3, 4)]
        if node.rank not in self.input_ranks or any(array is None for array in arrays) or len(node.output_names) > 1:
            return None
        values = {"eps": float(node.attribute("epsilon", 1e-5)),
                  "momentum": round(1 - float(node.attribute("momentum", 0.9)), 6)}
        return Imported(keyword_values(self, values), dict(zip(("weight", "bias", "running_mean", "running_var"),
                                                               arrays)), sources=[0])

    # --- export (convlint export) ---
    def torch_inferred(self, ctx: LayerContext) -> dict:
        """``num_features``: the input's channels."""
        return {"num_features": ctx.input[1]}

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``BatchNormalization`` with the running statistics (without them, no lowering)."""
        import numpy

        from convlint.layers.layer_type import NotExportable
        if "running_mean" not in params:
            raise NotExportable(f"{self.name} without running statistics normalises by the batch's own; no lowering")
        channels = ctx.args["num_features"] or ctx.input[1]
        scale = params.get("weight") or graph.constant(numpy.ones(channels), "float32")
        bias = params.get("bias") or graph.constant(numpy.zeros(channels), "float32")
        return graph.node("BatchNormalization", [inputs[0], scale, bias, params["running_mean"], params["running_var"]],
                          epsilon=ctx.args["eps"])


def channel_norm_shapes(ctx: LayerContext) -> dict:
    """State-dict entries of a per-channel norm (BatchNorm, InstanceNorm): ``weight`` and ``bias`` when
    ``affine``, ``running_mean`` and ``running_var`` when ``track_running_stats``; each ``(C,)``."""
    channels = (ctx.args["num_features"] or ctx.input[1],)
    shapes = {"weight": channels, "bias": channels} if ctx.args["affine"] else {}
    if ctx.args["track_running_stats"]:
        shapes.update(running_mean=channels, running_var=channels)
    return shapes


NORM_FILLS = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0, "running_var": 1.0}
"""The initial values PyTorch gives a norm layer's parameters and running statistics."""

MAX_SCALE_DENOMINATOR = 1024
"""Upsample scale factors followed exactly by the size solver: fractions with at most this denominator."""

INTERPOLATION_RANKS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


class Upsample(LayerType):
    """``torch.nn.Upsample``: ``(N, C, *spatial)`` → ``(N, C, *size)`` or ``⌊in·scale_factor⌋`` per axis."""

    name = "Upsample"
    family = "resample"
    input_ranks = (3, 4, 5)
    keywords = {
        "size": Optional(IntTuple(minimum=1), "output size per axis"),
        "scale_factor": Optional(FloatTuple(), "multiplier per axis; output is ⌊in·scale_factor⌋"),
        "mode": Choice(("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"), "nearest",
                       "interpolation"),
        "align_corners": Optional(Bool(), "align corner pixels (interpolating modes only)"),
        "recompute_scale_factor": Optional(Bool(), "recompute the scale from the output size"),
    }

    def infer(self, ctx: LayerContext):
        args = ctx.args
        mode = args["mode"]
        if (args["size"] is None) == (args["scale_factor"] is None):
            ctx.report("S012", "Upsample needs exactly one of `size` and `scale_factor`", "size")
            return None
        if mode in INTERPOLATION_RANKS and INTERPOLATION_RANKS[mode] != len(ctx.input):
            ctx.report("S012", f"mode '{mode}' needs a {INTERPOLATION_RANKS[mode]}-D input, got "
                               f"{len(ctx.input)}-D", "mode")
            return None
        if args["align_corners"] is not None and mode not in INTERPOLATION_RANKS:
            ctx.report("S012", f"align_corners can only be set with an interpolating mode, not '{mode}'",
                       "align_corners")
            return None
        batch, channels, *spatial = ctx.input
        if args["size"] is not None:
            return (batch, channels, *args["size"])
        sizes = tuple(math.floor(size * scale) for size, scale in zip(spatial, args["scale_factor"]))
        return (batch, channels, *sizes)

    def symbolic_shape(self, layer):
        """``size``, or ``⌊in·scale_factor⌋`` per axis for a scale that is a fraction with a small denominator."""
        from fractions import Fraction

        from convlint.sizes.expr import Product, scaled_floor
        from convlint.sizes.symbolic import varies
        args = layer.args
        if (args["size"] is None) == (args["scale_factor"] is None):
            return None
        batch, channels, *spatial = layer.input
        if args["size"] is not None:
            return (batch, channels, *args["size"])
        sizes = []
        for size, scale in zip(spatial, args["scale_factor"]):
            if not varies(size):
                sizes.append(math.floor(size * scale))
                continue
            ratio = Fraction(scale)
            if ratio.denominator > MAX_SCALE_DENOMINATOR or ratio < 0 or isinstance(size, Product):
                layer.unsupported(f"scale_factor {scale} is not a simple fraction")
            sizes.append(scaled_floor(size, ratio.numerator, ratio.denominator))
        return (batch, channels, *sizes)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.resample import upsample
        args = ctx.args
        return upsample(inputs[0], size=args["size"], scale_factor=args["scale_factor"], mode=args["mode"],
                        align_corners=args["align_corners"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """The source index PyTorch computes for ``position`` (and its interpolation neighbours)."""
        args = ctx.args
        size = ctx.input[2 + axis]
        scale = 1 / args["scale_factor"][axis] if args["size"] is None else size / args["size"][axis]
        mode = args["mode"]
        if mode == "nearest":
            return [(math.floor(position * scale),) * 2]
        if mode == "nearest-exact":
            return [(math.floor((position + 0.5) * scale),) * 2]
        if args["align_corners"]:
            out = args["size"][axis] if args["size"] is not None else math.floor(size * args["scale_factor"][axis])
            source = position * (size - 1) / (out - 1) if out > 1 else 0.0
        else:
            source = max((position + 0.5) * scale - 0.5, 0.0)
        low = math.floor(source)
        return [(low - 1, low + 2)] if mode == "bicubic" else [(low, low + 1)]

    # ---- Import (convlint import) ----
    onnx_ops = ("Resize", "Upsample")
    torch_functions = ("torch.nn.functional.interpolate",)

    def from_onnx(self, node):
        """Constant ``scales`` (batch and channels 1) as ``scale_factor`` or ``sizes`` as ``size``;
        ``nearest`` (asymmetric coordinates, floor) or ``linear`` (``align_corners`` when the coordinates are
        ``align_corners``, else half-pixel)."""
        from convlint.importing.onnx_node import Imported, written
        rank = node.rank
        if rank not in INTERPOLATION_RANKS.values():
            return None
        mode = node.attribute("mode", "nearest")
        transform = node.attribute("coordinate_transformation_mode", "half_pixel")
        keywords: dict = {}
        if mode == "nearest":
            if node.op == "Resize" and (transform != "asymmetric" or node.attribute("nearest_mode", "round_prefer_floor")
                                        != "floor"):
                return None
        elif mode == "linear":
            keywords["mode"] = next(name for name, wanted in INTERPOLATION_RANKS.items()
                                    if wanted == rank and name != "bicubic")
            if transform == "align_corners":
                keywords["align_corners"] = True
            elif transform not in ("half_pixel", "pytorch_half_pixel"):
                return None
        else:
            return None
        scales = node.constant(1 if node.op == "Upsample" else 2)
        sizes = node.constant(3) if node.op == "Resize" else None
        if scales is not None and scales.size == rank and list(scales[:2]) == [1, 1]:
            factors = [float(scale) for scale in scales[2:]]
            keywords["scale_factor"] = written([int(f) for f in factors]) if all(f.is_integer() for f in factors) \
                else factors
        elif sizes is not None and sizes.size == rank:
            keywords["size"] = written(sizes[2:])
        else:
            return None
        return Imported(keywords, sources=[0])

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Resize``: PyTorch's coordinate mapping for each mode, by ``scale_factor`` or to ``size``."""
        args, x = ctx.args, inputs[0]
        mode = args["mode"]
        options: dict[str, object]
        if mode.startswith("nearest"):
            exact = mode == "nearest-exact"
            options = dict(mode="nearest", coordinate_transformation_mode="half_pixel" if exact else "asymmetric",
                           nearest_mode="round_prefer_ceil" if exact else "floor")
        else:
            options = dict(mode="cubic" if mode == "bicubic" else "linear", cubic_coeff_a=-0.75,
                           coordinate_transformation_mode="align_corners" if args["align_corners"]
                           else "pytorch_half_pixel")
        if args["size"] is not None:
            sizes = graph.node("Concat", [graph.shape_of(x, 0, 2), graph.constant(list(args["size"]))], axis=0)
            return graph.node("Resize", [x, "", "", sizes], **options)
        scales = graph.constant([1.0, 1.0, *args["scale_factor"]], "float32")
        return graph.node("Resize", [x, "", scales], **options)


@hookimpl
def register_layer_types(register):
    for layer_type in elementwise_types():
        register(layer_type)
    for layer_type in (Softmax(), Linear(), Flatten(), Upsample()):
        register(layer_type)
    for ndim in (1, 2, 3):
        register(BatchNorm(ndim))
