"""Memory figures: how much is available, and bytes in words."""
from __future__ import annotations

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


UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
         "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
"""Byte units, decimal (``MB`` = 10⁶) and binary (``MiB`` = 2²⁰), case-insensitive."""


def parse_bytes(text: str) -> int:
    """``"2GiB"``, ``"512 MB"``, ``"1.5G"``, ``"1e9"`` → bytes; ``ValueError`` naming the units otherwise."""
    cleaned = text.strip().upper().replace(" ", "")
    number = cleaned.rstrip("KMGTIB")
    unit = cleaned[len(number):]
    unit = unit + "B" if unit in ("K", "M", "G", "T") else unit
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if unit not in UNITS or not value >= 0 or value == float("inf"):
        raise ValueError(f"cannot read {text!r} as a size: give a number of bytes with an optional unit "
                         f"(B, kB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 2GiB or 512MB")
    return int(value * UNITS[unit])
