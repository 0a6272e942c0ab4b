"""``convlint animate``: draw one layer's sliding window, frame by frame, as GIF, SVG or PNG.

Either ``SPEC LAYER`` (``--size H=64`` for each named input size), or an ad-hoc layer:
``--type Conv2d --input 7 --kernel-size 3 --stride 2 --padding 1``, where every option the
command itself does not define is a keyword of the layer type (``--kernel-size`` is
``kernel_size``; values are read as YAML: ``3``, ``[3,5]``, ``true``, ``same``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from convlint.cli.common import EXIT_CLEAN, EXIT_ERROR, add_common, registry_of
from convlint.output import RefusedOutput, write_atomically
from convlint.spec.files import UnreadableFile
from convlint.spec.model import NotASpec

FORMATS = {".gif": "gif", ".svg": "svg", ".png": "png"}
"""Output formats by file suffix: animated GIF, animated SVG, PNG contact sheet of every frame."""


class _LayerKeywordParser(argparse.ArgumentParser):
    """The ``animate`` parser: options it does not define become the ad-hoc layer's keywords
    (``args.keywords``) instead of errors."""

    def parse_known_args(self, args=None, namespace=None):
        items = list(sys.argv[1:] if args is None else args)
        keywords, rest = {}, []
        while items:
            item = items.pop(0)
            name, sep, value = item.partition("=")
            if item == "--" or not item.startswith("--") or name in self._option_string_actions:
                rest.append(item)
                continue
            if not sep:
                if not items or (items[0].startswith("-") and not items[0][1:2].isdigit()):
                    self.error(f"{name} needs a value, e.g. {name} 3")
                value = items.pop(0)
            keywords[name[2:].replace("-", "_")] = value
        namespace, unknown = super().parse_known_args(rest, namespace)
        namespace.keywords = keywords
        return namespace, unknown


def add_parser(commands) -> argparse.ArgumentParser:
    """Add the ``animate`` sub-command to ``commands`` (the sub-parsers of the main parser)."""
    parser = commands.add_parser(
        "animate", help="draw a layer's sliding window frame by frame (GIF, SVG, PNG contact sheet)",
        description="Draw how a conv, pool or transposed conv layer slides over its input: SPEC LAYER, or an "
                    "ad-hoc layer with --type, --input and the type's keywords as options (--kernel-size 3).")
    parser.__class__ = _LayerKeywordParser  # add_parser has no per-command parser class
    parser.allow_abbrev = False  # --frame is a layer keyword, not short for --frame-ms
    parser.add_argument("spec", nargs="?", metavar="SPEC", help="spec file (leave out with --type)")
    parser.add_argument("layer", nargs="?", metavar="LAYER", help="name of the layer to draw")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="out.gif, out.svg or out.png "
                        "(a contact sheet of every frame)")
    parser.add_argument("--type", metavar="TYPE", help="draw an ad-hoc layer of this type (`convlint plugins` lists them)")
    parser.add_argument("--input", metavar="SIZES", help="spatial input size of the ad-hoc layer: 7, or 7,9 per axis")
    parser.add_argument("--size", action="append", default=[], metavar="NAME=SIZE",
                        help="a number for a named input size of SPEC, e.g. H=64 (repeatable)")
    parser.add_argument("--transposed-as", choices=("conv", "scatter"), default="conv",
                        help="draw a transposed convolution as the direct convolution over the zero-inserted, "
                             "padded input (conv, default) or as each input cell stamping the kernel (scatter)")
    parser.add_argument("--frame-ms", type=int, default=600, metavar="MS", help="time per frame (600)")
    parser.add_argument("--max-cells", type=int, default=8, metavar="N",
                        help="most output cells drawn per axis; a larger layer shows its first and last ones (8)")
    parser.add_argument("--force", action="store_true", help="replace a symbolic link at -o (never its target)")
    add_common(parser)
    return parser


def _sizes(items: list[str]) -> dict[str, int]:
    from convlint.render.animate.layer import AnimateError
    from convlint.sizes.report import SizesError, parse_try
    try:
        return parse_try(items, "--size")
    except SizesError as error:
        raise AnimateError(str(error)) from None


def _input_sizes(text: str | None) -> list[int]:
    from convlint.render.animate.layer import AnimateError
    parts = [part.strip() for part in (text or "").replace("x", ",").split(",")]
    if not text or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise AnimateError(f"--input expects positive sizes such as 7 or 7,9, got {text!r}")
    return [int(part) for part in parts]


def render(args, registry) -> tuple[bytes, int]:
    """The bytes of the file ``args`` asks for, and its frame count; raises ``AnimateError``."""
    from convlint.render.animate.layer import AnimateError, ad_hoc_window, parse_value, spec_window, window_frames
    from convlint.render.animate.scene import TooLargeToDraw, build_scene

    fmt = FORMATS.get(Path(args.output).suffix.lower())
    if fmt is None:
        raise AnimateError(f"-o must end in .gif, .svg or .png, got {args.output!r}")
    if args.frame_ms < 1 or args.max_cells < 2:
        raise AnimateError("--frame-ms must be at least 1 and --max-cells at least 2")
    if args.type:
        if args.spec or args.size:
            raise AnimateError("give either SPEC LAYER or --type with --input, not both")
        keywords = {key: parse_value(value) for key, value in args.keywords.items()}
        window = ad_hoc_window(args.type, _input_sizes(args.input), keywords, registry)
    else:
        if not args.spec or not args.layer:
            raise AnimateError("name a spec and a layer (convlint animate SPEC LAYER -o out.gif), or draw an "
                               "ad-hoc layer with --type and --input")
        if args.keywords or args.input:
            given = ", ".join(f"--{key.replace('_', '-')}" for key in args.keywords) or "--input"
            raise AnimateError(f"{given} describe an ad-hoc layer; with SPEC LAYER the spec gives the keywords")
        window = spec_window(args.spec, args.layer, _sizes(args.size), registry)
    frames, labels = window_frames(window, args.transposed_as)
    try:
        scene = build_scene(frames, labels, args.max_cells)
    except TooLargeToDraw as error:
        raise AnimateError(str(error)) from None
    if fmt == "svg":
        from convlint.render.animate.svg import scene_svg
        return scene_svg(scene, args.frame_ms, labels.title), scene.frames
    from convlint.render.animate import raster
    data = raster.scene_gif(scene, args.frame_ms) if fmt == "gif" else raster.scene_sheet(scene)
    return data, scene.frames


def run(args, out) -> int:
    """``convlint animate``: write the file; 0 on success, 2 with a message for any problem."""
    from convlint.render.animate.layer import AnimateError
    from convlint.render.animate.raster import MissingPillow

    try:
        data, count = render(args, registry_of(args))
    except (AnimateError, MissingPillow, UnreadableFile, NotASpec) as error:
        message = (f"{args.spec} is not a spec (no top-level `layers`)" if isinstance(error, NotASpec)
                   else f"{args.spec}: {error}" if isinstance(error, UnreadableFile) else error)
        print(f"convlint: error: {message}", file=sys.stderr)
        return EXIT_ERROR

    try:
        write_atomically(args.output, data, getattr(args, "force", False))
    except RefusedOutput as refused:
        print(f"convlint: error: {refused}", file=sys.stderr)
        return EXIT_ERROR
    out.write(f"wrote {args.output}: {count} frame(s)\n")
    return EXIT_CLEAN
