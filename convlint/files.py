"""Finding spec files and reading them safely.

Directories are searched recursively for ``*.yaml`` and ``*.yml`` (hidden
directories skipped); files named explicitly are taken as they are.  Files
are read as bytes and decoded as UTF-8; nothing is ever written.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

YAML_SUFFIXES = (".yaml", ".yml")


def iter_yaml_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Each named file, and every YAML file below each named directory, in sorted order.

    Raises ``FileNotFoundError`` for a path that does not exist.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root, name) for name in files if name.endswith(YAML_SUFFIXES)]
            yield from sorted(found)
        elif path.exists():
            yield path
        else:
            raise FileNotFoundError(f"{raw}: no such file or directory")


class UnreadableFile(Exception):
    """The file cannot be read as UTF-8 text; the message says why and where."""


def read_text(path: Path) -> str:
    """The file's text, or :class:`UnreadableFile` for binary, non-UTF-8 or unreadable files."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"cannot read the file: {error.strerror or error}") from None
    if b"\x00" in data[:8192]:
        raise UnreadableFile("this is a binary file, not YAML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"the file is not UTF-8 text (invalid byte at offset {error.start})") from None


def write_atomically(path: str | Path, write) -> None:
    """Create or replace ``path`` all at once: ``write(temporary_path)`` fills a temporary file
    in the same directory, which is then renamed over ``path``; on failure nothing is left behind."""
    import tempfile

    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
