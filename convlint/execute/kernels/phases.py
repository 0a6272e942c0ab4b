"""Strided convolution on the phase-split input: im2col by copies of contiguous rows, cache-sized GEMMs.

A convolution of stride ``s`` (dilation 1) reads the padded input at ``o*s + k`` along each spatial axis
(``o``: output position, ``k``: kernel tap).  Writing ``k = a*s + p`` (``p = k mod s``), that is position
``o + a`` of *phase plane* ``p``, the sub-array ``xp[..., p::s]``.  Once the padded input is split into its
``prod(s)`` phase planes (one pass over the input), the im2col rows of a tap are runs of a phase plane's
rows, contiguous along the last axis, where the strided gather of :mod:`.conv`'s general path reads every
``s``-th element.

The taps of one axis split into a grid of ``k // s`` shifts times ``s`` phases and a remainder (shift
``k // s``, phases ``0 .. k mod s - 1``), each of them a strided view of the phase planes with one stride
per index, so a block's whole im2col buffer is filled by ``2**nd`` copies (4 for a 2-d stem).  Blocks of
output rows keep the im2col buffer in cache while the GEMM reads it, and the GEMM writes the block's rows
of the output directly.  Used by :func:`convlint.execute.kernels.conv.conv` for large strided feature
maps: the 7×7 stride-2 stem of ResNet is ``(64 x 148) @ (148 x 12,544)`` (bias row included) in blocks.
"""
from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convlint.execute.kernels import parallel


def phase_shape(sizes: Sequence[int], stride: Sequence[int]) -> tuple[int, ...]:
    """The size of a phase plane along each axis: ``ceil(in_a / s_a)``."""
    return tuple(-(-size // s) for size, s in zip(sizes, stride))


def phase_split(xp: np.ndarray, stride: Sequence[int]) -> np.ndarray:
    """The phase planes of the padded input ``xp`` ``(N, C, *in)``: an array ``(N, C, *stride, *q)``
    (``q``: :func:`phase_shape`) holding ``xp[..., p::s]`` at phase ``p``.  A phase with fewer positions
    than ``q`` along an axis leaves the rest unset: no output reads it."""
    n, c = xp.shape[:2]
    planes = np.empty((n, c) + tuple(stride) + phase_shape(xp.shape[2:], stride), xp.dtype)
    for phase in itertools.product(*(range(s) for s in stride)):
        src = xp[(slice(None), slice(None)) + tuple(slice(p, None, s) for p, s in zip(phase, stride))]
        planes[(slice(None), slice(None)) + phase + tuple(slice(0, size) for size in src.shape[2:])] = src
    return planes


def _tap_pieces(k: int, s: int) -> list[tuple[slice, int, tuple[int, int]]]:
    """The taps ``0 .. k-1`` of one axis as pieces ``(taps, first shift, (shifts, phases))``: a grid of
    ``k // s`` shifts times ``s`` phases, then the remainder (one shift, ``k mod s`` phases)."""
    pieces = []
    if k // s:
        pieces.append((slice(0, k // s * s), 0, (k // s, s)))
    if k % s:
        pieces.append((slice(k // s * s, k), k // s, (1, k % s)))
    return pieces


def conv_phases(xp: np.ndarray, wmat: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
                out: np.ndarray, block_bytes: int) -> None:
    """Fill ``out`` ``(N, C_out, *out)`` with the convolution of the padded input ``xp`` ``(N, C_in, *in)``.

    ``wmat``: the GEMM operand ``(G, C_out/G, C_in/G * prod(kernel) [+ 1])``; a last column beyond the
    taps holds the bias (matched by a row of ones).  Dilation 1; ``stride`` per axis.  Blocks of whole
    output rows (first spatial axis) of one sample keep the im2col buffer near ``block_bytes`` (one row
    at least); the GEMM writes each block's rows of the output directly.  With several threads, each
    takes a run of the blocks (:func:`~convlint.execute.kernels.parallel.run_blocks`), with a buffer of
    its own.
    """
    n, c_in = xp.shape[:2]
    nd = len(kernel)
    g, coutg, kk = wmat.shape
    cg = c_in // g
    ck = cg * math.prod(kernel)
    out_sp = out.shape[2:]
    q = phase_shape(xp.shape[2:], stride)
    buf = phase_split(xp, stride).reshape(-1)
    item = buf.itemsize
    plane = math.prod(q)
    m = [math.prod(q[a + 1:]) for a in range(nd)]                  # element strides in a phase plane
    phase_strides = [math.prod(stride[a + 1:]) * plane for a in range(nd)]
    channel = math.prod(stride) * plane
    # one strided view per piece of the taps, over every sample and output position: V[n, g, c, (shift,
    # phase) per axis, *o] = planes[n, g*C_in/G + c, *phase, *(o + shift)]
    sources = []
    for piece in itertools.product(*(_tap_pieces(k, s) for k, s in zip(kernel, stride))):
        shape, strides, offset = [n, g, cg], [c_in * channel, cg * channel, channel], 0
        for a, (_, first, (shifts, phases)) in enumerate(piece):
            shape += [shifts, phases]
            strides += [m[a], phase_strides[a]]
            offset += first * m[a]
        src = as_strided(buf[offset:], shape=tuple(shape) + tuple(out_sp),
                         strides=tuple(st * item for st in strides + m), writeable=False)
        sources.append((tuple(p[0] for p in piece), src))
    rest = math.prod(out_sp[1:])
    rows_out = out_sp[0]
    run = max(1, min(rows_out, block_bytes // (g * kk * rest * item)))
    run = -(-rows_out // -(-rows_out // run))                      # equal-ish blocks
    blocks = [(i, r0, min(r0 + run, rows_out)) for i in range(n) for r0 in range(0, rows_out, run)]

    def convolve(part: Sequence[tuple[int, int, int]], copy_workers: int) -> None:  # copies are per tap here
        cols_buf = np.empty(g * kk * run * rest, buf.dtype)
        for i, r0, r1 in part:
            span = (r1 - r0) * rest
            cols = cols_buf[: g * kk * span].reshape(g, kk, span)
            if kk > ck:
                cols[:, ck] = 1
            taps = cols[:, :ck].reshape((g, cg) + tuple(kernel) + (r1 - r0,) + tuple(out_sp[1:]), copy=False)
            for tap_slices, src in sources:
                rows = src[(i, Ellipsis, slice(r0, r1)) + (slice(None),) * (nd - 1)]
                dst = taps[(slice(None), slice(None)) + tap_slices]
                np.copyto(dst.reshape(rows.shape, copy=False), rows)
            np.matmul(wmat, cols, out=out[i, :, r0:r1].reshape(g, coutg, span, copy=False))

    parallel.run_blocks(convolve, blocks)
