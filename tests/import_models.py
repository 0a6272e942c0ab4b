"""Small models for the import examples of docs/import.md, and the ONNX file made from one of them.

``tests/data/tiny_net.onnx`` is :func:`tiny_net` exported by :func:`write_tiny_onnx` (with dynamic H and W);
tests/test_import_examples.py checks that the file imports as a fresh export does.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

TINY_ONNX = Path(__file__).resolve().parent / "data" / "tiny_net.onnx"


class Block(nn.Module):
    """A residual block of two 3×3 convolutions."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(y)))


class TinyNet(nn.Module):
    """A stem with an unpadded stride-2 convolution (it drops a row and a column of even sizes), two
    residual blocks, and a classifier."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(Block(16), Block(16))
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(16, classes)

    def forward(self, x):
        x = self.pool(self.blocks(self.stem(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.head(x)


def tiny_net() -> TinyNet:
    """The model, with PyTorch's default initialisation (seeded)."""
    torch.manual_seed(0)
    return TinyNet().eval()


def write_tiny_onnx(path: Path) -> Path:
    """Export :func:`tiny_net` to ``path`` with dynamic H and W (see tests/onnx_export.py)."""
    from onnx_export import export
    return export(tiny_net(), torch.randn(1, 3, 64, 64), path, dynamic=True)


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    write_tiny_onnx(TINY_ONNX)
