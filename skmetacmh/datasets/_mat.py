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

import numpy as np
import scipy.io
import scipy.sparse as sp

__all__ = ["is_hdf5", "mat_shapes", "read_mat", "item_axes"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


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
    """
    path = os.fspath(path)
    if is_hdf5(path):
        h5py = _import_h5py(path)
        with h5py.File(path, "r") as f:
            shapes = {name: _h5_shape(f[name]) for name in f if not name.startswith("#")}
        return {k: v for k, v in shapes.items() if v is not None}
    numeric = {"double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32",
               "int64", "uint64", "logical", "sparse"}  # fmt: skip
    return {
        name: tuple(int(s) for s in shape)
        for name, shape, kind in scipy.io.whosmat(path)
        if kind in numeric
    }


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
    if is_hdf5(path):
        h5py = _import_h5py(path)
        with h5py.File(path, "r") as f:
            return {name: _h5_read(f[name], name, path) for name in names}
    loaded = scipy.io.loadmat(path, variable_names=names)
    return {name: loaded[name] for name in names}


def item_axes(shapes: dict) -> tuple[int, dict]:
    """Find the item count shared by arrays that describe the same items, and each one's axis.

    Parameters
    ----------
    shapes : dict
        ``{role: shape}`` of the arrays (say image, text and labels).

    Returns
    -------
    n_items : int
        The dimension size that every array has. When several sizes qualify, the one that is
        the first axis of most arrays wins (MATLAB files put items in rows), then the largest.
    axes : dict
        ``{role: axis}``: the axis holding the items (the first axis when several match).

    Raises
    ------
    ValueError
        When the arrays share no dimension size, listing their shapes.
    """
    common = None
    for shape in shapes.values():
        common = set(shape) if common is None else common & set(shape)
    if not common:
        listed = ", ".join(f"{role} {tuple(shape)}" for role, shape in shapes.items())
        raise ValueError(
            f"The arrays do not share an item count, so they cannot describe the same items: "
            f"{listed}."
        )
    n_items = max(common, key=lambda n: (sum(shape[0] == n for shape in shapes.values()), n))
    return n_items, {role: list(shape).index(n_items) for role, shape in shapes.items()}
