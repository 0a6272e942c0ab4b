"""S001 versus S014, checked against PyTorch: with all-ones weights, an input position is read
exactly when the gradient of the output sum with respect to it is non-zero."""
from __future__ import annotations

import pytest

from convlint.linting.config import Config
from convlint.linting.runner import lint_paths as run_lint
from convlint.layers.registry import load_registry

torch = pytest.importorskip("torch")

REGISTRY = load_registry(only_distribution="convlint")
ENABLED = Config(extend_select=["S013", "S014"])


def unread_by_torch(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many real input positions (along one axis) no window reads."""
    conv = torch.nn.Conv1d(1, 1, kernel, stride=stride, padding=padding, bias=False)
    torch.nn.init.ones_(conv.weight)
    x = torch.ones(1, 1, size, requires_grad=True)
    conv(x).sum().backward()
    return int((x.grad[0, 0] == 0).sum())


def codes_of(tmp_path, size: int, kernel: int, stride: int, padding: int) -> set[str]:
    spec = tmp_path / "net.yaml"
    spec.write_text(f"inputs:\n  x: [1, 1, {size}]\nlayers:\n"
                    f"  - {{name: c, type: Conv1d, out_channels: 1, kernel_size: {kernel}, "
                    f"stride: {stride}, padding: {padding}}}\n", encoding="utf-8")
    return {finding.code for finding in run_lint([spec], REGISTRY, ENABLED).findings}


@pytest.mark.parametrize("size, kernel, stride, padding", [
    (224, 7, 2, 3), (8, 3, 2, 1), (5, 2, 2, 0), (9, 3, 2, 0), (10, 3, 2, 0), (10, 3, 3, 1), (11, 5, 4, 2),
    (7, 3, 2, 1), (16, 4, 4, 0), (13, 3, 3, 0),
])
def test_padding_only_remainder_matches_pytorch(tmp_path, size, kernel, stride, padding):
    found = codes_of(tmp_path, size, kernel, stride, padding)
    numerator = size + 2 * padding - kernel
    lost = unread_by_torch(size, kernel, stride, padding)
    if numerator % stride == 0:
        assert found == set()
    elif lost:
        assert found == {"S001"}
    else:
        assert found == {"S014"}
