"""An :class:`~convlint.importing.model.ImportedModel` as spec text, laid out as the bundled specs are:
one flow mapping per layer (``- {name: conv1, type: Conv2d, out_channels: 64, kernel_size: 7}``), ``from``
only where a layer does not read the layer before it."""
from __future__ import annotations

from typing import Any

import yaml

from convlint.importing.model import ImportedLayer, ImportedModel


def _flow(value: Any) -> str:
    """``value`` in YAML flow style on one line."""
    return yaml.safe_dump(value, default_flow_style=True, width=2**31, sort_keys=False).strip().removesuffix("\n...")


def _layer_line(layer: ImportedLayer, previous: str | None) -> str:
    entries: dict[str, Any] = {"name": layer.name, "type": layer.type}
    if layer.sources != ([previous] if previous else []):
        entries["from"] = layer.sources[0] if len(layer.sources) == 1 else layer.sources
    entries.update(layer.keywords)
    return f"- {_flow(entries)}"


def layer_lines(layers: list[ImportedLayer], first_source: str | None, indent: str) -> list[str]:
    """One line per layer; ``first_source`` is what the first layer reads by default."""
    lines, previous = [], first_source
    for layer in layers:
        lines.append(indent + _layer_line(layer, previous))
        previous = layer.name
    return lines


def spec_text(model: ImportedModel, header: str) -> str:
    """The spec of ``model``, after the comment lines of ``header``."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if model.problems:
        lines.append("# Not imported (stand-in layers keep the graph connected):")
        lines += [f"#   {problem}" for problem in model.problems]
    lines.append(f"name: {_flow(model.name)}")
    lines.append("inputs:")
    lines += [f"  {_flow(name)}: {_flow(shape)}" for name, shape in model.inputs.items()]
    if model.blocks:
        lines.append("blocks:")
        for block_name, block in model.blocks.items():
            lines.append(f"  {block_name}:")
            if block.get("params"):
                lines.append(f"    params: {_flow(block['params'])}")
            if block.get("inputs", ["x"]) != ["x"]:
                lines.append(f"    inputs: {_flow(block['inputs'])}")
            lines.append("    layers:")
            lines += layer_lines(block["layers"], block.get("inputs", ["x"])[0], "      ")
            if block.get("outputs"):
                lines.append(f"    outputs: {_flow(block['outputs'])}")
    only_input = next(iter(model.inputs)) if len(model.inputs) == 1 else None
    lines.append("layers:")
    lines += layer_lines(model.layers, only_input, "  ")
    last = model.layers[-1].name if model.layers else None
    if model.outputs and model.outputs != [last]:
        lines.append(f"outputs: {_flow(model.outputs)}")
    return "\n".join(lines) + "\n"
