"""SePH: semantics-preserving hashing for cross-view retrieval (Lin et al., CVPR 2015).

Two stages. First, codes for (a sample of) the training items are learned without looking at
features: the label affinity is turned into a probability distribution ``P`` over pairs, the
relaxed codes ``H`` define a Student-t distribution ``Q`` over pairs through their (relaxed)
Hamming distances, and ``KL(P || Q) + (alpha / m) || |H| - 1 ||^2`` is minimised. Second, each
modality gets its hash functions: RBF kernel features on k-means anchors, then one logistic
regression per bit.

Both ``P`` and ``Q`` are ``m x m`` for the ``m`` items whose codes are learned: that is the
paper's design. The cost is bounded by sampling ``m = n_samples_codes`` items (the paper's
"SePH_rnd" sampling strategy), so memory is ``O(m^2 + n * n_anchors)`` whatever the training
set size.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._base import BaseCrossModalHasher
from .._threads import N_JOBS_CONSTRAINTS
from ._docstring import SHARED_DOCS, Substitution
from ._label_similarity import normalized_labels
from ._rbf_features import fit_kernel_logistic_bits

__all__ = ["SePHHasher"]

_TINY = np.finfo(np.float64).tiny


def label_affinity_distribution(Y: np.ndarray) -> np.ndarray:
    """SePH's ``P``: label cosine affinities, zero diagonal, normalised to sum to one.

    Items with no label have zero affinity to everything. Raises if no pair shares a label
    (then ``P`` is undefined).
    """
    Yn = normalized_labels(Y)
    P = Yn @ Yn.T
    np.fill_diagonal(P, 0.0)
    total = P.sum()
    if total <= 0:
        raise ValueError(
            "SePHHasher needs at least two sampled training items that share a label; none of "
            "the sampled pairs does (check y, or raise n_samples_codes)."
        )
    return P / total


def kl_objective(H: np.ndarray, P: np.ndarray, alpha: float):
    """SePH's objective and its gradient at relaxed codes ``H`` (Lin et al., CVPR 2015).

    ``Q_ij ∝ 1 / (1 + ||h_i - h_j||^2 / 4)`` (the relaxed Hamming distance of codes in
    ``[-1, 1]``), and the objective is ``KL(P || Q) + alpha * || |H| - 1 ||_F^2``. The gradient
    of the KL part is ``sum_j (p_ij - q_ij) w_ij (h_i - h_j)`` with ``w_ij = 1 / (1 + d_ij)``,
    as in t-SNE.
    """
    sq = np.einsum("ij,ij->i", H, H)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (H @ H.T), 0.0) / 4.0
    w = 1.0 / (1.0 + dist)
    np.fill_diagonal(w, 0.0)
    Q = np.maximum(w / w.sum(), _TINY)
    mask = P > 0
    kl = float(np.sum(P[mask] * (np.log(P[mask]) - np.log(Q[mask]))))
    absdev = np.abs(H) - 1.0
    value = kl + alpha * float(np.sum(absdev * absdev))
    L = (P - Q) * w
    grad = L.sum(axis=1)[:, None] * H - L @ H + 2.0 * alpha * absdev * np.sign(H)
    return value, grad


@Substitution(**SHARED_DOCS)
class SePHHasher(BaseCrossModalHasher):
    """Semantics-preserving hashing (SePH) for cross-modal retrieval.

    Codes are learned by matching a Hamming-distance distribution to the label affinity
    distribution (KL divergence, with a quantisation penalty), then kernel logistic regression
    per bit maps each modality to them.

    The label affinity of two items is the cosine of their label vectors (for single-label data:
    1 for the same class, 0 otherwise), as in the paper. Learning the codes is ``O(m^2 n_bits)``
    time and ``O(m^2)`` memory for the ``m = min(n, n_samples_codes)`` items sampled uniformly at
    random; the hash functions are then fitted on those same ``m`` items, as in the paper's
    random-sampling variant. Nothing of size ``n x n`` is formed.

    A scipy sparse (CSR) text block, such as a ``TfidfVectorizer`` output, is used as it is, in
    ``fit`` and in ``encode``: k-means and the RBF features use sparse products, and only the
    ``(n, n_anchors)`` features are dense. The anchors, and so a few codes, can differ from
    those of the same block passed dense, because k-means sums in another order.

    Parameters
    ----------
    {n_bits}
    {n_image_features}
    alpha : float, default=0.01
        Weight of the quantisation penalty that pulls relaxed codes to ``+-1``. The penalty is
        ``(alpha / m) * || |H| - 1 ||_F^2``: divided by the number ``m`` of sampled items, as in
        public code derived from the authors', so that its balance with the KL term (which is
        O(1), ``P`` summing to one) does not depend on ``m``. Unscaled, it is ``m`` times larger
        and, from the paper's tiny initialisation, freezes the random initial signs (measured in
        :ref:`baseline_parameters`).
    n_samples_codes : int, default=2000
        Number of training items whose codes are learned (and on which the hash functions are
        fitted). Time grows with its square.
    n_anchors : int, default=500
        Number of k-means anchors of the RBF kernel features, per modality (paper: 500). The
        kernel width is the mean distance from the sampled items to the anchors.
    C : float, default=1.0
        Inverse regularisation strength of each bit's logistic regression.
    max_iter : int, default=100
        L-BFGS iterations for the KL stage.
    {random_state}
        Seeds the sampling, the code initialisation and k-means.
    {n_jobs}

    Attributes
    ----------
    sample_indices_ : ndarray of shape (m,)
        Training rows whose codes were learned.
    codes_ : ndarray of shape (m, n_bits), dtype int8
        Learned codes of those rows, in {-1, +1}.
    objective_ : list of float
        Value of the objective at each accepted L-BFGS iterate (non-increasing).
    n_iter_ : int
        L-BFGS iterations run.
    image_features_, text_features_ : object
        The RBF anchor maps of each modality.
    image_weights_, image_intercept_, text_weights_, text_intercept_ : ndarray
        Per-bit logistic regression of each modality.
    {base_attributes}

    See Also
    --------
    SCMHasher : Supervised linear hashing by semantic correlation maximisation.
    DLFHHasher : Supervised discrete latent factor hashing.

    References
    ----------
    .. [1] Z. Lin, G. Ding, M. Hu and J. Wang, "Semantics-preserving hashing for cross-view
       retrieval", CVPR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.baselines import SePHHasher
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(np.arange(4), 25)
    >>> centres = rng.normal(size=(4, 12))
    >>> X = centres[y] + 0.3 * rng.normal(size=(100, 12))
    >>> h = SePHHasher(n_bits=8, n_image_features=6, n_anchors=20, random_state=0).fit(X, y)
    >>> h.encode(X[:3, 6:], modality="text").shape
    (3, 8)
    """

    _supports_sparse_text = True

    _parameter_constraints: dict = {
        **BaseCrossModalHasher._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_samples_codes": [Interval(Integral, 2, None, closed="left")],
        "n_anchors": [Interval(Integral, 1, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINTS,
    }

    def __init__(
        self,
        n_bits=32,
        n_image_features=None,
        *,
        alpha=0.01,
        n_samples_codes=2000,
        n_anchors=500,
        C=1.0,
        max_iter=100,
        random_state=None,
        n_jobs=None,
    ):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.alpha = alpha
        self.n_samples_codes = n_samples_codes
        self.n_anchors = n_anchors
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit(self, X_image, X_text, Y):
        rng = check_random_state(self.random_state)
        n = X_image.shape[0]
        m = min(n, self.n_samples_codes)
        idx = np.sort(rng.choice(n, size=m, replace=False)) if m < n else np.arange(n)
        self.sample_indices_ = idx

        P = label_affinity_distribution(Y[idx])
        H = self._learn_relaxed_codes(P, rng)
        codes = np.where(H >= 0, 1, -1).astype(np.int8)
        self.codes_ = codes

        T = codes.astype(np.float64)
        self.image_features_, self.image_weights_, self.image_intercept_ = fit_kernel_logistic_bits(
            X_image[idx], T, self.n_anchors, self.C, rng
        )
        self.text_features_, self.text_weights_, self.text_intercept_ = fit_kernel_logistic_bits(
            X_text[idx], T, self.n_anchors, self.C, rng
        )

    def _learn_relaxed_codes(self, P, rng):
        """Minimise the KL objective over relaxed codes ``H`` with L-BFGS."""
        m, b = P.shape[0], self.n_bits
        H0 = 1e-4 * rng.standard_normal((m, b))
        history = []

        def fun(h):
            value, grad = kl_objective(h.reshape(m, b), P, self.alpha / m)
            return value, grad.ravel()

        def record(intermediate_result):
            history.append(float(intermediate_result.fun))

        res = minimize(
            fun,
            H0.ravel(),
            jac=True,
            method="L-BFGS-B",
            callback=record,
            # The KL gradient is O(1/m) per entry at the tiny initialisation: the default
            # tolerances would stop before the first step.
            options={"maxiter": self.max_iter, "gtol": 0.0, "ftol": 1e-12},
        )
        self.objective_ = history
        self.n_iter_ = int(res.nit)
        return res.x.reshape(m, b)

    def _project(self, X, modality):
        if modality == "image":
            return self.image_features_.project(X, self.image_weights_, self.image_intercept_)
        return self.text_features_.project(X, self.text_weights_, self.text_intercept_)
