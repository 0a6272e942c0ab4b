"""Every rule has complete documentation and a fixture spec that triggers it.

Each fixture in tests/fixtures/rules/ is named after its rule code and declares, in comments
written by hand, the findings it must produce: ``# expect: CODE line N layer NAME`` (``layer -``
for a finding without a layer).  The fixture is linted with every rule enabled (including those
off by default), and its findings must be exactly the declared ones.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import convlint
from convlint.linting.config import Config
from convlint.linting.runner import lint_paths as run_lint
from convlint.layers.registry import load_registry
from convlint.report.rule_docs import missing_sections

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rules"
EXPECT = re.compile(r"^# expect: (?P<code>[A-Z]+[0-9]+) line (?P<line>\d+) layer (?P<layer>\S+)$", re.MULTILINE)
NO_FIXTURE = {"X002": "an internal error has no known trigger; each one is a bug to fix"}


class Exploding(convlint.LayerType):
    """A layer type whose shape function fails, as a buggy third-party plugin's would."""

    name = "Exploding"

    def infer(self, ctx):
        raise ZeroDivisionError("division by zero")


class ExplodingPlugin:
    @convlint.hookimpl
    def register_layer_types(self, register):
        register(Exploding())


def fixture_registry():
    return load_registry(only_distribution="convlint", extra=[("exploding", ExplodingPlugin())])


REGISTRY = fixture_registry()
ALL_CODES = sorted(REGISTRY.rules)


def expectations(path: Path) -> set[tuple[str, int, str | None]]:
    found = {(m["code"], int(m["line"]), None if m["layer"] == "-" else m["layer"])
             for m in EXPECT.finditer(path.read_text(encoding="utf-8"))}
    assert found, f"{path.name} declares no `# expect:` line"
    return found


def test_every_rule_has_a_complete_doc():
    incomplete = {code: missing_sections(rule) for code, rule in REGISTRY.rules.items() if missing_sections(rule)}
    assert incomplete == {}


def test_every_rule_has_a_fixture():
    missing = [code for code in ALL_CODES if code not in NO_FIXTURE and not (FIXTURES / f"{code}.yaml").is_file()]
    assert missing == []


def test_every_fixture_is_named_after_a_rule():
    assert sorted(p.stem for p in FIXTURES.glob("*.yaml") if p.stem not in REGISTRY.rules) == []


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixture_gives_exactly_its_declared_findings(path):
    report = run_lint([path], REGISTRY, Config(select=ALL_CODES))
    found = {(f.code, f.line, f.layer) for f in report.findings}
    assert found == expectations(path)
    assert {f.path for f in report.findings} == {str(path)}
    assert path.stem in {code for code, _, _ in found}
