"""Exact multi-index hashing (MIH): sub-linear Hamming k-NN and radius search.

Implements the search of Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with
Multi-Index Hashing" (CVPR 2012; TPAMI 36(6), 2014). Each ``n_bits`` code is cut into ``m``
disjoint substrings of contiguous bits, and each substring gets one hash table from its value to
the items holding it. By the pigeonhole principle, a code within distance ``r`` of the query
matches it within ``r // m`` bits on at least one substring, so the neighbours can be found by
probing each table with the keys close to the query's substring instead of reading every code.

Search order (TPAMI section 4, "incremental k-NN"). Step ``t`` probes table ``j = t % m`` with
every key at exactly ``rho = t // m`` bits from the query's substring ``j``. An item whose
substring distances are ``d_0 .. d_{m-1}`` is first reached at step ``min_j(m * d_j + j)``, and
``sum_j d_j >= min_j(m * d_j + j)``, so once steps ``0 .. t`` are done, every item at distance
``<= t`` has been seen. The k-NN search stops after the first step ``t`` at which ``k`` seen items
lie at distance ``<= t``: everything at or below the k-th distance has then been seen, ties
included, so the ``k`` best by (distance, id) are exactly the scan's. An item reached through
several tables is counted only at its first step (its substring distances say which), so no
per-query "seen" set is needed.

Layout. The tables are sorted arrays (compressed sparse rows): for table ``j``, the item ids in
(substring value, id) order. For one-word codes (up to 64 bits) a copy of the codes sits beside
the ids, so that verifying a bucket reads contiguous memory; longer codes are read from the
database by id, since ``m`` copies would cost ``m`` times their memory (on a fitted hasher's
codes at 1M items, 128 and 256 bits: 3.5 to 6 times smaller, and slower). Keys are looked
up in a direct array of ``2**s + 1`` offsets when that is no larger than the database, else by
binary search in the sorted distinct keys.

Substring count. The paper takes substrings of about ``log2(n)`` bits, so that a table holds
about one item per bucket; here they are also capped at 16 bits (a directory that stays in
cache): ``m = ceil(n_bits / min(floor(log2 n), 16))``, recomputed when the tables are rebuilt
for a grown database (``n_substrings`` fixes it instead).

Incremental add. Codes added after the tables were built (the "tail") are scanned and merged in,
until the tail grows past a small fraction of the database; the next search then rebuilds.

Worst case. When the k-th distance is large (far queries, very long codes) the probes outnumber
the items; each query therefore has a work budget of about one linear scan, and a query that
exceeds it is answered by the linear scan instead, so the cost stays within a few scans
(measured: at most about 3x the scan from 1e5 codes on).

With the compiled engine the probe/verify loop runs in the package's one C extension
(``_mih.c``, entered through ``_kernels.c`` and called by ``CompiledEngine.mih_knn`` and
``mih_range``); with the numpy engine, in the numpy path below (``knn_numpy``, ``range_numpy``).
Both give the same results (both are exact), and the fallback scan is the same engine's.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from itertools import combinations

import numpy as np

from . import kernels_available
from ._engine import SearchEngine
from ._merge import merge_ranges, merge_topk
from ._popcount import bitwise_count

__all__ = [
    "METHODS",
    "MultiIndex",
    "auto_method",
    "check_method",
    "code_spread",
    "check_n_substrings",
    "default_substring_count",
    "resolve_method",
]

METHODS = ("auto", "scan", "mih")

# Work budget, in units of one verified candidate (about 2 ns, 4 codes of the compiled scan). A
# probe of a direct table (a random access) costs about PROBE_COST verifications, a probe of a
# sparse table (a binary search) SPARSE_PROBE_FACTOR times more, and a candidate read by id
# BY_ID_VERIFY_COST verifications of a copied one; a query whose work exceeds
# BUDGET_PER_ITEM * n falls back to the linear scan, which costs about that much (measured on
# 1M random 64-bit codes, benchmarks/bench_mih.py).
PROBE_COST = 10
SPARSE_PROBE_FACTOR = 8
BY_ID_VERIFY_COST = 4  # a code read from the database by id: a random access
BUDGET_PER_ITEM = 0.25
#: The costs as the compiled kernel takes them (defined here only; _kernels.c reads this array).
COSTS = np.array([PROBE_COST, SPARSE_PROBE_FACTOR, BY_ID_VERIFY_COST], dtype=np.int64)
# Codes added since the last build that are scanned rather than indexed: at most this many, or
# this fraction of the indexed codes, whichever is larger.
_TAIL_MIN = 4096
_TAIL_FRACTION = 1 / 32
# method="auto": MIH from AUTO_MIN_N[kind][row][column] codes on, else the scan, where row is the
# first of AUTO_BITS >= n_bits, column the first of AUTO_K >= k (a range search reads the k = 10
# column), and kind "clustered" or "uniform" by code_spread (None: the scan at every measured
# n; between two columns the threshold is interpolated in log k, see _auto_threshold). Beyond
# the grid, longer codes and larger k, the scan. Why a kind: how soon MIH wins
# depends on how far the k-th neighbour lies, which the codes decide as much as n does. At 64
# bits, 300,000 codes and k = 10, MIH took 0.11x the scan's time on a fitted CCA-ITQ hasher's
# codes and 1.9x on random ones, so no rule on (n, n_bits, k) alone comes within 10% of the
# better method on both. Measured with ``python benchmarks/bench_mih.py --auto-grid`` (one
# thread, CPU time, best of 2 interleaved runs, 200 queries, n = 1e4 to 1e6; the table in
# docs/hamming_index.rst); each entry is where the measured scan / MIH ratio crosses 1,
# interpolated in log n between the grid sizes around it.
AUTO_BITS = (32, 64, 128, 256)
AUTO_K = (1, 10, 100, 1000)
AUTO_MIN_N = {
    "clustered": (
        (10_000, 10_000, 43_000, 290_000),
        (10_000, 16_000, 89_000, 520_000),
        (14_000, 51_000, None, None),
        (36_000, None, None, None),
    ),
    "uniform": (
        (10_000, 19_000, 210_000, 960_000),
        (260_000, 560_000, None, None),
        (None, None, None, None),
        (None, None, None, None),
    ),
}
# code_spread below this: "clustered". Measured on 65,536 codes: 0.015 to 0.019 for a fitted
# CCA-ITQ hasher's codes at 32 to 256 bits, 1.00 for random codes.
CLUSTERED_SPREAD = 0.25
_SPREAD_SAMPLE = 1 << 16
_MAX_AUTO_SUBSTRING_BITS = 16


def default_substring_count(n: int, n_bits: int) -> int:
    """Substrings of about ``log2(n)`` bits (Norouzi et al., TPAMI 2014, section 5), at most 16.

    ``m = ceil(n_bits / min(floor(log2 n), 16))``. The paper's ``log2 n`` bits put about one
    item in each bucket; capping them at 16 keeps a direct table (``2**16`` offsets, 256 KiB) in
    the L2 cache, which measured faster than the paper's choice on 10M random 64-bit codes
    (``m = 4``: 0.62 ms per query for k = 10, against 1.33 ms for ``m = 3``; the substrings
    section of benchmarks/bench_mih.py).
    """
    bits_per_substring = max(1, min(_MAX_AUTO_SUBSTRING_BITS, int(math.log2(max(n, 2)))))
    return max(1, min(n_bits, -(-n_bits // bits_per_substring)))


def check_method(method, n_substrings, backend: str, n_bits: int):
    """Validate ``HammingIndex``'s ``method`` and ``n_substrings``; return ``n_substrings``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    if method == "mih" and backend == "faiss":
        raise ValueError(
            "method='mih' runs the package's own engine; backend='faiss' only serves "
            "method='scan'. Use backend='auto' or 'numpy' with method='mih'."
        )
    if method == "scan" and n_substrings is not None:
        raise ValueError(
            f"n_substrings applies to method='mih' or 'auto'; got n_substrings={n_substrings!r} "
            f"with method='scan'."
        )
    return check_n_substrings(n_substrings, n_bits)


def resolve_method(method: str, backend: str, n: int, n_bits: int, k=None, spread=1.0) -> str:
    """The search that answers ``k`` neighbours (``None``: a range search) in ``n`` codes.

    ``"auto"`` resolved by :func:`auto_method`; ``spread`` is passed on to it.
    """
    if method != "auto":
        return method
    if backend == "faiss":  # asked for faiss's flat search explicitly
        return "scan"
    return auto_method(n, n_bits, k, spread)


def check_n_substrings(n_substrings, n_bits: int):
    """Validate the ``n_substrings`` parameter; ``None`` means "from the database size"."""
    if n_substrings is None:
        return None
    lowest = -(-n_bits // 64)
    if (
        isinstance(n_substrings, (bool, np.bool_))
        or not isinstance(n_substrings, (int, np.integer))
        or not lowest <= n_substrings <= n_bits
    ):
        raise ValueError(
            f"n_substrings must be None or an integer in [{lowest}, {n_bits}] (each substring "
            f"holds 1 to 64 of the n_bits={n_bits} bits); got {n_substrings!r}."
        )
    return int(n_substrings)


def code_spread(db: np.ndarray, n_bits: int) -> float:
    """How evenly codes fill the values of their first ``min(16, n_bits)`` bits; 1 when uniform.

    The effective number of distinct values (the inverse Simpson index, ``1 / sum(p ** 2)``) of
    those bits over a strided sample of at most 65,536 packed codes, divided by what uniform
    random codes give for the same sample size. Random codes score about 1; the clustered codes
    of a fitted hasher, whose neighbours lie close, about 0.02.
    """
    n = db.shape[0]
    if n == 0:
        return 1.0
    sample = db[:: max(1, n // _SPREAD_SAMPLE), 0]
    bits = min(_MAX_AUTO_SUBSTRING_BITS, n_bits)
    keys = (sample & np.uint64((1 << bits) - 1)).astype(np.intp)
    share = np.bincount(keys, minlength=1 << bits) / sample.size
    uniform = 1.0 / (2.0**-bits + (1.0 - 2.0**-bits) / sample.size)
    return float(1.0 / np.dot(share, share) / uniform)


def _auto_threshold(n_bits: int, k, clustered: bool):
    """The smallest n from which "auto" runs MIH (None: never), from AUTO_MIN_N.

    Between two measured k, the threshold is interpolated linearly in (log k, log n); when
    the larger k has none, none. Checked away from the grid it was read from (other n, k and
    seed; docs/hamming_index.rst): taking the larger k's column instead missed by up to 1.4x.
    """
    k = 10 if k is None else k
    if n_bits > AUTO_BITS[-1] or k > AUTO_K[-1]:
        return None
    row = AUTO_MIN_N["clustered" if clustered else "uniform"][
        next(i for i, bits in enumerate(AUTO_BITS) if n_bits <= bits)
    ]
    column = next(i for i, top in enumerate(AUTO_K) if k <= top)
    if column == 0 or k == AUTO_K[column] or row[column] is None:
        return row[column]
    low_k, high_k, low_n, high_n = AUTO_K[column - 1], AUTO_K[column], row[column - 1], row[column]
    share = math.log(k / low_k) / math.log(high_k / low_k)
    return math.ceil(low_n * (high_n / low_n) ** share)


def auto_method(n: int, n_bits: int, k: int | None = None, spread=1.0) -> str:
    """What ``method="auto"`` runs for ``n`` codes: ``"mih"`` or ``"scan"``.

    ``k`` is the number of neighbours searched (``None``: a range search) and ``spread`` the
    codes' :func:`code_spread`, or a callable returning it (called only when the kind of codes
    decides). MIH only with its compiled kernel: the numpy path, a Python loop per query,
    measured slower than the numpy scan on 1M random 64-bit codes (2.8 against 1.7 ms per
    query, k = 10).
    """
    if not kernels_available():
        return "scan"
    thresholds = [_auto_threshold(n_bits, k, clustered) for clustered in (False, True)]
    wins = [t is not None and n >= t for t in thresholds]
    if wins[0] == wins[1]:
        return "mih" if wins[0] else "scan"
    value = spread() if callable(spread) else spread
    return "mih" if wins[value < CLUSTERED_SPREAD] else "scan"


def _substring_bounds(n_bits: int, m: int):
    """Starts and lengths of ``m`` contiguous substrings; the first ``n_bits % m`` are longer."""
    lengths = np.full(m, n_bits // m, dtype=np.int64)
    lengths[: n_bits % m] += 1
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return starts, lengths


def _substring_keys(packed: np.ndarray, start: int, length: int) -> np.ndarray:
    """Bits ``start .. start + length - 1`` of each packed code, as ``uint64`` integers."""
    word, offset = divmod(int(start), 64)
    keys = packed[:, word] >> np.uint64(offset)
    if offset + length > 64:  # the substring runs into the next word
        keys = keys | (packed[:, word + 1] << np.uint64(64 - offset))
    if length < 64:
        keys = keys & np.uint64((1 << int(length)) - 1)
    return keys


def _substring_masks(n_words: int, starts, lengths) -> np.ndarray:
    """``(m, n_words)`` word masks selecting each substring's bits."""
    bits = np.zeros((len(starts), n_words * 64), dtype=np.uint8)
    for j, (start, length) in enumerate(zip(starts, lengths)):
        bits[j, start : start + length] = 1
    return np.packbits(bits, axis=1, bitorder="little").view("<u8").astype(np.uint64)


@lru_cache(maxsize=256)
def _flip_masks(length: int, rho: int) -> np.ndarray:
    """Every ``length``-bit mask with exactly ``rho`` bits set (the keys at distance ``rho``)."""
    weights = np.uint64(1) << np.arange(length, dtype=np.uint64)
    if rho == 0:
        return np.zeros(1, dtype=np.uint64)
    combos = np.array(list(combinations(range(length), rho)), dtype=np.int64)
    return np.bitwise_or.reduce(weights[combos], axis=1)


class _Tables:
    """The ``m`` sorted tables over the first ``n`` codes, in flat arrays the kernel reads.

    ``meta[j] = (start bit, length, direct, offsets base, keys base, distinct keys)``. With
    ``copies``, each table keeps its items' codes in bucket order (contiguous verification);
    without, the codes are read from the database by id (``m`` times less memory).
    """

    def __init__(self, packed: np.ndarray, n_bits: int, m: int, copies: bool):
        n, n_words = packed.shape
        self.n, self.n_words, self.m, self.copies = n, n_words, m, bool(copies)
        self.width = 4 if n < 2**32 - 1 else 8  # bytes per id and per offset
        index_dtype = np.uint32 if self.width == 4 else np.int64
        self.starts, self.lengths = _substring_bounds(n_bits, m)
        self.sub_masks = _substring_masks(n_words, self.starts, self.lengths)
        self.meta = np.zeros((m, 6), dtype=np.int64)
        self.ids = np.empty((m, n), dtype=index_dtype)
        self.codes = np.empty((m if copies else 0, n, n_words), dtype=np.uint64)
        offsets, keys, n_offsets, n_keys = [], [], 0, 0
        for j, (start, length) in enumerate(zip(self.starts, self.lengths)):
            sub = _substring_keys(packed, start, length)
            # The smallest key type: stable argsort is a radix sort on 16-bit keys.
            key_type = np.uint16 if length <= 16 else np.uint32 if length <= 32 else np.uint64
            order = np.argsort(sub.astype(key_type), kind="stable")
            sorted_keys = sub[order]
            self.ids[j] = order
            if copies:
                self.codes[j] = packed[order]
            direct = 2 ** int(length) <= max(n, 1)
            if direct:
                # offsets[key] .. offsets[key + 1] is the bucket of ``key``.
                counts = np.bincount(sub.astype(np.intp), minlength=2 ** int(length))
                table = np.concatenate([[0], np.cumsum(counts)])
                distinct = np.zeros(0, dtype=np.uint64)
            else:
                distinct, first = np.unique(sorted_keys, return_index=True)
                table = np.append(first, n)
            self.meta[j] = (start, length, direct, n_offsets, n_keys, distinct.size)
            offsets.append(table.astype(index_dtype))
            keys.append(distinct)
            n_offsets += table.size
            n_keys += distinct.size
        self.offsets = np.concatenate(offsets)
        self.keys = np.concatenate(keys).astype(np.uint64)

    # What ``to_arrays`` returns and ``from_arrays`` takes: the sizes, then the flat arrays.
    _SCALARS = ("n", "n_words", "m", "copies", "width")
    _ARRAYS = ("starts", "lengths", "sub_masks", "meta", "ids", "codes", "offsets", "keys")

    def to_arrays(self) -> tuple[dict, dict]:
        """``(scalars, arrays)``: the tables as plain ints and bools, and named arrays."""
        scalars = {name: getattr(self, name) for name in self._SCALARS}
        scalars = {k: v.item() if isinstance(v, np.generic) else v for k, v in scalars.items()}
        return scalars, {name: getattr(self, name) for name in self._ARRAYS}

    @classmethod
    def from_arrays(cls, scalars: dict, arrays: dict) -> _Tables:
        """Tables from what :meth:`to_arrays` returned (arrays may be memory maps)."""
        for kind, given, names in (
            ("scalars", scalars, cls._SCALARS),
            ("arrays", arrays, cls._ARRAYS),
        ):
            if set(given) != set(names):
                raise ValueError(
                    f"MIH tables: {kind} must be named {sorted(names)}; got {sorted(given)}."
                )
        tables = cls.__new__(cls)
        tables.__dict__.update(scalars)
        tables.__dict__.update(arrays)
        return tables

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.ids, self.codes, self.offsets, self.keys, self.meta))

    def bucket(self, j: int, keys: np.ndarray):
        """``[lo, hi)`` positions in table ``j`` of the items whose substring is in ``keys``."""
        _, _, direct, off_base, key_base, n_keys = self.meta[j]
        if direct:
            lo = self.offsets[off_base + keys.astype(np.int64)].astype(np.int64)
            hi = self.offsets[off_base + keys.astype(np.int64) + 1].astype(np.int64)
            return lo, hi
        distinct = self.keys[key_base : key_base + n_keys]
        where = np.searchsorted(distinct, keys)
        found = where < n_keys
        found[found] = distinct[where[found]] == keys[found]
        where = where[found]
        lo = self.offsets[off_base + where].astype(np.int64)
        hi = self.offsets[off_base + where + 1].astype(np.int64)
        return lo, hi


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` over ``i``."""
    sizes = hi - lo
    keep = sizes > 0
    lo, sizes = lo[keep], sizes[keep]
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return starts + np.arange(total, dtype=np.int64)


def _probe_numpy(q: np.ndarray, db, tables: _Tables, qkeys, t: int, bound: int, state):
    """Run step ``t``; return the first-seen items at distance ``<= bound``, or None (budget)."""
    m = tables.m
    j, rho = t % m, t // m
    length = int(tables.lengths[j])
    if rho > length:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    probe_cost = PROBE_COST if tables.meta[j, 2] else PROBE_COST * SPARSE_PROBE_FACTOR
    state["cost"] += math.comb(length, rho) * probe_cost
    if state["cost"] > state["budget"]:
        return None
    keys = qkeys[j] ^ _flip_masks(length, rho)
    positions = _ranges(*tables.bucket(j, keys))
    state["cost"] += positions.size * (1 if tables.copies else BY_ID_VERIFY_COST)
    if state["cost"] > state["budget"]:
        return None
    codes = tables.codes[j, positions] if tables.copies else db[tables.ids[j, positions]]
    xor = codes ^ q
    dist = bitwise_count(xor).sum(axis=1, dtype=np.int64)
    near = dist <= bound
    xor, dist, positions = xor[near], dist[near], positions[near]
    # Keep an item only at its first step, min_i(m * d_i + i) == t.
    first = np.full(dist.size, np.iinfo(np.int64).max, dtype=np.int64)
    for i in range(m):
        d_i = bitwise_count(xor & tables.sub_masks[i]).sum(axis=1, dtype=np.int64)
        np.minimum(first, m * d_i + i, out=first)
    new = first == t
    return dist[new], tables.ids[j, positions[new]].astype(np.int64)


def _last_step(tables: _Tables) -> int:
    """After this step every item has been seen (each ``d_j <= length_j``)."""
    return int(np.max(tables.lengths * tables.m + np.arange(tables.m)))


def _budget(n: int, per_item: float) -> int:
    return max(1, int(min(2.0**62, per_item * n)))


def _knn_one_numpy(q: np.ndarray, db, tables: _Tables, n_bits: int, k: int, budget: int):
    qkeys = [
        _substring_keys(q[None], s, s_len)[0] for s, s_len in zip(tables.starts, tables.lengths)
    ]
    state = {"cost": 0, "budget": budget}
    hist = np.zeros(n_bits + 2, dtype=np.int64)
    threshold = n_bits  # the k-th smallest distance seen so far (n_bits until k are seen)
    found_d, found_i = [], []
    for t in range(_last_step(tables) + 1):
        step = _probe_numpy(q, db, tables, qkeys, t, threshold, state)
        if step is None:
            return None
        dist, ids = step
        if dist.size:
            found_d.append(dist)
            found_i.append(ids)
            hist += np.bincount(dist, minlength=n_bits + 2)
            reached = np.cumsum(hist) >= k
            if reached.any():
                threshold = int(reached.argmax())
        if threshold <= t:  # k items at distance <= t, and nothing unseen is that close
            break
    dist, ids = np.concatenate(found_d), np.concatenate(found_i)
    order = np.lexsort((ids, dist))[:k]
    return dist[order], ids[order]


def _range_one_numpy(q: np.ndarray, db, tables: _Tables, radius: int, budget: int):
    qkeys = [
        _substring_keys(q[None], s, s_len)[0] for s, s_len in zip(tables.starts, tables.lengths)
    ]
    state = {"cost": 0, "budget": budget}
    found_d, found_i = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for t in range(min(radius, _last_step(tables)) + 1):
        step = _probe_numpy(q, db, tables, qkeys, t, radius, state)
        if step is None:
            return None
        found_d.append(step[0])
        found_i.append(step[1])
    dist, ids = np.concatenate(found_d), np.concatenate(found_i)
    order = np.lexsort((ids, dist))
    return dist[order], ids[order]


def knn_numpy(queries, db, tables: _Tables, n_bits: int, k: int, budget: int):
    """MIH top-k of every query in numpy: ``(distances, ids, over budget)``, as the kernel's."""
    n_query = queries.shape[0]
    out_d = np.full((n_query, k), -1, dtype=np.int32)
    out_i = np.full((n_query, k), -1, dtype=np.int64)
    over = np.zeros(n_query, dtype=bool)
    for q in range(n_query):
        found = _knn_one_numpy(queries[q], db, tables, n_bits, k, budget)
        if found is None:
            over[q] = True
        else:
            out_d[q], out_i[q] = found
    return out_d, out_i, over


def range_numpy(queries, db, tables: _Tables, radius: int, budget: int):
    """MIH radius search in numpy: per query ``(distances, ids)`` or None, and over budget."""
    per_query = [
        _range_one_numpy(queries[q], db, tables, radius, budget) for q in range(queries.shape[0])
    ]
    return per_query, np.array([found is None for found in per_query], dtype=bool)


class MultiIndex:
    """Multi-index hash tables over a growing array of packed codes (the codes are not owned).

    ``search`` and ``range_search`` take the caller's packed queries and database (``ntotal``
    rows, the first ones indexed here) and the engine of the owner, and return what that
    engine's linear scan returns. The probe/verify loop (``mih_knn``, ``mih_range``) and the
    scans of parts of the database are run by the engine's ``scan_engine``: the engine itself,
    or faiss's fallback, since faiss caches a copy of the whole database.

    Parameters
    ----------
    n_bits : int
        Code length.
    n_substrings : int or None
        Fixed substring count, or ``None`` for :func:`default_substring_count` at each build.
    budget_per_item : float
        Work allowed per query, per indexed code, before the query falls back to the scan
        (``inf``: never).
    copy_codes : bool or None
        Keep a copy of the codes in each table, so that a bucket is verified from contiguous
        memory (``m`` times the codes' memory). ``None``: for codes of one 64-bit word, where
        it is fast and cheap; longer codes are read from the database by id.
    """

    def __init__(
        self,
        n_bits: int,
        n_substrings: int | None = None,
        budget_per_item=BUDGET_PER_ITEM,
        copy_codes=None,
    ):
        self.n_bits = n_bits
        self.n_substrings = n_substrings
        self.budget_per_item = budget_per_item
        self.copy_codes = copy_codes
        self._tables = None
        self._spread = None  # (n, code_spread of the first n codes), for method="auto"
        self._lock = threading.Lock()  # one build at a time when threads share the index

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_tables"] = None  # rebuilt from the codes on the first search after loading
        del state["_lock"]
        return state

    def __setstate__(self, state):
        state.setdefault("_spread", None)  # pickled before method="auto" read the codes
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def spread(self, db: np.ndarray) -> float:
        """:func:`code_spread` of ``db``, measured again only once the database has doubled."""
        n = db.shape[0]
        if self._spread is None or not self._spread[0] <= n <= 2 * self._spread[0]:
            self._spread = (n, code_spread(db, self.n_bits))
        return self._spread[1]

    @property
    def n_indexed(self) -> int:
        return 0 if self._tables is None else self._tables.n

    @property
    def nbytes(self) -> int:
        """Bytes held by the tables (the codes they index are counted by their owner)."""
        return 0 if self._tables is None else self._tables.nbytes

    def substring_count(self, n: int) -> int:
        if self.n_substrings is not None:
            return self.n_substrings
        return default_substring_count(n, self.n_bits)

    def reset(self) -> None:
        self._tables = None
        self._spread = None

    def _refresh(self, db: np.ndarray) -> _Tables:
        """Rebuild the tables when the tail of codes added since the last build grew too long."""
        with self._lock:
            n, n_indexed = db.shape[0], self.n_indexed
            if n < n_indexed:  # the owner was reset and refilled
                self._tables = None
                n_indexed = 0
            tail = n - n_indexed
            if self._tables is None or tail > max(_TAIL_MIN, _TAIL_FRACTION * n_indexed):
                copies = db.shape[1] == 1 if self.copy_codes is None else self.copy_codes
                self._tables = _Tables(db, self.n_bits, self.substring_count(n), copies)
            return self._tables

    def search(self, queries, db, k: int, *, engine: SearchEngine):
        """Exact ``k`` nearest codes, as ``engine.knn`` returns them."""
        engine = engine.scan_engine
        db = np.ascontiguousarray(db, dtype=np.uint64)
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        tables = self._refresh(db)
        n_query, n_bits = queries.shape[0], self.n_bits
        k_eff = min(k, tables.n)
        budget = _budget(tables.n, self.budget_per_item)
        out_d = np.full((n_query, k), -1, dtype=np.int32)
        out_i = np.full((n_query, k), -1, dtype=np.int64)
        dist, ids, over = engine.mih_knn(queries, db, tables, n_bits, k_eff, budget)
        out_d[:, :k_eff], out_i[:, :k_eff] = dist, ids
        if over.any():  # queries past their budget: the linear scan over the indexed codes
            scan = engine.knn(queries[over], db[: tables.n], n_bits, k)
            out_d[over], out_i[over] = scan
        if tables.n < db.shape[0]:
            tail = engine.knn(queries, db[tables.n :], n_bits, k)
            return merge_topk([out_d, tail[0]], [out_i, tail[1]], k, [0, tables.n])
        return out_d, out_i

    def range_search(self, queries, db, radius: int, *, engine: SearchEngine):
        """Every code within ``radius`` (inclusive), as ``engine.range`` returns them."""
        engine = engine.scan_engine
        db = np.ascontiguousarray(db, dtype=np.uint64)
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        tables = self._refresh(db)
        n_query, budget = queries.shape[0], _budget(tables.n, self.budget_per_item)
        per_query, over = engine.mih_range(queries, db, tables, self.n_bits, radius, budget)
        if over.any():
            lims, dist, ids = engine.range(queries[over], db[: tables.n], self.n_bits, radius)
            for r, q in enumerate(np.flatnonzero(over)):
                per_query[q] = (dist[lims[r] : lims[r + 1]], ids[lims[r] : lims[r + 1]])
        lims = np.zeros(n_query + 1, dtype=np.int64)
        np.cumsum([found[0].size for found in per_query], out=lims[1:])
        if n_query == 0:
            return lims, np.empty(0, np.int32), np.empty(0, np.int64)
        dist = np.concatenate([found[0] for found in per_query]).astype(np.int32)
        ids = np.concatenate([found[1] for found in per_query]).astype(np.int64)
        if tables.n < db.shape[0]:  # codes added since the build: scanned, then merged in
            tail = engine.range(queries, db[tables.n :], self.n_bits, radius)
            return merge_ranges([lims, tail[0]], [dist, tail[1]], [ids, tail[2]], [0, tables.n])
        return lims, dist, ids
