"""``convlint rule [CODE]``: a rule's documentation, or one line per rule."""
from __future__ import annotations

import json

from convlint.cli.common import (EXIT_CLEAN, JSON_FORMAT, UsageError, add_common, add_text_format, config_of,
                                 registry_of)
from convlint.rules import rule_doc


def add_parser(commands) -> None:
    parser = commands.add_parser("rule", help="explain a rule code")
    parser.add_argument("code", nargs="?", help="rule code such as S001; all rules when left out")
    parser.add_argument("--markdown", action="store_true", help="print every rule's documentation as Markdown")
    add_text_format(parser)
    add_common(parser)


def run(args, out) -> int:
    config_of(args)  # a broken configuration is reported here as for every command
    rules = registry_of(args).rules
    if args.markdown:
        from convlint.report.rule_docs import rules_markdown
        out.write(rules_markdown(rules.values()))
        return EXIT_CLEAN
    chosen = list(rules.values())
    if args.code is not None:
        code = args.code.upper()
        if code not in rules:
            raise UsageError(f"unknown rule code {args.code!r}; `convlint rule` lists them")
        chosen = [rules[code]]
    if args.format == JSON_FORMAT:
        rows = [{"code": rule.code, "title": rule.title, "severity": rule.severity.value,
                 "default_enabled": rule.default_enabled, "doc": rule.doc} for rule in chosen]
        out.write(json.dumps(rows if args.code is None else rows[0], indent=2, ensure_ascii=False) + "\n")
    elif args.code is None:
        out.write("".join(f"{rule.code}  {rule.title}\n" for rule in chosen))
    else:
        out.write(rule_doc(chosen[0]))
    return EXIT_CLEAN
