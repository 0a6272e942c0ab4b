"""``convlint render``: draw specs as architecture diagrams (SVG, PNG, PDF, Graphviz DOT, or an
explorable HTML page).

Where each diagram goes:

- ``-o FILE``: one spec, format from the suffix (``.svg``, ``.png``, ``.pdf``, ``.dot``/``.gv``, ``.html``)
  unless ``--format`` says otherwise.
- ``-o -``: one spec, written to standard output (SVG unless ``--format`` says otherwise).
- ``-o DIR``: one file per spec, named after the spec file (``DIR/unet.svg``); ``DIR`` is taken
  as a directory when it exists, ends with a slash, or several specs (or a directory) are given.

Files are written atomically (a temporary file in the same directory, then
``os.replace``).  When ``dot`` is missing, the DOT source is written next to
the requested file (``unet.svg`` → ``unet.dot``) with instructions to install
Graphviz, and the exit code is 2.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from convlint.spec.files import iter_yaml_files
from convlint.findings import Finding, Severity
from convlint.report.concise import concise
from convlint.linting.config import Config
from convlint.linting.runner import lint_file
from convlint.output import RefusedOutput, write_atomically
from convlint.cli.common import (EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError, add_common, add_selection,
                                 config_of, registry_of)
from convlint.cli.summary import _positive
from convlint.layers.registry import Registry

SUFFIX_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".html": "html"}


class RenderUsageError(UsageError):
    """The command line cannot be carried out as given (exit code 2)."""


@dataclass
class Options:
    """How to draw: ``rankdir`` (``TB``/``LR``), ``fold``, block ``depth`` (``None``: chosen to fit a
    page), ``edge_labels`` (``changes``/``all``/``none``) and PNG ``dpi``."""

    rankdir: str = "TB"
    fold: bool = True
    depth: int | None = None
    edge_labels: str = "changes"
    dpi: int | None = None


def add_parser(commands) -> None:
    parser = commands.add_parser("render", help="draw specs as architecture diagrams (needs Graphviz)")
    parser.add_argument("paths", nargs="+", metavar="SPEC", help="spec files or directories")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="output file (.svg, .png, .pdf, .dot, .gv, or .html: an explorable page), - for stdout, "
                             "or a directory")
    parser.add_argument("--format", choices=("svg", "png", "pdf", "dot", "html"),
                        help="output format (default: from -o)")
    parser.add_argument("--rankdir", choices=("TB", "LR"), default="TB", help="top-to-bottom or left-to-right")
    parser.add_argument("--no-fold", action="store_true",
                        help="draw norm, activation and dropout layers as boxes of their own")
    parser.add_argument("--depth", type=_positive, metavar="N",
                        help="draw each block use nested deeper than N levels as one box (Bottleneck ×6); "
                             "default: every layer for up to 60 boxes, else the deepest depth that fits a page")
    parser.add_argument("--edge-labels", choices=("changes", "all", "none"), default="changes",
                        help="label edges with shapes where the shape changes or at merges (default), all, or none")
    parser.add_argument("--dpi", type=_positive, default=None, metavar="N",
                        help="pixels per inch of PNG output (default 192: crisp on high-density screens)")
    add_selection(parser)
    parser.add_argument("--force", action="store_true", help="replace a symbolic link at -o with the output")
    add_common(parser)


@dataclass
class Job:
    """One spec file to draw, where to (``None`` for standard output) and in which format.

    ``named`` is true for a file named on the command line (rather than found in a directory):
    such a file must be a spec, while other YAML files found in a directory are skipped.
    """

    spec_path: Path
    target: Path | None
    fmt: str
    named: bool = True


def plan(paths: list[str], output: str, fmt: str | None) -> list[Job]:
    """Which spec goes to which file, in which format; :class:`RenderUsageError` when ambiguous."""
    given_dir = any(Path(path).is_dir() for path in paths)
    specs = []
    for path in iter_yaml_files(paths):
        root = next((Path(p) for p in paths if Path(p).is_dir() and Path(p) in path.parents), None)
        specs.append((path, path.relative_to(root) if root is not None else Path(path.name), root is None))
    if not specs:
        raise RenderUsageError("no *.yaml or *.yml files found in " + ", ".join(paths))
    if output == "-":
        if len(specs) > 1 or given_dir:
            raise RenderUsageError("`-o -` writes one diagram; name a single spec file or use `-o DIR`")
        return [Job(specs[0][0], None, fmt or "svg")]
    target = Path(output)
    if target.is_dir() or output.endswith(("/", os.sep)) or len(specs) > 1 or given_dir:
        if target.exists() and not target.is_dir():
            raise RenderUsageError(f"{output} is a file; several diagrams need a directory for `-o`")
        if not target.is_dir() and target.suffix.lower() in SUFFIX_FORMATS and not output.endswith(("/", os.sep)):
            raise RenderUsageError(f"`-o {output}` names one file, but there are {len(specs)} diagrams to draw; "
                                   f"give a directory (such as `-o diagrams/`) or a single spec")
        suffix = "." + (fmt or "svg")
        return [Job(path, target / relative.with_suffix(suffix), fmt or "svg", named)
                for path, relative, named in specs]
    chosen = fmt or SUFFIX_FORMATS.get(target.suffix.lower())
    if chosen is None:
        raise RenderUsageError(f"cannot tell the format of {output} from its suffix; use a name ending in "
                               f"{', '.join(SUFFIX_FORMATS)}, or --format")
    return [Job(specs[0][0], target, chosen)]


def _draw_job(job: Job, registry: Registry, config: Config, options: Options, out, err,
              force: bool = False) -> int:
    """Draw one spec; returns its exit code. Problems are printed to ``err``."""
    from convlint.render.draw import DEFAULT_DPI, DotMissing, DrawError, draw

    result = lint_file(job.spec_path, registry, config, named=False)
    if result.checked is None or result.spec is None:  # checked only where the spec parsed
        if result.skipped and job.named:
            raise RenderUsageError(f"{job.spec_path} is not a spec (it has no top-level `layers` key)")
        if result.skipped:
            return EXIT_CLEAN
        err.write(concise(result.findings))
        return EXIT_FINDINGS
    findings: list[Finding] = [finding for finding in result.findings if finding.severity is not Severity.INFO]
    diagram = _diagram(job, result, findings, registry, options, err)
    if diagram is None:
        return EXIT_ERROR
    try:
        if job.fmt == "html":
            from convlint.render.page import page

            data = page(result.spec, result.checked, diagram, registry, options.rankdir, options.edge_labels)
        else:
            data = draw(diagram.drawn, job.fmt, options.rankdir, edge_labels=options.edge_labels,
                        dpi=options.dpi or DEFAULT_DPI)
    except DotMissing as error:
        if job.target is None:
            err.write(f"convlint: {error}; nothing written (`--format dot` writes the Graphviz source)\n")
            return EXIT_ERROR
        source = job.target.with_suffix(".dot")
        fmt = "svg" if job.fmt == "html" else job.fmt
        try:
            write_atomically(source, draw(diagram.drawn, "dot", options.rankdir, edge_labels=options.edge_labels),
                             force)
        except RefusedOutput as refused:
            err.write(f"convlint: error: {refused}\n")
            return EXIT_ERROR
        err.write(f"convlint: {job.target} not drawn: {error}.\n"
                  f"convlint: wrote the diagram's Graphviz source to {source}; once Graphviz is installed, "
                  f"rerun this command or run `dot -T{fmt} {source} -o {job.target.with_suffix('.' + fmt)}`\n")
        return EXIT_ERROR
    except DrawError as error:
        err.write(f"convlint: {job.spec_path}: {error}\n")
        return EXIT_ERROR
    if job.target is None:
        out.flush()
        getattr(out, "buffer", out).write(data)
    else:
        try:
            write_atomically(job.target, data, force)
        except RefusedOutput as refused:
            err.write(f"convlint: error: {refused}\n")
            return EXIT_ERROR
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    if findings and job.target is not None:
        err.write(f"convlint: {job.spec_path}: {len(findings)} finding(s) drawn in red and listed under the "
                  f"diagram; `convlint lint {job.spec_path}` lists them too\n")
    return EXIT_FINDINGS if errors else EXIT_CLEAN


def _diagram(job: Job, result, findings: list[Finding], registry: Registry, options: Options, err):
    """The :class:`~convlint.render.layout.Layout` of the spec (full and as drawn), or ``None`` after
    saying why it cannot be drawn."""
    from convlint.render.collapse import MAX_BOXES
    from convlint.render.diagram import build_diagram
    from convlint.render.layout import TooLarge, layout

    full = build_diagram(_shown_analysis(result.spec, result.checked.analysis, registry), findings, registry,
                         fold=options.fold)
    try:
        chosen = layout(full, result.spec.groups, options.depth, limit=MAX_BOXES if job.fmt != "dot" else None)
    except TooLarge as error:
        err.write(f"convlint: {job.spec_path}: {error}\n")
        return None
    if chosen.forced:
        err.write(f"convlint: {job.spec_path}: {len(full.boxes):,} boxes are more than Graphviz can lay out in time "
                  f"({MAX_BOXES:,}); drew block instances at depth {chosen.depth} instead "
                  f"({len(chosen.drawn.boxes):,} boxes)\n")
    return chosen


def _shown_analysis(spec, analysis, registry: Registry):
    """``analysis`` with each shape as drawn: for named input sizes, expressions in the names
    (``N×16×⌊H/2⌋×⌊W/2⌋``) where the solver follows the layer, else the shape at the stated sizes."""
    if not spec.size_names:
        return analysis
    from convlint.sizes.named import symbolic_shapes

    expressions = symbolic_shapes(spec, registry)
    nodes = {name: node if (shape := expressions.get(name)) is None else dataclasses.replace(node, shape=tuple(shape))
             for name, node in analysis.nodes.items()}
    return dataclasses.replace(analysis, nodes=nodes)


def run(args, out, err=None) -> int:
    """Run ``convlint render`` for parsed ``args``; returns the exit code (the worst over all specs)."""
    err = err or sys.stderr
    registry, config = registry_of(args), config_of(args)
    jobs = plan(args.paths, args.output, args.format)
    force = getattr(args, "force", False)
    options = Options(args.rankdir, not args.no_fold, args.depth, args.edge_labels, args.dpi)
    codes = [_draw_job(job, registry, config, options, out, err, force) for job in jobs]
    return max(codes)
