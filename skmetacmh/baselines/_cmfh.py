"""CMFH: collective matrix factorisation hashing.

Ding, Guo and Zhou factorise both modalities with one shared latent factor ``V`` (one row per
object) and learn a linear projection from each modality onto ``V``; the codes are the signs of
those projections. Every block of the objective has a closed-form minimiser, so the fit is
block coordinate descent whose objective never increases.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._base import UnsupervisedHasherMixin
from ._docstring import SHARED_DOCS, Substitution
from ._linear_algebra import _float64_sparse, centred_gram, centred_matmul, column_means
from ._linear_projection import _LinearProjectionHasher
from ._ridge import centred_ridge_cg, resolve_ridge_solver

__all__ = ["CMFHHasher"]


def _ridge_solve(gram, rhs, ridge):
    """Solve ``(gram + ridge * I) Z = rhs`` for symmetric positive semi-definite ``gram``."""
    lhs = gram.copy()
    lhs[np.diag_indices_from(lhs)] += ridge
    return cho_solve(cho_factor(lhs), rhs)


class _GramProjection:
    """The ``P_m`` update through the ``(d, d)`` Gram matrix, formed and factorised once.

    ``solve(rhs, x0)`` returns ``(Xc^T Xc + ridge I)^{-1} rhs`` (``x0`` is not needed),
    ``sq_norm`` is ``||Xc||_F^2 = trace(G)`` and ``sq_projected_norm(P)`` is ``||Xc P||_F^2 =
    sum((G P) * P)``: the quantities CMFH's update and objective need from a view.
    """

    def __init__(self, X, mean, ridge):
        self.gram = centred_gram(X, mean)
        self.sq_norm = np.trace(self.gram)
        lhs = self.gram.copy()
        lhs[np.diag_indices_from(lhs)] += ridge
        self.factor = cho_factor(lhs)

    def solve(self, rhs, x0=None):
        return cho_solve(self.factor, rhs)

    def sq_projected_norm(self, P):
        return np.sum((self.gram @ P) * P)


class _ImplicitProjection:
    """The same three quantities from products with a (wide, sparse) ``X`` only.

    The solve is :func:`~._ridge.centred_ridge_cg`, warm-started from the previous sweep's
    ``P_m``; ``||Xc||_F^2 = sum(X^2) - 2 m^T s + n m^T m`` (``s`` the column sums) and
    ``||Xc P||_F^2`` is the squared norm of an ``(n, k)`` product. No ``(d, d)`` array.
    """

    def __init__(self, X, mean, ridge, name):
        self.X, self.mean, self.ridge, self.name = X, mean, ridge, name
        sums = np.asarray(X.sum(axis=0)).ravel()
        self.sq_norm = float(X.multiply(X).sum() - 2 * mean @ sums + X.shape[0] * mean @ mean)

    def solve(self, rhs, x0=None):
        P, _ = centred_ridge_cg(self.X, self.mean, rhs, self.ridge, x0=x0, solve_name=self.name)
        return P

    def sq_projected_norm(self, P):
        XP = centred_matmul(self.X, self.mean, P)
        return np.sum(XP * XP)


def _projection_solver(X, mean, ridge, modality):
    """The ``P_m`` solver for one view, chosen by :func:`~._ridge.resolve_ridge_solver`."""
    if resolve_ridge_solver(X) == "cg":
        # float64 once: sparse products accumulate in the input dtype, and every iteration of
        # every sweep would otherwise convert the nonzeros again.
        X = _float64_sparse(X)
        return X, _ImplicitProjection(X, mean, ridge, f"CMFHHasher's {modality} projection")
    return X, _GramProjection(X, mean, ridge)


def _cmfh_objective(projections, VtV, VtX, U, P, weights, mu, gamma):
    """CMFH's objective (Ding et al. 2014) from ``(k, k)``, ``(k, d)`` summaries and norms.

    ``sum_m w_m ||X_m - V U_m||^2 + mu sum_m ||V - X_m P_m||^2
    + gamma (sum_m ||U_m||^2 + ||P_m||^2 + ||V||^2)``, with each squared norm expanded
    (``||X - V U||^2 = ||X||^2 - 2 <U, V^T X> + <V^T V U, U>``) so that no ``(n, d)`` residual is
    formed; ``projections[m]`` gives ``||X_m||^2`` and ``||X_m P_m||^2``.
    """
    total = gamma * np.trace(VtV)
    for m in range(2):
        sq_norm = projections[m].sq_norm
        reconstruction = sq_norm - 2 * np.sum(U[m] * VtX[m]) + np.sum((VtV @ U[m]) * U[m])
        projection = (
            np.trace(VtV) - 2 * np.sum(P[m] * VtX[m].T) + projections[m].sq_projected_norm(P[m])
        )
        total += weights[m] * reconstruction + mu * projection
        total += gamma * (np.sum(U[m] ** 2) + np.sum(P[m] ** 2))
    return float(total)


def _collective_matrix_factorisation(
    views, means, n_components, weights, mu, gamma, max_iter, tol, rng
):
    """Alternating closed-form updates of CMFH (Ding et al. 2014).

    With rows as objects (``X_m`` is the centred ``(n, d_m)`` view, ``V`` is ``(n, k)``), the
    exact minimisers of the objective in each block, the others fixed, are

    * ``U_m = (V^T V + gamma / w_m I)^{-1} V^T X_m``,
    * ``P_m = (X_m^T X_m + gamma / mu I)^{-1} X_m^T V``,
    * ``V = (sum_m w_m X_m U_m^T + mu X_m P_m) (sum_m w_m U_m U_m^T + (2 mu + gamma) I)^{-1}``.

    ``U`` and ``P`` depend on ``V`` only, so one sweep is (U, P) then V, starting from a random
    ``V``. Each update is an exact block minimiser, hence the objective is non-increasing.
    ``views`` are the raw views and ``means`` their column means: centring happens block by
    block inside the products. ``P_m`` is solved through the view's Gram matrix, or, for a wide
    sparse view, by conjugate gradients warm-started from the previous sweep's ``P_m`` (then
    each update is exact to the solver's tolerance).

    Returns
    -------
    P : list of two ndarrays of shape (d_m, k)
    objective : ndarray of shape (n_iter,)
        Objective after each sweep.
    converged : bool
    solvers : list of two str
        ``"gram"`` or ``"cg"`` per view.
    """
    n = views[0].shape[0]
    k = n_components
    views, projections = zip(
        *(
            _projection_solver(X, mean, gamma / mu, modality)
            for X, mean, modality in zip(views, means, ("image", "text"))
        )
    )
    solvers = ["cg" if isinstance(p, _ImplicitProjection) else "gram" for p in projections]

    def summaries(V):
        return V.T @ V, [centred_gram(X, mean, V, 0.0).T for X, mean in zip(views, means)]

    V = rng.standard_normal((n, k))
    VtV, VtX = summaries(V)
    objective = []
    converged = False
    P = [None, None]
    for _ in range(max_iter):
        U = [_ridge_solve(VtV, VtX[m], gamma / weights[m]) for m in range(2)]
        P = [projections[m].solve(VtX[m].T, P[m]) for m in range(2)]
        lhs = sum(weights[m] * U[m] @ U[m].T for m in range(2)) + (2 * mu + gamma) * np.eye(k)
        rhs = sum(
            centred_matmul(views[m], means[m], weights[m] * U[m].T + mu * P[m]) for m in range(2)
        )
        V = cho_solve(cho_factor(lhs), rhs.T).T
        VtV, VtX = summaries(V)
        objective.append(_cmfh_objective(projections, VtV, VtX, U, P, weights, mu, gamma))
        if len(objective) > 1:
            previous, current = objective[-2], objective[-1]
            # Relative to the first sweep's objective, as scikit-learn's NMF does: the objective
            # can approach zero on nearly low-rank data, where a change relative to the current
            # value would never look small.
            if previous - current <= tol * objective[0]:
                converged = True
                break
    # P from the final V, so that the hash functions regress onto the returned latent factor.
    P = [projections[m].solve(VtX[m].T, P[m]) for m in range(2)]
    return P, np.asarray(objective), converged, solvers


@Substitution(**SHARED_DOCS)
class CMFHHasher(UnsupervisedHasherMixin, _LinearProjectionHasher):
    """Collective matrix factorisation hashing (CMFH), unsupervised.

    Both modalities are centred and factorised with one shared latent factor ``V`` (``n`` by
    ``n_bits``): ``X_image ~ V U_image`` and ``X_text ~ V U_text``, while linear projections
    ``P_m`` regress each modality onto ``V``. The objective

    ``lambda ||X_1 - V U_1||^2 + (1 - lambda) ||X_2 - V U_2||^2
    + mu (||V - X_1 P_1||^2 + ||V - X_2 P_2||^2)
    + gamma (||U_1||^2 + ||U_2||^2 + ||P_1||^2 + ||P_2||^2 + ||V||^2)``

    is minimised by alternating closed-form updates. A bit of modality ``m`` is the sign of
    ``(x - mean_m) P_m``; centring makes the training latent factor and these projections zero
    mean, so this is the paper's thresholding at the mean. ``y`` is only stored as the labels of
    the retrieval database.

    Parameters
    ----------
    {n_bits}
        It is the rank of the shared latent factor, so at most the number of training items.
    {n_image_features}
    image_weight : float, default=0.5
        ``lambda`` in the paper: the weight of the image reconstruction; the text reconstruction
        gets ``1 - image_weight``. Strictly between 0 and 1.
    mu : float, default=100.0
        Weight of the projection terms ``||V - X_m P_m||^2`` against the factorisation.
    gamma : float, default=0.01
        Weight of the Frobenius-norm regulariser on every factor.
    max_iter : int, default=100
        Maximum number of sweeps over (U, P, V).
    tol : float, default=1e-4
        Stop when a sweep lowers the objective by less than ``tol`` times the objective after
        the first sweep (the criterion of scikit-learn's NMF).
    {random_state}
        Seeds the random initial latent factor.
    {n_jobs}

    Attributes
    ----------
    {linear_attributes}
    image_projection_ : ndarray of shape (n_image_features, n_bits)
        ``P_image``: image bits are ``(X_image - image_mean_) @ image_projection_ > 0``.
    text_projection_ : ndarray of shape (n_text_features_, n_bits)
        ``P_text``.
    objective_ : ndarray of shape (n_iter_,)
        The objective after each sweep (non-increasing).
    ridge_solver_ : dict
        ``{"image": solver, "text": solver}``, how each ``P_m`` update was solved: ``"gram"``
        (Cholesky factor of the ``(d_m, d_m)`` Gram matrix; a dense block, or a sparse one of
        at most 4,096 columns) or ``"cg"`` (conjugate gradients on sparse products; a wider
        sparse block). Chosen at fit from the block's type and width.
    n_iter_ : int
        Sweeps run.
    {base_attributes}

    See Also
    --------
    CCAITQHasher : Canonical correlation analysis followed by iterative quantisation.
    CVHHasher : Cross-view hashing by a generalised eigenproblem.

    Notes
    -----
    The defaults (``lambda = 0.5``, ``mu = 100``, ``gamma = 0.01``) are the paper's; tune them
    with the cross-modal scorer (:ref:`baseline_parameters`). Memory is linear in n: a
    ``(d_m, d_m)`` Gram matrix per view, or, for sparse text wider than 4,096 columns,
    conjugate gradients on sparse products (``ridge_solver_`` says which). {sparse_text}

    This follows the paper's updates, not the released code (Guo's ``CMFH_learn.m``, BMC-SDNU
    at 0196e313): there an operator-precedence slip divides the projection update by ``mu^2``
    and an all-positive start keeps the factor near rank one. On the Octave cross-check
    (:doc:`/crosscheck`) this hasher is 0.05-0.17 mAP above that code (balanced, 32 bits,
    I->T/T->I: 0.55/0.54 against 0.44/0.44).

    References
    ----------
    .. [1] G. Ding, Y. Guo and J. Zhou, "Collective matrix factorization hashing for multimodal
       data", CVPR 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.baselines import CMFHHasher
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((200, 4))
    >>> X = np.hstack([latent @ rng.standard_normal((4, 10)), latent @ rng.standard_normal((4, 6))])
    >>> y = (latent[:, 0] > 0).astype(int)
    >>> hasher = CMFHHasher(n_bits=4, n_image_features=10, random_state=0).fit(X, y)
    >>> hasher.transform(X[:3]).shape
    (3, 8)
    """

    _parameter_constraints = {
        **_LinearProjectionHasher._parameter_constraints,
        "image_weight": [Interval(Real, 0, 1, closed="neither")],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_bits=32,
        n_image_features=None,
        *,
        image_weight=0.5,
        mu=100.0,
        gamma=0.01,
        max_iter=100,
        tol=1e-4,
        random_state=None,
        n_jobs=None,
    ):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.image_weight = image_weight
        self.mu = mu
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit(self, X_image, X_text, Y):
        n_samples = X_image.shape[0]
        if self.n_bits > n_samples:
            # V is (n_samples, n_bits): its rank, and so the number of independent bits, is at
            # most n_samples, while every sweep costs O(n_bits^3); 4,096 bits on 60 rows would
            # look like a hang and give no more information than 60 bits.
            raise ValueError(
                f"CMFHHasher learns a shared latent factor of rank n_bits, which cannot exceed "
                f"the number of training items: got n_bits={self.n_bits} for {n_samples} "
                f"items. Choose n_bits <= {n_samples}, or train on more items."
            )
        self.image_mean_, self.text_mean_ = column_means(X_image), column_means(X_text)
        P, objective, converged, solvers = _collective_matrix_factorisation(
            [X_image, X_text],
            [self.image_mean_, self.text_mean_],
            self.n_bits,
            (self.image_weight, 1.0 - self.image_weight),
            self.mu,
            self.gamma,
            self.max_iter,
            self.tol,
            check_random_state(self.random_state),
        )
        if not converged:
            warnings.warn(
                f"CMFHHasher did not converge in max_iter={self.max_iter} sweeps (relative "
                f"objective change above tol={self.tol}); increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.image_projection_, self.text_projection_ = P
        self.ridge_solver_ = dict(zip(("image", "text"), solvers))
        self.objective_ = objective
        self.n_iter_ = len(objective)
