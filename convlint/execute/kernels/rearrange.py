"""Layers that move values without computing new ones, with NumPy: padding, pixel and channel shuffles.

``x`` is ``(N, C, *spatial)``; semantics are those of the ``torch.nn`` modules.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["channel_shuffle", "pad", "pixel_shuffle", "pixel_unshuffle"]

PAD_MODES: dict[str, Literal["constant", "reflect", "edge", "wrap"]] = {
    "constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
"""PyTorch's padding modes → ``numpy.pad``'s."""


def pad(x, pairs, mode: str = "constant", value: float = 0.0) -> np.ndarray:
    """``x`` padded by ``pairs`` (``(before, after)`` per spatial axis, first axis first; negative
    numbers crop), in PyTorch's ``mode``: constant (with ``value``), reflect, replicate or circular."""
    x = np.asarray(x)
    crop = tuple(slice(max(-before, 0), x.shape[2 + axis] - max(-after, 0))
                 for axis, (before, after) in enumerate(pairs))
    x = x[(slice(None), slice(None), *crop)]
    widths = [(0, 0), (0, 0)] + [(max(before, 0), max(after, 0)) for before, after in pairs]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode=PAD_MODES[mode])


def pixel_shuffle(x, factor: int) -> np.ndarray:
    """``torch.nn.PixelShuffle``: ``(N, C·r², H, W)`` → ``(N, C, H·r, W·r)`` with ``r = factor``."""
    x = np.asarray(x)
    batch, channels, height, width = x.shape
    out = channels // (factor * factor)
    y = x.reshape(batch, out, factor, factor, height, width).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(batch, out, height * factor, width * factor)


def pixel_unshuffle(x, factor: int) -> np.ndarray:
    """``torch.nn.PixelUnshuffle``: ``(N, C, H·r, W·r)`` → ``(N, C·r², H, W)`` with ``r = factor``."""
    x = np.asarray(x)
    batch, channels, height, width = x.shape
    rows, cols = height // factor, width // factor
    y = x.reshape(batch, channels, rows, factor, cols, factor).transpose(0, 1, 3, 5, 2, 4)
    return y.reshape(batch, channels * factor * factor, rows, cols)


def channel_shuffle(x, groups: int) -> np.ndarray:
    """``torch.nn.ChannelShuffle``: channels ``(groups, C/groups)`` transposed to ``(C/groups, groups)``."""
    x = np.asarray(x)
    batch, channels = x.shape[:2]
    y = x.reshape(batch, groups, channels // groups, *x.shape[2:])
    return np.ascontiguousarray(np.swapaxes(y, 1, 2)).reshape(x.shape)
