"""Im2col from flat planes, for convolutions that keep the size of their trailing axes.

When a stride-1, zero-padded convolution keeps the size of every axis of a plane (``padding='same'``
and the like), its output positions are the input's own flat positions, so the im2col row of tap ``k``
is the flat plane shifted by one offset, ``off(k) = sum_a (k_a*d_a - left_a) * M_a`` (``M_a``: the
plane's element strides): one contiguous run per plane and tap, copied at memcpy speed.  A read that
wraps round an axis (column ``-1`` is the previous row's last column) or leaves the plane is zeroed in
the im2col buffer afterwards, a few rows or columns per tap.  Used by :mod:`.depthwise` (thin groups)
and :mod:`.stacked` (dense groups).
"""
from __future__ import annotations

from typing import Sequence


def offset_range(kernel: Sequence[int], dilation: Sequence[int], left: Sequence[int],
                 strides: Sequence[int]) -> tuple[int, int]:
    """The smallest and largest tap offset ``off(k)`` in elements, for a plane of element strides
    ``strides`` (one per axis of ``kernel``)."""
    low = sum(-lo * m for lo, m in zip(left, strides))
    high = sum(((k - 1) * d - lo) * m for k, d, lo, m in zip(kernel, dilation, left, strides))
    return low, high


def wrapped_reads(kernel: Sequence[int], dilation: Sequence[int], left: Sequence[int],
                  in_sp: Sequence[int]) -> list[tuple]:
    """Indices into an im2col block ``(samples, groups, channels, *kernel, rows, *in[1:])`` of the reads
    that wrap round a trailing axis: tap ``t`` of axis ``a >= 1`` reads coordinate ``o + t*d - left``,
    outside ``[0, in_a)`` for the first or last few output coordinates ``o``."""
    nd = len(kernel)
    found = []
    for a in range(1, nd):
        for t in range(kernel[a]):
            off = t * dilation[a] - left[a]
            bad = slice(0, min(-off, in_sp[a])) if off < 0 else slice(max(0, in_sp[a] - off), in_sp[a])
            if off == 0 or bad.start >= bad.stop:
                continue
            taps = tuple(t if b == a else slice(None) for b in range(nd))
            trailing = tuple(bad if b == a else slice(None) for b in range(1, nd))
            found.append((slice(None),) * 3 + taps + (slice(None),) + trailing)
    return found
