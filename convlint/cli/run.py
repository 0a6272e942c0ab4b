"""``convlint run``: arguments to arrays, the executor, and the written outputs.

NumPy and the executor are imported when the command runs, so that building the command line
(for ``convlint lint`` too) does not import them.
"""
from __future__ import annotations

import sys

from convlint.analysis.infer import format_shape
from convlint.analysis.loading import load_spec
from convlint.cli.common import add_common, config_of, registry_of
from convlint.escaping import printable
from convlint.layers.registry import Registry
from convlint.linting.config import Config
from convlint.output import RefusedOutput, check_output_path, write_atomically
from convlint.report.concise import concise
from convlint.spec.files import UnreadableFile
from convlint.spec.model import NotASpec, Spec

def add_parser(commands) -> None:
    parser = commands.add_parser("run", help="run a spec on NumPy arrays")
    parser.add_argument("spec", metavar="SPEC", help="spec file")
    parser.add_argument("--input", "-i", action="append", default=[], metavar="NAME=FILE.npy",
                        help="array for an input (default: seeded random array of the declared shape)")
    parser.add_argument("--size", "-s", action="append", default=[], metavar="NAME=SIZE",
                        help="value of a named input size, e.g. H=224 (repeatable; for specs with [N, 3, H, W])")
    parser.add_argument("--weights", "-w", metavar="FILE.npz", help="PyTorch-style state dict saved with numpy.savez")
    parser.add_argument("--seed", type=int, default=0, help="seed for random inputs and missing weights")
    parser.add_argument("--output", "-o", required=True, metavar="OUT.npz", help="where to write the outputs")
    parser.add_argument("--all", action="store_true", help="write every layer's activation, not only the outputs")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="computation dtype")
    parser.add_argument("--max-memory", metavar="SIZE", help="refuse runs needing more (e.g. 2GiB or 512MB; "
                                                             "default: half the available memory)")
    parser.add_argument("--save-images", metavar="DIR", help="write a PNG grid of each written layer's channels")
    parser.add_argument("--force", action="store_true", help="replace a symbolic link at -o with the output")
    add_common(parser)


def run(args, out) -> int:
    """``convlint run``: execute the spec and write the outputs to an .npz file."""
    return execute_command(args, registry_of(args), out, config_of(args))


class CommandError(Exception):
    """A bad argument or file for ``convlint run``; the message names it."""


def _read_inputs(pairs: list[str], max_bytes: int) -> dict:
    """Input name → ``numpy.ndarray`` read from each ``NAME=FILE.npy`` (at most ``max_bytes`` each)."""
    from convlint.execute.arrays_io import ArrayFileError, read_npy

    inputs = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise CommandError(f"--input must be NAME=FILE.npy, got {pair!r}")
        try:
            inputs[name] = read_npy(path, max_bytes)
        except ArrayFileError as error:
            raise CommandError(f"--input {name}: {error}") from None
    return inputs


def _written_names(spec, keep_all: bool) -> list[str]:
    """The keys the output file will hold: every layer's name with ``--all``, else the outputs."""
    return [layer.name for layer in spec.layers] if keep_all else list(spec.outputs)


def _at_sizes(spec: Spec, sizes: dict[str, int], path: str) -> Spec:
    """``spec`` with its named input sizes replaced by ``sizes``; :class:`CommandError` when one is missing."""
    unknown = sorted(set(sizes) - set(spec.size_names))
    if unknown:
        named = ", ".join(spec.size_names) or "none"
        raise CommandError(f"--size {unknown[0]}: the spec has no named size {unknown[0]} (its named sizes: {named})")
    missing = [name for name in spec.size_names if name not in sizes]
    if missing:
        example = " ".join(f"--size {name}={1 if name == spec.size_names[0] and len(spec.size_names) > 1 else 64}"
                           for name in missing)
        raise CommandError(f"{path} has named input sizes ({', '.join(spec.size_names)}); give arrays with "
                           f"--input NAME=FILE.npy or the sizes, e.g. {example}")
    if not sizes:
        return spec
    return spec.at_sizes(sizes)


def execute_command(args, registry: Registry, out, config: Config | None = None) -> int:
    """Run ``args.spec``; 0 on success, 1 when the spec has lint errors, 2 for other problems.

    The spec is linted by the lint pipeline under ``config``, as ``convlint lint`` lints it: a
    finding that configuration or a noqa comment suppresses does not refuse the run, a budget does.

    Everything that could stop the outputs being written (a bad ``-o``, an output name no
    ``.npz`` can keep, weights over the memory limit) is checked before anything is computed.
    """
    from convlint.execute.arrays_io import check_keys, non_finite, read_npz, write_npz
    from convlint.execute.executor import DEFAULT_MEMORY_FRACTION, ExecutionError, SpecHasErrors, execute
    from convlint.execute.executor import checked_numeric, with_input_shapes
    from convlint.execute.memory import available_memory, format_bytes, parse_bytes
    from convlint.sizes.report import SizesError, parse_try

    force = getattr(args, "force", False)
    try:
        check_output_path(args.output, force)
        limit = parse_bytes(args.max_memory) if args.max_memory else None
        read_limit = limit if limit is not None else int(available_memory() * DEFAULT_MEMORY_FRACTION)
        spec = load_spec(args.spec)
        check_keys(_written_names(spec, args.all))
        inputs = _read_inputs(args.input, read_limit)
        weights = read_npz(args.weights, read_limit) if args.weights else {}
        unusable = non_finite(weights)
        if unusable:
            print(f"convlint: warning: weights {', '.join(printable(key, 80) for key in unusable[:6])}"
                  f"{' …' if len(unusable) > 6 else ''} hold NaN or infinite values", file=sys.stderr)
        spec = _at_sizes(with_input_shapes(spec, inputs), parse_try(args.size, "--size"), args.spec)
        checked = checked_numeric(spec, registry, config)
        result = execute(checked.analysis, registry, inputs, weights, args.seed, args.dtype, keep_all=args.all,
                         memory_limit=limit, findings=checked.findings)
    except SpecHasErrors as refused:
        out.write(concise(refused.findings))
        print(f"convlint: {refused}", file=sys.stderr)
        return 1
    except NotASpec:
        print(f"convlint: error: {printable(args.spec)} is not a spec (no top-level `layers`)", file=sys.stderr)
        return 2
    except (ExecutionError, CommandError, SizesError, UnreadableFile, RefusedOutput, ValueError) as error:
        print(f"convlint: error: {printable(error)}", file=sys.stderr)
        return 2

    try:
        write_atomically(args.output, lambda temporary: write_npz(temporary, result.outputs), force)
    except (RefusedOutput, OSError) as error:
        print(f"convlint: error: cannot write {printable(args.output)}: {printable(error)}", file=sys.stderr)
        return 2
    if result.initialised:
        print(f"convlint: no weights given for {len(result.initialised)} entries; initialised as PyTorch does "
              f"(seed {args.seed}): {printable(', '.join(result.initialised[:6]))}"
              f"{' …' if len(result.initialised) > 6 else ''}", file=sys.stderr)
    shapes = ", ".join(f"{printable(name, 80)} {format_shape(array.shape)}" for name, array in
                       list(result.outputs.items())[:8])
    out.write(f"wrote {len(result.outputs)} array(s) to {printable(args.output)}: {shapes}"
              f"{' …' if len(result.outputs) > 8 else ''} (planned peak memory {format_bytes(result.peak_bytes)})\n")
    if args.save_images:
        try:
            from convlint.execute.images import save_feature_maps
            written = save_feature_maps(result.outputs, args.save_images, force)
        except (ImportError, RefusedOutput, OSError) as error:
            print(f"convlint: error: {printable(error)}", file=sys.stderr)
            return 2
        out.write(f"wrote {len(written)} image(s) to {printable(args.save_images)}\n")
    return 0
