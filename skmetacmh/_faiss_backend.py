"""The optional faiss backend of HammingIndex, made to return exactly what the numpy path returns.

``faiss.IndexBinaryFlat`` finds the exact k smallest distances, but among items tied at the k-th
distance it keeps an arbitrary subset in an arbitrary order. The package ranks ties by database
index, so the adapter asks faiss for more than k neighbours until, for every query, the last
returned distance is larger than the k-th one (or everything was returned): then every item tied
at the boundary is among the results, and an exact (distance, index) sort of them gives the same
answer as :func:`skmetacmh._topk.knn_search`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["import_faiss", "packed_to_faiss_bytes", "faiss_knn", "faiss_range"]

_INSTALL_HINT = "pip install faiss-cpu"


def import_faiss():
    """Import faiss or raise an ImportError that says how to install it."""
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(
            f"backend='faiss' needs the faiss package, which is not installed; install it with "
            f"`{_INSTALL_HINT}` (or use backend='numpy')."
        ) from exc
    return faiss


def faiss_available() -> bool:
    try:
        import_faiss()
    except ImportError:
        return False
    return True


def packed_to_faiss_bytes(packed: np.ndarray, n_bits: int) -> np.ndarray:
    """faiss wants ``n_bits / 8`` bytes per code; our little-endian words hold them first."""
    as_bytes = np.ascontiguousarray(packed, dtype=np.uint64).view(np.uint8)
    return np.ascontiguousarray(as_bytes.reshape(packed.shape[0], -1)[:, : n_bits // 8])


def _exact_rows(distances: np.ndarray, indices: np.ndarray, k: int):
    order = np.lexsort((indices, distances), axis=-1)[:, :k]
    return np.take_along_axis(distances, order, -1), np.take_along_axis(indices, order, -1)


def faiss_knn(index, queries: np.ndarray, k: int):
    """Exact top-``k`` (``k <= index.ntotal``) from a faiss binary index, ties by index."""
    ntotal = index.ntotal
    n_query = queries.shape[0]
    out_d = np.empty((n_query, k), dtype=np.int32)
    out_i = np.empty((n_query, k), dtype=np.int64)
    pending = np.arange(n_query)
    # The scan dominates the cost and a longer list costs little more, so ask for 2k first: with
    # random codes one search is then nearly always enough.
    n_ask = min(ntotal, 2 * k + 64)
    while pending.size:
        distances, indices = index.search(queries[pending], n_ask)
        boundary = distances[:, k - 1]
        done = (distances[:, n_ask - 1] > boundary) | (n_ask >= ntotal)
        if done.any():
            d, i = _exact_rows(distances[done], indices[done], k)
            out_d[pending[done]] = d
            out_i[pending[done]] = i
        pending = pending[~done]
        n_ask = min(ntotal, 2 * n_ask)
    return out_d, out_i


def faiss_range(index, queries: np.ndarray, radius: int):
    """Items within distance ``radius`` inclusive, sorted by (distance, index) per query."""
    # faiss keeps distances strictly below its radius.
    lims, distances, indices = index.range_search(queries, radius + 1)
    lims = lims.astype(np.int64)
    owner = np.repeat(np.arange(queries.shape[0]), np.diff(lims))
    order = np.lexsort((indices, distances, owner))
    return lims, distances[order].astype(np.int32), indices[order].astype(np.int64)
