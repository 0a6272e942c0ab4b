"""Element-wise layers, batch norm, softmax, linear and flatten with NumPy.

Semantics are those of the ``torch.nn`` modules in inference mode
(``BatchNorm*d.eval()``).  Every function keeps the input's floating dtype
(float32 stays float32; non-floating input is converted to float64).
Shapes: ``x`` is ``(N, C, *spatial)`` for :func:`batch_norm`, any shape for
the activations, ``(*, in_features)`` for :func:`linear`.

:func:`erf` is implemented with NumPy only: piecewise Chebyshev interpolants
of ``math.erf`` (degree 14 for ``erf(x)/x`` in ``x**2`` on ``|x| <= 1``,
degree 18 on ``[1, 2.5]``, ``[2.5, 4]``, ``[4, 6]``; ``erf = ±1`` beyond
6, where ``1 - erf(6) < 2.2e-17``).  The coefficients are computed from
``math.erf`` at import time (a few dozen calls).  Measured accuracy against
``math.erf``: absolute error below 5e-15 everywhere and relative error below
5e-15 near 0 (float64); float32 inputs are evaluated in float64 and rounded,
so they are correctly rounded up to a last-bit tie.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev as _cheb

from convlint.execute.kernels import parallel

__all__ = [
    "as_float", "batch_norm", "erf", "flatten", "gelu", "hardswish", "leaky_relu", "linear", "relu", "relu6",
    "sigmoid", "silu", "softmax", "tanh",
]


def as_float(x) -> np.ndarray:
    """``x`` as an ndarray; floating dtypes are kept, anything else becomes float64."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


# ----------------------------------------------------------------------------
# erf
# ----------------------------------------------------------------------------

_SMALL_DEG = 14
_PIECES = ((1.0, 2.5, 18), (2.5, 4.0, 18), (4.0, 6.0, 18))


def _erf_scalar_over_x(t: np.ndarray) -> np.ndarray:
    """``erf(sqrt(t)) / sqrt(t)`` (``2/sqrt(pi)`` at 0) at the given nodes."""
    out = np.empty(len(t))
    for i, ti in enumerate(t):
        r = math.sqrt(ti)
        out[i] = math.erf(r) / r if r > 0 else 2.0 / math.sqrt(math.pi)
    return out


def _fit():
    # chebinterpolate works on [-1, 1]; map to each interval
    small = _cheb.chebinterpolate(lambda u: _erf_scalar_over_x((u + 1.0) / 2.0), _SMALL_DEG)
    pieces = []
    for a, b, deg in _PIECES:
        coef = _cheb.chebinterpolate(
            lambda u, a=a, b=b: np.array([math.erf((ui + 1.0) * (b - a) / 2.0 + a) for ui in u]), deg)
        pieces.append((a, b, coef))
    return small, tuple(pieces)


_SMALL_COEF, _PIECE_COEF = _fit()


def erf(x) -> np.ndarray:
    """The error function, element-wise, NumPy only (see the module docstring for accuracy).

    Computed in float64; returned in ``x``'s dtype.  NaN stays NaN.
    """
    x = as_float(x)
    xd = x.astype(np.float64, copy=False)
    ax = np.abs(xd)
    out = np.ones_like(xd)                 # |x| >= 6 (and +-inf): erf = +-1
    small = ax <= 1.0
    if small.any():
        v = xd[small]
        out[small] = v * _cheb.chebval(2.0 * v * v - 1.0, _SMALL_COEF)
    for a, b, coef in _PIECE_COEF:
        m = (ax > a) & (ax <= b)
        if m.any():
            u = (2.0 * ax[m] - (a + b)) / (b - a)
            out[m] = _cheb.chebval(u, coef)
    out = np.where(small, out, np.copysign(out, xd))
    out[np.isnan(xd)] = np.nan
    return out.astype(x.dtype, copy=False)


# ----------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------

def relu(x) -> np.ndarray:
    """``max(x, 0)`` (NaN propagates, as ``torch.relu``; ``-0.0`` becomes ``0.0``, an equal value).

    ``np.maximum`` is one pass; ``np.where(x < 0, 0, x)`` makes a mask first and takes ten times as long.
    """
    x = as_float(x)
    zero = x.dtype.type(0)
    return _by_planes(x, lambda rows, planes, out: np.maximum(planes[rows], zero, out=out[rows]))


def relu6(x) -> np.ndarray:
    """``min(max(x, 0), 6)`` (``torch.nn.ReLU6`` = ``hardtanh(x, 0, 6)``)."""
    x = as_float(x)
    return np.clip(x, x.dtype.type(0), x.dtype.type(6))


def leaky_relu(x, negative_slope: float = 0.01) -> np.ndarray:
    """``x`` if ``x > 0`` else ``negative_slope * x``."""
    x = as_float(x)
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """``x`` if ``x > 0`` else ``alpha * (exp(x) − 1)`` (``torch.nn.ELU``)."""
    x = as_float(x)
    return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))


def sigmoid(x) -> np.ndarray:
    """``1 / (1 + exp(-x))``, evaluated without overflow."""
    x = as_float(x)
    e = np.exp(-np.abs(x))
    one = x.dtype.type(1)
    return np.where(x >= 0, one / (one + e), e / (one + e))


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(as_float(x))


def gelu(x, approximate: str = "none") -> np.ndarray:
    """``torch.nn.GELU``: ``x/2 * (1 + erf(x/sqrt(2)))`` (``approximate='none'``) or
    ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))`` (``'tanh'``)."""
    x = as_float(x)
    t = x.dtype.type
    if approximate == "none":
        return t(0.5) * x * (t(1) + erf(x * t(math.sqrt(0.5))))
    if approximate == "tanh":
        inner = t(math.sqrt(2.0 / math.pi)) * (x + t(0.044715) * x * x * x)
        return t(0.5) * x * (t(1) + np.tanh(inner))
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x) -> np.ndarray:
    """``x * sigmoid(x)``."""
    x = as_float(x)
    return x * sigmoid(x)


def hardswish(x) -> np.ndarray:
    """``x * relu6(x + 3) / 6``."""
    x = as_float(x)
    t = x.dtype.type
    return x * np.clip(x + t(3), t(0), t(6)) / t(6)


def softmax(x, dim: int) -> np.ndarray:
    """``exp(x - max) / sum(exp(x - max))`` along ``dim`` (rows of all ``-inf`` give NaN, as PyTorch)."""
    x = as_float(x)
    m = np.max(x, axis=dim, keepdims=True)
    with np.errstate(invalid="ignore"):
        e = np.exp(x - m)
        return e / np.sum(e, axis=dim, keepdims=True)


# ----------------------------------------------------------------------------
# batch norm, linear, flatten
# ----------------------------------------------------------------------------

def batch_norm(x, running_mean, running_var, weight=None, bias=None, eps: float = 1e-5) -> np.ndarray:
    """Inference batch norm (``BatchNorm1d/2d/3d.eval()``).

    ``x``: ``(N, C)`` or ``(N, C, *spatial)``; ``running_mean``, ``running_var``,
    ``weight`` (default 1), ``bias`` (default 0): ``(C,)``.
    ``y = (x - mean) / sqrt(var + eps) * weight + bias``, computed as PyTorch
    does as ``x * alpha + beta`` with ``alpha = weight / sqrt(var + eps)``,
    ``beta = bias - mean * alpha``.
    """
    x = as_float(x)
    dt = x.dtype
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects (N, C, *spatial), got shape {x.shape}")
    c = x.shape[1]
    mean = np.asarray(running_mean, dtype=dt).reshape(c)
    var = np.asarray(running_var, dtype=dt).reshape(c)
    alpha = np.ones(c, dt) / np.sqrt(var + dt.type(eps))
    if weight is not None:
        alpha = alpha * np.asarray(weight, dtype=dt).reshape(c)
    beta = -mean * alpha
    if bias is not None:
        beta = beta + np.asarray(bias, dtype=dt).reshape(c)
    # y = x * alpha + beta, both passes over a block of planes while it is in cache
    scale, shift = np.tile(alpha, x.shape[0])[:, None], np.tile(beta, x.shape[0])[:, None]

    def affine(rows: slice, planes: np.ndarray, out: np.ndarray) -> None:
        block = out[rows]
        np.multiply(planes[rows], scale[rows], out=block)
        block += shift[rows]

    return _by_planes(x, affine)


def _by_planes(x: np.ndarray, compute) -> np.ndarray:
    """A new array of ``x``'s shape and dtype, filled by ``compute(rows, planes, out)`` for blocks of rows
    of ``x`` seen as ``(N·C, positions)`` planes (``out``: the result, seen alike), the blocks spread over
    threads by :func:`~convlint.execute.kernels.parallel.map_rows`."""
    lead = x.shape[0] * x.shape[1] if x.ndim >= 2 else 1
    planes = x.reshape(lead, math.prod(x.shape) // lead if lead else 0)
    out = np.empty(planes.shape, x.dtype)
    parallel.map_rows(lambda rows: compute(rows, planes, out), len(planes), planes.shape[1] * x.itemsize)
    return out.reshape(x.shape)


def linear(x, weight, bias=None) -> np.ndarray:
    """``x @ weight.T + bias`` for ``x`` ``(*, in)``, ``weight`` ``(out, in)``, ``bias`` ``(out,)``."""
    x = as_float(x)
    w = np.asarray(weight, dtype=x.dtype)
    out = np.matmul(x, w.T)
    if bias is not None:
        out += np.asarray(bias, dtype=x.dtype)
    return out


def flatten(x, start_dim: int = 1, end_dim: int = -1) -> np.ndarray:
    """``torch.flatten`` / ``nn.Flatten`` (default ``start_dim=1``): merge axes ``start_dim..end_dim``."""
    x = np.asarray(x)
    if x.ndim == 0:
        return x.reshape(1)
    s = start_dim % x.ndim
    e = end_dim % x.ndim
    if s > e:
        raise ValueError(f"start_dim {start_dim} comes after end_dim {end_dim} for {x.ndim} dimensions")
    return x.reshape(x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])
