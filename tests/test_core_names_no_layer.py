"""The core never special-cases a built-in layer type: no built-in type name appears in the code of ``convlint/``.

Docstrings, comments and documentation fields (a rule's title and ``what``/``why``/``example``/``fix``, a
keyword's ``doc``, a JSON-schema ``description``) may name built-in types as examples; string literals
in code may not, and no core module imports the built-in plugins.  The names come from the registry
of the built-in plugins, so a new built-in type is covered at once.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from convlint.layers.registry import load_registry

PACKAGE = Path(__file__).resolve().parent.parent / "convlint"
BUILT_IN_NAMES = sorted(load_registry(only_distribution="convlint").types)


DOC_FIELDS = {"what", "why", "example", "fix", "doc", "description"}
"""Keyword arguments and mapping keys whose string value is documentation."""

def _documentation(tree: ast.AST) -> set[int]:
    """ids of the string constants that are documentation: docstrings (any bare string statement,
    as attribute docs are too) and the values of :data:`DOC_FIELDS`."""
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr):
            texts.append(node.value)
        elif isinstance(node, ast.keyword) and node.arg in DOC_FIELDS:
            texts.append(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Rule" and len(node.args) > 1:
            texts.append(node.args[1])  # the rule's title
        elif isinstance(node, ast.Dict):
            texts += [value for key, value in zip(node.keys, node.values)
                      if isinstance(key, ast.Constant) and key.value in DOC_FIELDS]
    return {id(text) for text in texts if isinstance(text, ast.Constant) and isinstance(text.value, str)}


def code_words(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal in ``source`` that is no documentation."""
    tree = ast.parse(source)
    documentation = _documentation(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documentation]


def built_in_names_in(source: str) -> list[tuple[int, str]]:
    """(line, name) for each built-in type name written in the code of ``source``."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, BUILT_IN_NAMES)) + r")\b")
    return [(line, match) for line, text in code_words(source) for match in pattern.findall(text)]


def test_the_registry_gives_the_names():
    assert {"Conv2d", "Concat", "Linear", "BatchNorm2d", "CenterCrop"} <= set(BUILT_IN_NAMES)


def _modules() -> list:
    return [pytest.param(path, id=path.relative_to(PACKAGE).as_posix()) for path in sorted(PACKAGE.rglob("*.py"))]


@pytest.mark.parametrize("path", _modules())
def test_no_built_in_type_name_in_core_code(path):
    source = path.read_text(encoding="utf-8")
    assert built_in_names_in(source) == []
    assert "convlint_plugins" not in {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                                      if isinstance(node, (ast.Import, ast.ImportFrom))
                                      for alias in ([ast.alias(node.module or "")] if isinstance(node, ast.ImportFrom) else node.names)}


def test_the_check_sees_a_name_in_code_but_not_in_docs():
    source = '''"""Concat is documented here."""
RULE = Rule("Z001", "Add inputs differ", what="a Conv2d example", fix="use a MaxPool2d")
SCHEMA = {"description": "like CenterCrop"}
def f(layer):
    """So is Linear."""
    # and Conv2d in a comment
    return layer.type == "Concat" or f"{layer}" == "Linear layer" or layer.type in {"ConvTranspose2d": 1}
'''
    assert built_in_names_in(source) == [(7, "Concat"), (7, "Linear"), (7, "ConvTranspose2d")]
