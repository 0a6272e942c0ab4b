"""The ``convlint`` command line: one module per command (lint, summary, sizes, render, run, rule,
plugins, schema, animate, server, import, export), each with ``add_parser(commands)`` and ``run(args, out) -> exit code``.

Exit codes (as ruff's): 0 clean, 1 findings, 2 bad configuration, usage error or internal error.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from importlib.metadata import version

from convlint.cli import animate, export, import_model, lint, plugins, render, rule, run, schema, server, sizes, summary
from convlint.cli.common import EXIT_CLEAN, EXIT_ERROR, UsageError
from convlint.linting.config import ConfigError

COMMANDS = {"lint": lint, "summary": summary, "sizes": sizes, "render": render, "rule": rule,
            "plugins": plugins, "run": run, "schema": schema, "animate": animate, "server": server,
            "import": import_model, "export": export}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="convlint", description="Check the size arithmetic of CNN specs.")
    parser.add_argument("--version", action="version", version=f"convlint {version('convlint')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used as the console script)."""
    for stream in (sys.stdout, sys.stderr):  # text the encoding cannot hold is escaped, never an error
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args, sys.stdout)
    except (UsageError, ConfigError, FileNotFoundError) as error:
        print(f"convlint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as error:  # a bug to report: the traceback only when asked for
        if args.debug:
            traceback.print_exc()
        print(f"convlint: internal error: {type(error).__name__}: {error}"
              f"{'' if args.debug else ' (--debug prints the traceback)'}", file=sys.stderr)
        return EXIT_ERROR


def entry() -> None:
    """Console-script entry point: exit with :func:`main`'s code."""
    sys.exit(main())
