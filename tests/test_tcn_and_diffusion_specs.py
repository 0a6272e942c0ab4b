"""specs/tcn.yaml and specs/diffusion_unet.yaml against PyTorch modules written here as their papers'
code writes them (Chomp1d as in Bai et al.'s TemporalConvNet), with the same module paths: the
state_dict loads into the spec with no renaming, and the executor computes the module's output."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import convlint
from convlint.execute.executor import execute
from tests.conftest import SPECS


class Chomp1d(nn.Module):
    def __init__(self, chomp_size: int):
        super().__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, :-self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int, kernel: int, dilation: int):
        super().__init__()
        pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(n_in, n_out, kernel, padding=pad, dilation=dilation)
        self.chomp1, self.relu1, self.dropout1 = Chomp1d(pad), nn.ReLU(), nn.Dropout(0.2)
        self.conv2 = nn.Conv1d(n_out, n_out, kernel, padding=pad, dilation=dilation)
        self.chomp2, self.relu2, self.dropout2 = Chomp1d(pad), nn.ReLU(), nn.Dropout(0.2)
        self.downsample = nn.Conv1d(n_in, n_out, 1) if n_in != n_out else None
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.dropout1(self.relu1(self.chomp1(self.conv1(x))))
        out = self.dropout2(self.relu2(self.chomp2(self.conv2(out))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TemporalConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.network = nn.Sequential(*(TemporalBlock(8 if i == 0 else 32, 32, 3, 2 ** i) for i in range(4)))
        self.head = nn.Conv1d(32, 4, 1)

    def forward(self, x):
        return self.head(self.network(x))


class ResBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.norm1, self.act1 = nn.GroupNorm(32, n_in), nn.SiLU()
        self.conv1 = nn.Conv2d(n_in, n_out, 3, padding=1)
        self.norm2, self.act2, self.dropout = nn.GroupNorm(32, n_out), nn.SiLU(), nn.Dropout(0.1)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1)
        self.skip = nn.Conv2d(n_in, n_out, 1) if n_in != n_out else None

    def forward(self, x):
        h = self.conv1(self.act1(self.norm1(x)))
        h = self.conv2(self.dropout(self.act2(self.norm2(h))))
        return (x if self.skip is None else self.skip(x)) + h


class Up(nn.Module):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(n_in, n_out, 3, padding=1)

    def forward(self, x):
        return self.conv(self.upsample(x))


class DiffusionUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(3, 64, 3, padding=1)
        self.down = nn.ModuleList([
            nn.ModuleDict({"block": ResBlock(64, 64), "downsample": nn.Conv2d(64, 64, 3, 2, 1)}),
            nn.ModuleDict({"block": ResBlock(64, 128), "downsample": nn.Conv2d(128, 128, 3, 2, 1)}),
        ])
        self.mid = nn.ModuleDict({"block1": ResBlock(128, 128), "block2": ResBlock(128, 128)})
        self.up = nn.ModuleList([
            nn.ModuleDict({"upsample": Up(64, 64), "block": ResBlock(128, 64)}),
            nn.ModuleDict({"upsample": Up(128, 128), "block": ResBlock(256, 64)}),
        ])
        self.norm_out, self.act_out = nn.GroupNorm(32, 64), nn.SiLU()
        self.conv_out = nn.Conv2d(64, 3, 3, padding=1)

    def forward(self, x):
        skips = []
        x = self.conv_in(x)
        for level in self.down:
            x = level["block"](x)
            skips.append(x)
            x = level["downsample"](x)
        x = self.mid["block2"](self.mid["block1"](x))
        for level in reversed(self.up):
            x = level["block"](torch.cat([level["upsample"](x), skips.pop()], dim=1))
        return self.conv_out(self.act_out(self.norm_out(x)))


def randomised(module: nn.Module) -> nn.Module:
    """``module`` in eval mode, float64, with random GroupNorm weights and biases (not 1 and 0)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for child in module.modules():
            if isinstance(child, nn.GroupNorm):
                child.weight.uniform_(0.5, 1.5)
                child.bias.uniform_(-0.5, 0.5)
    return module.double().eval()


CASES = {"tcn": (TemporalConvNet, "sequence", (2, 8, 100)), "diffusion_unet": (DiffusionUNet, "image", (1, 3, 32, 32))}


@pytest.mark.parametrize("name", CASES)
def test_state_dict_total_and_output_equal_pytorchs(name, registry):
    build, input_name, shape = CASES[name]
    model = randomised(build())
    spec = convlint.load(SPECS / f"{name}.yaml").with_input_shapes({input_name: shape})
    analysis = convlint.analyze(spec, registry)
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    weights = {key: value.numpy() for key, value in model.state_dict().items()}
    result = execute(analysis, registry, {input_name: x.numpy()}, weights, dtype="float64")
    assert result.initialised == []
    with torch.no_grad():
        expected = model(x).numpy()
    (output,) = result.outputs.values()
    np.testing.assert_allclose(output, expected, rtol=1e-6, atol=1e-8)


def test_tcn_is_causal(registry):
    """Changing input step t changes no output before t, and does change output t."""
    spec = convlint.load(SPECS / "tcn.yaml")
    analysis = convlint.analyze(spec, registry)
    x = np.random.default_rng(0).standard_normal((1, 8, 256))
    changed = x.copy()
    changed[:, :, 200] += 1.0
    before, after = (execute(analysis, registry, {"sequence": value}, dtype="float64").outputs["head"]
                     for value in (x, changed))
    np.testing.assert_array_equal(before[:, :, :200], after[:, :, :200])
    assert not np.allclose(before[:, :, 200], after[:, :, 200])
