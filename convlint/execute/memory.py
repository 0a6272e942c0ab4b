"""Memory figures: how much is available, and bytes in words."""
from __future__ import annotations

import math
import os

DEFAULT_CHUNK_BYTES = 256 * 2**20
"""Default bound (256 MiB) on the temporary buffers of one kernel call (im2col columns, matmul blocks)."""


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 10**9


def format_bytes(count: int) -> str:
    """Decimal units: ``1.23 GB``, ``456.0 MB``, ``789 kB``, ``12 B``."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= size:
            return f"{count / size:.{2 if unit == 'GB' else 1}f} {unit}"
    return f"{count} B"


def parse_bytes(text: str) -> int:
    """``"2GB"``, ``"512 MB"``, ``"1e9"`` → bytes; ``ValueError`` for anything else."""
    cleaned = text.strip().upper().replace(" ", "")
    number, size = cleaned, 1
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3), ("B", 1)):
        if cleaned.endswith(unit):
            number, size = cleaned[: -len(unit)], factor
            break
    value = float(number) * size
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"a memory size must be a finite number of bytes, got {text!r}")
    return int(value)
