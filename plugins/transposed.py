"""Transposed convolutions: ConvTranspose1d, ConvTranspose2d, ConvTranspose3d."""
from __future__ import annotations

from math import gcd, prod

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.arithmetic import TransposedAxis, transposed_formula, transposed_out
from convlint.layers.keywords import Choice, IntTuple
from convlint.analysis.window_findings import as_written, axis_symbols
from convlint.findings import Fix
from .conv import channel_keywords, check_channels, symbolic_channels


class ConvTranspose(LayerType):
    """``torch.nn.ConvTranspose{1,2,3}d``: ``(N, C_in, *spatial)`` → ``(N, out_channels, *spatial_out)``.

    Per axis: ``(in − 1)·s − 2p + d(k − 1) + output_padding + 1``.  Parameters:
    ``C_in · out_channels/groups · prod(kernel_size)`` weights, plus ``out_channels`` biases.
    """

    family = "transposed"

    def __init__(self, ndim: int):
        self.name = f"ConvTranspose{ndim}d"
        self.spatial_dims = ndim
        self.input_ranks = (ndim + 2,)
        self.keywords = {
            **channel_keywords(),
            "stride": IntTuple(1, "upsampling factor per axis", minimum=1),
            "padding": IntTuple(0, "removed from each side of the output: d·(k−1) − padding is padded"),
            "output_padding": IntTuple(0, "extra size added to one side of the output; < stride or dilation"),
            "padding_mode": Choice(("zeros",), "zeros", "only 'zeros' is supported"),
        }

    def _output_padding_fix(self, ctx: LayerContext) -> Fix | None:
        """Each too large output_padding lowered to the largest allowed (stride or dilation − 1), the
        others kept; ``None`` when an output would then be empty."""
        args = ctx.args
        pads, sizes = [], []
        for size, k, s, p, d, op in zip(ctx.input[2:], args["kernel_size"], args["stride"], args["padding"],
                                        args["dilation"], args["output_padding"]):
            pads.append(op if op < s or op < d else max(s, d) - 1)
            sizes.append(transposed_out(size, k, s, p, d, pads[-1]))
        if min(sizes) < 1:
            return None
        return Fix(ctx.layer.name, (("output_padding", as_written(pads)),),
                   f"output becomes {'×'.join(map(str, sizes))}")

    def infer(self, ctx: LayerContext):
        args = ctx.args
        batch, channels, *spatial = ctx.input
        check_channels(ctx, channels, args["groups"], args["out_channels"])
        sizes = []
        for symbol, size, k, s, p, d, op in zip(axis_symbols(ctx.ndim), spatial, args["kernel_size"],
                                                args["stride"], args["padding"], args["dilation"],
                                                args["output_padding"]):
            if op >= s and op >= d:
                ctx.report("S007", f"{symbol}: output_padding {op} must be smaller than the stride ({s}) or "
                                   f"the dilation ({d}); use output_padding ≤ {max(s, d) - 1}", "output_padding",
                           self._output_padding_fix(ctx))
                return None
            out = transposed_out(size, k, s, p, d, op)
            if out < 1:
                ctx.report("S002", f"{transposed_formula(size, k, s, p, d, op, symbol)}: the output would be "
                                   f"empty; reduce the padding", "padding")
                return None
            sizes.append(out)
        return (batch, args["out_channels"], *sizes)

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        """PyTorch's ``reset_parameters()``: weight and bias uniform in ``±1/sqrt(fan_in)``."""
        from convlint.execute.kernels.init import kaiming_uniform
        return kaiming_uniform(self.parameter_shapes(ctx), rng)

    def symbolic_shape(self, layer):
        """:func:`~convlint.analysis.arithmetic.transposed_out` per axis on forms."""
        args = layer.args
        batch, channels, *spatial = layer.input
        symbolic_channels(layer, channels)
        sizes = []
        for size, k, s, p, d, op in zip(spatial, args["kernel_size"], args["stride"], args["padding"],
                                        args["dilation"], args["output_padding"]):
            if op >= s and op >= d:
                return None
            sizes.append(transposed_out(size, k, s, p, d, op))
        return (batch, args["out_channels"], *sizes)

    def parameter_shapes(self, ctx: LayerContext) -> dict:
        args = ctx.args
        channels = args["in_channels"] or ctx.input[1]  # the module as declared, as PyTorch builds it
        shapes = {"weight": (channels, args["out_channels"] // args["groups"], *args["kernel_size"])}
        if args["bias"]:
            shapes["bias"] = (args["out_channels"],)
        return shapes

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.transposed import conv_transpose
        args = ctx.args
        return conv_transpose(inputs[0], params["weight"], params.get("bias"), stride=args["stride"],
                              padding=args["padding"], output_padding=args["output_padding"],
                              dilation=args["dilation"], groups=args["groups"], chunk_bytes=ctx.chunk_bytes)

    def count_macs(self, ctx: LayerContext, output) -> int:
        """``prod(input) · C_out/groups · prod(kernel_size)``: every input element meets every tap once.

        Counting over output positions instead (as for a conv) overstates it by about ``stride^ndim``.
        """
        return prod(ctx.input) * (ctx.args["out_channels"] // ctx.args["groups"]) * prod(ctx.args["kernel_size"])

    def label(self, args) -> str:
        """``2×2 ↑2``: the stride is an upsampling factor."""
        from convlint.render.labels import args_label
        return args_label(args, upsampling=True)

    def window_axes(self, ctx: LayerContext):
        """One :class:`TransposedAxis` per spatial axis."""
        args = ctx.args
        return [TransposedAxis(*axis) for axis in zip(ctx.input[2:], args["kernel_size"], args["stride"],
                                                      args["padding"], args["dilation"], args["output_padding"])]

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """Output ``o`` gets tap ``t`` of input ``i`` when ``o = i·s − p + t·d``.

        The taps that land on ``o`` solve ``t·d ≡ o + p (mod s)``: with ``g = gcd(d, s)`` none unless
        ``g`` divides ``o + p``, else every ``t ≡ t₀ (mod s/g)``.  Input ``i`` falls as ``t`` grows, so the
        first such tap reads the last input and the last tap the first: constant work for any kernel."""
        args = ctx.args
        stride, padding, dilation = args["stride"][axis], args["padding"][axis], args["dilation"][axis]
        kernel, target = args["kernel_size"][axis], position + padding
        common = gcd(dilation, stride)
        if target % common:
            return [None]
        period = stride // common
        first = (target // common) * pow(dilation // common, -1, period) % period if period > 1 else 0
        if first >= kernel:
            return [None]
        last = first + (kernel - 1 - first) // period * period
        return [((target - last * dilation) // stride, (target - first * dilation) // stride)]

    # ---- Import (convlint import) ----
    onnx_ops = ("ConvTranspose",)
    import_omits = ("in_channels",)

    def from_onnx(self, node):
        """``out_channels = weight.shape[1] · group`` from the weight ``(in, out/groups, *kernel)``; explicit
        ``pads`` only (an ``output_shape`` or ``auto_pad`` depends on sizes no keyword holds)."""
        from convlint.importing.onnx_node import Imported
        from convlint.importing.keyword_values import keyword_values
        from .conv import onnx_window
        weight, bias = node.constant(1), node.constant(2)
        if (weight is None or weight.ndim != self.spatial_dims + 2 or node.attribute("output_shape") is not None
                or node.attribute("auto_pad", "NOTSET") != "NOTSET"):
            return None
        window = onnx_window(node, weight)
        if window is None:
            return None
        groups = node.attribute("group", 1)
        output_padding = list(node.attribute("output_padding", [0] * self.spatial_dims))
        keywords = keyword_values(self, {"out_channels": weight.shape[1] * groups, **window, "groups": groups,
                                         "output_padding": output_padding, "bias": bias is not None})
        return Imported(keywords, {"weight": weight, **({"bias": bias} if bias is not None else {})}, sources=[0])

    # --- export (convlint export) ---
    def torch_inferred(self, ctx: LayerContext) -> dict:
        """``in_channels``: the input's channels."""
        return {"in_channels": ctx.input[1]}


    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``ConvTranspose``."""
        args = ctx.args
        weights = [params["weight"], *([params["bias"]] if "bias" in params else [])]
        return graph.node("ConvTranspose", [inputs[0], *weights], kernel_shape=list(args["kernel_size"]),
                          strides=list(args["stride"]), pads=list(args["padding"]) * 2,
                          dilations=list(args["dilation"]), group=args["groups"],
                          output_padding=list(args["output_padding"]))


@hookimpl
def register_layer_types(register):
    for ndim in (1, 2, 3):
        register(ConvTranspose(ndim))
