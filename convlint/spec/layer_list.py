"""The ``layers:`` list of a spec (or of a block's body) as :class:`Layer` records with source positions.

Structure problems (a layer that is no mapping, no ``type``, a bad ``from``) are
collected as findings by a :class:`FindingCollector`; keyword arguments are kept
as written and checked later by each layer's type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from convlint.findings import Finding
from convlint.layers.keywords import show
from convlint.rules import RULES
from convlint.spec.yaml_source import Node, NodeList

RESERVED_KEYS = ("name", "type", "from", "like")
"""Keys of a layer mapping that are not keyword arguments of its type."""


@dataclass
class InputDecl:
    """A declared network input: its name and shape ``(N, C, *spatial)`` or ``(N, features)``.

    The batch size and spatial sizes may be names (strings) instead of integers.
    """

    name: str
    shape: tuple[int | str, ...]
    line: int
    column: int


@dataclass
class Layer:
    """One layer as written in the spec.

    ``sources`` are the names of the tensors it reads, in order; ``kwargs``
    are the torch.nn keyword arguments exactly as written (not yet checked).
    ``key_positions`` maps each written key to its (line, column).
    """

    name: str
    type: str | None
    sources: list[str]
    kwargs: dict
    index: int
    line: int
    column: int
    key_positions: dict = field(default_factory=dict)

    def position_of(self, key: str | None) -> tuple[int, int]:
        """(line, column) of ``key`` if the layer writes it, else of the layer itself."""
        return self.key_positions.get(key, (self.line, self.column))


class FindingCollector:
    """Gathers the structure findings of one file (``findings``, in the order found)."""

    def __init__(self, path: str):
        self.path = path
        self.findings: list[Finding] = []

    def add(self, code: str, message: str, position: tuple[int, int], layer: str | None = None) -> None:
        line, column = position
        self.findings.append(Finding(code, RULES[code].severity, message, self.path, line, column, layer))


def is_name(value) -> bool:
    """True for a non-empty string (a layer, input or output name)."""
    return isinstance(value, str) and value != ""


def parse_layers(data: Node, inputs: Mapping[str, InputDecl | None], found: FindingCollector,
                 max_layers: int | None = None) -> list[Layer]:
    """The layers of ``data["layers"]`` (a spec's, or a block's body); problems go to ``found``.

    A layer without ``from`` reads the previous layer (or the only input); more than
    ``max_layers`` layers is one Y002 finding and no layers.
    """
    raw = data.get("layers")
    if not isinstance(raw, NodeList):
        found.add("Y002", "`layers` must be a list of layer mappings", data.position_of("layers"))
        return []
    if max_layers is not None and len(raw) > max_layers:
        found.add("Y002", f"`layers` lists {len(raw):,} layers; convlint checks specs of up to {max_layers:,}",
                  data.position_of("layers"))
        return []
    layers: list[Layer] = []
    previous: str | None = next(iter(inputs)) if len(inputs) == 1 else None
    several_inputs = len(inputs) > 1
    for index, item in enumerate(raw):
        position = raw.item_positions[index]
        if not isinstance(item, Node):
            found.add("Y002", f"layer {index + 1} must be a mapping with at least a `type`, got {show(item)}", position)
            previous = None
            continue
        layer_type = item.get("type")
        if layer_type is None:
            found.add("Y004", f"layer {index + 1} has no `type`", position, item.get("name") if is_name(item.get("name")) else None)
        elif not isinstance(layer_type, str):
            found.add("Y002", f"`type` must be a layer class name, got {show(layer_type)}", item.position_of("type"))
            layer_type = None
        name = item.get("name")
        if name is None:
            name = f"{(layer_type or 'layer').lower()}_{index}"
        elif not is_name(name):
            found.add("Y002", f"`name` must be a non-empty string, got {show(name)}", item.position_of("name"))
            name = f"{(layer_type or 'layer').lower()}_{index}"
        sources = _parse_sources(item, previous, name, found, several_inputs)
        if "like" in item:  # a size reference (CenterCrop) is read as one more input
            if is_name(item["like"]):
                sources.append(item["like"])
            else:
                found.add("Y002", f"`like` must be a layer name, got {show(item['like'])}", item.position_of("like"),
                          name)
        kwargs = {key: value for key, value in item.items() if key not in RESERVED_KEYS}
        for key in kwargs:
            if not isinstance(key, str):
                found.add("Y002", f"keyword names must be strings, got {show(key)}", item.position_of(key), name)
        kwargs = {key: value for key, value in kwargs.items() if isinstance(key, str)}
        line, column = position
        layers.append(Layer(name, layer_type, sources, kwargs, index, line, column, key_positions=item.key_positions))
        previous = name
    return layers


def _parse_sources(item: Node, previous: str | None, name: str, found: FindingCollector,
                   several_inputs: bool) -> list[str]:
    if "from" not in item:
        if previous is None and several_inputs:
            found.add("G001", "no `from`: the first layer of a spec with several inputs must name its input",
                      (item.line, item.column), name)
        return [] if previous is None else [previous]
    raw = item["from"]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(is_name(value) for value in values):
        found.add("Y002", f"`from` must be a name or a list of names, got {show(raw)}", item.position_of("from"), name)
        return []
    return list(values)
