"""Bit packing, the one code layout every search engine, the index and the metrics share.

Codes travel through the public API as ``uint8`` arrays of 0/1 bits, shape ``(n, n_bits)``.
Internally they are packed into 64-bit words so that one XOR and one popcount compare 64 bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "PackedCodes",
    "PackedDatabase",
    "PackedLabels",
    "check_codes",
    "distance_dtype",
    "n_words",
    "pack_codes",
    "pack_database",
    "pack_joined",
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


@dataclass(frozen=True)
class PackedCodes:
    """Codes packed for the engines, with their length: ``words`` of :func:`pack_codes`."""

    words: np.ndarray
    n_bits: int

    @classmethod
    def pack(cls, codes) -> PackedCodes:
        codes = np.asarray(codes)
        return cls(pack_codes(codes), codes.shape[1])


@dataclass(frozen=True)
class PackedLabels:
    """Labels in the engines' form: a {0,1} indicator as bit sets, ``label_words`` words per
    item (relevant iff two rows intersect)."""

    values: np.ndarray
    label_words: int

    @classmethod
    def pack(cls, indicator) -> PackedLabels:
        indicator = np.asarray(indicator)
        return cls(pack_codes(indicator), n_words(indicator.shape[1]))


@dataclass(frozen=True)
class PackedDatabase:
    """A cross-modal database packed once for the engines: each modality's codes, and the
    labels (``None`` for a database fitted without them, which only ``kneighbors`` searches)."""

    image: PackedCodes
    text: PackedCodes
    labels: PackedLabels | None

    def codes(self, modality: str) -> PackedCodes:
        return self.image if modality == "image" else self.text


def pack_database(image_codes, text_codes, labels=None) -> PackedDatabase:
    """Pack the two modalities' ``(n, n_bits)`` 0/1 codes and the ``(n, n_labels)`` {0,1}
    indicator ``labels`` (or ``None``) of one cross-modal database."""
    return PackedDatabase(
        PackedCodes.pack(image_codes),
        PackedCodes.pack(text_codes),
        None if labels is None else PackedLabels.pack(labels),
    )


def pack_joined(codes, labels=None) -> PackedDatabase:
    """:func:`pack_database` of ``(n, 2 * n_bits)`` codes as ``transform`` returns them, image
    bits then text bits (their length is read from the codes, not from a parameter)."""
    codes = np.asarray(codes)
    n_bits = codes.shape[1] // 2
    return pack_database(codes[:, :n_bits], codes[:, n_bits:], labels)
