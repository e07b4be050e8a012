"""Tests of the supervised baseline hashers SCM, SePH and DLFH."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from sklearn.utils._param_validation import InvalidParameterError

from skmetacmh._bench._measure import peak_traced_bytes
from skmetacmh.baselines import DLFHHasher, SCMHasher, SePHHasher
from skmetacmh.baselines._dlfh import log_likelihood, update_codes
from skmetacmh.baselines._label_similarity import (
    cosine_cross_product,
    normalized_labels,
    relevance_block,
)
from skmetacmh.baselines._seph import kl_objective, label_affinity_distribution
from skmetacmh.metrics import cross_modal_map, mean_average_precision

from ._helpers import N_IMG, N_TXT, make_problem, one_hot


def dense_relevance(Y):
    """Test-only reference: the full n x n relevance matrix."""
    Y = np.asarray(Y)
    return np.array([[float(np.any(Y[i] & Y[j])) for j in range(len(Y))] for i in range(len(Y))])


SMALL = {
    "scm-seq": lambda: SCMHasher(8, N_IMG, variant="sequential"),
    # SCM-Orth has n_classes - 1 informative directions; further bits are noise (by design).
    "scm-orth": lambda: SCMHasher(3, N_IMG, variant="orthogonal"),
    "seph": lambda: SePHHasher(8, N_IMG, n_anchors=30, n_samples_codes=150, random_state=0),
    "dlfh": lambda: DLFHHasher(8, N_IMG, random_state=0),
    "dlfh-kernel": lambda: DLFHHasher(
        8, N_IMG, hash_function="kernel", n_anchors=30, random_state=0
    ),
}


# --------------------------------------------------------------------------- label similarity
@pytest.mark.parametrize("multilabel", [False, True])
def test_low_rank_cosine_similarity_equals_dense(multilabel):
    X, y = make_problem(n=60, multilabel=multilabel)
    Y = y if multilabel else one_hot(y)
    Y = Y.copy()
    Y[0] = 0  # an unlabelled item is dissimilar to everything
    Yn = normalized_labels(Y)
    S_tilde = 2 * Yn @ Yn.T - 1
    A, B = X[:, :N_IMG], X[:, N_IMG:]
    mean_a, mean_b = A.mean(axis=0), B.mean(axis=0)
    expected = (A - mean_a).T @ S_tilde @ (B - mean_b)
    np.testing.assert_allclose(cosine_cross_product(A, mean_a, B, mean_b, Yn), expected, atol=1e-8)
    sparse = cosine_cross_product(A, mean_a, sp.csr_matrix(B), mean_b, Yn)
    np.testing.assert_allclose(sparse, expected, atol=1e-8)
    S = dense_relevance(Y)
    if multilabel:
        # Cosine keeps exactly who is relevant: > -1 iff a label is shared.
        np.testing.assert_array_equal(S_tilde > -1 + 1e-12, S == 1)
    else:
        np.testing.assert_allclose(S_tilde, 2 * S - 1, atol=1e-12)
    np.testing.assert_array_equal(relevance_block(Y[:7], Y), S[:7])


# --------------------------------------------------------------------------- SCM
def test_scm_orthogonal_solves_generalised_eigenproblem():
    X, y = make_problem()
    h = SCMHasher(6, N_IMG, variant="orthogonal").fit(X, y)
    A = X[:, :N_IMG] - X[:, :N_IMG].mean(0)
    B = X[:, N_IMG:] - X[:, N_IMG:].mean(0)
    Yn = normalized_labels(one_hot(y))
    Cab = A.T @ (2 * Yn @ Yn.T - 1) @ B
    Caa, Cbb = A.T @ A + 1e-6 * np.eye(N_IMG), B.T @ B + 1e-6 * np.eye(N_TXT)
    # Slow reference: Cab Cbb^-1 Cba wx = lambda^2 Caa wx (SCM-Orth, Zhang & Li).
    lam2 = scipy.linalg.eigh(Cab @ np.linalg.solve(Cbb, Cab.T), Caa, eigvals_only=True)[::-1]
    np.testing.assert_allclose(h.correlations_**2, lam2[:6], rtol=1e-6, atol=1e-6 * lam2[0])
    Wx, Wz = h.image_projection_, h.text_projection_
    np.testing.assert_allclose(Wx.T @ Caa @ Wx, np.eye(6), atol=1e-8)
    np.testing.assert_allclose(Wz.T @ Cbb @ Wz, np.eye(6), atol=1e-8)
    # 4 classes: after centring S~ has rank 3, so the last correlations are zero.
    np.testing.assert_allclose(
        np.diag(Wx.T @ Cab @ Wz), h.correlations_, rtol=1e-8, atol=1e-9 * lam2[0]
    )


def test_scm_sequential_codes_explain_the_similarity():
    X, y = make_problem()
    b = 8
    h = SCMHasher(b, N_IMG, variant="sequential").fit(X, y)
    Hx = 2.0 * h.encode(X[:, :N_IMG], "image") - 1
    Hz = 2.0 * h.encode(X[:, N_IMG:], "text") - 1
    S_tilde = 2 * dense_relevance(one_hot(y)) - 1
    # The objective of SCM: || b S~ - sign(X Wx) sign(Z Wz)^T ||_F, against the empty model.
    residual = np.linalg.norm(b * S_tilde - Hx @ Hz.T)
    # Four classes cannot all be at Hamming distance b from each other: the floor is well above 0.
    assert residual < 0.9 * np.linalg.norm(b * S_tilde)
    # ... and against random codes.
    rng = np.random.default_rng(0)
    R1, R2 = rng.choice([-1.0, 1.0], size=Hx.shape), rng.choice([-1.0, 1.0], size=Hz.shape)
    assert residual < 0.85 * np.linalg.norm(b * S_tilde - R1 @ R2.T)
    # The first sequential bit is the leading SCM-Orth direction.
    orth = SCMHasher(1, N_IMG, variant="orthogonal").fit(X, y)
    cos = abs(h.image_projection_[:, 0] @ orth.image_projection_[:, 0]) / (
        np.linalg.norm(h.image_projection_[:, 0]) * np.linalg.norm(orth.image_projection_[:, 0])
    )
    assert cos == pytest.approx(1.0, abs=1e-8)


def test_scm_orthogonal_rejects_more_bits_than_features():
    X, y = make_problem()
    with pytest.raises(ValueError, match="at most min"):
        SCMHasher(N_TXT + 1, N_IMG, variant="orthogonal").fit(X, y)
    # The sequential variant has no such limit.
    SCMHasher(N_TXT + 1, N_IMG, variant="sequential").fit(X, y)


# --------------------------------------------------------------------------- SePH
def test_seph_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    y = rng.integers(3, size=12)
    P = label_affinity_distribution(one_hot(y))
    H = rng.normal(size=(12, 4))
    alpha = 0.3
    _, grad = kl_objective(H, P, alpha)
    eps = 1e-6
    num = np.zeros_like(H)
    for idx in np.ndindex(*H.shape):
        E = np.zeros_like(H)
        E[idx] = eps
        num[idx] = (kl_objective(H + E, P, alpha)[0] - kl_objective(H - E, P, alpha)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)


def test_seph_objective_decreases_and_codes_preserve_labels():
    X, y = make_problem()
    h = SePHHasher(8, N_IMG, n_anchors=30, random_state=0).fit(X, y)
    obj = np.asarray(h.objective_)
    assert len(obj) > 5
    assert np.all(np.diff(obj) <= 1e-12)
    assert obj[-1] < 0.5 * obj[0]
    codes = (h.codes_ > 0).astype(np.uint8)
    ys = y[h.sample_indices_]
    assert mean_average_precision(codes, codes, ys, ys) > 0.95


def test_seph_needs_a_shared_label():
    X, _ = make_problem(n=20)
    with pytest.raises(ValueError, match="share a label"):
        SePHHasher(4, N_IMG, n_anchors=5).fit(X, np.arange(20))


# --------------------------------------------------------------------------- DLFH
def dense_log_likelihood(U, V, Y, scale):
    S = dense_relevance(Y)
    Theta = scale / U.shape[1] * U @ V.T
    return float(np.sum(S * Theta - np.log1p(np.exp(Theta))))


def test_dlfh_log_likelihood_matches_dense_reference():
    rng = np.random.default_rng(1)
    Y = (rng.random((30, 5)) < 0.3).astype(np.uint8)
    U, V = rng.choice([-1.0, 1.0], size=(2, 30, 6))
    Yf = Y.astype(float)
    assert log_likelihood(U, V, Yf, Yf, 8.0) == pytest.approx(
        dense_log_likelihood(U, V, Y, 8.0), rel=1e-10
    )


@pytest.mark.parametrize("n_cols", [6, 40])
def test_dlfh_column_update_never_decreases_likelihood(n_cols):
    rng = np.random.default_rng(2)
    Y = (rng.random((40, 4)) < 0.3).astype(np.uint8)
    Yf = Y.astype(float)
    U, V = rng.choice([-1.0, 1.0], size=(2, 40, 8))
    cols = np.sort(rng.choice(40, n_cols, replace=False))
    before = log_likelihood(U, V[cols], Yf, Yf[cols], 4.0)
    U_new = update_codes(U.copy(), V[cols], Yf, Yf[cols], 4.0)
    after = log_likelihood(U_new, V[cols], Yf, Yf[cols], 4.0)
    assert after >= before - 1e-9
    assert after > before  # from random codes there is something to gain
    # Same against the dense reference on the full square (all columns).
    if n_cols == 40:
        assert dense_log_likelihood(U_new, V, Y, 4.0) == pytest.approx(after)


def test_dlfh_full_variant_likelihood_is_monotone():
    X, y = make_problem(n=80)
    h = DLFHHasher(8, N_IMG, scale=2.0, n_sampled_columns=None, max_iter=5, random_state=0)
    h.fit(X, y)
    ll = np.asarray(h.log_likelihood_)
    assert np.all(np.diff(ll) >= -1e-8)
    U, V = h.image_codes_.astype(float), h.text_codes_.astype(float)
    assert ll[-1] == pytest.approx(dense_log_likelihood(U, V, one_hot(y), 2.0))


# --------------------------------------------------------------------------- all three
@pytest.mark.parametrize("name", list(SMALL))
def test_same_random_state_gives_identical_codes(name):
    X, y = make_problem()
    a, b = SMALL[name]().fit(X, y), SMALL[name]().fit(X, y)
    np.testing.assert_array_equal(a.database_codes_, b.database_codes_)
    np.testing.assert_array_equal(a.transform(X[:20]), b.transform(X[:20]))


@pytest.mark.parametrize("name", ["seph", "dlfh"])
def test_different_random_state_changes_codes(name):
    X, y = make_problem()
    a = SMALL[name]().fit(X, y)
    b = SMALL[name]().set_params(random_state=1).fit(X, y)
    assert not np.array_equal(a.database_codes_, b.database_codes_)


def _random_codes_map(X_q, y_q, h, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 2, size=(len(X_q), h.n_bits), dtype=np.uint8)
    db = rng.integers(0, 2, size=(h.database_codes_.shape[0], h.n_bits), dtype=np.uint8)
    return mean_average_precision(q, db, h.labels_to_indicator(y_q), h.database_labels_)


@pytest.mark.parametrize("name", list(SMALL))
@pytest.mark.parametrize("multilabel", [False, True])
def test_clearly_better_than_random_codes(name, multilabel):
    X, y = make_problem(n=300, n_classes=6 if multilabel else 4, multilabel=multilabel)
    X_train, y_train, X_query, y_query = X[:220], y[:220], X[220:], y[220:]
    h = SMALL[name]().fit(X_train, y_train)
    result = cross_modal_map(h, X_query, y_query)
    chance = _random_codes_map(X_query, y_query, h)
    assert np.isfinite(result["mean"])
    margin = 0.15 if multilabel else 0.3
    assert result["image_to_text"] > chance + margin, (result, chance)
    assert result["text_to_image"] > chance + margin, (result, chance)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SCMHasher(8, N_IMG, variant="diagonal"), "variant"),
        (lambda: SCMHasher(8, N_IMG, reg=-1.0), "reg"),
        (lambda: SePHHasher(8, N_IMG, n_anchors=0), "n_anchors"),
        (lambda: SePHHasher(8, N_IMG, alpha=-0.1), "alpha"),
        (lambda: DLFHHasher(8, N_IMG, n_sampled_columns=0), "n_sampled_columns"),
        (lambda: DLFHHasher(8, N_IMG, hash_function="mlp"), "hash_function"),
        (lambda: DLFHHasher(8, N_IMG, scale=0.0), "scale"),
    ],
)
def test_bad_parameters_raise_clear_errors(make, match):
    X, y = make_problem(n=40)
    with pytest.raises(InvalidParameterError, match=match):
        make().fit(X, y)


@pytest.mark.parametrize("name", ["scm-seq", "seph", "dlfh"])
def test_bad_input_raises_clear_errors(name):
    X, y = make_problem(n=40)
    with pytest.raises(ValueError, match="n_image_features"):
        SMALL[name]().set_params(n_image_features=None).fit(X, y)
    with pytest.raises(ValueError, match="one entry per row"):
        SMALL[name]().fit(X, y[:-1])
    h = SMALL[name]().fit(X, y)
    with pytest.raises(ValueError, match="expects the 8 text columns"):
        h.encode(X[:, :N_IMG], modality="text")


@pytest.mark.parametrize("name", ["scm-seq", "seph", "dlfh"])
def test_memory_is_not_quadratic_in_n(name):
    n = 3000
    X, y = make_problem(n=n, n_classes=5)
    h = SMALL[name]()
    peak, _ = peak_traced_bytes(h.fit, X, y)
    # An n x n float64 matrix alone would be 72 MB; everything here should stay far below.
    assert peak < n * n * 8 / 4, peak


# --------------------------------------------------------------------------- learned codes
def test_dlfh_training_codes_are_the_signs_of_the_learned_factors():
    X, y = make_problem()
    h = DLFHHasher(16, N_IMG, random_state=0).fit(X, y)
    codes = h.training_codes_
    assert codes.dtype == np.uint8 and codes.shape == (len(y), 32)
    np.testing.assert_array_equal(codes[:, :16], h.image_codes_ > 0)
    np.testing.assert_array_equal(codes[:, 16:], h.text_codes_ > 0)
    # The learned U and V retrieve each other's classes (the authors' protocol's database).
    assert mean_average_precision(codes[:, :16], codes[:, 16:], y, y) > 0.9
    # They are not the hash functions' codes (those are database_codes_).
    assert not np.array_equal(codes, h.database_codes_)


def test_seph_training_codes_are_the_learned_codes_twice():
    X, y = make_problem()
    h = SePHHasher(8, N_IMG, n_anchors=30, random_state=0).fit(X, y)
    codes = h.training_codes_
    assert codes.dtype == np.uint8 and codes.shape == (len(y), 16)
    np.testing.assert_array_equal(h.sample_indices_, np.arange(len(y)))
    np.testing.assert_array_equal(codes[:, :8], h.codes_ > 0)
    np.testing.assert_array_equal(codes[:, 8:], h.codes_ > 0)
    assert mean_average_precision(codes[:, :8], codes[:, 8:], y, y) > 0.95


def test_seph_training_codes_outside_the_sample_are_the_hash_functions_codes():
    X, y = make_problem()
    h = SePHHasher(8, N_IMG, n_anchors=30, n_samples_codes=150, random_state=0).fit(X, y)
    idx = h.sample_indices_
    outside = np.setdiff1d(np.arange(len(y)), idx)
    assert len(idx) == 150 and len(outside) == 90
    np.testing.assert_array_equal(h.training_codes_[idx, :8], h.codes_ > 0)
    np.testing.assert_array_equal(h.training_codes_[idx, 8:], h.codes_ > 0)
    np.testing.assert_array_equal(h.training_codes_[outside], h.database_codes_[outside])


@pytest.mark.parametrize("name", ["scm-seq"])
def test_hashers_that_learn_no_codes_have_no_training_codes(name):
    X, y = make_problem()
    assert not hasattr(SMALL[name]().fit(X, y), "training_codes_")
