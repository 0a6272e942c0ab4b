"""The frames of `convlint animate` against PyTorch: for every frame, the input cells drawn as read
are exactly those the layer reads for that output cell (and, in the scatter view of a transposed
convolution, the output cells drawn as written are exactly those one input cell changes).

The oracle perturbs one input element at a time: a batch of one-hot inputs, one per input element,
through the torch layer with all weights 1 and no bias; output cell ``o`` of batch item ``b``
differs from the output of an all-zero input exactly when ``o`` reads input element ``b``."""
from __future__ import annotations

from math import prod

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convlint
from convlint.analysis.arithmetic import WindowAxis
from convlint.api import default_registry
from convlint.layers.registry import load_registry
from convlint.render.animate.frames import INPUT, OUTPUT
from convlint.render.animate.layer import AnimateError, ad_hoc_window, window_frames
from convlint.render.animate.scene import build_scene

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def torch_reads(module: torch.nn.Module, spatial: tuple[int, ...]) -> tuple[tuple[int, ...], dict]:
    """The output spatial shape, and output index → set of input indices read (both as 2-D pairs
    ``(row, column)``; a 1-D layer's row is 0)."""
    for parameter in module.parameters():
        parameter.data.fill_(1.0)
    count = prod(spatial)
    with torch.no_grad():
        outputs = module(torch.eye(count, dtype=torch.float64).reshape(count, 1, *spatial))
        baseline = module(torch.zeros(1, 1, *spatial, dtype=torch.float64))  # a max pool over padding alone: −inf
    out_shape = tuple(outputs.shape[2:])
    reads: dict = {}
    for item, *where in torch.nonzero(outputs[:, 0] != baseline[:, 0]).tolist():
        reads.setdefault(_pair(where), set()).add(_pair(_unravel(item, spatial)))
    return out_shape, reads


def _unravel(flat: int, shape: tuple[int, ...]) -> list[int]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return index[::-1]


def _pair(index) -> tuple[int, int]:
    return (0, index[0]) if len(index) == 1 else (index[0], index[1])


def frames_of(type_name: str, sizes: list[int], keywords: dict, view: str = "conv"):
    try:
        window = ad_hoc_window(type_name, sizes, keywords, default_registry())
    except AnimateError:
        assume(False)
    return window_frames(window, view)[0]


def check_gather(frames, out_shape, reads) -> None:
    drawn_shape = (frames.columns.cells,) if frames.spatial == 1 else (frames.rows.cells, frames.columns.cells)
    assert drawn_shape == out_shape
    positions = frames.positions()
    assert len(positions) == prod(out_shape)
    assert build_scene(frames, _labels(), limit=10**6).frames == prod(out_shape)
    shown = build_scene(frames, _labels(), limit=4)  # the first and last two per axis at most
    assert shown.frames == min(frames.rows.cells, 4) * min(frames.columns.cells, 4)
    for row, column in positions:
        assert frames.touched_elements(row, column, INPUT) == reads.get((row, column), set()), (row, column)


def check_scatter(frames, spatial, out_shape, reads) -> None:
    written: dict = {}
    for output, inputs in reads.items():
        for element in inputs:
            written.setdefault(element, set()).add(output)
    canvas_outputs = {index for index in frames.columns.index if index is not None}
    assert len(canvas_outputs) == out_shape[-1]
    assert len(frames.positions()) == prod(spatial)
    for row, column in frames.positions():
        assert frames.touched_elements(row, column, OUTPUT) == written.get((row, column), set()), (row, column)


def _labels():
    from convlint.render.animate.scene import Labels
    return Labels("t", "in", "out")


sizes = st.integers(1, 9)
kernels = st.integers(1, 4)
strides = st.integers(1, 3)
dilations = st.integers(1, 3)
paddings = st.integers(0, 3)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")
@SETTINGS
@given(st.data(), st.sampled_from([1, 2]))
def test_conv_frames_read_what_torch_reads(data, ndim):
    size = [data.draw(sizes) for _ in range(ndim)]
    kernel = [data.draw(kernels) for _ in range(ndim)]
    stride = [data.draw(strides) for _ in range(ndim)]
    dilation = [data.draw(dilations) for _ in range(ndim)]
    padding = data.draw(st.one_of(st.lists(paddings, min_size=ndim, max_size=ndim), st.just("same")))
    if padding == "same":
        stride = [1] * ndim
    assume(all(s + 2 * (p if padding != "same" else 0) >= d * (k - 1) + 1 or padding == "same"
               for s, k, d, p in zip(size, kernel, dilation, padding if padding != "same" else [0] * ndim)))
    frames = frames_of(f"Conv{ndim}d", size, {"kernel_size": kernel, "stride": stride, "padding": padding,
                                              "dilation": dilation})
    module = getattr(torch.nn, f"Conv{ndim}d")(1, 1, kernel, stride, padding, dilation, bias=False).double()
    out_shape, reads = torch_reads(module, tuple(size))
    check_gather(frames, out_shape, reads)


@SETTINGS
@given(st.data(), st.sampled_from([1, 2]), st.sampled_from(["Max", "Avg"]))
def test_pool_frames_read_what_torch_reads(data, ndim, kind):
    size = [data.draw(sizes) for _ in range(ndim)]
    kernel = [data.draw(kernels) for _ in range(ndim)]
    stride = [data.draw(strides) for _ in range(ndim)]
    padding = [data.draw(st.integers(0, k // 2)) for k in kernel]
    dilation = [data.draw(dilations) for _ in range(ndim)] if kind == "Max" else [1] * ndim
    ceil_mode = data.draw(st.booleans())
    keywords = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    if kind == "Max":
        keywords["dilation"] = dilation
    frames = frames_of(f"{kind}Pool{ndim}d", size, keywords)
    arguments = dict(keywords)
    module = getattr(torch.nn, f"{kind}Pool{ndim}d")(**arguments)
    try:
        out_shape, reads = torch_reads(module, tuple(size))
    except RuntimeError:
        pytest.fail(f"convlint draws a layer PyTorch refuses: {keywords} on {size}")
    check_gather(frames, out_shape, reads)


@SETTINGS
@given(st.data(), st.sampled_from([1, 2]), st.sampled_from(["conv", "scatter"]))
def test_transposed_frames_match_torch(data, ndim, view):
    size = [data.draw(st.integers(1, 6)) for _ in range(ndim)]
    kernel = [data.draw(kernels) for _ in range(ndim)]
    stride = [data.draw(strides) for _ in range(ndim)]
    dilation = [data.draw(dilations) for _ in range(ndim)]
    padding = [data.draw(paddings) for _ in range(ndim)]
    output_padding = [data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
    frames = frames_of(f"ConvTranspose{ndim}d", size, {"kernel_size": kernel, "stride": stride, "padding": padding,
                                                       "dilation": dilation, "output_padding": output_padding}, view)
    module = getattr(torch.nn, f"ConvTranspose{ndim}d")(1, 1, kernel, stride, padding, output_padding,
                                                        bias=False, dilation=dilation).double()
    out_shape, reads = torch_reads(module, tuple(size))
    if view == "conv":
        check_gather(frames, out_shape, reads)
    else:
        check_scatter(frames, size, out_shape, reads)


def test_ceil_mode_window_is_marked_extra():
    """MaxPool2d(k=2, s=2, ceil_mode) on 5: the third window exists only in ceil mode."""
    frames = frames_of("MaxPool1d", [5], {"kernel_size": 2, "ceil_mode": True})
    assert frames.columns.frame_kinds == ("output", "output", "extra")


def test_dropped_input_is_never_touched():
    """Conv1d(k=3, s=2) on 8: (8 − 3) mod 2 = 1, so input 7 is read by no window (S001)."""
    frames = frames_of("Conv1d", [8], {"kernel_size": 3, "stride": 2})
    assert [frames.columns.index[cell] for cell in frames.columns.never_touched(INPUT)] == [7]


class Blur1d(convlint.LayerType):
    """A third-party layer: a fixed 3-tap window at stride 2 with padding 1 on each side."""

    name = "Blur1d"
    family = "pool"
    input_ranks = (3,)
    keywords = {}

    def infer(self, ctx):
        return (*ctx.input[:2], self.window_axes(ctx)[0].out)

    def window_axes(self, ctx):
        return [WindowAxis(ctx.input[2], 3, 2, 1, 1)]


class BlurPlugin:
    @convlint.hookimpl
    def register_layer_types(self, register):
        register(Blur1d())
        register(Broken1d())


class Broken1d(Blur1d):
    name = "Broken1d"

    def infer(self, ctx):
        return ctx.input

    def window_axes(self, ctx):
        raise ZeroDivisionError("oops")


def test_a_plugin_layer_with_window_axes_is_animated():
    registry = load_registry(only_distribution="convlint", extra=[("blur", BlurPlugin())])
    frames, _ = window_frames(ad_hoc_window("Blur1d", [7], {}, registry))
    reads = [frames.touched_elements(0, column, INPUT) for column in range(frames.columns.cells)]
    assert reads == [{(0, 0), (0, 1)}, {(0, 1), (0, 2), (0, 3)}, {(0, 3), (0, 4), (0, 5)}, {(0, 5), (0, 6)}]


def test_a_layer_without_window_axes_or_with_a_failing_one_is_refused():
    registry = load_registry(only_distribution="convlint", extra=[("blur", BlurPlugin())])
    with pytest.raises(AnimateError, match=r"`layer` \(ReLU\) has no sliding window to draw"):
        ad_hoc_window("ReLU", [7, 7], {}, registry)
    with pytest.raises(AnimateError, match=r"plugin `blur` failed on Broken1d.window_axes: ZeroDivisionError: oops"):
        ad_hoc_window("Broken1d", [7], {}, registry)


def test_a_max_pool_window_over_padding_alone_reads_nothing():
    """MaxPool1d(2, stride 1, padding 1, dilation 2) on 1 element: the one window's taps are both padding,
    and PyTorch gives −inf."""
    frames = frames_of("MaxPool1d", [1], {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2})
    out_shape, reads = torch_reads(torch.nn.MaxPool1d(2, 1, 1, dilation=2), (1,))
    assert out_shape == (1,) and reads == {}
    check_gather(frames, out_shape, reads)
