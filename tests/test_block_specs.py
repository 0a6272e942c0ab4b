"""The bundled specs written with blocks, checked against PyTorch models written here.

The models follow torchvision's module layout (ResNet-50, MobileNetV2) so that
their ``state_dict`` keys are the names convlint's block expansion must produce.
They are built on the ``meta`` device: shapes and parameter counts, no compute.
MACs are checked against fvcore's formula, computed from each torch module's
weight shape and its hooked output shape.
"""
from __future__ import annotations

import re
from math import prod
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import convlint  # noqa: E402
from convlint import lint  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"


# ---- torchvision-layout models ----------------------------------------------

class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for index, (planes, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
            downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * 4))
            layers = [Bottleneck(inplanes, planes, stride, downsample)]
            layers += [Bottleneck(planes * 4, planes) for _ in range(blocks - 1)]
            setattr(self, f"layer{index + 1}", nn.Sequential(*layers))
            inplanes = planes * 4
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def conv_bn_relu(inp, out, kernel=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6())


class InvertedResidual(nn.Module):
    def __init__(self, inp, out, stride, expand):
        super().__init__()
        hidden = inp * expand
        self.residual = stride == 1 and inp == out
        layers = [conv_bn_relu(inp, hidden, 1)] if expand != 1 else []
        layers += [conv_bn_relu(hidden, hidden, 3, stride, hidden), nn.Conv2d(hidden, out, 1, bias=False),
                   nn.BatchNorm2d(out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]

    def __init__(self):
        super().__init__()
        features, inp = [conv_bn_relu(3, 32, stride=2)], 32
        for expand, channels, count, stride in self.SETTINGS:
            for index in range(count):
                features.append(InvertedResidual(inp, channels, stride if index == 0 else 1, expand))
                inp = channels
        features.append(conv_bn_relu(inp, 1280, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def center_crop(x, like):
    """torchvision.transforms.functional.center_crop's offsets: int(round((h - th) / 2.0))."""
    (h, w), (th, tw) = x.shape[-2:], like.shape[-2:]
    top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
    return x[..., top:top + th, left:left + tw]


class DoubleConv(nn.Sequential):
    def __init__(self, inp, out):
        super().__init__()
        self.conv1, self.relu1 = nn.Conv2d(inp, out, 3), nn.ReLU()
        self.conv2, self.relu2 = nn.Conv2d(out, out, 3), nn.ReLU()


class Down(nn.Sequential):
    def __init__(self, inp, out):
        super().__init__()
        self.pool, self.conv = nn.MaxPool2d(2), DoubleConv(inp, out)


class Up(nn.Module):
    def __init__(self, inp, out):
        super().__init__()
        self.up = nn.ConvTranspose2d(inp, out, 2, 2)
        self.conv = DoubleConv(2 * out, out)

    def forward(self, x, skip):
        up = self.up(x)
        return self.conv(torch.cat([center_crop(skip, up), up], 1))


class UNetOriginal(nn.Module):
    def __init__(self):
        super().__init__()
        self.inc = DoubleConv(1, 64)
        self.down1, self.down2, self.down3, self.down4 = Down(64, 128), Down(128, 256), Down(256, 512), Down(512, 1024)
        self.up1, self.up2, self.up3, self.up4 = Up(1024, 512), Up(512, 256), Up(256, 128), Up(128, 64)
        self.outc = nn.Conv2d(64, 2, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.up1(self.down4(x4), x4)
        return self.outc(self.up4(self.up3(self.up2(x, x3), x2), x1))


class ConvReLU(nn.Sequential):
    def __init__(self, inp, out, kernel=3):
        super().__init__()
        self.conv, self.relu = nn.Conv2d(inp, out, kernel, padding=kernel // 2), nn.ReLU()


class Stage(nn.Sequential):
    def __init__(self, inp, out, convs):
        super().__init__()
        self.convs = nn.Sequential(*[ConvReLU(inp if i == 0 else out, out) for i in range(convs)])
        self.pool = nn.MaxPool2d(2)


class Upscore(nn.Module):
    def __init__(self, skip_channels, classes=21):
        super().__init__()
        self.up = nn.ConvTranspose2d(classes, classes, 4, 2, 1, bias=False)
        self.score = nn.Conv2d(skip_channels, classes, 1)

    def forward(self, x, skip):
        return self.up(x) + self.score(skip)


class FCN8s(nn.Module):
    def __init__(self):
        super().__init__()
        self.stage1, self.stage2, self.stage3 = Stage(3, 32, 2), Stage(32, 64, 2), Stage(64, 128, 3)
        self.stage4, self.stage5 = Stage(128, 256, 3), Stage(256, 256, 3)
        self.fc6, self.drop6 = ConvReLU(256, 512, 3), nn.Dropout2d()
        self.fc7, self.drop7 = ConvReLU(512, 512, 1), nn.Dropout2d()
        self.score_fr = nn.Conv2d(512, 21, 1)
        self.fuse_pool4, self.fuse_pool3 = Upscore(256), Upscore(128)
        self.upscore8 = nn.ConvTranspose2d(21, 21, 16, 8, 4, bias=False)

    def forward(self, x):
        pool3 = self.stage3(self.stage2(self.stage1(x)))
        pool4 = self.stage4(pool3)
        x = self.score_fr(self.drop7(self.fc7(self.drop6(self.fc6(self.stage5(pool4))))))
        return self.upscore8(self.fuse_pool3(self.fuse_pool4(x, pool4), pool3))


MODELS = {"resnet50": ResNet50, "mobilenetv2": MobileNetV2, "unet_original": UNetOriginal, "fcn": FCN8s}
PUBLISHED = {"resnet50": 25_557_032, "mobilenetv2": 3_504_872}  # torchvision's model documentation


_CACHE: dict = {}


def recorder(table: dict, path: str, which: str):
    """A forward hook storing the module's output (or first input) shape under ``path``."""
    def hook(module, args, output):
        table.setdefault(path, tuple((output if which == "output" else args[0]).shape))
    return hook


def traced(name: str):
    """(torch model on meta, {module path: output shape}, convlint summary) of bundled spec ``name``."""
    if name not in _CACHE:
        with torch.device("meta"):
            model = MODELS[name]().eval()
        shapes = {}
        for path, module in model.named_modules():
            if path and not list(module.children()):
                module.register_forward_hook(recorder(shapes, path, "output"))
        summary = convlint.summarize(SPECS / f"{name}.yaml")
        (image,) = convlint.load(SPECS / f"{name}.yaml").inputs.values()
        with torch.no_grad():
            model(torch.empty(image.shape, device="meta"))
        _CACHE[name] = model, shapes, summary
    return _CACHE[name]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_lints_clean(name):
    assert lint(SPECS / f"{name}.yaml") == []


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in ("fcn", "mobilenetv2") else name
                                  for name in sorted(MODELS)])
def test_total_params_equal_pytorch(name):
    model, _, summary = traced(name)
    total = sum(p.numel() for p in model.parameters())
    assert summary["total_params"] == total
    if name in PUBLISHED:
        assert total == PUBLISHED[name]
    header = (SPECS / f"{name}.yaml").read_text().split("\nname:")[0]
    assert f"Total parameters: {total:,}" in header


@pytest.mark.parametrize("name", sorted(MODELS))
def test_layer_names_are_state_dict_module_paths(name):
    """Every weight-carrying layer (and BatchNorm) is a torch module path, with equal parameter counts."""
    model, _, summary = traced(name)
    modules = {key.rpartition(".")[0] for key in model.state_dict()}
    layers = {row["name"]: row for row in summary["layers"]}
    stateful = {name for name, row in layers.items() if row["params"] or row["type"].startswith("BatchNorm")}
    assert stateful == modules
    torch_modules = dict(model.named_modules())
    for path in modules:
        assert layers[path]["params"] == sum(p.numel() for p in torch_modules[path].parameters())
        assert type(torch_modules[path]).__name__ == layers[path]["type"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_output_shapes_equal_pytorch(name):
    _, shapes, summary = traced(name)
    compared = 0
    for row in summary["layers"]:
        if row["name"] in shapes and row["type"] not in ("ReLU", "ReLU6"):  # torch reuses one ReLU module
            assert tuple(row["output_shape"]) == shapes[row["name"]], row["name"]
            compared += 1
    assert compared > 10


@pytest.mark.parametrize("name", sorted(MODELS))
def test_macs_follow_fvcore_formula(name):
    """fvcore: conv = N·prod(weight shape)·prod(output spatial); transposed: over input spatial;
    linear = prod(input shape)·out_features."""
    model, shapes, summary = traced(name)
    layers = {row["name"]: row for row in summary["layers"]}
    inputs = {}
    hooks = [module.register_forward_hook(recorder(inputs, path, "input"))
             for path, module in model.named_modules() if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    (image,) = convlint.load(SPECS / f"{name}.yaml").inputs.values()
    with torch.no_grad():
        model(torch.empty(image.shape, device="meta"))
    for hook in hooks:
        hook.remove()
    expected_total = 0
    for path, in_shape in inputs.items():
        module = dict(model.named_modules())[path]
        if isinstance(module, nn.Linear):
            expected = prod(in_shape) * module.out_features
        else:
            spatial = in_shape[2:] if isinstance(module, nn.ConvTranspose2d) else shapes[path][2:]
            expected = in_shape[0] * prod(module.weight.shape) * prod(spatial)
        assert layers[path]["macs"] == expected, path
        expected_total += expected
    assert summary["total_macs"] == expected_total


def chain_field(windows: list[tuple[int, int]]) -> tuple[int, int]:
    """Receptive field and stride of a chain of (kernel, stride) windows: 1 + Σ (k − 1)·Π s (Distill)."""
    field, jump = 1, 1
    for kernel, stride in windows:
        field, jump = field + (kernel - 1) * jump, jump * stride
    return field, jump


def test_resnet50_numbers_people_quote():
    _, _, summary = traced("resnet50")
    assert round(summary["total_macs"] / 1e9, 2) == 4.09  # torchvision: 4.09 GFLOPS (fvcore's MAC count)
    layers = {row["name"]: row for row in summary["layers"]}
    windows = [(7, 2), (3, 2)]  # conv1, maxpool; then the 1x1, 3x3 (strided), 1x1 path of each block
    for blocks, stride in [(3, 1), (4, 2), (6, 2), (3, 2)]:
        windows += [(1, 1), (3, stride), (1, 1)] + [(1, 1), (3, 1), (1, 1)] * (blocks - 1)
    field, jump = chain_field(windows)
    assert layers["layer4.2.relu"]["receptive_field"] == [field, field] == [427, 427]
    assert layers["layer4.2.relu"]["effective_stride"] == [jump, jump] == [32, 32]
    assert summary["param_bytes"] == 4 * 25_557_032


def test_mobilenetv2_numbers_people_quote():
    _, _, summary = traced("mobilenetv2")
    assert round(summary["total_macs"] / 1e6) == 301  # the paper's "300M multiply-adds"
    windows = [(3, 2)]
    for expand, _, count, stride in MobileNetV2.SETTINGS:
        for index in range(count):
            windows += ([(1, 1)] if expand != 1 else []) + [(3, stride if index == 0 else 1), (1, 1)]
    field, jump = chain_field(windows + [(1, 1)])
    layers = {row["name"]: row for row in summary["layers"]}
    assert layers["features.18.2"]["receptive_field"] == [field, field]
    assert layers["features.18.2"]["effective_stride"] == [jump, jump] == [32, 32]


def test_unet_original_output_and_crops():
    _, shapes, summary = traced("unet_original")
    layers = {row["name"]: row for row in summary["layers"]}
    assert layers["outc"]["output_shape"] == [1, 2, 388, 388] == list(shapes["outc"])
    assert [layers[f"up{i}.crop"]["output_shape"][2] for i in (1, 2, 3, 4)] == [56, 104, 200, 392]


def test_expansion_keeps_block_lines():
    spec = convlint.load(SPECS / "resnet50.yaml")
    text = (SPECS / "resnet50.yaml").read_text().splitlines()
    conv = spec.layer_by_name["layer3.4.conv2"]
    assert re.search(r"name: conv2, type: Conv2d", text[conv.line - 1])
    assert spec.layer_by_name["layer3.0.downsample.0"].sources == ["layer2.3.relu"]
    assert spec.layer_by_name["layer3.1.add"].sources == ["layer3.1.bn3", "layer3.0.relu"]
    assert spec.groups["layer3"] == "Bottleneck ×6" and spec.groups["layer3.0.downsample"] == "ConvBN"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_block_fits_on_one_screen(name):
    text = (SPECS / f"{name}.yaml").read_text()
    blocks = re.split(r"\n  (?=\w+:\s*(?:#.*)?\n)", text.split("\nblocks:\n")[1].split("\nlayers:")[0])
    assert all(len(block.splitlines()) <= 40 and max(map(len, block.splitlines())) <= 120 for block in blocks)
