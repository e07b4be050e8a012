"""The protocol every search engine implements, and what all engines share.

An engine works on packed codes (``uint64`` words, :func:`~._packing.pack_codes`) and answers
three questions, always in the package's ranking order, (distance, database index):

``knn(queries, db, n_bits, k)``
    the ``k`` nearest codes, ``(distances int32, ids int64)``, padded with ``-1``;
``range(queries, db, n_bits, radius)``
    every code within ``radius`` (inclusive), ``(lims, distances, ids)`` as faiss returns them;
``average_precision(queries, db, n_bits, query_labels, db_labels, label_words, top_k)``
    per-query AP and whether the query has any relevant database item;
``mih_knn(queries, db, tables, n_bits, k, budget)``, ``mih_range(..., radius, budget)``
    the probe/verify loop of multi-index hashing over tables built by ``_mih.MultiIndex``.

Subclasses implement ``_knn`` (``0 < k <= n_db``), ``_range`` (both sets non-empty) and
``_average_precision_all`` (AP from a ranking of the whole database, optionally cut at
``top_k``); the padding, the empty cases and mAP@k by one top-k search (then the relevance of
those k items only) are written once, here.

Labels come as int64 class ids (``label_words == 0``: relevant iff equal) or as packed label
bit sets (``label_words`` words per item: relevant iff they intersect), so every engine reads
the same two forms and nothing is transposed or re-packed per call.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._chunking import get_chunk_n_rows

__all__ = [
    "TOP_K_SEARCH_RATIO",
    "SearchEngine",
    "gathered_relevance",
    "has_relevant",
    "relevance",
]


def relevance(query_labels: np.ndarray, db_labels: np.ndarray, label_words: int) -> np.ndarray:
    """``(n_query, n_db)`` bool: which database items share a label with each query."""
    if label_words == 0:
        return query_labels[:, None] == db_labels[None, :]
    out = np.zeros((query_labels.shape[0], db_labels.shape[0]), dtype=bool)
    for w in range(label_words):
        out |= (query_labels[:, None, w] & db_labels[None, :, w]) != 0
    return out


def gathered_relevance(query_labels, db_labels, label_words: int, ids: np.ndarray) -> np.ndarray:
    """Relevance of the database items ``ids`` (shape ``(n_query, k)``) to each query."""
    if label_words == 0:
        return query_labels[:, None] == db_labels[ids]
    return ((query_labels[:, None, :] & db_labels[ids]) != 0).any(axis=-1)


def has_relevant(query_labels, db_labels, label_words: int) -> np.ndarray:
    """Whether each query shares a label with at least one database item; O(n_db) once."""
    if label_words == 0:
        present = np.zeros(max(query_labels.max(initial=0), db_labels.max(initial=0)) + 1, bool)
        present[db_labels] = True
        return present[query_labels]
    union = np.bitwise_or.reduce(db_labels, axis=0)
    return ((query_labels & union) != 0).any(axis=1)


def _ap_from_top_k(ids: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """AP@k of ranked lists: mean precision at the hits, normalised by the hits found.

    The precision terms are summed in database-index order, one after the other, as the
    compiled full-ranking kernel sums them, so both give the same floating-point value.
    """
    n_query, k = hits.shape
    cum = np.cumsum(hits, axis=1)
    rows, cols = np.nonzero(hits)
    terms = cum[rows, cols] / (cols + 1.0)
    order = np.lexsort((ids[rows, cols], rows))
    precision_sum = np.bincount(rows[order], weights=terms[order], minlength=n_query)
    n_hits = cum[:, -1] if k else np.zeros(n_query, dtype=np.int64)
    return np.divide(
        precision_sum, n_hits, out=np.zeros(n_query, dtype=np.float64), where=n_hits > 0
    )


#: precision@k (``metrics._ranking``) and the numpy engine's mAP@k run a top-k search when
#: ``k * TOP_K_SEARCH_RATIO <= n_db`` and rank the whole database in numpy otherwise (same values
#: either way). Measured with ``OMP_NUM_THREADS=1 python benchmarks/bench_doc_claims.py
#: top-k-crossover [--n-db 100000]`` (300 queries of 64 bits, 24 labels, bench_metrics.py's
#: problem, seed 0; n_db = 18,015 and 100,000): against the numpy ranking the top-k search is
#: 1.8-4.4x faster at n_db / k >= 180, breaks even near n_db / k = 64 (1.05-1.16x) and is 3x
#: slower at n_db / k = 16, where it keeps so many candidates that one counting sort of the
#: whole database is cheaper. The compiled engine ranks faster and sets its own ratio.
TOP_K_SEARCH_RATIO = 64


class SearchEngine:
    """Base of the engines: the shared padding, empty cases and mAP@k; see the module doc."""

    name = "base"
    #: mAP@k runs one top-k search when ``k * top_k_search_ratio <= n_db``, else
    #: ``_average_precision_all`` (the crossover of this engine's two routes).
    top_k_search_ratio = TOP_K_SEARCH_RATIO

    @property
    def scan_engine(self) -> SearchEngine:
        """The engine for scans of part of a database (multi-index hashing's): this one."""
        return self

    def forget(self) -> None:
        """Drop what the engine caches about a database (its owner was reset); nothing here."""

    def knn(self, queries: np.ndarray, db: np.ndarray, n_bits: int, k: int):
        n_query, n_db = queries.shape[0], db.shape[0]
        k_eff = min(k, n_db)
        if k_eff == 0 or n_query == 0:
            return (
                np.full((n_query, k), -1, dtype=np.int32),
                np.full((n_query, k), -1, dtype=np.int64),
            )
        distances, ids = self._knn(queries, db, n_bits, k_eff)
        if k_eff < k:
            pad = ((0, 0), (0, k - k_eff))
            distances = np.pad(distances, pad, constant_values=-1)
            ids = np.pad(ids, pad, constant_values=-1)
        return distances, ids

    def range(self, queries: np.ndarray, db: np.ndarray, n_bits: int, radius: int):
        radius = int(min(radius, n_bits))
        if queries.shape[0] == 0 or db.shape[0] == 0:
            lims = np.zeros(queries.shape[0] + 1, dtype=np.int64)
            return lims, np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
        return self._range(queries, db, n_bits, radius)

    def average_precision(
        self, queries, db, n_bits, query_labels, db_labels, label_words, top_k=None
    ):
        """Per-query AP (``top_k=None``: every rank) and a mask of queries with a relevant item."""
        if top_k is not None and top_k >= db.shape[0]:
            top_k = None
        if top_k is None or top_k * self.top_k_search_ratio > db.shape[0]:
            return self._average_precision_all(
                queries, db, n_bits, query_labels, db_labels, label_words, top_k
            )
        return self._average_precision_top_k(
            queries, db, n_bits, query_labels, db_labels, label_words, top_k
        )

    def _average_precision_top_k(
        self, queries, db, n_bits, query_labels, db_labels, label_words, top_k
    ):
        # mAP@k needs only the first k ranks: one top-k search, no ranking of the whole database.
        ap = np.zeros(queries.shape[0])
        row_bytes = top_k * (4 + 8 + 8 + 1 + 8 * max(label_words, 1))
        rows = get_chunk_n_rows(row_bytes, max_n_rows=queries.shape[0])
        for start in range(0, queries.shape[0], rows):
            chunk = slice(start, start + rows)
            _, ids = self._knn(queries[chunk], db, n_bits, top_k)
            hits = gathered_relevance(query_labels[chunk], db_labels, label_words, ids)
            ap[chunk] = _ap_from_top_k(ids, hits)
        return ap, has_relevant(query_labels, db_labels, label_words)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
