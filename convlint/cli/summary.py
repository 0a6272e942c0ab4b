"""``convlint summary``: each layer's shape, parameters, MACs, memory and receptive field."""
from __future__ import annotations

import argparse
import json

from convlint.cli.common import (EXIT_CLEAN, EXIT_FINDINGS, JSON_FORMAT, add_common, add_selection,
                                 add_text_format, config_of, registry_of)
from convlint.linting.runner import lint_paths
from convlint.report.concise import concise
from convlint.report.summary_table import summary_table


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def add_parser(commands) -> None:
    parser = commands.add_parser("summary", help="show each layer's shape, parameters, MACs, memory and "
                                                 "receptive field")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="spec files or directories")
    add_text_format(parser, "table")
    parser.add_argument("--flops", action="store_true", help="report FLOPs (2 × MACs) instead of MACs")
    parser.add_argument("--depth", type=_positive, metavar="N",
                        help="fold layers into block instances below N name levels (layer1.0.conv1 has 3)")
    add_selection(parser)
    add_common(parser)


def run(args, out) -> int:
    """A table (or JSON list) per spec, with the findings ``lint`` reports; 1 if any spec has errors."""
    from convlint.report.summary import build_summary

    registry = registry_of(args)
    summaries, problems = [], []
    for result in lint_paths(args.paths, registry, config_of(args), keep=True).results:
        if result.checked is not None and result.spec is not None:  # checked only where the spec parsed
            summaries.append(build_summary(result.spec, result.checked, registry, args.depth, args.flops))
        else:
            problems += result.findings
    if args.format == JSON_FORMAT:
        out.write(json.dumps(summaries, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(summary_table(summary) for summary in summaries))
        out.write(concise(problems))
    has_errors = problems or any(d["severity"] == "error" for s in summaries for d in s["diagnostics"])
    return EXIT_FINDINGS if has_errors else EXIT_CLEAN
