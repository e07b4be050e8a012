"""RBF features on k-means anchors, the nonlinear input of SePH's and KDLFH's hash functions.

As in SePH (Lin et al., CVPR 2015) and KDLFH (Jiang and Li, TIP 2019), every item is mapped to
``phi(x)_k = exp(-||x - a_k||^2 / width)`` for anchor points ``a_k`` chosen by k-means. The
features of ``n`` items cost ``O(n * n_anchors)`` memory, never ``n x n``. ``X`` may be scipy
sparse (a text block): k-means and the distances ``||x||^2 - 2 x.a + ||a||^2`` then use sparse
products, and only the ``(n, n_anchors)`` features are dense.

Both authors' codes take the same width, the mean squared distance over all pairs of training
items (:func:`mean_pairwise_squared_distance`, computed here in ``O(n d)`` without the
``n x n`` distance matrix their code forms), and the same hash functions, one kernel logistic
regression per bit (:func:`fit_kernel_hash_function`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans

from ._linear_algebra import row_slices
from ._logistic_bits import fit_kernel_logistic_bits


def _squared_row_norms(X) -> np.ndarray:
    if sp.issparse(X):
        X = X if X.dtype == np.float64 else X.astype(np.float64)
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", X, X)


def _squared_distances(X, anchors: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, clipped at 0 against round-off."""
    d2 = (
        _squared_row_norms(X)[:, None]
        - 2.0 * np.asarray(X @ anchors.T)
        + np.einsum("ij,ij->i", anchors, anchors)[None, :]
    )
    return np.maximum(d2, 0.0)


def mean_pairwise_squared_distance(X) -> float:
    """``(1 / n^2) sum_ij ||x_i - x_j||^2`` over all ordered pairs, the diagonal included.

    The RBF width of Lin et al.'s SePH code (the mean of the full ``n x n`` matrix of squared
    distances, zeros on its diagonal). Expanding the square, it equals
    ``2 (mean_i ||x_i||^2 - ||mean_i x_i||^2)``, twice the total variance of the columns, so it
    costs ``O(nnz)`` and no ``n x n`` matrix. ``X`` may be scipy sparse.
    """
    n = X.shape[0]
    mean = np.asarray(X.sum(axis=0), dtype=np.float64).ravel() / n
    value = 2.0 * (float(_squared_row_norms(X).mean()) - float(mean @ mean))
    return max(value, 0.0)


class _RBFAnchorFeatures:
    """RBF kernel features on k-means anchors (a private helper, not an estimator).

    Parameters
    ----------
    n_anchors : int
        Number of anchors; capped at the number of training rows.
    width : float
        The denominator of the exponent.
    random_state : int or numpy.random.Generator-compatible seed
        Seed of the k-means initialisation.
    max_iter : int
        Lloyd iterations of k-means. A few are enough: the anchors only need to cover the data.
    """

    def __init__(self, n_anchors: int, width: float, random_state=None, max_iter: int = 20):
        self.n_anchors = n_anchors
        self.width = width
        self.random_state = random_state
        self.max_iter = max_iter

    def fit(self, X) -> _RBFAnchorFeatures:
        n_anchors = min(self.n_anchors, X.shape[0])
        km = KMeans(
            n_clusters=n_anchors,
            n_init=1,
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(X)
        self.anchors_ = km.cluster_centers_
        width = float(self.width)
        # A degenerate block (all rows equal) has zero distances; any positive width works.
        self.width_ = width if width > 0 else 1.0
        return self

    def transform(self, X) -> np.ndarray:
        return np.exp(-_squared_distances(X, self.anchors_) / self.width_)

    def anchor_kernel(self) -> np.ndarray:
        """The ``(n_anchors, n_anchors)`` kernel between the anchors (SePH's penalty metric)."""
        return self.transform(self.anchors_)

    def project(self, X, W: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        """``transform(X) @ W (+ b)`` by blocks of rows within sklearn's ``working_memory``."""
        out = np.empty((X.shape[0], W.shape[1]))
        # Per row: the distances, their exponential and two temporaries of the same size.
        for rows in row_slices(X.shape[0], 8 * 4 * len(self.anchors_)):
            out[rows] = self.transform(X[rows]) @ W
        if b is not None:
            out += b
        return out


def fit_kernel_hash_function(X, T: np.ndarray, n_anchors: int, kernel_width, reg: float, rng):
    """SePH's and KDLFH's hash functions of one modality, fitted to the codes ``T``.

    RBF features on ``n_anchors`` k-means anchors of ``X``, of width ``kernel_width`` (``"auto"``:
    :func:`mean_pairwise_squared_distance` of ``X``), then per bit the kernel logistic regression
    ``sum log(1 + exp(-t K w)) + reg w' K0 w`` with no intercept (``K0`` the anchors' kernel).
    ``rng`` (a ``RandomState``) draws the k-means seed.

    Returns
    -------
    features : _RBFAnchorFeatures
        The fitted anchor map (its ``width_`` is the width used).
    W : ndarray of shape (n_anchors, n_bits)
        Bits are ``features.project(X_new, W) > 0``.
    n_iter : int
        L-BFGS iterations of the logistic fit.
    """
    width = mean_pairwise_squared_distance(X) if kernel_width == "auto" else kernel_width
    features = _RBFAnchorFeatures(
        n_anchors, width=width, random_state=int(rng.randint(np.iinfo(np.int32).max))
    ).fit(X)
    W, n_iter = fit_kernel_logistic_bits(features.transform(X), features.anchor_kernel(), T, reg)
    return features, W, n_iter
