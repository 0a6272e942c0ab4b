"""Work spread over threads where BLAS does not help: copies of large strided blocks (the im2col unfold),
and runs of blocks that each copy and multiply on their own.

NumPy releases the GIL while it copies, so a few threads copying disjoint slices of the same block run in
parallel.  The number of threads follows the BLAS thread limit when threadpoolctl is installed (so a caller
that limits BLAS to one thread gets one copying thread too), else ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS``, else the CPUs this process may run on.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Callable, Sequence, TypeVar

import numpy as np

T = TypeVar("T")

MIN_PARALLEL_BYTES = 1 << 20
"""Blocks smaller than this are copied by the calling thread (starting threads would cost more)."""

_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_BLAS_LIMIT = threading.Lock()
"""Held by :func:`run_blocks` while BLAS runs at one thread: calls from several threads at once would
otherwise restore each other's limit (and leave BLAS at one thread)."""


def threads() -> int:
    """How many threads a copy may use: the BLAS limit now in force, where threadpoolctl can read it."""
    blas = _blas_controllers()
    if blas:
        return max(1, min(library.num_threads for library in blas))
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            return max(1, int(os.environ[variable]))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@lru_cache(maxsize=1)
def _blas_controllers() -> tuple:
    """threadpoolctl's controllers of the BLAS libraries loaded (found once: finding them takes
    milliseconds, reading their thread count a microsecond), or ``()`` without threadpoolctl."""
    try:
        import threadpoolctl
    except ImportError:
        return ()
    return tuple(library for library in threadpoolctl.ThreadpoolController().lib_controllers
                 if library.user_api == "blas")


def _pool(size: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != size:
        if _POOL is not None:
            _POOL.shutdown(wait=True)
        _POOL, _POOL_SIZE = ThreadPoolExecutor(size, thread_name_prefix="convlint-copy"), size
    return _POOL


def copyto(destination: np.ndarray, source: np.ndarray, workers: int | None = None) -> None:
    """``np.copyto(destination, source)`` (same shapes), split along the longest axis but the last (whose
    contiguous runs stay whole) into one slice per thread; ``workers`` threads (default :func:`threads`)."""
    workers = threads() if workers is None else workers
    shape = destination.shape[:-1] or destination.shape
    axis = max(range(len(shape)), key=shape.__getitem__, default=None)
    if workers < 2 or destination.nbytes < MIN_PARALLEL_BYTES or axis is None or shape[axis] < workers:
        np.copyto(destination, source)
        return
    bounds = np.linspace(0, destination.shape[axis], workers + 1).astype(int)
    lead = (slice(None),) * axis
    parts = [(lead + (slice(start, stop),)) for start, stop in zip(bounds[:-1], bounds[1:]) if stop > start]
    for done in [_pool(workers).submit(np.copyto, destination[part], source[part]) for part in parts]:
        done.result()


def run_parts(function: Callable[[Sequence[T]], None], items: Sequence[T], workers: int) -> None:
    """``function(part)`` for ``workers`` contiguous parts of ``items`` (as equal as can be), each in its own
    thread (the calling thread alone when ``workers < 2``); exceptions are raised in the caller."""
    workers = min(workers, len(items))
    if workers < 2:
        function(items)
        return
    bounds = np.linspace(0, len(items), workers + 1).astype(int)
    for done in [_pool(workers).submit(function, items[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]:
        done.result()


def run_blocks(function: Callable[[Sequence[T], int], None], blocks: Sequence[T], workers: int | None = None
               ) -> None:
    """``function(part, copy_workers)`` over ``blocks``, each of which copies (im2col) and then multiplies.

    With ``workers`` threads (default :func:`threads`) and BLAS's thread count under control
    (threadpoolctl), each thread takes a contiguous run of the blocks, copying and multiplying on its own
    with BLAS at one thread: BLAS's own threads would sit idle (spinning, on the cores the copies need)
    through every copy.  Otherwise the calling thread runs every block, with BLAS's threads for the
    GEMMs and ``copy_workers`` threads for the copies.  BLAS's thread count is process-wide: another
    thread's BLAS calls run on one thread while the blocks run, and callers in several threads take
    turns (:data:`_BLAS_LIMIT`).
    """
    wanted = threads() if workers is None else workers
    workers = min(wanted, len(blocks))
    blas = _blas_controllers()
    if workers < 2 or not blas:
        function(blocks, wanted)
        return
    with _BLAS_LIMIT:  # one caller at a time changes and restores the process-wide count
        before = [library.num_threads for library in blas]
        for library in blas:
            library.set_num_threads(1)
        try:
            run_parts(lambda part: function(part, 1), blocks, workers)
        finally:
            for library, count in zip(blas, before):
                library.set_num_threads(count)


def map_rows(function: Callable[[slice], None], rows: int, row_bytes: int, block_bytes: int = 1 << 18) -> None:
    """``function(rows_slice)`` over ``rows`` rows of ``row_bytes`` each, by blocks near ``block_bytes`` (in
    cache between the passes a block makes), spread over :func:`threads` threads when the whole is larger
    than :data:`MIN_PARALLEL_BYTES` (NumPy's element-wise loops release the GIL)."""
    step = max(1, block_bytes // max(1, row_bytes))
    blocks = [slice(start, min(start + step, rows)) for start in range(0, rows, step)]
    workers = threads() if rows * row_bytes >= MIN_PARALLEL_BYTES else 1

    def run(part: Sequence[slice]) -> None:
        for block in part:
            function(block)

    run_parts(run, blocks, workers)

