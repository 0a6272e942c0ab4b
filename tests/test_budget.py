"""Budgets: a spec or the configuration caps the parameter and MAC counts (B001)."""
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


# LeNet-5 MACs by hand (32×32 input, bias not counted): c1 6·28·28·25 = 117,600; c3 16·10·10·150 = 240,000;
# f5 400·120 = 48,000; f6 120·84 = 10,080; out 84·10 = 840.
LENET_MACS = 117_600 + 240_000 + 48_000 + 10_080 + 840


def test_macs_budget_is_checked(tmp_path, capsys):
    path = lenet_with(tmp_path, "budget: {params: 70000, macs: 1000}")
    code, out, err = lint(capsys, path)
    assert code == 1 and "note:" not in err
    assert f"B001 {LENET_MACS:,} MACs, over the spec's budget of 1,000 by {LENET_MACS - 1000:,}" in out


def test_macs_budget_at_the_count_passes(tmp_path, capsys):
    assert lint(capsys, lenet_with(tmp_path, f"budget: {{macs: {LENET_MACS}}}"))[0] == 0


def test_macs_are_checked_by_check_budget(tmp_path):
    spec = load_file(lenet_with(tmp_path, "budget: {macs: 1000}")).spec
    check = check_budget(spec, analyze(spec, REGISTRY), {}, REGISTRY.rules)
    assert [(f.code, f.message) for f in check.findings] == [
        ("B001", "416,520 MACs, over the spec's budget of 1,000 by 415,520 (41552.0%)")]
    assert check.notes == []


def test_budget_of_a_named_size_spec_is_checked_at_stated_sizes(tmp_path, capsys):
    text = (SPECS / "lenet5.yaml").read_text(encoding="utf-8").replace("[1, 1, 32, 32]", "[N, 1, 32, 32]")
    assert "[N, 1, 32, 32]" in text
    path = tmp_path / "lenet_n.yaml"
    path.write_text(text.replace("name: lenet5\n", "name: lenet5\nbudget: {macs: 1000}\n"), encoding="utf-8")
    code, out, _ = lint(capsys, path)
    assert code == 1 and f"B001 {LENET_MACS:,} MACs at N = 1, over the spec's budget of 1,000" in out


@pytest.mark.parametrize("budget", ["budget: 5", "budget: {params: 1.5e6}", "budget: {flops: 10}",
                                    "budget: {params: -3}"])
def test_malformed_spec_budget_is_y002(tmp_path, capsys, budget):
    code, out, _ = lint(capsys, lenet_with(tmp_path, budget))
    assert code == 1 and ": Y002 `budget` must map `params` and/or `macs`" in out
