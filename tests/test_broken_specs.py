"""Deliberately broken specs: each expected finding by file, line, layer and code.

The expectations below are written by hand from the fixture files in tests/fixtures/broken/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from convlint.linting.runner import lint_file

BROKEN = Path(__file__).parent / "fixtures" / "broken"

EXPECTED = {
    "unet_odd_input.yaml": [(12, "down3", "S001"), (15, "cat3", "S009")],
    "resnet_missing_downsample.yaml": [(12, "add", "S010")],
    "vgg_wrong_in_features.yaml": [(8, "bn", "S008"), (11, "fc6", "S008")],
    "structure.yaml": [
        (5, "c1", "Y007"), (6, "c2", "Y006"), (7, "c3", "Y004"), (8, "c2", "G003"), (9, "c4", "G001"),
        (10, "c5", "Y005"), (11, "c6", "Y008"), (12, "c7", "Y003"), (13, "c8", "G004"),
    ],
    "cycle.yaml": [(6, "b", "G002")],
    "bad_windows.yaml": [
        (6, "tiny", "S002"), (7, "wide", "S003"), (8, "overpad", "S004"), (9, "samestride", "S005"),
        (10, "grouped", "S006"), (11, "up", "S007"), (12, "rank", "S011"), (13, "resize", "S012"),
        (14, "lossy", "S001"),
    ],
    "malformed.yaml": [(6, None, "Y001")],
    "top_level.yaml": [(2, None, "Y002")],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_spec_findings(registry, name):
    result = lint_file(BROKEN / name, registry)
    found = [(finding.line, finding.layer, finding.code) for finding in result.findings]
    assert found == EXPECTED[name]
    assert all(finding.path == str(BROKEN / name) for finding in result.findings)


def test_every_broken_fixture_has_expectations():
    assert sorted(path.name for path in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


def test_messages_show_the_arithmetic_and_the_fix(registry):
    findings = lint_file(BROKEN / "unet_odd_input.yaml", registry).findings
    dropped = findings[0].message
    assert "H_out = (25 + 2·0 − 2)/2 + 1 = 12.5, floored to 12" in dropped
    assert "row 25 of 25 is never read" in dropped
    assert "layer input of 24 or 26" in dropped
    concat = findings[1].message
    assert "`up3` gives 1×32×24×24" in concat and "`enc3` gives 1×32×25×25" in concat


def test_suggestions_name_the_closest_known_name(registry):
    messages = [f.message for f in lint_file(BROKEN / "structure.yaml", registry).findings]
    assert any("did you mean `Conv2d`?" in m for m in messages)
    assert any("did you mean `stride`?" in m for m in messages)
    assert any("did you mean `image`?" in m for m in messages)
