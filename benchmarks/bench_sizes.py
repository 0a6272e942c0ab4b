"""`convlint sizes` against one `convlint lint` of the same file, measured in the same run.

For every bundled spec, an 8-level U-Net of 229 layers, ResNet-50 and ResNet-50
with an ``AvgPool2d(7)`` head, both commands run in this process (the command
line's own entry point, output discarded), interleaved, over ``--rounds``
rounds (at least 10); the table gives the minimum and median CPU time of each, its median wall time,
and the ratio of the median CPU times (the target is ``sizes`` ≤ 3× ``lint``, and under one second).

    python benchmarks/bench_sizes.py [--rounds 10]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import Stats, interleaved  # noqa: E402

from convlint.cli.main import main as convlint  # noqa: E402

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


def quietly(*arguments: str) -> None:
    """One in-process run of the command line, its output discarded."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        convlint(list(arguments))


def measure(path: str, rounds: int) -> dict[str, Stats]:
    """Interleaved lint and sizes times of ``path`` (one untimed run of each first: imports, plugins)."""
    return interleaved({"lint": lambda: quietly("lint", path), "sizes": lambda: quietly("sizes", path)}, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (at least 10)")
    rounds = max(10, parser.parse_args().rounds)
    with tempfile.TemporaryDirectory() as folder:
        extra = Path(folder)
        (extra / "unet_8_levels.yaml").write_text(unet_spec())
        resnet = (ROOT / "specs" / "resnet50.yaml").read_text()
        (extra / "resnet50_avgpool7.yaml").write_text(resnet.replace("type: AdaptiveAvgPool2d, output_size: 1",
                                                                     "type: AvgPool2d, kernel_size: 7"))
        paths = sorted(str(path) for path in (ROOT / "specs").glob("*.yaml")) + sorted(map(str, extra.glob("*.yaml")))
        print(f"{rounds} interleaved rounds; CPU time min / median, wall time median, in ms")
        print(f"{'spec':28} {'lint CPU min/med (wall)':>26} {'sizes CPU min/med (wall)':>26} {'ratio':>6}")
        worst = 0.0
        for path in paths:
            stats = measure(path, rounds)
            lint, sizes = stats["lint"], stats["sizes"]
            ratio = sizes.median() / lint.median()
            worst = max(worst, ratio)
            print(f"{Path(path).stem:28} {_ms(lint):>26} {_ms(sizes):>26} {ratio:6.2f}")
        print(f"largest ratio sizes/lint: {worst:.2f} (target ≤ 3)")


def _ms(stats: Stats) -> str:
    """``12.3 / 14.0 (14.2)``: CPU min / median (wall median), in milliseconds."""
    return f"{stats.min() * 1e3:.1f} / {stats.median() * 1e3:.1f} ({stats.median('wall') * 1e3:.1f})"


if __name__ == "__main__":
    main()
