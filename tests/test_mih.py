"""Exact multi-index hashing (skmetacmh._mih, HammingIndex(method="mih")) against brute force."""

import math
import pickle

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skmetacmh._search import _mih, kernels_available, pack_codes, resolve_engine
from skmetacmh.index import HammingIndex

from ._helpers import assert_same, brute_range, brute_search, tied_codes

# MIH runs its probe/verify loop in the engine it is given: numpy, or compiled when built.
NUMPY = resolve_engine("numpy", 64)
COMPILED = resolve_engine("compiled", 64) if kernels_available() else None
ENGINES = [NUMPY, COMPILED] if COMPILED is not None else [NUMPY]
needs_kernel = pytest.mark.skipif(COMPILED is None, reason="compiled kernels not built")


def assert_same_range(result, queries, db, radius):
    lims, distances, indices = result
    assert lims.shape == (len(queries) + 1,) and lims[0] == 0
    assert distances.dtype == np.int32 and indices.dtype == np.int64
    for q, (want_d, want_i) in enumerate(brute_range(queries, db, radius)):
        np.testing.assert_array_equal(distances[lims[q] : lims[q + 1]], want_d)
        np.testing.assert_array_equal(indices[lims[q] : lims[q + 1]], want_i)


def unbounded(n_bits, n_substrings=None, copy_codes=None):
    """Tables that never hand a query to the scan: every answer comes from the probes.

    Substrings of at most 10 bits keep the probes of any radius few (C(10, 5) = 252 keys).
    """
    assert n_substrings is None or -(-n_bits // n_substrings) <= 10
    return _mih.MultiIndex(n_bits, n_substrings, budget_per_item=math.inf, copy_codes=copy_codes)


# --------------------------------------------------------------------------- exactness
@settings(max_examples=60, deadline=None)
@given(
    n_bits=st.integers(1, 140),
    n_db=st.integers(1, 120),
    n_query=st.integers(1, 5),
    k=st.integers(1, 130),
    n_distinct=st.integers(1, 12),
    m_choice=st.integers(0, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_probes_equal_bruteforce_on_tied_codes(
    n_bits, n_db, n_query, k, n_distinct, m_choice, seed
):
    rng = np.random.default_rng(seed)
    db = tied_codes(rng, n_db, n_bits, n_distinct=n_distinct, p_one=rng.uniform(0.02, 0.5))
    queries = np.vstack([tied_codes(rng, n_query, n_bits, n_distinct=n_distinct), db[:1]])
    lowest = -(-n_bits // 10)
    n_substrings = None if m_choice == 0 else lowest + m_choice % (n_bits - lowest + 1)
    packed_db, packed_q = pack_codes(db), pack_codes(queries)
    expected = brute_search(queries, db, k)
    radius = int(rng.integers(0, n_bits + 1))
    for copy_codes in (True, False):  # codes in the tables, or read from the database by id
        index = unbounded(n_bits, n_substrings, copy_codes)
        for engine in ENGINES:
            assert_same(index.search(packed_q, packed_db, k, engine=engine), expected)
            result = index.range_search(packed_q, packed_db, radius, engine=engine)
            assert_same_range(result, queries, db, radius)


@settings(max_examples=25, deadline=None)
@given(n_bits=st.sampled_from([16, 32, 64, 100]), seed=st.integers(0, 2**32 - 1))
def test_property_random_codes_equal_bruteforce(n_bits, seed):
    rng = np.random.default_rng(seed)
    db = rng.integers(0, 2, size=(400, n_bits), dtype=np.uint8)
    queries = np.vstack([rng.integers(0, 2, size=(4, n_bits), dtype=np.uint8), db[7:8]])
    index = unbounded(n_bits, -(-n_bits // 8))
    for engine in ENGINES:
        for k in (1, 10, 100):
            got = index.search(pack_codes(queries), pack_codes(db), k, engine=engine)
            assert_same(got, brute_search(queries, db, k))


@pytest.mark.parametrize("n_bits", [1, 7, 63, 65, 127, 130, 200])
def test_odd_code_lengths_and_substrings_across_words(n_bits):
    rng = np.random.default_rng(n_bits)
    db = tied_codes(rng, 600, n_bits, n_distinct=60, p_one=0.2)
    queries = tied_codes(rng, 6, n_bits, n_distinct=60, p_one=0.2)
    lowest = -(-n_bits // 10)
    for n_substrings in sorted({lowest, min(n_bits, lowest + 1), min(n_bits, 2 * lowest + 1)}):
        index = unbounded(n_bits, n_substrings)  # codes copied for 1 word, else read by id
        for engine in ENGINES:
            for k in (1, 9, 600, 601):
                got = index.search(pack_codes(queries), pack_codes(db), k, engine=engine)
                assert_same(got, brute_search(queries, db, k))


@pytest.mark.parametrize("n_bits", [24, 64])
def test_heavy_ties_through_the_index(n_bits):
    # 6,000 codes from 25 patterns: each bucket and each distance is shared by hundreds of
    # items, so the k-th neighbour sits inside a large tie broken by id.
    rng = np.random.default_rng(3)
    db = tied_codes(rng, 6000, n_bits, n_distinct=25, p_one=0.3)
    queries = np.vstack([tied_codes(rng, 8, n_bits, n_distinct=25, p_one=0.3), db[:2]])
    index = HammingIndex(n_bits, method="mih")
    index.add(db)
    assert index.active_method == "mih"
    for k in (1, 50, 999, 6000, 6005):
        assert_same(index.search(queries, k), brute_search(queries, db, k, pad=False))
    for radius in (0, 1, n_bits // 4, n_bits):
        assert_same_range(index.range_search(queries, radius), queries, db, radius)


def test_k_and_radius_edge_cases():
    rng = np.random.default_rng(11)
    db = rng.integers(0, 2, size=(300, 20), dtype=np.uint8)
    queries = np.vstack([db[:3], rng.integers(0, 2, size=(3, 20), dtype=np.uint8)])
    index = HammingIndex(20, method="mih")
    index.add(db)
    for k in (1, 299, 300, 301, 1000):  # k > ntotal returns the ntotal codes
        distances, ids = index.search(queries, k)
        assert distances.dtype == np.int32 and ids.dtype == np.int64
        assert_same((distances, ids), brute_search(queries, db, k, pad=False))
    assert index.search(queries, 1000)[1].shape == (len(queries), 300)
    for radius in (0, 0.5, 20, 21, 1e9):  # 0 keeps exact matches; beyond n_bits keeps all
        assert_same_range(index.range_search(queries, radius), queries, db, int(min(radius, 20)))


def test_sparse_tables_with_long_substrings():
    # Two 20-bit substrings over 500 codes: 2**20 keys each, looked up by binary search. The
    # default budget hands far queries to the scan; exact matches are answered by the probes.
    rng = np.random.default_rng(5)
    db = tied_codes(rng, 500, 40, n_distinct=100, p_one=0.3)
    queries = np.vstack([db[:3], tied_codes(rng, 3, 40, n_distinct=100, p_one=0.3)])
    index = _mih.MultiIndex(40, 2, budget_per_item=2.0)
    for engine in ENGINES:
        for k in (1, 5):
            assert_same(
                index.search(pack_codes(queries), pack_codes(db), k, engine=engine),
                brute_search(queries, db, k),
            )
        assert_same_range(
            index.range_search(pack_codes(queries), pack_codes(db), 2, engine=engine),
            queries,
            db,
            2,
        )
    assert not index._tables.meta[:, 2].any()  # both tables are sparse
    if COMPILED is not None:
        tables = index._tables
        _, _, over = COMPILED.mih_knn(pack_codes(db[:3]), pack_codes(db), tables, 40, 1, 1000)
        assert not over.any()


def test_budget_fallback_to_the_scan_is_exact():
    rng = np.random.default_rng(8)
    db = rng.integers(0, 2, size=(2000, 48), dtype=np.uint8)
    queries = rng.integers(0, 2, size=(10, 48), dtype=np.uint8)
    index = _mih.MultiIndex(48, None, budget_per_item=0)  # every query goes to the scan
    for engine in ENGINES:
        assert_same(
            index.search(pack_codes(queries), pack_codes(db), 7, engine=engine),
            brute_search(queries, db, 7),
        )
        result = index.range_search(pack_codes(queries), pack_codes(db), 12, engine=engine)
        assert_same_range(result, queries, db, 12)


@needs_kernel
def test_default_budget_lets_the_probes_answer_near_queries():
    # 60,000 random 32-bit codes and queries next to stored ones: MIH answers every query
    # itself (no scan fallback), which is where it pays off.
    rng = np.random.default_rng(9)
    packed = pack_codes(rng.integers(0, 2, size=(60_000, 32), dtype=np.uint8))
    queries = packed[:50] ^ np.uint64(0b101)
    index = _mih.MultiIndex(32)
    tables = index._refresh(packed)
    budget = _mih._budget(tables.n, 0.25)
    _, _, over = COMPILED.mih_knn(queries, packed, tables, 32, 10, budget)
    assert not over.any()
    assert_same(
        index.search(queries, packed, 10, engine=COMPILED), COMPILED.knn(queries, packed, 32, 10)
    )


# --------------------------------------------------------------------------- engines agree
@needs_kernel
@pytest.mark.parametrize("n_bits", [9, 64, 130])
def test_compiled_kernel_equals_numpy_path(n_bits):
    rng = np.random.default_rng(n_bits + 1)
    db = pack_codes(tied_codes(rng, 3000, n_bits, n_distinct=300, p_one=0.25))
    queries = pack_codes(tied_codes(rng, 20, n_bits, n_distinct=300, p_one=0.25))
    index = _mih.MultiIndex(n_bits)
    for k in (1, 10, 100):
        assert_same(
            index.search(queries, db, k, engine=COMPILED),
            index.search(queries, db, k, engine=NUMPY),
        )
    for radius in (0, 3, n_bits // 3):
        assert_same(
            index.range_search(queries, db, radius, engine=COMPILED),
            index.range_search(queries, db, radius, engine=NUMPY),
        )


@needs_kernel
def test_kernel_rejects_buffers_of_the_wrong_size():
    packed = pack_codes(np.random.default_rng(0).integers(0, 2, size=(50, 16), dtype=np.uint8))
    t = _mih._Tables(packed, 16, 2, copies=True)
    queries = packed[:2]
    # (queries, n_query) first, then the tables, as every search function of the package.
    head = [queries, 2, t.meta, t.m, t.offsets, t.keys, t.ids]
    tail = [t.width, t.n, t.n_words, 16, t.sub_masks]
    out = [np.empty((2, 3), np.int32), np.empty((2, 3), np.int64), np.zeros(2, np.int8)]
    good = [*head, t.codes, True, *tail, 3, 100, _mih.COSTS]
    COMPILED.kernels.mih_knn(*good, *out)  # the right sizes pass
    with pytest.raises(ValueError, match="codes"):
        COMPILED.kernels.mih_knn(*head, t.codes.ravel()[:-1], True, *tail, 3, 100, _mih.COSTS, *out)
    with pytest.raises(ValueError, match="codes"):  # the database layout holds n codes
        COMPILED.kernels.mih_knn(*head, t.codes, False, *tail, 3, 100, _mih.COSTS, *out)
    with pytest.raises(ValueError, match="distances"):
        COMPILED.kernels.mih_knn(*good, np.empty((2, 2), np.int32), *out[1:])
    with pytest.raises(ValueError, match="k must"):
        COMPILED.kernels.mih_knn(*head, t.codes, True, *tail, 51, 100, _mih.COSTS, *out)
    with pytest.raises(ValueError, match="queries"):
        COMPILED.kernels.mih_knn(queries[:1], *good[1:], *out)
    bad_meta = t.meta.copy()
    bad_meta[1, 3] = t.offsets.size  # offsets of table 1 past the end
    with pytest.raises(ValueError, match="descriptor"):
        COMPILED.kernels.mih_knn(*good[:2], bad_meta, *good[3:], *out)
    with pytest.raises(ValueError, match="status"):
        bad_status = np.zeros(3, np.int8)
        counts = np.zeros(2, np.int64)
        COMPILED.kernels.mih_range_count(*good[:-3], 4, 100, _mih.COSTS, counts, bad_status)
    # The radius search fills the caller's buffers in a second pass, checked against the first.
    ranged = [*head, t.codes, True, *tail, 4, 10**9, _mih.COSTS]
    counts, status2 = np.zeros(2, np.int64), np.zeros(2, np.int8)
    COMPILED.kernels.mih_range_count(*ranged, counts, status2)
    lims = np.concatenate([[0], np.cumsum(counts)])
    dist, ids = np.empty(lims[-1], np.int32), np.empty(lims[-1], np.int64)
    COMPILED.kernels.mih_range_fill(*ranged, lims, dist, ids)
    assert counts.min() >= 1 and dist[lims[0]] == 0 and dist[lims[1]] == 0  # each finds itself
    with pytest.raises(ValueError, match="distances"):
        COMPILED.kernels.mih_range_fill(*ranged, lims, dist[:-1].copy(), ids)
    with pytest.raises(ValueError, match="lims"):
        COMPILED.kernels.mih_range_fill(*ranged, lims[:-1].copy(), dist, ids)
    with pytest.raises(ValueError, match="differ"):
        short = lims.copy()
        short[1] -= 1
        COMPILED.kernels.mih_range_fill(*ranged, short, dist, ids)
    with pytest.raises(ValueError, match="not decrease"):
        COMPILED.kernels.mih_range_fill(*ranged, lims[::-1].copy(), dist, ids)
    with pytest.raises(ValueError, match="costs"):  # three int64 costs, from _mih.COSTS
        COMPILED.kernels.mih_knn(*head, t.codes, True, *tail, 3, 100, _mih.COSTS[:2], *out)
    # The kernel charges the costs it is given: priced up, every query spends its budget.
    status, copied = out[2], [*head, t.codes, True, *tail, 3, 10**6]
    COMPILED.kernels.mih_knn(*copied, _mih.COSTS, *out)
    assert not status.any()
    COMPILED.kernels.mih_knn(*copied, _mih.COSTS * 10**6, *out)
    assert status.all()
    bad_ids = t.ids.copy()
    bad_ids[0, :] = 50  # ids past the database: refused, never read
    with pytest.raises(ValueError, match="out of range"):
        by_id = [*head[:6], bad_ids, packed, False, *tail]
        COMPILED.kernels.mih_knn(*by_id, 3, 10**9, _mih.COSTS, *out)


# --------------------------------------------------------------------------- index contract
def test_incremental_adds_scan_the_tail_then_rebuild():
    rng = np.random.default_rng(2)
    db = rng.integers(0, 2, size=(12_000, 32), dtype=np.uint8)
    queries = np.vstack([db[[0, 5000, 11_999]], rng.integers(0, 2, size=(4, 32), dtype=np.uint8)])
    index = HammingIndex(32, method="mih")
    whole = HammingIndex(32, method="scan")
    whole.add(db)
    stops = [5000, 5001, 5100, 12_000]  # a search after each add: tables, a tail, a rebuild
    start = 0
    for stop in stops:
        index.add(db[start:stop])
        got = index.search(queries, 25)
        assert_same(got, brute_search(queries, db[:stop], 25))
        lims, _, ids = index.range_search(queries, 6)
        assert_same_range((lims, _, ids), queries, db[:stop], 6)
        start = stop
    assert index._mih.n_indexed == 12_000  # the last add outgrew the tail: rebuilt
    assert_same(index.search(queries, 25), whole.search(queries, 25))


def test_pickle_drops_the_tables_and_rebuilds_them(tmp_path):
    rng = np.random.default_rng(4)
    db = rng.integers(0, 2, size=(5000, 64), dtype=np.uint8)
    queries = rng.integers(0, 2, size=(5, 64), dtype=np.uint8)
    index = HammingIndex(64, method="mih", n_substrings=4)
    index.add(db)
    before = index.search(queries, 10)
    assert index._mih.nbytes > 0
    blob = pickle.dumps(index)
    assert len(blob) < db.shape[0] * 8 + 4096  # the packed codes only
    loaded = pickle.loads(blob)
    assert loaded.active_method == "mih" and loaded.n_substrings == 4
    assert_same(loaded.search(queries, 10), before)
    joblib.dump(index, tmp_path / "index.joblib")
    assert_same(joblib.load(tmp_path / "index.joblib").search(queries, 10), before)


def test_tables_round_trip_through_their_arrays():
    rng = np.random.default_rng(8)
    packed = pack_codes(rng.integers(0, 2, size=(600, 40), dtype=np.uint8))
    index = _mih.MultiIndex(40, n_substrings=3)
    expected = index.search(packed[:7], packed, 9, engine=NUMPY)
    scalars, arrays = index._tables.to_arrays()
    assert all(type(v) in (int, bool) for v in scalars.values())  # JSON-ready
    rebuilt = _mih.MultiIndex(40, n_substrings=3)
    rebuilt._tables = _mih._Tables.from_arrays(scalars, {k: v.copy() for k, v in arrays.items()})
    assert rebuilt.n_indexed == 600 and rebuilt.nbytes == index.nbytes
    assert_same(rebuilt.search(packed[:7], packed, 9, engine=NUMPY), expected)
    del arrays["keys"]
    with pytest.raises(ValueError, match=r"arrays must be named .*'keys'.*got"):
        _mih._Tables.from_arrays(scalars, arrays)
    with pytest.raises(ValueError, match="scalars must be named"):
        _mih._Tables.from_arrays({**scalars, "extra": 1}, index._tables.to_arrays()[1])


def test_faiss_engine_leaves_the_multi_index_scans_to_its_fallback():
    # faiss caches a copy of the whole database, so the slices MIH scans are the fallback's.
    pytest.importorskip("faiss")
    from skmetacmh._search._faiss_engine import FaissEngine

    rng = np.random.default_rng(9)
    db = rng.integers(0, 2, size=(900, 64), dtype=np.uint8)
    queries = rng.integers(0, 2, size=(6, 64), dtype=np.uint8)
    engine = FaissEngine(fallback=NUMPY)
    assert engine.scan_engine is NUMPY and NUMPY.scan_engine is NUMPY
    index = _mih.MultiIndex(64, n_substrings=4, budget_per_item=0.0)  # every query scans
    got = index.search(pack_codes(queries), pack_codes(db), 11, engine=engine)
    assert_same(got, brute_search(queries, db, 11, pad=False))
    assert engine._index is None  # faiss never built a copy of a slice
    NUMPY.forget()  # the base engines cache nothing: a no-op


def test_reset_then_refill_rebuilds():
    rng = np.random.default_rng(6)
    a, b = (rng.integers(0, 2, size=(800, 16), dtype=np.uint8) for _ in range(2))
    index = HammingIndex(16, method="mih")
    index.add(a)
    index.search(a[:2], 3)
    index.reset()
    index.add(b)
    assert_same(index.search(a[:4], 6), brute_search(a[:4], b, 6))


def test_auto_method_follows_the_measured_table():
    if COMPILED is None:  # MIH's numpy path loses to the scan: "auto" never picks it
        assert _mih.auto_method(10**9, 32, 1, 0.0) == "scan"
        return
    for kind, spread in (("clustered", 0.0), ("uniform", 1.0)):
        for row, n_bits in enumerate(_mih.AUTO_BITS):
            for column, k in enumerate(_mih.AUTO_K):
                lowest = _mih.AUTO_MIN_N[kind][row][column]
                for bits in (n_bits, n_bits - 1):  # a row covers the lengths down to the last
                    if lowest is None:
                        assert _mih.auto_method(10**9, bits, k, spread) == "scan"
                    else:
                        assert _mih.auto_method(lowest, bits, k, spread) == "mih"
                        assert _mih.auto_method(lowest - 1, bits, k, spread) == "scan"
                if column == 0:
                    continue
                # Between two measured k: between their thresholds, growing with k.
                previous = _mih.AUTO_MIN_N[kind][row][column - 1]
                between = [
                    _mih._auto_threshold(n_bits, kk, kind == "clustered")
                    for kk in np.geomspace(_mih.AUTO_K[column - 1], k, 6).round().astype(int)
                ]
                if lowest is None:
                    assert between[0] == previous and all(t is None for t in between[1:])
                else:
                    assert between[0] == previous and between[-1] == lowest
                    assert between == sorted(between)
    # Beyond the measured grid: the scan.
    assert _mih.auto_method(10**9, _mih.AUTO_BITS[-1] + 1, 1, 0.0) == "scan"
    assert _mih.auto_method(10**9, 32, _mih.AUTO_K[-1] + 1, 0.0) == "scan"
    # A range search (k=None) reads the k = 10 column.
    for n in (15_000, 20_000, 600_000):
        for spread in (0.0, 1.0):
            assert _mih.auto_method(n, 64, None, spread) == _mih.auto_method(n, 64, 10, spread)


def test_auto_method_reads_the_spread_only_when_the_kind_decides():
    def refuse():
        raise AssertionError("the spread was read")

    assert _mih.auto_method(100, 64, 10, refuse) == "scan"  # both kinds: the scan
    if COMPILED is not None:
        assert _mih.auto_method(10**7, 32, 1, refuse) == "mih"  # both kinds: MIH
        assert _mih.auto_method(100_000, 64, 10, lambda: 0.01) == "mih"  # clustered
        assert _mih.auto_method(100_000, 64, 10, lambda: 1.0) == "scan"  # uniform


def test_code_spread_tells_clustered_codes_from_random_ones():
    rng = np.random.default_rng(0)
    for n_bits, n in ((8, 50), (16, 5_000), (64, 70_000), (130, 3_000)):
        random_codes = pack_codes(rng.integers(0, 2, (n, n_bits), dtype=np.uint8))
        assert 0.8 < _mih.code_spread(random_codes, n_bits) < 1.2
    # Codes around 40 centres with a few flipped bits, as a fitted hasher's codes cluster.
    centres = rng.integers(0, 2, (40, 64), dtype=np.uint8)
    clustered = centres[rng.integers(0, 40, 20_000)]
    clustered ^= (rng.random(clustered.shape) < 0.03).astype(np.uint8)
    assert _mih.code_spread(pack_codes(clustered), 64) < _mih.CLUSTERED_SPREAD
    assert _mih.code_spread(np.zeros((0, 1), np.uint64), 64) == 1.0


def test_multi_index_measures_the_spread_again_only_when_the_database_doubles(monkeypatch):
    calls = []
    monkeypatch.setattr(_mih, "code_spread", lambda db, n_bits: calls.append(len(db)) or 0.5)
    tables = _mih.MultiIndex(16)
    db = np.zeros((1000, 1), np.uint64)
    for n in (100, 150, 200, 201, 500, 90):
        assert tables.spread(db[:n]) == 0.5
    assert calls == [100, 201, 500, 90]  # measured again past 2x, or after shrinking (reset)


@needs_kernel
def test_auto_index_chooses_per_search_by_k_and_by_the_codes(monkeypatch):
    # A small table, so that the choice changes at sizes a test can build: MIH up to k = 10 on
    # clustered codes, never on uniform ones.
    table = {"clustered": [(200, 200, None, None)] * 4, "uniform": [(None,) * 4] * 4}
    monkeypatch.setattr(_mih, "AUTO_MIN_N", table)
    rng = np.random.default_rng(3)
    centres = rng.integers(0, 2, (8, 64), dtype=np.uint8)
    clustered = centres[rng.integers(0, 8, 400)] ^ (rng.random((400, 64)) < 0.02)
    uniform = rng.integers(0, 2, (400, 64), dtype=np.uint8)
    for codes, kind in ((clustered.astype(np.uint8), "mih"), (uniform, "scan")):
        index = HammingIndex(64)
        index.add(codes[:100])
        assert index.active_method == "scan"  # 100 codes: below every threshold
        index.add(codes[100:])
        assert index.active_method == kind  # before any search: what range_search uses
        queries = codes[:7]
        for k, method in ((10, kind), (11, "scan"), (3, kind), (400, "scan")):
            assert_same(index.search(queries, k), brute_search(queries, codes, k))
            assert index.active_method == method, (kind, k)
        assert_same_range(index.range_search(queries, 20), queries, codes, 20)
    assert HammingIndex(16, method="scan").active_method == "scan"


@needs_kernel
def test_auto_index_is_mih_for_many_identical_codes():
    # Identical codes are as clustered as codes get: MIH from the first entry of the table.
    index = HammingIndex(16)
    index.add(np.zeros((10, 16), dtype=np.uint8))
    assert index.method == "auto" and index.active_method == "scan"
    index.add(np.ones((_mih.AUTO_MIN_N["clustered"][0][1], 16), dtype=np.uint8))
    query = np.ones((1, 16), dtype=np.uint8)
    distances, ids = index.search(query, 10)  # k <= 10: MIH from 10,000 codes
    assert index.active_method == "mih"
    np.testing.assert_array_equal(ids[0], range(10, 20))
    np.testing.assert_array_equal(distances[0], [0] * 10)
    distances, ids = index.search(1 - query, 12)  # k <= 100: not below 43,000 codes
    assert index.active_method == "scan"
    np.testing.assert_array_equal(ids[0], [*range(10), 10, 11])
    np.testing.assert_array_equal(distances[0], [0] * 10 + [16, 16])


def test_default_substring_count_follows_log2_n():
    assert _mih.default_substring_count(2**20, 64) == 4  # 16-bit substrings (the cap)
    assert _mih.default_substring_count(2**12, 64) == 6  # 12 bits: ceil(64 / 12)
    assert _mih.default_substring_count(10, 64) == 22  # 3 bits
    assert _mih.default_substring_count(2**30, 256) == 16
    assert _mih.default_substring_count(1, 5) == 5  # never more substrings than bits


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "fast"}, "method must be one of"),
        ({"method": "mih", "n_substrings": 0}, "n_substrings must be"),
        ({"method": "mih", "n_substrings": 65}, "n_substrings must be"),
        ({"method": "mih", "n_substrings": 1.5}, "n_substrings must be"),
        ({"method": "mih", "n_substrings": True}, "n_substrings must be"),
        ({"method": "scan", "n_substrings": 4}, "applies to method='mih'"),
    ],
)
def test_invalid_method_and_substrings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HammingIndex(64, **kwargs)


def test_substrings_must_fit_in_64_bits():
    with pytest.raises(ValueError, match=r"\[3, 130\]"):
        HammingIndex(130, method="mih", n_substrings=2)


def test_mih_with_faiss_backend_raises():
    pytest.importorskip("faiss")
    with pytest.raises(ValueError, match="backend='faiss' only serves"):
        HammingIndex(64, method="mih", backend="faiss")


def test_benchmark_smoke(tmp_path):
    # A tiny run of benchmarks/bench_mih.py (the real one uses 10M codes): it must finish and
    # find MIH identical to the scan.
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("faiss")
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "bench.json"
    args = ["--n-db", "20000", "--n-query", "20", "--k", "5", "--crossover-sizes", "5000", "20000"]
    args += ["--crossover-bits", "32", "--sections", "random", "crossover", "substrings"]
    result = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "bench_mih.py"), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert all(row["mih_identical_to_scan"] for row in summary["random"]["rows"])
    assert summary["random"]["memory"]["codes_bytes_per_code"] == 8
    assert {row["m"] for row in summary["substrings"]} == {3, 4, 5}


def test_concurrent_first_searches_from_threads_agree():
    # Threads that search a fresh index at once share one build of the tables.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(12)
    db = rng.integers(0, 2, size=(20_000, 32), dtype=np.uint8)
    queries = rng.integers(0, 2, size=(8, 32), dtype=np.uint8)
    index = HammingIndex(32, method="mih")
    index.add(db)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: index.search(queries, 15), range(4)))
    expected = brute_search(queries, db, 15)
    for result in results:
        assert_same(result, expected)


def test_zero_queries_give_empty_results():
    index = HammingIndex(16, method="mih")
    index.add(np.random.default_rng(13).integers(0, 2, size=(500, 16), dtype=np.uint8))
    distances, ids = index.search(np.zeros((0, 16), dtype=np.uint8), 5)
    assert distances.shape == ids.shape == (0, 5)
    lims, distances, ids = index.range_search(np.zeros((0, 16), dtype=np.uint8), 3)
    np.testing.assert_array_equal(lims, [0])
    assert distances.dtype == np.int32 and ids.dtype == np.int64 and ids.size == 0
