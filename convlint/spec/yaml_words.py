"""PyYAML's syntax errors in plain words, at their line and column.

``found character that cannot start any token`` for a tab becomes "a tab: YAML indents with
spaces only"; an unclosed ``{`` or ``[`` says which bracket is missing.  Unknown problems keep
PyYAML's own words.
"""
from __future__ import annotations

PHRASES = (
    ("did not find expected ',' or '}'", "a `{...}` mapping is not closed: a `,` or `}` is missing before here"),
    ("did not find expected ',' or ']'", "a `[...]` list is not closed: a `,` or `]` is missing before here"),
    ("mapping values are not allowed here",
     "a `:` where a plain value was expected: quote the value, or check the indentation of this line"),
    ("could not find expected ':'", "a key without its `:` (or a line that does not line up with the ones above)"),
    ("found unexpected end of stream", "a quoted string or a bracket is not closed before the end of the file"),
    ("expected <block end>", "this line's indentation does not line up with the lines above"),
    ("did not find expected key", "this line's indentation does not line up with the keys above"),
    ("did not find expected '-' indicator", "this line's indentation does not line up with the list items above"),
)


def plain_words(problem: str, context: str, text: str, line: int, column: int) -> str:
    """The syntax error ``problem`` (PyYAML's ``context`` and ``problem``) at 1-based ``line``/``column``
    of ``text``, said plainly; PyYAML's own words follow in parentheses."""
    original = " ".join(part for part in (context, problem) if part)
    lines = text.splitlines()
    found = lines[line - 1][column - 1:column] if 1 <= line <= len(lines) else ""
    if "cannot start any token" in problem:
        if found == "\t":
            return f"a tab character: YAML indents with spaces only; replace the tab with spaces ({original})"
        if found:
            return f"`{found}` cannot start a value here: put the value in quotes ({original})"
    for known, words in PHRASES:
        if known in problem:
            return f"{words} ({original})"
    return original
