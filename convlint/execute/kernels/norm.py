"""Normalisations computed from the tensor itself, with NumPy: LayerNorm, GroupNorm, InstanceNorm.

Semantics are those of the ``torch.nn`` modules in inference mode (biased variance,
``eps`` added to it).  Statistics are computed in float64 and the result is cast back to
the input's dtype.  ``x`` is ``(N, C, *spatial)`` for :func:`group_norm` and
:func:`instance_norm`, any shape for :func:`layer_norm`.
"""
from __future__ import annotations

import numpy as np

from convlint.execute.kernels.elementwise import as_float

__all__ = ["group_norm", "instance_norm", "layer_norm"]


def _normalise(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """``(x − mean) / sqrt(var + eps)`` over ``axes`` (float64)."""
    wide = x.astype(np.float64)
    mean = wide.mean(axis=axes, keepdims=True)
    var = wide.var(axis=axes, keepdims=True)
    return (wide - mean) / np.sqrt(var + eps)


def _affine(y: np.ndarray, weight, bias, shape: tuple[int, ...]) -> np.ndarray:
    if weight is not None:
        y = y * np.asarray(weight, dtype=np.float64).reshape(shape)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64).reshape(shape)
    return y


def layer_norm(x, normalized_ndim: int, weight=None, bias=None, eps: float = 1e-5) -> np.ndarray:
    """``torch.nn.LayerNorm`` over the last ``normalized_ndim`` dims; ``weight``/``bias`` have those dims' shape."""
    x = as_float(x)
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    y = _affine(_normalise(x, axes, eps), weight, bias, x.shape[x.ndim - normalized_ndim:])
    return y.astype(x.dtype, copy=False)


def group_norm(x, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> np.ndarray:
    """``torch.nn.GroupNorm``: channels split into ``num_groups`` groups, each normalised over its
    channels and all spatial positions; ``weight``/``bias`` are per channel ``(C,)``."""
    x = as_float(x)
    batch, channels = x.shape[:2]
    grouped = x.reshape(batch, num_groups, -1)
    y = _normalise(grouped, (2,), eps).reshape(x.shape)
    y = _affine(y, weight, bias, (1, channels) + (1,) * (x.ndim - 2))
    return y.astype(x.dtype, copy=False)


def instance_norm(x, weight=None, bias=None, eps: float = 1e-5, running_mean=None,
                  running_var=None) -> np.ndarray:
    """``torch.nn.InstanceNorm{1,2,3}d`` in eval mode: each (sample, channel) normalised over its spatial
    positions, or with the running statistics when they are given (``track_running_stats``)."""
    x = as_float(x)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if running_mean is not None:
        wide = x.astype(np.float64)
        mean = np.asarray(running_mean, dtype=np.float64).reshape(shape)
        var = np.asarray(running_var, dtype=np.float64).reshape(shape)
        y = (wide - mean) / np.sqrt(var + eps)
    else:
        y = _normalise(x, tuple(range(2, x.ndim)), eps)
    return _affine(y, weight, bias, shape).astype(x.dtype, copy=False)
