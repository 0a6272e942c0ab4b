"""Stride-1, zero-padded convolution with the first spatial axis's taps stacked into the GEMM's rows,
multiplied on the input's own planes only ("stacked" im2col).

Shapes: ``x (N, C_in, *in)``, weight ``(C_out, C_in/G, k_0, *k_t)``, output ``(N, C_out, *out)``; a
*plane* is one index of the first spatial axis, with ``P = prod(out[1:])`` output positions.

With stride 1, output plane ``d`` reads input plane ``q = d + t*d_0 - lo_0`` through first-axis tap ``t``
(``lo_0``: the first axis's leading padding, ``d_0`` its dilation).  One GEMM with the ``k_0`` taps
stacked into its rows, ``(k_0 * C_out/G, C_in/G * prod(k_t)) @ (C_in/G * prod(k_t), L * P)``, gives each
tap's partial sums for a run of ``L`` input planes, unfolded over the trailing taps at exactly the output
positions (no junk columns); tap ``t``'s rows for plane ``q`` are then added to output plane
``q + lo_0 - t*d_0`` when that plane exists.  Planes of zero padding are never multiplied, so the GEMM
does exactly the full unfold's work, with an im2col buffer ``k_0`` times smaller and a ``k_0`` times
taller weight matrix, which BLAS runs faster: OpenBLAS's SkylakeX kernel multiplies a 3×3×3, 64 → 64
convolution's ``(192 × 576) @ (576 × 1,024)`` blocks at about 210 GFLOP/s, its full unfold
``(64 × 1,728) @ (1,728 × 4,096)`` at about 140.

Each thread takes whole *parts* (a sample, or a run of a sample's output planes when there are fewer
samples than threads), so no two threads add into the same output plane; a part recomputes at most
``d_0 * (k_0 - 1)`` planes that its neighbour also multiplies.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convlint.execute.kernels import parallel


def plane_bytes(w_shape: Sequence[int], g: int, positions: int, item: int) -> int:
    """Temporaries per input plane of a block: its im2col rows (``C_in/G * prod(k_t)`` per group) and its
    stacked GEMM result (``k_0 * C_out/G`` per group), ``positions`` columns each, in bytes."""
    c_out, cg, k0 = w_shape[0], w_shape[1], w_shape[2]
    return (cg * math.prod(w_shape[3:]) + k0 * (c_out // g)) * g * positions * item


def conv_stacked(xt: np.ndarray, w: np.ndarray, b: np.ndarray | None, lo0: int, dilation: Sequence[int], g: int,
                 out: np.ndarray, limit: int) -> None:
    """Write the convolution of ``xt`` with ``w`` (plus ``b``) into ``out``.

    ``xt``: the input ``(N, C_in, in_0, *padded trailing sizes)``, zero-padded on the trailing axes only;
    ``lo0``: the first axis's leading zero padding (its trailing padding shows in ``out``'s size);
    ``limit``: bytes one block's temporaries may take (at least one plane's, :func:`plane_bytes`).
    """
    dtype = out.dtype
    n, c_in, in0 = xt.shape[:3]
    c_out, cg, k0 = w.shape[:3]
    kt = tuple(w.shape[3:])
    coutg = c_out // g
    d0 = dilation[0]
    out0, trailing = out.shape[2], tuple(out.shape[3:])
    positions = math.prod(trailing)
    ckt = cg * math.prod(kt)
    s = xt.strides
    # V[n, g, c, *tap, q, *pos] = xt[n, g*cg + c, q, *(pos + tap*dilation)]
    view = as_strided(xt, shape=(n, g, cg) + kt + (in0,) + trailing,
                      strides=(s[0], cg * s[1], s[1]) + tuple(d * st for d, st in zip(dilation[1:], s[3:]))
                      + (s[2],) + s[3:], writeable=False)
    # weights (G, coutg, cg, k0, *kt) -> (G, k0 * coutg, cg * prod(kt)): tap t's rows are block t
    wst = np.moveaxis(w.reshape((g, coutg, cg, k0) + kt), 3, 1).reshape(g, k0 * coutg, ckt)
    base = 0 if b is None else b.reshape(g, coutg, 1, 1)     # what an output plane starts from
    planes = max(1, limit // plane_bytes(w.shape, g, positions, dtype.itemsize))
    workers = parallel.threads()
    pieces = min(out0, -(-workers // n)) if n < workers else 1     # output-plane runs per sample
    bounds = np.linspace(0, out0, pieces + 1).astype(int)
    parts = [(i, int(a), int(z)) for i in range(n) for a, z in zip(bounds[:-1], bounds[1:]) if z > a]
    taps = (slice(None),) * len(kt)

    def convolve(chosen: Sequence[tuple[int, int, int]], copy_workers: int) -> None:
        cols_buf = np.empty(g * ckt * planes * positions, dtype)
        res_buf = np.empty(g * k0 * coutg * planes * positions, dtype)
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
                parallel.copyto(cols.reshape((g, cg) + kt + (q1 - q0,) + trailing),
                                view[(sample, slice(None), slice(None)) + taps + (slice(q0, q1),)], copy_workers)
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
