"""An imported model before it is written as a spec: inputs, layers, outputs and weights."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_.]+")


def clean_name(text: str, fallback: str = "layer") -> str:
    """``text`` as a layer or input name: runs of characters other than letters, digits, ``_`` and ``.``
    become ``_``, no leading or trailing ``.`` or ``_`` runs; ``fallback`` when nothing is left."""
    name = NAME_CHARACTERS.sub("_", text).strip("._")
    return name or fallback


@dataclass
class ImportedLayer:
    """One layer: its ``name``, ``type``, ``sources`` (tensor names it reads: an input, a layer, or
    ``layer.k`` for output ``k`` of a layer with several), ``keywords``, and ``origin`` (where it came from
    in the imported model, for messages: the ONNX node's name and op, or the module path)."""

    name: str
    type: str
    sources: list[str]
    keywords: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    block: Any = None
    """For a use of a block (``--torch``): the block's name, and ``keywords`` are its parameters."""


@dataclass
class ImportedModel:
    """A whole import: ``inputs`` (name → shape, dims ints or size names), ``layers`` in topological
    order, ``outputs`` (tensor names), ``weights`` (state-dict key → NumPy array), ``problems`` (one line
    per node or module that has no layer type, naming it), ``blocks`` (block name → definition, as YAML
    data) and ``origins`` (layer name → ``(position, text)``: the node's 1-based position in the file
    and its description, for findings)."""

    name: str
    source: str
    inputs: dict[str, list]
    layers: list[ImportedLayer]
    outputs: list[str]
    weights: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    blocks: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, tuple[int, str]] = field(default_factory=dict)
