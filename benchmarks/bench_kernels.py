"""Time convlint's NumPy kernels against torch CPU in the same process.

Usage::

    python benchmarks/bench_kernels.py [--threads N] [--repeats R]

Both libraries run with the same number of threads: NumPy's BLAS is limited
with threadpoolctl when it is installed, otherwise through the
``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` variables,
which this script sets *before* importing NumPy (a value already in the
environment wins); torch gets ``torch.set_num_threads`` with the same number.
NumPy and torch are timed in alternating blocks of calls (numpy, torch, numpy,
torch, ...), so that drift hits both alike, with a pause before each block: a
library's worker threads keep spinning for a while after a parallel call and
would otherwise steal the cores from the other's threads.  Each function
first runs for a while untimed, and glibc's malloc is told to keep freed
memory (see ``_tune_malloc``).  The table shows medians over all calls (and
minima).  GFLOP/s count a multiply-add as two operations; the BLAS ceiling is
NumPy's own float32 square matmul.  Prints a Markdown table.

On a shared machine, ``--wait-idle`` and ``--discard-busy`` help; the load
average is printed either way.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=None,
                        help=f"threads for both libraries (default: $OPENBLAS_NUM_THREADS or {default})")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per case and library (default 15)")
    parser.add_argument("--no-malloc-tuning", action="store_true",
                        help="keep glibc's default mmap/trim thresholds (by default they are raised so that "
                             "large temporaries are not page-faulted afresh on every call)")
    parser.add_argument("--discard-busy", type=int, default=0, metavar="MAX_ROUNDS",
                        help="discard rounds during which other processes used the CPU (Linux /proc), running "
                             "up to MAX_ROUNDS rounds per case in all (default 0: keep every round)")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each case, wait up to SECONDS for the CPUs to be idle (other processes "
                             "using < 5%% CPU over 0.3 s); useful on shared machines (default: do not wait)")
    args = parser.parse_args()
    if args.threads is None:
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        args.threads = int(env) if env else default
    return args


def _tune_malloc() -> bool:
    """Keep freed memory in glibc's heap instead of returning it to the OS.

    With glibc's default (dynamic) mmap threshold, a large array freed and
    re-allocated on every call may be mmap'ed afresh each time, and then each
    call pays a page fault per 4 KiB: observed here, torch's depthwise conv
    took 10 ms instead of 1.7 ms, depending on what the process allocated
    before.  Raising the mmap and trim thresholds removes that noise for both
    libraries.  Returns False where it cannot be done (not glibc).
    """
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):
        return False


ARGS = _parse() if __name__ == "__main__" else None
MALLOC_TUNED = False
if ARGS is not None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(ARGS.threads))
    if not ARGS.no_malloc_tuning:
        MALLOC_TUNED = _tune_malloc()

import numpy as np  # noqa: E402  (after the thread variables)

try:
    import threadpoolctl  # noqa: E402
except ImportError:  # pragma: no cover - optional
    threadpoolctl = None

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from convlint.execute.kernels import conv as conv_mod  # noqa: E402
from convlint.execute.kernels import pool as pool_mod  # noqa: E402
from convlint.execute.kernels import transposed as tr_mod  # noqa: E402


def _cpu_jiffies():
    """(jiffies all CPUs spent busy, jiffies this process used) from /proc, or None off Linux."""
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        with open("/proc/self/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    busy = sum(values) - values[3] - values[4]          # minus idle and iowait
    return busy, int(fields[11]) + int(fields[12])      # utime + stime of all our threads


def _time_block(f, count: int, max_tries: int):
    """``count`` timed calls of ``f`` after one untimed call; with ``max_tries`` > 0, calls during
    which other processes used CPU time (seen in /proc) are re-run, up to ``max_tries`` calls."""
    f()
    times, discarded, tries = [], 0, 0
    while len(times) < count:
        before = _cpu_jiffies() if max_tries else None
        t0 = time.perf_counter()
        f()
        elapsed = time.perf_counter() - t0
        tries += 1
        if before is not None and tries < max_tries:
            after = _cpu_jiffies()
            if (after[0] - before[0]) - (after[1] - before[1]) > 1:   # > ~1 tick of others' work
                discarded += 1
                continue
        times.append(elapsed)
    return times, discarded


def _time_pair(f_np, f_torch, repeats: int, blocks: int = 3, max_tries: int = 0):
    """Median and min seconds of ``f_np`` and ``f_torch`` (and the number of discarded calls).

    The two libraries are timed in alternating blocks (numpy, torch, numpy, ...)
    rather than call by call, with a pause before each block: both keep worker
    threads spinning for a while after a parallel call (OpenBLAS, OpenMP), and
    those would steal the cores from the other library's threads.
    """
    per_block = max(1, -(-repeats // blocks))
    for f in (f_np, f_torch):
        _warm_up(f)
    t_np, t_torch, discarded = [], [], 0
    for _ in range(blocks):
        for f, acc in ((f_np, t_np), (f_torch, t_torch)):
            time.sleep(_PAUSE)
            times, dropped = _time_block(f, per_block, max_tries)
            acc.extend(times)
            discarded += dropped
    return (float(np.median(t_np)), float(np.median(t_torch)), float(np.min(t_np)), float(np.min(t_torch)),
            discarded)


#: Seconds of idling before each timed block, so that the other library's spinning threads sleep.
_PAUSE = 0.5
#: Seconds (and at least _WARMUP_CALLS calls) each function runs before it is timed.  Some first
#: calls are much slower than the steady state (observed: torch's depthwise conv runs ~6x slower
#: for its first ~15 calls here), so a fixed small number of warm-up calls is not enough.
_WARMUP_SECONDS = 1.5
_WARMUP_CALLS = 3


def _warm_up(f) -> None:
    start = time.perf_counter()
    calls = 0
    while calls < _WARMUP_CALLS or time.perf_counter() - start < _WARMUP_SECONDS:
        f()
        calls += 1


def _busy_fraction(interval: float = 0.3) -> float | None:
    """Fraction of all CPUs busy over ``interval`` seconds (Linux /proc/stat), None elsewhere."""
    def read():
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        return sum(values), values[3] + values[4]
    try:
        total0, idle0 = read()
        time.sleep(interval)
        total1, idle1 = read()
    except OSError:
        return None
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def _wait_idle(limit: float) -> bool:
    """Wait up to ``limit`` seconds for an idle machine; True when it was idle."""
    deadline = time.monotonic() + limit
    while True:
        busy = _busy_fraction()
        if busy is None or busy < 0.05:
            return True
        if time.monotonic() >= deadline:
            return False


def _matmul_ceiling(repeats: int, n: int = 2048) -> float:
    """NumPy's float32 GEMM rate on an ``n``-square matmul: the best of several runs (a ceiling)."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    _warm_up(lambda: np.matmul(a, b, out=c))
    times = []
    for _ in range(max(5, repeats)):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / float(np.min(times)) / 1e9


def _cases():
    rng = np.random.default_rng(0)

    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    def conv_case(name, n, c_in, c_out, hw, k, stride, pad, groups=1):
        x = rand(n, c_in, hw, hw)
        w = rand(c_out, c_in // groups, k, k)
        b = rand(c_out)
        tx, tw, tb = map(torch.from_numpy, (x, w, b))
        out_hw = (hw + 2 * pad - k) // stride + 1
        flops = 2.0 * n * c_out * out_hw * out_hw * (c_in // groups) * k * k
        pads = ((pad, pad), (pad, pad))
        return (name,
                lambda: conv_mod.conv(x, w, b, (stride, stride), pads, (1, 1), groups),
                lambda: F.conv2d(tx, tw, tb, stride=stride, padding=pad, groups=groups),
                flops)

    def convt_case(name, n, c_in, c_out, hw, k, stride, pad):
        x = rand(n, c_in, hw, hw)
        w = rand(c_in, c_out, k, k)
        b = rand(c_out)
        tx, tw, tb = map(torch.from_numpy, (x, w, b))
        flops = 2.0 * n * c_in * hw * hw * c_out * k * k
        return (name,
                lambda: tr_mod.conv_transpose(x, w, b, stride, pad, 0, 1, 1),
                lambda: F.conv_transpose2d(tx, tw, tb, stride=stride, padding=pad),
                flops)

    def maxpool_case(name, n, c, hw, k, stride, pad):
        x = rand(n, c, hw, hw)
        tx = torch.from_numpy(x)
        return (name,
                lambda: pool_mod.max_pool(x, (k, k), (stride, stride), (pad, pad)),
                lambda: F.max_pool2d(tx, k, stride, pad),
                None)

    return [
        conv_case("conv 3×3 N8 C64 56×56 → 64 (p1)", 8, 64, 64, 56, 3, 1, 1),
        conv_case("conv 7×7 s2 p3 N1 C3 224×224 → 64", 1, 3, 64, 224, 7, 2, 3),
        conv_case("conv 3×3 N8 C256 14×14 → 256 (p1)", 8, 256, 256, 14, 3, 1, 1),
        conv_case("depthwise 3×3 N8 C128 56×56 (p1)", 8, 128, 128, 56, 3, 1, 1, groups=128),
        convt_case("ConvTranspose 4×4 s2 p1 N8 C128 28×28 → 64", 8, 128, 64, 28, 4, 2, 1),
        maxpool_case("MaxPool 3×3 s2 p1 N8 C64 112×112", 8, 64, 112, 3, 2, 1),
    ]


def main() -> None:
    args = ARGS or _parse()
    torch.set_num_threads(args.threads)
    limiter = None
    if threadpoolctl is not None:
        limiter = threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas")
    how = "threadpoolctl" if limiter is not None else "environment variables"
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    noisy = []
    discarded = []
    with torch.inference_mode():
        if args.wait_idle and not _wait_idle(args.wait_idle):
            noisy.append("matmul ceiling")
        ceiling = _matmul_ceiling(args.repeats)
        rows = []
        for name, f_np, f_torch, flops in _cases():
            if args.wait_idle and not _wait_idle(args.wait_idle):
                noisy.append(name)
            med_np, med_t, min_np, min_t, dropped = _time_pair(f_np, f_torch, args.repeats,
                                                               max_tries=args.discard_busy)
            rows.append((name, med_np, med_t, min_np, min_t, flops))
            discarded.append(dropped)
    print(f"threads: {args.threads} (NumPy BLAS via {how}, torch.set_num_threads); "
          f"numpy {np.__version__}, torch {torch.__version__}; {args.repeats} calls each, in alternating blocks")
    print(f"NumPy float32 matmul ceiling (2048², best run): {ceiling:.0f} GFLOP/s; "
          f"glibc malloc thresholds raised: {MALLOC_TUNED}")
    if load_before is not None:
        print(f"load average before / after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}")
    if noisy:
        print(f"WARNING: the machine was not idle before: {', '.join(noisy)}")
    if args.discard_busy:
        print(f"calls discarded because other processes used the CPU: {discarded}")
    print()
    print("| case | numpy median (ms) | torch median (ms) | ratio numpy/torch | numpy min / torch min (ms) "
          "| numpy GFLOP/s | % of matmul ceiling | torch GFLOP/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, med_np, med_t, min_np, min_t, flops in rows:
        if flops:
            g_np, g_t = flops / med_np / 1e9, flops / med_t / 1e9
            gf = f"{g_np:.0f} | {100 * g_np / ceiling:.0f}% | {g_t:.0f}"
        else:
            gf = "— | — | —"
        print(f"| {name} | {med_np * 1e3:.2f} | {med_t * 1e3:.2f} | {med_np / med_t:.2f} | "
              f"{min_np * 1e3:.2f} / {min_t * 1e3:.2f} | {gf} |")


if __name__ == "__main__":
    main()
