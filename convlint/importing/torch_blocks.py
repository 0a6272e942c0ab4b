"""Repeated sub-modules as blocks.

The layers of each instance of a module class with its own ``forward`` (a ResNet ``BasicBlock``, a
MobileNet ``InvertedResidual``) are compared.  Instances of one class that compute the same layers with
the same wiring share one block definition; the keyword values that differ between them become the
block's parameters (one parameter for slots whose values always agree, named after the keyword:
``out_channels``, ``stride``), with the most common value as the default.  A run of instances that chain
(each reads the one before, numbered on) becomes one use with ``repeat``, and ``first`` for a first copy
that differs (the strided block that starts a stage).  An instance like no other stays written out
layer by layer.  Names are kept: a use named ``layer1.0`` with ``repeat: 2`` expands to ``layer1.0.*``
and ``layer1.1.*``, the module paths of the model.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from convlint.importing.model import ImportedLayer, ImportedModel

INPUT = "x"
"""The name of a block's input inside its definition."""


@dataclass
class _Instance:
    path: str
    class_name: str
    indices: list[int]
    entry: str
    rows: list[ImportedLayer]
    """The instance's layers with names and sources relative to the instance."""
    block: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def _instances(model, layers: list[ImportedLayer]) -> list[tuple[str, str, list[int]]]:
    """``(path, class name, layer indices)`` of the outermost modules that have their own ``forward``
    (not containers such as ``nn.Sequential``) and hold a contiguous run of layers."""
    import torch
    chosen: list[tuple[str, str, list[int]]] = []
    for path, module in model.named_modules():
        if not path or isinstance(module, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)):
            continue
        if not list(module.children()) or any(path.startswith(outer + ".") for outer, _, _ in chosen):
            continue
        indices = [i for i, layer in enumerate(layers) if layer.name.startswith(path + ".")]
        if len(indices) > 1 and indices == list(range(indices[0], indices[-1] + 1)):
            chosen.append((path, type(module).__name__, indices))
    return chosen


def _instance(result: ImportedModel, path: str, class_name: str, indices: list[int]) -> _Instance | None:
    """The instance with its layers made relative, or ``None`` when it cannot be a block use: it reads
    more than one outside tensor, or a layer inside it other than the last is read from outside."""
    members = [result.layers[i] for i in indices]
    inside = {layer.name for layer in members}
    outside = {source for layer in members for source in layer.sources if source not in inside}
    if len(outside) != 1:
        return None
    read_outside = {source for layer in result.layers if layer.name not in inside for source in layer.sources
                    if source in inside} | (set(result.outputs) & inside)
    if read_outside - {members[-1].name}:
        return None
    entry = next(iter(outside))
    relative = lambda name: INPUT if name == entry else name[len(path) + 1:]
    rows = [ImportedLayer(relative(layer.name), layer.type, [relative(s) for s in layer.sources], layer.keywords)
            for layer in members]
    return _Instance(path, class_name, indices, entry, rows)


def _structure(instance: _Instance) -> str:
    return json.dumps([[row.name, row.type, row.sources, sorted(row.keywords)] for row in instance.rows])


def _define(result: ImportedModel, group: list[_Instance]) -> None:
    """One block for ``group`` (instances of one class and structure), its parameters, and each
    instance's parameter values."""
    first = group[0]
    slots = [(index, key) for index, row in enumerate(first.rows) for key in row.keywords]
    columns = {slot: [json.dumps(instance.rows[slot[0]].keywords[slot[1]]) for instance in group] for slot in slots}
    params: dict[tuple, str] = {}
    names: dict[str, tuple] = {}
    for slot in slots:
        column = tuple(columns[slot])
        if len(set(column)) < 2:
            continue
        if column not in names.values():
            index, key = slot
            name = key if key not in names else f"{first.rows[index].name.replace('.', '_')}_{key}"
            names[name] = column
        params[slot] = next(name for name, values in names.items() if values == column)
    block = first.class_name
    number = 1
    while block in result.blocks:
        number += 1
        block = f"{first.class_name}{number}"
    defaults = {name: json.loads(Counter(values).most_common(1)[0][0]) for name, values in names.items()}
    layers = [ImportedLayer(row.name, row.type, row.sources,
                            {key: f"${params[(index, key)]}" if (index, key) in params else value
                             for key, value in row.keywords.items()})
              for index, row in enumerate(first.rows)]
    result.blocks[block] = {"params": defaults, "layers": layers}
    for position, instance in enumerate(group):
        instance.block = block
        instance.params = {name: json.loads(values[position]) for name, values in names.items()}


def _follows(use: ImportedLayer, count: int, path: str) -> bool:
    """True when ``path`` is the name of copy ``count`` of ``use`` (``features.5`` after ``features.4``)."""
    head, _, number = use.name.rpartition(".")
    return number.isdigit() and path == f"{head}.{int(number) + count}"


def make_blocks(result: ImportedModel, model) -> None:
    """Replace repeated instances in ``result.layers`` by block uses (see the module's docstring)."""
    found = [instance for path, class_name, indices in _instances(model, result.layers)
             if (instance := _instance(result, path, class_name, indices)) is not None]
    groups: dict[tuple[str, str], list[_Instance]] = {}
    for instance in found:
        groups.setdefault((instance.class_name, _structure(instance)), []).append(instance)
    for group in groups.values():
        if len(group) > 1:
            _define(result, group)
    replaced: dict[int, ImportedLayer | None] = {}
    renamed: dict[str, str] = {}
    runs: list[tuple[ImportedLayer, list[_Instance]]] = []
    for instance in (instance for instance in found if instance.block):
        entry = renamed.get(instance.entry, instance.entry)
        run = runs[-1] if runs else None
        if (run is not None and run[1][-1].block == instance.block and run[1][-1].indices[-1] + 1 == instance.indices[0]
                and entry == run[0].name and _follows(run[0], len(run[1]), instance.path)
                and (len(run[1]) == 1 or run[1][-1].params == instance.params)):
            run[1].append(instance)
        else:
            use = ImportedLayer(instance.path, instance.block, [entry], {}, block=True)
            runs.append((use, [instance]))
            replaced[instance.indices[0]] = use
            replaced.update({index: None for index in instance.indices[1:]})
            renamed[result.layers[instance.indices[-1]].name] = use.name
            continue
        replaced.update({index: None for index in instance.indices})
        renamed[result.layers[instance.indices[-1]].name] = run[0].name
    for use, instances in runs:
        defaults = result.blocks[use.type]["params"]
        rest = instances[-1].params
        use.keywords = {name: value for name, value in rest.items() if value != defaults[name]}
        if len(instances) > 1:
            use.keywords["repeat"] = len(instances)
            first = {name: value for name, value in instances[0].params.items() if value != rest[name]}
            if first:
                use.keywords["first"] = first
    new_layers: list[ImportedLayer] = []
    for index, layer in enumerate(result.layers):
        if index in replaced:
            use_here = replaced[index]
            if use_here is not None:
                new_layers.append(use_here)
            continue
        layer.sources = [renamed.get(source, source) for source in layer.sources]
        new_layers.append(layer)
    result.layers = new_layers
    result.outputs = [renamed.get(output, output) for output in result.outputs]
