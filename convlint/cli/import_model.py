"""``convlint import``: write the spec (and weights) of an ONNX file or a ``torch.nn`` module."""
from __future__ import annotations

import sys
from pathlib import Path

from convlint.cli.common import EXIT_CLEAN, UsageError, add_common, registry_of


def add_parser(commands) -> None:
    parser = commands.add_parser("import", help="write the spec of an ONNX file or a torch.nn module")
    parser.add_argument("source", metavar="SOURCE",
                        help="an .onnx file, or with --torch a package.module:factory that builds the module")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the spec here (default: standard output)")
    parser.add_argument("--weights-out", metavar="FILE.npz",
                        help="write the weights here, keyed as the state_dict (what `convlint run --weights` reads)")
    parser.add_argument("--torch", action="store_true", help="SOURCE is package.module:factory, traced with torch.fx")
    parser.add_argument("--input-shape", default="1,3,224,224", metavar="N,C,H,W",
                        help="the input shape --torch traces with (default 1,3,224,224)")
    add_common(parser)


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if not shape or any(size < 1 for size in shape):
        raise UsageError(f"--input-shape: expected positive integers separated by commas, got {text!r}")
    return shape


def run(args, out) -> int:
    """Import SOURCE; each operation no layer type imports is named on standard error."""
    registry = registry_of(args)
    if args.torch:
        from convlint.importing.spec_writer import spec_text
        from convlint.importing.torch_trace import TorchImportError, import_torch
        try:
            model = import_torch(args.source, registry, _shape(args.input_shape))
        except TorchImportError as error:
            raise UsageError(str(error)) from None
        text = spec_text(model, f"Imported from {args.source} by convlint import --torch.")
    else:
        from convlint.importing.onnx_file import OnnxImportError, load_onnx
        if not Path(args.source).is_file():
            raise UsageError(f"{args.source}: no such file")
        try:
            model, text = load_onnx(Path(args.source), registry)
        except OnnxImportError as error:
            raise UsageError(f"{args.source}: {error}") from None
    for problem in model.problems:
        print(f"convlint: not imported: {problem}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.write(text)
    if args.weights_out:
        from convlint.execute.arrays_io import write_npz
        write_npz(args.weights_out, model.weights)
    return EXIT_CLEAN
