"""``convlint run``: arguments to arrays, the executor, and the written outputs."""
from __future__ import annotations

import sys

from convlint.analysis.loading import analyze_numeric, load_spec
from convlint.report import formatters
from convlint.execute.arrays_io import ArrayFileError, check_keys, non_finite, read_npy, read_npz, write_npz
from convlint.execute.executor import DEFAULT_MEMORY_FRACTION, ExecutionError, SpecHasErrors, execute
from convlint.execute.executor import with_input_shapes
from convlint.escaping import printable
from convlint.output import RefusedOutput, check_output_path, write_atomically
from convlint.spec.files import UnreadableFile
from convlint.execute.memory import available_memory, format_bytes, parse_bytes
from convlint.layers.registry import Registry
from convlint.spec.model import NotASpec


class CommandError(Exception):
    """A bad argument or file for ``convlint run``; the message names it."""


def _read_inputs(pairs: list[str], max_bytes: int) -> dict:
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


def execute_command(args, registry: Registry, out) -> int:
    """Run ``args.spec``; 0 on success, 1 when the spec has lint errors, 2 for other problems.

    Everything that could stop the outputs being written (a bad ``-o``, an output name no
    ``.npz`` can keep, weights over the memory limit) is checked before anything is computed.
    """
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
        spec = with_input_shapes(spec, inputs)
        result = execute(analyze_numeric(spec, registry), registry, inputs, weights, args.seed, args.dtype,
                         keep_all=args.all, memory_limit=limit)
    except SpecHasErrors as refused:
        out.write(formatters.concise(refused.findings))
        print(f"convlint: {refused}", file=sys.stderr)
        return 1
    except NotASpec:
        print(f"convlint: error: {printable(args.spec)} is not a spec (no top-level `layers`)", file=sys.stderr)
        return 2
    except (ExecutionError, CommandError, UnreadableFile, RefusedOutput, ValueError) as error:
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
    shapes = ", ".join(f"{printable(name, 80)} {formatters.format_shape(array.shape)}" for name, array in
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
