"""``convlint export``: a checked spec as PyTorch source (``--to torch``) or an ONNX model (``--to onnx``).

A spec with lint errors is refused with its findings (exit 1); its warnings are carried into the
generated code as comments.  PyTorch, NumPy and onnx are imported only when the command runs.
"""
from __future__ import annotations

import sys
from pathlib import Path

from convlint.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, add_common, config_of, registry_of
from convlint.escaping import printable
from convlint.output import RefusedOutput, check_output_path, write_atomically
from convlint.report.concise import concise
from convlint.spec.files import UnreadableFile
from convlint.spec.model import NotASpec

FORMATS = ("torch", "onnx")
MIN_OPSET, MAX_OPSET = 17, 21
"""The ONNX opsets ``--opset`` accepts."""


def add_parser(commands) -> None:
    parser = commands.add_parser("export", help="write a checked spec as PyTorch source or an ONNX model")
    parser.add_argument("spec", metavar="SPEC", help="spec file")
    parser.add_argument("--to", choices=FORMATS, required=True, help="torch: a .py file with nn.Module classes; "
                                                                      "onnx: an .onnx model")
    parser.add_argument("--output", "-o", required=True, metavar="FILE", help="where to write it")
    parser.add_argument("--weights", "-w", metavar="FILE.npz", help="ONNX: the state dict to store (as for "
                        "`convlint run`); entries it lacks are initialised as the executor does")
    parser.add_argument("--seed", type=int, default=0, help="ONNX: seed of the weights initialised (0)")
    parser.add_argument("--opset", type=int, default=MIN_OPSET, help=f"ONNX: the opset ({MIN_OPSET} to {MAX_OPSET})")
    parser.add_argument("--static", action="store_true", help="ONNX: fixed input sizes (default: named sizes, "
                        "and the spatial sizes of a spec with numbers, are symbolic dimensions)")
    parser.add_argument("--force", action="store_true", help="replace a symbolic link at -o with the output")
    add_common(parser)


def run(args, out) -> int:
    """Export ``args.spec``; 0 when written, 1 when the spec has lint errors, 2 for other problems."""
    from convlint.analysis.loading import load_spec
    from convlint.export.prepare import SpecRefused, prepare
    from convlint.layers.layer_type import NotExportable

    config = config_of(args)
    registry = registry_of(args)
    try:
        if not MIN_OPSET <= args.opset <= MAX_OPSET:
            raise ValueError(f"--opset must be from {MIN_OPSET} to {MAX_OPSET}, got {args.opset}")
        check_output_path(args.output, args.force)
        prepared = prepare(load_spec(args.spec), registry, config)
        if args.to == "torch":
            from convlint.export.torch_source import torch_source
            content: bytes = torch_source(prepared, Path(args.spec).stem).encode()
        else:
            from convlint.export.onnx_model import onnx_bytes
            content = onnx_bytes(prepared, args.weights, args.seed, args.opset, dynamic=not args.static)
    except SpecRefused as refused:
        out.write(concise(refused.findings))
        print(f"convlint: {refused}", file=sys.stderr)
        return EXIT_FINDINGS
    except NotASpec:
        print(f"convlint: error: {printable(args.spec)} is not a spec (no top-level `layers`)", file=sys.stderr)
        return EXIT_ERROR
    except (NotExportable, UnreadableFile, RefusedOutput, ImportError, ValueError) as error:
        print(f"convlint: error: cannot export {printable(args.spec)}: {printable(error)}", file=sys.stderr)
        return EXIT_ERROR
    try:
        write_atomically(args.output, content, args.force)
    except (RefusedOutput, OSError) as error:
        print(f"convlint: error: cannot write {printable(args.output)}: {printable(error)}", file=sys.stderr)
        return EXIT_ERROR
    warned = sum(len(found) for found in prepared.warnings.values())
    carried = f"; {warned} lint warning(s) carried as comments" if warned and args.to == "torch" else ""
    what = f"class {class_name_of(args.spec)}" if args.to == "torch" else "ONNX model"
    out.write(f"wrote {what} to {printable(args.output)}{carried}\n")
    return EXIT_CLEAN


def class_name_of(spec_path: str) -> str:
    from convlint.export.names import class_name
    return class_name(Path(spec_path).stem)
