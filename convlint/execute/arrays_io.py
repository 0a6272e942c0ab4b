"""Reading and writing NumPy array files safely: sizes checked before anything is allocated, keys
that survive the round trip.

``.npy`` and ``.npz`` headers state each array's dtype and shape; they are read first, and a file
whose arrays would need more than the allowed bytes, hold Python objects (pickles) or complex
numbers is refused before its data is read.  ``.npz`` archives are written member by member, so a
key is never taken for one of ``numpy.savez``'s own arguments (``file``, ``allow_pickle``).
"""
from __future__ import annotations

import math
import zipfile
from typing import IO, Mapping

import numpy as np

from convlint.execute.memory import format_bytes


class ArrayFileError(ValueError):
    """An array file cannot be used; the message names the file, the key and why."""


def _read_header(stream: IO[bytes], where: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    """(shape, dtype, Fortran order) from the header of one ``.npy`` stream; nothing more is read."""
    try:
        version = np.lib.format.read_magic(stream)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = reader(stream)
    except (ValueError, OSError, EOFError) as error:
        raise ArrayFileError(f"{where}: not a NumPy array file ({error})") from None
    if dtype.hasobject:
        raise ArrayFileError(f"{where}: holds Python objects (a pickle); refusing to load it")
    if dtype.kind == "c":
        raise ArrayFileError(f"{where}: holds complex numbers ({dtype}); networks here take real arrays")
    if dtype.kind not in "biuf":
        raise ArrayFileError(f"{where}: holds {dtype} values, not numbers")
    return shape, dtype, fortran


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return math.prod(shape) * dtype.itemsize


def _refuse_over(total: int, max_bytes: int, where: str) -> None:
    if total > max_bytes:
        raise ArrayFileError(f"{where}: its arrays need {format_bytes(total)}, more than the "
                             f"{format_bytes(max_bytes)} allowed (--max-memory); nothing loaded")


def read_npy(path: str, max_bytes: int) -> np.ndarray:
    """The array in the ``.npy`` file ``path``; :class:`ArrayFileError` when it is no array file, an
    ``.npz`` archive, or needs more than ``max_bytes``."""
    try:
        with open(path, "rb") as stream:
            if stream.read(4) == b"PK\x03\x04":
                raise ArrayFileError(f"{path}: an .npz archive; an input is one .npy array (numpy.save)")
            stream.seek(0)
            shape, dtype, _ = _read_header(stream, path)
            _refuse_over(_nbytes(shape, dtype), max_bytes, path)
            stream.seek(0)
            return np.lib.format.read_array(stream, allow_pickle=False)
    except OSError as error:
        raise ArrayFileError(f"{path}: cannot read: {error.strerror or error}") from None
    except ValueError as error:
        if isinstance(error, ArrayFileError):
            raise
        raise ArrayFileError(f"{path}: cannot read: {error}") from None


def read_npz(path: str, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` archive ``path`` by key; every member's header is checked first, so a
    small archive whose members claim more than ``max_bytes`` in all is refused before allocation."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
            total = 0
            for info in members:
                with archive.open(info) as stream:
                    shape, dtype, _ = _read_header(stream, f"{path}: {info.filename[:-4]!r}")
                total += _nbytes(shape, dtype)
                _refuse_over(total, max_bytes, path)
            arrays = {}
            for info in members:
                with archive.open(info) as stream:
                    arrays[info.filename[:-4]] = np.lib.format.read_array(stream, allow_pickle=False)
            return arrays
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise ArrayFileError(f"{path}: cannot read weights: {error}") from None
    except ValueError as error:
        if isinstance(error, ArrayFileError):
            raise
        raise ArrayFileError(f"{path}: cannot read weights: {error}") from None


def check_keys(names) -> None:
    """Raise :class:`ArrayFileError` unless every name can be an ``.npz`` key that reads back as itself
    (a NUL byte ends a name inside a zip archive, so two names could become one)."""
    for name in names:
        if "\x00" in name:
            shown = name.replace("\x00", "\\x00")
            raise ArrayFileError(f"layer `{shown[:80]}` has a NUL character in its name, which an .npz file "
                                 f"cannot keep; rename the layer")


def write_npz(path: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to the ``.npz`` file ``path`` (as ``numpy.savez`` lays it out), each under its
    own key; call :func:`check_keys` on the keys first."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def non_finite(arrays: Mapping[str, np.ndarray]) -> list[str]:
    """The keys of ``arrays`` holding NaN or infinite values."""
    return [name for name, array in arrays.items()
            if array.dtype.kind == "f" and not np.isfinite(array).all()]
