"""Encoding out of core through Dask on a small local cluster."""

import numpy as np
import pytest

from skmetacmh.distributed import encode_dask, transform_dask

from ._toy import ToyHasher

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
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


def test_parallel_post_fit_works_with_any_hasher(client, fitted):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    hasher, X_big = fitted
    codes = wrappers.ParallelPostFit(hasher).transform(da.from_array(X_big, chunks=(1000, -1)))
    np.testing.assert_array_equal(np.asarray(codes.compute()), hasher.transform(X_big))


def test_errors(fitted):
    hasher, X_big = fitted
    with pytest.raises(TypeError, match="dask.array"):
        transform_dask(hasher, X_big)
    with pytest.raises(ValueError, match="features"):
        transform_dask(hasher, da.from_array(X_big[:, :4]))
    with pytest.raises(ValueError, match="modality"):
        encode_dask(hasher, da.from_array(X_big[:, :5]), "audio")
