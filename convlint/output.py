"""Writing output files (diagrams, arrays, images) so that a reader never sees half a file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Union

Content = Union[bytes, Callable[[str], None]]
"""What :func:`write_atomically` writes: bytes, or a function that fills the file at the path it is given."""


def file_mode(path: Path) -> int:
    """The permissions ``path`` has, or those a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path: str | Path, content: Content) -> None:
    """Create or replace ``path`` all at once.

    ``content`` (bytes, or a function called with a temporary path to fill) goes to a temporary
    file in the same directory, which gets the permissions ``path`` has (or a new file's,
    under the umask) and is renamed over ``path``.  Readers see the old file or the new
    one, never a partial one; on failure nothing is left behind.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
        if not isinstance(content, bytes):
            content(temporary)
        os.chmod(temporary, file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
