"""The faiss search engine: ``faiss.IndexBinaryFlat``, made to return exactly what ours return.

``faiss.IndexBinaryFlat`` finds the exact k smallest distances, but among items tied at the k-th
distance it keeps an arbitrary subset in an arbitrary order. The package ranks ties by database
index, so the adapter asks faiss for more than k neighbours until, for every query, the last
returned distance is larger than the k-th one (or everything was returned): then every item tied
at the boundary is among the results, and an exact (distance, index) sort of them gives the same
answer as the numpy and compiled engines.

faiss has no average precision; the engine hands it to the package's own engine.
"""

from __future__ import annotations

import numpy as np

from ._engine import SearchEngine

__all__ = ["FaissEngine", "faiss_available", "import_faiss", "packed_to_faiss_bytes"]

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


def _faiss_knn(index, queries: np.ndarray, k: int):
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


def _faiss_range(index, queries: np.ndarray, radius: int):
    """Items within distance ``radius`` inclusive, sorted by (distance, index) per query."""
    # faiss keeps distances strictly below its radius.
    lims, distances, indices = index.range_search(queries, radius + 1)
    lims = lims.astype(np.int64)
    owner = np.repeat(np.arange(queries.shape[0]), np.diff(lims))
    order = np.lexsort((indices, distances, owner))
    return lims, distances[order].astype(np.int32), indices[order].astype(np.int64)


class FaissEngine(SearchEngine):
    """faiss behind the engine protocol; one instance per index, since it caches faiss's copy.

    The database an instance is asked about must only grow by appending (as a HammingIndex's
    does): the cached ``IndexBinaryFlat`` is topped up with the rows it has not seen yet.
    ``forget`` drops it (after ``reset``). faiss objects do not pickle: an index that owns this
    engine resolves a fresh one after loading.

    Parameters
    ----------
    fallback : SearchEngine
        Answers ``average_precision`` and the multi-index hashing calls, which faiss does not
        have.
    """

    name = "faiss"

    def __init__(self, fallback: SearchEngine):
        self._faiss = import_faiss()
        self._fallback = fallback
        self._index = None

    @property
    def scan_engine(self) -> SearchEngine:
        # Multi-index hashing scans slices of the database (queries past their budget, codes
        # added since the build); the cached faiss copy holds all of it, so the fallback does.
        return self._fallback

    def forget(self) -> None:
        self._index = None

    def _faiss_index(self, db: np.ndarray, n_bits: int):
        if self._index is None or self._index.d != n_bits or self._index.ntotal > db.shape[0]:
            self._index = self._faiss.IndexBinaryFlat(n_bits)
        missing = db[self._index.ntotal :]
        if missing.shape[0]:
            self._index.add(packed_to_faiss_bytes(missing, n_bits))
        return self._index

    def _knn(self, queries, db, n_bits, k):
        index = self._faiss_index(db, n_bits)
        return _faiss_knn(index, packed_to_faiss_bytes(queries, n_bits), k)

    def _range(self, queries, db, n_bits, radius):
        index = self._faiss_index(db, n_bits)
        return _faiss_range(index, packed_to_faiss_bytes(queries, n_bits), radius)

    def average_precision(self, *args, **kwargs):
        return self._fallback.average_precision(*args, **kwargs)

    def mih_knn(self, *args, **kwargs):
        # faiss has no multi-index hashing: the probe loop is the fallback engine's.
        return self._fallback.mih_knn(*args, **kwargs)

    def mih_range(self, *args, **kwargs):
        return self._fallback.mih_range(*args, **kwargs)
