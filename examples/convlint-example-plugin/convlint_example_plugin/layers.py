"""Two layer types for convlint: ``SqueezeExcitation`` and ``DepthToSpace``.

``SqueezeExcitation`` is torchvision's ``ops.SqueezeExcitation`` (ReLU and sigmoid): a block
with weights of its own.  ``DepthToSpace`` is ``torch.nn.PixelShuffle``: a layer whose
setting must divide the channels, reported with a rule of its own (D001).  Each implements
what convlint needs of a layer type: shape inference, parameters and their initialisation,
a NumPy forward pass, MACs, receptive-field spans, a diagram label and role, and the code
``convlint export`` writes for it: PyTorch source and an ONNX lowering.
"""
from __future__ import annotations

from convlint.plugin import Int, LayerContext, LayerType, Optional, Rule, Severity, format_shape, hookimpl

DEPTH_TO_SPACE_CHANNELS = Rule(
    "D001", "Channels not divisible by the square of the upscale factor", Severity.ERROR,
    what="reports a DepthToSpace layer whose input channels are not a multiple of upscale_factor².",
    why="each output pixel block takes upscale_factor² channels; PyTorch's PixelShuffle raises a shape error.",
    example="`{type: DepthToSpace, upscale_factor: 2}` on a 1×6×8×8 input",
    fix="make the channels before it a multiple of upscale_factor² (6 → 8), or change the factor.")


class SqueezeExcitation(LayerType):
    """torchvision's ``ops.SqueezeExcitation``: ``(N, C, H, W)`` → ``(N, C, H, W)``, each channel scaled by
    ``sigmoid(fc2(relu(fc1(mean over H, W))))``, with ``fc1``, ``fc2`` 1×1 convolutions ``C → squeeze → C``.

    Parameters: ``fc1.weight (squeeze, C, 1, 1)``, ``fc1.bias (squeeze,)``, ``fc2.weight (C, squeeze, 1, 1)``,
    ``fc2.bias (C,)``, named as in torchvision's state dict.  It keeps the default ``input_spans``
    (unknown): every output reads the whole input through the global average, which no receptive
    field of a fixed size and stride describes.
    """

    name = "SqueezeExcitation"
    family = "other"
    input_ranks = (4,)
    keywords = {
        "input_channels": Optional(Int(minimum=1), "channels of the input; inferred when left out"),
        "squeeze_channels": Int(minimum=1, doc="channels between the two 1×1 convolutions"),
    }

    def infer(self, ctx: LayerContext):
        channels = ctx.input[1]
        declared = ctx.args["input_channels"]
        if declared is not None and declared != channels:
            ctx.report("S008", f"input_channels is {declared}, but `{ctx.layer.sources[0]}` gives {channels} "
                               f"channels; set input_channels: {channels} or leave it out", "input_channels")
        return ctx.input

    def symbolic_shape(self, layer):
        """The input shape, for named input sizes; a declared ``input_channels`` is compared with the channels."""
        layer.compare(layer.input[1], layer.args["input_channels"])
        return layer.input

    def parameter_shapes(self, ctx: LayerContext) -> dict:
        channels, squeeze = ctx.args["input_channels"] or ctx.input[1], ctx.args["squeeze_channels"]
        return {"fc1.weight": (squeeze, channels, 1, 1), "fc1.bias": (squeeze,),
                "fc2.weight": (channels, squeeze, 1, 1), "fc2.bias": (channels,)}

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        """Each 1×1 convolution as PyTorch initialises a Conv2d: fc1 first, weight before bias."""
        from convlint.execute.kernels.init import kaiming_uniform
        shapes = self.parameter_shapes(ctx)
        params = {}
        for conv in ("fc1", "fc2"):
            drawn = kaiming_uniform({"weight": shapes[f"{conv}.weight"], "bias": shapes[f"{conv}.bias"]}, rng)
            params.update({f"{conv}.{key}": value for key, value in drawn.items()})
        return params

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.elementwise import relu, sigmoid
        x = inputs[0]
        squeezed = x.mean(axis=(2, 3))                                       # (N, C)
        fc1 = params["fc1.weight"].reshape(params["fc1.weight"].shape[:2])   # (squeeze, C)
        fc2 = params["fc2.weight"].reshape(params["fc2.weight"].shape[:2])   # (C, squeeze)
        hidden = relu(squeezed @ fc1.T + params["fc1.bias"])
        scale = sigmoid(hidden @ fc2.T + params["fc2.bias"])
        return x * scale[:, :, None, None].astype(x.dtype)

    def count_macs(self, ctx: LayerContext, output) -> int:
        """The two 1×1 convolutions: ``N · 2 · C · squeeze`` (pooling and scaling not counted)."""
        batch, channels = ctx.input[:2]
        return batch * 2 * channels * ctx.args["squeeze_channels"]

    def label(self, args) -> str:
        """``squeeze 8``."""
        return f"squeeze {args['squeeze_channels']}" if args.get("squeeze_channels") is not None else ""

    # --- export (convlint export) ---
    torch_imports = ("torchvision.ops",)

    def torch_inferred(self, ctx: LayerContext) -> dict:
        """``input_channels``: the input's channels."""
        return {"input_channels": ctx.input[1]}

    def torch_module(self, args) -> str:
        """torchvision's own module: its state-dict keys (``fc1.weight`` …) are this type's."""
        return f"torchvision.ops.SqueezeExcitation({', '.join(f'{key}={value}' for key, value in args.items())})"

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict) -> str:
        """Global average, the two 1×1 convolutions with ReLU and sigmoid, and the product with the input."""
        squeezed = graph.node("GlobalAveragePool", inputs[:1])
        hidden = graph.node("Relu", [graph.node("Conv", [squeezed, params["fc1.weight"], params["fc1.bias"]])])
        scale = graph.node("Sigmoid", [graph.node("Conv", [hidden, params["fc2.weight"], params["fc2.bias"]])])
        return graph.node("Mul", [inputs[0], scale])


class DepthToSpace(LayerType):
    """``torch.nn.PixelShuffle``: ``(N, C·r², H, W)`` → ``(N, C, H·r, W·r)`` with ``r = upscale_factor``.

    Output pixel ``(h, w)`` of channel ``c`` is input channel ``c·r² + (h mod r)·r + (w mod r)``
    at ``(⌊h/r⌋, ⌊w/r⌋)``.  No parameters.
    """

    name = "DepthToSpace"
    family = "resample"
    input_ranks = (4,)
    keywords = {"upscale_factor": Int(minimum=1, doc="factor r: r² channels become an r×r block of pixels")}

    def infer(self, ctx: LayerContext):
        factor = ctx.args["upscale_factor"]
        batch, channels, height, width = ctx.input
        if channels % (factor * factor):
            ctx.report("D001", f"`{ctx.layer.sources[0]}` gives {format_shape(ctx.input)}: {channels} channels are "
                               f"not a multiple of upscale_factor² = {factor * factor}", "upscale_factor")
            return None
        return (batch, channels // (factor * factor), height * factor, width * factor)

    def symbolic_shape(self, layer):
        """``(N, C/r², H·r, W·r)`` for named input sizes: the same arithmetic as :meth:`infer`; ``None`` (fails
        at every size) when the channels are not a multiple of r²."""
        factor = layer.args["upscale_factor"]
        batch, channels, height, width = layer.input
        if not isinstance(channels, int):
            layer.unsupported("DepthToSpace needs a channel count that does not follow a named size")
        if channels % (factor * factor):
            return None
        return (batch, channels // (factor * factor), height * factor, width * factor)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        x = inputs[0]
        factor = ctx.args["upscale_factor"]
        batch, channels, height, width = x.shape
        blocks = x.reshape(batch, channels // (factor * factor), factor, factor, height, width)
        return blocks.transpose(0, 1, 4, 2, 5, 3).reshape(batch, -1, height * factor, width * factor)

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        source = position // ctx.args["upscale_factor"]
        return [(source, source)]

    def label(self, args) -> str:
        """``↑2``: the spatial upscaling."""
        return f"↑{args['upscale_factor']}" if args.get("upscale_factor") is not None else ""

    # --- export (convlint export) ---
    def torch_module(self, args) -> str:
        """``nn.PixelShuffle``, which this type is."""
        return f"nn.PixelShuffle(upscale_factor={args['upscale_factor']})"

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict) -> str:
        """ONNX ``DepthToSpace`` in ``CRD`` order (PixelShuffle's)."""
        return graph.node("DepthToSpace", inputs[:1], blocksize=ctx.args["upscale_factor"], mode="CRD")


@hookimpl
def register_rules(register):
    register(DEPTH_TO_SPACE_CHANNELS)


@hookimpl
def register_layer_types(register):
    register(SqueezeExcitation())
    register(DepthToSpace())
