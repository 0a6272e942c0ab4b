"""docs/plugins.md documents the whole plugin API, and everything it names is importable from convlint.plugin."""
from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import convlint.plugin as plugin_api
from convlint.layers import hookspecs, keywords
from convlint.layers.layer_type import LayerContext, LayerType
from convlint.spec.model import Layer

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    """The text of the ``## title`` section (up to the next ``## `` heading)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", DOCS, re.MULTILINE | re.DOTALL)
    assert match, f"docs/plugins.md has no section `## {title}`"
    return match.group(1)


def _public(names) -> list[str]:
    return sorted(name for name in names if not name.startswith("_"))


HOOKS = _public(name for name, value in vars(hookspecs).items()
                if callable(value) and hasattr(value, "convlint_spec"))
LAYER_TYPE_MEMBERS = _public(vars(LayerType))
CONTEXT_MEMBERS = _public(dir(LayerContext(Layer("l", "T", [], {}, 0, 1, 1), [(1, 1)], {}, 0, "p")))
KEYWORD_KINDS = sorted(name for name, value in vars(keywords).items()
                       if inspect.isclass(value) and issubclass(value, keywords.Keyword) and value is not keywords.Keyword)
RULE_FIELDS = [field.name for field in dataclasses.fields(plugin_api.Rule)]


def test_the_lists_are_not_empty():
    assert HOOKS == ["register_layer_types", "register_rules"]
    assert {"infer", "forward", "initial_parameters", "label", "diagram_role", "family"} <= set(LAYER_TYPE_MEMBERS)
    assert {"report", "args", "inputs", "chunk_bytes"} <= set(CONTEXT_MEMBERS)
    assert {"Int", "IntTuple", "Optional", "Padding"} <= set(KEYWORD_KINDS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section(hook):
    signature = inspect.signature(getattr(hookspecs, hook))
    assert f"### `{hook}({', '.join(signature.parameters)})`" in _section("Hooks")


@pytest.mark.parametrize("member", LAYER_TYPE_MEMBERS)
def test_every_layer_type_capability_is_documented(member):
    assert re.search(rf"^\| `{member}[`(]", _section("`LayerType`"), re.MULTILINE), member


@pytest.mark.parametrize("member", CONTEXT_MEMBERS)
def test_every_context_member_is_documented(member):
    assert re.search(rf"^\| `ctx\.{member}[`(]", _section("`LayerType`"), re.MULTILINE), member


@pytest.mark.parametrize("kind", KEYWORD_KINDS)
def test_every_keyword_kind_is_documented(kind):
    parameters = [name for name in inspect.signature(getattr(keywords, kind)).parameters]
    assert f"| `{kind}({', '.join(parameters)}" in _section("Keyword kinds").replace("=None", "").replace(
        "=True", "").replace("=0", ""), kind


@pytest.mark.parametrize("family", plugin_api.FAMILIES)
def test_every_family_is_documented(family):
    assert f"`{family}`" in _section("Families")


@pytest.mark.parametrize("role", plugin_api.DIAGRAM_ROLES)
def test_every_diagram_role_is_documented(role):
    assert f"- `{role}`:" in _section("Diagram roles")


@pytest.mark.parametrize("field", RULE_FIELDS)
def test_every_rule_field_is_documented(field):
    assert f"`{field}`" in _section("Rules") or f"{field}=" in _section("Rules")


@pytest.mark.parametrize("name", plugin_api.__all__)
def test_every_public_name_is_documented(name):
    assert f"`{name}" in DOCS


def test_every_name_the_page_imports_is_importable():
    imported = re.findall(r"^from convlint\.plugin import (.+)$", DOCS, re.MULTILINE)
    assert imported
    for line in imported:
        for name in line.split(", "):
            assert name in plugin_api.__all__ and hasattr(plugin_api, name), name
