"""Linear algebra shared by the unsupervised linear baselines (CCA-ITQ, CVH, CMFH).

Products with a centred data matrix, ridge-regularised covariances, the bound on how many
correlated directions two views can give, and a deterministic sign convention for eigenvectors.

The data are centred one block of rows at a time, so a fit never holds a centred copy of ``X``:
besides the input, memory grows with ``n`` only through ``(n, n_bits)`` arrays. Each block is
converted to float64, which the eigenproblems need, so float32 input is never copied whole.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "column_means",
    "centred_blocks",
    "centred_matmul",
    "centred_gram",
    "regularised_covariance",
    "paired_covariances",
    "check_n_bits_for_correlated_directions",
    "sign_flips",
]

# Bytes of float64 per block of centred rows: large enough for BLAS to run at full speed
# (thousands of rows for typical widths), small next to any data set worth chunking.
_BLOCK_BYTES = 1 << 23


def _rows_per_block(row_width: int) -> int:
    return max(1, _BLOCK_BYTES // (8 * max(row_width, 1)))


def column_means(X) -> np.ndarray:
    """Float64 column means of ``X`` (no float64 copy of a float32 ``X``)."""
    return np.mean(X, axis=0, dtype=np.float64)


def centred_blocks(X, mean: np.ndarray, step: int | None = None):
    """Yield ``(rows, X[rows] - mean)`` as float64, one block of ``step`` rows at a time."""
    n, d = X.shape
    step = _rows_per_block(d) if step is None else step
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        block = np.array(X[rows], dtype=np.float64)
        block -= mean
        yield rows, block


def centred_matmul(X, mean: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``(X - mean) @ W`` without forming ``X - mean`` whole."""
    out = np.empty((X.shape[0], W.shape[1]))
    for rows, block in centred_blocks(X, mean):
        out[rows] = block @ W
    return out


def centred_gram(X, mean_x: np.ndarray, T=None, mean_t=None) -> np.ndarray:
    """``(X - mean_x).T @ (T - mean_t)``, by blocks of rows; ``T=None`` gives ``X``'s Gram matrix.

    ``T`` may also be a float64 array that is already centred (pass ``mean_t=0``), such as a
    latent factor.
    """
    if T is None:
        gram = np.zeros((X.shape[1], X.shape[1]))
        for _, block in centred_blocks(X, mean_x):
            gram += block.T @ block
        return gram
    gram = np.zeros((X.shape[1], T.shape[1]))
    for rows, block in centred_blocks(X, mean_x, _rows_per_block(X.shape[1] + T.shape[1])):
        gram += block.T @ (np.asarray(T[rows], dtype=np.float64) - mean_t)
    return gram


def regularised_covariance(gram: np.ndarray, n_samples: int, reg: float) -> np.ndarray:
    """Covariance ``gram / n`` plus a ridge of ``reg`` times its mean eigenvalue.

    Scaling the ridge by ``trace(C) / d`` makes ``reg`` independent of the units of the
    features. A view whose features are all constant has zero trace; it then gets ``reg * I``
    so that the matrix stays positive definite.
    """
    C = gram / n_samples
    mean_eigenvalue = np.trace(C) / C.shape[0]
    C[np.diag_indices_from(C)] += reg * (mean_eigenvalue if mean_eigenvalue > 0 else 1.0)
    return C


def paired_covariances(X_image, X_text, reg: float):
    """Column means and covariances of two views with paired rows.

    Returns
    -------
    mean_image, mean_text : ndarray
    C_ii, C_tt : ndarray
        Each view's covariance with the relative ridge of :func:`regularised_covariance`.
    C_it : ndarray of shape (d_image, d_text)
        Cross-covariance (no ridge).
    """
    n = X_image.shape[0]
    mean_image, mean_text = column_means(X_image), column_means(X_text)
    C_ii = regularised_covariance(centred_gram(X_image, mean_image), n, reg)
    C_tt = regularised_covariance(centred_gram(X_text, mean_text), n, reg)
    C_it = centred_gram(X_image, mean_image, X_text, mean_text) / n
    return mean_image, mean_text, C_ii, C_tt, C_it


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
