"""``convlint lint``: report problems in spec files (exit 1 when there are any)."""
from __future__ import annotations

import sys

from convlint.cli.common import (EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, TEXT_FORMAT, add_common,
                                 add_selection, config_of, registry_of, use_colour)
from convlint.findings import Severity
from convlint.linting.runner import lint_paths
from convlint.report.formats import FORMATS, render
from convlint.report.lint_output import LintOutput

TOOL_FAULTS = ("X001", "X002")
"""Codes that mean a plugin or convlint itself failed: `lint` exits with EXIT_ERROR."""


def add_parser(commands) -> None:
    parser = commands.add_parser("lint", help="report problems in spec files")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="spec files or directories (searched for *.yaml, *.yml); - reads standard input")
    parser.add_argument("--format", choices=tuple(FORMATS), default=None,
                        help="output format (default: full on a terminal, concise otherwise)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--stdin-filename", metavar="PATH", default="-",
                        help="the name of the spec read from standard input (`-`), in findings and "
                             "per-file-ignores")
    parser.add_argument("--skip-non-specs", action="store_true",
                        help="skip named YAML files without a top-level `layers` key, as in directories "
                             "(for pre-commit, which names every YAML file); a broken spec is still reported")
    add_selection(parser)
    add_common(parser)


def run(args, out) -> int:
    """Print findings in the chosen format; 1 if any, 2 if a plugin or convlint failed, else 0."""
    registry = registry_of(args)
    stdin = sys.stdin.read() if "-" in args.paths else None
    report = lint_paths(args.paths, registry, config_of(args), stdin, args.stdin_filename, args.skip_non_specs)
    findings = report.findings
    chosen = args.format or (TEXT_FORMAT if out.isatty() else "concise")
    specs = {result.path: result.spec for result in report.results if result.spec is not None}
    out.write(render(chosen, LintOutput(findings, specs, registry.rules, report.checked, report.skipped,
                                        use_colour(out))))
    for note in report.notes:
        print(f"convlint: note: {note}", file=sys.stderr)
    for result in report.results:
        if result.traceback is not None and args.debug:
            print(f"convlint: internal error on {result.path}:\n{result.traceback}", end="", file=sys.stderr)
    if any(finding.code in TOOL_FAULTS for finding in findings):
        return EXIT_ERROR
    failing = [finding for finding in findings if fails(finding, registry.rules)]
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_CLEAN


def fails(finding, rules) -> bool:
    """Whether ``finding`` makes ``lint`` exit 1: errors and warnings do, and info findings of rules that
    are off by default (chosen with ``select``); info findings of default rules (S017) only inform."""
    rule = rules.get(finding.code)
    return finding.severity is not Severity.INFO or rule is None or not rule.default_enabled
