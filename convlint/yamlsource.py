"""Safe YAML loading that keeps source positions and refuses what it should not walk.

Mappings load as :class:`Node` dicts and sequences as :class:`NodeList`
lists; both carry the 1-based ``line``/``column`` of where they start, and
mappings also the position of each key.  Only the safe constructors are used
(libyaml's ``CSafeLoader`` when available), so ``!!python/...`` tags are
refused.  Duplicate keys are collected instead of silently overwritten, and
alias use is capped so that "billion laughs" documents fail fast.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # libyaml not compiled in
    _BaseLoader = yaml.SafeLoader

MAX_ALIASES = 1000
"""Alias dereferences allowed in one document before it is refused."""


class Node(dict):
    """A YAML mapping with its position and the position of each key."""

    line: int = 0
    column: int = 0
    key_positions: dict

    def position_of(self, key) -> tuple[int, int]:
        """(line, column) of ``key`` in the source, or of the mapping when absent."""
        return self.key_positions.get(key, (self.line, self.column))


class NodeList(list):
    """A YAML sequence with its position and the position of each item."""

    line: int = 0
    column: int = 0
    item_positions: list


@dataclass
class YamlProblem:
    """A problem found while reading YAML: message and 1-based position."""

    code: str
    message: str
    line: int
    column: int


class YamlError(Exception):
    """The document cannot be loaded at all."""

    def __init__(self, problem: YamlProblem):
        super().__init__(problem.message)
        self.problem = problem


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _PositionLoader(_BaseLoader):
    """Safe loader that records positions, duplicate keys and alias use."""

    def __init__(self, stream):
        super().__init__(stream)
        self.problems: list[YamlProblem] = []
        self.alias_uses = 0

    def construct_object(self, node, deep=False):
        if node in self.constructed_objects:
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIASES:
                line, column = _mark(node)
                raise YamlError(YamlProblem(
                    "Y001", f"more than {MAX_ALIASES} alias references; refusing to expand them", line, column))
        return super().construct_object(node, deep=deep)


def _construct_mapping(loader: _PositionLoader, node):
    data = Node()
    data.line, data.column = _mark(node)
    data.key_positions = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            line, column = _mark(key_node)
            raise YamlError(YamlProblem("Y002", "a mapping key must be a plain value", line, column)) from None
        if key in data.key_positions:
            line, column = _mark(key_node)
            first_line, first_column = data.key_positions[key]
            loader.problems.append(YamlProblem(
                "Y003", f"duplicate key {key!r} (first at line {first_line}, column {first_column}); "
                        f"YAML would keep only this one",
                line, column))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_positions[key] = _mark(key_node)


def _construct_sequence(loader: _PositionLoader, node):
    data = NodeList()
    data.line, data.column = _mark(node)
    data.item_positions = [_mark(child) for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


_PositionLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_PositionLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


@dataclass
class Document:
    """A loaded YAML document: its data and the problems met on the way."""

    data: object
    problems: list[YamlProblem] = field(default_factory=list)


def load_yaml(text: str) -> Document:
    """Load one YAML document from ``text``.

    Raises :class:`YamlError` (with a position) for syntax errors, unsafe or
    unknown tags, too many aliases, or nesting too deep to construct.
    """
    loader = _PositionLoader(text)
    try:
        data = loader.get_single_data()
    except YamlError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(part for part in (error.context, error.problem) if part)
        raise YamlError(YamlProblem("Y001", f"invalid YAML: {message}", line, column)) from None
    except yaml.YAMLError as error:
        raise YamlError(YamlProblem("Y001", f"invalid YAML: {error}", 1, 1)) from None
    except RecursionError:
        raise YamlError(YamlProblem("Y001", "YAML nesting is too deep to read", 1, 1)) from None
    finally:
        loader.dispose()
    return Document(data, loader.problems)
