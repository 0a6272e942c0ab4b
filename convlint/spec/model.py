"""From YAML text to a :class:`Spec`: inputs, layers and outputs with source positions.

This module checks the spec's structure only (sections, names, shapes of
inputs); uses of ``blocks:`` are expanded by :mod:`convlint.spec.blocks`.  Keyword
arguments are checked later by each layer's type, and the wiring by
:mod:`convlint.analysis.graph`.
"""
from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping

from convlint.findings import Finding
from convlint.layers.keywords import MAX_INT, show
from convlint.spec.layer_list import FindingCollector, InputDecl, Layer, is_name, parse_layers
from convlint.spec.yaml_source import MAX_NODES, Node, YamlError, YamlProblem, load_yaml
from convlint.suggestions import suggest

__all__ = ["MAX_LAYERS", "DTYPE_BYTES", "InputDecl", "Layer", "NotASpec", "SIZE_NAME", "SPEC_MARKER", "Spec", "parse_spec"]

SPEC_MARKER = re.compile(r"""^(?:layers|[ \t]*"layers"|[ \t]*'layers')[ \t]*:|[{,][ \t]*"layers"[ \t]*:""", re.MULTILINE)
"""A top-level ``layers:`` key, also JSON-style (``"layers":``): how an unparsable file is recognised
as a spec."""
TOP_LEVEL_KEYS = ("name", "inputs", "layers", "outputs", "blocks", "dtype", "budget", "sizes")
"""The keys a spec may have at its top level."""

DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "uint8": 1}
"""Bytes per element of the spec-level ``dtype:`` values (default float32)."""

SIZE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A named input size (``H`` in ``[N, 3, H, W]``): see :mod:`convlint.sizes.solver`."""

MAX_LAYERS = 25_000
"""Most layers checked in one spec; a longer `layers` list is one Y002 finding (bounds time and memory)."""


@dataclass
class Spec:
    """A parsed spec file.

    ``wiring`` (made by :func:`convlint.analysis.graph.wire`) lists its nodes, one per input and per
    layer keyed by name, and its edges, one per tensor read; :attr:`graph` is the same as a
    ``networkx.DiGraph``, built when first asked for.  ``findings`` holds the problems found while
    loading it.
    """

    path: str
    name: str
    inputs: dict[str, InputDecl]
    layers: list[Layer]
    outputs: list[str]
    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    wiring: Any = None
    outputs_position: tuple[int, int] = (1, 1)
    dtype: str = "float32"
    groups: dict[str, str] = field(default_factory=dict)
    """Block instance paths (``layer1.0``) and repeat groups (``layer1``) → block label; see :mod:`convlint.spec.blocks`."""
    instances: list = field(default_factory=list)
    """Every expanded block copy (:class:`convlint.spec.blocks.Instance`), inner ones first."""

    @cached_property
    def graph(self) -> Any:
        """The spec as a ``networkx.DiGraph`` (node attributes ``kind`` and ``decl``, edges from producer to
        consumer), built from :attr:`wiring` on first use; ``None`` before the spec is wired."""
        return None if self.wiring is None else self.wiring.digraph()

    @property
    def size_names(self) -> list[str]:
        """The named input sizes (``H`` in ``[N, 3, H, W]``), in order of first appearance."""
        names = [dim for decl in self.inputs.values() for dim in decl.shape if isinstance(dim, str)]
        return list(dict.fromkeys(names))

    def at_sizes(self, sizes: Mapping[str, int]) -> "Spec":
        """A copy (see :meth:`with_input_shapes`) with each named input size in ``sizes`` replaced by its
        value (``{"H": 32}``: ``[N, 3, H, W]`` becomes ``[N, 3, 32, W]``)."""
        return self.with_input_shapes({name: tuple(sizes.get(dim, dim) if isinstance(dim, str) else dim
                                                   for dim in decl.shape) for name, decl in self.inputs.items()})

    def with_input_shapes(self, shapes: dict[str, tuple]) -> "Spec":
        """A copy of the spec whose inputs named in ``shapes`` have those shapes instead; the
        layers, positions and findings are shared, the wiring is copied with the new inputs."""
        inputs = {name: InputDecl(name, tuple(shapes.get(name, decl.shape)), decl.line, decl.column)
                  for name, decl in self.inputs.items()}
        wiring = None if self.wiring is None else self.wiring.with_inputs(inputs)
        return dataclasses.replace(self, inputs=inputs, findings=list(self.findings), wiring=wiring)

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
            typo = next((key for key in keys if suggest(key, ["layers"])), None)
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


def parse_spec(text: str, path: str = "<string>", limited: bool = True) -> Spec:
    """Parse spec ``text`` (read from ``path``) into a :class:`Spec` without building the graph.

    Raises :class:`NotASpec` for YAML without a top-level ``layers`` key.
    Syntax errors become a ``Y001`` finding on an otherwise empty spec.  When
    ``limited`` (the default; turn it off only for trusted, generated specs),
    more than :data:`MAX_LAYERS` layers is a ``Y002`` finding and more than
    :data:`convlint.spec.yaml_source.MAX_NODES` YAML values a ``Y001`` finding.
    """
    found = FindingCollector(path)
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
    layers = parse_layers(data, inputs, found, MAX_LAYERS if limited else None)
    groups: dict[str, str] = {}
    instances: list = []
    outputs = _parse_outputs(data, layers, found)
    if "blocks" in data:
        from convlint.spec.blocks import expand_blocks
        layers, groups, names, instances = expand_blocks(data, layers, found)
        outputs = [names.get(output, output) for output in outputs]
    layer_at_line = _layer_at_line(layers)
    for problem in document.problems:
        found.add(problem.code, problem.message, (problem.line, problem.column), layer_at_line(problem.line))
    return Spec(path, name, inputs, layers, outputs, text, found.findings,
                outputs_position=data.position_of("outputs"), dtype=_parse_dtype(data, found), groups=groups,
                instances=instances)


def _check_top_level_keys(data: Node, found: FindingCollector) -> None:
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            found.add("Y002", f"unknown top-level key `{key}`{suggest(str(key), TOP_LEVEL_KEYS)}; a spec has "
                              f"{', '.join(f'`{known}`' for known in TOP_LEVEL_KEYS)}", data.position_of(key))


def _parse_dtype(data: Node, found: FindingCollector) -> str:
    dtype = data.get("dtype", "float32")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        found.add("Y002", f"`dtype` must be one of {', '.join(DTYPE_BYTES)}, got {show(dtype)}",
                  data.position_of("dtype"))
        return "float32"
    return dtype


def _layer_at_line(layers: list[Layer]) -> Callable[[int], str | None]:
    """A lookup from a line to the name of the layer whose YAML starts at or before it (the last
    such in ``layers``' order), if any; each lookup takes O(log n) time."""
    by_line = sorted(range(len(layers)), key=lambda index: layers[index].line)
    lines = [layers[index].line for index in by_line]
    latest, best = [], -1
    for index in by_line:
        best = max(best, index)
        latest.append(best)

    def lookup(line: int) -> str | None:
        count = bisect.bisect_right(lines, line)
        return layers[latest[count - 1]].name if count and line >= layers[0].line else None
    return lookup


def _parse_inputs(data: Node, found: FindingCollector) -> dict[str, InputDecl]:
    raw = data.get("inputs")
    position = data.position_of("inputs")
    if not isinstance(raw, Node) or not raw:
        found.add("Y002", "`inputs` must map each input name to its shape, e.g. `inputs: {image: [1, 3, 224, 224]}`",
                  position)
        return {}
    inputs = {}
    for input_name, shape in raw.items():
        where = raw.position_of(input_name)
        if not is_name(input_name):
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


def _parse_outputs(data: Node, layers: list[Layer], found: FindingCollector) -> list[str]:
    if "outputs" not in data:
        return [layers[-1].name] if layers else []
    raw = data["outputs"]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(is_name(value) for value in values):
        found.add("Y002", f"`outputs` must be a list of layer names, got {show(raw)}", data.position_of("outputs"))
        return [layers[-1].name] if layers else []
    return list(values)
