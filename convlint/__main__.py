"""``python -m convlint``: the command line."""

from .cli import entry

entry()
