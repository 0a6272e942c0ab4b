"""What every ``convlint`` command shares: exit codes, the options every command takes (``-p``,
``--config``, ``--debug``), rule selection on the command line, output format names and colour."""
from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path
from convlint.cli.plugin_option import add_plugin_option, registry_from
from convlint.layers.registry import Registry, installed_plugin_names, is_plugin_file
from convlint.linting.config import Config, load_config

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
"""As ruff's: 0 clean, 1 findings, 2 bad configuration, usage error or internal error."""
TEXT_FORMAT, JSON_FORMAT = "full", "json"
"""The format names every command with text and JSON output accepts."""


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def add_common(parser: argparse.ArgumentParser) -> None:
    """The options of every command: ``-p PLUGIN``, ``--config FILE`` and ``--debug``."""
    add_plugin_option(parser)
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
    """The plugins of this run (see :mod:`convlint.cli.plugin_option`); ``-p no:NAME`` for a plugin
    that is not installed is a usage error."""
    known = installed_plugin_names()
    for value in args.plugin:
        name = value.removeprefix("no:")
        local = not value.startswith("no:") and (Path(value).is_file() if is_plugin_file(value) else _importable(value))
        if name not in known and not local:
            raise UsageError(f"-p {value}: no plugin is called {name!r}, and it is no .py file or importable module; "
                             f"installed plugins: {', '.join(sorted(known))}")
    return registry_from(args)


def _importable(module: str) -> bool:
    """True when ``module`` (a dotted name) is a module of the current directory or can be found on
    the import path, without importing it."""
    relative = Path(*module.split("."))
    if relative.with_suffix(".py").is_file() or (relative / "__init__.py").is_file():
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def use_colour(stream) -> bool:
    """Colour for ``stream``: off when ``NO_COLOR`` is set, on when ``FORCE_COLOR`` is, else on a terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()
