"""Examples the fuzzer found, kept as tests: each once took far more work than its size allows."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz  # noqa: E402

HUGE_TRANSPOSED_KERNEL = b"""\
{inputs: {relu_1: [1, 3, 11, W]}, layers: [{kernel_size: [4, 2147483647], name: conv,
      out_channels: 2, stride: [3, 2], type: ConvTranspose2d}, {kernel_size: 4, name: pool, stride: 4,
      type: AvgPool2d}, {in_features: 1000033, name: x, out_features: 2, type: Linear}]}
"""
"""The receptive field of the transposed layer once visited each of its 2**31 − 1 taps."""

LONG_PERIOD = b"""\
{inputs: {relu_1: [1, 3, 43, W]}, layers: [{in_features: 33300, name: relu_1, out_features: 2,
      type: Linear}, {kernel_size: 3, name: c, out_channels: 3, stride: 33300, type: Conv2d},
    {kernel_size: 3, name: a, out_channels: 4, stride: 1, type: ConvTranspose2d},
    {from: a, kernel_size: [2147483647, 2147483647], name: a, out_channels: 3, stride: 33300,
      type: Conv2d}]}
"""
"""A stride of 33,300 on a named size: the size problem was solved four times per lint and summary."""


def test_a_huge_transposed_kernel_is_bounded(tmp_path):
    fuzz.check_lint(HUGE_TRANSPOSED_KERNEL, tmp_path, fuzz.SUITE_MAX_SECONDS)


def test_a_long_size_period_is_solved_once(tmp_path, monkeypatch):
    """Lint and summary together check layers no more often than one size problem's budget allows
    (they checked 48,000 before: the problem was solved for the lint, for its reference sizes, and
    both again for the summary)."""
    from convlint.analysis.infer import LayerChecker
    from convlint.sizes.solver import MAX_CHECKS

    checks = []
    check = LayerChecker.__call__
    monkeypatch.setattr(LayerChecker, "__call__", lambda self, *args: checks.append(1) or check(self, *args))
    fuzz.check_lint(LONG_PERIOD, tmp_path, fuzz.SUITE_MAX_SECONDS)
    assert 0 < len(checks) <= MAX_CHECKS


@settings(max_examples=300, deadline=None)
@given(kernel=st.integers(1, 12), stride=st.integers(1, 8), padding=st.integers(0, 6), dilation=st.integers(1, 6),
       position=st.integers(-10, 60))
def test_transposed_input_spans_match_every_tap(kernel, stride, padding, dilation, position):
    """The first and last input an output reads, against a walk over every tap (``o = i·s − p + t·d``)."""
    layer_type = fuzz.REGISTRY.types["ConvTranspose1d"]
    ctx = SimpleNamespace(args={"kernel_size": (kernel,), "stride": (stride,), "padding": (padding,),
                                "dilation": (dilation,)})
    read = [(position + padding - tap * dilation) // stride for tap in range(kernel)
            if (position + padding - tap * dilation) % stride == 0]
    assert layer_type.input_spans(ctx, 0, position) == [(min(read), max(read)) if read else None]


def test_a_spec_that_fails_at_every_size_searches_few_sizes(tmp_path, monkeypatch):
    """A misspelled block parameter leaves a depthwise conv whose groups never divide its channels (S006
    at every size); looking for the nearest valid input sizes linted 500 combinations of H and W of
    this 200-layer network, 100,000 layer inferences (over 3 s).  The search is bounded by layer
    checks: well within the 2 s a spec may take."""
    import convlint.analysis.infer as infer

    root = Path(__file__).resolve().parent.parent
    text = (root / "specs" / "shufflenet_v2_x1_0.yaml").read_text()
    mutated = text.replace("stage3.0, type: DownUnit, inp: 116", "stage3.0, type: DownUnit, hnp: 116")
    assert mutated != text
    inferences = []
    infer_layer = infer._infer_layer
    monkeypatch.setattr(infer, "_infer_layer", lambda *args: inferences.append(1) or infer_layer(*args))
    fuzz.check_lint(mutated.encode(), tmp_path, fuzz.SUITE_MAX_SECONDS)
    assert 0 < len(inferences) <= 40_000
