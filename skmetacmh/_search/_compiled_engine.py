"""The compiled search engine: the optional C extension ``skmetacmh._search._kernels``.

Same results as :class:`~._numpy_engine.NumpyEngine`, tie order and floating-point sums
included (the tests check it); see ``_scan.c`` for the algorithms.
"""

from __future__ import annotations

import numpy as np

from ._engine import SearchEngine
from ._numpy_engine import NumpyEngine

__all__ = ["AP_MAX_DB", "CompiledEngine"]

#: The largest database the compiled average precision takes: it counts items in 32-bit halves
#: of one counter per distance (see ``_scan.c``); a larger one is ranked by the numpy engine.
AP_MAX_DB = 2**32 - 1


class CompiledEngine(SearchEngine):
    """Thin wrappers over the C kernels; ``kernels`` is the imported extension module."""

    name = "compiled"
    # mAP@k: the one-pass AP kernel ranks the whole database faster than the top-k search
    # finishes unless k is very small; see ``python benchmarks/bench_doc_claims.py
    # top-k-crossover`` and the numbers in docs/metrics.rst.
    top_k_search_ratio = 300

    def __init__(self, kernels):
        self._kernels = kernels

    @property
    def kernels(self):
        """The extension module; multi-index hashing runs its probe/verify loop there too."""
        return self._kernels

    def _knn(self, db, queries, n_bits, k):
        db, queries = np.ascontiguousarray(db), np.ascontiguousarray(queries)
        n_query = queries.shape[0]
        out_d = np.empty((n_query, k), dtype=np.int32)
        out_i = np.empty((n_query, k), dtype=np.int64)
        self._kernels.knn(db, db.shape[0], queries, n_query, db.shape[1], n_bits, k, out_d, out_i)
        return out_d, out_i

    def _range(self, db, queries, n_bits, radius):
        db, queries = np.ascontiguousarray(db), np.ascontiguousarray(queries)
        n_query, n_db, n_words = queries.shape[0], db.shape[0], db.shape[1]
        hist = np.zeros((n_query, radius + 1), dtype=np.int64)
        self._kernels.range_count(db, n_db, queries, n_query, n_words, radius, hist)
        # Counting sort: where each (query, distance) group starts in the flat result.
        starts = np.zeros(hist.size + 1, dtype=np.int64)
        np.cumsum(hist.ravel(), out=starts[1:])
        lims = starts[:: radius + 1].copy()
        cursor = starts[:-1].reshape(n_query, radius + 1).copy()
        out_d = np.empty(int(starts[-1]), dtype=np.int32)
        out_i = np.empty(int(starts[-1]), dtype=np.int64)
        self._kernels.range_fill(db, n_db, queries, n_query, n_words, radius, cursor, out_d, out_i)
        if not np.array_equal(cursor.ravel(), starts[1:]):  # every group filled exactly
            raise RuntimeError(
                "range search: the two passes of the kernel disagree (please report)."
            )
        return lims, out_d, out_i

    def _average_precision_all(
        self, queries, db, n_bits, query_labels, db_labels, label_words, top_k=None
    ):
        # Counting-sort AP in compiled code: O(n_db) per query, no chunk matrices at all.
        if db.shape[0] > AP_MAX_DB:
            return NumpyEngine()._average_precision_all(
                queries, db, n_bits, query_labels, db_labels, label_words, top_k
            )
        queries, db = np.ascontiguousarray(queries), np.ascontiguousarray(db)
        ap = np.zeros(queries.shape[0])
        n_relevant = np.zeros(queries.shape[0], dtype=np.int64)
        self._kernels.average_precision(
            queries,
            queries.shape[0],
            db,
            db.shape[0],
            db.shape[1],
            n_bits,
            np.ascontiguousarray(query_labels),
            np.ascontiguousarray(db_labels),
            label_words,
            0 if top_k is None else top_k,
            ap,
            n_relevant,
        )
        return ap, n_relevant > 0
