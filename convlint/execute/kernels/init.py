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

Each layer type picks its initialisation in
:meth:`convlint.LayerType.initial_parameters`: :func:`kaiming_uniform` for the
first kind, :func:`constant_parameters` for the second.

The values are drawn from ``rng`` (a :class:`numpy.random.Generator`), so they
follow PyTorch's distributions but are not PyTorch's numbers.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

__all__ = ["constant_parameters", "fan_in", "kaiming_uniform"]


def fan_in(weight_shape: Sequence[int]) -> int:
    """``weight_shape[1] * prod(weight_shape[2:])``, as ``torch.nn.init`` computes it."""
    if len(weight_shape) < 2:
        raise ValueError(f"fan_in needs a weight with at least 2 dimensions, got {tuple(weight_shape)}")
    return int(weight_shape[1]) * math.prod(int(s) for s in weight_shape[2:])


def _generator(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def kaiming_uniform(shapes: Mapping[str, Sequence[int]], rng=None, dtype=np.float32) -> dict[str, np.ndarray]:
    """``weight`` and ``bias`` drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, weight first, as PyTorch's
    ``reset_parameters()`` of ConvNd, ConvTransposeNd and Linear.

    ``shapes`` maps ``weight`` (needed, at least 2-D) and optionally ``bias`` to their shapes;
    ``rng`` is a :class:`numpy.random.Generator`, a seed, or ``None`` (fresh entropy).
    Returns a dict with the keys (and order) of ``shapes``.
    """
    unknown = set(shapes) - {"weight", "bias"}
    if unknown:
        raise ValueError(f"kaiming_uniform initialises `weight` and `bias`, not {sorted(unknown)}")
    if "weight" not in shapes:
        raise ValueError("kaiming_uniform needs the weight shape to compute fan_in")
    rng = _generator(rng)
    size = fan_in(shapes["weight"])
    bound = 1.0 / math.sqrt(size) if size > 0 else 0.0
    drawn = {"weight": rng.uniform(-bound, bound, tuple(shapes["weight"])).astype(dtype)}
    if "bias" in shapes:
        drawn["bias"] = rng.uniform(-bound, bound, tuple(shapes["bias"])).astype(dtype)
    return {key: drawn[key] for key in shapes}


def constant_parameters(shapes: Mapping[str, Sequence[int]], fills: Mapping[str, float],
                        dtype=np.float32) -> dict[str, np.ndarray]:
    """Arrays of ``shapes`` filled with ``fills[key]`` (a norm layer's ``weight = 1``, ``bias = 0``, ...).

    ``num_batches_tracked`` is always an int64 zero; any other key missing from ``fills`` is a ``ValueError``.
    """
    out: dict[str, np.ndarray] = {}
    for key, shape in shapes.items():
        if key == "num_batches_tracked":
            out[key] = np.zeros(tuple(shape), np.int64)
        elif key in fills:
            out[key] = np.full(tuple(shape), fills[key], dtype)
        else:
            raise ValueError(f"no initial value for parameter {key!r}")
    return out
