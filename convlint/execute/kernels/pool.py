"""N-d pooling (``torch.nn.MaxPoolNd``, ``AvgPoolNd``, ``AdaptiveAvgPoolNd``,
``AdaptiveMaxPoolNd``) with NumPy.

``x`` has shape ``(N, C, *spatial)``: the pooled axes are the trailing
``len(kernel_size)`` axes when ``kernel_size`` / ``output_size`` is a
sequence, else the trailing ``x.ndim - 2`` axes.

All four pools are separable: a max (sum) over a box is the max (sum) along
one axis after the other, and every divisor PyTorch uses is a product of
per-axis counts.  Each axis is reduced with a short loop over the kernel taps
(strided slices, ``np.maximum`` / ``np.add``), never over pixels.  The windowed max and average pools
take the input in blocks of planes, every axis of a block reduced while it is in cache, the blocks
spread over threads.

Output size (PyTorch's ``pooling_output_shape``), per axis::

    out = floor_or_ceil((in + 2p - d*(k-1) - 1) / s) + 1
    if ceil_mode and (out - 1)*s >= in + p: out -= 1
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from convlint.analysis.arithmetic import WindowAxis, adaptive_window
from convlint.execute.kernels import parallel
from convlint.execute.kernels.elementwise import as_float

__all__ = ["adaptive_avg_pool", "adaptive_max_pool", "avg_pool", "max_pool", "pool_output_size",
           "adaptive_windows"]


def _spatial(x: np.ndarray, first) -> int:
    """Number of pooled (trailing) axes: ``len(first)`` for a sequence, else ``x.ndim - 2``."""
    nd = len(first) if isinstance(first, (tuple, list)) else x.ndim - 2
    if nd < 1 or nd > x.ndim - 1:
        raise ValueError(f"cannot pool {nd} spatial axes of an array of shape {x.shape}")
    return nd


def _tuple(value, n: int, name: str) -> tuple:
    if value is None or isinstance(value, (int, np.integer)):
        return (value if value is None else int(value),) * n
    value = tuple(None if v is None else int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{name} must have {n} entries, got {value!r}")
    return value


def pool_output_size(in_size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """PyTorch's pooling output size for one axis (may be < 1 for invalid configurations),
    from :mod:`convlint.analysis.arithmetic`."""
    return WindowAxis(in_size, kernel, stride, padding, padding, dilation, ceil_mode).out


def _check(in_sp, kernel, stride, padding, dilation, ceil_mode, avg: bool):
    outs = []
    for i, k, s, p, d in zip(in_sp, kernel, stride, padding, dilation):
        if k < 1 or s < 1 or d < 1 or p < 0:
            raise ValueError(f"invalid pooling parameters kernel={kernel} stride={stride} "
                             f"padding={padding} dilation={dilation}")
        limit = k // 2 if avg else (d * (k - 1) + 1) // 2
        if p > limit:
            raise ValueError(f"padding {p} must be at most half of the (effective) kernel size {k}")
        o = pool_output_size(i, k, s, p, d, ceil_mode)
        if o < 1:
            raise ValueError(f"output size is too small for input {tuple(in_sp)}, kernel {kernel}, "
                             f"stride {stride}, padding {padding}, dilation {dilation}")
        outs.append(o)
    return outs


def _reduce_axis(x: np.ndarray, axis: int, k: int, s: int, p: int, d: int, out_size: int,
                 identity, op, out: np.ndarray | None = None) -> np.ndarray:
    """``op``-reduce the windows ``o*s - p + t*d`` (``t < k``) along ``axis``, into ``out`` when given.

    Padding is never materialised: each tap is one strided slice of ``x``,
    applied (``op(out, slice, out=out)``) to the outputs whose tap falls inside
    the input; outputs start at ``identity`` (-inf for max, 0 for sums), which
    is what a padded element would contribute.
    """
    n_in = x.shape[axis]
    shape = x.shape[:axis] + (out_size,) + x.shape[axis + 1:]
    if out is None:
        out = np.full(shape, identity, x.dtype)
    else:
        out[...] = identity
    pre = (slice(None),) * axis
    for t in range(k):
        off = t * d - p                                    # input index = o*s + off
        o0 = max(0, -(off // s))                           # ceil(-off / s)
        o1 = min(out_size, (n_in - 1 - off) // s + 1)
        if o1 <= o0:
            continue
        i0 = o0 * s + off
        src = x[pre + (slice(i0, i0 + (o1 - o0 - 1) * s + 1, s),)]
        dst = out[pre + (slice(o0, o1),)]
        op(dst, src, out=dst)
    return out


_POOL_BLOCK_BYTES = 1 << 20
"""Input bytes per block of planes: a block's taps are a dozen NumPy calls, and in smaller blocks two
threads spend more time taking turns at the interpreter than they save (a 3×3 stride-2 max pool of
8×64×112×112, one thread / two: 6.3 / 7.4–8.1 ms in blocks of 256 KiB, 5.9–6.3 / 3.6–4.5 ms in 1 MiB)."""


def _pooled_by_planes(x: np.ndarray, outs: Sequence[int],
                      pool_planes: Callable[[np.ndarray, np.ndarray], None]) -> np.ndarray:
    """``(*lead, *in) -> (*lead, *outs)``: ``pool_planes(planes, out)`` fills ``out (R, *outs)`` from
    ``planes (R, *in)`` for blocks of the input's planes (each block's intermediate results stay in cache
    between the axes), spread over threads (:func:`~convlint.execute.kernels.parallel.map_rows`)."""
    lead = x.ndim - len(outs)
    planes = x.reshape((-1,) + x.shape[lead:])
    out = np.empty((planes.shape[0],) + tuple(outs), x.dtype)
    parallel.map_rows(lambda rows: pool_planes(planes[rows], out[rows]), planes.shape[0],
                      math.prod(x.shape[lead:]) * x.itemsize, _POOL_BLOCK_BYTES)
    return out.reshape(x.shape[:lead] + tuple(outs))


def max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False) -> np.ndarray:
    """Max pooling, exactly ``torch.nn.MaxPoolNd`` (``return_indices=False``).

    ``x``: ``(N, C, *in)``; ``kernel_size``, ``stride`` (default: ``kernel_size``),
    ``padding`` (implicit ``-inf``, at most half the effective kernel),
    ``dilation``: int or one per pooled axis.  Returns ``(N, C, *out)`` with the
    module docstring's output size.  NaNs propagate, as in PyTorch.
    """
    x = as_float(x)
    nd = _spatial(x, kernel_size)
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None else _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    dilation = _tuple(dilation, nd, "dilation")
    outs = _check(x.shape[x.ndim - nd:], kernel, stride, padding, dilation, ceil_mode, avg=False)

    def pool_planes(planes: np.ndarray, out: np.ndarray) -> None:
        for a in range(nd):
            planes = _reduce_axis(planes, 1 + a, kernel[a], stride[a], padding[a], dilation[a], outs[a],
                                  -np.inf, np.maximum, out if a == nd - 1 else None)

    return _pooled_by_planes(x, outs, pool_planes)


def _avg_divisor_axis(in_size: int, k: int, s: int, p: int, out_size: int, count_include_pad: bool) -> np.ndarray:
    """PyTorch's per-axis window size for avg pooling (``pool_size`` or the in-input count)."""
    start = np.arange(out_size) * s - p
    end = np.minimum(start + k, in_size + p)     # windows never count beyond the right padding
    if count_include_pad:
        return end - start
    return np.minimum(end, in_size) - np.maximum(start, 0)


def avg_pool(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
             divisor_override=None) -> np.ndarray:
    """Average pooling, exactly ``torch.nn.AvgPoolNd``.

    ``x``: ``(N, C, *in)``; ``kernel_size``, ``stride`` (default ``kernel_size``),
    ``padding`` (implicit zeros, at most half the kernel): int or one per
    pooled axis.  Each window sum is divided by, in PyTorch's order of
    precedence: ``divisor_override``; with ``count_include_pad`` the window
    size clipped at the end of the right padding (``ceil_mode`` windows may run
    past it; that part is never counted); otherwise the number of input
    (non-padding) elements in the window.  Returns ``(N, C, *out)``.
    (PyTorch's ``AvgPool3d`` additionally rejects inputs smaller than the
    kernel along some axis, padding notwithstanding; this function computes
    them like the 1-d and 2-d pools do.)
    """
    x = as_float(x)
    nd = _spatial(x, kernel_size)
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None else _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    in_sp = x.shape[x.ndim - nd:]
    outs = _check(in_sp, kernel, stride, padding, (1,) * nd, ceil_mode, avg=True)
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ValueError("divisor_override must be non-zero")
        divisor = np.asarray(int(divisor_override), x.dtype)
    else:
        counts = np.ones((1,) * nd, np.int64)
        for a in range(nd):
            cnt = _avg_divisor_axis(in_sp[a], kernel[a], stride[a], padding[a], outs[a], count_include_pad)
            counts = counts * cnt.reshape((1,) * a + (-1,) + (1,) * (nd - a - 1))
        divisor = counts.astype(x.dtype)

    def pool_planes(planes: np.ndarray, out: np.ndarray) -> None:
        for a in range(nd):
            planes = _reduce_axis(planes, 1 + a, kernel[a], stride[a], padding[a], 1, outs[a], 0, np.add,
                                  out if a == nd - 1 else None)
        out /= divisor

    return _pooled_by_planes(x, outs, pool_planes)


def adaptive_windows(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive) of all ``out_size`` adaptive-pool windows, as arrays
    (:func:`convlint.analysis.arithmetic.adaptive_window`)."""
    return adaptive_window(np.arange(out_size, dtype=np.int64), in_size, out_size)


def _adaptive_sizes(x: np.ndarray, output_size) -> tuple[int, tuple]:
    nd = _spatial(x, output_size)
    outs = _tuple(output_size, nd, "output_size")
    lead = x.ndim - nd
    outs = tuple(x.shape[lead + a] if o is None else o for a, o in enumerate(outs))
    if min(outs) < 0:
        raise ValueError(f"output_size must be non-negative, got {output_size!r}")
    if min(x.shape[lead:]) < 1 and max(outs) > 0:
        raise ValueError(f"cannot adaptively pool an empty input of shape {x.shape}")
    return lead, outs


def _pool_each_axis(x, output_size, pool_axis: Callable[[np.ndarray, int, np.ndarray, np.ndarray], np.ndarray]
                    ) -> np.ndarray:
    """Adaptive pooling one spatial axis at a time: ``pool_axis(out, axis, start, end)`` pools ``axis`` of
    ``out`` over the windows ``start[i]..end[i] - 1`` (:func:`adaptive_windows`); an axis whose output size
    is its input size is left as it is.  Returns a new ``(N, C, *output_size)`` array."""
    x = as_float(x)
    lead, outs = _adaptive_sizes(x, output_size)
    out = x
    for a, o in enumerate(outs):
        axis = lead + a
        n_in = out.shape[axis]
        if o == n_in:
            continue  # identity windows
        start, end = adaptive_windows(n_in, o)
        out = pool_axis(out, axis, start, end)
    return np.ascontiguousarray(out) if out is not x else x.copy()


def adaptive_avg_pool(x, output_size) -> np.ndarray:
    """Adaptive average pooling, exactly ``torch.nn.AdaptiveAvgPoolNd``.

    ``x``: ``(N, C, *in)``; ``output_size``: int or one per axis, ``None``
    keeping that axis' input size.  Output ``i`` averages the window
    ``[floor(i*in/out), ceil((i+1)*in/out))``; windows may overlap and differ in
    size.  Each axis is one BLAS matmul with an ``(in, out)`` averaging matrix.
    Returns ``(N, C, *output_size)``.
    """
    return _pool_each_axis(x, output_size, _average_axis)


def _average_axis(out: np.ndarray, axis: int, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    idx = np.arange(out.shape[axis])[:, None]
    mat = ((idx >= start) & (idx < end)).astype(out.dtype) / (end - start).astype(out.dtype)
    moved = np.moveaxis(out, axis, -1)
    return np.moveaxis(moved @ mat, -1, axis)


def adaptive_max_pool(x, output_size) -> np.ndarray:
    """Adaptive max pooling, exactly ``torch.nn.AdaptiveMaxPoolNd`` (``return_indices=False``).

    Same windows as :func:`adaptive_avg_pool`.  Each axis gathers the windows,
    padded to the longest by repeating their last element, and takes the max.
    NaNs propagate.  Returns ``(N, C, *output_size)``.
    """
    return _pool_each_axis(x, output_size, _max_axis)


def _max_axis(out: np.ndarray, axis: int, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    width = int((end - start).max()) if len(start) else 1
    idx = np.minimum(start[:, None] + np.arange(width)[None, :], (end - 1)[:, None])  # (o, width)
    return np.take(out, idx, axis=axis).max(axis=axis + 1)   # axis -> (o, width) -> o
