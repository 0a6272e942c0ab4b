"""N-d transposed convolution (``torch.nn.ConvTranspose1d/2d/3d`` in inference).

Layout is PyTorch's: ``x`` ``(N, C_in, *in)``, weight ``(C_in, C_out // groups,
*kernel)``, result ``(N, C_out, *out)`` with, per spatial axis,
``out = (in - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1``.

Algorithm (matmul + "col2im"):

1. One BLAS matmul per group turns every input position into its
   ``C_out/groups * prod(kernel)`` contributions,
   ``cols[n, g, (o, *tap), i] = sum_c W[g*C_in/G + c, o, *tap] * x[n, g*C_in/G + c, i]``.
2. Input position ``i`` and tap ``t`` land on output ``i*s + t*d - p``.  Write
   ``t*d - p = q*s + r`` (``0 <= r < s``): the tap feeds output *phase* ``r``
   (the outputs ``J*s + r``) at ``J = i + q``.  Each phase is accumulated in
   its own buffer whose trailing axes have a fixed row pitch, the input being
   laid out with the same pitch (zero columns added), so that a tap's whole
   contribution is ONE contiguous 1-d ``+=`` (a loop over kernel taps, none
   over pixels, channels or the batch).
3. Each phase buffer is added into the strided output slice ``out[..., r::s]``.

Work is split into blocks of (samples, input rows) so that the temporaries
stay below ``chunk_bytes``.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from convlint.analysis.arithmetic import transposed_out

from convlint.execute.kernels.conv import DEFAULT_CHUNK_BYTES, _block_limit, _blocks, _ntuple, input_and_weight, resolve_padding

__all__ = ["conv_transpose", "conv_transpose_output_size"]


def conv_transpose_output_size(in_size: int, kernel: int, stride: int, pad_total: int,
                               dilation: int, output_padding: int) -> int:
    """``(in - 1)*s - pad_total + d*(k - 1) + output_padding + 1`` (PyTorch's rule, ``pad_total = 2p``),
    from :mod:`convlint.analysis.arithmetic`."""
    return transposed_out(in_size, kernel, stride, 0, dilation, output_padding) - pad_total


def _tap_range(lo: int, hi: int, tap_offset: int, stride: int, out_size: int):
    """Input indices ``i`` in ``[lo, hi)`` with ``0 <= i*stride + tap_offset < out_size``.

    Returns ``(i0, i1, o0)`` (``i`` in ``[i0, i1)``, first output index ``o0``) or ``None``.
    """
    i0 = max(lo, -(tap_offset // stride))                 # ceil(-tap_offset / stride)
    i1 = min(hi, (out_size - 1 - tap_offset) // stride + 1)
    if i1 <= i0:
        return None
    return i0, i1, i0 * stride + tap_offset


def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1,
                   groups: int = 1, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> np.ndarray:
    """Transposed N-d convolution, exactly ``torch.nn.ConvTransposeNd`` in inference.

    Parameters
    ----------
    x : array ``(N, C_in, *in)``.
    weight : array ``(C_in, C_out // groups, *k)``.
    bias : array ``(C_out,)`` or ``None``.
    stride, dilation, output_padding : int or one int per spatial axis.
        PyTorch requires ``output_padding < max(stride, dilation)``; so does this.
    padding : int or one int per axis (removed from both ends, as PyTorch), or
        one ``(left, right)`` pair per axis.
    groups : divides ``C_in`` and ``C_out``.
    chunk_bytes : upper bound on the temporaries of one block: the matmul
        result (``C_out*prod(k)`` values per input position) plus the phase
        buffers (``C_out*prod(stride)`` per position).  Blocks split the batch,
        then the rows of the first input axis; when one row does not fit,
        blocks of single input positions are used (with per-tap strided adds).
        Not counted: the output and the pitched copy of the input.

    Returns
    -------
    array ``(N, C_out, *out)`` of ``x``'s dtype,
    ``out = (in - 1)*s - left - right + d*(k - 1) + output_padding + 1``.
    """
    x, w, nd = input_and_weight(x, weight)
    dtype = x.dtype
    n, c_in = x.shape[:2]
    g = int(groups)
    if w.shape[0] != c_in:
        raise ValueError(f"weight has {w.shape[0]} input channels, x has {c_in}")
    if g < 1 or c_in % g:
        raise ValueError(f"groups={groups} must divide C_in={c_in}")
    coutg = w.shape[1]
    c_out = coutg * g
    kernel = tuple(w.shape[2:])
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    out_pad = _ntuple(output_padding, nd, "output_padding")
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, one per axis, or (left, right) pairs, got {padding!r}")
    pairs = resolve_padding(padding, kernel, dilation)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError("stride and dilation must be positive")
    for op, s_, d_ in zip(out_pad, stride, dilation):
        if op < 0 or op >= max(s_, d_):
            raise ValueError(f"output_padding {out_pad} must be smaller than max(stride, dilation) "
                             f"per axis (stride {stride}, dilation {dilation})")
    in_sp = x.shape[2:]
    out_sp = tuple(conv_transpose_output_size(i, k, s_, lo + hi, d_, op)
                   for i, k, s_, d_, (lo, hi), op in zip(in_sp, kernel, stride, dilation, pairs, out_pad))
    if min(out_sp) < 1:
        raise ValueError(f"output size {out_sp} is too small")

    b = None if bias is None else np.asarray(bias, dtype=dtype).reshape((c_out,) + (1,) * nd)
    if n == 0 or c_out == 0 or c_in == 0 or min(in_sp) == 0:
        out = np.zeros((n, c_out) + out_sp, dtype)
        if b is not None:
            out += b
        return out

    cing = c_in // g
    ksize = math.prod(kernel)
    # tap t of axis a lands on output (i + q)*s + r
    qs, rs = [], []
    for k, s_, d_, (lo, _) in zip(kernel, stride, dilation, pairs):
        qs.append([(t * d_ - lo) // s_ for t in range(k)])
        rs.append([(t * d_ - lo) % s_ for t in range(k)])
    qmin = [min(q) for q in qs]
    dq = [max(q) - min(q) for q in qs]
    # input laid out with row pitch in_a + dq_a on the trailing axes (zeros in the extra columns)
    pitch = (in_sp[0],) + tuple(i + e for i, e in zip(in_sp[1:], dq[1:]))
    m = [math.prod(pitch[a + 1:]) for a in range(nd)]        # flat strides of a pitched plane
    row = m[0]
    phases = tuple(itertools.product(*(range(s_) for s_ in stride)))
    nphase = len(phases)
    item = dtype.itemsize
    unit_row = (c_out * ksize + c_out * nphase) * row * item    # temporaries per (sample, input row)
    if unit_row > chunk_bytes:
        # not even one input row fits: blocks of input positions instead
        out = np.zeros((n, c_out) + out_sp, dtype)
        if b is not None:
            out += b
        _conv_transpose_positions(x, w, out, stride, dilation, pairs, g, chunk_bytes)
        return out
    limit = max(unit_row, _block_limit(unit_row // row, chunk_bytes))
    # Blocks of whole samples whose phase planes reach every output write the
    # output once ("="); otherwise (row blocks overlap, or some outputs get no
    # tap at all) they add into a zero/bias-initialised output.
    extent = [in_sp[0] + dq[0]] + list(pitch[1:])
    covers = all(len(range(r, out_sp[a], stride[a])) <= extent[a] + qmin[a]
                 for a in range(nd) for r in range(stride[a]))
    assign = covers and in_sp[0] * unit_row <= limit
    if assign:
        out = np.empty((n, c_out) + out_sp, dtype)
    else:
        out = np.zeros((n, c_out) + out_sp, dtype)
        if b is not None:
            out += b
    if pitch == in_sp:
        xpit = np.ascontiguousarray(x)
    else:
        xpit = np.zeros((n, c_in) + pitch, dtype)
        xpit[(slice(None), slice(None)) + tuple(slice(0, i) for i in in_sp)] = x
    xflat = xpit.reshape(n, g, cing, in_sp[0] * row)
    slack = sum(e * ma for e, ma in zip(dq[1:], m[1:]))          # junk spill past a phase plane
    # (G, cing, coutg*K) -> (G, coutg*K, cing): a transposed view, BLAS takes it as is
    wmat = w.reshape(g, cing, coutg * ksize).transpose(0, 2, 1)
    tap_geo = []
    for t in itertools.product(*(range(k) for k in kernel)):
        r = tuple(rs[a][t[a]] for a in range(nd))
        off = sum((qs[a][t[a]] - qmin[a]) * m[a] for a in range(nd))
        tap_geo.append((phases.index(r), off))
    res_buf = ph_buf = None
    for blk in _blocks((n, in_sp[0]), unit_row, limit):
        nb = blk[0].stop - blk[0].start
        a0, a1, _ = blk[1].indices(in_sp[0])
        rows = a1 - a0
        length = rows * row
        plane_rows = rows + dq[0]
        plane = plane_rows * row + slack
        if res_buf is None or ph_buf is None:  # both made at the first block
            res_buf = np.empty(nb * c_out * ksize * length, dtype)
            ph_buf = np.empty(nb * c_out * nphase * plane, dtype)
        res = res_buf[: nb * c_out * ksize * length].reshape(nb, g, coutg * ksize, length)
        np.matmul(wmat, xflat[blk[0], :, :, a0 * row: a1 * row], out=res)
        res = res.reshape(nb, c_out, ksize, length)
        ph = ph_buf[: nb * c_out * nphase * plane].reshape(nb, c_out, nphase, plane)
        if assign and b is not None:
            ph[...] = b.reshape(1, c_out, 1, 1)                      # the bias rides along
        else:
            ph.fill(0)
        for ti, (pi, off) in enumerate(tap_geo):
            dst = ph[:, :, pi, off: off + length]
            dst += res[:, :, ti]
        # each phase plane goes to its strided output slice
        base = [qmin[0] + a0] + qmin[1:]
        ext = [plane_rows] + list(pitch[1:])
        for pi, r in enumerate(phases):
            src_idx, dst_idx = [], []
            for a in range(nd):
                count = len(range(r[a], out_sp[a], stride[a]))       # outputs J*s + r, J < count
                j_lo = max(0, -base[a])
                j_hi = min(ext[a], count - base[a])
                if j_hi <= j_lo:
                    break
                o_lo = (j_lo + base[a]) * stride[a] + r[a]
                src_idx.append(slice(j_lo, j_hi))
                dst_idx.append(slice(o_lo, o_lo + (j_hi - j_lo - 1) * stride[a] + 1, stride[a]))
            else:
                src = ph[:, :, pi, : plane_rows * row].reshape((nb, c_out, plane_rows) + pitch[1:])
                src = src[(slice(None), slice(None)) + tuple(src_idx)]
                view = out[(blk[0], slice(None)) + tuple(dst_idx)]
                if assign:
                    view[...] = src
                else:
                    view += src
    return out


def _conv_transpose_positions(x, w, out, stride, dilation, pairs, g, chunk_bytes) -> None:
    """Fallback for tiny ``chunk_bytes``: blocks of input positions, one strided ``+=`` per tap."""
    dtype = out.dtype
    n, c_in = x.shape[:2]
    nd = x.ndim - 2
    in_sp = x.shape[2:]
    out_sp = out.shape[2:]
    coutg = w.shape[1]
    c_out = coutg * g
    kernel = tuple(w.shape[2:])
    cing = c_in // g
    ksize = math.prod(kernel)
    wmat = w.reshape(g, cing, coutg * ksize).transpose(0, 2, 1)
    xg = x.reshape((n, g, cing) + in_sp)
    unit = (c_out * ksize + c_in) * dtype.itemsize
    tap_offsets = [[t * d_ - lo for t in range(k)] for k, d_, (lo, _) in zip(kernel, dilation, pairs)]
    for blk in _blocks((n,) + in_sp, unit, max(1, int(chunk_bytes))):
        nb = blk[0].stop - blk[0].start
        ranges = [sl.indices(size)[:2] for sl, size in zip(blk[1:], in_sp)]
        isz = tuple(hi - lo for lo, hi in ranges)
        p = math.prod(isz)
        xb = xg[(blk[0], slice(None), slice(None)) + blk[1:]].reshape(nb, g, cing, p)
        res = np.matmul(wmat, xb).reshape((nb, c_out) + kernel + isz)
        dst = out[blk[0]]
        per_axis = []
        for a in range(nd):
            lo, hi = ranges[a]
            choices = []
            for t, off in enumerate(tap_offsets[a]):
                r = _tap_range(lo, hi, off, stride[a], out_sp[a])
                if r is not None:
                    i0, i1, o0 = r
                    choices.append((t, slice(i0 - lo, i1 - lo),
                                    slice(o0, o0 + (i1 - i0 - 1) * stride[a] + 1, stride[a])))
            per_axis.append(choices)
        for combo in itertools.product(*per_axis):
            taps = tuple(c[0] for c in combo)
            src = res[(slice(None), slice(None)) + taps + tuple(c[1] for c in combo)]
            view = dst[(slice(None), slice(None)) + tuple(c[2] for c in combo)]
            view += src
