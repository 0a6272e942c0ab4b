"""`convlint lint --format concise|full|json|github|sarif`, and the default per stdout."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from convlint.cli import lint as lint_command
from convlint.cli import main as cli
from convlint.findings import Finding, Severity
from convlint.report.github import github

jsonschema = pytest.importorskip("jsonschema")

HERE = Path(__file__).resolve().parent
S001 = HERE / "fixtures" / "rules" / "S001.yaml"
Y006 = HERE / "fixtures" / "rules" / "Y006.yaml"
SARIF_SCHEMA = HERE / "data" / "sarif-schema-2.1.0.json"


def lint(capsys, *args) -> tuple[int, str]:
    code = cli.main(["lint", *map(str, args)])
    return code, capsys.readouterr().out


def source_line(path: Path, number: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[number - 1]


def test_concise(capsys):
    column = source_line(S001, 6).index("stride: 2") + 1
    code, out = lint(capsys, "--format", "concise", S001)
    first, tally = out.splitlines()
    assert code == 1
    assert first.startswith(f"{S001}:6:{column}: S001 H_out = (5 + 2·0 − 2)/2 + 1 = 2.5, floored to 2")
    assert first.endswith(" [c1] (fix: set kernel_size: 3 on `c1` (output stays 2×2))")
    assert tally == "Found 1 problem (1 warning) in 1 of 1 spec."


def test_full_shows_the_source_with_a_caret_under_the_key(capsys):
    code, out = lint(capsys, "--format", "full", Y006)
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == f"{Y006}:10:5: Y006 Unknown keyword argument [c1]"
    shown = [line for line in lines if line[:2].strip().isdigit()]
    # the layer from its first line (6) to the offending key (10), with one line of context before
    assert [int(line.split("|")[0]) for line in shown] == [5, 6, 7, 8, 9, 10]
    key_line = shown[-1]
    caret_line = lines[lines.index(key_line) + 1]
    start = key_line.index("strides")
    assert caret_line[start:].split() == ["^" * len("strides"), "Y006"]
    assert caret_line[:start].strip() == "|"
    assert any(line.strip() == "= error: Conv2d has no keyword `strides` (did you mean `stride`?)" for line in lines)
    assert any(line.strip().startswith("= help: ") for line in lines)


def test_full_separates_the_arithmetic_from_the_suggested_change(capsys):
    _, out = lint(capsys, "--format", "full", S001)
    notes = [line.strip() for line in out.splitlines() if line.strip().startswith("= ")]
    assert notes[0].startswith("= warning: H_out = (5 + 2·0 − 2)/2 + 1 = 2.5, floored to 2: input row 5 of 5")
    assert notes[1] == "= help: set kernel_size: 3 on `c1` (output stays 2×2)"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_default_format_is_full_on_a_terminal_and_concise_otherwise():
    args = cli.build_parser().parse_args(["lint", str(S001)])
    terminal, pipe = Terminal(), io.StringIO()
    lint_command.run(args, terminal)
    lint_command.run(args, pipe)
    assert "^^^^^^ S001" in terminal.getvalue()
    assert pipe.getvalue().count("\n") == 2 and "^" not in pipe.getvalue()


def test_json_contract(capsys):
    code, out = lint(capsys, "--format", "json", S001)
    data = json.loads(out)
    assert code == 1
    assert [list(item) for item in data] == [["path", "line", "column", "code", "severity", "layer", "message", "fix"]]
    assert data[0]["fix"] == {"layer": "c1", "set": {"kernel_size": 3}, "outcome": "output stays 2×2",
                              "description": "set kernel_size: 3 on `c1` (output stays 2×2)"}
    assert {k: data[0][k] for k in ("path", "line", "code", "severity", "layer")} == {
        "path": str(S001), "line": 6, "code": "S001", "severity": "warning", "layer": "c1"}


def test_github_annotations(capsys):
    column = source_line(S001, 6).index("stride: 2") + 1
    _, out = lint(capsys, "--format", "github", S001, Y006)
    lines = out.splitlines()
    assert lines[0].startswith(f"::warning file={S001},line=6,col={column},title=S001::S001 H_out = ")
    assert lines[1].startswith(f"::error file={Y006},line=10,col=5,title=Y006::Y006 Conv2d has no keyword `strides`")
    assert len(lines) == 2


def test_github_escapes_and_maps_severities():
    finding = Finding("S013", Severity.INFO, "50% lost\nsecond line", "dir,a:b.yaml", 3, 7, None)
    assert github([finding]) == "::notice file=dir%2Ca%3Ab.yaml,line=3,col=7,title=S013::S013 50%25 lost%0Asecond line\n"


def test_sarif_validates_against_the_sarif_2_1_0_schema(capsys, tmp_path):
    unreadable = tmp_path / "binary.yaml"
    unreadable.write_bytes(b"layers:\x00\xff")
    code, out = lint(capsys, "--format", "sarif", S001, Y006, unreadable)
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    assert code == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {rule["id"]: rule for rule in rules}
    assert {"S001", "Y006", "Y001", "S013", "N001", "B001"} <= set(by_id)
    assert by_id["S001"]["shortDescription"]["text"] == "Input silently dropped"
    assert by_id["S001"]["fullDescription"]["text"].startswith("reports a window layer whose output size")
    assert "Fix: change the padding or kernel" in by_id["S001"]["help"]["text"]
    results = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
               for r in run["results"]]
    assert results == [("S001", "warning", 6), ("Y006", "error", 10), ("Y001", "error", 1)]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "tests/fixtures/rules/S001.yaml")


def test_sarif_of_a_clean_run_is_valid_and_empty(capsys):
    code, out = lint(capsys, "--format", "sarif", HERE.parent / "specs" / "lenet5.yaml")
    log = json.loads(out)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(log)
    assert (code, log["runs"][0]["results"]) == (0, [])


def test_the_schema_itself_rejects_a_broken_log():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                            "results": [{"ruleId": "S001", "message": {"text": "m"}, "level": "fatal"}]}]}
    assert not jsonschema.Draft4Validator(schema).is_valid(broken)
