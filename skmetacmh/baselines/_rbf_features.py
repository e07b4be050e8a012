"""RBF features on k-means anchors, the nonlinear input of SePH's and KDLFH's hash functions.

As in SePH (Lin et al., CVPR 2015) and KDLFH, every item is mapped to
``phi(x)_k = exp(-||x - a_k||^2 / (2 sigma^2))`` for anchor points ``a_k``, here chosen by
k-means, with ``sigma`` the mean distance from the training points to the anchors. The
features of ``n`` items cost ``O(n * n_anchors)`` memory, never ``n x n``. ``X`` may be scipy
sparse (a text block): k-means and the distances ``||x||^2 - 2 x.a + ||a||^2`` then use sparse
products, and only the ``(n, n_anchors)`` features are dense.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans

from ._linear_algebra import row_slices
from ._logistic_bits import fit_logistic_bits


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


class _RBFAnchorFeatures:
    """RBF kernel features on k-means anchors (a private helper, not an estimator).

    Parameters
    ----------
    n_anchors : int
        Number of anchors; capped at the number of training rows.
    random_state : int or numpy.random.Generator-compatible seed
        Seed of the k-means initialisation.
    max_iter : int
        Lloyd iterations of k-means. A few are enough: the anchors only need to cover the data.
    """

    def __init__(self, n_anchors: int, random_state=None, max_iter: int = 20):
        self.n_anchors = n_anchors
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
        dist = np.sqrt(_squared_distances(X, self.anchors_))
        sigma = float(dist.mean())
        # A degenerate block (all rows equal) has zero distances; any positive width works.
        self.sigma_ = sigma if sigma > 0 else 1.0
        return self

    def transform(self, X) -> np.ndarray:
        return np.exp(-_squared_distances(X, self.anchors_) / (2.0 * self.sigma_**2))

    def project(self, X, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``transform(X) @ W + b`` by blocks of rows within sklearn's ``working_memory``."""
        out = np.empty((X.shape[0], W.shape[1]))
        # Per row: the distances, their exponential and two temporaries of the same size.
        for rows in row_slices(X.shape[0], 8 * 4 * len(self.anchors_)):
            out[rows] = self.transform(X[rows]) @ W + b
        return out


def fit_kernel_logistic_bits(X, targets: np.ndarray, n_anchors: int, C: float, rng):
    """RBF anchor features of ``X`` and one logistic regression per bit onto ``targets``.

    The kernel hash functions of SePH and KDLFH. ``rng`` (a ``RandomState``) draws the k-means
    seed. Returns ``(features, W, b)``: bits are ``features.project(X, W, b) > 0``.
    """
    features = _RBFAnchorFeatures(
        n_anchors, random_state=int(rng.randint(np.iinfo(np.int32).max))
    ).fit(X)
    W, b = fit_logistic_bits(features.transform(X), targets, C)
    return features, W, b
