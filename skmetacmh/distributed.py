"""Encoding out of core with Dask: hash a database larger than one machine's memory.

A fitted hasher is a small object; encoding is embarrassingly parallel over rows. These
helpers map ``transform``/``encode`` over the row blocks of a ``dask.array`` so each worker
holds one block at a time; the result is a lazy ``uint8`` dask array of bits, which can be
written to disk (``to_zarr``, ``to_npy_stack``) or fed block by block to sharded
:class:`~skmetacmh.index.HammingIndex` objects. ``dask_ml.wrappers.ParallelPostFit`` works
too; these functions only avoid that dependency and fix dtypes and chunk shapes up front.

Dask is an optional dependency (``pip install "dask[array,distributed]"``).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._modalities import check_modality

__all__ = ["transform_dask", "encode_dask"]


def _dask_array(X, name):
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Encoding with Dask needs dask: pip install "dask[array,distributed]".'
        ) from exc
    if not isinstance(X, da.Array):
        raise TypeError(f"{name} must be a dask.array.Array; got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D; got {X.ndim} dimensions.")
    # Whole rows per block: a hash function needs every feature of an item.
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def transform_dask(hasher, X):
    """Lazily hash both modalities of a dask array, block of rows by block of rows.

    Parameters
    ----------
    hasher : fitted cross-modal hasher
    X : dask.array.Array of shape (n_samples, n_features)
        ``[image block | text block]`` as in ``fit``; chunked along rows.

    Returns
    -------
    codes : dask.array.Array of shape (n_samples, 2 * n_bits), dtype uint8
        Image bits then text bits, computed when asked for.

    Examples
    --------
    >>> import dask.array as da
    >>> codes = transform_dask(hasher, da.from_array(X, chunks=(100_000, -1)))  # doctest: +SKIP
    >>> codes.to_zarr("codes.zarr")  # doctest: +SKIP
    """
    check_is_fitted(hasher)
    X = _dask_array(X, "X")
    if X.shape[1] != hasher.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(hasher).__name__} was fitted with "
            f"{hasher.n_features_in_}."
        )
    return X.map_blocks(
        _transform_block,
        hasher,
        dtype=np.uint8,
        chunks=(X.chunks[0], (2 * hasher.n_bits,)),
        meta=np.empty((0, 0), dtype=np.uint8),
    )


def encode_dask(hasher, X, modality: str):
    """Lazily hash one modality of a dask array (only that modality's columns).

    Returns a ``uint8`` dask array of shape ``(n_samples, n_bits)``.
    """
    check_is_fitted(hasher)
    modality = check_modality(modality)
    X = _dask_array(X, "X")
    return X.map_blocks(
        _encode_block,
        hasher,
        modality,
        dtype=np.uint8,
        chunks=(X.chunks[0], (hasher.n_bits,)),
        meta=np.empty((0, 0), dtype=np.uint8),
    )


def _transform_block(block, hasher):
    codes = hasher.transform(block)
    return codes.to_numpy() if hasattr(codes, "to_numpy") else codes


def _encode_block(block, hasher, modality):
    return hasher.encode(block, modality=modality)
