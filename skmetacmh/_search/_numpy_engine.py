"""The pure numpy search engine: always available, and what the compiled engine must match.

Every result is sorted by (distance, database index), the ranking rule of the whole package (see
:mod:`skmetacmh.metrics`).

The top-k selection exploits the fact that a Hamming distance takes only ``n_bits + 1`` values:
instead of sorting or keeping a heap, each query tracks a threshold ``T``, the smallest distance
with at least ``k`` seen items at distance ``<= T``, from a per-query histogram. ``T`` only
decreases while the database is scanned, so items beyond it are discarded at once; the few kept
items are put in (distance, index) order by a counting sort (C) or a lexsort of the survivors
(numpy). The database is scanned in cache-sized chunks against blocks of queries so that the
temporaries stay in cache and each chunk is read once per block of queries.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._chunking import get_chunk_n_rows

from ._engine import SearchEngine, relevance
from ._packing import distance_dtype
from ._popcount import bitwise_count

__all__ = ["NumpyEngine", "hamming_distances"]

# numpy path: queries per block and the size of one (queries x chunk) distance block; 2**18
# uint64 XOR temporaries are 2 MiB, about one L2 cache.
_QUERY_BLOCK = 64
_BLOCK_PAIRS = 2**18


class _BlockDistances:
    """Hamming distances of a query block against database chunks, reusing its buffers."""

    def __init__(self, n_bits: int, n_query: int, n_rows: int):
        self.dtype = distance_dtype(n_bits)
        self._xor = np.empty((n_query, n_rows), dtype=np.uint64)
        self._count = np.empty((n_query, n_rows), dtype=np.uint8)
        self._acc = np.empty((n_query, n_rows), dtype=self.dtype)
        self._mask = None  # only the searches need it

    def __call__(self, queries: np.ndarray, chunk: np.ndarray) -> np.ndarray:
        nq, nr = queries.shape[0], chunk.shape[0]
        xor, count, acc = self._xor[:nq, :nr], self._count[:nq, :nr], self._acc[:nq, :nr]
        for w in range(queries.shape[1]):
            np.bitwise_xor(queries[:, w, None], chunk[None, :, w], out=xor)
            if w == 0 and self.dtype == np.uint8:
                bitwise_count(xor, out=acc)
            elif w == 0:
                bitwise_count(xor, out=count)
                acc[...] = count
            else:
                bitwise_count(xor, out=count)
                np.add(acc, count, out=acc, casting="unsafe")
        return acc

    def within(self, queries: np.ndarray, chunk: np.ndarray, bound: np.ndarray):
        """``(query, row, distance)`` of the pairs with ``distance < bound[query]``."""
        dist = self(queries, chunk)
        if self._mask is None:
            self._mask = np.empty(self._acc.shape, dtype=bool)
        mask = self._mask[: dist.shape[0], : dist.shape[1]]
        # Same-dtype comparison into a reused mask and a 1-D nonzero: 3.5x faster than the
        # obvious ``np.nonzero(dist <= limit[:, None])`` on a 64 x 4,096 block
        # (``python benchmarks/bench_doc_claims.py within-mask``).
        np.less(dist, bound.astype(self.dtype)[:, None], out=mask)
        flat = np.flatnonzero(mask)
        qq, ii = np.divmod(flat, dist.shape[1])
        return qq, ii, dist.ravel()[flat].astype(np.int64)


def hamming_distances(queries: np.ndarray, db: np.ndarray, n_bits: int) -> np.ndarray:
    """All Hamming distances between two sets of packed codes, shape ``(n_query, n_db)``."""
    return _BlockDistances(n_bits, queries.shape[0], db.shape[0])(queries, db)


def _chunk_rows(n_query_block: int) -> int:
    return max(256, _BLOCK_PAIRS // max(1, n_query_block))


def _chunk_bounds(n_db: int, rows: int, first: int):
    """Chunk boundaries; the first chunk is small, since all of it is kept (no threshold yet)."""
    starts = [0, *range(min(first, n_db), n_db, rows)]
    return zip(starts, [*starts[1:], n_db])


def _sorted_survivors(q, i, d, keep=None):
    """Order candidate triples by (query, distance, index)."""
    if keep is not None:
        q, i, d = q[keep], i[keep], d[keep]
    order = np.lexsort((i, d, q))
    return q[order], i[order], d[order]


def _knn_numpy(queries: np.ndarray, db: np.ndarray, n_bits: int, k: int):
    n_query, n_db = queries.shape[0], db.shape[0]
    out_d = np.full((n_query, k), -1, dtype=np.int32)
    out_i = np.full((n_query, k), -1, dtype=np.int64)
    n_hist = n_bits + 1
    # Fewer queries per block when k is huge: the kept candidates grow like k per query.
    qb_max = max(1, min(_QUERY_BLOCK, n_query, 2**22 // k))
    rows = _chunk_rows(qb_max)
    distances = _BlockDistances(n_bits, qb_max, min(rows, max(1, n_db)))
    for q0 in range(0, n_query, qb_max):
        block = queries[q0 : q0 + qb_max]
        qb = block.shape[0]
        threshold = np.full(qb, n_bits, dtype=np.int64)
        limit = threshold.copy()  # keep an item iff its distance <= limit
        hist = np.zeros((qb, n_hist), dtype=np.int64)
        kept_q, kept_i, kept_d, n_kept = [], [], [], 0
        prune_at = 2 * qb * k  # doubles with what survives a pruning: linear time overall
        for c0, c1 in _chunk_bounds(n_db, rows, first=min(rows, max(256, 4 * k))):
            qq, ii, dd = distances.within(block, db[c0:c1], limit + 1)
            if qq.size == 0:
                continue
            hist += np.bincount(qq * n_hist + dd, minlength=qb * n_hist).reshape(qb, n_hist)
            kept_q.append(qq)
            kept_i.append(ii + c0)
            kept_d.append(dd)
            n_kept += qq.size
            # hist[t] is exact for every t < threshold (nothing below it was ever dropped) and
            # hist[:threshold + 1] sums to >= k, so the smallest t reaching k seen items is the
            # new, never larger, threshold.
            reached = np.cumsum(hist, axis=1) >= k
            full = reached.any(axis=1)
            threshold = np.where(full, reached.argmax(axis=1), n_bits)
            # Once k items lie at distance <= T, a later item at distance T cannot enter the
            # top-k (every kept one has a smaller index), so only distances < T are kept.
            limit = threshold - full
            if n_kept > prune_at:  # forget what can no longer make the top-k
                q_all, i_all, d_all = (np.concatenate(a) for a in (kept_q, kept_i, kept_d))
                keep = d_all <= threshold[q_all]
                kept_q, kept_i, kept_d = [q_all[keep]], [i_all[keep]], [d_all[keep]]
                n_kept = kept_q[0].size
                prune_at = max(prune_at, 2 * n_kept)
        if not kept_q:
            continue
        q_all, i_all, d_all = (np.concatenate(a) for a in (kept_q, kept_i, kept_d))
        q_s, i_s, d_s = _sorted_survivors(q_all, i_all, d_all, d_all <= threshold[q_all])
        starts = np.searchsorted(q_s, np.arange(qb))
        rank = np.arange(q_s.size) - starts[q_s]
        take = rank < k
        out_d[q0 + q_s[take], rank[take]] = d_s[take]
        out_i[q0 + q_s[take], rank[take]] = i_s[take]
    return out_d, out_i


def _range_numpy(queries: np.ndarray, db: np.ndarray, n_bits: int, radius: int):
    n_query, n_db = queries.shape[0], db.shape[0]
    qb_max = min(_QUERY_BLOCK, max(1, n_query))
    rows = _chunk_rows(qb_max)
    distances = _BlockDistances(n_bits, qb_max, min(rows, max(1, n_db)))
    found_q, found_i, found_d = [], [], []
    bound = np.full(qb_max, radius + 1, dtype=np.int64)
    for q0 in range(0, n_query, qb_max):
        block = queries[q0 : q0 + qb_max]
        for c0 in range(0, n_db, rows):
            qq, ii, dd = distances.within(block, db[c0 : c0 + rows], bound[: block.shape[0]])
            found_q.append(qq + q0)
            found_i.append(ii + c0)
            found_d.append(dd.astype(np.int32))
    if not found_q:
        return np.zeros(n_query + 1, dtype=np.int64), np.empty(0, np.int32), np.empty(0, np.int64)
    q_s, i_s, d_s = _sorted_survivors(*(np.concatenate(a) for a in (found_q, found_i, found_d)))
    lims = np.zeros(n_query + 1, dtype=np.int64)
    np.cumsum(np.bincount(q_s, minlength=n_query), out=lims[1:])
    return lims, d_s.astype(np.int32), i_s.astype(np.int64)


# Bytes of working memory one (query, database item) pair costs in a chunk of the full-ranking
# AP: distances and XOR temporaries (10), the argsort output and its flat copy (16), relevance and
# its reordered copy (2), and the precision term of each relevant item (8).
_AP_BYTES_PER_PAIR = 36


def _average_precision_chunk(dist, rel, top_k=None):
    """Per-query AP of one chunk (first ``top_k`` ranks), and which queries have a relevant item.

    The precision terms are summed in database-index order, as the compiled kernel and the top-k
    route sum them, so every engine and route gives the same value to the last bit.
    """
    n_query, n_db = dist.shape
    # Stable sort on small unsigned ints is a radix sort in numpy: linear, and ties stay in
    # database order, which is exactly the tie rule.
    order = np.argsort(dist, axis=1, kind="stable")
    if top_k is not None:
        order = order[:, :top_k]
    n_ranks = order.shape[1]
    at_rank = order + (np.arange(n_query) * n_db)[:, None]  # flat index of the item at each rank
    hit = np.flatnonzero(rel.ravel()[at_rank])  # the relevant ranks, flat, in rank order
    rows = hit // n_ranks
    hits_per_row = np.bincount(rows, minlength=n_query)
    first_hit = np.cumsum(hits_per_row) - hits_per_row
    hits_so_far = np.arange(1, hit.size + 1) - first_hit[rows]
    # Each relevant item's precision term, written at its database position and read back in
    # index order; the relevant items beyond top_k add an exact 0.
    relevant = np.flatnonzero(rel)
    term = np.empty(rel.size)
    if top_k is not None:
        term[relevant] = 0.0
    term[at_rank.ravel()[hit]] = hits_so_far / (hit - rows * n_ranks + 1.0)
    relevant_rows = relevant // n_db
    precision_sum = np.bincount(relevant_rows, weights=term[relevant], minlength=n_query)
    ap = np.divide(
        precision_sum,
        hits_per_row,
        out=np.zeros(n_query, dtype=np.float64),
        where=hits_per_row > 0,
    )
    return ap, np.bincount(relevant_rows, minlength=n_query) > 0


class NumpyEngine(SearchEngine):
    """The pure numpy engine (see the module docstring)."""

    name = "numpy"

    def _knn(self, queries, db, n_bits, k):
        return _knn_numpy(queries, db, n_bits, k)

    def mih_knn(self, queries, db, tables, n_bits, k, budget):
        """Multi-index hashing top-k, the numpy probe loop (see ``CompiledEngine.mih_knn``)."""
        from ._mih import knn_numpy  # _mih imports the package, which imports this module

        return knn_numpy(queries, db, tables, n_bits, k, budget)

    def mih_range(self, queries, db, tables, n_bits, radius, budget):
        """Multi-index hashing radius search, the numpy probe loop."""
        from ._mih import range_numpy

        return range_numpy(queries, db, tables, radius, budget)

    def _range(self, queries, db, n_bits, radius):
        return _range_numpy(queries, db, n_bits, radius)

    def _average_precision_all(
        self, queries, db, n_bits, query_labels, db_labels, label_words, top_k=None
    ):
        ap = np.zeros(queries.shape[0])
        valid = np.zeros(queries.shape[0], dtype=bool)
        rows = get_chunk_n_rows(_AP_BYTES_PER_PAIR * db.shape[0], max_n_rows=queries.shape[0])
        for start in range(0, queries.shape[0], rows):
            chunk = slice(start, start + rows)
            dist = hamming_distances(queries[chunk], db, n_bits)
            rel = relevance(query_labels[chunk], db_labels, label_words)
            ap[chunk], valid[chunk] = _average_precision_chunk(dist, rel, top_k)
        return ap, valid
