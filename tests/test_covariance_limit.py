"""CCA-ITQ, CVH and SCM refuse a block too wide for the dense covariance they must whiten."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from skmetacmh import CCAITQHasher, CVHHasher, SCMHasher
from skmetacmh.baselines import _linear_algebra

HASHERS = [CCAITQHasher, CVHHasher, SCMHasher]


def wide_text_data(n_text, n=40, seed=0):
    """Six dense image columns and a sparse text block of ``n_text`` columns, 3 words a row."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    image = np.eye(3)[y] @ rng.standard_normal((3, 6)) + 0.1 * rng.standard_normal((n, 6))
    cols = np.concatenate([y * 2, rng.integers(0, n_text, (n, 2)).ravel()])
    rows = np.concatenate([np.arange(n), np.repeat(np.arange(n), 2)])
    text = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n_text))
    return sp.hstack([sp.csr_matrix(image), text], format="csr"), y


@pytest.mark.parametrize("cls", HASHERS, ids=lambda c: c.__name__)
def test_a_too_wide_text_block_is_refused_before_any_large_allocation(cls):
    n_text = _linear_algebra.MAX_COVARIANCE_FEATURES + 1
    X, y = wide_text_data(n_text)
    hasher = cls(n_bits=2, n_image_features=6)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            hasher.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert cls.__name__ in message and "(d, d) covariance" in message
    assert "TruncatedSVD" in message and "DLFHHasher" in message
    width = n_text + 6 if cls is CVHHasher else n_text
    assert f"d={width}" in message and f"{8 * width**2 / 2**30:.1f} GiB" in message
    # Refused up front: nothing near one (d, d) float64 array (2 GiB) was allocated.
    assert peak < 50 * 2**20


@pytest.mark.parametrize("cls", HASHERS, ids=lambda c: c.__name__)
def test_the_width_limit_is_inclusive(cls, monkeypatch):
    X, y = wide_text_data(12)
    limit = 12 + 6 if cls is CVHHasher else 12  # CVH's eigenproblem stacks both views
    monkeypatch.setattr(_linear_algebra, "MAX_COVARIANCE_FEATURES", limit)
    assert cls(n_bits=2, n_image_features=6).fit(X, y).encode(X[:3, 6:], "text").shape == (3, 2)
    monkeypatch.setattr(_linear_algebra, "MAX_COVARIANCE_FEATURES", limit - 1)
    with pytest.raises(ValueError, match=f"d={limit} columns"):
        cls(n_bits=2, n_image_features=6).fit(X, y)


@pytest.mark.parametrize("cls", [CCAITQHasher, SCMHasher], ids=lambda c: c.__name__)
def test_a_too_wide_image_block_is_refused_too(cls, monkeypatch):
    X, y = wide_text_data(12)
    monkeypatch.setattr(_linear_algebra, "MAX_COVARIANCE_FEATURES", 5)
    with pytest.raises(ValueError, match="whitens the image block"):
        cls(n_bits=2, n_image_features=6).fit(X, y)
