"""Feature maps as pictures: one PNG grid per layer, one tile per channel (as TensorBoard's
``add_images`` shows them).  Needs Pillow (the ``images`` extra)."""
from __future__ import annotations

import hashlib
import math
from pathlib import Path
from urllib.parse import quote

import numpy as np

from convlint.output import RefusedOutput, write_atomically

TILE_GAP = 2
"""Pixels between tiles."""


def channel_grid(activation: np.ndarray) -> np.ndarray:
    """Tile the channels of the first sample of an ``(N, C, H, W)`` (or ``(N, C, L)``) array.

    Each channel is scaled to 0–255 on its own range; returns a ``uint8`` image of
    ``rows·(H+gap)−gap × cols·(W+gap)−gap`` pixels, ``cols = ⌈√C⌉``.
    """
    maps = activation[0]
    if maps.ndim == 2:  # 1-d feature maps: one row of pixels per channel
        maps = maps[:, None, :]
    if maps.ndim != 3:
        raise ValueError(f"cannot draw a feature map of shape {activation.shape}")
    channels, height, width = maps.shape
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.5) * 255
    cols = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / cols)
    grid = np.zeros((rows * (height + TILE_GAP) - TILE_GAP, cols * (width + TILE_GAP) - TILE_GAP), np.uint8)
    for index in range(channels):
        top, left = (index // cols) * (height + TILE_GAP), (index % cols) * (width + TILE_GAP)
        grid[top:top + height, left:left + width] = scaled[index].astype(np.uint8)
    return grid


MAX_FILE_STEM = 200
"""Longest file name stem written (file systems allow 255 bytes); longer ones end in a digest."""


def image_file_name(layer: str) -> str:
    """A file name for ``layer``'s picture that stays inside its folder: every character but letters,
    digits, ``.``, ``_`` and ``-`` is percent-encoded (``../x`` → ``..%2Fx.png``), so different layers
    get different names; over-long names are cut and end in a digest of the whole name."""
    encoded = layer.encode("utf-8", "surrogatepass")
    stem = quote(encoded, safe="")
    if stem.startswith("."):  # no hidden files
        stem = "%2E" + stem[1:]
    if len(stem) > MAX_FILE_STEM:
        stem = stem[:MAX_FILE_STEM - 17] + "+" + hashlib.sha256(encoded).hexdigest()[:16]  # `+` is encoded elsewhere
    return stem + ".png"


def save_feature_maps(activations: dict[str, np.ndarray], directory: str | Path, force: bool = False) -> list[Path]:
    """Write a PNG for each 3-D or 4-D activation into ``directory``, named by :func:`image_file_name`;
    returns the paths.  No file is written outside ``directory``, and an existing link or special
    file there is refused (:class:`~convlint.spec.files.RefusedOutput`; ``force`` replaces links).

    Raises ``ImportError`` with the install command when Pillow is missing.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("--save-images needs Pillow: pip install 'convlint[images]'") from None
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    inside = folder.resolve()
    written = []
    for name, activation in activations.items():
        if activation.ndim not in (3, 4):
            continue
        path = folder / image_file_name(name)
        if path.parent.resolve() != inside:  # cannot happen with the encoding above; never trust it blindly
            raise RefusedOutput(f"the picture of layer `{name[:80]}` would be written outside {folder}")
        picture = Image.fromarray(channel_grid(activation))
        write_atomically(path, lambda temporary: picture.save(temporary, format="PNG"), force)
        written.append(path)
    return written
