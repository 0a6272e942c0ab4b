"""Writing output files (diagrams, arrays, images) so that a reader never sees half a file, and
never anywhere but a regular file: FIFOs, devices, sockets and folders are refused, and so are
symbolic links unless ``force`` is given (the link itself is then replaced, never its target)."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, Union

Content = Union[bytes, Callable[[str], None]]
"""What :func:`write_atomically` writes: bytes, or a function that fills the file at the path it is given."""


class RefusedOutput(Exception):
    """The output path names something that is not a regular file (a folder, FIFO, device, socket,
    or a symlink without ``force``); the message says what."""


def file_mode(path: Path) -> int:
    """The permissions ``path`` has, or those a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_output_path(path: str | Path, force: bool = False) -> None:
    """Raise :class:`RefusedOutput` unless ``path`` is absent or a regular file (or, with ``force``,
    a symlink, which is then replaced by a file; its target is never written)."""
    target = Path(path)
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise RefusedOutput(f"{path}: cannot check the output path: {error.strerror or error}") from None
    if stat.S_ISLNK(mode):
        if not force:
            raise RefusedOutput(f"{path} is a symbolic link; refusing to replace it (--force replaces the "
                                f"link itself with the output)")
    elif stat.S_ISDIR(mode):
        raise RefusedOutput(f"{path} is a folder; name a file to write")
    elif not stat.S_ISREG(mode):
        raise RefusedOutput(f"{path} is not a regular file (a FIFO, device or socket); refusing to replace it")


def write_atomically(path: str | Path, content: Content, force: bool = False) -> None:
    """Create or replace the regular file ``path`` all at once.

    ``content`` is the bytes to write, or ``write(temporary_path)`` that fills a temporary file in
    the same folder; the temporary file is then renamed over ``path``, so readers see the old file
    or the new one, never part of one, and the file keeps its permissions.  Missing parent folders
    are created.  Raises :class:`RefusedOutput` (before writing anything) where ``path`` is not a
    regular file, see :func:`check_output_path`; on failure nothing is left behind.
    """
    target = Path(path)
    check_output_path(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
        if not isinstance(content, bytes):
            content(temporary)
        os.chmod(temporary, file_mode(target))
        check_output_path(target, force)  # nothing appeared there meanwhile
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
