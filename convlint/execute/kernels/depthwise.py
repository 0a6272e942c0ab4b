"""Stride-1 convolutions of thin groups (depthwise) that keep the size of every axis but the first.

A depthwise convolution has no GEMM to speak of: per group, ``(C_out/G x K) @ (K x positions)`` with
``K = C_in/G * prod(kernel)`` of 9 or so, memory-bound.  What costs is moving data, so this path moves
as little as it can:

* no padded copy of the input: each block copies the flat positions its taps read (the block's rows
  of its planes, plus a margin above and below) into a small window, zeros where they fall outside
  the plane (as padding); the window stays in cache for the next two steps, and its margins and the
  views on it are made once per block shape;
* the output positions are the input's flat positions (the trailing axes keep their size), so the im2col
  row of each tap is the window shifted by one offset (:mod:`.flat`), a read that wraps round a
  trailing axis zeroed afterwards;
* the GEMM of each block writes straight into the output, with no junk columns to drop.

Blocks of whole planes (several groups, or several samples) or of output rows keep the im2col buffer
in cache for the GEMM; with two threads or more, each thread takes a run of blocks (copies and GEMVs
alike), where BLAS would only spread each small GEMV.  Used by :func:`convlint.execute.kernels.conv.conv` for stride-1, zero-padded
convolutions of groups of at most four channels whose trailing axes keep their size (``padding='same'``
and the like: MobileNet's and EfficientNet's depthwise convolutions).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convlint.execute.kernels import flat, parallel


def conv_same_thin(x: np.ndarray, wmat: np.ndarray, kernel: Sequence[int], dilation: Sequence[int],
                   left: Sequence[int], out: np.ndarray, blocks: Sequence[tuple[slice, ...]], workers: int) -> None:
    """Fill ``out`` ``(N, C_out, *out)`` with the stride-1, zero-padded convolution of ``x`` ``(N, C_in, *in)``.

    ``out[2 + a] == in[2 + a]`` for every spatial axis but the first.  ``wmat``: the GEMM operand
    ``(G, C_out/G, C_in/G * prod(kernel) [+ 1])``, a last column beyond the taps holding the bias.
    ``left``: the padding before each spatial axis (the padding after it follows from the sizes).
    ``blocks``: ``(samples, groups, output rows)`` slices tiling ``(N, G, out[0])``, each a block whose
    im2col buffer (``kk`` rows of ``rows * prod(in[1:])`` positions per sample and group) is the size
    wanted; the first block is the largest.  ``workers`` threads each take a contiguous run of the blocks
    (with an im2col buffer of their own).
    """
    n, c_in = x.shape[:2]
    nd = x.ndim - 2
    g, coutg, kk = wmat.shape
    cg = c_in // g
    ck = cg * math.prod(kernel)
    in_sp, out_sp = x.shape[2:], out.shape[2:]
    m = [math.prod(in_sp[a + 1:]) for a in range(nd)]          # element strides of a plane
    plane, row = math.prod(in_sp), m[0]
    positions = math.prod(out_sp)
    low, high = flat.offset_range(kernel, dilation, left, m)
    planes = x.reshape(n, c_in, plane)
    item = x.itemsize
    wraps = flat.wrapped_reads(kernel, dilation, left, in_sp)
    outputs = out.reshape(n, g, coutg, positions)

    def extent(block: tuple[slice, ...]) -> tuple[int, int, int, int]:
        """Samples, groups, first and last output row of a block."""
        samples, groups, rows = block
        r0, r1, _ = rows.indices(out_sp[0])
        return len(range(*samples.indices(n))), len(range(*groups.indices(g))), r0, r1

    nb, gb, r0, r1 = extent(blocks[0])
    largest = nb * gb * kk * (r1 - r0) * row
    largest_window = nb * gb * cg * ((r1 - r0) * row + high - low)

    def run(part: Sequence[tuple[slice, ...]], copy_workers: int) -> None:  # copies are per block here
        cols_buf, window_buf = np.empty(largest, x.dtype), np.empty(largest_window, x.dtype)
        layouts: dict[tuple[int, int, int], tuple[np.ndarray, ...]] = {}

        def layout(nb: int, gb: int, rows: int) -> tuple[np.ndarray, ...]:
            """The window, its tap view, the im2col block and its tap-grid view for a block of ``nb``
            samples, ``gb`` groups and ``rows`` output rows (made once per shape: the buffers stay)."""
            if (nb, gb, rows) not in layouts:
                width = rows * row
                length = width + high - low
                window = window_buf[: nb * gb * cg * length].reshape(nb, gb * cg, length)
                # V[n, g, c, *k, j] = window[n, g*cg + c, j + off(k) - low]
                view = as_strided(window, shape=(nb, gb, cg) + tuple(kernel) + (width,),
                                  strides=(gb * cg * length * item, cg * length * item, length * item)
                                  + tuple(d * ma * item for d, ma in zip(dilation, m)) + (item,), writeable=False)
                cols = cols_buf[: nb * gb * kk * width].reshape(nb, gb, kk, width)
                taps = cols[:, :, :ck].reshape((nb, gb, cg) + tuple(kernel) + (width,), copy=False)
                grid = taps.reshape((nb, gb, cg) + tuple(kernel) + (rows,) + tuple(in_sp[1:]), copy=False)
                layouts[nb, gb, rows] = window, view, cols, taps, grid
            return layouts[nb, gb, rows]

        last = None                      # what the buffers hold beyond each block's data
        for samples, groups, rows in part:
            nb, gb, r0, r1 = extent((samples, groups, rows))
            window, view, cols, taps, grid = layout(nb, gb, r1 - r0)
            # the flat positions the block's taps read, [first, first + length): zero outside the plane
            first = r0 * row + low
            inside = slice(max(0, first), min(plane, first + window.shape[2]))
            g0, g1, _ = groups.indices(g)
            if last != (nb, gb, r1 - r0, first, inside):  # margins and the row of ones stay while these do
                window[:, :, : inside.start - first] = 0
                window[:, :, inside.stop - first:] = 0
                if kk > ck:
                    cols[:, :, ck] = 1
                last = (nb, gb, r1 - r0, first, inside)
            window[:, :, inside.start - first: inside.stop - first] = planes[samples, g0 * cg:g1 * cg, inside]
            np.copyto(taps, view)
            for index in wraps:
                grid[index] = 0
            np.matmul(wmat[groups], cols, out=outputs[samples, groups, :, r0 * row:r1 * row])

    parallel.run_blocks(run, blocks, workers)

