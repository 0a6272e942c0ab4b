"""Budgets: a spec or the configuration caps the parameter count (B001); `macs` is checked
when the analysis counts MACs and skipped with a note otherwise."""
from __future__ import annotations

from pathlib import Path

import pytest

from convlint.linting.budget import check_budget
from convlint.cli.main import main
from convlint.analysis.infer import analyze
from convlint.linting.runner import load_file
from convlint.layers.registry import load_registry

SPECS = Path(__file__).resolve().parent.parent / "specs"
LENET_PARAMS = 61_706  # LeNet-5 as in specs/lenet5.yaml; equals PyTorch's count (test_torch_reference)
REGISTRY = load_registry(only_distribution="convlint")


def lenet_with(tmp_path: Path, budget_line: str) -> Path:
    text = (SPECS / "lenet5.yaml").read_text(encoding="utf-8")
    path = tmp_path / "lenet5.yaml"
    path.write_text(text.replace("name: lenet5\n", f"name: lenet5\n{budget_line}\n"), encoding="utf-8")
    return path


def lint(capsys, *args):
    code = main(["lint", "--format", "concise", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("limit, expected", [(LENET_PARAMS, 0), (LENET_PARAMS - 1, 1)])
def test_spec_budget_at_and_below_the_parameter_count(tmp_path, capsys, limit, expected):
    path = lenet_with(tmp_path, f"budget: {{params: {limit}}}")
    code, out, _ = lint(capsys, path)
    assert code == expected
    if expected:
        line = path.read_text().splitlines().index(f"budget: {{params: {limit}}}") + 1
        assert out.startswith(f"{path}:{line}:1: B001 61,706 parameters, over the spec's budget of 61,705 by 1")


def test_configured_budget_applies_to_every_spec(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.convlint.budget]\nparams = 60000\n")
    path = lenet_with(tmp_path, "")
    code, out, _ = lint(capsys, path)
    assert code == 1 and f"{path}:1:1: B001 61,706 parameters, over the configured budget of 60,000" in out


def test_spec_budget_wins_over_the_configured_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.convlint.budget]\nparams = 60000\n")
    assert lint(capsys, lenet_with(tmp_path, "budget: {params: 70000}"))[0] == 0


def test_macs_are_skipped_with_a_note_when_not_counted(tmp_path, capsys):
    code, out, err = lint(capsys, lenet_with(tmp_path, "budget: {params: 70000, macs: 1}"))
    assert code == 0
    assert "note:" in err and "budget.macs is not checked" in err


def test_macs_are_checked_when_the_analysis_counts_them(tmp_path):
    spec = load_file(lenet_with(tmp_path, "budget: {macs: 1000}")).spec
    analysis = analyze(spec, REGISTRY)
    analysis.total_macs = 416_520  # stands in for a MAC-counting analysis
    check = check_budget(spec, analysis, {}, REGISTRY.rules)
    assert [(f.code, f.message) for f in check.findings] == [
        ("B001", "416,520 MACs, over the spec's budget of 1,000 by 415,520 (41552.0%)")]
    assert check.notes == []


@pytest.mark.parametrize("budget", ["budget: 5", "budget: {params: 1.5e6}", "budget: {flops: 10}",
                                    "budget: {params: -3}"])
def test_malformed_spec_budget_is_y002(tmp_path, capsys, budget):
    code, out, _ = lint(capsys, lenet_with(tmp_path, budget))
    assert code == 1 and ": Y002 `budget` must map `params` and/or `macs`" in out
