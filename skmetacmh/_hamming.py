"""Bit packing and Hamming distances, the primitives shared by the metrics and the index.

Codes travel through the public API as ``uint8`` arrays of 0/1 bits, shape ``(n, n_bits)``.
Internally they are packed into 64-bit words so that one XOR and one popcount compare 64 bits.
"""

from __future__ import annotations

import numpy as np

from ._popcount import bitwise_count

__all__ = ["check_codes", "pack_codes", "unpack_codes", "hamming_distances"]


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
    elif arr.size and not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold 0/1 numbers; got dtype {arr.dtype}.")
    if arr.size:
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinity; codes must be 0/1 bits.")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            first = arr[bad].ravel()[0]
            raise ValueError(
                f"{name} must hold only 0 and 1 (bits, as returned by encode); found {first!r}."
            )
    if n_bits is not None and arr.shape[1] != n_bits:
        raise ValueError(f"{name} must have {n_bits} columns (n_bits); got {arr.shape[1]}.")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """Pack ``(n, n_bits)`` 0/1 codes into ``(n, ceil(n_bits / 64))`` ``uint64`` words.

    Bit ``j`` of a code lands in word ``j // 64``; the unused high bits of the last word are zero
    for every code, so they never contribute to a distance.
    """
    codes = np.asarray(codes, dtype=np.uint8)
    n, n_bits = codes.shape
    n_words = max(1, -(-n_bits // 64))
    padded = np.zeros((n, n_words * 64), dtype=np.uint8)
    padded[:, :n_bits] = codes
    packed_bytes = np.packbits(padded, axis=1, bitorder="little")
    return np.ascontiguousarray(packed_bytes).view("<u8").astype(np.uint64, copy=False)


def unpack_codes(packed: np.ndarray, n_bits: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: ``(n, n_words)`` words back to ``(n, n_bits)`` bits."""
    packed = np.ascontiguousarray(packed, dtype=np.uint64)
    as_bytes = packed.view(np.uint8).reshape(packed.shape[0], -1)
    return np.unpackbits(as_bytes, axis=1, count=n_bits, bitorder="little")


def hamming_distances(packed_query: np.ndarray, packed_db: np.ndarray) -> np.ndarray:
    """All Hamming distances between two sets of packed codes, shape ``(n_query, n_db)``.

    The result is ``uint8`` when every distance fits (fewer than 256 bits), else ``uint16``:
    small integer types keep memory low and let a stable argsort use radix sort.
    """
    n_words = packed_query.shape[1]
    dtype = np.uint8 if n_words * 64 < 256 else np.uint16
    out = np.zeros((packed_query.shape[0], packed_db.shape[0]), dtype=dtype)
    for w in range(n_words):
        xor = np.bitwise_xor(packed_query[:, w, None], packed_db[None, :, w])
        out += bitwise_count(xor).astype(dtype, copy=False)
    return out
