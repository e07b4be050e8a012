"""Encoding out of core through Dask on a small local cluster."""

import copy
import time

import numpy as np
import pytest

from skmetacmh.distributed import DistributedHammingIndex, encode_dask, transform_dask
from skmetacmh.index import HammingIndex

from ._helpers import assert_same, brute_range, brute_search, tied_codes
from ._toy import ToyHasher

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
        assert_same(index.search(queries, k), brute_search(queries, codes, k, pad=False))
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
    broken = index._shards[0]
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


# --------------------------------------------------------------------------- issue 20 / 23
def test_search_k_is_bounded_by_ntotal(client):
    # Issue 20 item 4: a k far above ntotal allocated (n_query, k) results.
    codes = np.random.default_rng(6).integers(0, 2, size=(90, 16), dtype=np.uint8)
    index = DistributedHammingIndex(16, client=client)
    index.add(da.from_array(codes, chunks=(30, -1)))  # shards of 30 and 60 codes
    for k in (90, 1_000, 2**62):
        distances, ids = index.search(codes[:4], k)
        assert ids.shape == (4, 90)
        assert_same((distances, ids), brute_search(codes[:4], codes, 90))
    assert index.search(codes[:4], 45)[1].shape == (4, 45)  # more than one shard holds


def test_shard_sizes_follow_the_shards_after_a_worker_is_lost():
    # Issue 20 item 9: shard_sizes kept listing a lost worker, and after a later add it showed
    # three addresses on a two-worker cluster.
    rng = np.random.default_rng(7)
    codes = tied_codes(rng, 2_000, 16, n_distinct=40, p_one=0.3)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    with distributed.Client(cluster) as c:
        index = DistributedHammingIndex(16, client=c)
        index.add(da.from_array(codes[:1_000], chunks=(250, -1)))
        victim, survivor = sorted(index.shard_sizes)
        worker = next(w for w in cluster.workers.values() if w.address == victim)
        cluster.sync(worker.close)
        while victim in c.scheduler_info()["workers"]:
            time.sleep(0.05)
        assert index.shard_sizes == {survivor: 1_000}  # its shard was rebuilt on the survivor

        async def start_worker():
            return await distributed.Worker(cluster.scheduler_address, nthreads=1)

        newcomer = cluster.sync(start_worker)
        index.add(da.from_array(codes[1_000:], chunks=(250, -1)))
        sizes = index.shard_sizes
        assert set(sizes) == {survivor, newcomer.address} == set(c.scheduler_info()["workers"])
        assert sum(sizes.values()) == index.ntotal == 2_000 and sizes[newcomer.address] == 500
        queries = codes[::97]
        assert_same(index.search(queries, 60), brute_search(queries, codes, 60))
        assert_same(index.range_search(queries, 3), _one_index(codes).range_search(queries, 3))
        cluster.sync(newcomer.close)
    cluster.close()


def _one_index(codes, **params):
    whole = HammingIndex(codes.shape[1], **params)
    whole.add(codes)
    return whole


def test_encode_dask_checks_the_width_when_the_graph_is_built(fitted):
    # Issue 20 item 11: a wrong column count failed only at compute time, on a worker.
    hasher, X_big = fitted
    with pytest.raises(ValueError, match="modality='image'.*6 columns.*fitted with 5 image"):
        encode_dask(hasher, da.from_array(X_big[:, :6], chunks=(100, -1)), "image")
    with pytest.raises(ValueError, match="modality='text'.*5 columns.*fitted with 4 text"):
        encode_dask(hasher, da.from_array(X_big[:, :5], chunks=(100, -1)), "text")
    # The fitted width counts, not a parameter changed after fit.
    changed = copy.deepcopy(hasher).set_params(n_image_features=6)
    lazy = encode_dask(changed, da.from_array(X_big[:, :5], chunks=(100, -1)), "image")
    assert lazy.shape == (5_000, 12)


def test_transform_dask_with_an_empty_block(client, fitted):
    # Issue 23 item 6: a boolean filter leaves 0-row blocks, and both raised "Found array with
    # 0 sample(s)".
    hasher, X_big = fitted
    X = da.from_array(X_big[:200], chunks=(50, -1))
    keep = da.from_array(np.arange(200) >= 50, chunks=50)  # the first block is emptied
    filtered = X[keep]
    assert np.isnan(filtered.shape[0])  # chunk sizes unknown until computed
    np.testing.assert_array_equal(
        transform_dask(hasher, filtered).compute(), hasher.transform(X_big[50:200])
    )
    image = da.from_array(X_big[:200, :5], chunks=(50, -1))[keep]
    np.testing.assert_array_equal(
        encode_dask(hasher, image, "image").compute(),
        hasher.encode(X_big[50:200, :5], modality="image"),
    )
    nothing = transform_dask(hasher, X[da.zeros(200, dtype=bool, chunks=50)]).compute()
    assert nothing.shape == (0, 24) and nothing.dtype == np.uint8


def test_distributed_index_over_filtered_codes_with_an_empty_run(client):
    # A worker whose whole run of blocks is filtered out holds an empty shard: searches skip it.
    codes = np.random.default_rng(8).integers(0, 2, size=(400, 24), dtype=np.uint8)
    keep = np.arange(400) >= 200  # the first worker's blocks are all emptied
    index = DistributedHammingIndex(24, client=client)
    index.add(da.from_array(codes, chunks=(100, -1))[da.from_array(keep, chunks=100)])
    assert index.ntotal == 200 and sorted(index.shard_sizes.values()) == [0, 200]
    _search_both(index, _one_index(codes[200:]), codes[::41], 15, 6)


@pytest.mark.parametrize("mmap_mode", [None, "r"])
@pytest.mark.parametrize("method", ["scan", "mih"])
def test_distributed_save_and_load_onto_another_cluster(client, tmp_path, method, mmap_mode):
    rng = np.random.default_rng(9)
    codes = tied_codes(rng, 3_000, 40, n_distinct=200, p_one=0.3)
    queries = np.vstack([tied_codes(rng, 8, 40, n_distinct=200, p_one=0.3), codes[:2]])
    index = DistributedHammingIndex(40, client=client, method=method)
    index.add(da.from_array(codes[:1_700], chunks=(400, -1)))
    index.add(da.from_array(codes[1_700:], chunks=(300, -1)))  # two runs per shard
    expected = index.search(queries, 50), index.range_search(queries, 8)
    index.save(tmp_path / "dist")
    names = sorted(p.name for p in (tmp_path / "dist").iterdir())
    assert names == ["header.json", "shard-00000", "shard-00001"]
    shard_files = [HammingIndex.load(tmp_path / "dist" / name) for name in names[1:]]
    assert sum(shard.ntotal for shard in shard_files) == 3_000  # each shard is a HammingIndex
    # Loaded back onto a cluster of three workers: the answers are the same.
    cluster = distributed.LocalCluster(
        n_workers=3, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    with distributed.Client(cluster) as other:
        loaded = DistributedHammingIndex.load(tmp_path / "dist", client=other, mmap_mode=mmap_mode)
        assert loaded.ntotal == 3_000 and loaded.method == method
        assert sum(loaded.shard_sizes.values()) == 3_000
        assert_same(loaded.search(queries, 50), expected[0])
        assert_same(loaded.range_search(queries, 8), expected[1])
        assert_same(
            loaded.search(queries, 50), _one_index(codes, method=method).search(queries, 50)
        )
        loaded.add(da.from_array(codes[:30], chunks=(10, -1)))  # adds after a (mapped) load
        both = np.vstack([codes, codes[:30]])
        assert_same(loaded.search(queries, 70), brute_search(queries, both, 70))
    cluster.close()


def test_distributed_load_refusals(client, tmp_path):
    import json

    index = DistributedHammingIndex(8, client=client)
    index.add(da.from_array(np.eye(8, dtype=np.uint8), chunks=(4, -1)))
    index.save(tmp_path / "dist")
    with pytest.raises(
        ValueError,
        match="not a saved skmetacmh.HammingIndex; load it with DistributedHammingIndex.load",
    ):
        HammingIndex.load(tmp_path / "dist")
    header_file = tmp_path / "dist" / "header.json"
    header = json.loads(header_file.read_text())
    header_file.write_text(json.dumps({**header, "format_version": 7}))
    with pytest.raises(ValueError, match="format version 7; .* reads format versions up to 1"):
        DistributedHammingIndex.load(tmp_path / "dist", client=client)
    header_file.write_text(json.dumps({**header, "ntotal": 9}))
    with pytest.raises(ValueError, match="the shards hold 8 codes, but the header says ntotal=9"):
        DistributedHammingIndex.load(tmp_path / "dist", client=client)
    header["shards"][0]["size"], header["shards"][1]["size"] = 3, 5
    header_file.write_text(json.dumps(header))
    with pytest.raises(ValueError, match="shard-00000 holds 4 codes, but the header says 3"):
        DistributedHammingIndex.load(tmp_path / "dist", client=client)
    empty = DistributedHammingIndex(8, client=client)
    empty.save(tmp_path / "empty")
    assert DistributedHammingIndex.load(tmp_path / "empty", client=client).ntotal == 0
