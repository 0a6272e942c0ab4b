"""Pooling: MaxPool, AvgPool (ceil_mode, count_include_pad, divisor_override) and adaptive pools, 1-d to 3-d."""
from __future__ import annotations

from typing import Iterable

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.arithmetic import WindowAxis, adaptive_window
from convlint.findings import Fix
from convlint.layers.keywords import Bool, Int, IntTuple, Optional, SizeTuple
from convlint.analysis.window_findings import axis_symbols, check_windows, padding_fix


class Pool(LayerType):
    """``torch.nn.MaxPool{1,2,3}d`` / ``AvgPool{1,2,3}d``: ``(N, C, *spatial)`` → ``(N, C, *spatial_out)``.

    Output size per axis: ``⌊(in + 2p − d(k−1) − 1)/s⌋ + 1`` (ceil in ceil_mode, less one
    when the last window would start past the input and the left padding).  No parameters.
    """

    family = "pool"

    def __init__(self, kind: str, ndim: int):
        self.name = f"{kind}Pool{ndim}d"
        self.kind = kind
        self.spatial_dims = ndim
        self.input_ranks = (ndim + 2,)
        keywords = {
            "kernel_size": IntTuple(minimum=1, doc="window size per axis"),
            "stride": Optional(IntTuple(minimum=1), "step between windows; defaults to kernel_size"),
            "padding": IntTuple(0, "implicit padding per side, at most kernel_size // 2"),
            "ceil_mode": Bool(False, "use ceil instead of floor for the output size"),
        }
        if kind == "Max":
            keywords["dilation"] = IntTuple(1, "spacing between window taps", minimum=1)
            keywords["return_indices"] = Bool(False, "also return the argmax indices")
        else:
            keywords["count_include_pad"] = Bool(True, "count padding in the average's divisor")
            if ndim > 1:
                keywords["divisor_override"] = Optional(Int(minimum=1), "divide by this instead of the window size")
        self.keywords = keywords

    def infer(self, ctx: LayerContext):
        args = ctx.args
        kernel = args["kernel_size"]
        for symbol, k, pad in zip(axis_symbols(ctx.ndim), kernel, args["padding"]):
            if pad > k // 2:
                ctx.report("S004", f"{symbol}: padding {pad} is more than half the kernel ({k} // 2 = {k // 2}); "
                                   f"use padding ≤ {k // 2}", "padding", self._padding_fix(ctx))
                return None
        if args.get("return_indices"):
            ctx.report("S012", "return_indices: true makes the layer return (values, indices), which no "
                               "following layer can take; leave it false", "return_indices",
                       Fix(ctx.layer.name, (("return_indices", False),)))
        batch, channels, *spatial = ctx.input
        if self.kind == "Avg" and ctx.ndim == 3:
            for symbol, size, k in zip(axis_symbols(3), spatial, kernel):
                if size < k:
                    ctx.report("S003", f"{symbol}: AvgPool3d needs each input size to be at least the kernel "
                                       f"size, even with padding; got {size} < {k}", "kernel_size")
                    return None
        axes = self.window_axes(ctx)
        sizes = check_windows(ctx, axes, is_conv=False, kernel_within_input=self.kind == "Avg" and ctx.ndim == 3)
        return None if sizes is None else (batch, channels, *sizes)

    def _padding_fix(self, ctx: LayerContext):
        """Paddings within half the kernel on every axis (the written one first, then the largest)
        with which each axis reads all its input; ``None`` when some axis has none."""
        candidates: list[Iterable[int] | None] = [
            [pad, *(p for p in range(k // 2, -1, -1) if p != pad)] if pad <= k // 2
                      else range(k // 2, -1, -1) for k, pad in zip(ctx.args["kernel_size"], ctx.args["padding"])]
        return padding_fix(ctx, self.window_axes(ctx), candidates)

    def window_axes(self, ctx: LayerContext):
        """One :class:`WindowAxis` per spatial axis: the stride defaults to the kernel, ceil_mode applies."""
        args = ctx.args
        kernel = args["kernel_size"]
        dilation = args.get("dilation", (1,) * ctx.ndim)
        return [WindowAxis(size, k, s, p, p, d, args["ceil_mode"])
                for size, k, s, p, d in zip(ctx.input[2:], kernel, args["stride"] or kernel, args["padding"],
                                            dilation)]

    def symbolic_shape(self, layer):
        """Window arithmetic per axis on forms (floor or ceil mode); AvgPool3d compares each size with the kernel."""
        args = layer.args
        kernel = args["kernel_size"]
        stride = args["stride"] or kernel
        dilation = args.get("dilation", (1,) * len(kernel))
        if any(p > k // 2 for k, p in zip(kernel, args["padding"])):
            return None
        batch, channels, *spatial = layer.input
        sizes = []
        for size, k, s, p, d in zip(spatial, kernel, stride, args["padding"], dilation):
            if self.kind == "Avg" and len(spatial) == 3:
                layer.compare(size, k)  # AvgPool3d: the kernel must fit the unpadded input
            sizes.append(WindowAxis(size, k, s, p, p, d, args["ceil_mode"]).out)
        return (batch, channels, *sizes)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels import pool
        args = ctx.args
        stride = args["stride"] or args["kernel_size"]
        if self.kind == "Max":
            return pool.max_pool(inputs[0], args["kernel_size"], stride, args["padding"], args["dilation"],
                                 args["ceil_mode"])
        return pool.avg_pool(inputs[0], args["kernel_size"], stride, args["padding"], args["ceil_mode"],
                             args["count_include_pad"], args.get("divisor_override"))

    def label(self, args) -> str:
        """``2×2 s2``: the stride, when left out, is the kernel size."""
        from convlint.render.labels import args_label
        return args_label(args, stride_defaults_to_kernel=True)

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        args = ctx.args
        kernel = args["kernel_size"][axis]
        stride = (args["stride"] or args["kernel_size"])[axis]
        dilation = args.get("dilation", (1,) * ctx.ndim)[axis]
        first = position * stride - args["padding"][axis]
        return [(first, first + dilation * (kernel - 1))]

    # ---- Import (convlint import) ----
    @property
    def onnx_ops(self):  # type: ignore[override]
        """``MaxPool`` or ``AveragePool``."""
        return ("MaxPool",) if self.kind == "Max" else ("AveragePool",)

    def from_torch(self, module) -> dict:
        """The module's keywords; the stride left out when it equals the kernel (PyTorch's default)."""
        keywords = super().from_torch(module)
        if keywords.get("stride") == keywords.get("kernel_size"):
            keywords.pop("stride", None)
        return keywords

    def from_onnx(self, node):
        """The window from the attributes; the stride left out when it equals the kernel (PyTorch's
        default); ONNX's ``count_include_pad`` defaults to 0, PyTorch's to true.  A MaxPool that also
        returns indices is not imported."""
        from convlint.importing.onnx_node import Imported
        from convlint.importing.keyword_values import keyword_values
        from .conv import onnx_window
        window = onnx_window(node)
        if window is None or len(window["kernel_size"]) != self.spatial_dims or len(node.output_names) > 1:
            return None
        if window["stride"] == window["kernel_size"]:
            del window["stride"]  # PyTorch's default
        values = {**window, "ceil_mode": bool(node.attribute("ceil_mode", 0))}
        if self.kind == "Avg":
            del values["dilation"]
            values["count_include_pad"] = bool(node.attribute("count_include_pad", 0))
        return Imported(keyword_values(self, values))

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``MaxPool`` / ``AveragePool`` (a ``divisor_override`` has no lowering)."""
        from convlint.layers.layer_type import NotExportable
        args = ctx.args
        kernel = list(args["kernel_size"])
        ceil = args["ceil_mode"]
        if ceil and not graph.dynamic:  # ONNX's shape inference keeps the last window PyTorch drops (ONNX Runtime
            from dataclasses import replace
            axes = self.window_axes(ctx)  # drops it): at fixed sizes, ask for floor mode where that gives its count
            ceil = [replace(axis, ceil_mode=False).out for axis in axes] != [axis.out for axis in axes]
        common = dict(kernel_shape=kernel, strides=list(args["stride"] or kernel), pads=list(args["padding"]) * 2,
                      ceil_mode=int(ceil))
        if self.kind == "Max":
            return graph.node("MaxPool", inputs[:1], dilations=list(args["dilation"]), **common)
        if args.get("divisor_override") is not None:
            raise NotExportable("AvgPool with divisor_override has no ONNX lowering")
        return graph.node("AveragePool", inputs[:1], count_include_pad=int(args["count_include_pad"]), **common)


class AdaptivePool(LayerType):
    """``torch.nn.Adaptive{Avg,Max}Pool{1,2,3}d``: ``(N, C, *spatial)`` → ``(N, C, *output_size)``.

    An ``output_size`` entry of ``null`` keeps that axis's input size.  No parameters.
    """

    family = "pool"

    def __init__(self, kind: str, ndim: int):
        self.name = f"Adaptive{kind}Pool{ndim}d"
        self.kind = kind
        self.spatial_dims = ndim
        self.input_ranks = (ndim + 2,)
        self.keywords = {"output_size": SizeTuple(doc="target size per axis" + ("; null keeps the input size" if ndim > 1 else ""),
                                                  allow_none=ndim > 1)}
        if kind == "Max":
            self.keywords["return_indices"] = Bool(False, "also return the argmax indices")

    def infer(self, ctx: LayerContext):
        if ctx.args.get("return_indices"):
            ctx.report("S012", "return_indices: true makes the layer return (values, indices), which no "
                               "following layer can take; leave it false", "return_indices",
                       Fix(ctx.layer.name, (("return_indices", False),)))
        batch, channels, *spatial = ctx.input
        sizes = [size if target is None else target for size, target in zip(spatial, ctx.args["output_size"])]
        return (batch, channels, *sizes)

    def symbolic_shape(self, layer):
        """``output_size`` per axis (an input size where it is ``null``)."""
        batch, channels, *spatial = layer.input
        return (batch, channels, *(size if target is None else target
                                   for size, target in zip(spatial, layer.args["output_size"])))

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels import pool
        function = pool.adaptive_max_pool if self.kind == "Max" else pool.adaptive_avg_pool
        return function(inputs[0], self.infer(ctx)[2:])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """PyTorch's adaptive window: ``⌊o·in/out⌋ .. ⌈(o+1)·in/out⌉ − 1``."""
        size = ctx.input[2 + axis]
        start, end = adaptive_window(position, size, ctx.args["output_size"][axis] or size)
        return [(start, end - 1)]

    # ---- Import (convlint import) ----
    @property
    def onnx_ops(self):  # type: ignore[override]
        """``GlobalAveragePool`` / ``GlobalMaxPool``, and ``ReduceMean`` / ``ReduceMax`` over every spatial axis
        keeping dims (PyTorch's exporter writes an adaptive pool to size 1 so)."""
        return ("GlobalMaxPool", "ReduceMax") if self.kind == "Max" else ("GlobalAveragePool", "ReduceMean")
    @property
    def torch_functions(self):  # type: ignore[override]
        """``torch.nn.functional.adaptive_avg_pool2d`` and its kin."""
        function = f"adaptive_{self.kind.lower()}_pool{self.spatial_dims}d"
        return (f"torch.nn.functional.{function}", f"aten.{function}.default")

    def from_torch_call(self, args, kwargs, ndim, inputs):
        """``F.adaptive_avg_pool2d(x, output_size)``."""
        size = args[0] if args else kwargs.get("output_size")
        if size is None or ndim != self.spatial_dims:
            return None
        size = list(size) if isinstance(size, (list, tuple)) else size
        return {"output_size": size[0] if isinstance(size, list) and len(set(size)) == 1 else size}


    def from_onnx(self, node):
        """``output_size: 1`` when the node pools every spatial axis to 1."""
        from convlint.importing.onnx_node import Imported
        if node.ndim != self.spatial_dims:
            return None
        if node.op.startswith("Reduce"):
            axes = node.attribute("axes")
            if axes is None and node.constant(1) is not None:
                axes = [int(axis) for axis in node.constant(1).flat]
            rank = self.spatial_dims + 2
            if (axes is None or sorted(axis % rank for axis in axes) != list(range(2, rank))
                    or not node.attribute("keepdims", 1)):
                return None
        return Imported({"output_size": 1}, sources=[0])

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``GlobalAveragePool``/``GlobalMaxPool`` to size 1; other sizes (at fixed input sizes only), per
        axis one reduction of each of PyTorch's windows, joined by ``Concat`` (the windows are a product of
        per-axis ranges, so pooling axis by axis gives the same)."""
        targets = self.infer(ctx)[2:]
        if all(target == 1 for target in targets):
            return graph.node("GlobalMaxPool" if self.kind == "Max" else "GlobalAveragePool", inputs[:1])
        graph.fixed_sizes(f"Adaptive{self.kind}Pool to {list(targets)}")
        x = inputs[0]
        for axis, (size, target) in enumerate(zip(ctx.input[2:], targets), start=2):
            if size == target:
                continue
            cells = []
            for position in range(target):
                start, end = adaptive_window(position, size, target)
                window = graph.node("Slice", [x, graph.constant([start]), graph.constant([end]), graph.constant([axis])])
                cells.append(graph.reduce("ReduceMax" if self.kind == "Max" else "ReduceMean", window, [axis]))
            x = graph.node("Concat", cells, axis=axis) if len(cells) > 1 else cells[0]
        return x if x != inputs[0] else graph.node("Identity", inputs[:1])  # every axis already at its target


@hookimpl
def register_layer_types(register):
    for ndim in (1, 2, 3):
        for kind in ("Max", "Avg"):
            register(Pool(kind, ndim))
            register(AdaptivePool(kind, ndim))
