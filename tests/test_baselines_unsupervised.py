"""Tests of the unsupervised baselines CCA-ITQ, CVH and CMFH.

Exactness first (each algorithm's defining equations hold, its objective never increases), then
the hasher contract (reproducibility, labels ignored for learning, errors), then a small
retrieval problem on which every method must beat random codes by a wide margin.
"""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import eigh
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from skmetacmh._bench._measure import peak_traced_bytes
from skmetacmh.baselines import CCAITQHasher, CMFHHasher, CVHHasher
from skmetacmh.baselines._cca_itq import _itq_rotation, _regularised_cca
from skmetacmh.baselines._cmfh import _cmfh_objective, _GramProjection, _ImplicitProjection
from skmetacmh.baselines._cvh import _cross_view_eigenproblem
from skmetacmh.baselines._linear_algebra import (
    centred_column_sums,
    centred_gram,
    centred_matmul,
    centred_rmatmul,
    column_means,
    paired_covariances,
)
from skmetacmh.metrics import cross_modal_map, mean_average_precision

HASHERS = [CCAITQHasher, CVHHasher, CMFHHasher]


def _seeded(Hasher, seed=0, **params):
    """A hasher with ``random_state=seed`` where it has one (CVH is deterministic)."""
    if "random_state" in Hasher().get_params():
        params["random_state"] = seed
    return Hasher(**params)


def _paired_views(n=300, n_classes=5, d_image=12, d_text=8, noise=0.5, seed=0):
    """Two noisy linear views of a class-dependent latent signal, with their labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(n_classes, size=n)
    centres = 2.0 * rng.standard_normal((n_classes, 4))
    latent = centres[y] + 0.5 * rng.standard_normal((n, 4))
    X_image = latent @ rng.standard_normal((4, d_image)) + noise * rng.standard_normal((n, d_image))
    X_text = latent @ rng.standard_normal((4, d_text)) + noise * rng.standard_normal((n, d_text))
    return np.hstack([X_image, X_text]), y, d_image


# --------------------------------------------------------------------------- shared algebra
# 800 bytes of working memory: blocks of 10 rows of 10 float64 values (or of 8 rows of 12).
BLOCKS_OF_10_ROWS = 800 / 2**20


@pytest.mark.parametrize("layout", ["dense", "float32", "sparse", "sparse-float32"])
def test_centred_products_match_centring_first(layout):
    rng = np.random.default_rng(6)
    X = 5.0 + rng.standard_normal((95, 7))
    X[rng.random(X.shape) < 0.6] = 0.0  # a sparse-looking block with a nonzero mean
    if "float32" in layout:
        X = X.astype(np.float32)
    T = rng.standard_normal((95, 3))
    W = rng.standard_normal((7, 4))
    exact_mean = X.astype(np.float64).mean(axis=0)
    Xc = X.astype(np.float64) - exact_mean
    if "sparse" in layout:
        X = sp.csr_matrix(X)
    with config_context(working_memory=BLOCKS_OF_10_ROWS):
        mean = column_means(X)
        assert mean.dtype == np.float64
        assert_allclose(mean, exact_mean, rtol=1e-12)
        assert_allclose(centred_matmul(X, mean, W), Xc @ W, atol=1e-10)
        assert_allclose(centred_matmul(X, mean, W[:, 0]), Xc @ W[:, 0], atol=1e-10)
        assert_allclose(centred_rmatmul(X, mean, T), Xc.T @ T, atol=1e-10)
        assert_allclose(centred_rmatmul(X, mean, T[:, 0]), Xc.T @ T[:, 0], atol=1e-10)
        assert_allclose(centred_column_sums(X, mean), 0.0, atol=1e-9)
        assert_allclose(centred_gram(X, mean), Xc.T @ Xc, atol=1e-9)
        Tc = T - T.mean(axis=0)
        assert_allclose(centred_gram(X, mean, T, T.mean(axis=0)), Xc.T @ Tc, atol=1e-9)
        # The other side sparse (the image-text cross-covariance of a sparse text block).
        assert_allclose(centred_gram(T, T.mean(axis=0), X, mean), Tc.T @ Xc, atol=1e-9)


# --------------------------------------------------------------------------- CCA and ITQ
def test_cca_directions_solve_the_generalised_eigen_equations():
    X, _, d_image = _paired_views()
    _, _, C_ii, C_tt, C_it = paired_covariances(X[:, :d_image], X[:, d_image:], 1e-3)
    W_i, W_t, rho = _regularised_cca(C_ii, C_tt, C_it, 6)
    assert_allclose(C_it @ W_t, C_ii @ W_i * rho, atol=1e-10)
    assert_allclose(C_it.T @ W_i, C_tt @ W_t * rho, atol=1e-10)
    assert_allclose(W_i.T @ C_ii @ W_i, np.eye(6), atol=1e-10)
    assert_allclose(W_t.T @ C_tt @ W_t, np.eye(6), atol=1e-10)
    # Slow obvious reference: rho^2 are the eigenvalues of C_it C_tt^-1 C_ti w = rho^2 C_ii w.
    reference = eigh(C_it @ np.linalg.solve(C_tt, C_it.T), C_ii, eigvals_only=True)[::-1]
    assert_allclose(rho, np.sqrt(reference[:6]), rtol=1e-9)
    assert np.all(np.diff(rho) <= 0)


def test_itq_loss_never_increases_and_rotation_is_orthogonal():
    rng = np.random.default_rng(1)
    V = rng.standard_normal((500, 8)) @ rng.standard_normal((8, 8))
    R, losses = _itq_rotation(V, 30, random_state=0)
    assert losses.shape == (31,)
    assert np.all(np.diff(losses) <= 1e-9 * losses[0])
    assert losses[-1] < losses[0]
    assert_allclose(R.T @ R, np.eye(8), atol=1e-12)
    # The recorded loss is what it claims to be.
    Z = V @ R
    assert losses[-1] == pytest.approx(np.sum((np.where(Z >= 0, 1.0, -1.0) - Z) ** 2))


def test_cca_itq_stores_monotone_loss_and_shared_rotation():
    X, y, d_image = _paired_views()
    hasher = CCAITQHasher(n_bits=4, n_image_features=d_image, random_state=0).fit(X, y)
    assert np.all(np.diff(hasher.quantization_loss_) <= 1e-9 * hasher.quantization_loss_[0])
    assert_allclose(hasher.rotation_ @ hasher.rotation_.T, np.eye(4), atol=1e-12)
    assert hasher.canonical_correlations_.shape == (4,)
    # Paired views of the same objects should mostly agree bit for bit.
    agreement = np.mean(hasher.database_codes_[:, :4] == hasher.database_codes_[:, 4:])
    assert agreement > 0.8


# --------------------------------------------------------------------------- CVH
def test_cvh_directions_solve_the_cross_view_eigenproblem_and_match_cca():
    X, y, d_image = _paired_views()
    hasher = CVHHasher(n_bits=5, n_image_features=d_image, reg=1e-3).fit(X, y)
    covariances = paired_covariances(X[:, :d_image], X[:, d_image:], 1e-3)[2:]
    A, B = _cross_view_eigenproblem(*covariances)
    a = np.vstack([hasher.image_projection_, hasher.text_projection_])
    assert_allclose(A @ a, B @ a * hasher.eigenvalues_, atol=1e-10)
    assert_allclose(a.T @ B @ a, np.eye(5), atol=1e-10)
    # The two-view problem's smallest eigenvalues are 1 - rho for the canonical correlations,
    # computed here by a different route (whitening and an SVD).
    _, _, rho = _regularised_cca(*covariances, 5)
    assert_allclose(1.0 - hasher.eigenvalues_, rho, rtol=1e-8)


# --------------------------------------------------------------------------- CMFH
@pytest.mark.parametrize("layout", ["gram", "implicit"])
def test_cmfh_objective_formula_matches_direct_frobenius_norms(layout):
    # Both view summaries: the Gram matrix's trace(G) and sum((G P) * P), and the sparse
    # products' ||Xc||^2 and ||Xc P||^2; the means are nonzero so the centring is exercised.
    rng = np.random.default_rng(2)
    n, k, dims = 40, 3, (5, 4)
    raw = [rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.5) + 1.0 for d in dims]
    means = [X.mean(axis=0) for X in raw]
    views = [X - mean for X, mean in zip(raw, means)]
    V = rng.standard_normal((n, k))
    U = [rng.standard_normal((k, d)) for d in dims]
    P = [rng.standard_normal((d, k)) for d in dims]
    weights, mu, gamma = (0.3, 0.7), 2.0, 0.1
    direct = gamma * np.sum(V**2)
    for m in range(2):
        direct += weights[m] * np.sum((views[m] - V @ U[m]) ** 2)
        direct += mu * np.sum((V - views[m] @ P[m]) ** 2)
        direct += gamma * (np.sum(U[m] ** 2) + np.sum(P[m] ** 2))
    if layout == "gram":
        projections = [_GramProjection(X, mean, 0.5) for X, mean in zip(raw, means)]
    else:
        projections = [
            _ImplicitProjection(sp.csr_matrix(X), mean, 0.5, "test") for X, mean in zip(raw, means)
        ]
    fast = _cmfh_objective(projections, V.T @ V, [V.T @ X for X in views], U, P, weights, mu, gamma)
    assert fast == pytest.approx(direct, rel=1e-12)


def test_cmfh_objective_never_increases():
    X, y, d_image = _paired_views()
    hasher = CMFHHasher(n_bits=4, n_image_features=d_image, tol=0, max_iter=40, random_state=0)
    with pytest.warns(ConvergenceWarning):
        hasher.fit(X, y)
    objective = hasher.objective_
    assert objective.shape == (40,) and hasher.n_iter_ == 40
    assert np.all(np.diff(objective) <= 1e-10 * objective[0])
    assert objective[-1] < objective[0]


def test_cmfh_codes_threshold_at_the_training_mean():
    X, y, d_image = _paired_views()
    hasher = CMFHHasher(n_bits=4, n_image_features=d_image, random_state=0).fit(X, y)
    for modality, block in (("image", X[:, :d_image]), ("text", X[:, d_image:])):
        scores = hasher._project(block, modality)
        assert_allclose(scores.mean(axis=0), 0.0, atol=1e-10)
        # Balanced-ish bits: thresholding at the mean never gives a constant bit here.
        bits = hasher.encode(block, modality)
        assert np.all((bits.mean(axis=0) > 0.1) & (bits.mean(axis=0) < 0.9))


def test_cmfh_refuses_more_bits_than_training_items_at_once():
    # 4,096 bits on 60 rows used to run O(n_bits^3) sweeps that looked like a hang.
    X, y, d_image = _paired_views(n=60)
    with pytest.raises(ValueError, match=r"n_bits=4096 for 60 items.*n_bits <= 60"):
        CMFHHasher(n_bits=4096, n_image_features=d_image, random_state=0).fit(X, y)
    hasher = CMFHHasher(n_bits=60, n_image_features=d_image, max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        hasher.fit(X, y)  # the limit itself is allowed
    assert hasher.database_codes_.shape == (60, 120)


def test_cmfh_converges_with_defaults_on_noisy_data():
    X, y, d_image = _paired_views()
    hasher = CMFHHasher(n_bits=4, n_image_features=d_image, random_state=0).fit(X, y)
    assert hasher.n_iter_ < hasher.max_iter


# --------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("Hasher", HASHERS)
def test_same_random_state_gives_identical_codes(Hasher):
    X, y, d_image = _paired_views()
    first = _seeded(Hasher, 3, n_bits=4, n_image_features=d_image).fit(X, y)
    second = clone(first).fit(X, y)
    assert_array_equal(first.database_codes_, second.database_codes_)
    assert_array_equal(first.transform(X[:20]), second.transform(X[:20]))


@pytest.mark.parametrize("Hasher", [CCAITQHasher, CMFHHasher])
def test_random_state_is_used(Hasher):
    X, y, d_image = _paired_views()
    a = _seeded(Hasher, 0, n_bits=4, n_image_features=d_image).fit(X, y)
    b = _seeded(Hasher, 1, n_bits=4, n_image_features=d_image).fit(X, y)
    assert not np.allclose(a.image_projection_, b.image_projection_)


@pytest.mark.parametrize("Hasher", HASHERS)
def test_beats_random_codes_on_a_small_synthetic_problem(Hasher):
    X, y, d_image = _paired_views(n=400, seed=4)
    X_train, y_train, X_query, y_query = X[:300], y[:300], X[300:], y[300:]
    hasher = _seeded(Hasher, 0, n_bits=8, n_image_features=d_image).fit(X_train, y_train)
    result = cross_modal_map(hasher, X_query, y_query)
    rng = np.random.default_rng(0)
    random_map = mean_average_precision(
        rng.integers(2, size=(100, 8), dtype=np.uint8),
        rng.integers(2, size=(300, 8), dtype=np.uint8),
        y_query,
        y_train,
    )
    assert random_map < 0.35  # 5 balanced classes: about 0.2
    assert result["image_to_text"] > random_map + 0.3
    assert result["text_to_image"] > random_map + 0.3
    assert hasher.score(X_query, y_query) == pytest.approx(result["mean"])


@pytest.mark.parametrize("Hasher", HASHERS)
def test_multilabel_y_is_accepted_and_ignored_for_learning(Hasher):
    X, y, d_image = _paired_views()
    rng = np.random.default_rng(5)
    Y = rng.integers(2, size=(len(y), 7), dtype=np.uint8)
    Y[:10] = 0  # unlabelled items are allowed
    multi = _seeded(Hasher, 0, n_bits=4, n_image_features=d_image).fit(X, Y)
    single = _seeded(Hasher, 0, n_bits=4, n_image_features=d_image).fit(X, y)
    assert multi.multilabel_ and not single.multilabel_
    assert_array_equal(multi.database_labels_, Y)
    assert multi.n_unlabeled_ == np.count_nonzero(Y.sum(axis=1) == 0)
    # Unsupervised: the labels never reach the learning, so the codes are the same.
    assert_array_equal(multi.database_codes_, single.database_codes_)
    assert 0.0 <= multi.score(X[:30], Y[:30]) <= 1.0


@pytest.mark.parametrize("Hasher", HASHERS)
def test_float32_input_and_encode_per_modality(Hasher):
    X, y, d_image = _paired_views()
    hasher = _seeded(Hasher, 0, n_bits=4, n_image_features=d_image).fit(X, y)
    codes32 = hasher.encode(X[:, :d_image].astype(np.float32), modality="image")
    assert codes32.dtype == np.uint8 and codes32.shape == (len(X), 4)
    # float32 rounding may flip a bit whose projection is within rounding of zero; no more.
    assert np.mean(codes32 == hasher.database_codes_[:, :4]) > 0.99


@pytest.mark.parametrize("Hasher", [CCAITQHasher, CVHHasher])
def test_too_many_bits_for_cca_directions_is_a_clear_error(Hasher):
    X, y, d_image = _paired_views(d_image=12, d_text=8)
    with pytest.raises(ValueError, match=r"at most min\(n_image_features, n_text_features\)"):
        Hasher(n_bits=9, n_image_features=d_image).fit(X, y)
    with pytest.raises(ValueError, match=r"min\(12, 8\) = 8 bits.*n_bits=9"):
        Hasher(n_bits=9, n_image_features=d_image).fit(X, y)
    Hasher(n_bits=8, n_image_features=d_image).fit(X, y)  # the limit itself is fine


@pytest.mark.parametrize(
    "Hasher, params",
    [
        (CCAITQHasher, {"reg": 0.0}),
        (CCAITQHasher, {"eigenvalue_power": -1}),
        (CCAITQHasher, {"n_iter": -1}),
        (CVHHasher, {"reg": -1e-3}),
        (CMFHHasher, {"image_weight": 1.0}),
        (CMFHHasher, {"mu": 0}),
        (CMFHHasher, {"gamma": -1}),
        (CMFHHasher, {"max_iter": 0}),
        (CMFHHasher, {"n_bits": 0}),
    ],
)
def test_invalid_parameters_are_rejected_with_their_name(Hasher, params):
    X, y, d_image = _paired_views(n=50)
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=name):
        Hasher(n_image_features=d_image, n_bits=4).set_params(**params).fit(X, y)


@pytest.mark.parametrize("Hasher", HASHERS)
def test_missing_n_image_features_is_a_clear_error(Hasher):
    X, y, _ = _paired_views(n=50)
    with pytest.raises(ValueError, match="n_image_features must be set"):
        Hasher(n_bits=4).fit(X, y)


@pytest.mark.parametrize("Hasher", HASHERS)
def test_fit_memory_is_linear_in_n(Hasher):
    # 4,000 samples: an (n, n) float64 matrix alone would take 128 MB. Blocks of 100 rows, so
    # that what is left is what grows with n: a few (n, n_bits) arrays.
    X, y, d_image = _paired_views(n=4000, d_image=20, d_text=16)
    hasher = _seeded(Hasher, n_bits=8, n_image_features=d_image)

    def fit_in_blocks():
        with config_context(working_memory=8 * 36 * 100 / 2**20):
            hasher.fit(X, y)

    peak, _ = peak_traced_bytes(fit_in_blocks)
    assert peak < 4 * X.nbytes  # X is 1.2 MB


# --------------------------------------------------------------------------- shared docs
def test_shared_parameter_docs_are_filled_in_and_survive_python_OO():
    from skmetacmh.baselines import DLFHHasher, SCMHasher, SePHHasher
    from skmetacmh.baselines._docstring import Substitution

    for Hasher in (*HASHERS, SCMHasher, SePHHasher, DLFHHasher):
        assert "{n_bits}" not in Hasher.__doc__ and "n_bits : int, default=32" in Hasher.__doc__
        assert "n_image_features : int, default=None" in Hasher.__doc__
    with pytest.raises(KeyError, match=r"\{n_bit\}"):

        @Substitution(n_bits="n_bits : int")
        class Misspelt:
            """{n_bit}"""

    # Docstrings are None under -OO: importing must still work.
    code = "import skmetacmh.baselines as b; assert b.CVHHasher.__doc__ is None"
    subprocess.run([sys.executable, "-OO", "-c", code], check=True)
