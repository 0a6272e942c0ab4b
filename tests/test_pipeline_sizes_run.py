"""`convlint sizes` and `convlint run` report through the lint pipeline: a finding that `lint` suppresses
(noqa comment, configured `ignore`) is suppressed there too, and a budget applies there too."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import convlint
from convlint.execute.executor import SpecHasErrors
from convlint.linting.config import Config
from tests.test_pipeline import LOSSY, run

INDICES = """\
name: indices
inputs:
  image: [1, 3, 4, 4]
layers:
  - {{name: pool, type: MaxPool2d, kernel_size: 2, return_indices: true}}{comment}
"""

BUDGETED = """\
name: budgeted
budget: {{macs: {macs}}}
inputs:
  image: [1, 3, 8, 8]
layers:
  - {{name: conv, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_noqa_comment_suppresses_the_finding_at_a_tried_size(tmp_path, capsys):
    """Lint passes the 5×5 pool thanks to its comment; so does `sizes --try` at the same size."""
    path = write(tmp_path, "lossy.yaml", LOSSY)
    assert run(capsys, "lint", path)[0] == 0
    code, out, _ = run(capsys, "sizes", path, "--try", "H=5", "--format", "json")
    assert code == 0 and json.loads(out)["try"]["findings"] == []
    bare = write(tmp_path, "bare.yaml", LOSSY.replace("  # convlint: noqa: S001", ""))
    code, out, _ = run(capsys, "sizes", bare, "--try", "H=5", "--format", "json")
    assert code == 1 and [f["code"] for f in json.loads(out)["try"]["findings"]] == ["S001"]


def test_a_configured_ignore_applies_to_sizes(tmp_path, capsys):
    bare = write(tmp_path, "bare.yaml", LOSSY.replace("  # convlint: noqa: S001", ""))
    config = write(tmp_path, "convlint.toml", '[tool.convlint]\nignore = ["S001"]\n')
    code, out, _ = run(capsys, "sizes", bare, "--try", "H=5", "--config", config)
    assert code == 0 and "S001" not in out


def test_a_budget_applies_at_a_tried_size(tmp_path, capsys):
    """4·3·9 MACs per output position: 6,912 at 8×8, 27,648 at 16×16, over a budget of 10,000."""
    path = write(tmp_path, "budgeted.yaml", BUDGETED.format(macs=10_000))
    assert run(capsys, "lint", path)[0] == 0
    code, out, _ = run(capsys, "sizes", path, "--try", "H=16", "--try", "W=16", "--format", "json")
    findings = json.loads(out)["try"]["findings"]
    assert code == 1 and [f["code"] for f in findings] == ["B001"] and "27,648" in findings[0]["message"]


def test_run_honours_a_noqa_comment_on_an_error_that_keeps_the_shapes(tmp_path, capsys, registry):
    """return_indices (S012) is an error lint can be told to accept; the pool still computes its values."""
    refused = write(tmp_path, "refused.yaml", INDICES.format(comment=""))
    code, out, _ = run(capsys, "run", refused, "-o", tmp_path / "refused.npz")
    assert code == 1 and "S012" in out and not (tmp_path / "refused.npz").exists()
    accepted = write(tmp_path, "accepted.yaml", INDICES.format(comment="  # convlint: noqa: S012"))
    assert run(capsys, "lint", accepted)[0] == 0
    code, _, err = run(capsys, "run", accepted, "-o", tmp_path / "out.npz")
    assert code == 0, err
    image = np.random.default_rng(0).standard_normal((1, 3, 4, 4)).astype(np.float32)
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.max_pool2d(torch.from_numpy(image), 2).numpy()
    assert np.allclose(convlint.run(accepted, {"image": image}, registry=registry)["pool"], expected)


def test_run_refuses_a_spec_over_its_budget(tmp_path, capsys, registry):
    path = write(tmp_path, "budgeted.yaml", BUDGETED.format(macs=1_000))
    code, out, err = run(capsys, "run", path, "-o", tmp_path / "out.npz")
    assert code == 1 and "B001" in out and "lint error" in err
    with pytest.raises(SpecHasErrors):
        convlint.run(path, registry=registry, config=Config())
    assert convlint.run(write(tmp_path, "roomy.yaml", BUDGETED.format(macs=10_000)), registry=registry,
                        config=Config())["conv"].shape == (1, 4, 8, 8)


def test_a_suppressed_error_that_leaves_no_shape_still_refuses_the_run(tmp_path, capsys):
    """An S004 pool has no output to compute: the comment silences lint, but run names the error."""
    path = write(tmp_path, "padded.yaml", LOSSY.replace("kernel_size: 2}  # convlint: noqa: S001",
                                                          "kernel_size: 2, padding: 2}  # convlint: noqa: S004"))
    assert run(capsys, "lint", path)[0] == 0
    code, out, _ = run(capsys, "run", path, "-o", tmp_path / "out.npz")
    assert code == 1 and "S004" in out
