"""Reading MATLAB ``.mat`` files: v5 through scipy.io, v7.3 (HDF5) through h5py.

Two things make the community's benchmark files awkward, and both are handled here:

* MATLAB v7.3 files are HDF5 files. MATLAB stores arrays column-major, so h5py (row-major) sees
  every MATLAB array with its axes reversed: a MATLAB ``20015 x 1386`` matrix reads as
  ``(1386, 20015)``. Arrays that MATLAB wrote carry a ``MATLAB_class`` attribute; those are
  reversed back here, so both readers return MATLAB's *logical* shape. HDF5 files written from
  Python without that attribute are returned as stored.
* Whether items are rows or columns still differs between files (and between files written by
  MATLAB and by Python), so the loaders orient every array by the number of items shared by the
  arrays that describe the same items (:func:`item_axes`), never by a fixed convention.
"""

from __future__ import annotations

import os
import struct

import numpy as np
import scipy.io
import scipy.sparse as sp

__all__ = [
    "is_hdf5",
    "mat_shapes",
    "non_numeric_variables",
    "read_mat",
    "item_axes",
    "UnreadableMatFileError",
]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_V5_HEADER_BYTES = 128


class UnreadableMatFileError(ValueError):
    """A file that cannot be read at all (empty, truncated, corrupt), as opposed to a readable
    file that does not hold the expected variables."""


def _unreadable(path, exc: BaseException) -> UnreadableMatFileError:
    """The error for a file that is not a readable .mat file, naming the file."""
    return UnreadableMatFileError(
        f"{path} is not a readable MATLAB .mat file ({type(exc).__name__}: {exc}). It may be "
        "truncated (an interrupted download?) or corrupt: download it again."
    )


def _check_readable(path) -> None:
    """Refuse an empty file, and a v5 file whose last variable ends past the end of the file.

    scipy lists the variables of a truncated v5 file without complaint (it reads only their
    headers), so a file cut short would otherwise be reported as lacking a variable. The
    top-level data elements are walked here: each starts with a tag giving its byte count.
    """
    size = os.path.getsize(path)
    if size == 0:
        raise UnreadableMatFileError(
            f"{path} is empty (0 bytes): probably an interrupted download. Download it again "
            "or remove it."
        )
    with open(path, "rb") as f:
        header = f.read(_V5_HEADER_BYTES)
        if len(header) < _V5_HEADER_BYTES or header[126:128] not in (b"IM", b"MI"):
            return  # not a v5 file (v4, or not MATLAB at all): scipy says what is wrong
        order = "<" if header[126:128] == b"IM" else ">"
        if struct.unpack(order + "H", header[124:126])[0] != 0x0100:
            return  # v7.3 (0x0200): an HDF5 file behind a MATLAB header, checked by h5py
        position = _V5_HEADER_BYTES
        while position + 8 <= size:
            f.seek(position)
            data_type, n_bytes = struct.unpack(order + "II", f.read(8))
            if data_type >> 16:  # a small element: type and byte count share the first word
                position += 8
                continue
            end = position + 8 + n_bytes  # as scipy reads it: no padding after the element
            if end > size:
                raise UnreadableMatFileError(
                    f"{path} is truncated: a variable stored at byte {position} needs {end} "
                    f"bytes, but the file has {size} (an interrupted download?). Download it "
                    "again."
                )
            position = end


def is_hdf5(path) -> bool:
    """Whether ``path`` is an HDF5 file (MATLAB v7.3 or written by h5py).

    The HDF5 superblock sits at byte 0 or, after a user block (MATLAB writes a 512-byte one), at
    512, 1024, 2048, ... bytes; the signature is looked for at each of these offsets.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        offset = 0
        while offset + len(_HDF5_SIGNATURE) <= size:
            f.seek(offset)
            if f.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                return True
            offset = 512 if offset == 0 else 2 * offset
    return False


def _import_h5py(path):
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is installed in the dev environment
        raise ImportError(
            f"{path} is a MATLAB v7.3 (HDF5) file; reading it needs h5py. "
            "Install it with `pip install h5py`."
        ) from exc
    return h5py


def _h5_is_matlab(node) -> bool:
    return "MATLAB_class" in node.attrs


def _h5_shape(node):
    """Logical shape of an HDF5 node, or None when it is not a numeric array."""
    if "MATLAB_sparse" in node.attrs:  # a group with data / ir / jc
        return (int(node.attrs["MATLAB_sparse"]), int(node["jc"].shape[0]) - 1)
    if not hasattr(node, "dtype") or node.dtype.kind not in "biuf":
        return None
    if node.attrs.get("MATLAB_class", b"") in (b"cell", b"char", "cell", "char"):
        return None
    shape = tuple(int(s) for s in node.shape)
    return shape[::-1] if _h5_is_matlab(node) else shape


def _h5_read(node, name, path):
    if "MATLAB_sparse" in node.attrs:
        n_rows = int(node.attrs["MATLAB_sparse"])
        jc = node["jc"][()].astype(np.int64)
        ir = node["ir"][()].astype(np.int64) if "ir" in node else np.zeros(0, np.int64)
        data = node["data"][()] if "data" in node else np.zeros(0)
        return sp.csc_matrix((data, ir, jc), shape=(n_rows, jc.shape[0] - 1))
    if _h5_shape(node) is None:
        raise ValueError(f"Variable {name!r} in {path} is not a numeric array.")
    value = node[()]
    return value.T if _h5_is_matlab(node) else value


_NUMERIC = set(
    "double single int8 uint8 int16 uint16 int32 uint32 int64 uint64 logical sparse".split()
)


def mat_shapes(path) -> dict:
    """Names and logical shapes of the numeric variables in a ``.mat`` file, without loading them.

    Parameters
    ----------
    path : str or path-like
        A MATLAB v5 or v7.3 file (or an HDF5 file written by h5py).

    Returns
    -------
    shapes : dict
        ``{name: shape}`` for every numeric (dense or sparse) top-level variable.

    Raises
    ------
    UnreadableMatFileError
        For an empty, truncated or corrupt file, naming it (a ``ValueError``).
    """
    path = os.fspath(path)
    _check_readable(path)
    try:
        if is_hdf5(path):
            h5py = _import_h5py(path)
            with h5py.File(path, "r") as f:
                shapes = {name: _h5_shape(f[name]) for name in f if not name.startswith("#")}
            return {k: v for k, v in shapes.items() if v is not None}
        listed = scipy.io.whosmat(path)
    except (ImportError, MemoryError):
        raise
    except Exception as exc:  # scipy and h5py raise many types for a damaged file
        raise _unreadable(path, exc) from exc
    return {name: tuple(int(s) for s in shape) for name, shape, kind in listed if kind in _NUMERIC}


def _h5_kind(node) -> str:
    matlab_class = node.attrs.get("MATLAB_class")
    if matlab_class is not None:
        return matlab_class.decode() if isinstance(matlab_class, bytes) else str(matlab_class)
    if not hasattr(node, "dtype"):
        return "group"
    return "text" if node.dtype.kind in "SUO" else f"{node.dtype}"


def non_numeric_variables(path) -> dict:
    """The top-level variables that :func:`mat_shapes` leaves out, with what they hold.

    Only for error messages: a variable with the right name but text, cells or structs in it
    is then reported as what it is, not as missing. An unreadable file gives ``{}`` (reading it
    for real says why).

    Returns
    -------
    kinds : dict
        ``{name: kind}``: the MATLAB class (``"char"``, ``"cell"``, ``"struct"``, ...), or for
        an HDF5 file written without MATLAB's attributes ``"text"``, ``"group"`` or the dtype.
    """
    path = os.fspath(path)
    try:
        if is_hdf5(path):
            h5py = _import_h5py(path)
            with h5py.File(path, "r") as f:
                return {
                    name: _h5_kind(f[name])
                    for name in f
                    if not name.startswith("#") and _h5_shape(f[name]) is None
                }
        return {name: kind for name, _, kind in scipy.io.whosmat(path) if kind not in _NUMERIC}
    except Exception:  # the message being built must not hide the original problem
        return {}


def read_mat(path, names) -> dict:
    """Load the named variables of a ``.mat`` file in MATLAB's logical orientation.

    Parameters
    ----------
    path : str or path-like
        A MATLAB v5 or v7.3 file (or an HDF5 file written by h5py).
    names : iterable of str
        Variables to load.

    Returns
    -------
    arrays : dict
        ``{name: ndarray or scipy.sparse matrix}``.
    """
    path = os.fspath(path)
    names = list(names)
    try:
        if is_hdf5(path):
            h5py = _import_h5py(path)
            with h5py.File(path, "r") as f:
                return {name: _h5_read(f[name], name, path) for name in names}
        loaded = scipy.io.loadmat(path, variable_names=names)
    except (ImportError, MemoryError):
        raise
    except Exception as exc:  # a damaged compressed variable only shows when it is read
        if isinstance(exc, ValueError) and str(path) in str(exc):
            raise  # _h5_read's own error, which names the file
        raise _unreadable(path, exc) from exc
    missing = [name for name in names if name not in loaded]
    if missing:
        raise _unreadable(path, KeyError(f"variables {missing} listed but not loaded"))
    return {name: loaded[name] for name in names}


def _describe(key) -> str:
    """``"image"`` for a role, ``"query image"`` for a ``(part, role)`` key."""
    return " ".join(key) if isinstance(key, tuple) else str(key)


def item_axes(shapes: dict, where=None) -> tuple[int, dict]:
    """Find the item count shared by arrays that describe the same items, and each one's axis.

    Items are on the first axis (MATLAB files and Python files alike, as a rule) or on the last
    (v7.3 files written from Python with MATLAB's column layout). When the first axes of most
    arrays agree, that count is the item count, and an array without an axis of that size is an
    error: a size that merely happens to be shared elsewhere (image (100, 24), text (90, 24),
    labels (100, 24)) is never taken as the item count, so nothing is silently transposed.

    Parameters
    ----------
    shapes : dict
        ``{role: shape}`` of the arrays (say image, text and labels).
    where : str, default=None
        The file(s) the arrays come from, named in the error message.

    Returns
    -------
    n_items : int
        The number of items.
    axes : dict
        ``{role: axis}``: the axis holding the items (the first when several match, else the
        last).

    Raises
    ------
    ValueError
        When the arrays do not share an item count, listing every array's shape.
    """
    shapes = {key: tuple(int(n) for n in shape) for key, shape in shapes.items()}
    listed = ", ".join(f"{_describe(key)} {shape}" for key, shape in shapes.items())
    origin = f" in {where}" if where else ""
    firsts = [shape[0] for shape in shapes.values() if shape]
    n_first = max(set(firsts), key=lambda n: (firsts.count(n), n)) if firsts else None
    if n_first is not None and firsts.count(n_first) >= min(2, len(shapes)):
        lacking = [_describe(k) for k, shape in shapes.items() if n_first not in shape]
        if lacking:
            raise ValueError(
                f"The arrays{origin} do not share an item count, so they cannot describe the "
                f"same items: {listed}. Their first axes say {n_first} items, but "
                f"{' and '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} no axis of "
                "that size. Check that the files belong to the same dataset and split."
            )
        n_items = n_first
    else:  # the first axes all differ: items must be on the last axis of some arrays
        ends = [{shape[0], shape[-1]} for shape in shapes.values() if shape]
        common = set.intersection(*ends) if ends else set()
        if not common or len(ends) != len(shapes):
            raise ValueError(
                f"The arrays{origin} do not share an item count, so they cannot describe the "
                f"same items: {listed}. Items must be on the first (or the last) axis of every "
                "array."
            )
        lasts = [shape[-1] for shape in shapes.values()]
        n_items = max(common, key=lambda n: (lasts.count(n), n))
    return n_items, {key: _item_axis(shape, n_items) for key, shape in shapes.items()}


def _item_axis(shape: tuple, n_items: int) -> int:
    """The first axis of size ``n_items`` if that is the first one, else the last, else any."""
    if shape[0] == n_items:
        return 0
    if shape[-1] == n_items:
        return len(shape) - 1
    return shape.index(n_items)
