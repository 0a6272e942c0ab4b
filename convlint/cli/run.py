"""``convlint run``: arguments to arrays, the executor, and the written outputs."""
from __future__ import annotations

import sys

import numpy as np

from convlint.analysis.loading import analyze_numeric, load_spec
from convlint.report import formatters
from convlint.execute.executor import ExecutionError, SpecHasErrors, execute, load_weights
from convlint.execute.executor import with_input_shapes
from convlint.output import write_atomically
from convlint.spec.files import UnreadableFile
from convlint.execute.memory import format_bytes, parse_bytes
from convlint.layers.registry import Registry
from convlint.spec.model import NotASpec


class CommandError(Exception):
    """A bad argument or file for ``convlint run``; the message names it."""


def _read_inputs(pairs: list[str]) -> dict[str, np.ndarray]:
    inputs = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise CommandError(f"--input must be NAME=FILE.npy, got {pair!r}")
        try:
            inputs[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise CommandError(f"--input {name}: cannot read {path}: {error}") from None
    return inputs


def execute_command(args, registry: Registry, out) -> int:
    """Run ``args.spec``; 0 on success, 1 when the spec has lint errors, 2 for other problems."""
    try:
        spec = load_spec(args.spec)
        inputs = _read_inputs(args.input)
        weights = load_weights(args.weights) if args.weights else {}
        limit = parse_bytes(args.max_memory) if args.max_memory else None
        spec = with_input_shapes(spec, inputs)
        result = execute(analyze_numeric(spec, registry), registry, inputs, weights, args.seed, args.dtype,
                         keep_all=args.all, memory_limit=limit)
    except SpecHasErrors as refused:
        out.write(formatters.concise(refused.findings))
        print(f"convlint: {refused}", file=sys.stderr)
        return 1
    except NotASpec:
        print(f"convlint: error: {args.spec} is not a spec (no top-level `layers`)", file=sys.stderr)
        return 2
    except (ExecutionError, CommandError, UnreadableFile, ValueError) as error:
        print(f"convlint: error: {error}", file=sys.stderr)
        return 2

    def save(temporary: str) -> None:
        with open(temporary, "wb") as handle:
            np.savez(handle, **result.outputs)

    write_atomically(args.output, save)
    if result.initialised:
        print(f"convlint: no weights given for {len(result.initialised)} entries; initialised as PyTorch does "
              f"(seed {args.seed}): {', '.join(result.initialised[:6])}{' …' if len(result.initialised) > 6 else ''}",
              file=sys.stderr)
    shapes = ", ".join(f"{name} {formatters.format_shape(array.shape)}" for name, array in
                       list(result.outputs.items())[:8])
    out.write(f"wrote {len(result.outputs)} array(s) to {args.output}: {shapes}"
              f"{' …' if len(result.outputs) > 8 else ''} (planned peak memory {format_bytes(result.peak_bytes)})\n")
    if args.save_images:
        try:
            from convlint.execute.images import save_feature_maps
            written = save_feature_maps(result.outputs, args.save_images)
        except ImportError as error:
            print(f"convlint: error: {error}", file=sys.stderr)
            return 2
        out.write(f"wrote {len(written)} image(s) to {args.save_images}\n")
    return 0
