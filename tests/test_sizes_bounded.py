"""The size solver's work is bounded: hostile named-size specs end, within 2 s of CPU and 200 MB, in a finding.

The solver checks the period and the threshold of every layer against its budget
before it tries any size, and counts the layer checks it runs; `sizes --try`
finds the nearest valid sizes by residue, never one value at a time.  Each spec
runs in a child process, as in tests/test_hostile.py, so that its CPU time and
peak memory are its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from test_hostile import MAX_PEAK_MB, PEAK_KB, cpu_limit, lint_in_child

SIZES_CHILD = PEAK_KB + (
    "import resource, sys\n"
    "from convlint.cli.main import main\n"
    "code = main(['sizes', *sys.argv[1:]])\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "sys.stderr.write(f'USAGE {usage.ru_utime + usage.ru_stime} {peak_kb()}\\n')\n"
    "sys.exit(code)\n"
)


def sizes_in_child(*arguments: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `convlint sizes ARGUMENTS`, after asserting the CPU and memory bounds."""
    done = subprocess.run([sys.executable, "-c", SIZES_CHILD, *arguments], capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    errors, usage = done.stderr.rsplit("USAGE ", 1)
    cpu_seconds, peak_kb = usage.split()[:2]
    assert float(cpu_seconds) <= cpu_limit(), f"{arguments}: {float(cpu_seconds):.2f} s"
    assert int(peak_kb) / 1024 <= MAX_PEAK_MB, f"{arguments}: {int(peak_kb) / 1024:.0f} MB"
    return done.returncode, done.stdout, errors


def lint_bounded(tmp_path: Path, text: str) -> list[dict]:
    """The findings of `convlint lint` on ``text``, after asserting the CPU and memory bounds."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    assert seconds <= cpu_limit(), f"{seconds:.2f} s"
    assert peak_mb <= MAX_PEAK_MB, f"{peak_mb:.0f} MB"
    assert rc == (1 if any(finding["severity"] != "info" for finding in findings) else 0)
    return findings


# Each spec made the solver loop over a period or a threshold before it looked at its budget.
UNBOUNDED = {
    "pool kernel 2**40": ("inputs: {x: [N, 1, H, W]}\nlayers:\n"
                          "  - {name: pool, type: MaxPool2d, kernel_size: [1099511627776, 1]}\n", "pool"),
    "coprime strides": ("inputs: {x: [1, 3, H, W]}\nlayers:\n"
                        "  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 1, stride: 1000003}\n"
                        "  - {name: b, type: Conv2d, from: x, out_channels: 4, kernel_size: 1, stride: 1000033}\n"
                        "  - {name: sum, type: Add, from: [a, b]}\n", "a"),
    "stride 33300": ("inputs: {x: [1, 3, H, W]}\nlayers:\n"
                     "  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 1, stride: 33300}\n", "a"),
    "in_features 2**62": ("inputs: {x: [1, 1, H, W]}\nlayers:\n  - {name: flat, type: Flatten}\n"
                          "  - {name: head, type: Linear, in_features: 4611686018427387904, out_features: 2}\n",
                          "head"),
}


@pytest.mark.parametrize("text, layer", UNBOUNDED.values(), ids=list(UNBOUNDED))
def test_solver_budget_ends_in_s016(tmp_path, text, layer):
    """Too much work for the exact solver: one S016 at the layer that needs it, quickly."""
    [finding] = lint_bounded(tmp_path, text)
    assert finding["code"] == "S016" and finding["layer"] == layer, finding
    assert "not checked" in finding["message"]


def test_numeric_spec_hint_is_bounded(tmp_path):
    """A declared size that fails gets its finding at once; the nearest-size hint gives up within its budget."""
    findings = lint_bounded(tmp_path, "inputs: {x: [1, 1, 1099511627777, 4]}\nlayers:\n"
                                      "  - {name: pool, type: MaxPool2d, kernel_size: [1099511627776, 1], "
                                      "stride: [2, 1]}\n")
    assert [f["code"] for f in findings] == ["S001"]
    assert "nearest valid" not in findings[0]["message"]


def test_ten_named_inputs(tmp_path):
    """Twenty names, ten strides 2..11 meeting in one Concat (period lcm(2..11) = 27720): solved, and valid."""
    lines = ["inputs:"] + [f"  in{i}: [N{i}, 3, H{i}, W{i}]" for i in range(10)] + ["layers:"]
    lines += [f"  - {{name: c{i}, type: Conv2d, from: in{i}, out_channels: 4, kernel_size: 3, stride: {i + 2}}}"
              for i in range(10)]
    lines.append(f"  - {{name: cat, type: Concat, from: [{', '.join(f'c{i}' for i in range(10))}]}}")
    assert [finding["code"] for finding in lint_bounded(tmp_path, "\n".join(lines) + "\n")] == ["S018"]


NEVER = ("inputs: {x: [1, 3, S, S]}\nlayers:\n"
         "  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 3}\n"
         "  - {name: b, type: Conv2d, from: x, out_channels: 4, kernel_size: 1}\n"
         "  - {name: cat, type: Concat, from: [a, b]}\n")


def test_try_with_no_valid_size_does_not_scan(tmp_path):
    """No size is valid: the nearest valid size to 10**17 is 'none', found without walking down to 1."""
    spec = tmp_path / "never.yaml"
    spec.write_text(NEVER)
    rc, out, _ = sizes_in_child(str(spec), "--try", "S=100000000000000000")
    assert rc == 1
    assert "S = 100000000000000000: not valid" in out and "nearest valid: none" in out


@pytest.mark.parametrize("item", ["S=²", "S=١٢", "S=" + "9" * 5000, "S=-3", "S=0x10"])
def test_try_with_a_non_ascii_or_huge_number_is_a_usage_error(tmp_path, item):
    spec = tmp_path / "never.yaml"
    spec.write_text(NEVER)
    rc, out, errors = sizes_in_child(str(spec), "--try", item)
    assert rc == 2 and "--try expects NAME=SIZE" in errors and "internal error" not in errors


def test_try_json_reports_no_nearest(tmp_path):
    spec = tmp_path / "never.yaml"
    spec.write_text(NEVER)
    rc, out, _ = sizes_in_child(str(spec), "--format", "json", "--try", "S=123456789012")
    data = json.loads(out)
    assert data["try"]["valid"] is False and data["try"]["nearest"] == {"S": [None, None]}
