"""The compiled search engine: the optional C extension ``skmetacmh._search._kernels``.

Same results as :class:`~._numpy_engine.NumpyEngine`, tie order and floating-point sums
included (the tests check it); see ``_scan.c`` for the algorithms.
"""

from __future__ import annotations

import numpy as np

from ._engine import SearchEngine
from ._numpy_engine import NumpyEngine

__all__ = ["AP_MAX_DB", "CompiledEngine"]


def _mih_tables(db, tables, n_bits) -> tuple:
    """The MIH kernels' table arguments, in their order, after ``(queries, n_query)``.

    The codes the kernel verifies are the tables' copies, or the database read by id.
    """
    codes = tables.codes if tables.copies else db[: tables.n]
    return (
        tables.meta, tables.m, tables.offsets, tables.keys, tables.ids, codes, tables.copies,
        tables.width, tables.n, tables.n_words, n_bits, tables.sub_masks,
    )  # fmt: skip


#: The largest database the compiled average precision takes: it counts items in 32-bit halves
#: of one counter per distance (see ``_scan.c``); a larger one is ranked by the numpy engine.
AP_MAX_DB = 2**32 - 1


class CompiledEngine(SearchEngine):
    """Thin wrappers over the C kernels; ``kernels`` is the imported extension module."""

    name = "compiled"
    # mAP@k: the one-pass AP kernel ranks the whole database faster than the top-k search
    # finishes unless k is very small; see ``python benchmarks/bench_doc_claims.py
    # top-k-crossover --ratios 1000 500 300 180 64`` and the numbers in docs/metrics.rst.
    top_k_search_ratio = 300

    def __init__(self, kernels):
        self._kernels = kernels

    @property
    def kernels(self):
        """The extension module (this class is the package's one caller of its functions)."""
        return self._kernels

    def mih_knn(self, queries, db, tables, n_bits, k, budget):
        """Multi-index hashing top-k over ``tables`` (a ``_mih._Tables`` of ``db``'s first rows).

        Returns ``(distances, ids, over)``: ``over`` flags the queries that spent their work
        budget, whose rows hold ``-1`` and which the caller answers with the scan.
        """
        from ._mih import COSTS  # _mih imports the package, which imports this module

        n_query = queries.shape[0]
        out_d = np.empty((n_query, k), dtype=np.int32)
        out_i = np.empty((n_query, k), dtype=np.int64)
        status = np.zeros(n_query, dtype=np.int8)
        self._kernels.mih_knn(
            queries, n_query, *_mih_tables(db, tables, n_bits), k, budget, COSTS, out_d, out_i,
            status,
        )  # fmt: skip
        return out_d, out_i, status.astype(bool)

    def mih_range(self, queries, db, tables, n_bits, radius, budget):
        """Multi-index hashing radius search: per query ``(distances, ids)``, and ``over``.

        Two passes into buffers allocated here, as ``_range``'s: count, then fill (the kernel
        checks that the second pass finds what the first counted).
        """
        from ._mih import COSTS

        n_query = queries.shape[0]
        head = (queries, n_query, *_mih_tables(db, tables, n_bits), radius, budget, COSTS)
        counts = np.zeros(n_query, dtype=np.int64)
        status = np.zeros(n_query, dtype=np.int8)
        self._kernels.mih_range_count(*head, counts, status)
        lims = np.zeros(n_query + 1, dtype=np.int64)
        np.cumsum(counts, out=lims[1:])
        dist = np.empty(int(lims[-1]), dtype=np.int32)
        ids = np.empty(int(lims[-1]), dtype=np.int64)
        self._kernels.mih_range_fill(*head, lims, dist, ids)
        per_query = [(dist[a:b], ids[a:b]) for a, b in zip(lims[:-1], lims[1:])]
        return per_query, status.astype(bool)

    def _knn(self, queries, db, n_bits, k):
        db, queries = np.ascontiguousarray(db), np.ascontiguousarray(queries)
        n_query = queries.shape[0]
        out_d = np.empty((n_query, k), dtype=np.int32)
        out_i = np.empty((n_query, k), dtype=np.int64)
        self._kernels.knn(queries, n_query, db, db.shape[0], db.shape[1], n_bits, k, out_d, out_i)
        return out_d, out_i

    def _range(self, queries, db, n_bits, radius):
        db, queries = np.ascontiguousarray(db), np.ascontiguousarray(queries)
        n_query, n_db, n_words = queries.shape[0], db.shape[0], db.shape[1]
        hist = np.zeros((n_query, radius + 1), dtype=np.int64)
        self._kernels.range_count(queries, n_query, db, n_db, n_words, radius, hist)
        # Counting sort: where each (query, distance) group starts in the flat result.
        starts = np.zeros(hist.size + 1, dtype=np.int64)
        np.cumsum(hist.ravel(), out=starts[1:])
        lims = starts[:: radius + 1].copy()
        cursor = starts[:-1].reshape(n_query, radius + 1).copy()
        out_d = np.empty(int(starts[-1]), dtype=np.int32)
        out_i = np.empty(int(starts[-1]), dtype=np.int64)
        self._kernels.range_fill(queries, n_query, db, n_db, n_words, radius, cursor, out_d, out_i)
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
