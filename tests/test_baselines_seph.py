"""SePH's hash functions and quantisation weight as Lin et al. define them (CVPR 2015, and
their released code): the RBF width, the penalised kernel logistic regression without
intercept, its solver, and ``alpha / (m n_bits)``; and KDLFH's hash functions, which Jiang and
Li's code defines the same way. Reference values are computed by hand or from the formulas,
never copied from a run."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils._param_validation import InvalidParameterError

import skmetacmh.baselines._seph as seph_module
from skmetacmh.baselines import DLFHHasher, SePHHasher
from skmetacmh.baselines._logistic_bits import (
    fit_kernel_logistic_bits,
    kernel_logistic_objective,
)
from skmetacmh.baselines._rbf_features import _RBFAnchorFeatures, mean_pairwise_squared_distance
from skmetacmh.baselines._seph import kl_objective, label_affinity_distribution

from ._helpers import N_IMG, make_problem, one_hot


def brute_force_mean_squared_distance(X):
    """The reference's formula: the mean of the full n x n squared-distance matrix."""
    diff = X[:, None, :] - X[None, :, :]
    return float(np.mean(np.sum(diff**2, axis=-1)))


# --------------------------------------------------------------------------- kernel width
def test_kernel_width_on_a_tiny_array_by_hand():
    # Pairs: |p0-p1|^2 = 25, |p0-p2|^2 = 16, |p1-p2|^2 = 9; ordered pairs twice, over n^2 = 9.
    X = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    assert mean_pairwise_squared_distance(X) == pytest.approx(100.0 / 9.0, rel=1e-14)
    assert mean_pairwise_squared_distance(sp.csr_matrix(X)) == pytest.approx(100.0 / 9.0)


def test_kernel_width_equals_the_n_by_n_mean_on_random_data():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=3.0, size=(37, 5))
    assert mean_pairwise_squared_distance(X) == pytest.approx(
        brute_force_mean_squared_distance(X), rel=1e-12
    )
    # Identical rows: zero spread.
    assert mean_pairwise_squared_distance(np.ones((4, 3))) == 0.0


def test_rbf_features_are_exp_of_minus_squared_distance_over_width():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    features = _RBFAnchorFeatures(3, width=100.0 / 9.0, random_state=0).fit(X)
    anchors = features.anchors_
    x = np.array([[1.0, 2.0]])
    expected = np.exp(-np.sum((x - anchors) ** 2, axis=1) / (100.0 / 9.0))
    np.testing.assert_allclose(features.transform(x)[0], expected, rtol=1e-12)
    np.testing.assert_allclose(
        features.anchor_kernel(),
        np.exp(-np.sum((anchors[:, None] - anchors[None]) ** 2, axis=-1) / (100.0 / 9.0)),
        rtol=1e-12,
    )


def test_seph_resolves_the_kernel_width_per_modality_on_the_sampled_items():
    X, y = make_problem(n=200)
    h = SePHHasher(8, N_IMG, n_anchors=20, n_samples_codes=120, random_state=0).fit(X, y)
    rows = X[h.sample_indices_]
    assert h.kernel_width_["image"] == pytest.approx(
        brute_force_mean_squared_distance(rows[:, :N_IMG]), rel=1e-12
    )
    assert h.kernel_width_["text"] == pytest.approx(
        brute_force_mean_squared_distance(rows[:, N_IMG:]), rel=1e-12
    )
    fixed = SePHHasher(8, N_IMG, n_anchors=20, kernel_width=7.5, random_state=0).fit(X, y)
    assert fixed.kernel_width_ == {"image": 7.5, "text": 7.5}
    assert fixed.kernel_width == 7.5  # the parameter itself is left untouched


# --------------------------------------------------------------------------- kernel logistic
def test_kernel_logistic_objective_by_hand():
    # K = K0 = [[1, .5], [.5, 1]], w = (1, -1): K w = (.5, -.5); with targets (+1, -1) both
    # margins are .5, and w' K0 w = 1 - .5 - .5 + 1 = 1.
    K = np.array([[1.0, 0.5], [0.5, 1.0]])
    T = np.array([[1.0], [-1.0]])
    W = np.array([[1.0], [-1.0]])
    value, grad = kernel_logistic_objective(W, K, K, T, reg=0.01)
    assert value == pytest.approx(2.0 * np.log1p(np.exp(-0.5)) + 0.01, rel=1e-14)
    # d/dw = K' (-t sigmoid(-margin)) + 2 reg K0 w
    s = 1.0 / (1.0 + np.exp(0.5))
    expected = K.T @ np.array([[-s], [s]]) + 0.02 * K @ W
    np.testing.assert_allclose(grad, expected, rtol=1e-14)


def _small_kernel_problem(seed=0, n=40, p=7, k=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    anchors = X[rng.choice(n, size=p, replace=False)]
    width = mean_pairwise_squared_distance(X)

    def kern(A, B):
        return np.exp(-np.sum((A[:, None] - B[None]) ** 2, axis=-1) / width)

    T = np.where(X[:, :k] + 0.3 * rng.normal(size=(n, k)) > 0, 1.0, -1.0)
    return kern(X, anchors), kern(anchors, anchors), T


def test_kernel_logistic_gradient_matches_finite_differences():
    K, K0, T = _small_kernel_problem()
    W = np.random.default_rng(1).normal(size=(K0.shape[0], T.shape[1]))
    _, grad = kernel_logistic_objective(W, K, K0, T, reg=0.3)
    eps = 1e-6
    num = np.zeros_like(W)
    for idx in np.ndindex(*W.shape):
        E = np.zeros_like(W)
        E[idx] = eps
        num[idx] = (
            kernel_logistic_objective(W + E, K, K0, T, 0.3)[0]
            - kernel_logistic_objective(W - E, K, K0, T, 0.3)[0]
        ) / (2 * eps)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


def newton_reference(K, K0, t, reg, n_iter=60):
    """Slow obvious reference: Newton's method on one bit with the exact Hessian."""
    w = np.zeros(K.shape[1])
    for _ in range(n_iter):
        s = 1.0 / (1.0 + np.exp(t * (K @ w)))
        g = K.T @ (-t * s) + 2 * reg * K0 @ w
        H = K.T @ ((s * (1 - s))[:, None] * K) + 2 * reg * K0
        w = w - np.linalg.solve(H, g)
    return w


@pytest.mark.parametrize("reg", [0.01, 1.0])
def test_kernel_logistic_solver_reaches_the_newton_minimiser(reg):
    K, K0, T = _small_kernel_problem()
    W, n_iter = fit_kernel_logistic_bits(K, K0, T, reg)
    for j in range(T.shape[1]):
        w_ref = newton_reference(K, K0, T[:, j], reg)
        np.testing.assert_allclose(W[:, j], w_ref, rtol=1e-4, atol=1e-6 * np.abs(w_ref).max())
    _, grad = kernel_logistic_objective(W, K, K0, T, reg)
    assert np.abs(grad).max() < 1e-5
    assert 0 < n_iter < 1000


def test_seph_hash_functions_have_no_intercept():
    X, y = make_problem(n=200)
    h = SePHHasher(8, N_IMG, n_anchors=20, random_state=0).fit(X, y)
    assert not hasattr(h, "image_intercept_") and not hasattr(h, "text_intercept_")
    np.testing.assert_allclose(
        h._project(X[:5, :N_IMG], "image"),
        h.image_features_.transform(X[:5, :N_IMG]) @ h.image_weights_,
        rtol=1e-12,
    )
    # A point far from every anchor has all-zero features, so a zero score: no offset.
    far = np.full((1, X.shape[1] - N_IMG), 1e6)
    np.testing.assert_array_equal(h._project(far, "text"), 0.0)


def test_seph_hash_functions_solve_the_penalised_problem_on_the_learned_codes():
    X, y = make_problem(n=200)
    h = SePHHasher(8, N_IMG, n_anchors=20, reg=0.05, random_state=0).fit(X, y)
    rows = X[h.sample_indices_, :N_IMG]
    K, K0 = h.image_features_.transform(rows), h.image_features_.anchor_kernel()
    _, grad = kernel_logistic_objective(h.image_weights_, K, K0, h.codes_.astype(float), 0.05)
    assert np.abs(grad).max() < 1e-5


# --------------------------------------------------------------------------- alpha
@pytest.mark.parametrize(("n_bits", "n_samples_codes"), [(8, 150), (16, 90)])
def test_quantisation_weight_is_alpha_over_m_n_bits(monkeypatch, n_bits, n_samples_codes):
    seen = []

    def recording(H, P, alpha, p_log_p=None):
        seen.append(alpha)
        return kl_objective(H, P, alpha, p_log_p)

    monkeypatch.setattr(seph_module, "kl_objective", recording)
    X, y = make_problem(n=200)
    h = SePHHasher(
        n_bits,
        N_IMG,
        alpha=0.3,
        n_anchors=20,
        n_samples_codes=n_samples_codes,
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    expected = 0.3 / (n_samples_codes * n_bits)
    assert h.quantization_weight_ == pytest.approx(expected, rel=1e-15)
    assert seen and all(a == h.quantization_weight_ for a in seen)


def test_kl_objective_value_by_hand():
    # Two items of one class and one of another: P = 1/2 on the pair (0, 1) and (1, 0).
    P = label_affinity_distribution(one_hot(np.array([0, 0, 1])))
    H = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    # Squared distances: (0,1) 4, (0,2) 8, (1,2) 4 -> d/4 = 1, 2, 1 -> w = 1/2, 1/3, 1/2.
    total = 2 * (0.5 + 1 / 3 + 0.5)
    q01 = 0.5 / total
    kl = 2 * 0.5 * np.log(0.5 / q01)
    value, _ = kl_objective(H, P, alpha=0.25)
    assert value == pytest.approx(kl, rel=1e-14)  # |H| = 1: no quantisation loss
    H2 = 0.5 * H
    # |H| - 1 = -1/2 everywhere: 6 entries * 1/4 * alpha = 0.375 on top of the KL.
    kl2, _ = kl_objective(H2, P, alpha=0.0)
    value2, _ = kl_objective(H2, P, alpha=0.25)
    assert value2 - kl2 == pytest.approx(0.375, rel=1e-12)


# --------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(kernel_width="median"), "kernel_width"),
        (dict(kernel_width=0.0), "kernel_width"),
        (dict(reg=0.0), "reg"),
        (dict(reg=-1.0), "reg"),
    ],
)
def test_bad_new_parameters_raise_clear_errors(params, match):
    X, y = make_problem(n=60)
    with pytest.raises(InvalidParameterError, match=match):
        SePHHasher(8, N_IMG, n_anchors=10, **params).fit(X, y)


# --------------------------------------------------------------------------- KDLFH
def _kdlfh(**params):
    return DLFHHasher(8, N_IMG, hash_function="kernel", n_anchors=20, random_state=0, **params)


def test_kdlfh_resolves_the_kernel_width_per_modality_on_the_training_items():
    X, y = make_problem(n=150)
    h = _kdlfh().fit(X, y)
    assert h.kernel_width_["image"] == pytest.approx(
        brute_force_mean_squared_distance(X[:, :N_IMG]), rel=1e-12
    )
    assert h.kernel_width_["text"] == pytest.approx(
        brute_force_mean_squared_distance(X[:, N_IMG:]), rel=1e-12
    )
    fixed = _kdlfh(kernel_width=7.5).fit(X, y)
    assert fixed.kernel_width_ == {"image": 7.5, "text": 7.5} and fixed.kernel_width == 7.5


def test_kdlfh_hash_functions_have_no_intercept_and_solve_the_penalised_problem():
    X, y = make_problem(n=150)
    h = _kdlfh(reg=0.05).fit(X, y)
    assert not hasattr(h, "image_intercept_") and not hasattr(h, "text_intercept_")
    far = np.full((1, X.shape[1] - N_IMG), 1e6)  # all-zero features: a zero score, no offset
    np.testing.assert_array_equal(h._project(far, "text"), 0.0)
    for modality, block, codes in (
        ("image", X[:, :N_IMG], h.image_codes_),
        ("text", X[:, N_IMG:], h.text_codes_),
    ):
        features, W = getattr(h, f"{modality}_features_"), getattr(h, f"{modality}_weights_")
        K, K0 = features.transform(block), features.anchor_kernel()
        _, grad = kernel_logistic_objective(W, K, K0, codes.astype(float), 0.05)
        assert np.abs(grad).max() < 1e-5, modality
        np.testing.assert_allclose(h._project(block[:5], modality), K[:5] @ W, rtol=1e-12)


def test_kdlfh_keeps_the_linear_variants_attributes_apart():
    X, y = make_problem(n=120)
    linear = DLFHHasher(8, N_IMG, random_state=0).fit(X, y)
    kernel = _kdlfh().fit(X, y)
    assert hasattr(linear, "image_intercept_") and not hasattr(linear, "kernel_width_")
    assert kernel.ridge_solver_ is None and set(kernel.n_iter_logistic_) == {"image", "text"}
    # The same learned codes: only the hash functions differ.
    np.testing.assert_array_equal(linear.image_codes_, kernel.image_codes_)


@pytest.mark.parametrize(
    ("params", "match"),
    [(dict(kernel_width="median"), "kernel_width"), (dict(reg=0.0), "reg"), (dict(C=1.0), "C")],
)
def test_kdlfh_bad_parameters_raise_clear_errors(params, match):
    X, y = make_problem(n=60)
    error = TypeError if "C" in params else InvalidParameterError  # C is gone (now reg)
    with pytest.raises(error, match=match):
        _kdlfh(**params).fit(X, y)
