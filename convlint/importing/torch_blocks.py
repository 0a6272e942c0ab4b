"""Repeated sub-modules as blocks: the layers of each instance of a module class with its own
``forward`` (a ResNet ``BasicBlock``, a MobileNet ``InvertedResidual``) are compared; instances that
compute the same layers with the same keywords and wiring share one block definition, and a run of
instances that chain (each reads the one before) becomes one use with ``repeat``.  Instances unlike any
other stay written out layer by layer.  Names are kept: a use named ``layer1.0`` with ``repeat: 2``
expands to ``layer1.0.*`` and ``layer1.1.*``, the module paths of the model."""
from __future__ import annotations

import json
from convlint.importing.model import ImportedLayer, ImportedModel

INPUT = "x"
"""The name of a block's input inside its definition."""


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


def _signature(path: str, members: list[ImportedLayer]) -> tuple[str, str | None]:
    """The instance's layers relative to ``path`` as one string (``None`` as the second item when the
    instance reads more than one outside tensor), and the outside tensor it reads."""
    inside = {layer.name for layer in members}
    outside = {source for layer in members for source in layer.sources if source not in inside}
    if len(outside) != 1:
        return "", None
    entry = next(iter(outside))
    relative = lambda name: INPUT if name == entry else name[len(path) + 1:]
    rows = [[relative(layer.name), layer.type, [relative(s) for s in layer.sources], layer.keywords]
            for layer in members]
    return json.dumps(rows, sort_keys=True, default=str), entry


def make_blocks(result: ImportedModel, model) -> None:
    """Replace repeated instances in ``result.layers`` by block uses (see the module's docstring)."""
    layers = result.layers
    found = []
    for path, class_name, indices in _instances(model, layers):
        members = [layers[i] for i in indices]
        signature, entry = _signature(path, members)
        read_outside = {s for layer in layers if layer not in members for s in layer.sources if s.startswith(path + ".")}
        if entry is None or read_outside - {members[-1].name} or members[-1].name in result.outputs[:-1]:
            continue
        found.append((path, class_name, indices, signature, entry))
    counts: dict[str, int] = {}
    for item in found:
        counts[item[3]] = counts.get(item[3], 0) + 1
    block_names: dict[str, str] = {}
    replaced: dict[int, ImportedLayer | None] = {}
    renamed: dict[str, str] = {}
    previous: tuple[ImportedLayer, str, int] | None = None  # (use, signature, last index)
    for path, class_name, indices, signature, entry in found:
        end = indices[-1]
        if counts[signature] < 2:
            previous = None
            continue
        if signature not in block_names:
            name = class_name
            number = 1
            while name in result.blocks:
                number += 1
                name = f"{class_name}{number}"
            block_names[signature] = name
            members = [layers[i] for i in indices]
            inside = lambda source: INPUT if source == entry else source[len(path) + 1:]
            result.blocks[name] = {"layers": [ImportedLayer(layer.name[len(path) + 1:], layer.type,
                                                            [inside(s) for s in layer.sources], layer.keywords)
                                              for layer in members]}
        last_name = layers[indices[-1]].name
        chained = previous is not None and (previous[1] == signature and previous[2] + 1 == indices[0]
                   and renamed.get(entry, entry) == previous[0].name and _next_number(previous[0], path))
        if chained and previous is not None:
            use = previous[0]
            use.keywords["repeat"] = use.keywords.get("repeat", 1) + 1
        else:
            use = ImportedLayer(path, block_names[signature], [renamed.get(entry, entry)], {}, block=True)
            replaced[indices[0]] = use
            indices = indices[1:]
        for index in indices:
            replaced[index] = None
        renamed[last_name] = use.name
        previous = (use, signature, end)
    if not replaced:
        return
    new_layers: list[ImportedLayer] = []
    for index, layer in enumerate(layers):
        if index in replaced:
            use_here = replaced[index]
            if use_here is not None:
                new_layers.append(use_here)
            continue
        layer.sources = [renamed.get(source, source) for source in layer.sources]
        new_layers.append(layer)
    result.layers = new_layers
    result.outputs = [renamed.get(output, output) for output in result.outputs]


def _next_number(use: ImportedLayer, path: str) -> bool:
    """True when ``path`` is the name the next copy of ``use`` gets (``features.5`` after ``features.4``
    repeated once)."""
    head, _, number = use.name.rpartition(".")
    if not number.isdigit():
        return False
    return path == f"{head}.{int(number) + use.keywords.get('repeat', 1)}"
