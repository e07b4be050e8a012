"""RBF features on k-means anchors, the nonlinear input of SePH's kernel logistic regression.

As in SePH (Lin et al., CVPR 2015) and KDLFH, every item is mapped to
``phi(x)_k = exp(-||x - a_k||^2 / (2 sigma^2))`` for anchor points ``a_k``, here chosen by
k-means, with ``sigma`` the mean distance from the training points to the anchors. The
features of ``n`` items cost ``O(n * n_anchors)`` memory, never ``n x n``.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans


def _squared_distances(X: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, clipped at 0 against round-off."""
    d2 = (
        np.einsum("ij,ij->i", X, X)[:, None]
        - 2.0 * (X @ anchors.T)
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

    def fit(self, X: np.ndarray) -> _RBFAnchorFeatures:
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

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.exp(-_squared_distances(X, self.anchors_) / (2.0 * self.sigma_**2))

    def project(self, X: np.ndarray, W: np.ndarray, b: np.ndarray, chunk: int = 4096):
        """``transform(X) @ W + b`` by blocks of rows, so memory stays ``O(chunk * n_anchors)``."""
        out = np.empty((X.shape[0], W.shape[1]))
        for start in range(0, X.shape[0], chunk):
            rows = slice(start, start + chunk)
            out[rows] = self.transform(X[rows]) @ W + b
        return out
