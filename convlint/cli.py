"""The ``convlint`` command line: lint, summary, rule, plugins.

Exit codes (as ruff's): 0 clean, 1 findings, 2 usage error or internal error.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import formatters
from .files import iter_yaml_files
from .lint import lint_paths
from .plugins import Registry, load_registry
from .rules import rule_doc

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
TOOL_FAULTS = ("X001", "X002")
"""Codes that mean a plugin or convlint itself failed: `lint` exits with EXIT_ERROR."""


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--disable-plugin", "-p", action="append", default=[], metavar="NAME",
                        help="do not load the plugin NAME (see `convlint plugins`)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="convlint", description="Check the size arithmetic of CNN specs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = commands.add_parser("lint", help="report problems in spec files")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="spec files or directories (searched for *.yaml, *.yml)")
    lint.add_argument("--format", choices=("concise", "json"), default="concise", help="output format")
    lint.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    _add_common(lint)

    summary = commands.add_parser("summary", help="show each layer's output shape and parameters")
    summary.add_argument("paths", nargs="+", metavar="PATH", help="spec files or directories")
    summary.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    _add_common(summary)

    rule = commands.add_parser("rule", help="explain a rule code")
    rule.add_argument("code", nargs="?", help="rule code such as S001; all rules when left out")
    _add_common(rule)

    plugins = commands.add_parser("plugins", help="list loaded plugins and the layer types they provide")
    _add_common(plugins)
    return parser


def _registry(args) -> Registry:
    return load_registry(disabled=args.disable_plugin)


def run_lint(args, out) -> int:
    """``convlint lint``: print findings; 1 if any, else 0."""
    report = lint_paths(args.paths, _registry(args))
    findings = report.findings
    if args.format == "json":
        out.write(formatters.lint_json(findings))
    else:
        out.write(formatters.concise(findings))
        out.write(formatters.lint_tally(findings, report.checked))
    if any(finding.code in TOOL_FAULTS for finding in findings):
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN


def run_summary(args, out) -> int:
    """``convlint summary``: a table (or JSON list) per spec; 1 if any spec has errors."""
    from .api import summarize
    from .lint import load_file

    registry = _registry(args)
    summaries, problems = [], []
    for path in iter_yaml_files(args.paths):
        result = load_file(path)
        if result.spec is not None:
            summaries.append(summarize(result.spec, registry))
        problems += result.findings
    if args.format == "json":
        out.write(json.dumps(summaries, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(formatters.summary_table(summary) for summary in summaries))
    out.write(formatters.concise(problems) if args.format != "json" else "")
    has_errors = problems or any(d["severity"] == "error" for s in summaries for d in s["diagnostics"])
    return EXIT_FINDINGS if has_errors else EXIT_CLEAN


def run_rule(args, out) -> int:
    """``convlint rule [CODE]``: the rule's documentation, or one line per rule."""
    rules = _registry(args).rules
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


COMMANDS = {"lint": run_lint, "summary": run_summary, "rule": run_rule, "plugins": run_plugins}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used as the console script)."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, sys.stdout)
    except (UsageError, FileNotFoundError) as error:
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
