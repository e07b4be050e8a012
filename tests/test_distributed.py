"""Encoding out of core through Dask on a small local cluster."""

import numpy as np
import pytest

from skmetacmh.distributed import DistributedHammingIndex, encode_dask, transform_dask
from skmetacmh.index import HammingIndex

from ._toy import ToyHasher
from .test_index import brute_range, brute_search, tied_codes

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    X = np.eye(4)[y] @ rng.standard_normal((4, 9)) + 0.5 * rng.standard_normal((200, 9))
    hasher = ToyHasher(12, n_image_features=5, random_state=0).fit(X, y)
    X_big = rng.standard_normal((5_000, 9))
    return hasher, X_big


def test_transform_dask_equals_in_memory_transform(client, fitted):
    hasher, X_big = fitted
    lazy = transform_dask(hasher, da.from_array(X_big, chunks=(700, 3)))  # rechunked to rows
    assert lazy.dtype == np.uint8 and lazy.shape == (5_000, 24)
    np.testing.assert_array_equal(lazy.compute(), hasher.transform(X_big))


def test_encode_dask_one_modality(client, fitted):
    hasher, X_big = fitted
    lazy = encode_dask(hasher, da.from_array(X_big[:, 5:], chunks=(1000, -1)), "text")
    np.testing.assert_array_equal(lazy.compute(), hasher.encode(X_big[:, 5:], modality="text"))


def test_index_built_from_encode_dask_equals_in_memory_index(client, fitted):
    # The whole path: lazy encoding on the workers, shards built where the blocks are computed,
    # and a search identical to one in-memory index over hasher.encode's codes.
    hasher, X_big = fitted
    lazy = encode_dask(hasher, da.from_array(X_big[:, :5], chunks=(700, -1)), "image")
    index = DistributedHammingIndex(12, client=client)
    index.add(lazy)
    codes = hasher.encode(X_big[:, :5], modality="image")
    whole = HammingIndex(12)
    whole.add(codes)
    assert index.ntotal == 5_000 and sum(index.shard_sizes.values()) == 5_000
    assert len(index.shard_sizes) == 2  # one shard per worker
    queries = hasher.encode(X_big[:40, 5:], modality="text")  # cross-modal queries
    assert_same(index.search(queries, 25), whole.search(queries, 25))


def test_errors(fitted):
    hasher, X_big = fitted
    with pytest.raises(TypeError, match="dask.array"):
        transform_dask(hasher, X_big)
    with pytest.raises(ValueError, match="features"):
        transform_dask(hasher, da.from_array(X_big[:, :4]))
    with pytest.raises(ValueError, match="modality"):
        encode_dask(hasher, da.from_array(X_big[:, :5]), "audio")


def assert_same(result, expected):
    for got, want in zip(result, expected):
        np.testing.assert_array_equal(got, want)


def _search_both(index, whole, queries, k, radius):
    assert_same(index.search(queries, k), whole.search(queries, k))
    assert_same(index.range_search(queries, radius), whole.range_search(queries, radius))


@pytest.mark.parametrize("method", ["scan", "mih"])
def test_distributed_index_equals_one_index_with_heavy_ties(client, method):
    rng = np.random.default_rng(1)
    codes = tied_codes(rng, 3_000, 20, n_distinct=15, p_one=0.3)  # ties across the shards
    queries = np.vstack([tied_codes(rng, 10, 20, n_distinct=15, p_one=0.3), codes[:2]])
    index = DistributedHammingIndex(20, client=client, method=method)
    index.add(da.from_array(codes, chunks=(400, -1)))  # 8 blocks: 4 per worker
    assert index.ntotal == 3_000
    for k in (1, 10, 700, 3_000, 3_010):
        assert_same(index.search(queries, k), brute_search(queries, codes, k))
    for radius in (0, 3, 20):
        lims, distances, ids = index.range_search(queries, radius)
        for q, (want_d, want_i) in enumerate(brute_range(queries, codes, radius)):
            np.testing.assert_array_equal(distances[lims[q] : lims[q + 1]], want_d)
            np.testing.assert_array_equal(ids[lims[q] : lims[q + 1]], want_i)


def test_incremental_adds_and_unknown_chunk_sizes(client):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2, size=(2_500, 33), dtype=np.uint8)  # 33 bits: two words
    queries = rng.integers(0, 2, size=(7, 33), dtype=np.uint8)
    index = DistributedHammingIndex(33, client=client)
    index.add(da.from_array(codes[:900], chunks=(900, -1)))  # one block: rechunked, one each
    lazy = da.from_array(codes[900:], chunks=(300, -1))
    index.add(lazy[lazy[:, 0] < 2])  # a boolean filter: chunk sizes unknown until computed
    assert index.ntotal == 2_500
    whole = HammingIndex(33)
    whole.add(codes)
    _search_both(index, whole, queries, 40, 9)
    assert_same(index.search(codes[[0, 899, 900, 2_499]], 1)[1], [[0], [899], [900], [2_499]])


def test_default_client_is_used(client):
    codes = np.random.default_rng(3).integers(0, 2, size=(100, 8), dtype=np.uint8)
    index = DistributedHammingIndex(8)  # client=None: the current default client
    index.add(da.from_array(codes, chunks=(30, -1)))
    whole = HammingIndex(8)
    whole.add(codes)
    _search_both(index, whole, codes[:5], 10, 2)


def test_distributed_index_errors(client):
    index = DistributedHammingIndex(8, client=client)
    with pytest.raises(ValueError, match="empty"):
        index.search(np.zeros((1, 8), dtype=np.uint8), 1)
    with pytest.raises(TypeError, match="dask.array"):
        index.add(np.zeros((4, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="8 columns"):
        index.add(da.zeros((4, 9), dtype=np.uint8))
    with pytest.raises(RuntimeError, match="building shard.*ValueError.*only 0 and 1"):
        index.add(da.full((4, 8), 3, dtype=np.uint8))
    assert index.ntotal == 0
    index.add(da.zeros((4, 8), dtype=np.uint8, chunks=(2, 8)))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        index.search(np.zeros((1, 8), dtype=np.uint8), 0)
    with pytest.raises(ValueError, match="radius must be"):
        index.range_search(np.zeros((1, 8), dtype=np.uint8), -1)
    with pytest.raises(ValueError, match="query_codes must have 8 columns"):
        index.search(np.zeros((1, 7), dtype=np.uint8), 1)
    with pytest.raises(ValueError, match="method must be one of"):
        DistributedHammingIndex(8, method="fast")


def _failing_search(shard, queries, k):
    raise OSError("disk gone")


def test_a_failing_shard_raises_instead_of_a_partial_result(client):
    codes = np.random.default_rng(4).integers(0, 2, size=(200, 16), dtype=np.uint8)
    index = DistributedHammingIndex(16, client=client)
    index.add(da.from_array(codes, chunks=(50, -1)))
    # One shard's future now errors: the search must fail loudly, naming the shard.
    broken = next(iter(index._shards.values()))
    broken.future = client.submit(_failing_search, None, None, None, pure=False)
    with pytest.raises(RuntimeError, match="searching shard 0 .*OSError: disk gone.*No partial"):
        index.search(codes[:3], 5)


_GATE = {}  # events shared with the in-process workers (they run in this process)


def _gated_search(shard, queries, k):
    _GATE["started"].set()
    _GATE["proceed"].wait(30)
    return _GATE["search"](shard, queries, k)


def test_a_worker_lost_mid_search_is_retried_exactly(monkeypatch):
    import threading

    import skmetacmh.distributed as module

    rng = np.random.default_rng(5)
    codes = tied_codes(rng, 4_000, 24, n_distinct=50, p_one=0.3)
    queries = codes[:6]
    whole = HammingIndex(24)
    whole.add(codes)
    expected = whole.search(queries, 30)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    with distributed.Client(cluster) as c:
        index = DistributedHammingIndex(24, client=c)
        index.add(da.from_array(codes, chunks=(500, -1)))
        victim = sorted(index.shard_sizes)[1]
        _GATE.update(
            started=threading.Event(), proceed=threading.Event(), search=module._search_shard
        )
        # Each shard search blocks until the victim worker has been closed.
        monkeypatch.setattr(module, "_search_shard", _gated_search)
        result = {}
        thread = threading.Thread(target=lambda: result.update(r=index.search(queries, 30)))
        thread.start()
        assert _GATE["started"].wait(30)
        worker = next(w for w in cluster.workers.values() if w.address == victim)
        cluster.sync(worker.close, executor_wait=False)  # its shard and running task are lost
        _GATE["proceed"].set()
        thread.join(60)
        assert not thread.is_alive()
        assert_same(result["r"], expected)  # the lost shard was rebuilt and searched again
    cluster.close()
