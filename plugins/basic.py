"""Layers real networks need beside convs and pools: Linear, Flatten, BatchNorm, activations,
Dropout, Identity, Softmax and Upsample."""
from __future__ import annotations

import math

from convlint import LayerContext, LayerType, hookimpl
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


def _gelu(graph, x: str, args) -> str:
    """GELU: ``0.5·x·(1 + erf(x/√2))``, or with ``approximate: tanh`` ``0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))``."""
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
    types = [Elementwise(name, "activation", {"inplace": INPLACE}, name.lower())
             for name in ("ReLU", "ReLU6", "SiLU", "Hardswish")]
    types += [Elementwise(name, "activation", kernel=name.lower()) for name in ("Sigmoid", "Tanh")]
    types.append(Elementwise("LeakyReLU", "activation", {"negative_slope": slope, "inplace": INPLACE},
                             "leaky_relu", {"negative_slope": "negative_slope"}))
    types.append(Elementwise("ELU", "activation", {"alpha": Float(1.0, "scale of the negative part"),
                                                   "inplace": INPLACE}, "elu", {"alpha": "alpha"}))
    types.append(Elementwise("GELU", "activation", {"approximate": Choice(("none", "tanh"), "none", "approximation")},
                             "gelu", {"approximate": "approximate"}))
    types += [Elementwise(name, "dropout", {"p": probability, "inplace": INPLACE})
              for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d")]
    types.append(Elementwise("Identity", "other"))
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
                               f"set in_features: {features} or leave it out", "in_features")
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
                               f"channels; set num_features: {channels} or leave it out", "num_features")
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

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Resize``: PyTorch's coordinate mapping for each mode, by ``scale_factor`` or to ``size``."""
        args, x = ctx.args, inputs[0]
        mode = args["mode"]
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
