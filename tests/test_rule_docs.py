"""The generated rules page (docs/rules.md) and `convlint rule`."""
from __future__ import annotations

from pathlib import Path

from convlint.cli.main import main
from convlint.findings import Severity
from convlint.layers.registry import load_registry
from convlint.report.rule_docs import doc_sections, missing_sections, rules_markdown
from convlint.rules import RULES, Rule

ROOT = Path(__file__).resolve().parent.parent


def test_docs_page_is_current():
    expected = rules_markdown(load_registry(only_distribution="convlint").rules.values())
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == expected, (
        "regenerate it: convlint rule --markdown > docs/rules.md")


def test_markdown_command(capsys):
    assert main(["rule", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# convlint rules\n")
    assert "| [S013](#s013) | Strided layer skips input by design | info | no |" in out
    assert "## S001\n\n**Input silently dropped** (warning)\n\n- **What it does:** reports a window layer" in out


def test_sections_of_a_rule():
    sections = doc_sections(RULES["S005"])
    assert list(sections) == ["What it does", "Why it matters", "Example", "Fix"]
    assert sections["Fix"] == "use an explicit padding (`padding: 1`)."


def test_an_incomplete_doc_is_detected():
    rule = Rule("Z001", "x", Severity.ERROR, what="something.", example=" ", fix="a fix.")
    assert missing_sections(rule) == ["Why it matters", "Example"]


def test_rule_command_prints_one_rule(capsys):
    assert main(["rule", "B001"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("B001: Budget exceeded (error)\nWhat it does:")
