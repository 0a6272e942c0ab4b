"""Text edits on spec source: set or rename one keyword of one layer, add a noqa comment.

Positions are 0-based (line, column) in code points; an edit is ``(start, end, new_text)``.  The
server converts columns to the client's encoding.
"""
from __future__ import annotations

import re

from convlint.linting.noqa import NOQA
from convlint.spec.model import Layer

Position = tuple[int, int]
Edit = tuple[Position, Position, str]

_VALUE_END = re.compile(r"\s*(?:[,}]|\s#|$)")


def set_keyword(lines: list[str], layer: Layer, key: str, value: str) -> Edit | None:
    """The edit that makes ``layer`` write ``key: value``: its written value replaced, or the key
    added to the layer's mapping (flow ``{...}`` on one line, or a new line of a block mapping)."""
    if key in layer.key_positions:
        line, column = layer.key_positions[key]
        text = lines[line - 1]
        colon = text.find(":", column - 1)
        if colon < 0:
            return None
        start = colon + 1
        while start < len(text) and text[start] == " ":
            start += 1
        end = _value_end(text, start)
        return (line - 1, start), (line - 1, end), value
    text = lines[layer.line - 1]
    if text[layer.column - 1:layer.column] == "{":  # a flow mapping: `- {name: ..., type: ...}`
        closing = _matching(text, layer.column - 1, "{", "}")
        if closing is None:
            return None
        return (layer.line - 1, closing), (layer.line - 1, closing), f", {key}: {value}"
    last = max(line for line, _ in layer.key_positions.values()) if layer.key_positions else layer.line
    indent = " " * (layer.column - 1)
    end = len(lines[last - 1])
    return (last - 1, end), (last - 1, end), f"\n{indent}{key}: {value}"


def rename_keyword(lines: list[str], layer: Layer, old: str, new: str) -> Edit | None:
    """The edit that renames ``layer``'s written key ``old`` to ``new``, its value kept; ``None`` when
    the key is not written plainly where the spec says it is."""
    if old not in layer.key_positions:
        return None
    line, column = layer.key_positions[old]
    if lines[line - 1][column - 1:column - 1 + len(old)] != old:
        return None
    return (line - 1, column - 1), (line - 1, column - 1 + len(old)), new


def _value_end(text: str, start: int) -> int:
    if start < len(text) and text[start] in "[{":
        closing = _matching(text, start, text[start], "]" if text[start] == "[" else "}")
        return len(text) if closing is None else closing + 1
    match = _VALUE_END.search(text, start)
    return match.start() if match else len(text)


def _matching(text: str, start: int, opening: str, closing: str) -> int | None:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == opening:
            depth += 1
        elif text[index] == closing:
            depth -= 1
            if depth == 0:
                return index
    return None


def add_noqa(lines: list[str], line: int, code: str) -> Edit:
    """The edit that adds ``code`` to the noqa comment of 1-based ``line`` (or appends one)."""
    text = lines[line - 1]
    match = NOQA.search(text)
    if match is None:
        end = len(text.rstrip())
        return (line - 1, end), (line - 1, len(text)), f"  # convlint: noqa: {code}"
    end = match.end("comment")
    if match.group("codes") is None:  # a bare noqa covers every code already
        return (line - 1, end), (line - 1, end), ""
    return (line - 1, end), (line - 1, end), f", {code}"
