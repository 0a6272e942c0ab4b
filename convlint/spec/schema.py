"""A JSON Schema (draft 2020-12) of the spec format, generated from the loaded layer types.

Editors use it for completion and validation (``# yaml-language-server: $schema=...``).  Each
layer type contributes its keywords with their types, defaults and descriptions; a layer
accepts only ``name``, ``type``, ``from`` and its type's keywords, so a misspelled keyword is
rejected.  The checks that need shapes (sizes, channels, wiring) stay with ``convlint lint``.
"""
from __future__ import annotations

import json

from convlint.linting.config import BUDGET_KEYS
from convlint.layers.layer_type import LayerType
from convlint.layers.registry import Registry
from convlint.spec.model import DTYPE_BYTES, SIZE_NAME

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NAME = {"type": "string", "minLength": 1}
INDEX = {"type": "integer", "minimum": 0}
"""Block layers may be named by index, like the modules of an ``nn.Sequential``."""
RESERVED = {
    "name": {"anyOf": [NAME, INDEX], "description": "unique layer name (default: <type>_<index>)"},
    "from": {"description": "input tensor name(s); default: the previous layer, or the only input",
             "anyOf": [NAME, INDEX, {"type": "array", "items": {"anyOf": [NAME, INDEX]}, "minItems": 1}]},
    "like": {**NAME, "description": "a tensor whose spatial size this layer matches (CenterCrop)"},
}
BLOCK_USE = {
    "repeat": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string"}],
               "description": "chain this many copies of the block"},
    "first": {"type": "object", "description": "parameters of the first copy only"},
    "when": {"oneOf": [{"type": "boolean"}, {"type": "string"}], "description": "keep the layer only when true"},
}


def _keyword_schema(keyword, spatial_dims: int | None) -> dict:
    """The keyword's schema for a fixed number of spatial axes, or any of 1 to 3 when not fixed."""
    if spatial_dims is not None:
        return keyword.json_schema(spatial_dims)
    variants = []
    for ndim in (1, 2, 3):
        fragment = keyword.json_schema(ndim)
        if fragment not in variants:
            variants.append(fragment)
    return variants[0] if len(variants) == 1 else {"anyOf": variants}


def layer_schema(layer_type: LayerType) -> dict:
    """The schema of one layer mapping of ``layer_type``: its keywords, and nothing else."""
    properties = {"type": {"const": layer_type.name}, **RESERVED}
    for key, keyword in layer_type.keywords.items():
        properties[key] = _keyword_schema(keyword, layer_type.spatial_dims)
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    required = [key for key, keyword in layer_type.keywords.items() if keyword.required]
    if required:
        schema["required"] = ["type", *required]
    doc = (type(layer_type).__doc__ or "").strip().splitlines()
    if doc:
        schema["description"] = doc[0]
    return schema


def keys_schema(layer_type: LayerType) -> dict:
    """A layer of ``layer_type`` inside a block: its keys are checked, its values may be ``$params``."""
    allowed = ["type", *RESERVED, *BLOCK_USE, *layer_type.keywords]
    return {"type": "object", "propertyNames": {"enum": allowed}}


def spec_schema(registry: Registry) -> dict:
    """The schema of a whole spec file for the layer types in ``registry``."""
    names = sorted(registry.types)
    definitions = {name: layer_schema(registry.types[name]) for name in names}
    layer = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": names, "description": "the torch.nn class name"}},
        "allOf": [{"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                   "then": {"$ref": f"#/$defs/{name}"}} for name in names],
    }
    key_definitions = {f"{name}-keys": keys_schema(registry.types[name]) for name in names}
    block_layer = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "description": "a torch.nn class name or a block name"},
                       **RESERVED, **BLOCK_USE},
        "allOf": [{"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                   "then": {"$ref": f"#/$defs/{name}-keys"}} for name in names],
    }
    block = {
        "type": "object",
        "required": ["layers"],
        "additionalProperties": False,
        "properties": {
            "params": {"type": "object", "description": "parameter name → default value, used as $name"},
            "inputs": {"type": "array", "items": NAME, "description": "names of the block's input tensors"},
            "layers": {"type": "array", "items": {"$ref": "#/$defs/block-layer"}, "minItems": 1},
            "outputs": {"oneOf": [NAME, {"type": "array", "items": NAME, "minItems": 1}]},
        },
    }
    size_name = {"type": "string", "pattern": SIZE_NAME.pattern, "description": "a named size such as H"}
    shape = {"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 1}, size_name]}, "minItems": 2,
             "prefixItems": [{}, {"type": "integer", "minimum": 1}],
             "description": "[N, C, *spatial] or [N, features]; N and the spatial sizes may be names (H)"}
    return {
        "$schema": DRAFT,
        "title": "convlint network spec",
        "description": "A convolutional network as YAML: inputs, layers (torch.nn classes and keywords), outputs.",
        "type": "object",
        "required": ["layers"],
        "properties": {
            "name": {"type": "string", "description": "network name (default: the file name)"},
            "inputs": {"type": "object", "minProperties": 1, "additionalProperties": shape,
                       "description": "input name → shape"},
            "layers": {"type": "array"},
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/$defs/block"},
                       "description": "block name → reusable sub-network, used as a layer type"},
            "dtype": {"enum": list(DTYPE_BYTES), "description": "element type for memory figures"},
            "outputs": {"oneOf": [NAME, {"type": "array", "items": NAME, "minItems": 1}],
                        "description": "output layer names (default: the last layer)"},
            "budget": {"type": "object", "additionalProperties": False,
                       "properties": {key: {"type": "integer", "minimum": 0} for key in BUDGET_KEYS},
                       "description": "largest total parameter / MAC count allowed (checked by B001)"},
        },
        "additionalProperties": False,
        "if": {"required": ["blocks"]},
        "then": {"properties": {"layers": {"items": {"$ref": "#/$defs/block-layer"}}}},
        "else": {"properties": {"layers": {"items": {"$ref": "#/$defs/layer"}}}},
        "$defs": {"layer": layer, "block": block, "block-layer": block_layer, **definitions, **key_definitions},
    }


def schema_json(registry: Registry) -> str:
    """:func:`spec_schema` as indented JSON text with a final newline."""
    return json.dumps(spec_schema(registry), indent=2, ensure_ascii=False) + "\n"
