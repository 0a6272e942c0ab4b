"""The ``-p`` option every command takes: which plugins a run loads.

``-p no:NAME`` (or ``-p NAME`` for an installed plugin, see ``convlint plugins``) does not load
that plugin; ``-p dotted.module`` or ``-p path/to/module.py`` loads a module of the project as
a plugin, without packaging, as ``[tool.convlint] plugins`` does.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from convlint.layers.registry import Registry, installed_plugin_names, load_registry
from convlint.linting.config import load_config


def add_plugin_option(parser: argparse.ArgumentParser) -> None:
    """Add ``-p``/``--plugin`` (repeatable) to ``parser``."""
    parser.add_argument("--plugin", "-p", action="append", default=[], metavar="PLUGIN",
                        help="no:NAME (or the NAME of an installed plugin, see `convlint plugins`) does not load "
                             "that plugin; a dotted module name or a path to a .py file loads it as a plugin")


def registry_from(args: argparse.Namespace) -> Registry:
    """The plugins of this run: the installed ones, less those ``-p`` disables, plus the local ones
    of ``[tool.convlint] plugins`` (read from the project root) and of ``-p`` (read from the current directory)."""
    installed = installed_plugin_names()
    disabled = [value.removeprefix("no:") for value in args.plugin if value.startswith("no:") or value in installed]
    config = load_config(getattr(args, "config", None))
    local = [(value, config.root) for value in config.plugins]
    local += [(value, Path.cwd()) for value in args.plugin if not value.startswith("no:") and value not in installed]
    return load_registry(disabled=disabled, local=local)
