"""`convlint lint --format json`: valid JSON for any finding text, strings over the shown length cut as
documented in `convlint/escaping.py`, undecodable bytes of file names written as ``\\xNN``, and
everything else unchanged."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from convlint.escaping import MAX_SHOWN
from convlint.findings import Finding, Severity
from convlint.report.json_findings import lint_json

UNDECODABLE = "\udcff"
"""How Python keeps the byte 0xff of a file name that is not UTF-8 (surrogateescape)."""


def shown(text: str) -> str:
    """``text`` as the escaping module documents it: cut after MAX_SHOWN characters with a note of its
    length, then each undecodable byte written as ``\\xNN``."""
    if len(text) > MAX_SHOWN:
        text = f"{text[:MAX_SHOWN]}… ({len(text):,} characters in all)"
    return "".join(f"\\x{ord(char) - 0xDC00:02x}" if 0xDC80 <= ord(char) <= 0xDCFF else char for char in text)


def rows(findings: list[Finding]) -> list[dict]:
    """The JSON output of ``findings``, checked to encode as UTF-8 and to hold one finding per line."""
    out = lint_json(findings)
    out.encode("utf-8")
    lines = out.rstrip("\n").split("\n")
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(findings) + 2
    return json.loads(out)


def lengths_around_the_cut():
    return st.sampled_from([0, 1, MAX_SHOWN // 2, MAX_SHOWN - 2, MAX_SHOWN - 1, MAX_SHOWN, MAX_SHOWN + 1,
                            3 * MAX_SHOWN])


@st.composite
def texts(draw, undecodable: bool) -> str:
    """A text of a length near the cut, repeating a few characters that JSON escapes or that are not ASCII."""
    alphabet = ["a", "é", "😀", '"', "\\", "\n", "\x1b", "\u2028"] + ([UNDECODABLE] if undecodable else [])
    pattern = draw(st.text(alphabet=st.sampled_from(alphabet), min_size=1, max_size=4))
    length = draw(lengths_around_the_cut())
    return (pattern * length)[:length]


@st.composite
def findings(draw) -> Finding:
    return Finding(draw(st.sampled_from(["Y006", "G001"])), draw(st.sampled_from(list(Severity))),
                   draw(texts(undecodable=False)), draw(texts(undecodable=draw(st.booleans()))),
                   draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)),
                   draw(st.one_of(st.none(), texts(undecodable=False))))


@given(st.lists(findings(), min_size=1, max_size=4))
def test_every_string_is_shown_as_documented_and_the_rest_unchanged(drawn):
    for row, finding in zip(rows(drawn), drawn, strict=True):
        expected = {key: shown(value) if isinstance(value, str) else value
                    for key, value in finding.to_json().items()}
        assert row == expected


def test_a_short_row_is_written_unchanged():
    finding = Finding("Y006", Severity.ERROR, 'Conv2d has no keyword `kernl` "quoted"\x1b', "dir/é.yaml", 3, 5, "c1")
    assert rows([finding]) == [finding.to_json()]


def test_a_long_row_of_strings_within_the_shown_length_is_written_unchanged():
    finding = Finding("Y006", Severity.ERROR, "m" * MAX_SHOWN, "p" * (MAX_SHOWN - 1), 3, 5, "n" * MAX_SHOWN)
    assert rows([finding]) == [finding.to_json()]


def test_a_string_one_character_over_the_shown_length_is_cut_with_its_length():
    finding = Finding("G001", Severity.ERROR, "m" * (MAX_SHOWN + 1), "net.yaml", 3, 5, "n" * MAX_SHOWN)
    (row,) = rows([finding])
    assert row["message"] == "m" * MAX_SHOWN + f"… ({MAX_SHOWN + 1:,} characters in all)"
    assert row["layer"] == "n" * MAX_SHOWN and row["path"] == "net.yaml"


def test_an_undecodable_file_name_is_escaped_in_every_row():
    clean = Finding("Y006", Severity.ERROR, "short", "net.yaml", 1, 1)
    long_clean = Finding("Y006", Severity.ERROR, "m" * (MAX_SHOWN + 5), "net.yaml", 2, 1)
    long_undecodable = Finding("Y006", Severity.ERROR, "m" * MAX_SHOWN, f"bad{UNDECODABLE}.yaml", 3, 1)
    assert [row["path"] for row in rows([clean, long_clean, long_undecodable])] == ["net.yaml", "net.yaml",
                                                                                     "bad\\xff.yaml"]
