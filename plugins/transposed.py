"""Transposed convolutions: ConvTranspose1d, ConvTranspose2d, ConvTranspose3d."""
from __future__ import annotations

from math import prod

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.arithmetic import TransposedAxis, transposed_formula, transposed_out
from convlint.layers.keywords import Choice, IntTuple
from convlint.analysis.window_findings import axis_symbols
from convlint_plugins.conv import channel_keywords, check_channels, symbolic_channels


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
                                   f"the dilation ({d}); use output_padding ≤ {max(s, d) - 1}", "output_padding")
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
        """Output ``o`` gets tap ``t`` of input ``i`` when ``o = i·s − p + t·d``."""
        args = ctx.args
        stride, padding, dilation = args["stride"][axis], args["padding"][axis], args["dilation"][axis]
        read = [(position + padding - tap * dilation) // stride for tap in range(args["kernel_size"][axis])
                if (position + padding - tap * dilation) % stride == 0]
        return [(min(read), max(read)) if read else None]

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
