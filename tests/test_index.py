"""Tests for skmetacmh.index: exactness against brute force, backends, errors, sharding."""

import pickle
import sys

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils._param_validation import InvalidParameterError

from skmetacmh import _search
from skmetacmh._search import pack_codes, resolve_engine
from skmetacmh.index import HammingIndex, merge_search_results

from ._helpers import assert_same, brute_range, brute_search, tied_codes

try:
    import faiss  # noqa: F401

    HAVE_FAISS = True
except ImportError:  # pragma: no cover
    HAVE_FAISS = False

N_BITS = [1, 7, 8, 13, 64, 65, 130, 256, 300]  # 256: 4 words; 300: 16-bit distances


# --------------------------------------------------------------------------- engines
ENGINES = ["compiled", "numpy", "faiss"]


def make_index(engine, n_bits):
    """An index whose searches run on ``engine``; skips what this machine cannot run."""
    if engine == "compiled" and not _search.kernels_available():
        pytest.skip("compiled kernel not built")
    if engine == "faiss":
        if not HAVE_FAISS:
            pytest.skip("faiss not installed")
        if n_bits % 8:
            pytest.skip("faiss needs n_bits % 8 == 0")
    index = HammingIndex(n_bits, backend=engine)
    assert index.active_backend == engine
    return index


# --------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n_bits", N_BITS)
def test_search_equals_bruteforce_with_heavy_ties(engine, n_bits):
    rng = np.random.default_rng(n_bits)
    db = tied_codes(rng, 700, n_bits)
    queries = np.vstack([tied_codes(rng, 12, n_bits), db[:3]])
    index = make_index(engine, n_bits)
    for part in np.array_split(db, [100, 101, 450]):  # several add() calls, one of size 1
        index.add(part)
    assert index.ntotal == len(db)
    for k in [1, 5, 64, 333, 700, 1000]:  # up to and beyond ntotal
        distances, indices = index.search(queries, k)
        assert distances.dtype == np.int32 and indices.dtype == np.int64
        assert_same((distances, indices), brute_search(queries, db, k, pad=False))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n_bits", N_BITS)
def test_range_search_equals_bruteforce(engine, n_bits):
    rng = np.random.default_rng(100 + n_bits)
    db = tied_codes(rng, 400, n_bits)
    queries = tied_codes(rng, 9, n_bits)
    index = make_index(engine, n_bits)
    index.add(db[:150])
    index.add(db[150:])
    for radius in sorted({0, 1, n_bits // 3, n_bits, n_bits + 5}):
        lims, distances, indices = index.range_search(queries, radius)
        assert lims.shape == (len(queries) + 1,) and lims[0] == 0
        assert distances.dtype == np.int32 and indices.dtype == np.int64
        for q, (want_d, want_i) in enumerate(brute_range(queries, db, radius)):
            np.testing.assert_array_equal(distances[lims[q] : lims[q + 1]], want_d)
            np.testing.assert_array_equal(indices[lims[q] : lims[q + 1]], want_i)


def test_range_search_radius_is_inclusive_and_floored():
    db = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=np.uint8)
    index = HammingIndex(3)
    index.add(db)
    query = np.zeros((1, 3), dtype=np.uint8)
    _, _, ids_int = index.range_search(query, 1)
    _, _, ids_float = index.range_search(query, 1.9)
    np.testing.assert_array_equal(ids_int, [0, 1])
    np.testing.assert_array_equal(ids_float, [0, 1])


@settings(max_examples=40, deadline=None)
@given(
    n_bits=st.integers(1, 140),
    n_db=st.integers(1, 80),
    n_query=st.integers(1, 6),
    k=st.integers(1, 100),
    n_distinct=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_all_engines_equal_bruteforce(n_bits, n_db, n_query, k, n_distinct, seed):
    rng = np.random.default_rng(seed)
    db = tied_codes(rng, n_db, n_bits, n_distinct=n_distinct, p_one=rng.uniform(0.02, 0.5))
    queries = tied_codes(rng, n_query, n_bits, n_distinct=n_distinct)
    expected = brute_search(queries, db, k)
    index = HammingIndex(n_bits)
    index.add(db)
    packed_db, packed_q = index.packed_codes, pack_codes(queries)
    engines = [resolve_engine("numpy", n_bits)]
    if _search.kernels_available():
        engines.append(resolve_engine("compiled", n_bits))
    for engine in engines:
        assert_same(engine.knn(packed_q, packed_db, n_bits, k), expected)
    if HAVE_FAISS and n_bits % 8 == 0:
        faiss_index = HammingIndex(n_bits, backend="faiss")
        faiss_index.add(db)
        assert_same(faiss_index.search(queries, k), brute_search(queries, db, k, pad=False))
    radius = int(rng.integers(0, n_bits + 1))
    results = [engine.range(packed_q, packed_db, n_bits, radius) for engine in engines]
    for lims, distances, indices in results:
        for q, (want_d, want_i) in enumerate(brute_range(queries, db, radius)):
            np.testing.assert_array_equal(distances[lims[q] : lims[q + 1]], want_d)
            np.testing.assert_array_equal(indices[lims[q] : lims[q + 1]], want_i)


@pytest.mark.parametrize("n_bits", [8, 64])
def test_large_database_with_extreme_ties_all_engines_identical(n_bits):
    # 30,000 codes from 40 patterns: each distance is shared by hundreds of items, so the k-th
    # neighbour sits inside a large tie that faiss alone would cut arbitrarily; it also spans
    # several database chunks, exercising the running threshold of the numpy and C paths.
    rng = np.random.default_rng(7)
    db = tied_codes(rng, 30_000, n_bits, n_distinct=40, p_one=0.3)
    queries = tied_codes(rng, 70, n_bits, n_distinct=40, p_one=0.3)
    results = {}
    for engine in ENGINES:
        if (engine == "compiled" and not _search.kernels_available()) or (
            engine == "faiss" and not HAVE_FAISS
        ):
            continue
        index = make_index(engine, n_bits)
        index.add(db)
        results[engine] = index.search(queries, 100)
    expected = brute_search(queries[:10], db, 100)
    for result in results.values():
        assert_same((result[0][:10], result[1][:10]), expected)
        assert_same(result, results["numpy"])


@pytest.mark.parametrize("method", ["scan", "mih"])
def test_k_beyond_ntotal_returns_every_code_without_padding(method):
    # Issue 20 item 4: the result was (n_query, k) whatever the index size; k=10**9 on 100
    # codes was OOM-killed. Now it is bounded by the index: min(k, ntotal) columns.
    index = HammingIndex(5, method=method)
    index.add(np.eye(5, dtype=np.uint8)[:3])
    queries = np.zeros((2, 5), dtype=np.uint8)
    for k in (3, 6, 10**6, 2**62):
        distances, indices = index.search(queries, k)
        np.testing.assert_array_equal(distances, [[1, 1, 1]] * 2)
        np.testing.assert_array_equal(indices, [[0, 1, 2]] * 2)
    assert index.search(queries, 2)[1].shape == (2, 2)


def test_multiple_adds_continue_ids_and_equal_one_add():
    rng = np.random.default_rng(3)
    db = rng.integers(0, 2, size=(300, 33), dtype=np.uint8)
    queries = rng.integers(0, 2, size=(7, 33), dtype=np.uint8)
    once, parts = HammingIndex(33), HammingIndex(33)
    once.add(db)
    for chunk in np.array_split(db, 9):
        parts.add(chunk)
    assert parts.ntotal == len(parts) == 300
    assert_same(parts.search(queries, 20), once.search(queries, 20))
    np.testing.assert_array_equal(parts.reconstruct_n(), db)
    np.testing.assert_array_equal(parts.reconstruct_n(290, 5), db[290:295])


def test_accepts_bool_and_integer_codes():
    db = np.array([[True, False, True], [False, False, False]])
    index = HammingIndex(3)
    index.add(db)
    index.add(db.astype(np.int64))
    distances, indices = index.search(np.array([[1.0, 0.0, 1.0]]), 4)
    np.testing.assert_array_equal(indices, [[0, 2, 1, 3]])
    np.testing.assert_array_equal(distances, [[0, 0, 2, 2]])


def test_zero_queries_give_empty_results():
    index = HammingIndex(4)
    index.add(np.ones((3, 4), dtype=np.uint8))
    distances, indices = index.search(np.zeros((0, 4), dtype=np.uint8), 2)
    assert distances.shape == indices.shape == (0, 2)
    lims, distances, indices = index.range_search(np.zeros((0, 4), dtype=np.uint8), 2)
    np.testing.assert_array_equal(lims, [0])
    assert distances.size == indices.size == 0


def test_reset_empties_the_index():
    index = HammingIndex(8)
    index.add(np.ones((4, 8), dtype=np.uint8))
    index.reset()
    assert index.ntotal == 0
    with pytest.raises(ValueError, match="empty"):
        index.search(np.ones((1, 8), dtype=np.uint8), 1)
    index.add(np.zeros((2, 8), dtype=np.uint8))
    _, indices = index.search(np.ones((1, 8), dtype=np.uint8), 2)
    np.testing.assert_array_equal(indices, [[0, 1]])


def test_packed_codes_are_read_only():
    index = HammingIndex(70)
    index.add(np.ones((2, 70), dtype=np.uint8))
    packed = index.packed_codes
    assert packed.shape == (2, 2) and packed.dtype == np.uint64
    with pytest.raises(ValueError):
        packed[0, 0] = 0


# --------------------------------------------------------------------------- backends
def _run_without_kernels(code: str) -> str:
    """Run ``code`` in a fresh interpreter with SKMETACMH_NO_KERNELS=1; return its stdout."""
    import os
    import subprocess

    env = {**os.environ, "SKMETACMH_NO_KERNELS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_backend_names_are_honest_and_resolved_once():
    # backend="numpy" used to report (and run) "compiled".
    assert HammingIndex(16, backend="numpy").active_backend == "numpy"
    if _search.kernels_available():
        assert HammingIndex(13).active_backend == "compiled"
        assert HammingIndex(16, backend="compiled").active_backend == "compiled"
    else:  # pragma: no cover - depends on the build
        with pytest.raises(ImportError, match="compiled"):
            HammingIndex(16, backend="compiled")
    with pytest.raises(ValueError, match="backend must be one of"):
        HammingIndex(16, backend="kernel")


def test_environment_switch_forces_pure_numpy():
    out = _run_without_kernels(
        "import sys; sys.modules['faiss'] = None\n"
        "from skmetacmh import _search\n"
        "from skmetacmh.index import HammingIndex\n"
        "print(_search.default_engine().name, HammingIndex(16).active_backend)\n"
        "try:\n    HammingIndex(16, backend='compiled')\n"
        "except ImportError as exc:\n    print('SKMETACMH_NO_KERNELS' in str(exc))\n"
    )
    assert out.split() == ["numpy", "numpy", "True"]


def test_show_versions_reports_the_engines(capsys):
    import skmetacmh

    skmetacmh.show_versions()
    out = capsys.readouterr().out
    assert "compiled kernels" in out and "metrics engine" in out and "numpy" in out


def test_faiss_backend_without_faiss_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)  # makes `import faiss` fail
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        HammingIndex(64, backend="faiss")


@pytest.mark.skipif(not HAVE_FAISS, reason="faiss not installed")
def test_faiss_backend_rejects_bit_counts_not_divisible_by_8():
    with pytest.raises(ValueError, match="divisible by 8"):
        HammingIndex(13, backend="faiss")


@pytest.mark.skipif(not HAVE_FAISS, reason="faiss not installed")
def test_faiss_backend_sees_codes_added_after_a_search():
    rng = np.random.default_rng(5)
    db = tied_codes(rng, 500, 16)
    index = HammingIndex(16, backend="faiss")
    index.add(db[:200])
    index.search(db[:2], 3)  # builds the faiss object
    index.add(db[200:])
    assert_same(index.search(db[:20], 50), brute_search(db[:20], db, 50))


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("n_bits", [0, -3, 2.5, True, "64", None])
def test_invalid_n_bits_raises(n_bits):
    with pytest.raises(ValueError, match="n_bits must be a positive integer"):
        HammingIndex(n_bits)


def test_unknown_backend_raises():
    with pytest.raises(ValueError, match="backend must be one of"):
        HammingIndex(8, backend="gpu")


def test_wrong_bit_count_raises():
    index = HammingIndex(8)
    with pytest.raises(ValueError, match="codes must have 8 columns"):
        index.add(np.zeros((3, 7), dtype=np.uint8))
    index.add(np.zeros((3, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="query_codes must have 8 columns"):
        index.search(np.zeros((1, 9), dtype=np.uint8), 1)


def test_non_binary_values_raise():
    index = HammingIndex(4)
    with pytest.raises(ValueError, match="only 0 and 1"):
        index.add(np.array([[0, 1, 2, 0]]))
    with pytest.raises(ValueError, match="2-D"):
        index.add(np.array([0, 1, 1, 0]))
    index.add(np.zeros((1, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="only 0 and 1"):
        index.search(np.array([[0, -1, 0, 0]]), 1)


@pytest.mark.parametrize("k", [0, -1, 1.5, True, None])
def test_invalid_k_raises(k):
    index = HammingIndex(4)
    index.add(np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        index.search(np.zeros((1, 4), dtype=np.uint8), k)


@pytest.mark.parametrize("radius", [-1, -0.5, float("nan"), None, "2"])
def test_invalid_radius_raises(radius):
    index = HammingIndex(4)
    index.add(np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="radius must be a non-negative number"):
        index.range_search(np.zeros((1, 4), dtype=np.uint8), radius)


def test_searching_an_empty_index_raises():
    index = HammingIndex(4)
    with pytest.raises(ValueError, match="index is empty"):
        index.search(np.zeros((1, 4), dtype=np.uint8), 1)
    with pytest.raises(ValueError, match="index is empty"):
        index.range_search(np.zeros((1, 4), dtype=np.uint8), 1)


# --------------------------------------------------------------------------- persistence
@pytest.mark.parametrize("backend", ["numpy", "faiss"])
def test_index_pickles_and_joblib_dumps(backend, tmp_path):
    if backend == "faiss" and not HAVE_FAISS:
        pytest.skip("faiss not installed")
    rng = np.random.default_rng(11)
    db = tied_codes(rng, 300, 24)
    queries = tied_codes(rng, 5, 24)
    index = HammingIndex(24, backend=backend)
    index.add(db)
    expected = index.search(queries, 30)  # also builds the faiss object when used
    restored = pickle.loads(pickle.dumps(index))
    assert restored.ntotal == 300 and restored.backend == backend
    assert_same(restored.search(queries, 30), expected)
    joblib.dump(index, tmp_path / "index.joblib")
    loaded = joblib.load(tmp_path / "index.joblib")
    loaded.add(db[:10])
    assert loaded.ntotal == 310
    assert_same(loaded.search(queries, 30), brute_search(queries, np.vstack([db, db[:10]]), 30))


# --------------------------------------------------------------------------- sharding
@pytest.mark.parametrize("n_bits", [8, 13, 64])
def test_merged_shard_searches_equal_one_index(n_bits):
    rng = np.random.default_rng(21)
    db = tied_codes(rng, 900, n_bits, n_distinct=30)
    queries = tied_codes(rng, 15, n_bits, n_distinct=30)
    sizes = [37, 600, 263]  # different sizes, one smaller than k
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    k = 50
    whole = HammingIndex(n_bits)
    whole.add(db)
    expected = whole.search(queries, k)
    distances_list, indices_list = [], []
    for start, size in zip(offsets, sizes):
        shard = HammingIndex(n_bits)
        shard.add(db[start : start + size])
        d, i = shard.search(queries, k)
        distances_list.append(d)
        indices_list.append(i)
    assert distances_list[0].shape == (15, 37)  # the small shard returns all it holds
    merged = merge_search_results(
        distances_list, indices_list, k, offsets=offsets.tolist(), shard_sizes=sizes
    )
    assert_same(merged, expected)
    assert_same(merged, brute_search(queries, db, k))
    # The shards may answer in any order: the merge depends only on the global ids.
    reordered = merge_search_results(
        distances_list[::-1], indices_list[::-1], k, offsets[::-1], shard_sizes=sizes[::-1]
    )
    assert_same(reordered, expected)
    # Without shard_sizes a list narrower than k cannot be told from a too-shallow search.
    with pytest.raises(ValueError, match="shard 0 returned 37 .* pass shard_sizes="):
        merge_search_results(distances_list, indices_list, k, offsets=offsets.tolist())


def test_merge_pads_when_shards_hold_fewer_than_k_items():
    d1, i1 = np.array([[0, 2, -1]]), np.array([[1, 0, -1]])
    d2, i2 = np.array([[1, -1, -1]]), np.array([[0, -1, -1]])
    distances, indices = merge_search_results([d1, d2], [i1, i2], 5, offsets=[0, 2])
    np.testing.assert_array_equal(distances, [[0, 1, 2, -1, -1]])
    np.testing.assert_array_equal(indices, [[1, 2, 0, -1, -1]])
    assert distances.dtype == np.int32 and indices.dtype == np.int64


def test_merge_rejects_inconsistent_inputs():
    d, i = np.zeros((2, 3), dtype=np.int32), np.arange(6).reshape(2, 3)
    with pytest.raises(ValueError, match="one array per shard"):
        merge_search_results([d], [i, i], 3)
    with pytest.raises(ValueError, match="one integer per shard"):
        merge_search_results([d, d], [i, i], 3, offsets=[0])
    with pytest.raises(ValueError, match="same shape"):
        merge_search_results([d], [i[:, :2]], 2)
    with pytest.raises(ValueError, match="answers 1 queries"):
        merge_search_results([d, d[:1]], [i, i[:1]], 3, offsets=[0, 10])
    with pytest.raises(ValueError, match="fewer than k=4"):
        merge_search_results([d], [i], 4)
    with pytest.raises(InvalidParameterError, match="'k' parameter of merge_search_results"):
        merge_search_results([d], [i], 0)
    with pytest.raises(InvalidParameterError, match="'offsets' parameter"):
        merge_search_results([d], [i], 3, offsets=3)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        merge_search_results([d], [i], True)


def test_merge_refuses_negative_offsets_and_unsorted_or_overlapping_lists():
    # Issue 20 item 8: a negative offset turned a real neighbour into the padding id -1, and
    # unsorted or overlapping shard lists were merged into a plausible wrong answer.
    d, i = np.array([[0, 1, 2]], np.int32), np.array([[0, 1, 2]])
    with pytest.raises(ValueError, match=r"offsets\[1\] must be a non-negative .* padding id"):
        merge_search_results([d, d], [i, i], 3, offsets=[0, -1])
    with pytest.raises(ValueError, match=r"shard 0: each row must be sorted by \(distance, id\)"):
        merge_search_results([np.array([[3, 1, 2]], np.int32)], [i], 2)
    with pytest.raises(ValueError, match="sorted by .*no repeated id"):
        merge_search_results([np.array([[1, 1]])], [np.array([[4, 4]])], 2)
    with pytest.raises(ValueError, match="global id 0 comes from more than one shard"):
        merge_search_results([d, d], [i, i], 3)
    with pytest.raises(ValueError, match="padded slots .* after every real"):
        merge_search_results([np.array([[-1, 1]])], [np.array([[-1, 1]])], 2)
    with pytest.raises(ValueError, match="both its distance and its id"):
        merge_search_results([np.array([[0, -1]])], [np.array([[0, 3]])], 2)
    with pytest.raises(ValueError, match="must be integers; got dtype float64"):
        merge_search_results([d.astype(float)], [i], 3)
    with pytest.raises(ValueError, match=r"shard_sizes\[0\] must be a non-negative"):
        merge_search_results([d], [i], 3, shard_sizes=[-2])
    with pytest.raises(ValueError, match="holds 2 codes .* has id 2"):
        merge_search_results([d], [i], 3, offsets=[0], shard_sizes=[2])
    # Global ids (no offsets) are not bounded by the shard sizes.
    merged = merge_search_results([d, d], [i, i + 3], 6, shard_sizes=[3, 3])
    np.testing.assert_array_equal(merged[1], [[0, 3, 1, 4, 2, 5]])
    with pytest.raises(ValueError, match=r"returned 3 neighbours .* min\(k=5, shard size 9\)"):
        merge_search_results([d], [i], 5, shard_sizes=[9])
    # The same inputs, consistent, merge; a huge k allocates no more than the inputs hold.
    distances, indices = merge_search_results(
        [d, d], [i, i], 10**12, offsets=[0, 3], shard_sizes=[3, 3]
    )
    np.testing.assert_array_equal(indices, [[0, 3, 1, 4, 2, 5]])
    np.testing.assert_array_equal(distances, [[0, 0, 1, 1, 2, 2]])


class ArbitraryTieIndex:
    """A stand-in for ``faiss.IndexBinaryFlat`` that uses its documented freedom to the full.

    faiss promises the k smallest distances but not which of the items tied at the k-th distance
    it returns, nor their order (recent faiss versions happen to prefer small ids). This fake
    returns exact distances with a random subset of the boundary ties in a random order.
    """

    def __init__(self, faiss_bytes, seed=0):
        self.bits = np.unpackbits(faiss_bytes, axis=1).astype(np.int64)
        self.ntotal = len(faiss_bytes)
        self.rng = np.random.default_rng(seed)

    def search(self, query_bytes, k):
        queries = np.unpackbits(query_bytes, axis=1).astype(np.int64)
        dist = (queries[:, None, :] != self.bits[None, :, :]).sum(axis=2)
        order = np.lexsort((self.rng.random(dist.shape), dist), axis=-1)[:, :k]
        return np.take_along_axis(dist, order, -1).astype(np.int32), order.astype(np.int64)


@pytest.mark.parametrize("n_bits", [8, 24])
def test_faiss_adapter_is_exact_whatever_tie_order_faiss_returns(n_bits):
    from skmetacmh._search._faiss_engine import _faiss_knn as faiss_knn
    from skmetacmh._search._faiss_engine import packed_to_faiss_bytes

    rng = np.random.default_rng(n_bits)
    db = tied_codes(rng, 400, n_bits, n_distinct=12)
    queries = tied_codes(rng, 25, n_bits, n_distinct=12)
    fake = ArbitraryTieIndex(packed_to_faiss_bytes(pack_codes(db), n_bits), seed=n_bits)
    query_bytes = packed_to_faiss_bytes(pack_codes(queries), n_bits)
    for k in [1, 7, 60, 400]:
        raw_d, raw_i = fake.search(query_bytes, k)
        want_d, want_i = brute_search(queries, db, k)
        np.testing.assert_array_equal(raw_d, want_d)
        if k < 400:
            assert (raw_i != want_i).any()  # the fake really does scramble the ties
        assert_same(faiss_knn(fake, query_bytes, k), (want_d, want_i))


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_search_when_every_item_is_closer_than_the_last(engine):
    # Distances strictly decrease along the database: every item displaces the current top-k,
    # the worst case for the running threshold (the kept-candidate buffers must be compacted).
    n_bits, n_db = 2600, 2500
    db = (np.arange(n_bits)[None, :] < (n_bits - 1 - np.arange(n_db))[:, None]).astype(np.uint8)
    queries = np.zeros((2, n_bits), dtype=np.uint8)
    queries[1, -1] = 1
    index = make_index(engine, n_bits)
    index.add(db)
    for k in [1, 3, 700]:
        assert_same(index.search(queries, k), brute_search(queries, db, k))


def test_concurrent_searches_from_threads_agree():
    # The compiled kernel runs without the GIL; concurrent searches must not share state.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(9)
    db = tied_codes(rng, 5000, 64, n_distinct=200)
    queries = [tied_codes(rng, 20, 64, n_distinct=200) for _ in range(6)]
    index = HammingIndex(64)
    index.add(db)
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda q: index.search(q, 30), queries))
    for q, answer in zip(queries, answers):
        assert_same(answer, index.search(q, 30))


@pytest.mark.skipif(not _search.kernels_available(), reason="compiled kernel not built")
def test_kernel_rejects_buffers_of_the_wrong_size():
    from skmetacmh._search import _kernels as _hamming_kernel

    db = np.zeros((10, 1), dtype=np.uint64)
    queries = np.zeros((2, 1), dtype=np.uint64)
    out_d, out_i = np.empty((2, 3), dtype=np.int32), np.empty((2, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="database"):
        _hamming_kernel.knn(queries, 2, db, 11, 1, 64, 3, out_d, out_i)
    with pytest.raises(ValueError, match="indices"):
        _hamming_kernel.knn(queries, 2, db, 10, 1, 64, 3, out_d, out_i[:, :2].copy())
    with pytest.raises(ValueError, match="invalid sizes"):
        _hamming_kernel.knn(queries, 2, db, 10, 1, 65, 3, out_d, out_i)
    hist = np.zeros((2, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="histogram"):
        _hamming_kernel.range_count(queries, 2, db, 10, 1, 4, hist)
    # average_precision checks its sizes before it divides or reads anything.
    ap, n_rel = np.zeros(2), np.zeros(2, dtype=np.int64)
    labels_q, labels_db = np.zeros(2, dtype=np.int64), np.zeros(10, dtype=np.int64)
    args = (labels_q, labels_db, 0, 0, ap, n_rel)
    with pytest.raises(ValueError, match="invalid sizes"):  # n_words = 0 once crashed (SIGFPE)
        _hamming_kernel.average_precision(queries, 2, db, 10, 0, 64, *args)
    with pytest.raises(ValueError, match="database"):
        _hamming_kernel.average_precision(queries, 2, db, 9, 1, 64, *args)
    with pytest.raises(ValueError, match="ap"):
        _hamming_kernel.average_precision(queries, 2, db, 10, 1, 64, *args[:4], ap[:1], n_rel)
    with pytest.raises(ValueError, match="labels"):
        _hamming_kernel.average_precision(
            queries, 2, db, 10, 1, 64, labels_q, labels_db, 2, 0, ap, n_rel
        )


def test_reconstruct_n_edges():
    rng = np.random.default_rng(3)
    db = rng.integers(0, 2, (6, 70), dtype=np.uint8)
    index = HammingIndex(70)
    assert index.reconstruct_n().shape == (0, 70)  # empty index
    index.add(db)
    assert index.reconstruct_n(6).shape == (0, 70)  # empty range at the end
    assert index.reconstruct_n(2, 0).shape == (0, 70)
    np.testing.assert_array_equal(index.reconstruct_n(4, 10), db[4:])
    for start in [-1, 7, 1.5, True]:
        with pytest.raises(ValueError, match="start"):
            index.reconstruct_n(start)
    with pytest.raises(ValueError, match="non-negative"):
        index.reconstruct_n(0, -2)


def test_pickled_index_resolves_its_engine_again():
    index = HammingIndex(16, backend="numpy")
    index.add(np.eye(16, dtype=np.uint8))
    loaded = pickle.loads(pickle.dumps(index))
    assert loaded.active_backend == "numpy"
    assert_same(loaded.search(np.eye(16, dtype=np.uint8)[:3], 2), index.search(np.eye(16)[:3], 2))


# --------------------------------------------------------------------------- input quirks
def test_complex_codes_are_refused():
    # Issue 20 item 15: complex codes were accepted (numpy only warned on the cast).
    index = HammingIndex(4)
    with pytest.raises(ValueError, match="codes must hold real 0/1 numbers; got dtype complex"):
        index.add(np.eye(4, dtype=complex))
    index.add(np.eye(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="query_codes must hold real 0/1 .* complex"):
        index.search(np.eye(4, dtype=complex)[:1], 1)


def test_packed_codes_get_a_hint():
    # Issue 20 item 15: packed codes passed where bits are expected got no hint.
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2, size=(10, 64), dtype=np.uint8)
    index = HammingIndex(64)
    index.add(codes)
    as_bytes = np.packbits(codes, axis=1)
    for packed, form in [(as_bytes, "np.packbits bytes"), (as_bytes.view(np.uint64), "64-bit")]:
        with pytest.raises(ValueError, match=f"looks like 64-bit codes packed as {form}.*unpack"):
            index.search(packed, 3)
    with pytest.raises(ValueError, match="looks like 13-bit codes packed"):
        HammingIndex(13).add(np.packbits(codes[:, :13], axis=1))
    # A width error that is not packing gets no such hint.
    with pytest.raises(ValueError, match=r"must have 64 columns \(n_bits\); got 3\.$"):
        index.search(codes[:, :3], 3)


@pytest.mark.skipif(not _search.kernels_available(), reason="compiled kernel not built")
def test_compiled_pickle_and_save_load_where_the_kernels_are_missing(tmp_path):
    # Issue 20 item 15: a backend="compiled" pickle could not be loaded without the kernels.
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 2, size=(200, 64), dtype=np.uint8)
    index = HammingIndex(64, backend="compiled", method="mih")
    index.add(codes)
    expected = index.search(codes[:5], 7)
    joblib.dump(index, tmp_path / "index.pkl")
    index.save(tmp_path / "saved")
    np.save(tmp_path / "queries.npy", codes[:5])
    out = _run_without_kernels(
        "import warnings, joblib, numpy as np\n"
        "from skmetacmh.index import HammingIndex, EngineFallbackWarning\n"
        f"q = np.load({str(tmp_path / 'queries.npy')!r})\n"
        "for how in ('pickle', 'load'):\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        warnings.simplefilter('always')\n"
        f"        i = (joblib.load({str(tmp_path / 'index.pkl')!r}) if how == 'pickle' else\n"
        f"             HammingIndex.load({str(tmp_path / 'saved')!r}, mmap_mode='r'))\n"
        "    w = [c for c in caught if issubclass(c.category, EngineFallbackWarning)]\n"
        "    d, ids = i.search(q, 7)\n"
        "    print(how, i.backend, i.active_backend, len(w), 'numpy engine instead' in\n"
        "          str(w[0].message), d.tolist(), ids.tolist())\n"
    )
    for line, how in zip(out.splitlines(), ("pickle", "load")):
        words = line.split(" ", 5)
        assert words[:5] == [how, "compiled", "numpy", "1", "True"], line
        assert words[5] == f"{expected[0].tolist()} {expected[1].tolist()}"


# --------------------------------------------------------------------------- on disk
def _saved_and_loaded(index, tmp_path, mmap_mode):
    index.save(tmp_path / "index")
    return HammingIndex.load(tmp_path / "index", mmap_mode=mmap_mode)


@pytest.mark.parametrize("mmap_mode", [None, "r", "c"])
@pytest.mark.parametrize(
    "n_bits, method, backend",
    [
        (64, "scan", "auto"),
        (64, "mih", "auto"),
        (130, "mih", "numpy"),
        (13, "scan", "numpy"),
        (32, "scan", "faiss"),
    ],
)
def test_saved_index_answers_identically(tmp_path, n_bits, method, backend, mmap_mode):
    if backend == "faiss" and not HAVE_FAISS:
        pytest.skip("faiss not installed")
    rng = np.random.default_rng(n_bits)
    db = tied_codes(rng, 3_000, n_bits, n_distinct=300, p_one=0.3)
    queries = np.vstack([tied_codes(rng, 20, n_bits, n_distinct=300, p_one=0.3), db[:3]])
    index = HammingIndex(n_bits, backend=backend, method=method)
    index.add(db)
    loaded = _saved_and_loaded(index, tmp_path, mmap_mode)
    assert (loaded.ntotal, loaded.n_bits, loaded.backend) == (3_000, n_bits, backend)
    assert loaded.active_method == index.active_method == method
    if mmap_mode is not None:  # the codes are a view of the mapped file, not a copy
        assert isinstance(loaded._packed.base, np.memmap)
    for k in (1, 10, 3_000, 5_000):
        assert_same(loaded.search(queries, k), brute_search(queries, db, k, pad=False))
    for radius in (0, 3, n_bits):
        assert_same(loaded.range_search(queries, radius), index.range_search(queries, radius))
    np.testing.assert_array_equal(loaded.reconstruct_n(), db)


def test_saved_mih_tables_are_loaded_not_rebuilt(tmp_path):
    rng = np.random.default_rng(2)
    db = rng.integers(0, 2, size=(5_000, 64), dtype=np.uint8)
    index = HammingIndex(64, method="mih")
    index.add(db)
    index.save(tmp_path / "index")  # builds the tables that the next search would build
    built = index._mih._tables
    files = {p.name for p in (tmp_path / "index").iterdir()}
    assert {"header.json", "codes.npy", "mih_ids.npy", "mih_offsets.npy"} <= files
    loaded = HammingIndex.load(tmp_path / "index", mmap_mode="r")
    tables = loaded._mih._tables
    assert tables is not None and tables.n == 5_000 == loaded._mih.n_indexed
    for name, value in vars(built).items():
        np.testing.assert_array_equal(getattr(tables, name), value, err_msg=name)
    assert isinstance(tables.ids.base, np.memmap)
    assert_same(loaded.search(db[:50], 10), index.search(db[:50], 10))
    assert loaded._mih._tables is tables  # the first search used the saved tables
    # A scan index has no tables to save: only the header and the codes.
    scan = HammingIndex(64, method="scan")
    scan.add(db)
    scan.save(tmp_path / "scan")
    assert {p.name for p in (tmp_path / "scan").iterdir()} == {"header.json", "codes.npy"}


def test_add_after_a_memory_mapped_load_leaves_the_files_unchanged(tmp_path):
    rng = np.random.default_rng(3)
    db = rng.integers(0, 2, size=(6_000, 40), dtype=np.uint8)
    more = rng.integers(0, 2, size=(5_000, 40), dtype=np.uint8)
    index = HammingIndex(40, method="mih")
    index.add(db)
    index.save(tmp_path / "index")
    before = (tmp_path / "index" / "codes.npy").read_bytes()
    loaded = HammingIndex.load(tmp_path / "index", mmap_mode="r")
    loaded.add(more[:10])  # scanned and merged beside the saved tables
    loaded.add(more[10:])  # past the tail limit: the tables are rebuilt, in memory
    both = np.vstack([db, more])
    queries = both[::997]
    assert_same(loaded.search(queries, 25), brute_search(queries, both, 25))
    for q, (want_d, want_i) in enumerate(brute_range(queries, both, 8)):
        lims, d, i = loaded.range_search(queries, 8)
        np.testing.assert_array_equal(d[lims[q] : lims[q + 1]], want_d)
        np.testing.assert_array_equal(i[lims[q] : lims[q + 1]], want_i)
    assert (tmp_path / "index" / "codes.npy").read_bytes() == before
    assert HammingIndex.load(tmp_path / "index").ntotal == 6_000
    loaded.reset()  # an emptied mapped index refills in memory
    loaded.add(db[:3])
    assert loaded.ntotal == 3


def test_save_replaces_a_saved_index_and_refuses_other_folders(tmp_path):
    index = HammingIndex(8)
    index.add(np.eye(8, dtype=np.uint8))
    index.save(tmp_path / "index")
    mapped = HammingIndex.load(tmp_path / "index", mmap_mode="r")
    index.add(np.ones((2, 8), dtype=np.uint8))
    index.save(tmp_path / "index")  # replaces it, while `mapped` still maps the old files
    assert HammingIndex.load(tmp_path / "index").ntotal == 10
    assert mapped.ntotal == 8 and mapped.search(np.eye(8)[:1], 1)[1].tolist() == [[0]]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds no saved skmetacmh index"):
        index.save(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        index.save(tmp_path / "file")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        index.save(tmp_path / "absent" / "index")
    empty = HammingIndex(8)
    empty.save(tmp_path / "empty")
    restored = HammingIndex.load(tmp_path / "empty", mmap_mode="r")
    assert restored.ntotal == 0
    restored.add(np.eye(8, dtype=np.uint8))
    assert restored.search(np.eye(8)[:2], 1)[1].tolist() == [[0], [1]]


def test_load_refuses_newer_foreign_and_altered_folders(tmp_path):
    import json

    index = HammingIndex(16)
    index.add(np.eye(16, dtype=np.uint8))
    index.save(tmp_path / "index")
    header_file = tmp_path / "index" / "header.json"
    header = json.loads(header_file.read_text())
    assert header["format"] == "skmetacmh.HammingIndex" and header["format_version"] == 1
    assert header["n_bits"] == 16 and header["ntotal"] == 16
    assert header["arrays"]["codes"] == {"dtype": "<u8", "shape": [16, 1]}

    def rewritten(**changes):
        header_file.write_text(json.dumps({**header, **changes}))

    rewritten(format_version=2, written_by="9.0")
    with pytest.raises(
        ValueError,
        match="written by skmetacmh 9.0 in index format version 2; "
        "this skmetacmh .* reads format versions up to 1. Upgrade",
    ):
        HammingIndex.load(tmp_path / "index")
    rewritten(format="skmetacmh.DistributedHammingIndex")
    with pytest.raises(
        ValueError,
        match="not a saved skmetacmh.HammingIndex; load it with DistributedHammingIndex.load",
    ):
        HammingIndex.load(tmp_path / "index")
    rewritten(format_version="1")
    with pytest.raises(ValueError, match="format_version must be a positive integer"):
        HammingIndex.load(tmp_path / "index")
    rewritten(ntotal=17)
    with pytest.raises(ValueError, match="codes.npy must be <u8 of shape"):
        HammingIndex.load(tmp_path / "index")
    rewritten(n_bits="16")
    with pytest.raises(ValueError, match="n_bits in .* header must be a positive integer"):
        HammingIndex.load(tmp_path / "index")
    rewritten(ntotal=-1)
    with pytest.raises(ValueError, match="ntotal in .* header must be a non-negative int"):
        HammingIndex.load(tmp_path / "index")
    rewritten()
    np.save(tmp_path / "index" / "codes.npy", np.zeros((15, 1), dtype=np.uint64))
    with pytest.raises(ValueError, match="changed after saving"):
        HammingIndex.load(tmp_path / "index", mmap_mode="r")
    (tmp_path / "index" / "codes.npy").unlink()
    with pytest.raises(FileNotFoundError, match="codes.npy is missing"):
        HammingIndex.load(tmp_path / "index")
    header_file.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid index header"):
        HammingIndex.load(tmp_path / "index")
    with pytest.raises(FileNotFoundError, match="holds no saved index"):
        HammingIndex.load(tmp_path)
    with pytest.raises(ValueError, match="mmap_mode must be one of"):
        HammingIndex.load(tmp_path / "index", mmap_mode="r+")


def test_merge_ranges_equals_one_range_search():
    # merge_ranges serves the distributed index and MIH's scanned tail: per query, the union
    # of the shards' radius results by (distance, global id).
    from skmetacmh._search._merge import merge_ranges

    rng = np.random.default_rng(12)
    db = tied_codes(rng, 500, 20, n_distinct=30, p_one=0.3)
    queries = np.vstack([tied_codes(rng, 6, 20, n_distinct=30, p_one=0.3), np.ones((1, 20))])
    bounds = [0, 120, 121, 400, 500]  # one shard of a single code
    shards = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        shard = HammingIndex(20)
        shard.add(db[lo:hi])
        shards.append(shard.range_search(queries, 5))
    lims, distances, ids = merge_ranges(*zip(*shards), offsets=bounds[:-1])
    assert lims.dtype == ids.dtype == np.int64 and distances.dtype == np.int32
    for q, (want_d, want_i) in enumerate(brute_range(queries, db, 5)):
        np.testing.assert_array_equal(distances[lims[q] : lims[q + 1]], want_d)
        np.testing.assert_array_equal(ids[lims[q] : lims[q + 1]], want_i)
