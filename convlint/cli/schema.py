"""``convlint schema``: the JSON Schema of specs for the loaded layer types."""
from __future__ import annotations

from convlint.cli.common import EXIT_CLEAN, add_common, config_of, registry_of


def add_parser(commands) -> None:
    add_common(commands.add_parser("schema", help="print the JSON Schema of the spec format"))


def run(args, out) -> int:
    config_of(args)  # a broken configuration is reported here as for every command
    from convlint.spec.schema import schema_json
    out.write(schema_json(registry_of(args)))
    return EXIT_CLEAN
