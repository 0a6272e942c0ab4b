"""``convlint run``: arguments to arrays, the executor, and the written outputs.

NumPy and the executor are imported when the command runs, so that building the command line
(for ``convlint lint`` too) does not import them.
"""
from __future__ import annotations

import sys
from pathlib import Path

from convlint.analysis.infer import analyze
from convlint.report import formatters
from convlint.spec.files import UnreadableFile, read_text, write_atomically
from convlint.cli.common import add_common, config_of, registry_of
from convlint.layers.registry import Registry
from convlint.analysis.graph import build_graph
from convlint.spec.model import NotASpec, Spec, parse_spec


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
    add_common(parser)


def run(args, out) -> int:
    """``convlint run``: execute the spec and write the outputs to an .npz file."""
    config_of(args)  # a broken configuration is reported here as for every command
    return execute_command(args, registry_of(args), out)


class CommandError(Exception):
    """A bad argument or file for ``convlint run``; the message names it."""


def _read_inputs(pairs: list[str]) -> dict:
    """Input name → ``numpy.ndarray`` read from each ``NAME=FILE.npy``."""
    import numpy as np

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


def _read_sizes(pairs: list[str]) -> dict[str, int]:
    sizes = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value.isdigit() or int(value) < 1:
            raise CommandError(f"--size must be NAME=POSITIVE_INTEGER, e.g. H=224, got {pair!r}")
        sizes[name.strip()] = int(value)
    return sizes


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
    return spec.with_input_shapes({name: tuple(sizes.get(dim, dim) if isinstance(dim, str) else dim
                                               for dim in decl.shape) for name, decl in spec.inputs.items()})


def execute_command(args, registry: Registry, out) -> int:
    """Run ``args.spec``; 0 on success, 1 when the spec has lint errors, 2 for other problems."""
    import numpy as np

    from convlint.execute.executor import ExecutionError, SpecHasErrors, execute, load_weights, with_input_shapes
    from convlint.execute.memory import format_bytes, parse_bytes

    try:
        spec = parse_spec(read_text(Path(args.spec)), args.spec)
        build_graph(spec)
        inputs = _read_inputs(args.input)
        weights = load_weights(args.weights) if args.weights else {}
        limit = parse_bytes(args.max_memory) if args.max_memory else None
        spec = _at_sizes(with_input_shapes(spec, inputs), _read_sizes(args.size), args.spec)
        result = execute(analyze(spec, registry), registry, inputs, weights, args.seed, args.dtype,
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
