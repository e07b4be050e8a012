"""Tests of the conjugate-gradient ridge solve with an implicitly centred (sparse) block.

First the solver against a dense reference, then its use in DLFH and CMFH on a sparse text
block: the codes of the Gram path, a memory bound, and the warnings.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

import skmetacmh.baselines._cmfh as cmfh_module
import skmetacmh.baselines._dlfh as dlfh_module
import skmetacmh.baselines._ridge as ridge_module
from skmetacmh._bench._measure import peak_traced_bytes
from skmetacmh.baselines import CMFHHasher, DLFHHasher
from skmetacmh.baselines._ridge import (
    SPARSE_CG_MIN_FEATURES,
    centred_ridge_cg,
    resolve_ridge_solver,
)


def _sparse_problem(n=120, d=40, k=3, density=0.15, seed=0, dtype=np.float64):
    """A sparse nonnegative block (nonzero column means) and ``k`` right-hand sides."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng, dtype=np.float64)
    X.data = 1.0 + 3.0 * X.data  # TF-IDF-like: nonnegative, so the centring matters
    rhs = rng.standard_normal((d, k)) if k else rng.standard_normal(d)
    return X.astype(dtype), np.asarray(X.mean(axis=0), dtype=np.float64).ravel(), rhs


def _direct(X, mean, rhs, ridge):
    """Test-only reference: the dense centred Gram matrix and a dense solve."""
    Xc = X.toarray().astype(np.float64) - mean
    return np.linalg.solve(Xc.T @ Xc + ridge * np.eye(X.shape[1]), rhs)


@pytest.mark.parametrize("k", [0, 1, 4, 9])
@pytest.mark.parametrize("ridge", [1e-2, 1.0, 30.0])
def test_cg_solution_equals_the_direct_solve(k, ridge):
    X, mean, rhs = _sparse_problem(k=k, seed=k)
    W, n_iter = centred_ridge_cg(X, mean, rhs, ridge, tol=1e-10)
    expected = _direct(X, mean, rhs, ridge)
    assert W.shape == rhs.shape and 0 < n_iter <= 1000
    assert_allclose(W, expected, rtol=1e-7, atol=1e-9 * np.abs(expected).max())


def test_float32_block_gives_the_float64_solution():
    X32, mean, rhs = _sparse_problem(dtype=np.float32)
    W, _ = centred_ridge_cg(X32, mean, rhs, 0.5, tol=1e-10)
    assert W.dtype == np.float64
    assert_allclose(W, _direct(X32, mean, rhs, 0.5), rtol=1e-7, atol=1e-10)


def test_dense_block_gives_the_same_solution():
    X, mean, rhs = _sparse_problem()
    W_sparse, _ = centred_ridge_cg(X, mean, rhs, 0.3, tol=1e-10)
    W_dense, _ = centred_ridge_cg(X.toarray(), mean, rhs, 0.3, tol=1e-10)
    assert_allclose(W_dense, W_sparse, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("ridge", [1e-2, 1.0])
def test_warm_start_converges_to_the_same_solution_in_fewer_iterations(ridge):
    X, mean, rhs = _sparse_problem(k=5)
    cold, cold_iter = centred_ridge_cg(X, mean, rhs, ridge, tol=1e-10)
    rng = np.random.default_rng(1)
    # Near the solution (as CMFH's previous sweep is): fewer iterations, same answer.
    near = cold + 1e-4 * np.abs(cold).max() * rng.standard_normal(cold.shape)
    warm, warm_iter = centred_ridge_cg(X, mean, rhs, ridge, x0=near, tol=1e-10)
    assert_allclose(warm, _direct(X, mean, rhs, ridge), rtol=1e-7, atol=1e-9)
    assert warm_iter < cold_iter
    # From a poor start too (the answer does not depend on x0).
    far, _ = centred_ridge_cg(X, mean, rhs, ridge, x0=rng.standard_normal(cold.shape), tol=1e-10)
    assert_allclose(far, cold, rtol=1e-6, atol=1e-8)
    # Started at the solution, there is nothing to do; x0 itself is not modified.
    exact = cold.copy()
    again, n_iter = centred_ridge_cg(X, mean, rhs, ridge, x0=exact, tol=1e-6)
    assert n_iter == 0 and np.array_equal(again, cold) and np.array_equal(exact, cold)


def test_every_column_meets_its_own_relative_tolerance():
    # Right-hand sides of very different scales: each column stops relative to its own norm.
    X, mean, rhs = _sparse_problem(k=3)
    rhs = rhs * np.array([1e-6, 1.0, 1e6])
    W, _ = centred_ridge_cg(X, mean, rhs, 0.1, tol=1e-8)
    Xc = X.toarray() - mean
    residual = np.linalg.norm(rhs - (Xc.T @ (Xc @ W) + 0.1 * W), axis=0)
    assert np.all(residual <= 1e-7 * np.linalg.norm(rhs, axis=0))


def test_zero_ridge_on_a_singular_gram_gives_the_minimum_norm_least_squares_solution():
    # n < d: Xc^T Xc is singular. The rhs Xc^T T lies in its range, and CG from zero stays
    # there, so it reaches the minimum-norm minimiser of ||Xc W - T|| that lstsq returns.
    rng = np.random.default_rng(3)
    X, mean, _ = _sparse_problem(n=30, d=80, density=0.2)
    T = rng.standard_normal((30, 2))
    Xc = X.toarray() - mean
    W, _ = centred_ridge_cg(X, mean, Xc.T @ T, 0.0, tol=1e-12, max_iter=5000)
    expected = np.linalg.lstsq(Xc, T, rcond=None)[0]
    assert_allclose(W, expected, rtol=1e-6, atol=1e-8 * np.abs(expected).max())


def test_a_zero_right_hand_side_gives_a_zero_column():
    X, mean, rhs = _sparse_problem(k=3)
    rhs[:, 1] = 0.0
    W, _ = centred_ridge_cg(X, mean, rhs, 1.0)
    assert np.all(W[:, 1] == 0.0) and np.all(np.isfinite(W))


def test_not_converging_warns_with_the_name_of_the_solve():
    X, mean, rhs = _sparse_problem(k=2)
    with pytest.warns(ConvergenceWarning, match=r"of my solve did not converge in max_iter=2"):
        W, n_iter = centred_ridge_cg(X, mean, rhs, 1e-3, max_iter=2, solve_name="my solve")
    assert n_iter == 2 and np.all(np.isfinite(W))


def test_bad_shapes_raise_clear_errors():
    X, mean, rhs = _sparse_problem(d=40, k=3)
    with pytest.raises(ValueError, match=r"my solve: rhs must have 40 rows.*\(39, 3\)"):
        centred_ridge_cg(X, mean, rhs[:-1], 1.0, solve_name="my solve")
    with pytest.raises(ValueError, match=r"warm start x0 must have the shape of rhs, \(40, 3\)"):
        centred_ridge_cg(X, mean, rhs, 1.0, x0=rhs[:, :2])


def test_auto_uses_cg_only_for_a_wide_sparse_block():
    wide = SPARSE_CG_MIN_FEATURES + 1
    assert resolve_ridge_solver(sp.csr_matrix((5, wide))) == "cg"
    assert resolve_ridge_solver(sp.csr_matrix((5, SPARSE_CG_MIN_FEATURES))) == "gram"
    assert resolve_ridge_solver(np.zeros((5, wide))) == "gram"


# --------------------------------------------------------------------------- in the hashers
def _sparse_text_problem(n, d_text, words=10, d_image=12, n_classes=5, seed=0):
    """Dense image features and a sparse bag-of-words text block, both tied to the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(n_classes, size=n)
    image = rng.standard_normal((n, d_image)) + 0.5 * y[:, None]
    per_class = d_text // (2 * n_classes)
    own = y[:, None] * per_class + rng.integers(0, per_class, (n, words // 2))
    cols = np.hstack([own, rng.integers(0, d_text, (n, words - words // 2))]).ravel()
    rows = np.repeat(np.arange(n), words)
    text = sp.csr_matrix((0.5 + rng.random(n * words), (rows, cols)), shape=(n, d_text))
    text.sum_duplicates()
    return sp.hstack([sp.csr_matrix(image), text], format="csr"), y, d_image


HASHERS = {
    "DLFH": lambda d_image: DLFHHasher(16, d_image, random_state=0),
    "CMFH": lambda d_image: CMFHHasher(16, d_image, max_iter=30, random_state=0),
}


@pytest.mark.parametrize("name", list(HASHERS))
def test_cg_path_gives_the_codes_of_the_gram_path(name, monkeypatch):
    X, y, d_image = _sparse_text_problem(n=500, d_text=300)
    X_new, _, _ = _sparse_text_problem(n=200, d_text=300, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # CMFH's sweeps, not the solve
        gram = HASHERS[name](d_image).fit(X, y)
        # A 300-column block goes to CG once the threshold is below its width.
        monkeypatch.setattr(ridge_module, "SPARSE_CG_MIN_FEATURES", 100)
        cg = HASHERS[name](d_image).fit(X, y)
    assert gram.ridge_solver_ == {"image": "gram", "text": "gram"}
    assert cg.ridge_solver_ == {"image": "gram", "text": "cg"}
    # Measured: every bit agrees (training and new items); 99% allows for a bit whose
    # projection is within the solver's tolerance of zero.
    assert np.mean(gram.database_codes_ == cg.database_codes_) >= 0.99
    assert np.mean(gram.transform(X_new) == cg.transform(X_new)) >= 0.99
    # The image side never changes solver, so it is the same up to rounding of V (CMFH) or
    # bit for bit (DLFH: the codes are learned from the labels alone).
    gram_bits, cg_bits = (
        gram.encode(X_new[:, :d_image], "image"),
        cg.encode(X_new[:, :d_image], "image"),
    )
    assert np.mean(gram_bits == cg_bits) >= 0.99


def test_cmfh_cg_path_keeps_the_objective_and_its_decrease(monkeypatch):
    X, y, d_image = _sparse_text_problem(n=400, d_text=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gram = CMFHHasher(8, d_image, tol=0, max_iter=15, random_state=0).fit(X, y)
        monkeypatch.setattr(ridge_module, "SPARSE_CG_MIN_FEATURES", 100)
        cg = CMFHHasher(8, d_image, tol=0, max_iter=15, random_state=0).fit(X, y)
    # ||Xc||^2 and ||Xc P||^2 from sparse products give the Gram path's objective.
    assert_allclose(cg.objective_, gram.objective_, rtol=1e-6)
    assert np.all(np.diff(cg.objective_) <= 1e-6 * cg.objective_[0])
    # P_text to the solver's tolerance, amplified by the conditioning over 15 sweeps (measured:
    # 1.7e-5 relative in Frobenius norm).
    error = np.linalg.norm(cg.text_projection_ - gram.text_projection_)
    assert error <= 1e-3 * np.linalg.norm(gram.text_projection_), error


@pytest.mark.parametrize("name", list(HASHERS))
def test_a_wide_sparse_fit_never_forms_the_gram_matrix(name):
    # 6,000 text columns (above the real threshold, nothing patched): their float64 Gram would
    # take 288 MB; the fit must stay under an eighth of that (measured: about 5 MB).
    X, y, d_image = _sparse_text_problem(n=800, d_text=6000)
    gram_bytes = 8 * 6000**2
    hasher = HASHERS[name](d_image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        peak, _ = peak_traced_bytes(hasher.fit, X, y)
    assert hasher.ridge_solver_["text"] == "cg"
    assert peak < gram_bytes / 8, peak
    # encode takes the same sparse path.
    peak, bits = peak_traced_bytes(hasher.encode, X[:, d_image:], "text")
    assert bits.shape == (800, 16) and peak < gram_bytes / 8


def test_dlfh_warns_when_its_text_solve_does_not_converge(monkeypatch):
    X, y, d_image = _sparse_text_problem(n=300, d_text=300)
    monkeypatch.setattr(ridge_module, "SPARSE_CG_MIN_FEATURES", 100)
    # A too-small iteration budget: the solve says which one it is, and the fit still ends.
    real = ridge_module.centred_ridge_cg

    def two_iterations(*args, **kwargs):
        return real(*args, **{**kwargs, "max_iter": 2})

    monkeypatch.setattr(dlfh_module, "centred_ridge_cg", two_iterations)
    with pytest.warns(ConvergenceWarning, match="DLFHHasher's text hash function did not"):
        h = DLFHHasher(16, d_image, random_state=0).fit(X, y)
    assert h.database_codes_.shape == (300, 32)


@pytest.mark.filterwarnings("ignore:CMFHHasher did not converge in max_iter=3 sweeps")
def test_cmfh_warns_when_its_text_solve_does_not_converge(monkeypatch):
    X, y, d_image = _sparse_text_problem(n=300, d_text=300)
    monkeypatch.setattr(ridge_module, "SPARSE_CG_MIN_FEATURES", 100)
    real = ridge_module.centred_ridge_cg

    def one_iteration(*args, **kwargs):
        return real(*args, **{**kwargs, "max_iter": 1})

    monkeypatch.setattr(cmfh_module, "centred_ridge_cg", one_iteration)
    with pytest.warns(ConvergenceWarning, match="CMFHHasher's text projection did not"):
        CMFHHasher(8, d_image, max_iter=3, random_state=0).fit(X, y)
