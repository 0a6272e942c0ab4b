"""convlint's NumPy kernels against torch CPU, measured in the same process, interleaved call by call.

Usage::

    python benchmarks/bench_kernels.py [--rounds R] [--quick]

Every conv kind (1×1, 3×3, depthwise, 7×7 stride 2, transposed, 3-D) and a max pool, each timed twice:

- at one thread (NumPy's BLAS limited with threadpoolctl, ``torch.set_num_threads(1)``): CPU time of the
  process, the figure that does not depend on other load;
- at two threads: wall time (CPU time would add up both threads), which shows whether the kernel scales;
  the speed-up from one thread to two (wall time over wall time) is printed for both libraries.

Each function first runs for a while untimed (torch's first calls of some kernels are several times slower
than its steady state); then the two libraries alternate call by call for ``--rounds`` rounds.  The table
gives the minimum and median per call and the ratio of medians (convlint / torch).  The BLAS library and
kernel in use are printed: ``OPENBLAS_CORETYPE`` can force a slower kernel on NumPy's OpenBLAS than torch's
own BLAS uses, which shows in every GEMM-bound ratio; when it does, the whole run is repeated without it
(``timing.also_with_own_blas_kernel``).  glibc's malloc is told to keep freed memory (see
``_tune_malloc``), for both libraries alike, and PyTorch's idle OpenMP threads sleep instead of spinning
(``timing.IDLE_THREADS_SLEEP``; convlint's kernels leave no BLAS thread spinning).  Needs the `bench` extra
(threadpoolctl).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from timing import (IDLE_THREADS_SLEEP, also_with_own_blas_kernel, blas_report, duration, interleaved,  # noqa: E402
                    limited_threads, torch_report)

os.environ.update(IDLE_THREADS_SLEEP)  # before torch is imported
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from convlint.execute.kernels import conv as conv_mod  # noqa: E402
from convlint.execute.kernels import pool as pool_mod  # noqa: E402
from convlint.execute.kernels import transposed as tr_mod  # noqa: E402

WARM_UP_SECONDS = 1.0
"""Seconds each function runs untimed before its first timed call."""


def _tune_malloc() -> bool:
    """Keep freed memory in glibc's heap instead of returning it to the OS.

    With glibc's default (dynamic) mmap threshold, a large array freed and re-allocated on every call may be
    mmap'ed afresh each time, and each call then pays a page fault per 4 KiB (torch's depthwise conv was
    seen at 10 ms instead of 1.7 ms).  Returns False where it cannot be done (not glibc).
    """
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):
        return False


def _warm_up(function) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < WARM_UP_SECONDS:
        function()


def cases(quick: bool):
    """``(name, convlint function, torch function)`` per workload (ResNet-like sizes; batch 4 with --quick)."""
    rng = np.random.default_rng(0)
    batch = 4 if quick else 8

    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    def conv_case(name, n, c_in, c_out, size, k, stride, pad, groups=1, nd=2):
        x = rand(n, c_in, *(size,) * nd)
        w = rand(c_out, c_in // groups, *(k,) * nd)
        b = rand(c_out)
        tx, tw, tb = map(torch.from_numpy, (x, w, b))
        function = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
        return (name, lambda: conv_mod.conv(x, w, b, stride, ((pad, pad),) * nd, 1, groups),
                lambda: function(tx, tw, tb, stride=stride, padding=pad, groups=groups))

    def transposed_case(name, n, c_in, c_out, size, k, stride, pad):
        x = rand(n, c_in, size, size)
        w = rand(c_in, c_out, k, k)
        b = rand(c_out)
        tx, tw, tb = map(torch.from_numpy, (x, w, b))
        return (name, lambda: tr_mod.conv_transpose(x, w, b, stride, pad, 0, 1, 1),
                lambda: F.conv_transpose2d(tx, tw, tb, stride=stride, padding=pad))

    def max_pool_case(name, n, c, size, k, stride, pad):
        x = rand(n, c, size, size)
        tx = torch.from_numpy(x)
        return (name, lambda: pool_mod.max_pool(x, (k, k), (stride, stride), (pad, pad)),
                lambda: F.max_pool2d(tx, k, stride, pad))

    return [
        conv_case(f"conv 1×1 N{batch} C256 28×28 → 128", batch, 256, 128, 28, 1, 1, 0),
        conv_case(f"conv 3×3 N{batch} C64 56×56 → 64 (p1)", batch, 64, 64, 56, 3, 1, 1),
        conv_case(f"conv 3×3 N{batch} C256 14×14 → 256 (p1)", batch, 256, 256, 14, 3, 1, 1),
        conv_case(f"depthwise 3×3 N{batch} C128 56×56 (p1)", batch, 128, 128, 56, 3, 1, 1, groups=128),
        conv_case("conv 7×7 s2 p3 N1 C3 224×224 → 64", 1, 3, 64, 224, 7, 2, 3),
        transposed_case(f"ConvTranspose 4×4 s2 p1 N{batch} C128 28×28 → 64", batch, 128, 64, 28, 4, 2, 1),
        conv_case(f"conv3d 3×3×3 N{batch // 4} C64 16³ → 64 (p1)", batch // 4, 64, 64, 16, 3, 1, 1, nd=3),
        max_pool_case(f"MaxPool 3×3 s2 p1 N{batch} C64 112×112", batch, 64, 112, 3, 2, 1),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed calls per case, library and thread count")
    parser.add_argument("--quick", action="store_true", help="10 rounds, batch 4 instead of 8")
    args = parser.parse_args()
    rounds = 10 if args.quick else max(10, args.rounds)
    tuned = _tune_malloc()
    rows = []
    with torch.inference_mode():
        for name, ours, theirs in cases(args.quick):
            timed = {}
            for threads, kind in ((1, "cpu"), (2, "wall")):
                with limited_threads(threads):
                    _warm_up(ours)
                    _warm_up(theirs)
                    stats = interleaved({"convlint": ours, "torch": theirs}, rounds, warm_up=0)
                timed[threads] = (kind, stats)
            rows.append((name, timed))
        with limited_threads(1):
            blas_one = blas_report()
    print(f"numpy {np.__version__}, torch {torch.__version__}; {rounds} interleaved rounds per case and thread "
          f"count; glibc malloc thresholds raised: {tuned}")
    print(f"NumPy's BLAS: {blas_one}; torch: {torch_report()}")
    print()
    print("| case | 1 thread, CPU: convlint min / median | torch min / median | ratio | "
          "2 threads, wall: convlint median | torch median | ratio | 1→2 threads speed-up: convlint | torch |")
    print("|---|---|---|---:|---|---|---:|---:|---:|")
    for name, timed in rows:
        one, two = timed[1][1], timed[2][1]
        speed_up = {side: one[side].median("wall") / two[side].median("wall") for side in ("convlint", "torch")}
        print(f"| {name} | {duration(one['convlint'].min())} / {duration(one['convlint'].median())} | "
              f"{duration(one['torch'].min())} / {duration(one['torch'].median())} | "
              f"{one['convlint'].median() / one['torch'].median():.2f} | "
              f"{duration(two['convlint'].median('wall'))} | {duration(two['torch'].median('wall'))} | "
              f"{two['convlint'].median('wall') / two['torch'].median('wall'):.2f} | "
              f"{speed_up['convlint']:.2f} | {speed_up['torch']:.2f} |")


if __name__ == "__main__":
    main()
    also_with_own_blas_kernel()
