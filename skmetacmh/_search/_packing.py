"""Bit packing, the one code layout every search engine, the index and the metrics share.

Codes travel through the public API as ``uint8`` arrays of 0/1 bits, shape ``(n, n_bits)``.
Internally they are packed into 64-bit words so that one XOR and one popcount compare 64 bits.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "check_codes",
    "distance_dtype",
    "n_words",
    "pack_codes",
    "pack_database",
    "unpack_codes",
]


def check_codes(codes, name: str = "codes", n_bits: int | None = None) -> np.ndarray:
    """Validate a 0/1 code matrix and return it as a C-contiguous ``uint8`` array.

    Raises a ``ValueError`` naming ``name`` when the array is not 2-D, holds values other than 0
    and 1, or does not have ``n_bits`` columns.
    """
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of 0/1 bits with shape (n, n_bits); got an array with "
            f"shape {arr.shape}."
        )
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    elif arr.size and (
        not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating)
    ):
        raise ValueError(f"{name} must hold real 0/1 numbers; got dtype {arr.dtype}.")
    hint = _packed_hint(arr, n_bits)
    if arr.size:
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinity; codes must be 0/1 bits.")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            first = arr[bad].ravel()[0]
            raise ValueError(
                f"{name} must hold only 0 and 1 (bits, as returned by encode); found "
                f"{first!r}.{hint}"
            )
    if n_bits is not None and arr.shape[1] != n_bits:
        raise ValueError(f"{name} must have {n_bits} columns (n_bits); got {arr.shape[1]}.{hint}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _packed_hint(arr: np.ndarray, n_bits: int | None) -> str:
    """A hint when ``arr`` looks like packed codes handed to an API that takes 0/1 bits."""
    if n_bits is None or arr.shape[1] == n_bits:
        return ""
    if arr.dtype == np.uint8 and arr.shape[1] == -(-n_bits // 8):
        form = "np.packbits bytes"
    elif arr.dtype in (np.uint64, np.int64) and arr.shape[1] == n_words(n_bits):
        form = "64-bit words"
    else:
        return ""
    return (
        f" It looks like {n_bits}-bit codes packed as {form} ({arr.shape[1]} per code); this "
        f"API takes one 0/1 value per bit: unpack them first, e.g. np.unpackbits(codes, "
        f"axis=1, count={n_bits}) for np.packbits output."
    )


def n_words(n_bits: int) -> int:
    """Number of 64-bit words that hold one ``n_bits`` code (at least one)."""
    return max(1, -(-n_bits // 64))


def distance_dtype(n_bits: int):
    """Smallest unsigned type holding every distance and one more (the bound ``<= n_bits``).

    Small types keep memory low and let a stable argsort use radix sort.
    """
    return np.uint8 if n_bits < 255 else np.uint16 if n_bits < 65535 else np.uint32


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """Pack ``(n, n_bits)`` 0/1 codes into ``(n, ceil(n_bits / 64))`` ``uint64`` words.

    Bit ``j`` of a code lands in word ``j // 64``; the unused high bits of the last word are zero
    for every code, so they never contribute to a distance.
    """
    codes = np.asarray(codes, dtype=np.uint8)
    n, n_bits = codes.shape
    padded = np.zeros((n, n_words(n_bits) * 64), dtype=np.uint8)
    padded[:, :n_bits] = codes
    packed_bytes = np.packbits(padded, axis=1, bitorder="little")
    return np.ascontiguousarray(packed_bytes).view("<u8").astype(np.uint64, copy=False)


def unpack_codes(packed: np.ndarray, n_bits: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: ``(n, n_words)`` words back to ``(n, n_bits)`` bits."""
    packed = np.ascontiguousarray(packed, dtype=np.uint64)
    as_bytes = packed.view(np.uint8).reshape(packed.shape[0], 8 * packed.shape[1])
    return np.unpackbits(as_bytes, axis=1, count=n_bits, bitorder="little")


def pack_database(image_codes, text_codes, labels):
    """A cross-modal database packed for the engines, with its labels as packed bit sets.

    Returns
    -------
    image_words, text_words : ndarray of uint64, shape (n, n_words)
    label_words : ndarray of uint64, shape (n, ceil(n_classes / 64))
        The {0,1} indicator ``labels`` as bit sets: relevant iff two rows intersect.
    n_label_words : int
    """
    return (
        pack_codes(image_codes),
        pack_codes(text_codes),
        pack_codes(labels),
        n_words(labels.shape[1]),
    )
