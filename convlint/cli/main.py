"""The ``convlint`` command line: lint, summary, sizes, render, run, rule, plugins, schema.

Exit codes (as ruff's): 0 clean, 1 findings, 2 bad configuration, usage error or internal error.
"""
from __future__ import annotations

import argparse
import json
import sys

from convlint.report import formatters
from convlint.report import output_formats
from convlint.linting.config import ConfigError, load_config
from convlint.spec.files import iter_yaml_files
from convlint.linting.runner import lint_paths
from convlint.layers.registry import Registry, load_registry
from convlint.rules import rule_doc
from convlint.cli.server import run_server

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
LINT_FORMATS = ("full", "concise", "json", "github", "sarif")
TOOL_FAULTS = ("X001", "X002")
"""Codes that mean a plugin or convlint itself failed: `lint` exits with EXIT_ERROR."""


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--disable-plugin", "-p", action="append", default=[], metavar="NAME",
                        help="do not load the plugin NAME (see `convlint plugins`); `no:NAME` works too")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="convlint", description="Check the size arithmetic of CNN specs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = commands.add_parser("lint", help="report problems in spec files")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="spec files or directories (searched for *.yaml, *.yml)")
    lint.add_argument("--format", choices=LINT_FORMATS, default=None,
                      help="output format (default: full on a terminal, concise otherwise)")
    lint.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    lint.add_argument("--config", metavar="FILE", help="TOML file with the [tool.convlint] settings "
                      "(default: the nearest pyproject.toml with a [tool.convlint] table)")
    _add_common(lint)

    summary = commands.add_parser("summary", help="show each layer's shape, parameters, MACs, memory and receptive field")
    summary.add_argument("paths", nargs="+", metavar="PATH", help="spec files or directories")
    summary.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    summary.add_argument("--flops", action="store_true", help="report FLOPs (2 × MACs) instead of MACs")
    summary.add_argument("--depth", type=_positive, metavar="N",
                         help="fold layers into block instances below N name levels (layer1.0.conv1 has 3)")
    _add_common(summary)

    render = commands.add_parser("render", help="draw specs as architecture diagrams (needs Graphviz)")
    render.add_argument("paths", nargs="+", metavar="SPEC", help="spec files or directories")
    render.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="output file (.svg, .png, .pdf, .dot, .gv), - for stdout, or a directory")
    render.add_argument("--format", choices=("svg", "png", "pdf", "dot"), help="output format (default: from -o)")
    render.add_argument("--rankdir", choices=("TB", "LR"), default="TB", help="top-to-bottom or left-to-right")
    render.add_argument("--no-fold", action="store_true",
                        help="draw norm, activation and dropout layers as boxes of their own")
    _add_common(render)
    sizes = commands.add_parser("sizes", help="list the input sizes the network accepts, and why others fail")
    sizes.add_argument("path", metavar="PATH", help="one spec file")
    sizes.add_argument("--try", dest="tries", action="append", default=[], metavar="NAME=SIZE",
                       help="explain one size, e.g. H=500 (repeatable)")
    sizes.add_argument("--upto", type=int, default=1024, metavar="N", help="largest size listed in JSON (1024)")
    sizes.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    _add_common(sizes)

    rule = commands.add_parser("rule", help="explain a rule code")
    rule.add_argument("code", nargs="?", help="rule code such as S001; all rules when left out")
    rule.add_argument("--markdown", action="store_true", help="print every rule's documentation as Markdown")
    _add_common(rule)

    run = commands.add_parser("run", help="run a spec on NumPy arrays")
    run.add_argument("spec", metavar="SPEC", help="spec file")
    run.add_argument("--input", "-i", action="append", default=[], metavar="NAME=FILE.npy",
                     help="array for an input (default: seeded random array of the declared shape)")
    run.add_argument("--weights", "-w", metavar="FILE.npz", help="PyTorch-style state dict saved with numpy.savez")
    run.add_argument("--seed", type=int, default=0, help="seed for random inputs and missing weights")
    run.add_argument("--output", "-o", required=True, metavar="OUT.npz", help="where to write the outputs")
    run.add_argument("--all", action="store_true", help="write every layer's activation, not only the outputs")
    run.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="computation dtype")
    run.add_argument("--max-memory", metavar="BYTES", help="refuse runs needing more (e.g. 2GB; default: half "
                                                           "the available memory)")
    run.add_argument("--save-images", metavar="DIR", help="write a PNG grid of each written layer's channels")
    _add_common(run)

    plugins = commands.add_parser("plugins", help="list loaded plugins and the layer types they provide")
    _add_common(plugins)

    schema = commands.add_parser("schema", help="print the JSON Schema of the spec format")
    _add_common(schema)
    _add_common(commands.add_parser("server", help="run the language server on stdin/stdout (needs convlint[server])"))
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _registry(args) -> Registry:
    """The plugins of this run, less those named by ``-p NAME`` (or pytest's spelling, ``-p no:NAME``)."""
    return load_registry(disabled=[name.removeprefix("no:") for name in args.disable_plugin])


def run_lint(args, out) -> int:
    """``convlint lint``: print findings in the chosen format; 1 if any, else 0."""
    registry = _registry(args)
    report = lint_paths(args.paths, registry, load_config(args.config))
    findings = report.findings
    chosen = args.format or ("full" if out.isatty() else "concise")
    if chosen == "json":
        out.write(formatters.lint_json(findings))
    elif chosen == "github":
        out.write(output_formats.github(findings))
    elif chosen == "sarif":
        from convlint import __version__
        out.write(output_formats.sarif(findings, registry.rules, __version__))
    else:
        if chosen == "full":
            specs = {result.path: result.spec for result in report.results if result.spec is not None}
            out.write(output_formats.full(findings, specs, registry.rules))
        else:
            out.write(formatters.concise(findings))
        out.write(formatters.lint_tally(findings, report.checked))
    for note in report.notes:
        print(f"convlint: note: {note}", file=sys.stderr)
    if any(finding.code in TOOL_FAULTS for finding in findings):
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN


def run_summary(args, out) -> int:
    """``convlint summary``: a table (or JSON list) per spec; 1 if any spec has errors."""
    from convlint.api import summarize
    from convlint.linting.runner import load_file

    registry = _registry(args)
    summaries, problems = [], []
    for path in iter_yaml_files(args.paths):
        result = load_file(path)
        if result.spec is not None:
            summaries.append(summarize(result.spec, registry, depth=args.depth, flops=args.flops))
        problems += result.findings
    if args.format == "json":
        out.write(json.dumps(summaries, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(formatters.summary_table(summary) for summary in summaries))
    out.write(formatters.concise(problems) if args.format != "json" else "")
    has_errors = problems or any(d["severity"] == "error" for s in summaries for d in s["diagnostics"])
    return EXIT_FINDINGS if has_errors else EXIT_CLEAN


def run_render(args, out) -> int:
    """``convlint render``: one diagram per spec; 1 if any spec has errors, 2 if Graphviz is missing."""
    from convlint.cli.render import RenderUsageError, run

    try:
        return run(args, out)
    except RenderUsageError as error:
        raise UsageError(str(error)) from None


def run_sizes(args, out) -> int:
    """``convlint sizes``: the valid sizes of each named size; 1 if a tried size fails or none is valid."""
    from convlint.sizes import report as sizes_report
    from convlint.linting.runner import load_file
    from pathlib import Path

    if not 1 <= args.upto <= 1_000_000:
        raise UsageError(f"--upto must be between 1 and 1000000, got {args.upto}")
    result = load_file(Path(args.path))
    if result.spec is None:
        raise UsageError(f"{args.path} is not a spec" if result.skipped else concise_problem(result.findings))
    try:
        report = sizes_report.sizes_report(result.spec, _registry(args), sizes_report.parse_try(args.tries),
                                           args.upto)
    except sizes_report.SizesError as error:
        raise UsageError(str(error)) from None
    if args.format == "json":
        out.write(json.dumps(sizes_report.render_json(report), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(sizes_report.render_text(report))
    failed = (report.tried is not None and report.tried.findings) or any(s.valid.empty for s in report.solutions)
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def concise_problem(findings) -> str:
    """The first finding of a file that could not be read, as one line."""
    return formatters.concise(findings[:1]).strip()


def run_rule(args, out) -> int:
    """``convlint rule [CODE]``: the rule's documentation, or one line per rule."""
    rules = _registry(args).rules
    if args.markdown:
        from convlint.report.rule_docs import rules_markdown
        out.write(rules_markdown(rules.values()))
        return EXIT_CLEAN
    if args.code is None:
        for rule in rules.values():
            out.write(f"{rule.code}  {rule.title}\n")
        return EXIT_CLEAN
    code = args.code.upper()
    if code not in rules:
        raise UsageError(f"unknown rule code {args.code!r}; `convlint rule` lists them")
    out.write(rule_doc(rules[code]))
    return EXIT_CLEAN


def run_plugins(args, out) -> int:
    """``convlint plugins``: each loaded plugin and its layer types."""
    registry = _registry(args)
    for name, types in sorted(registry.plugins.items()):
        out.write(f"{name}: {', '.join(types) if types else '(no layer types)'}\n")
    for problem in registry.problems:
        out.write(f"problem: {problem}\n")
    return EXIT_CLEAN


def run_schema(args, out) -> int:
    """``convlint schema``: the JSON Schema of specs for the loaded layer types."""
    from convlint.spec.schema import schema_json
    out.write(schema_json(_registry(args)))
    return EXIT_CLEAN


def run_run(args, out) -> int:
    """``convlint run``: execute the spec and write the outputs to an .npz file."""
    from convlint.cli.run import execute_command
    return execute_command(args, _registry(args), out)


COMMANDS = {"lint": run_lint, "summary": run_summary, "sizes": run_sizes, "render": run_render, "rule": run_rule,
            "plugins": run_plugins, "run": run_run, "schema": run_schema,
            "server": run_server}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used as the console script)."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, sys.stdout)
    except (UsageError, ConfigError, FileNotFoundError) as error:
        print(f"convlint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as error:  # never a traceback for users; this is a bug to report
        print(f"convlint: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR


def entry() -> None:
    """Console-script entry point: exit with :func:`main`'s code."""
    sys.exit(main())
