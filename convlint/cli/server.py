"""``convlint server``: the language server over stdio (needs the ``server`` extra, pygls)."""
from __future__ import annotations

import sys

EXIT_ERROR = 2


def run_server(args, out) -> int:
    """Run the language server on stdin/stdout until the client shuts it down; 2 when pygls is missing."""
    from convlint.cli.main import _registry

    try:
        from convlint.server.protocol import build_server
    except ImportError as error:
        print(f"convlint: error: `convlint server` needs pygls ({error}); install it with: "
              f"pip install 'convlint[server]'", file=sys.stderr)
        return EXIT_ERROR
    build_server(_registry(args)).start_io()
    return 0
