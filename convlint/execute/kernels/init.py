"""PyTorch's default parameter initialisation, reproduced in distribution with NumPy.

``torch.nn.ConvNd``, ``ConvTransposeNd`` and ``Linear`` call
``reset_parameters()``::

    kaiming_uniform_(weight, a=sqrt(5))          # => U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))    # 0 bound when fan_in == 0

with ``fan_in = weight.shape[1] * prod(weight.shape[2:])`` (torch's
``_calculate_fan_in_and_fan_out``).  Kaiming-uniform's bound is
``gain * sqrt(3 / fan_in)`` with ``gain = sqrt(2 / (1 + a**2)) = sqrt(1/3)``,
hence ``1/sqrt(fan_in)``.  Because the formula reads ``weight.shape[1]``:

* ConvNd (weight ``(C_out, C_in/groups, *k)``): ``fan_in = C_in/groups * prod(k)``;
* ConvTransposeNd (weight ``(C_in, C_out/groups, *k)``):
  ``fan_in = C_out/groups * prod(k)`` (PyTorch's convention, not the true fan-in);
* Linear (weight ``(out, in)``): ``fan_in = in``.

``BatchNorm1d/2d/3d``: ``weight = 1``, ``bias = 0``, ``running_mean = 0``,
``running_var = 1``, ``num_batches_tracked = 0`` (int64).

The values are drawn from ``rng`` (a :class:`numpy.random.Generator`), so they
follow PyTorch's distributions but are not PyTorch's numbers.
"""
from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

import numpy as np

__all__ = ["default_parameters", "fan_in"]

_UNIFORM_TYPES = re.compile(r"^(Conv[123]d|ConvTranspose[123]d|Linear)$")
_BATCHNORM = re.compile(r"^BatchNorm[123]d$")


def fan_in(weight_shape: Sequence[int]) -> int:
    """``weight_shape[1] * prod(weight_shape[2:])``, as ``torch.nn.init`` computes it."""
    if len(weight_shape) < 2:
        raise ValueError(f"fan_in needs a weight with at least 2 dimensions, got {tuple(weight_shape)}")
    return int(weight_shape[1]) * math.prod(int(s) for s in weight_shape[2:])


def default_parameters(type_name: str, shapes: Mapping[str, Sequence[int]], rng=None,
                       dtype=np.float32) -> dict[str, np.ndarray]:
    """Default-initialised parameters for one layer.

    Parameters
    ----------
    type_name : the ``torch.nn`` class name (``'Conv2d'``, ``'ConvTranspose3d'``,
        ``'Linear'``, ``'BatchNorm1d'``, ...; a leading ``'nn.'`` / ``'torch.nn.'`` is ignored).
    shapes : parameter (and buffer) name -> shape, e.g. ``{'weight': (64, 3, 7, 7),
        'bias': (64,)}``.  Conv/Linear accept ``weight`` and ``bias``; BatchNorm
        accepts ``weight``, ``bias``, ``running_mean``, ``running_var`` and
        ``num_batches_tracked``.  Layer types without parameters accept an
        empty mapping.
    rng : a :class:`numpy.random.Generator`, a seed, or ``None`` (fresh entropy).
    dtype : floating dtype of the arrays (``num_batches_tracked`` is int64).

    Returns
    -------
    dict with the same keys (and order) as ``shapes``.  For Conv/Linear the
    weight is drawn first, then the bias, as in PyTorch.
    """
    name = type_name.split(".")[-1]
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    shapes = {k: tuple(int(s) for s in v) for k, v in shapes.items()}
    out: dict[str, np.ndarray] = {}
    if _UNIFORM_TYPES.match(name):
        unknown = set(shapes) - {"weight", "bias"}
        if unknown:
            raise ValueError(f"{name} has no parameters {sorted(unknown)}")
        if "weight" not in shapes:
            raise ValueError(f"{name}: the weight shape is needed to compute fan_in")
        fi = fan_in(shapes["weight"])
        bound = 1.0 / math.sqrt(fi) if fi > 0 else 0.0
        drawn = {"weight": rng.uniform(-bound, bound, shapes["weight"]).astype(dtype)}
        if "bias" in shapes:
            drawn["bias"] = rng.uniform(-bound, bound, shapes["bias"]).astype(dtype)
        return {k: drawn[k] for k in shapes}
    if _BATCHNORM.match(name):
        fills = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0, "running_var": 1.0}
        for key, shape in shapes.items():
            if key == "num_batches_tracked":
                out[key] = np.zeros(shape, np.int64)
            elif key in fills:
                out[key] = np.full(shape, fills[key], dtype)
            else:
                raise ValueError(f"{name} has no parameter {key!r}")
        return out
    if shapes:
        raise ValueError(f"no default initialisation known for parameters {sorted(shapes)} of {type_name!r}")
    return out
