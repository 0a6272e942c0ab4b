"""Making untrusted text (layer names, file names, messages that quote them) inert before it is shown.

Layer names and file names come from the spec's author or the file system; printed raw, an ESC or OSC
sequence would drive the terminal, a newline would forge whole finding lines in a log, and a file name
holding a byte that is not UTF-8 (Python keeps it as a lone surrogate) would make JSON and SARIF
output fail to encode.  Every formatter shows such text through one of the two functions here:

- :func:`printable` for text meant for a terminal or log (concise, full, GitHub, tables, diagram
  labels): control characters, line and paragraph separators, bidirectional overrides and undecodable
  bytes are written as ``\\xNN`` / ``\\uNNNN`` escapes, and the text is cut to ``limit`` characters;
- :func:`encodable` for JSON and SARIF, whose encoders escape control characters themselves: only
  undecodable bytes are rewritten (as ``\\xNN``) and the text is cut to ``limit`` characters.
"""
from __future__ import annotations

import re

MAX_SHOWN = 1000
"""Most characters of one message, name or path shown; longer text is cut with a note of its length."""

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by Python's surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters in all)"


def printable(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` with every character that could act on a terminal or split a line escaped; at most
    about ``limit`` characters."""
    return _UNSAFE.sub(_escape, _cut(str(text), limit))


def encodable_values(data: dict, limit: int = MAX_SHOWN) -> dict:
    """``data`` with :func:`encodable` applied to its string values."""
    return {key: encodable(value, limit) if isinstance(value, str) else value for key, value in data.items()}


def has_undecodable(text: str) -> bool:
    """True when ``text`` holds an undecodable byte (a lone surrogate), which UTF-8 cannot encode."""
    return _SURROGATE.search(text) is not None


def encodable(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` with undecodable bytes (lone surrogates) escaped, so that it encodes as UTF-8; at most
    about ``limit`` characters."""
    return _SURROGATE.sub(_escape, _cut(str(text), limit))
