"""``convlint plugins``: each loaded plugin and the layer types it provides."""
from __future__ import annotations

import json

from convlint.cli.common import (EXIT_CLEAN, JSON_FORMAT, add_common, add_text_format, config_of,
                                 registry_of)


def add_parser(commands) -> None:
    parser = commands.add_parser("plugins", help="list loaded plugins and the layer types they provide")
    add_text_format(parser)
    add_common(parser)


def run(args, out) -> int:
    config_of(args)  # a broken configuration is reported here as for every command
    registry = registry_of(args)
    if args.format == JSON_FORMAT:
        out.write(json.dumps({"plugins": {name: types for name, types in sorted(registry.plugins.items())},
                              "problems": registry.problems}, indent=2, ensure_ascii=False) + "\n")
        return EXIT_CLEAN
    for name, types in sorted(registry.plugins.items()):
        out.write(f"{name}: {', '.join(types) if types else '(no layer types)'}\n")
    for problem in registry.problems:
        out.write(f"problem: {problem}\n")
    return EXIT_CLEAN
