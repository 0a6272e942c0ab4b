"""The specs the export tests run: the bundled ones, each at a small input size where it is valid (to keep them
short), and one with named sizes."""
from __future__ import annotations

import convlint
from convlint.findings import Severity
from tests.conftest import SPECS

BUNDLED = sorted(path.stem for path in SPECS.glob("*.yaml"))
SMALL_SIZES = (32, 48, 64, 96, 128)
"""Spatial sizes tried, smallest first, for a spec with 2-D images; the declared size when none is valid."""


def small_spec(name: str, registry):
    """Bundled spec ``name`` with its image input at the smallest of :data:`SMALL_SIZES` that lints clean."""
    spec = convlint.load(SPECS / f"{name}.yaml")
    [(input_name, decl)] = spec.inputs.items()
    if len(decl.shape) != 4:
        return spec
    for size in (size for size in SMALL_SIZES if size < min(decl.shape[2:])):
        smaller = spec.with_input_shapes({input_name: (1, decl.shape[1], size, size)})
        if not any(finding.severity is Severity.ERROR for finding in convlint.analyze(smaller, registry).findings):
            return smaller
    return spec


FAST = {"lenet5", "tcn", "unet", "squeezenet1_1", "fcn", "mobilenet_v3_small", "shufflenet_v2_x1_0", "googlenet",
        "diffusion_unet", "regnet_y_400mf"}
"""Bundled specs the default test run exports; the others (larger, or slow in the executor) are marked slow."""


def bundled_params():
    import pytest
    return [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in BUNDLED]


NAMED = """
name: named
inputs: {image: [N, 3, H, W]}
layers:
  - {name: conv, type: Conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
  - {name: up, type: ConvTranspose2d, out_channels: 3, kernel_size: 2, stride: 2}
  - {name: sum, type: Add, from: [up, image]}
"""
"""A spec with named sizes (N, H, W): H and W must be even, for the stride-2 layers to come back to the input's
size for the Add."""
