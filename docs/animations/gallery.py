"""Regenerate the gallery: the fourteen animations of vdumoulin's convolution arithmetic guide
(Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016), which the
tutorial this project started from shows, drawn by ``convlint animate`` with the guide's exact
parameters.  Run from anywhere: ``python docs/animations/gallery.py``; it rewrites the SVGs and
README.md beside it.  tests/test_animate_gallery.py checks that they are up to date.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CASES = (
    # (file stem, the guide's caption, the command-line arguments after `convlint animate`)
    ("no_padding_no_strides", "No padding, no strides",
     "--type Conv2d --input 4 --kernel-size 3"),
    ("arbitrary_padding_no_strides", "Arbitrary padding, no strides",
     "--type Conv2d --input 5 --kernel-size 4 --padding 2"),
    ("same_padding_no_strides", "Half padding, no strides",
     "--type Conv2d --input 5 --kernel-size 3 --padding 1"),
    ("full_padding_no_strides", "Full padding, no strides",
     "--type Conv2d --input 5 --kernel-size 3 --padding 2"),
    ("no_padding_strides", "No padding, strides",
     "--type Conv2d --input 5 --kernel-size 3 --stride 2"),
    ("padding_strides", "Padding, strides",
     "--type Conv2d --input 5 --kernel-size 3 --stride 2 --padding 1"),
    ("padding_strides_odd", "Padding, strides (odd)",
     "--type Conv2d --input 6 --kernel-size 3 --stride 2 --padding 1"),
    ("no_padding_no_strides_transposed", "No padding, no strides, transposed",
     "--type ConvTranspose2d --input 2 --kernel-size 3"),
    ("arbitrary_padding_no_strides_transposed", "Arbitrary padding, no strides, transposed",
     "--type ConvTranspose2d --input 6 --kernel-size 4 --padding 2"),
    ("same_padding_no_strides_transposed", "Half padding, no strides, transposed",
     "--type ConvTranspose2d --input 5 --kernel-size 3 --padding 1"),
    ("full_padding_no_strides_transposed", "Full padding, no strides, transposed",
     "--type ConvTranspose2d --input 7 --kernel-size 3 --padding 2"),
    ("no_padding_strides_transposed", "No padding, strides, transposed",
     "--type ConvTranspose2d --input 2 --kernel-size 3 --stride 2"),
    ("padding_strides_transposed", "Padding, strides, transposed",
     "--type ConvTranspose2d --input 3 --kernel-size 3 --stride 2 --padding 1"),
    ("padding_strides_odd_transposed", "Padding, strides, transposed (odd)",
     "--type ConvTranspose2d --input 3 --kernel-size 3 --stride 2 --padding 1 --output-padding 1"),
)
"""Each transposed case is the transpose of the convolution above it (its input is that one's output)."""

FRAME_MS = 700


def gallery() -> dict[str, bytes]:
    """File name → the bytes it should hold: one SVG per case, and README.md."""
    from convlint.api import default_registry
    from convlint.cli import animate
    from convlint.cli.main import build_parser

    files, rows = {}, []
    for stem, caption, arguments in CASES:
        args = build_parser().parse_args(["animate", *arguments.split(), "--frame-ms", str(FRAME_MS),
                                          "-o", f"{stem}.svg"])
        files[f"{stem}.svg"], _ = animate.render(args, default_registry())
        rows.append(f"## {caption}\n\n`convlint animate {arguments} -o {stem}.svg`\n\n![{caption}]({stem}.svg)\n")
    files["README.md"] = ("# The convolution arithmetic gallery\n\n"
                          "The fourteen animations of Dumoulin and Visin's *A guide to convolution arithmetic for "
                          "deep learning*, with the guide's exact sizes, drawn by `convlint animate`. Transposed "
                          "convolutions are drawn as the guide draws them: the direct convolution over the "
                          "zero-inserted, padded input (`--transposed-as scatter` draws the scatter instead). "
                          "Regenerate with `python docs/animations/gallery.py`.\n\n"
                          + "\n".join(rows)).encode("utf-8")
    return files


def main() -> int:
    for name, data in gallery().items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(CASES)} animations to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
