"""Bit counts of unsigned integer arrays on every supported numpy.

``np.bitwise_count`` (a ufunc, one POPCNT instruction per word) exists from numpy 2.0 on. The
package also supports numpy 1.23-1.26, where it is missing, so :func:`bitwise_count` is that
ufunc itself on numpy 2 and, on numpy 1.x, a byte lookup table giving the same counts.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bitwise_count"]


def _bitwise_count_table(x, out=None):
    """``np.bitwise_count`` for numpy < 2: sum a 256-entry table over the bytes of ``x``.

    Parameters
    ----------
    x : ndarray of unsigned integers
        The words whose set bits are counted.
    out : ndarray, optional
        Where to write the counts (any integer dtype wide enough, as with the ufunc).

    Returns
    -------
    counts : ndarray of uint8, or ``out``
        Set bits per element, shape of ``x``.
    """
    x = np.ascontiguousarray(x)
    as_bytes = x.view(np.uint8).reshape(*x.shape, x.dtype.itemsize)
    counts = _BYTE_COUNTS[as_bytes].sum(axis=-1, dtype=np.uint8)
    if out is None:
        return counts
    out[...] = counts
    return out


_BYTE_COUNTS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(
    axis=1, dtype=np.uint8
)

bitwise_count = getattr(np, "bitwise_count", _bitwise_count_table)
