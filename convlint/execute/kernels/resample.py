"""Up/down-sampling (``torch.nn.Upsample`` / ``F.interpolate``) with NumPy.

``x`` has shape ``(N, C, *spatial)`` with 1, 2 or 3 spatial axes.  Modes:
``'nearest'`` (PyTorch's legacy nearest), ``'nearest-exact'``, ``'linear'``
(1-d), ``'bilinear'`` (2-d), ``'trilinear'`` (3-d).  Interpolation is
separable, so each axis is resampled in turn with a gather (``np.take``) and,
for the linear modes, one weighted sum of two gathers.

Source coordinates follow ATen's ``area_pixel_compute_scale`` /
``area_pixel_compute_source_index`` in the input's own precision (float32
arithmetic for float32 input, as PyTorch's CPU kernel does):

* ``scale = (in - 1) / (out - 1)`` with ``align_corners`` (0 when out == 1),
  else ``1 / scale_factor`` when a scale factor was given (and not
  recomputed), else ``in / out``;
* nearest: ``src = min(floor(dst * scale), in - 1)``;
  nearest-exact: ``src = min(floor((dst + 0.5) * scale), in - 1)``;
  PyTorch's 2-d nearest kernel differs from its 1-d/3-d one: it always
  computes in float32, and its legacy 'nearest' copies an axis whose size
  is unchanged and maps ``out == 2*in`` to ``dst // 2``, whatever the scale
  factor (so ``scale_factor=1.05`` on 5 pixels is the identity in 2-d but
  gives ``[0, 0, 1, 2, 3]`` in 1-d and 3-d) -- reproduced here;
* linear: ``src = scale * dst`` with ``align_corners``, else
  ``max(scale * (dst + 0.5) - 0.5, 0)``; ``i0 = floor(src)``,
  ``i1 = min(i0 + 1, in - 1)``, ``lambda = src - i0``,
  ``y = (1 - lambda) * x[i0] + lambda * x[i1]``;
* bicubic (2-d): ``src = scale * dst`` with ``align_corners``, else
  ``scale * (dst + 0.5) - 0.5`` (not clamped); ``i = floor(src)``, ``t = src - i``;
  ``y = sum_k w_k(t) * x[clamp(i - 1 + k)]`` for ``k = 0..3`` with Keys' cubic
  convolution weights, ``A = -0.75``; when both axes keep their size the
  input is copied.
"""
from __future__ import annotations

import math

import numpy as np

from convlint.execute.kernels.elementwise import as_float

__all__ = ["upsample", "upsample_output_size"]

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
_CUBIC_A = -0.75
"""The cubic convolution parameter PyTorch uses."""


def upsample_output_size(in_sizes, size=None, scale_factor=None) -> tuple[int, ...]:
    """``size`` as given, or ``floor(in * scale_factor)`` per axis (PyTorch's rule)."""
    nd = len(in_sizes)
    if (size is None) == (scale_factor is None):
        raise ValueError("exactly one of size and scale_factor must be given")
    if size is not None:
        sizes = (size,) * nd if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) == 1:
            sizes = sizes * nd
        if len(sizes) != nd:
            raise ValueError(f"size must have {nd} entries, got {size!r}")
        return tuple(int(s) for s in sizes)
    scales = _scales(scale_factor, nd)
    return tuple(int(math.floor(float(i) * s)) for i, s in zip(in_sizes, scales))


def _scales(scale_factor, nd: int) -> tuple[float, ...]:
    if isinstance(scale_factor, (int, float, np.integer, np.floating)):
        return (float(scale_factor),) * nd
    scales = tuple(float(s) for s in scale_factor)
    if len(scales) == 1:
        scales = scales * nd
    if len(scales) != nd:
        raise ValueError(f"scale_factor must have {nd} entries, got {scale_factor!r}")
    return scales


def _area_scale(in_size: int, out_size: int, align_corners: bool, scale, ftype):
    """ATen's ``area_pixel_compute_scale`` in precision ``ftype``."""
    if align_corners:
        if out_size > 1:
            return ftype(in_size - 1) / ftype(out_size - 1)
        return ftype(0)
    if scale is not None and scale > 0:
        return ftype(1.0 / scale)
    return ftype(in_size) / ftype(out_size)


def _nearest_index(in_size: int, out_size: int, scale, exact: bool, ftype, two_d: bool) -> np.ndarray:
    """Source indices of the nearest modes, as ATen's CPU kernels compute them.

    1-d / 3-d (generic kernel): ``scale`` and ``dst * scale`` in the input's
    precision, then C's ``floorf`` (a round to float32 before the floor).
    2-d (dedicated kernel): float32 arithmetic for every dtype, and legacy
    'nearest' maps ``out == in`` to the identity and ``out == 2*in`` to
    ``dst >> 1`` (whatever the scale factor).
    """
    dst_i = np.arange(out_size, dtype=np.int64)
    if two_d:
        ftype = np.float32
        if not exact and out_size == in_size:
            return dst_i
        if not exact and out_size == 2 * in_size:
            return dst_i >> 1
    sc = _area_scale(in_size, out_size, False, scale, ftype)
    dst = dst_i.astype(ftype)
    src = (dst + ftype(0.5)) * sc if exact else dst * sc
    src = np.floor(src.astype(np.float32))
    return np.minimum(src.astype(np.int64), in_size - 1)


def _linear_weights(in_size: int, out_size: int, scale, align_corners: bool, ftype):
    sc = _area_scale(in_size, out_size, align_corners, scale, ftype)
    dst = np.arange(out_size, dtype=ftype)
    if align_corners:
        src = sc * dst
    else:
        src = np.maximum(sc * (dst + ftype(0.5)) - ftype(0.5), ftype(0))
    i0 = np.minimum(src.astype(np.int64), in_size - 1)           # src >= 0: truncation is floor
    lam = np.clip(src - i0.astype(ftype), ftype(0), ftype(1)).astype(ftype)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, (ftype(1) - lam).astype(ftype), lam


def _cubic_weights(in_size: int, out_size: int, scale, align_corners: bool, ftype):
    """Source indices ``(out, 4)`` (clamped) and weights ``(out, 4)`` of ATen's bicubic kernel."""
    sc = _area_scale(in_size, out_size, align_corners, scale, ftype)
    dst = np.arange(out_size, dtype=ftype)
    src = sc * dst if align_corners else sc * (dst + ftype(0.5)) - ftype(0.5)
    base = np.floor(src)
    t = (src - base).astype(ftype)
    a = ftype(_CUBIC_A)

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    weights = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1).astype(ftype)
    index = np.clip(base.astype(np.int64)[:, None] + np.arange(-1, 3), 0, in_size - 1)
    return index, weights


def upsample(x, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
             recompute_scale_factor=None) -> np.ndarray:
    """Resample the spatial axes of ``x`` exactly as ``torch.nn.functional.interpolate``.

    Parameters
    ----------
    x : array ``(N, C, *in)`` (1 to 3 spatial axes; the linear modes need 1, 2
        or 3 respectively).
    size : int or one per axis; or
    scale_factor : float or one per axis; output size ``floor(in * scale_factor)``.
    mode : ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'``, ``'trilinear'``,
        ``'bicubic'`` (2 spatial axes).
    align_corners : only for the linear modes (default ``False``).
    recompute_scale_factor : when true, the coordinate scale is recomputed as
        ``in / out`` from the output size instead of ``1 / scale_factor``.

    Returns
    -------
    array ``(N, C, *out)`` of ``x``'s dtype.
    """
    x = as_float(x)
    ftype = x.dtype.type if x.dtype in (np.float32, np.float64) else np.float32
    nd = x.ndim - 2
    if nd < 1:
        raise ValueError(f"x must have shape (N, C, *spatial), got {x.shape}")
    linear = mode in _LINEAR_MODES
    cubic = mode == "bicubic"
    if linear or cubic:
        wanted = 2 if cubic else _LINEAR_MODES[mode]
        if wanted != nd:
            raise ValueError(f"mode {mode!r} expects {wanted} spatial axes, got {nd}")
        align = bool(align_corners)
    elif mode in ("nearest", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners can only be set with the linear interpolating modes")
        align = False
    else:
        raise ValueError(f"unsupported mode {mode!r}")
    in_sp = x.shape[2:]
    out_sp = upsample_output_size(in_sp, size, scale_factor)
    if min(out_sp) < 1:
        raise ValueError(f"output size {out_sp} must be positive")
    scales = (None,) * nd
    if scale_factor is not None and not recompute_scale_factor:
        scales = _scales(scale_factor, nd)
    out = x
    if cubic and tuple(in_sp) == tuple(out_sp):
        return x.copy()  # ATen copies when no axis changes size
    for a in range(nd):
        axis = 2 + a
        n_in, n_out = in_sp[a], out_sp[a]
        if linear and n_in == n_out:
            continue  # ATen: equal sizes copy the input, whatever the scale factor
        if cubic:
            index, weights = _cubic_weights(n_in, n_out, scales[a], align, ftype)
            shape = (1,) * axis + (n_out,) + (1,) * (nd - a - 1)
            total = np.zeros(out.shape[:axis] + (n_out,) + out.shape[axis + 1:], out.dtype)
            for tap in range(4):
                total += np.take(out, index[:, tap], axis=axis) * weights[:, tap].reshape(shape).astype(out.dtype)
            out = total
        elif linear:
            i0, i1, w0, w1 = _linear_weights(n_in, n_out, scales[a], align, ftype)
            shape = (1,) * axis + (n_out,) + (1,) * (nd - a - 1)
            a0 = np.take(out, i0, axis=axis)
            a0 *= w0.reshape(shape).astype(out.dtype)
            a1 = np.take(out, i1, axis=axis)
            a1 *= w1.reshape(shape).astype(out.dtype)
            a0 += a1
            out = a0
        else:
            idx = _nearest_index(n_in, n_out, scales[a], mode == "nearest-exact", ftype, nd == 2)
            out = np.take(out, idx, axis=axis)
    return out if out is not x else x.copy()
