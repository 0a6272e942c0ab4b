"""`convlint schema`: a JSON Schema (draft 2020-12) of specs, generated from the layer plugins."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import convlint
from convlint.cli.main import main
from convlint.layers.keywords import Choice, Int, IntTuple
from convlint.layers.registry import load_registry
from convlint.spec.schema import schema_json, spec_schema

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "schema" / "convlint-spec.schema.json"
BUILTIN = load_registry(only_distribution="convlint")


def validator(schema: dict):
    """A validator of ``schema``, checked against the draft 2020-12 meta-schema once per distinct schema."""
    key = json.dumps(schema, sort_keys=True)
    if key not in _VALIDATORS:
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATORS[key] = jsonschema.Draft202012Validator(schema)
    return _VALIDATORS[key]


_VALIDATORS: dict = {}


def errors(schema: dict, document) -> list[str]:
    return [error.message for error in validator(schema).iter_errors(document)]


def test_shipped_schema_is_current():
    assert SHIPPED.read_text(encoding="utf-8") == schema_json(BUILTIN), (
        "regenerate it: convlint schema > schema/convlint-spec.schema.json")


def test_cli_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "Conv2d" in schema["$defs"]


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_spec_validates(path):
    assert errors(spec_schema(BUILTIN), yaml.safe_load(path.read_text(encoding="utf-8"))) == []


LENET = yaml.safe_load((ROOT / "specs" / "lenet5.yaml").read_text(encoding="utf-8"))


def lenet_with_first_layer(**changes) -> dict:
    document = json.loads(json.dumps(LENET))
    document["layers"][0].update(changes)
    return document


def test_misspelled_keyword_is_rejected():
    found = errors(spec_schema(BUILTIN), lenet_with_first_layer(strides=2))
    assert any("'strides' was unexpected" in message for message in found)


@pytest.mark.parametrize("changes", [{"kernel_size": 3.5}, {"kernel_size": [5, 5, 5]}, {"padding": "full"},
                                     {"type": "Conv2D"}, {"bias": "yes"}])
def test_wrong_values_are_rejected(changes):
    assert errors(spec_schema(BUILTIN), lenet_with_first_layer(**changes)) != []


def test_missing_required_keyword_is_rejected():
    document = lenet_with_first_layer()
    del document["layers"][0]["out_channels"]
    assert any("'out_channels' is a required property" in m for m in errors(spec_schema(BUILTIN), document))


def test_misspelled_top_level_key_is_rejected():
    document = dict(LENET, output=["out"])
    assert errors(spec_schema(BUILTIN), document) != []


class DepthToSpace(convlint.LayerType):
    """Rearranges (N, C·r², H, W) to (N, C, H·r, W·r)."""

    name = "DepthToSpace"
    spatial_dims = 2
    keywords = {"upscale_factor": Int(minimum=1, doc="r"), "mode": Choice(("a", "b"), "a"),
                "window": IntTuple(1, minimum=1)}

    def infer(self, ctx):
        return ctx.input


class ShufflePlugin:
    @convlint.hookimpl
    def register_layer_types(self, register):
        register(DepthToSpace())


def test_third_party_layer_type_appears_with_its_keywords():
    registry = load_registry(only_distribution="convlint", extra=[("shuffle", ShufflePlugin())])
    schema = spec_schema(registry)
    definition = schema["$defs"]["DepthToSpace"]
    assert definition["required"] == ["type", "upscale_factor"]
    assert definition["properties"]["upscale_factor"] == {"type": "integer", "minimum": 1, "description": "r"}
    assert definition["properties"]["mode"] == {"enum": ["a", "b"], "default": "a"}
    assert definition["properties"]["window"]["oneOf"][1]["minItems"] == 2
    layer = {"name": "ps", "type": "DepthToSpace", "upscale_factor": 2, "window": [1, 1]}
    document = dict(LENET, layers=[layer])
    assert errors(schema, document) == []
    assert errors(schema, dict(LENET, layers=[dict(layer, upscale=2)])) != []
    assert errors(spec_schema(BUILTIN), document) != []


RESNET50 = yaml.safe_load((ROOT / "specs" / "resnet50.yaml").read_text(encoding="utf-8"))


def test_block_specs_check_keyword_names_inside_blocks():
    schema = spec_schema(BUILTIN)
    assert errors(schema, RESNET50) == []
    broken = json.loads(json.dumps(RESNET50))
    block = next(iter(broken["blocks"].values()))
    block["layers"][0]["kernal_size"] = 3
    assert any("kernal_size" in message for message in errors(schema, broken))
    broken_dtype = {**RESNET50, "dtype": "float8"}
    assert errors(schema, broken_dtype)
