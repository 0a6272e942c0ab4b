"""N-d convolution (``torch.nn.Conv1d/2d/3d`` in inference) with NumPy.

Layout is PyTorch's: ``x`` has shape ``(N, C_in, *spatial)``, the weight
``(C_out, C_in // groups, *kernel)`` and the result ``(N, C_out, *out)``.

Algorithm: im2col + one BLAS matmul per group (``np.matmul`` on a stack of
groups, so its loop over groups -- and over samples, in the sample-major
layout -- runs in C).  The (padded) input is viewed, without copying, as a
strided array (``as_strided``) holding every kernel tap's shifted copy, and
blocks of that view are copied ("im2col") into one contiguous buffer:

* general path, ``V[n, g, c, *tap, *pos] = xp[n, g*C_in/G + c, *(pos*stride
  + tap*dilation)]``, copied either "batch-merged" ``(G, C_in/G*K, nb*P)``
  (one ``(C_out/G, C_in/G*K) @ (C_in/G*K, nb*P)`` GEMM per group whose
  columns span several samples, so small feature maps still give large
  matrices) or "sample-major" ``(nb, G, C_in/G*K, P)`` (large feature maps;
  thin groups such as depthwise), the result landing straight in the output;
* phase path (strides above 1 on large maps, dilation 1; see :mod:`.phases`): the padded input is
  split into its stride phases, so every im2col row is copied in contiguous runs, and cache-sized
  blocks of output rows each take one GEMM that writes the output directly;
* depthwise path (stride 1, groups of at most four channels, zero padding that keeps the size of every
  axis but the first; see :mod:`.depthwise`): im2col rows copied straight from the flat planes between
  margins of zeros, the GEMM writing the output;
* pointwise path (``1×…×1`` kernels without padding, see :func:`_conv_pointwise`): the input itself
  is the GEMM operand, no im2col;
* stride-1 path ("flat", see :func:`_conv_flat`): the trailing spatial axes
  are flattened with their padding, so every im2col row is one contiguous
  slice of the padded input (a memcpy), and for tall blocks the first axis'
  taps are stacked into the GEMM's rows instead of being unfolded;
* stacked path (stride 1, zero padding, dense groups, at least ``_MIN_COLUMNS`` output positions a
  sample; see :mod:`.stacked`): the first axis's taps stacked into the GEMM's rows, the other taps
  unfolded at exactly the output positions, and only the input's own planes multiplied.  It does no
  junk work, so it comes before the flat path, which keeps thin groups and the other padding modes.

A bias is folded into the GEMM (an extra weight column against a row of ones).
Blocks split the batch and then the output rows (outer axes first), so the
temporaries of one block (the im2col buffer plus the matmul result) stay below
``chunk_bytes`` (and near a smaller, cache-friendly size when that still keeps
the matmul large).  There are no Python loops over pixels, channels or groups;
the only Python loop is over blocks (one sample at a time only when a sample
does not fit in one block).
"""
from __future__ import annotations

import itertools
import math
from typing import Iterable, Iterator, Literal, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convlint.analysis.arithmetic import WindowAxis, same_padding
from convlint.execute.kernels import depthwise, parallel, phases, stacked
from convlint.execute.kernels.elementwise import as_float
from convlint.execute.memory import DEFAULT_CHUNK_BYTES

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "PADDING_MODES",
    "conv",
    "conv_output_size",
    "resolve_padding",
]

#: PyTorch ``padding_mode`` -> :func:`numpy.pad` mode.
PADDING_MODES: dict[str, Literal["constant", "reflect", "edge", "wrap"]] = {
    "zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

# Performance knobs (not part of the semantics).  A block's temporaries are
# kept near _TARGET_BYTES so that the im2col buffer is still in cache when the
# GEMM reads it, but never so small that the GEMM gets fewer than
# _MIN_COLUMNS columns (BLAS efficiency drops on skinny matrices).
_TARGET_BYTES = 8 * 2**20
_MIN_COLUMNS = 1024
# Groups with at most this many input channels are "thin" (depthwise-like):
# their stacked matmuls are memory bound, so blocks are kept small.
_SAMPLE_MAJOR_MAX_CG = 4
_THIN_TARGET_BYTES = 2**20
# Strided convolutions of large maps (see phases.py) keep a block's im2col buffer plus GEMM result near
# this size (in L2 cache, where the GEMM reads it back).
_PHASE_TARGET_BYTES = 2**20
# The depthwise path (see depthwise.py) takes larger blocks: fewer Python steps, each still in cache.
_DEPTHWISE_TARGET_BYTES = 2 * 2**20
# Stride-1 dense convolutions use the flat layout when at most this fraction
# of its columns are junk (outputs at padded positions, computed then dropped).
_FLAT_MAX_JUNK = 0.08
# The stacked path (see stacked.py) keeps a block's im2col buffer plus GEMM result near this size.
_STACKED_TARGET_BYTES = 4 * 2**20


# ----------------------------------------------------------------------------
# small helpers shared with transposed.py
# ----------------------------------------------------------------------------

def _ntuple(value, n: int, name: str) -> tuple[int, ...]:
    """An int or a length-1/length-n sequence of ints as an n-tuple of ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{name} must have {n} entries, got {value!r}")
    return value


def resolve_padding(padding, kernel_size: Sequence[int], dilation: Sequence[int] | int = 1
                    ) -> tuple[tuple[int, int], ...]:
    """Padding as one ``(left, right)`` pair per spatial axis.

    Accepts ``'valid'``, ``'same'`` (PyTorch: total ``d*(k-1)``, ``left =
    total // 2``, ``right = total - left``), an int, one int per axis, or one
    pair per axis.
    """
    nd = len(kernel_size)
    dilation = _ntuple(dilation, nd, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            return tuple(same_padding(k, d) for k, d in zip(kernel_size, dilation))
        raise ValueError(f"padding must be 'same', 'valid', an int or a sequence, got {padding!r}")
    if isinstance(padding, (int, np.integer)):
        return ((int(padding), int(padding)),) * nd
    padding = list(padding)
    if len(padding) == 1 and nd != 1:
        padding = padding * nd
    if len(padding) != nd:
        raise ValueError(f"padding must have {nd} entries, got {padding!r}")
    pairs = []
    for p in padding:
        if isinstance(p, (int, np.integer)):
            pairs.append((int(p), int(p)))
        else:
            left, right = p
            pairs.append((int(left), int(right)))
    if any(p < 0 for pair in pairs for p in pair):
        raise ValueError(f"padding must be non-negative, got {pairs!r}")
    return tuple(pairs)


def conv_output_size(in_size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """``floor((in + pad_total - d*(k-1) - 1) / s) + 1`` (PyTorch's rule, from :mod:`convlint.analysis.arithmetic`)."""
    return WindowAxis(in_size, kernel, stride, pad_total, 0, dilation).out


def _pad(x: np.ndarray, pairs: Sequence[tuple[int, int]], padding_mode: str) -> np.ndarray:
    """Pad the spatial axes of ``x`` (``(N, C, *spatial)``) as PyTorch's ``padding_mode`` does."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {sorted(PADDING_MODES)}, got {padding_mode!r}")
    if not any(p for pair in pairs for p in pair):
        return x
    if padding_mode == "zeros":
        return pad_constant(x, pairs, 0)
    for size, (left, right) in zip(x.shape[2:], pairs):
        if padding_mode == "reflect" and max(left, right) >= size:
            raise ValueError(f"reflect padding {(left, right)} must be smaller than the input size {size}")
        if padding_mode == "circular" and max(left, right) > size:
            raise ValueError(f"circular padding {(left, right)} must not exceed the input size {size}")
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pairs), mode=PADDING_MODES[padding_mode])


def pad_constant(x: np.ndarray, pairs: Sequence[tuple[int, int]], value=0, out: np.ndarray | None = None
                 ) -> np.ndarray:
    """Pad the trailing ``len(pairs)`` axes of ``x`` with ``value`` (like ``np.pad(mode='constant')``).

    Faster than :func:`numpy.pad`: the interior is copied once and only the
    border slabs are filled.  ``out``: an array of the padded shape to fill.
    """
    lead = x.ndim - len(pairs)
    shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], pairs))
    xp = np.empty(shape, x.dtype) if out is None else out
    inner = [slice(lo, lo + s) for s, (lo, _) in zip(x.shape[lead:], pairs)]
    xp[(slice(None),) * lead + tuple(inner)] = x
    for a, (lo, hi) in enumerate(pairs):
        # axes before a: full; axis a: the border; axes after a: the interior only
        head = (slice(None),) * (lead + a)
        tail = tuple(inner[a + 1:])
        if lo:
            xp[head + (slice(0, lo),) + tail] = value
        if hi:
            xp[head + (slice(shape[lead + a] - hi, None),) + tail] = value
    return xp


def _block_len(length: int, want: int) -> int:
    """Split ``length`` into equal-ish blocks of at most ``want``; the block length."""
    want = max(1, min(length, want))
    nblocks = -(-length // want)
    return -(-length // nblocks)


def _blocks(shape: Sequence[int], unit_bytes: int, limit_bytes: int) -> Iterator[tuple[slice, ...]]:
    """Tile ``shape`` (C order) into blocks whose element count times ``unit_bytes`` fits ``limit_bytes``.

    Blocks are whole trailing sub-arrays times a run of the *split axis*:
    the outermost axis ``j`` such that one index of it (``prod(shape[j+1:])``
    elements) fits.  Axes before ``j`` are walked one index at a time.  When
    even a single element does not fit, blocks are single elements (the
    smallest granularity there is).  Yields one tuple of slices per block.
    """
    n = len(shape)
    tails = [math.prod(shape[j + 1:]) for j in range(n)]
    split = n - 1
    for j in range(n):
        if tails[j] * unit_bytes <= limit_bytes:
            split = j
            break
    run = _block_len(shape[split], limit_bytes // max(1, tails[split] * unit_bytes))
    rest = (slice(None),) * (n - split - 1)
    for idx in itertools.product(*(range(s) for s in shape[:split])):
        head = tuple(slice(i, i + 1) for i in idx)
        for start in range(0, shape[split], run):
            yield head + (slice(start, min(start + run, shape[split])),) + rest


def _block_limit(unit_bytes: int, chunk_bytes: int) -> int:
    """Bytes one block may take: cache-friendly, but at least _MIN_COLUMNS columns, at most chunk_bytes."""
    return max(1, min(int(chunk_bytes), max(_TARGET_BYTES, _MIN_COLUMNS * unit_bytes)))


# ----------------------------------------------------------------------------
# convolution
# ----------------------------------------------------------------------------

def input_and_weight(x, weight) -> tuple[np.ndarray, np.ndarray, int]:
    """``x`` as a float array ``(N, C, *spatial)``, ``weight`` in its dtype with ``2 + nd`` axes, and
    ``nd`` (the number of spatial axes); ``ValueError`` for other ranks."""
    x = as_float(x)
    nd = x.ndim - 2
    if nd < 1:
        raise ValueError(f"x must have shape (N, C, *spatial), got {x.shape}")
    w = np.asarray(weight, dtype=x.dtype)
    if w.ndim != nd + 2:
        raise ValueError(f"weight must have {nd + 2} dimensions for a {nd}-d input, got shape {w.shape}")
    return x, w, nd


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1,
         padding_mode: str = "zeros", chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> np.ndarray:
    """N-d convolution, exactly ``torch.nn.ConvNd`` (cross-correlation) in inference.

    Parameters
    ----------
    x : array ``(N, C_in, *in)`` with 1, 2 or 3 (or more) spatial axes.
    weight : array ``(C_out, C_in // groups, *k)``.
    bias : array ``(C_out,)`` or ``None``.
    stride, dilation : int or one int per spatial axis.
    padding : one ``(left, right)`` pair per spatial axis (also accepted: an
        int, one int per axis, ``'same'``, ``'valid'``; see :func:`resolve_padding`).
    groups : ``C_in`` and ``C_out`` must both be divisible by it.
    padding_mode : ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``
        (NumPy's ``constant``, ``reflect``, ``edge``, ``wrap``).
    chunk_bytes : upper bound on the im2col temporaries of one block
        (im2col buffer plus matmul result).  Blocks split the batch, then the
        output axes in order; the smallest block is one output position of one
        sample, so the bound cannot hold below ``(C_in/groups*prod(k) +
        C_out/groups) * itemsize`` bytes.  Not counted: the output, the
        padded copy of the input (made when there is padding, and always for
        stride 1) and its phase-split copy (the phase path), the reshaped
        weights and NumPy's own fixed-size iteration buffers (tens of KiB).

    Returns
    -------
    array ``(N, C_out, *out)`` of ``x``'s dtype, with
    ``out = floor((in + left + right - d*(k-1) - 1) / s) + 1`` per axis.
    """
    x, w, nd = input_and_weight(x, weight)
    dtype = x.dtype
    n, c_in = x.shape[:2]
    c_out, cg = w.shape[:2]
    kernel = tuple(w.shape[2:])
    g = int(groups)
    if g < 1 or c_in % g or c_out % g:
        raise ValueError(f"groups={groups} must divide C_in={c_in} and C_out={c_out}")
    if cg * g != c_in:
        raise ValueError(f"weight has {cg} input channels per group, expected C_in/groups = {c_in // g}")
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError("stride and dilation must be positive")
    pairs = resolve_padding(padding, kernel, dilation)
    b = None
    if bias is not None:
        b = np.asarray(bias, dtype=dtype).reshape(c_out)

    in_p = tuple(sz + lo + hi for sz, (lo, hi) in zip(x.shape[2:], pairs))
    out_sp = tuple(conv_output_size(sz, k, st, 0, d) for sz, k, st, d in zip(in_p, kernel, stride, dilation))
    if min(out_sp) < 1:
        raise ValueError(f"output size {out_sp} is too small (input {x.shape[2:]}, kernel {kernel}, "
                         f"padding {pairs}, stride {stride}, dilation {dilation})")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {sorted(PADDING_MODES)}, got {padding_mode!r}")
    out = np.empty((n, c_out) + out_sp, dtype)
    if n == 0 or c_out == 0:
        return out
    if c_in == 0:  # empty reduction
        out[...] = 0 if b is None else b.reshape((c_out,) + (1,) * nd)
        return out

    coutg = c_out // g
    if math.prod(kernel) == 1 and not any(p for pair in pairs for p in pair):
        _conv_pointwise(x, w, b, stride, g, out)
        return out
    ck = cg * math.prod(kernel)
    item = dtype.itemsize
    thin = g > 1 and cg <= _SAMPLE_MAJOR_MAX_CG
    if max(stride) == 1 and thin and padding_mode == "zeros" and out_sp[1:] == x.shape[3:]:
        # depthwise-like and the trailing sizes kept: im2col straight from the flat planes
        wmat, kk = _weight_matrix(w, b, g)
        unit = kk * math.prod(out_sp[1:]) * item       # im2col bytes per (sample, group, output row)
        if unit <= chunk_bytes:
            workers = parallel.threads() if parallel.threads() * unit <= chunk_bytes else 1
            limit = min(int(chunk_bytes) // workers, _DEPTHWISE_TARGET_BYTES)    # per thread
            plane_blocks = list(_blocks((n, g, out_sp[0]), unit, limit))
            depthwise.conv_same_thin(x, wmat, kernel, dilation, [lo for lo, _ in pairs], out, plane_blocks,
                                     workers)
            return out
    if max(stride) == 1:
        flat_planes = out_sp[1:] == x.shape[3:]
        unit_plane = stacked.plane_bytes(w.shape, g, math.prod(out_sp[1:]), item, flat_planes)
        if (nd > 1 and kernel[0] > 1 and padding_mode == "zeros" and not thin
                and math.prod(out_sp) >= _MIN_COLUMNS and unit_plane <= chunk_bytes):
            # dense and zero-padded: stack the first axis's taps, unfold the others at the output positions
            if flat_planes or not any(p for pair in pairs[1:] for p in pair):
                xt, left = x, [lo for lo, _ in pairs]
            else:
                xt, left = pad_constant(x, pairs[1:]), [pairs[0][0]] + [0] * (nd - 1)
            limit = min(int(chunk_bytes) // parallel.threads(), _STACKED_TARGET_BYTES)
            stacked.conv_stacked(xt, w, b, left, dilation, g, out, max(limit, unit_plane))
            return out
        # flat path: rows of full padded width; junk columns cost GEMM work, so
        # dense convolutions take it only when there are few of them
        row = math.prod(in_p[1:])
        junk = 1.0 - math.prod(out_sp[1:]) / row
        unit_row = _flat_unit_row(w.shape, b is not None, g, row, item, False)
        if unit_row <= chunk_bytes and (thin or junk <= _FLAT_MAX_JUNK):
            limit = _block_limit(unit_row // row, chunk_bytes) if not thin else min(int(chunk_bytes),
                                                                                   _THIN_TARGET_BYTES)
            # one block per thread at a time: each thread's share of the bound
            _conv_flat(x, w, b, pairs, padding_mode, dilation, g, out, max(limit // parallel.threads(), unit_row))
            return out

    xp = _pad(x, pairs, padding_mode)
    phase_row_bytes = (ck + (b is not None)) * g * math.prod(out_sp[1:]) * item    # one output row's im2col
    if (not thin and max(stride) > 1 and max(dilation) == 1 and math.prod(out_sp) >= _MIN_COLUMNS
            and phase_row_bytes <= chunk_bytes):
        # large strided maps (a stem): contiguous im2col copies from the phase planes, cache-sized GEMMs
        wmat, _ = _weight_matrix(w, b, g)
        phases.conv_phases(xp, wmat, kernel, stride, out,
                           min(int(chunk_bytes) // parallel.threads(), _PHASE_TARGET_BYTES))
        return out
    s = xp.strides
    # V[n, g, c, *tap, *pos] = xp[n, g*cg + c, *(pos*stride + tap*dilation)]
    view = as_strided(
        xp,
        shape=(n, g, cg) + kernel + out_sp,
        strides=(s[0], cg * s[1], s[1]) + tuple(d * st for d, st in zip(dilation, s[2:]))
        + tuple(st_ * st for st_, st in zip(stride, s[2:])),
        writeable=False,
    )
    wmat, kk = _weight_matrix(w, b, g)
    unit = (kk + coutg) * g * item           # temporaries per (sample, output position)
    positions = math.prod(out_sp)
    if thin:
        # many thin groups (depthwise): memory bound, small cache-resident blocks
        limit = max(1, min(int(chunk_bytes), _THIN_TARGET_BYTES))
    else:
        limit = _block_limit(unit, chunk_bytes)
    limit = max(unit, limit // parallel.threads())      # each thread's block: its share of the bound
    blocks = list(_blocks((n,) + out_sp, unit, limit))
    nb0 = blocks[0][0].stop - blocks[0][0].start
    # batch-merged layout only pays when one block spans several small samples
    merged = nb0 > 1 and not thin and positions < _MIN_COLUMNS
    taps = (slice(None),) * nd
    perm = (1, 2) + tuple(range(3, 3 + nd)) + (0,) + tuple(range(3 + nd, 3 + 2 * nd))
    first = blocks[0]    # the largest block
    largest = (first[0].stop - first[0].start) * math.prod(len(range(*sl.indices(size)))
                                                       for sl, size in zip(first[1:], out_sp))

    def convolve(part: Sequence[tuple[slice, ...]], copy_workers: int) -> None:
        cols_buf = np.empty(g * kk * largest, dtype)
        res_buf = None
        for blk in part:
            nb = blk[0].stop - blk[0].start
            osz = tuple(len(range(*sl.indices(size))) for sl, size in zip(blk[1:], out_sp))
            p = math.prod(osz)
            src = view[(blk[0], slice(None), slice(None)) + taps + blk[1:]]   # (nb, G, cg, *k, *osz)
            dst = out[(blk[0], slice(None)) + blk[1:]]                          # (nb, C_out, *osz)
            if merged:
                cols: np.ndarray = cols_buf[: nb * g * kk * p].reshape(g, kk, nb * p)
                parallel.copyto(cols[:, :ck].reshape((g, cg) + kernel + (nb,) + osz), src.transpose(perm),
                                copy_workers)
                if kk > ck:
                    cols[:, ck] = 1
                if res_buf is None:
                    res_buf = np.empty(c_out * largest, dtype)
                res: np.ndarray = res_buf[: nb * c_out * p].reshape(g, coutg, nb * p)
                np.matmul(wmat, cols, out=res)
                dst[...] = res.reshape((c_out, nb) + osz).swapaxes(0, 1)
                continue
            cols = cols_buf[: nb * g * kk * p].reshape(nb, g, kk, p)
            parallel.copyto(cols[:, :, :ck].reshape((nb, g, cg) + kernel + osz), src, copy_workers)
            if kk > ck:
                cols[:, :, ck] = 1
            if p == positions:  # whole samples: the output block is contiguous, write into it
                np.matmul(wmat, cols, out=dst.reshape(nb, g, coutg, p))
                continue
            if res_buf is None:
                res_buf = np.empty(c_out * largest, dtype)
            res = res_buf[: nb * c_out * p].reshape(nb, g, coutg, p)
            np.matmul(wmat, cols, out=res)
            dst[...] = res.reshape((nb, c_out) + osz)

    parallel.run_blocks(convolve, blocks)
    return out


def _conv_pointwise(x, w, b, stride, g, out) -> None:
    """A 1×…×1 convolution without padding: GEMMs straight on the input, ``(C_out/G, C_in/G) @
    (C_in/G, positions)`` per sample and group, written into ``out`` and the bias added block by block
    (each block's thread, while it is in cache); a stride first takes every ``s``-th
    position (a strided copy per sample).  Blocks of samples (of columns, for one sample at stride 1) are
    spread over threads by :func:`~convlint.execute.kernels.parallel.run_blocks`."""
    n, c_in = x.shape[:2]
    c_out = w.shape[0]
    strided = any(st > 1 for st in stride)
    picked = x[(slice(None), slice(None)) + tuple(slice(None, None, st) for st in stride)]
    positions = math.prod(out.shape[2:])
    wmat = w.reshape(g, c_out // g, c_in // g)
    results = out.reshape(n, g, c_out // g, positions)
    inputs = None if strided else x.reshape(n, g, c_in // g, positions)
    workers = parallel.threads()
    step = positions if strided or n >= workers else -(-positions // workers)
    blocks = [(i, start, min(start + step, positions)) for i in range(n) for start in range(0, positions, step)]
    bias = None if b is None else b.reshape(g, c_out // g, 1)

    def multiply(part: Sequence[tuple[int, int, int]], copy_workers: int) -> None:  # copies are per sample
        for i, start, stop in part:
            columns = (np.ascontiguousarray(picked[i]).reshape(g, c_in // g, positions) if inputs is None
                       else inputs[i, :, :, start:stop])
            block = results[i, :, :, start:stop]
            np.matmul(wmat, columns, out=block)
            if bias is not None:
                block += bias          # while the block is in cache, in this block's thread

    parallel.run_blocks(multiply, blocks)


def _conv_flat(x, w, b, pairs, padding_mode, dilation, g, out, limit) -> None:
    """Stride-1 convolution on the flattened padded planes ("flat" im2col).

    With stride 1, output position ``o`` reads the padded input at flat index
    ``j(o) + off(tap)`` where ``j(o) = sum_a o_a * M_a`` (``M_a``: the padded
    plane's strides in elements) and ``off(tap) = sum_a tap_a * d_a * M_a``.
    Computing the outputs for every ``j`` in a run of whole rows -- also at
    the padded positions of the trailing axes, which are dropped afterwards --
    turns every im2col row into one *contiguous* slice of the padded input,
    so the im2col copy runs at memcpy speed.  Reads past a plane's end only
    feed dropped positions; a zeroed tail keeps the last plane's in bounds.

    Tall blocks also leave the taps of the first axis folded ("stacked"):
    they only shift the flat index by ``t * d_0 * M_0``, so one GEMM with
    those taps stacked into its rows, ``(k_0 * C_out/G, C_in/G * prod(k[1:]))``,
    computes each tap row's partial sums over the block's rows plus a halo of
    ``d_0*(k_0 - 1)`` rows, and the output is the sum of ``k_0`` shifted
    slices of the result.  The im2col buffer is ``k_0`` times smaller and the
    taller GEMM runs faster; short blocks (cache-sized blocks of thin groups)
    would recompute too large a halo, so they unfold every tap.
    """
    dtype = out.dtype
    n, c_in = x.shape[:2]
    c_out, cg = w.shape[:2]
    kernel = tuple(w.shape[2:])
    nd = len(kernel)
    coutg = c_out // g
    item = dtype.itemsize
    in_p = tuple(sz + lo + hi for sz, (lo, hi) in zip(x.shape[2:], pairs))
    out_sp = out.shape[2:]
    rows_out = out_sp[0]
    m = [math.prod(in_p[a + 1:]) for a in range(nd)]           # element strides of a padded plane
    row = m[0]
    has_bias = b is not None
    k0, d0 = kernel[0], dilation[0]
    # rows a stacked block affords once its halo is paid for
    stack_unit = _flat_unit_row(w.shape, has_bias, g, row, item, True)
    stacked_rows = limit // stack_unit - d0 * (k0 - 1)
    stack = k0 > 1 and stacked_rows >= min(rows_out, 4 * d0 * (k0 - 1))
    ks = k0 if stack else 1                       # first-axis taps stacked into the GEMM rows
    halo = d0 * (k0 - 1) if stack else 0          # extra rows each block computes
    first = 1 if stack else 0                     # first unfolded axis
    kt = kernel[first:]
    ckt = cg * math.prod(kt)
    plane = math.prod(in_p)
    tail = sum((k - 1) * d * ma for k, d, ma in zip(kernel[1:], dilation[1:], m[1:]))
    buf = np.empty(n * c_in * plane + tail, dtype)
    buf[n * c_in * plane:] = 0
    xp = buf[: n * c_in * plane].reshape((n, c_in) + in_p)
    if padding_mode == "zeros":
        pad_constant(x, pairs, 0, out=xp)
    else:
        xp[...] = _pad(x, pairs, padding_mode)
    view = as_strided(
        buf,
        shape=(n, g, cg) + kt + ((rows_out + halo) * row,),
        strides=(c_in * plane * item, cg * plane * item, plane * item)
        + tuple(d * ma * item for d, ma in zip(dilation[first:], m[first:])) + (item,),
        writeable=False,
    )
    # weights (G, coutg, cg, ks, *kt) -> (G, ks*coutg, cg*prod(kt)); the bias goes with stacked tap 0
    wst = w.reshape((g, coutg, cg, ks) + kt)
    wst = np.moveaxis(wst, 3, 1).reshape(g, ks * coutg, ckt)
    kk = ckt
    if has_bias:
        bias_col = np.zeros((g, ks, coutg, 1), dtype)
        bias_col[:, 0, :, 0] = b.reshape(g, coutg)
        wst = np.concatenate([wst, bias_col.reshape(g, ks * coutg, 1)], axis=2)
        kk += 1
    crop = tuple(slice(0, o) for o in out_sp[1:])
    taps = (slice(None),) * len(kt)
    blocks: Iterable[tuple[slice, ...]]
    if stack:
        # every sample of a block computes its own halo rows: count them
        per_sample = (rows_out + halo) * stack_unit
        if per_sample <= limit:
            run = _block_len(n, limit // per_sample)
            blocks = [(slice(i, min(i + run, n)), slice(None)) for i in range(0, n, run)]
        else:
            run = _block_len(rows_out, stacked_rows)
            blocks = [(slice(i, i + 1), slice(r, min(r + run, rows_out)))
                      for i in range(n) for r in range(0, rows_out, run)]
    else:
        blocks = _blocks((n, rows_out), _flat_unit_row(w.shape, has_bias, g, row, item, False), limit)
    blocks = list(blocks)
    largest = max((blk[0].stop - blk[0].start) * (len(range(*blk[1].indices(rows_out))) + halo) * row
                  for blk in blocks)                 # samples × (rows + halo) × row of the largest block

    def convolve(part: Sequence[tuple[slice, ...]], copy_workers: int) -> None:
        cols_buf = np.empty(g * kk * largest, dtype)
        res_buf = np.empty(g * ks * coutg * largest, dtype)
        for blk in part:
            nb = blk[0].stop - blk[0].start
            r0, r1, _ = blk[1].indices(rows_out)
            length = (r1 - r0) * row
            span = length + halo * row
            cols = cols_buf[: nb * g * kk * span].reshape(nb, g, kk, span)
            parallel.copyto(cols[:, :, :ckt].reshape((nb, g, cg) + kt + (span,)),
                            view[(blk[0], slice(None), slice(None)) + taps + (slice(r0 * row, r0 * row + span),)],
                            copy_workers)
            if kk > ckt:
                cols[:, :, ckt] = 1
            res = res_buf[: nb * g * ks * coutg * span].reshape(nb, g, ks * coutg, span)
            np.matmul(wst, cols, out=res)
            res = res.reshape(nb * g, ks, coutg, span)
            acc = res[:, 0, :, :length]
            for t in range(1, ks):          # contiguous adds; cheaper than adding the cropped views
                acc += res[:, t, :, t * d0 * row: t * d0 * row + length]
            dst = out[blk[0], :, r0:r1].reshape((nb * g, coutg, r1 - r0) + out_sp[1:])
            dst[...] = acc.reshape((nb * g, coutg, r1 - r0) + in_p[1:])[(slice(None),) * 3 + crop]

    parallel.run_blocks(convolve, blocks)


def _flat_unit_row(wshape, has_bias: bool, g: int, row: int, item: int, stack: bool) -> int:
    """Temporaries of the flat path per (sample, output row): the im2col rows (``C_in/G * prod(k)``,
    or ``C_in/G * prod(k[1:])`` with stacked first-axis taps; plus a row of ones for a bias) and
    the GEMM result (``C_out/G`` rows, or ``k_0 * C_out/G`` stacked)."""
    c_out, cg, k0 = wshape[0], wshape[1], wshape[2]
    taps = math.prod(wshape[3:]) * (1 if stack else k0)
    return (cg * taps + has_bias + (k0 if stack else 1) * (c_out // g)) * g * row * item


def _weight_matrix(w: np.ndarray, b: np.ndarray | None, g: int) -> tuple[np.ndarray, int]:
    """``(G, C_out/G, K)`` GEMM operand; with a bias, an extra column holding it (``K + 1``).

    The bias is folded into the matmul (the im2col buffer gets a matching row
    of ones), which is cheaper than a separate pass over the output.
    """
    c_out = w.shape[0]
    ck = math.prod(w.shape[1:])
    wmat = w.reshape(g, c_out // g, ck)
    if b is None:
        return wmat, ck
    return np.concatenate([wmat, b.reshape(g, c_out // g, 1)], axis=2), ck + 1
