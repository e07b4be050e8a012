"""The on-disk layout of a saved index: a folder of ``.npy`` files and a JSON header.

A saved :class:`~skmetacmh.index.HammingIndex` is a folder::

    header.json          format name, format version, n_bits, ntotal, parameters, and the
                         dtype and shape of every array below
    codes.npy            (ntotal, n_words) little-endian uint64: the packed codes
    mih_<name>.npy       the arrays of the multi-index hashing tables, when they were built
                         (absent otherwise; they are then rebuilt at the first MIH search)

Every array is a plain ``.npy`` file (no pickle), so ``np.load(file, mmap_mode="r")`` maps it
and a load costs no more than reading the header. A saved
:class:`~skmetacmh.distributed.DistributedHammingIndex` is a folder of such folders, one per
shard (``shard-00000`` ...), beside a header that maps each shard's local ids to global ids.

A folder is written under a temporary name next to ``path`` and renamed into place at the end,
so a reader never sees a half-written index, and replacing an index that this process has
memory-mapped leaves the mapped (now unlinked) files intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

__all__ = [
    "FORMAT_VERSION",
    "MMAP_MODES",
    "check_mmap_mode",
    "load_arrays",
    "read_header",
    "save_arrays",
    "staged_folder",
]

#: Bumped whenever a reader of the previous layout would misread a new folder.
FORMAT_VERSION = 1
#: ``np.load`` modes that never write to the files ("r+" would let a mapped index be altered).
MMAP_MODES = (None, "r", "c")
HEADER = "header.json"


def check_mmap_mode(mmap_mode):
    if mmap_mode not in MMAP_MODES:
        raise ValueError(
            f"mmap_mode must be one of {MMAP_MODES} (None reads the arrays into memory; 'r' "
            f"maps them read-only; 'c' copy-on-write); got {mmap_mode!r}."
        )
    return mmap_mode


@contextlib.contextmanager
def staged_folder(path):
    """Yield a fresh folder beside ``path``; on success it replaces ``path`` in one rename.

    ``path`` may be absent, an empty folder or a previously saved index (a folder with a
    header); anything else is refused rather than deleted.
    """
    path = Path(os.fspath(path))
    if path.exists():
        if not path.is_dir():
            raise FileExistsError(f"{path} exists and is not a folder; refusing to replace it.")
        if any(path.iterdir()) and not (path / HEADER).is_file():
            raise FileExistsError(
                f"{path} is a non-empty folder that holds no saved skmetacmh index (no "
                f"{HEADER}); refusing to overwrite it. Choose another path."
            )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: the folder {path.parent} does not exist.")
    tag = uuid.uuid4().hex[:12]
    staging = path.parent / f".{path.name}.tmp-{tag}"
    staging.mkdir()
    try:
        yield staging
        if path.exists():
            old = path.parent / f".{path.name}.old-{tag}"
            os.rename(path, old)
            os.rename(staging, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def save_arrays(folder: Path, header: dict, arrays: dict) -> None:
    """Write each array as ``<name>.npy`` and then ``header.json`` describing them."""
    from . import __version__

    described = {}
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
        described[name] = {"dtype": array.dtype.str, "shape": list(array.shape)}
    header = {
        **header,
        "format_version": FORMAT_VERSION,
        "written_by": __version__,
        "arrays": described,
    }
    (folder / HEADER).write_text(json.dumps(header, indent=1, sort_keys=True) + "\n")


def read_header(path, kind: str) -> dict:
    """The header of the index saved at ``path``, checked to be a ``kind`` this code reads."""
    from . import __version__

    path = Path(os.fspath(path))
    file = path / HEADER
    if not file.is_file():
        raise FileNotFoundError(
            f"{path} holds no saved index: {HEADER} not found (save one with {kind}.save(path))."
        )
    try:
        header = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file} is not a valid index header: {exc}.") from exc
    found = header.get("format") if isinstance(header, dict) else None
    if found != f"skmetacmh.{kind}":
        raise ValueError(
            f"{path} holds {found or 'something else'!r}, not a saved skmetacmh.{kind}"
            + (f"; load it with {found.split('.')[-1]}.load." if found else ".")
        )
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{file}: format_version must be a positive integer; got {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by skmetacmh {header.get('written_by', '?')} in index format "
            f"version {version}; this skmetacmh ({__version__}) reads format versions up to "
            f"{FORMAT_VERSION}. Upgrade skmetacmh to load it."
        )
    return header


def load_arrays(path, header: dict, mmap_mode) -> dict:
    """Every array the header lists, memory-mapped when ``mmap_mode`` says so, checked."""
    path = Path(os.fspath(path))
    arrays = {}
    for name, spec in header["arrays"].items():
        file = path / f"{name}.npy"
        if not file.is_file():
            raise FileNotFoundError(f"{file} is missing: the saved index at {path} is incomplete.")
        array = np.load(file, mmap_mode=mmap_mode, allow_pickle=False)
        if array.dtype.str != spec["dtype"] or list(array.shape) != spec["shape"]:
            raise ValueError(
                f"{file} holds {array.dtype.str} {tuple(array.shape)}, but {HEADER} says "
                f"{spec['dtype']} {tuple(spec['shape'])}; the folder was changed after saving."
            )
        # A plain ndarray view of the map: nothing downstream needs to know it is a file.
        arrays[name] = np.asarray(array)
    return arrays
