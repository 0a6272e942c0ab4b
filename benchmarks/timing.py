"""Timing shared by the benchmarks: every figure against a peer measured in the same run.

- ``interleaved`` times several functions round by round (A, B, A, B, ...), so that drift and other load
  on the machine hit every side alike, and returns both CPU time and wall time per call.
- ``command`` runs a whole command once and returns the CPU time of the child and the wall time.
- ``Stats`` keeps the minimum and median over the rounds.
- ``blas_report`` names the BLAS library, its kernel (core type) and its thread count, as threadpoolctl
  sees them: a slow kernel (for example one forced by ``OPENBLAS_CORETYPE``) shows here.
- ``limited_threads`` sets the thread count of NumPy's BLAS (threadpoolctl) and of torch for a block.
- ``also_with_own_blas_kernel`` runs a benchmark a second time without ``OPENBLAS_CORETYPE`` (and
  ``OPENBLAS_L2_SIZE``), when the environment forces a kernel, so both the forced kernel's figures and those of the kernel OpenBLAS picks
  for this CPU are printed.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator


@dataclass
class Stats:
    """Seconds per call over the rounds: CPU time of this process (or child) and wall time."""

    cpu: list[float]
    wall: list[float]

    def min(self, kind: str = "cpu") -> float:
        return min(getattr(self, kind))

    def median(self, kind: str = "cpu") -> float:
        return statistics.median(getattr(self, kind))



IDLE_THREADS_SLEEP = {"OMP_WAIT_POLICY": "PASSIVE"}
"""Environment for a benchmark that alternates libraries call by call on few cores: PyTorch's OpenMP threads
sleep when idle instead of spinning, so one side's idle threads do not hold the core the other side's next
call needs (ONNX Runtime's equivalent is its ``session.intra_op.allow_spinning`` option).  Set before
PyTorch is imported."""

def interleaved(functions: dict[str, Callable[[], object]], rounds: int, warm_up: int = 1) -> dict[str, Stats]:
    """``rounds`` timed calls of each function, alternating between them, after ``warm_up`` untimed calls."""
    for function in functions.values():
        for _ in range(warm_up):
            function()
    stats = {name: Stats([], []) for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            cpu, wall = time.process_time(), time.perf_counter()
            function()
            stats[name].cpu.append(time.process_time() - cpu)
            stats[name].wall.append(time.perf_counter() - wall)
    return stats


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command(*argv: str, env: dict | None = None) -> tuple[float, float]:
    """``(child CPU seconds, wall seconds)`` of one run of ``argv`` (start-up included)."""
    cpu, wall = _children_cpu(), time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    return _children_cpu() - cpu, time.perf_counter() - wall


def interleaved_commands(commands: dict[str, tuple[str, ...]], rounds: int,
                         env: dict | None = None) -> dict[str, Stats]:
    """Like :func:`interleaved` for whole commands (one untimed run of each first)."""
    for argv in commands.values():
        command(*argv, env=env)
    stats = {name: Stats([], []) for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            cpu, wall = command(*argv, env=env)
            stats[name].cpu.append(cpu)
            stats[name].wall.append(wall)
    return stats


def blas_report() -> str:
    """``openblas 0.3.x, kernel Haswell, 2 threads`` for each BLAS NumPy and torch loaded (threadpoolctl)."""
    try:
        import threadpoolctl
    except ImportError:
        return "BLAS kernel unknown (install threadpoolctl: the `bench` extra)"
    found = []
    for library in threadpoolctl.threadpool_info():
        if library.get("user_api") == "blas":
            found.append(f"{library.get('internal_api')} {library.get('version')}, kernel "
                         f"{library.get('architecture')}, {library.get('num_threads')} threads "
                         f"({os.path.basename(library.get('filepath', '?'))})")
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    forced = f"; OPENBLAS_CORETYPE={coretype} forces the kernel" if coretype else ""
    return ("; ".join(found) or "no BLAS found by threadpoolctl") + forced


def torch_report() -> str:
    """``BLAS mkl, CPU capability AVX512`` for the torch this process imported."""
    import re

    import torch

    shown = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", shown)
    capability = re.search(r"CPU capability usage: (\w+)", shown)
    return f"BLAS {blas.group(1) if blas else '?'}, CPU capability {capability.group(1) if capability else '?'}"


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """NumPy's BLAS (threadpoolctl) and torch (when imported) limited to ``threads`` inside the block."""
    import sys

    import threadpoolctl

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with threadpoolctl.threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def duration(seconds: float) -> str:
    """``12.3 µs``, ``45 ms`` or ``1.23 s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


_OWN_KERNEL_RUN = "CONVLINT_BENCH_OWN_BLAS_KERNEL"
"""Set in the second run of :func:`also_with_own_blas_kernel`, which must not start a third."""

FORCING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
"""Environment variables that hold NumPy's OpenBLAS to a kernel and cache size of the caller's choosing
(some machines set both, for older OpenBLAS builds that compute wrong results on their CPU)."""


def also_with_own_blas_kernel() -> None:
    """When ``OPENBLAS_CORETYPE`` forces NumPy's OpenBLAS kernel, run this benchmark (same arguments) once
    more in a child without it (nor ``OPENBLAS_L2_SIZE``, which goes with it) and print that run's output
    after a heading: a forced kernel can be slower than the one OpenBLAS picks for the CPU (its Haswell
    AVX2 kernel on an AVX-512 CPU runs a GEMM at about half the rate), while torch's own BLAS is never
    forced.  The child's kernel is printed by its own :func:`blas_report`.  Call it after the first run's
    output."""
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if not coretype or os.environ.get(_OWN_KERNEL_RUN):
        return
    environment = {key: value for key, value in os.environ.items() if key not in FORCING_VARIABLES}
    environment[_OWN_KERNEL_RUN] = "1"
    unset = ", ".join(f"{name}={os.environ[name]}" for name in FORCING_VARIABLES if name in os.environ)
    print(f"\n### The same run with the kernel OpenBLAS picks for this CPU ({unset} unset)\n", flush=True)
    subprocess.run([sys.executable, *sys.argv], env=environment, check=True)
