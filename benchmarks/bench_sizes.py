"""`convlint sizes` against one `convlint lint` of the same file, measured in the same run.

For every bundled spec, an 8-level U-Net of 229 layers, ResNet-50 and ResNet-50
with an ``AvgPool2d(7)`` head, both commands run in this process (the command
line's own entry point, output discarded), interleaved, over ``--rounds``
rounds; the table gives the minimum and median CPU time of each and the ratio
of the medians (the target is ``sizes`` ≤ 3× ``lint``, and under one second).

    python benchmarks/bench_sizes.py [--rounds 10]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

from convlint.cli.main import main as convlint

ROOT = Path(__file__).resolve().parent.parent


def unet_spec(levels: int = 8, convs: int = 4) -> str:
    """A U-Net with ``levels`` 2×2 pools, each level ``convs`` × (conv 3×3, BatchNorm, ReLU): 51·convs + 25 layers
    for 8 levels."""
    lines = ["name: unet-deep", "inputs:", "  image: [1, 3, 512, 512]", "layers:"]

    def block(prefix: str, channels: int) -> None:
        for index in range(convs):
            lines.append(f"  - {{name: {prefix}c{index}, type: Conv2d, out_channels: {channels}, "
                         f"kernel_size: 3, padding: 1}}")
            lines.append(f"  - {{name: {prefix}b{index}, type: BatchNorm2d}}")
            lines.append(f"  - {{name: {prefix}r{index}, type: ReLU}}")

    for level in range(levels):
        block(f"enc{level}", 8 * (level + 1))
        lines.append(f"  - {{name: pool{level}, type: MaxPool2d, kernel_size: 2}}")
    block("mid", 8 * (levels + 1))
    for level in reversed(range(levels)):
        lines.append(f"  - {{name: up{level}, type: ConvTranspose2d, out_channels: {8 * (level + 1)}, "
                     f"kernel_size: 2, stride: 2}}")
        lines.append(f"  - {{name: cat{level}, type: Concat, from: [up{level}, enc{level}r{convs - 1}]}}")
        block(f"dec{level}", 8 * (level + 1))
    lines.append("  - {name: head, type: Conv2d, out_channels: 2, kernel_size: 1}")
    return "\n".join(lines) + "\n"


def cpu_seconds(*arguments: str) -> float:
    """CPU time of one in-process run of the command line, its output discarded."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        start = time.process_time()
        convlint(list(arguments))
        return time.process_time() - start


def measure(path: str, rounds: int) -> tuple[list[float], list[float]]:
    """Interleaved lint and sizes CPU times of ``path``."""
    lints, sizes = [], []
    cpu_seconds("lint", path)  # warm the plugin registry and the imports once
    for _ in range(rounds):
        lints.append(cpu_seconds("lint", path))
        sizes.append(cpu_seconds("sizes", path))
    return lints, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        extra = Path(folder)
        (extra / "unet_8_levels.yaml").write_text(unet_spec())
        resnet = (ROOT / "specs" / "resnet50.yaml").read_text()
        (extra / "resnet50_avgpool7.yaml").write_text(resnet.replace("type: AdaptiveAvgPool2d, output_size: 1",
                                                                     "type: AvgPool2d, kernel_size: 7"))
        paths = sorted(str(path) for path in (ROOT / "specs").glob("*.yaml")) + sorted(map(str, extra.glob("*.yaml")))
        print(f"{'spec':28} {'lint min/med ms':>18} {'sizes min/med ms':>18} {'ratio':>6}")
        worst = 0.0
        for path in paths:
            lints, sizes = measure(path, options.rounds)
            ratio = statistics.median(sizes) / statistics.median(lints)
            worst = max(worst, ratio)
            print(f"{Path(path).stem:28} {min(lints) * 1e3:8.1f} /{statistics.median(lints) * 1e3:8.1f} "
                  f"{min(sizes) * 1e3:8.1f} /{statistics.median(sizes) * 1e3:8.1f} {ratio:6.2f}")
        print(f"largest ratio sizes/lint: {worst:.2f} (target ≤ 3)")


if __name__ == "__main__":
    main()
