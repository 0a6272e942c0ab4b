"""Nothing passes silently: a typo at the top level, a named file that is no spec, skipped files."""
from __future__ import annotations

from convlint.cli.main import main


def lint(capsys, *args) -> tuple[int, str]:
    code = main(["lint", "--format", "concise", *map(str, args)])
    return code, capsys.readouterr().out


def test_layers_misspelled_is_a_finding_with_did_you_mean(write_spec, capsys):
    path = write_spec("inputs: {x: [1, 3, 8, 8]}\nlayer:\n  - {type: ReLU}\n")
    code, out = lint(capsys, path)
    assert code == 1
    assert out.startswith(f"{path}:1:1: Y002 not a spec: it has no top-level `layers` key; `layer` is there "
                          f"(did you mean `layers`?)")


def test_unknown_top_level_keys_are_findings(write_spec, capsys):
    path = write_spec("nmae: x\ninputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {name: r, type: ReLU}\n"
                      "ouputs: [r]\nbudgte: {params: 3}\n")
    code, out = lint(capsys, path)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{path}:1:1: Y002 unknown top-level key `nmae` (did you mean `name`?)")
    assert lines[1].startswith(f"{path}:5:1: Y002 unknown top-level key `ouputs` (did you mean `outputs`?)")
    assert lines[2].startswith(f"{path}:6:1: Y002 unknown top-level key `budgte` (did you mean `budget`?)")


def test_named_yaml_that_is_no_spec_says_why(write_spec, capsys):
    path = write_spec("key: value\nlist: [1, 2]\n", "config.yaml")
    code, out = lint(capsys, path)
    assert code == 1
    assert out.startswith(f"{path}:1:1: Y002 not a spec: it has no top-level `layers` key (it has `key`, `list`)")


def test_directory_tally_counts_skipped_files(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("key: value\n")
    (tmp_path / "b.yml").write_text("- 1\n")
    (tmp_path / "net.yaml").write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU}\n")
    code, out = lint(capsys, tmp_path)
    assert code == 0
    assert out == ("All checks passed (1 spec checked).\n"
                   "Skipped 2 YAML files that are not a spec (no top-level `layers`).\n")


def test_skip_non_specs_still_reports_a_broken_spec(tmp_path, capsys):
    """pre-commit names every YAML file: other YAML is skipped, a spec with `layer:` is not."""
    (tmp_path / "workflow.yaml").write_text("on: [push]\njobs: {}\n")
    broken = tmp_path / "net.yaml"
    broken.write_text("inputs: {x: [1, 3, 8, 8]}\nlayer:\n  - {type: ReLU}\n")
    code, out = lint(capsys, "--skip-non-specs", tmp_path / "workflow.yaml", broken)
    assert code == 1
    assert out.startswith(f"{broken}:1:1: Y002 not a spec: it has no top-level `layers` key; `layer` is there")
    assert "workflow.yaml" not in out.splitlines()[0]
    assert "Skipped 1 YAML file" in out


def test_broken_spec_in_a_directory_is_reported(tmp_path, capsys):
    (tmp_path / "net.yaml").write_text("inputs: {x: [1, 3, 8, 8]}\nlayres:\n  - {type: ReLU}\n")
    code, out = lint(capsys, tmp_path)
    assert code == 1 and "Y002 not a spec: it has no top-level `layers` key; `layres` is there" in out


SEG = """\
inputs:
  image: [N, 3, H, W]
layers:
  - {name: stem, type: Conv2d, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}
  - {name: down, type: MaxPool2d, kernel_size: 2}
  - {name: up, type: ConvTranspose2d, out_channels: 16, kernel_size: 2, stride: 2}
  - {name: cat, type: Concat, from: [up, stem]}
"""


def test_named_sizes_valid_only_sometimes_is_one_info_line(write_spec, capsys):
    path = write_spec(SEG)
    code, out = lint(capsys, path)
    assert code == 0
    assert out.splitlines() == [
        f"{path}:2:3: S018 valid only when H ≡ 0 or 3 (mod 4) and W ≡ 0 or 3 (mod 4); other sizes fail: "
        f"`convlint sizes` lists the valid sizes and explains the others",
        "Found 1 problem (1 info) in 1 of 1 spec."]


def test_named_sizes_valid_at_every_size_pass_quietly(write_spec, capsys):
    path = write_spec("inputs:\n  image: [N, 3, H, W]\nlayers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}\n")
    assert lint(capsys, path) == (0, "All checks passed (1 spec checked).\n")
