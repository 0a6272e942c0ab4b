"""docs/layers.md lists every built-in layer type, and no type that does not exist."""
from __future__ import annotations

import re

from tests.conftest import ROOT


def documented_types() -> set[str]:
    """The type names in the tables of docs/layers.md (`MaxPool1d/2d/3d` stands for three)."""
    text = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    names = set()
    for row in re.findall(r"^\| (`.*?) \|", text, re.MULTILINE):
        for name in re.findall(r"`([A-Z][A-Za-z0-9/]*)`", row):
            stem = re.fullmatch(r"(\w+?)1d/2d/3d", name)
            names |= {f"{stem.group(1)}{n}d" for n in (1, 2, 3)} if stem else {name}
    return names


def test_every_built_in_type_is_documented(registry):
    assert documented_types() == set(registry.types)
