"""Convolutions: Conv1d, Conv2d, Conv3d (groups, depthwise, dilation, padding modes, same/valid)."""
from __future__ import annotations

from math import prod

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.arithmetic import WindowAxis, same_padding
from convlint.findings import Fix
from convlint.layers.keywords import Bool, Choice, Int, IntTuple, Optional, Padding
from convlint.analysis.window_findings import axis_symbols, check_windows, padding_fix


def channel_keywords() -> dict:
    """The keywords convolutions and transposed convolutions share, with PyTorch's defaults."""
    return {
        "in_channels": Optional(Int(minimum=1), "input channels; inferred when left out"),
        "out_channels": Int(minimum=1, doc="output channels"),
        "kernel_size": IntTuple(minimum=1, doc="window size per axis"),
        "dilation": IntTuple(1, "spacing between kernel taps", minimum=1),
        "groups": Int(1, "blocked connections from input to output channels", minimum=1),
        "bias": Bool(True, "learnable bias"),
    }


def check_channels(ctx: LayerContext, channels: int, groups: int, out_channels: int) -> None:
    """Report S008 for a declared in_channels that differs, S006 for groups that do not divide."""
    declared = ctx.args["in_channels"]
    if declared is not None and declared != channels:
        ctx.report("S008", f"in_channels is {declared}, but `{ctx.layer.sources[0]}` gives "
                           f"{channels} channels; set in_channels: {channels} or leave it out", "in_channels",
                   Fix(ctx.layer.name, (("in_channels", channels),)))
    for what, count in (("in_channels", channels), ("out_channels", out_channels)):
        if count % groups:
            ctx.report("S006", f"groups={groups} does not divide {what}={count}; use a divisor of "
                               f"{count}", "groups")


def _nearest_first(middle: int, widest: int):
    """``middle``, ``middle + 1``, ``middle − 1``, ``middle + 2``, … within ``0..widest`` (``middle``
    taken within it first, so that the values come at once)."""
    middle = min(middle, widest)
    for step in range(2 * max(middle, widest - middle) + 1):
        value = middle + (step + 1) // 2 if step % 2 else middle - step // 2
        if 0 <= value <= widest:
            yield value


def symbolic_channels(layer, channels) -> None:
    """Record what :func:`check_channels` reads of a channel count that may vary (sizes flattened into it)."""
    layer.compare(channels, layer.args["in_channels"])
    if layer.args["groups"] > 1:
        layer.track(channels // layer.args["groups"])


class Conv(LayerType):
    """``torch.nn.Conv{1,2,3}d``: input ``(N, C_in, *spatial)`` → ``(N, out_channels, *spatial_out)``.

    Parameters: ``out_channels · C_in/groups · prod(kernel_size)`` weights, plus
    ``out_channels`` biases when ``bias`` is true.
    """

    family = "conv"

    def __init__(self, ndim: int):
        self.name = f"Conv{ndim}d"
        self.spatial_dims = ndim
        self.input_ranks = (ndim + 2,)
        self.keywords = {
            **channel_keywords(),
            "stride": IntTuple(1, "step between windows", minimum=1),
            "padding": Padding(0, "implicit padding per side, or 'same' / 'valid'"),
            "padding_mode": Choice(("zeros", "reflect", "replicate", "circular"), "zeros", "how to pad"),
        }

    def infer(self, ctx: LayerContext):
        args = ctx.args
        batch, channels, *spatial = ctx.input
        check_channels(ctx, channels, args["groups"], args["out_channels"])
        pads = self._pads(ctx, spatial)
        if pads is None:
            return None
        axes = [WindowAxis(size, k, s, left, right, d)
                for size, k, s, (left, right), d in zip(spatial, args["kernel_size"], args["stride"], pads,
                                                         args["dilation"])]
        sizes = check_windows(ctx, axes, is_conv=True)
        if sizes is None:
            return None
        return (batch, args["out_channels"], *sizes)

    def symbolic_shape(self, layer):
        """Window arithmetic per axis on forms; channels compared with ``in_channels`` and ``groups``."""
        args = layer.args
        batch, channels, *spatial = layer.input
        symbolic_channels(layer, channels)
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
            for size, pair in zip(spatial, pads):
                layer.compare(size, max(pair))
        sizes = []
        for size, k, s, (left, right), d in zip(spatial, args["kernel_size"], args["stride"], pads, args["dilation"]):
            axis = WindowAxis(size, k, s, left, right, d)
            layer.compare(size, axis.span - left - right)  # S003: the padded input must hold one window
            sizes.append(axis.out)
        return (batch, args["out_channels"], *sizes)

    def _numeric_padding_fix(self, ctx: LayerContext, spatial: list[int]) -> Fix | None:
        """For ``padding: same`` on a strided layer: numeric paddings, nearest ``d·(k−1)/2`` first, with
        which every axis reads all its input (and that the padding mode allows); ``None`` when none do."""
        args = ctx.args
        mode = args["padding_mode"]
        axes, candidates = [], []
        for size, k, s, d in zip(spatial, args["kernel_size"], args["stride"], args["dilation"]):
            axes.append(WindowAxis(size, k, s, 0, 0, d))
            widest = min(d * (k - 1), size - 1 if mode == "reflect" else size if mode == "circular" else d * (k - 1))
            candidates.append(_nearest_first(d * (k - 1) // 2, widest))
        return padding_fix(ctx, axes, candidates)

    def _pads(self, ctx: LayerContext, spatial: list[int]):
        """(left, right) padding per axis, or ``None`` after reporting why PyTorch refuses it."""
        args = ctx.args
        padding = args["padding"]
        if padding == "valid":
            return [(0, 0)] * ctx.ndim
        if padding == "same":
            if any(s != 1 for s in args["stride"]):
                ctx.report("S005", f"padding='same' is not supported for strided convolutions "
                                   f"(stride={list(args['stride'])}); use padding: "
                                   f"{[d * (k - 1) // 2 for k, d in zip(args['kernel_size'], args['dilation'])]}",
                           "padding", self._numeric_padding_fix(ctx, spatial))
                return None
            pads = [same_padding(k, d) for k, d in zip(args["kernel_size"], args["dilation"])]
        else:
            pads = [(pad, pad) for pad in padding]
        mode = args["padding_mode"]
        for symbol, size, pair in zip(axis_symbols(ctx.ndim), spatial, pads):
            pad = max(pair)
            if (mode == "reflect" and pad >= size) or (mode == "circular" and pad > size):
                limit = "smaller than" if mode == "reflect" else "at most"
                ctx.report("S012", f"{symbol}: padding_mode='{mode}' needs padding {limit} the input "
                                   f"size {size}, got {pad}", "padding_mode")
                return None
        return pads

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        """PyTorch's ``reset_parameters()``: weight and bias uniform in ``±1/sqrt(fan_in)``."""
        from convlint.execute.kernels.init import kaiming_uniform
        return kaiming_uniform(self.parameter_shapes(ctx), rng)

    def parameter_shapes(self, ctx: LayerContext) -> dict:
        args = ctx.args
        channels = args["in_channels"] or ctx.input[1]  # the module as declared, as PyTorch builds it
        shapes = {"weight": (args["out_channels"], channels // args["groups"], *args["kernel_size"])}
        if args["bias"]:
            shapes["bias"] = (args["out_channels"],)
        return shapes

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.conv import conv
        args = ctx.args
        return conv(inputs[0], params["weight"], params.get("bias"), stride=args["stride"],
                    padding=self._pads(ctx, list(ctx.input[2:])), dilation=args["dilation"], groups=args["groups"],
                    padding_mode=args["padding_mode"], chunk_bytes=ctx.chunk_bytes)

    def count_macs(self, ctx: LayerContext, output) -> int:
        """``prod(output) · C_in/groups · prod(kernel_size)``: one MAC per tap per output element."""
        return prod(output) * (ctx.input[1] // ctx.args["groups"]) * prod(ctx.args["kernel_size"])

    def window_axes(self, ctx: LayerContext):
        """One :class:`WindowAxis` per spatial axis, with the padding resolved as in :meth:`infer`."""
        args = ctx.args
        pads = self._pads(ctx, list(ctx.input[2:]))
        return None if pads is None else [
            WindowAxis(size, k, s, left, right, d)
            for size, k, s, (left, right), d in zip(ctx.input[2:], args["kernel_size"], args["stride"], pads,
                                                     args["dilation"])]

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        args = ctx.args
        kernel, dilation = args["kernel_size"][axis], args["dilation"][axis]
        padding = args["padding"]
        if padding == "valid":
            left = 0
        elif padding == "same":
            left = same_padding(kernel, dilation)[0]
        else:
            left = padding[axis]
        first = position * args["stride"][axis] - left
        return [(first, first + dilation * (kernel - 1))]

    # ---- Import (convlint import) ----
    onnx_ops = ("Conv",)
    import_omits = ("in_channels",)

    def from_onnx(self, node):
        """``out_channels`` and ``groups`` from the weight ``(out, in/groups, *kernel)``, the window from the
        attributes (``auto_pad`` made explicit); parameters ``weight`` and ``bias`` as they are."""
        from convlint.importing.onnx_node import Imported
        from convlint.importing.keyword_values import keyword_values
        weight, bias = node.constant(1), node.constant(2)
        if weight is None or weight.ndim != self.spatial_dims + 2:
            return None
        window = onnx_window(node, weight)
        if window is None:
            return None
        keywords = keyword_values(self, {"out_channels": weight.shape[0], **window,
                                         "groups": node.attribute("group", 1), "bias": bias is not None})
        return Imported(keywords, {"weight": weight, **({"bias": bias} if bias is not None else {})}, sources=[0])

    # --- export (convlint export) ---
    def torch_inferred(self, ctx: LayerContext) -> dict:
        """``in_channels``: the input's channels."""
        return {"in_channels": ctx.input[1]}

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Conv``; a padding mode other than zeros is a ``Pad`` before it."""
        args = ctx.args
        pads = self._pads(ctx, list(ctx.input[2:]))
        x = inputs[0]
        if args["padding_mode"] != "zeros" and any(any(pair) for pair in pads):
            x = graph.pad(x, pads, {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[args["padding_mode"]])
            pads = [(0, 0)] * ctx.ndim
        weights = [params["weight"], *([params["bias"]] if "bias" in params else [])]
        return graph.node("Conv", [x, *weights], kernel_shape=list(args["kernel_size"]), strides=list(args["stride"]),
                          pads=[left for left, _ in pads] + [right for _, right in pads],
                          dilations=list(args["dilation"]), group=args["groups"])


def onnx_window(node, weight=None) -> dict | None:
    """The window keywords of an ONNX Conv/ConvTranspose/pool ``node`` (``kernel_size``, ``stride``,
    ``padding``, ``dilation``), or ``None`` when the two sides of an axis are padded differently."""
    from convlint.importing.onnx_node import window_padding
    kernel = list(node.attribute("kernel_shape", weight.shape[2:] if weight is not None else []))
    ndim = len(kernel)
    stride = list(node.attribute("strides", [1] * ndim))
    dilation = list(node.attribute("dilations", [1] * ndim))
    padding = window_padding(node, kernel, dilation, stride)
    if padding is None:
        return None
    return {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation}


@hookimpl
def register_layer_types(register):
    for ndim in (1, 2, 3):
        register(Conv(ndim))
