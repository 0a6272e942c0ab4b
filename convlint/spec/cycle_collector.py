"""Pausing Python's cyclic garbage collector (the cycle collector) while a spec is loaded and checked.

Loading a large spec allocates hundreds of thousands of small, acyclic
objects; each allocation burst would trigger full collections that walk all
of them again.  Reference counting frees them anyway, so the collector is
paused for the duration and restored afterwards (nesting is safe).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_cycle_collector() -> Iterator[None]:
    """Disable the cyclic collector inside the ``with`` block; re-enable it if it was enabled."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
