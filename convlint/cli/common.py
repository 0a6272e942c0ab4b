"""What every ``convlint`` command shares: exit codes, the options every command takes (``-p``,
``--config``, ``--debug``), rule selection on the command line, output format names and colour."""
from __future__ import annotations

import argparse
import os
from importlib.metadata import entry_points

from convlint.layers.registry import Registry, load_registry
from convlint.linting.config import Config, load_config

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
"""As ruff's: 0 clean, 1 findings, 2 bad configuration, usage error or internal error."""
TEXT_FORMAT, JSON_FORMAT = "full", "json"
"""The format names every command with text and JSON output accepts."""


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def add_common(parser: argparse.ArgumentParser) -> None:
    """The options of every command: ``-p NAME``, ``--config FILE`` and ``--debug``."""
    parser.add_argument("--disable-plugin", "-p", action="append", default=[], metavar="NAME",
                        help="do not load the plugin NAME (see `convlint plugins`); `no:NAME` works too")
    parser.add_argument("--config", metavar="FILE", help="TOML file with the [tool.convlint] settings "
                        "(default: the nearest pyproject.toml with a [tool.convlint] table)")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error")


def add_selection(parser: argparse.ArgumentParser) -> None:
    """``--select``, ``--extend-select`` and ``--ignore``, comma-separated codes or prefixes as in ruff."""
    for flag, what in (("--select", "report only these rule codes or prefixes (replaces the configured set)"),
                       ("--extend-select", "report these codes too"),
                       ("--ignore", "do not report these codes or prefixes")):
        parser.add_argument(flag, metavar="CODES", action="append", default=[], help=f"{what}, e.g. S001,G")


def add_text_format(parser: argparse.ArgumentParser, *aliases: str) -> None:
    """``--format full|json`` (``aliases`` are older names of ``full``)."""
    parser.add_argument("--format", choices=(TEXT_FORMAT, JSON_FORMAT, *aliases), default=TEXT_FORMAT,
                        help="output format: full (text) or json")


def _codes(values: list[str]) -> list[str]:
    return [code.strip().upper() for value in values for code in value.split(",") if code.strip()]


def config_of(args) -> Config:
    """The configuration of this run: ``--config`` (or the nearest pyproject.toml), then the
    command line's ``--select``/``--extend-select``/``--ignore`` on top."""
    config = load_config(args.config)
    if getattr(args, "select", None):
        config.select = _codes(args.select)
    config.extend_select = [*config.extend_select, *_codes(getattr(args, "extend_select", []))]
    config.ignore = [*config.ignore, *_codes(getattr(args, "ignore", []))]
    return config


def registry_of(args) -> Registry:
    """The plugins of this run, less those named by ``-p NAME`` (or pytest's spelling, ``-p no:NAME``)."""
    disabled = [name.removeprefix("no:") for name in args.disable_plugin]
    known = sorted({point.name for point in entry_points(group="convlint")})
    for name in disabled:
        if name not in known:
            raise UsageError(f"-p {name}: no plugin is called {name!r}; installed plugins: {', '.join(known)}")
    return load_registry(disabled=disabled)


def use_colour(stream) -> bool:
    """Colour for ``stream``: off when ``NO_COLOR`` is set, on when ``FORCE_COLOR`` is, else on a terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()
