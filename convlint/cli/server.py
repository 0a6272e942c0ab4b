"""``convlint server``: the language server over stdio (needs the ``server`` extra, pygls)."""
from __future__ import annotations

import sys

from convlint.cli.common import EXIT_CLEAN, EXIT_ERROR, add_common, registry_of


def add_parser(commands) -> None:
    add_common(commands.add_parser("server", help="run the language server on stdin/stdout (needs convlint[server])"))


def run(args, out) -> int:
    """Run the language server on stdin/stdout until the client shuts it down; 2 when pygls is missing."""
    try:
        from convlint.server.protocol import build_server
    except ImportError as error:
        print(f"convlint: error: `convlint server` needs pygls ({error}); install it with: "
              f"pip install 'convlint[server]'", file=sys.stderr)
        return EXIT_ERROR
    build_server(registry_of(args)).start_io()
    return EXIT_CLEAN
