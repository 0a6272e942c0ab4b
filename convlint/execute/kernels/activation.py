"""Activations beyond :mod:`.elementwise`: Hardsigmoid, Mish, Softplus and PReLU, with NumPy.

Semantics are those of the ``torch.nn`` modules; every function keeps the input's
floating dtype.  ``x`` has any shape; PReLU's ``weight`` has 1 or ``x.shape[1]`` entries.
"""
from __future__ import annotations

import numpy as np

from convlint.execute.kernels.elementwise import as_float, tanh

__all__ = ["hardsigmoid", "mish", "prelu", "softplus"]


def hardsigmoid(x) -> np.ndarray:
    """``clip(x / 6 + 1/2, 0, 1)`` (``torch.nn.Hardsigmoid``: ``relu6(x + 3) / 6``)."""
    x = as_float(x)
    t = x.dtype.type
    return np.clip(x + t(3), t(0), t(6)) / t(6)


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """``log(1 + exp(beta·x)) / beta``, and ``x`` itself where ``beta·x > threshold`` (``torch.nn.Softplus``)."""
    x = as_float(x)
    t = x.dtype.type
    scaled = x * t(beta)
    smooth = np.logaddexp(t(0), scaled) / t(beta)
    return np.where(scaled > t(threshold), x, smooth).astype(x.dtype, copy=False)


def mish(x) -> np.ndarray:
    """``x · tanh(softplus(x))`` (``torch.nn.Mish``)."""
    x = as_float(x)
    return x * tanh(softplus(x))


def prelu(x, weight) -> np.ndarray:
    """``x`` where ``x ≥ 0``, else ``weight · x`` with one ``weight`` for all channels or one per channel (dim 1)."""
    x = as_float(x)
    weight = np.asarray(weight, dtype=x.dtype)
    if weight.size > 1:
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return np.where(x >= 0, x, weight * x)
