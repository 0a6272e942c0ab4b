"""Finding spec files and reading them safely.

Directories are searched recursively for ``*.yaml`` and ``*.yml`` (hidden
directories skipped); files named explicitly are taken as they are.  Files
are read as bytes and decoded as UTF-8; nothing is ever written.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Iterable, Iterator

YAML_SUFFIXES = (".yaml", ".yml")

MAX_SPEC_BYTES = 2 * 1024 * 1024
"""Largest file read as a spec (2 MiB, some 20,000 layers): keeps one file's lint within seconds and 200 MB."""


def iter_yaml_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Each named file, and every regular YAML file below each named directory, in sorted order.

    Below a directory, FIFOs, devices and sockets named ``*.yaml`` are passed over (reading one
    could block forever); a file named explicitly is taken as it is, and :func:`read_text` refuses
    it when it is not a regular file.  Raises ``FileNotFoundError`` for a path that does not exist.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root, name) for name in files
                          if name.endswith(YAML_SUFFIXES) and _is_regular(Path(root, name))]
            yield from sorted(found)
        elif path.exists():
            yield path
        else:
            raise FileNotFoundError(f"{raw}: no such file or directory")


def _is_regular(path: Path) -> bool:
    """True for a regular file (or a symlink to one); never opens it."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


class UnreadableFile(Exception):
    """The file cannot be read as UTF-8 text; the message says why, ``line``/``column`` where (1-based)."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.line, self.column = line, column


SCAN_CHUNK_BYTES = 1024 * 1024
"""Bytes read at a time when an over-large file is searched."""


class TooLargeFile(UnreadableFile):
    """The file is over the size limit; ``head`` holds its first bytes (up to the limit)."""

    def __init__(self, message: str, head: bytes, path: Path | None = None):
        super().__init__(message)
        self.head = head
        self.path = path

    def mentions(self, pattern: re.Pattern[bytes], overlap: int = 256) -> bool:
        """True when ``pattern`` (matching fewer than ``overlap`` bytes) occurs anywhere in the file:
        the head, then the rest read :data:`SCAN_CHUNK_BYTES` at a time, so memory stays bounded."""
        if pattern.search(self.head):
            return True
        if self.path is None:
            return False
        try:
            with open(self.path, "rb") as stream:
                stream.seek(max(len(self.head) - overlap, 0))
                carried = b""
                while chunk := stream.read(SCAN_CHUNK_BYTES):
                    if pattern.search(carried + chunk):
                        return True
                    carried = chunk[-overlap:]
        except OSError:
            return False
        return False


def read_text(path: Path, max_bytes: int = MAX_SPEC_BYTES) -> str:
    """The file's text, or :class:`UnreadableFile` for binary, non-UTF-8, unreadable or too large files."""
    try:  # non-blocking open and a check before reading: a FIFO or device never blocks the lint
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise UnreadableFile("this is not a regular file (a FIFO, device or socket); not read")
            data = stream.read(max_bytes + 1)
    except OSError as error:
        raise UnreadableFile(f"cannot read the file: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise TooLargeFile(f"the file is larger than {max_bytes:,} bytes, the most convlint reads as a spec",
                           data[:max_bytes], Path(path))
    if b"\x00" in data[:8192]:
        raise UnreadableFile("this is a binary file, not YAML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start:error.start].decode("utf-8", "replace")) + 1
        raise UnreadableFile(f"the file is not UTF-8 text (invalid byte 0x{data[error.start]:02x} at offset "
                             f"{error.start})", line, column) from None
