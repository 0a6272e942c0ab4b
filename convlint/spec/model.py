"""From YAML text to a :class:`Spec`: inputs, layers and outputs with source positions.

This module checks the spec's structure only (sections, names, shapes of
inputs); uses of ``blocks:`` are expanded by :mod:`convlint.spec.blocks`.  Keyword
arguments are checked later by each layer's type, and the wiring by
:mod:`convlint.analysis.graph`.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from convlint.findings import Finding
from convlint.layers.keywords import MAX_INT, show
from convlint.rules import RULES
from convlint.spec.suggest import did_you_mean
from convlint.spec.yaml_source import MAX_NODES, Node, NodeList, YamlError, YamlProblem, load_yaml

SPEC_MARKER = re.compile(r"^layers\s*:", re.MULTILINE)
"""A top-level ``layers:`` key: how an unparsable file is recognised as a spec."""

RESERVED_KEYS = ("name", "type", "from", "like")
TOP_LEVEL_KEYS = ("name", "inputs", "layers", "outputs", "blocks", "dtype", "budget")
"""The keys a spec may have at its top level."""

DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "uint8": 1}
"""Bytes per element of the spec-level ``dtype:`` values (default float32)."""

SIZE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A named input size (``H`` in ``[N, 3, H, W]``): see :mod:`convlint.sizes.solver`."""

MAX_LAYERS = 25_000
"""Most layers checked in one spec; a longer `layers` list is one Y002 finding (bounds time and memory)."""


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


@dataclass
class Spec:
    """A parsed spec file.

    ``graph`` (a ``networkx.DiGraph`` built by :func:`convlint.analysis.graph.build_graph`)
    has one node per input and per layer, keyed by name, and one edge per
    tensor read.  ``findings`` holds the problems found while loading it.
    """

    path: str
    name: str
    inputs: dict[str, InputDecl]
    layers: list[Layer]
    outputs: list[str]
    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    graph: object = None
    outputs_position: tuple[int, int] = (1, 1)
    dtype: str = "float32"
    groups: dict[str, str] = field(default_factory=dict)
    """Block instance paths (``layer1.0``) and repeat groups (``layer1``) → block label; see :mod:`convlint.spec.blocks`."""

    @property
    def size_names(self) -> list[str]:
        """The named input sizes (``H`` in ``[N, 3, H, W]``), in order of first appearance."""
        names = [dim for decl in self.inputs.values() for dim in decl.shape if isinstance(dim, str)]
        return list(dict.fromkeys(names))

    def with_input_shapes(self, shapes: dict[str, tuple]) -> "Spec":
        """A copy of the spec whose inputs named in ``shapes`` have those shapes instead; the
        layers, positions and findings are shared, the graph is copied with the new inputs."""
        inputs = {name: InputDecl(name, tuple(shapes.get(name, decl.shape)), decl.line, decl.column)
                  for name, decl in self.inputs.items()}
        graph = self.graph.copy() if self.graph is not None else None
        if graph is not None:
            for name, decl in inputs.items():
                graph.nodes[name]["decl"] = decl
        return dataclasses.replace(self, inputs=inputs, findings=list(self.findings), graph=graph)

    @cached_property
    def layer_by_name(self) -> dict[str, Layer]:
        """The layers keyed by name (the first one, when a name is duplicated)."""
        table: dict[str, Layer] = {}
        for layer in self.layers:
            table.setdefault(layer.name, layer)
        return table


class NotASpec(Exception):
    """The YAML file is not a network spec (it has no top-level ``layers`` key); ``reason`` says so
    in words, with the nearest top-level key when one looks like a typo of ``layers``."""

    def __init__(self, path: str, data=None):
        super().__init__(path)
        self.looks_like_spec = False
        """True when a top-level key is ``inputs`` or close to ``layers``: a broken spec, not other YAML."""
        if isinstance(data, Node) and data:
            keys = [str(key) for key in data]
            typo = next((key for key in keys if did_you_mean(key, ["layers"])), None)
            self.looks_like_spec = typo is not None or "inputs" in keys
            hint = f"; `{typo}` is there (did you mean `layers`?)" if typo else f" (it has {_listed(keys)})"
            self.reason = f"it has no top-level `layers` key{hint}"
        elif data is None or data == {} or data == []:
            self.reason = "it has no `layers:` line (it is empty, or YAML that is not a mapping)"
        else:
            self.reason = f"it holds {type(data).__name__} data, not a mapping with a top-level `layers` key"


def _listed(keys: list[str]) -> str:
    shown = ", ".join(f"`{key}`" for key in keys[:5])
    return shown + (", …" if len(keys) > 5 else "")


class _Collector:
    """Gathers structure findings for one file."""

    def __init__(self, path: str):
        self.path = path
        self.findings: list[Finding] = []

    def add(self, code: str, message: str, position: tuple[int, int], layer: str | None = None) -> None:
        line, column = position
        self.findings.append(Finding(code, RULES[code].severity, message, self.path, line, column, layer))


def _is_name(value) -> bool:
    return isinstance(value, str) and value != ""


def parse_spec(text: str, path: str = "<string>", limited: bool = True) -> Spec:
    """Parse spec ``text`` (read from ``path``) into a :class:`Spec` without building the graph.

    Raises :class:`NotASpec` for YAML without a top-level ``layers`` key.
    Syntax errors become a ``Y001`` finding on an otherwise empty spec.  When
    ``limited`` (the default; turn it off only for trusted, generated specs),
    more than :data:`MAX_LAYERS` layers is a ``Y002`` finding and more than
    :data:`convlint.spec.yaml_source.MAX_NODES` YAML values a ``Y001`` finding.
    """
    found = _Collector(path)
    try:
        document = load_yaml(text, MAX_NODES if limited else None)
    except YamlError as error:
        if not SPEC_MARKER.search(text):
            raise NotASpec(path) from None
        problem: YamlProblem = error.problem
        found.add(problem.code, problem.message, (problem.line, problem.column))
        return Spec(path, Path(path).stem, {}, [], [], text, found.findings)
    data = document.data
    if not isinstance(data, Node) or "layers" not in data:
        raise NotASpec(path, data)

    _check_top_level_keys(data, found)
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str):
        found.add("Y002", f"`name` must be a string, got {show(name)}", data.position_of("name"))
        name = Path(path).stem
    inputs = _parse_inputs(data, found)
    layers = _parse_layers(data, inputs, found, MAX_LAYERS if limited else None)
    groups: dict[str, str] = {}
    outputs = _parse_outputs(data, layers, found)
    if "blocks" in data:
        from convlint.spec.blocks import expand_blocks
        layers, groups, names = expand_blocks(data, layers, found)
        outputs = [names.get(output, output) for output in outputs]
    for problem in document.problems:
        found.add(problem.code, problem.message, (problem.line, problem.column),
                  _layer_at_line(layers, problem.line))
    return Spec(path, name, inputs, layers, outputs, text, found.findings,
                outputs_position=data.position_of("outputs"), dtype=_parse_dtype(data, found), groups=groups)


def _check_top_level_keys(data: Node, found: _Collector) -> None:
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            found.add("Y002", f"unknown top-level key `{key}`{did_you_mean(str(key), TOP_LEVEL_KEYS)}; a spec has "
                              f"{', '.join(f'`{known}`' for known in TOP_LEVEL_KEYS)}", data.position_of(key))


def _parse_dtype(data: Node, found: _Collector) -> str:
    dtype = data.get("dtype", "float32")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        found.add("Y002", f"`dtype` must be one of {', '.join(DTYPE_BYTES)}, got {show(dtype)}",
                  data.position_of("dtype"))
        return "float32"
    return dtype


def _layer_at_line(layers: list[Layer], line: int) -> str | None:
    """The name of the layer whose YAML starts at or before ``line`` (the last such), if any."""
    starting = [layer for layer in layers if layer.line <= line]
    return starting[-1].name if starting and line >= layers[0].line else None


def _parse_inputs(data: Node, found: _Collector) -> dict[str, InputDecl]:
    raw = data.get("inputs")
    position = data.position_of("inputs")
    if not isinstance(raw, Node) or not raw:
        found.add("Y002", "`inputs` must map each input name to its shape, e.g. `inputs: {image: [1, 3, 224, 224]}`",
                  position)
        return {}
    inputs = {}
    for input_name, shape in raw.items():
        where = raw.position_of(input_name)
        if not _is_name(input_name):
            found.add("Y002", f"input name must be a string, got {show(input_name)}", where)
            continue
        if not isinstance(shape, list) or len(shape) < 2 or not all(
            (isinstance(dim, int) and not isinstance(dim, bool) and 1 <= dim <= MAX_INT)
            or (isinstance(dim, str) and SIZE_NAME.match(dim) and index != 1 and (index == 0 or len(shape) > 2))
            for index, dim in enumerate(shape)
        ):
            found.add("Y002", f"input `{input_name}` must have a shape [N, C, *spatial] or [N, features] "
                              f"of positive integers below 2**63 or, for N and the spatial sizes, names such as H; "
                              f"got {show(shape)}", where)
            continue
        inputs[input_name] = InputDecl(input_name, tuple(shape), *where)
    return inputs


def _parse_layers(data: Node, inputs: dict[str, InputDecl], found: _Collector,
                  max_layers: int | None = None) -> list[Layer]:
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
            found.add("Y004", f"layer {index + 1} has no `type`", position, item.get("name") if _is_name(item.get("name")) else None)
        elif not isinstance(layer_type, str):
            found.add("Y002", f"`type` must be a layer class name, got {show(layer_type)}", item.position_of("type"))
            layer_type = None
        name = item.get("name")
        if name is None:
            name = f"{(layer_type or 'layer').lower()}_{index}"
        elif not _is_name(name):
            found.add("Y002", f"`name` must be a non-empty string, got {show(name)}", item.position_of("name"))
            name = f"{(layer_type or 'layer').lower()}_{index}"
        sources = _parse_sources(item, previous, name, found, several_inputs)
        if "like" in item:  # a size reference (CenterCrop) is read as one more input
            if _is_name(item["like"]):
                sources.append(item["like"])
            else:
                found.add("Y002", f"`like` must be a layer name, got {show(item['like'])}", item.position_of("like"),
                          name)
        kwargs = {key: value for key, value in item.items() if key not in RESERVED_KEYS}
        for key in kwargs:
            if not isinstance(key, str):
                found.add("Y002", f"keyword names must be strings, got {show(key)}", item.position_of(key), name)
        kwargs = {key: value for key, value in kwargs.items() if isinstance(key, str)}
        layers.append(Layer(name, layer_type, sources, kwargs, index, *position,
                            key_positions=item.key_positions))
        previous = name
    return layers


def _parse_sources(item: Node, previous: str | None, name: str, found: _Collector,
                   several_inputs: bool) -> list[str]:
    if "from" not in item:
        if previous is None and several_inputs:
            found.add("G001", "no `from`: the first layer of a spec with several inputs must name its input",
                      (item.line, item.column), name)
        return [] if previous is None else [previous]
    raw = item["from"]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(_is_name(value) for value in values):
        found.add("Y002", f"`from` must be a name or a list of names, got {show(raw)}", item.position_of("from"), name)
        return []
    return list(values)


def _parse_outputs(data: Node, layers: list[Layer], found: _Collector) -> list[str]:
    if "outputs" not in data:
        return [layers[-1].name] if layers else []
    raw = data["outputs"]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(_is_name(value) for value in values):
        found.add("Y002", f"`outputs` must be a list of layer names, got {show(raw)}", data.position_of("outputs"))
        return [layers[-1].name] if layers else []
    return list(values)
