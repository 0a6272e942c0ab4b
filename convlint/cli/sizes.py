"""``convlint sizes``: the input sizes a network accepts, and why others fail."""
from __future__ import annotations

import json
from pathlib import Path

from convlint.cli.common import EXIT_CLEAN, EXIT_FINDINGS, JSON_FORMAT, UsageError, add_common, config_of, registry_of
from convlint.linting.runner import check_spec, load_file
from convlint.linting.selection import RuleSelection
from convlint.report.concise import concise


def add_parser(commands) -> None:
    parser = commands.add_parser("sizes", help="list the input sizes the network accepts, and why others fail")
    parser.add_argument("path", metavar="PATH", help="one spec file")
    parser.add_argument("--try", dest="tries", action="append", default=[], metavar="NAME=SIZE",
                        help="explain one size, e.g. H=500 (repeatable)")
    parser.add_argument("--upto", type=int, default=1024, metavar="N", help="largest size listed in JSON (1024)")
    parser.add_argument("--format", choices=("full", JSON_FORMAT, "text", "torch-export"), default="full",
                        help="output format: full (text; `text` works too), json, or torch-export (the "
                             "dynamic_shapes argument of torch.export.export)")
    add_common(parser)


def run(args, out) -> int:
    """The valid sizes of each named size; 1 if a tried size fails or none is valid.  What is reported
    at a size is what ``convlint lint`` reports there (:func:`~convlint.linting.runner.check_spec`)."""
    from convlint.sizes import report as sizes_report

    if not 1 <= args.upto <= 1_000_000:
        raise UsageError(f"--upto must be between 1 and 1000000, got {args.upto}")
    config, registry = config_of(args), registry_of(args)
    selection = RuleSelection(config, registry.rules)
    result = load_file(Path(args.path), named=True)
    if result.spec is None:
        raise UsageError(concise(result.findings[:1]).strip())

    def lint(spec):  # the lint pipeline at the tried sizes: configuration, noqa comments and budgets apply
        return check_spec(spec, registry, config, selection, tried=True).findings

    try:
        report = sizes_report.sizes_report(result.spec, registry, sizes_report.parse_try(args.tries), args.upto, lint)
    except sizes_report.SizesError as error:
        raise UsageError(str(error)) from None
    if args.format == JSON_FORMAT:
        out.write(json.dumps(sizes_report.render_json(report), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "torch-export":
        out.write(sizes_report.render_torch_export(report))
    else:
        out.write(sizes_report.render_text(report))
    failed = (report.tried is not None and report.tried.findings) or any(s.valid.empty for s in report.solutions)
    return EXIT_FINDINGS if failed else EXIT_CLEAN
