"""Stride-1, zero-padded convolution with the first spatial axis's taps stacked into the GEMM's rows,
multiplied on the input's own planes only ("stacked" im2col).

Shapes: ``x (N, C_in, in_0, *in_t)``, weight ``(C_out, C_in/G, k_0, *k_t)``, output ``(N, C_out, out_0,
*out_t)``; a *plane* is one index of the first spatial axis, with ``P = prod(out_t)`` output positions.

With stride 1, output plane ``d`` reads input plane ``q = d + t*d_0 - lo_0`` through first-axis tap ``t``
(``lo_0``: the first axis's leading padding, ``d_0`` its dilation).  One GEMM with the ``k_0`` taps
stacked into its rows, ``(k_0 * C_out/G, C_in/G * prod(k_t)) @ (C_in/G * prod(k_t), L * P)``, gives each
tap's partial sums for a run of ``L`` input planes, unfolded over the trailing taps at exactly the output
positions (no junk columns); tap ``t``'s rows for plane ``q`` are then added to output plane
``q + lo_0 - t*d_0`` when that plane exists.  Planes of zero padding are never multiplied, so the GEMM
does exactly the full unfold's work, with an im2col buffer ``k_0`` times smaller and a ``k_0`` times
taller weight matrix, which BLAS runs faster: OpenBLAS's SkylakeX kernel on one AMD EPYC core multiplies
a 3×3×3, 64 → 64 convolution's ``(192 × 576) @ (576 × 1,280)`` blocks at 160 to 180 GFLOP/s, its full
unfold ``(64 × 1,728) @ (1,728 × 8,192)`` at about 115.

The trailing taps are unfolded in one of two ways:

* where the convolution keeps the trailing sizes (``out_t == in_t``, ``padding='same'`` and the like),
  straight from the flat planes (:mod:`.flat`): the block's planes are copied into a window (whole
  planes, contiguous), each tap's im2col row is that window shifted by one offset, a contiguous run of
  ``L * P`` elements, and the reads that leave a plane or wrap round a row are zeroed afterwards.  No
  padded copy of the input is made, and the copies run at memcpy speed where a strided unfold moves a
  row of ``out_t[-1]`` elements at a time (a 3×3×3 convolution of 64 channels on 16³, one thread:
  0.6 ms of copies per sample, where the padded input and its strided unfold take 1.5 ms);
* otherwise from the input zero-padded on the trailing axes (``in_t = out_t + d_t*(k_t - 1)``), viewed
  with every trailing tap's shift (``as_strided``) and copied at the output positions.

Each thread takes whole *parts* (a sample, or a run of a sample's output planes when there are fewer
samples than threads), so no two threads add into the same output plane; a part recomputes at most
``d_0 * (k_0 - 1)`` planes that its neighbour also multiplies.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convlint.execute.kernels import flat, parallel


def plane_bytes(w_shape: Sequence[int], g: int, positions: int, item: int, flat_planes: bool) -> int:
    """Temporaries per input plane of a block: its im2col rows (``C_in/G * prod(k_t)`` per group), its
    stacked GEMM result (``k_0 * C_out/G`` per group) and, with ``flat_planes`` (the trailing sizes kept),
    its copy in the window (``C_in/G`` per group), ``positions`` columns each, in bytes."""
    c_out, cg, k0 = w_shape[0], w_shape[1], w_shape[2]
    return (cg * math.prod(w_shape[3:]) + k0 * (c_out // g) + cg * flat_planes) * g * positions * item


def conv_stacked(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, left: Sequence[int],
                 dilation: Sequence[int], g: int, out: np.ndarray, limit: int) -> None:
    """Write the convolution of ``x`` with ``w`` (plus ``b``) into ``out``.

    ``x``: the input ``(N, C_in, in_0, *in_t)``, either with ``out``'s trailing sizes (the flat-plane
    unfold; reads outside a plane are zeros) or already zero-padded on the trailing axes (``left[1:]``
    all 0); ``left``: the leading zero padding of each spatial axis (the trailing padding shows in the
    sizes); ``limit``: bytes one block's temporaries may take (at least one plane's, :func:`plane_bytes`).
    """
    dtype = out.dtype
    item = dtype.itemsize
    n, c_in, in0 = x.shape[:3]
    c_out, cg, k0 = w.shape[:3]
    kt = tuple(w.shape[3:])
    coutg = c_out // g
    lo0, d0 = left[0], dilation[0]
    out0, trailing = out.shape[2], tuple(out.shape[3:])
    positions = math.prod(trailing)
    ckt = cg * math.prod(kt)
    flat_planes = tuple(x.shape[3:]) == trailing
    # weights (G, coutg, cg, k0, *kt) -> (G, k0 * coutg, cg * prod(kt)): tap t's rows are block t
    wst = np.moveaxis(w.reshape((g, coutg, cg, k0) + kt), 3, 1).reshape(g, k0 * coutg, ckt)
    base = 0 if b is None else b.reshape(g, coutg, 1, 1)     # what an output plane starts from
    planes = max(1, limit // plane_bytes(w.shape, g, positions, item, flat_planes))
    workers = parallel.threads()
    pieces = min(out0, -(-workers // n)) if n < workers else 1     # output-plane runs per sample
    bounds = np.linspace(0, out0, pieces + 1).astype(int)
    parts = [(i, int(a), int(z)) for i in range(n) for a, z in zip(bounds[:-1], bounds[1:]) if z > a]
    unfold = (_flat_unfold(x, kt, left[1:], dilation[1:], g, planes) if flat_planes
              else _padded_unfold(x, kt, dilation[1:], g))

    def convolve(chosen: Sequence[tuple[int, int, int]], copy_workers: int) -> None:
        cols_buf = np.empty(g * ckt * planes * positions, dtype)
        res_buf = np.empty(g * k0 * coutg * planes * positions, dtype)
        unfold_block = unfold()
        for sample, first, stop in chosen:
            dst = out[sample].reshape(g, coutg, out0, positions)
            ready = first          # output planes [first, ready) hold their base plus the taps added so far
            # input planes read by output planes [first, stop)
            q_first = max(0, first - lo0)
            q_stop = min(in0, stop - 1 + (k0 - 1) * d0 - lo0 + 1)
            for q0 in range(q_first, q_stop, planes):
                q1 = min(q0 + planes, q_stop)
                span = (q1 - q0) * positions
                cols = cols_buf[: g * ckt * span].reshape(g, ckt, span)
                unfold_block(cols, sample, q0, q1, copy_workers)
                res = res_buf[: g * k0 * coutg * span].reshape(g, k0 * coutg, span)
                np.matmul(wst, cols, out=res)
                res = res.reshape(g, k0, coutg, q1 - q0, positions)
                for t in reversed(range(k0)):          # the last tap reaches the lowest output planes
                    shift = lo0 - t * d0               # output plane = input plane + shift
                    lo, hi = max(q0, first - shift), min(q1, stop - shift)
                    if hi <= lo:
                        continue
                    if lo + shift > ready:             # planes a dilated kernel's taps stepped over so far
                        dst[:, :, ready: lo + shift] = base
                        ready = lo + shift
                    split = min(max(ready - shift, lo), hi)      # input planes below it add, above it write
                    dst[:, :, lo + shift: split + shift] += res[:, t, :, lo - q0: split - q0]
                    if split < hi:
                        np.add(res[:, t, :, split - q0: hi - q0], base, out=dst[:, :, split + shift: hi + shift])
                        ready = hi + shift
            dst[:, :, ready:stop] = base               # planes that read padding only

    parallel.run_blocks(convolve, parts)


Unfold = Callable[[np.ndarray, int, int, int, int], None]
"""``unfold(cols, sample, q0, q1, copy_workers)`` fills ``cols (G, C_in/G * prod(k_t), (q1 - q0) * P)``
with the trailing taps' reads of input planes ``[q0, q1)`` of a sample."""


def _flat_unfold(x: np.ndarray, kt: tuple[int, ...], left: Sequence[int], dilation: Sequence[int], g: int,
                 planes: int) -> Callable[[], Unfold]:
    """The flat-plane unfold (trailing sizes kept): a maker of one thread's unfold, with its own window
    of at most ``planes`` planes (plus the taps' reach before and after) per channel."""
    n, c_in, in0 = x.shape[:3]
    cg = c_in // g
    in_t = x.shape[3:]
    positions = math.prod(in_t)
    strides = [math.prod(in_t[a + 1:]) for a in range(len(in_t))]
    low, high = flat.offset_range(kt, dilation, left, strides)
    channels = x.reshape(n, c_in, in0 * positions)
    # reads that leave a plane or wrap round a row, for im2col blocks (1, G, C/G, 1, *k_t, L, *in_t)
    wraps = flat.wrapped_reads((1,) + kt, (1,) + tuple(dilation), (0,) + tuple(left), (0,) + tuple(in_t))
    item = x.itemsize

    def make() -> Unfold:
        window_buf = np.empty(c_in * (planes * positions + high - low), x.dtype)

        def unfold(cols: np.ndarray, sample: int, q0: int, q1: int, copy_workers: int) -> None:
            span = (q1 - q0) * positions
            length = span + high - low
            window = window_buf[: c_in * length].reshape(c_in, length)
            first = q0 * positions + low       # the flat position window[:, 0] holds
            inside = slice(max(0, first), min(in0 * positions, first + length))
            window[:, : inside.start - first] = 0
            window[:, inside.stop - first:] = 0
            parallel.copyto(window[:, inside.start - first: inside.stop - first], channels[sample, :, inside],
                            copy_workers)
            # V[g, c, *tap, j] = window[g*cg + c, j + off(tap) - low]
            view = as_strided(window, shape=(g, cg) + kt + (span,),
                              strides=(cg * length * item, length * item)
                              + tuple(d * m * item for d, m in zip(dilation, strides)) + (item,), writeable=False)
            parallel.copyto(cols.reshape((g, cg) + kt + (span,)), view, copy_workers)
            grid = cols.reshape((1, g, cg, 1) + kt + (q1 - q0,) + tuple(in_t))
            for index in wraps:
                grid[index] = 0

        return unfold

    return make


def _padded_unfold(xt: np.ndarray, kt: tuple[int, ...], dilation: Sequence[int], g: int) -> Callable[[], Unfold]:
    """The unfold from an input zero-padded on the trailing axes: every trailing tap's
    shift viewed at once (``as_strided``) and copied at the output positions."""
    n, c_in, in0 = xt.shape[:3]
    cg = c_in // g
    s = xt.strides
    trailing = tuple(size - d * (k - 1) for size, k, d in zip(xt.shape[3:], kt, dilation))
    # V[n, g, c, *tap, q, *pos] = xt[n, g*cg + c, q, *(pos + tap*dilation)]
    view = as_strided(xt, shape=(n, g, cg) + kt + (in0,) + trailing,
                      strides=(s[0], cg * s[1], s[1]) + tuple(d * st for d, st in zip(dilation, s[3:]))
                      + (s[2],) + s[3:], writeable=False)
    taps = (slice(None),) * len(kt)

    def unfold(cols: np.ndarray, sample: int, q0: int, q1: int, copy_workers: int) -> None:
        parallel.copyto(cols.reshape((g, cg) + kt + (q1 - q0,) + trailing),
                        view[(sample, slice(None), slice(None)) + taps + (slice(q0, q1),)], copy_workers)

    return lambda: unfold
