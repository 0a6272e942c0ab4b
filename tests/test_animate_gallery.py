"""docs/animations/ holds exactly what its script generates today (byte for byte), and its
cases are the guide's: input, kernel, padding and stride give the output sizes the guide states."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

GALLERY = Path(__file__).resolve().parent.parent / "docs" / "animations"


def _script():
    spec = importlib.util.spec_from_file_location("animation_gallery", GALLERY / "gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_is_up_to_date():
    stale = [name for name, data in _script().gallery().items() if (GALLERY / name).read_bytes() != data]
    assert not stale, f"regenerate with `python docs/animations/gallery.py`: {stale}"


def test_gallery_has_the_fourteen_cases_with_the_guide_output_sizes():
    """Output sizes from the guide's figures 2.1–2.7 and 4.1–4.7, computed by PyTorch."""
    expected = [2, 6, 5, 7, 2, 3, 3, 4, 5, 5, 5, 5, 5, 6]
    sizes = []
    for _, _, arguments in _script().CASES:
        words = arguments.split()
        options = dict(zip(words[::2], words[1::2]))
        layer = getattr(torch.nn, options["--type"])(
            1, 1, int(options["--kernel-size"]), int(options.get("--stride", 1)), int(options.get("--padding", 0)),
            *([int(options.get("--output-padding", 0))] if "Transpose" in options["--type"] else []))
        size = int(options["--input"])
        sizes.append(layer(torch.zeros(1, 1, size, size)).shape[-1])
    assert sizes == expected
    assert sorted(path.name for path in GALLERY.glob("*.svg")) == sorted(f"{stem}.svg" for stem, _, _ in _script().CASES)
