"""``python -m convlint``: the command line."""

from convlint.cli.main import entry

entry()
