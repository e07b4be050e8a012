"""Linear algebra shared by the unsupervised linear baselines (CCA-ITQ, CVH, CMFH).

Centring, ridge-regularised covariances, the bound on how many correlated directions two views
can give, and a deterministic sign convention for eigenvectors. Everything here costs memory
linear in the number of samples: only ``(d, d)`` matrices are formed, never ``(n, n)``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_float64",
    "centre",
    "regularised_covariance",
    "cross_covariance",
    "check_n_bits_for_correlated_directions",
    "sign_flips",
]


def as_float64(X) -> np.ndarray:
    """Return ``X`` as a float64 array; the eigenproblems are ill-conditioned in float32."""
    return np.asarray(X, dtype=np.float64)


def centre(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X - mean, mean)`` with the column means of ``X`` (a new float64 array)."""
    X = as_float64(X)
    mean = X.mean(axis=0)
    return X - mean, mean


def regularised_covariance(Xc: np.ndarray, reg: float) -> np.ndarray:
    """Covariance ``Xc.T @ Xc / n`` plus a ridge of ``reg`` times its mean eigenvalue.

    Scaling the ridge by ``trace(C) / d`` makes ``reg`` independent of the units of the
    features. A view whose features are all constant has zero trace; it then gets ``reg * I``
    so that the matrix stays positive definite.
    """
    n, d = Xc.shape
    C = Xc.T @ Xc / n
    mean_eigenvalue = np.trace(C) / d
    ridge = reg * (mean_eigenvalue if mean_eigenvalue > 0 else 1.0)
    C[np.diag_indices_from(C)] += ridge
    return C


def cross_covariance(Xc: np.ndarray, Tc: np.ndarray) -> np.ndarray:
    """Cross-covariance ``Xc.T @ Tc / n`` of two centred views with paired rows."""
    return Xc.T @ Tc / Xc.shape[0]


def check_n_bits_for_correlated_directions(
    n_bits: int, n_image_features: int, n_text_features: int, estimator: str, reason: str
) -> None:
    """Raise if two views cannot give ``n_bits`` correlated directions.

    Two views with ``d_image`` and ``d_text`` features have at most ``min(d_image, d_text)``
    pairs of canonical directions; a further direction would be correlated with nothing.
    """
    limit = min(n_image_features, n_text_features)
    if n_bits > limit:
        raise ValueError(
            f"{estimator} can produce at most min(n_image_features, n_text_features) = "
            f"min({n_image_features}, {n_text_features}) = {limit} bits, because {reason}; "
            f"got n_bits={n_bits}. Choose n_bits <= {limit}, or use a method whose code length "
            "is not tied to the feature dimensions (e.g. CMFHHasher)."
        )


def sign_flips(W: np.ndarray) -> np.ndarray:
    """Signs (+1/-1) that make each column's largest-magnitude entry positive.

    Eigen- and singular vectors are defined up to sign, and which sign a LAPACK routine returns
    can change with the library build; multiplying by these signs fixes it, so that codes are
    reproducible across machines.
    """
    rows = np.argmax(np.abs(W), axis=0)
    signs = np.sign(W[rows, np.arange(W.shape[1])])
    signs[signs == 0] = 1.0
    return signs
