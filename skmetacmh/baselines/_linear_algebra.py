"""Linear algebra shared by the linear baselines (CCA-ITQ, CVH, CMFH, SCM, DLFH).

Products with a centred data matrix, ridge-regularised covariances, the bound on how many
correlated directions two views can give, and a deterministic sign convention for eigenvectors.

A centred copy of ``X`` is never formed whole:

* a dense ``X`` is centred one block of rows at a time, the block size following scikit-learn's
  ``working_memory`` (``sklearn.utils._chunking.get_chunk_n_rows``); each block is converted to
  float64, which the eigenproblems need, so float32 input is never copied whole;
* a scipy sparse ``X`` (a bag-of-words text block) is centred implicitly: ``(X - 1 m^T)^T T =
  X^T T - m (1^T T)`` and ``(X - 1 m^T) W = X W - 1 (m^T W)`` are sparse products plus rank-one
  corrections, so nothing of size ``n x d`` is dense. The results agree with the dense path up
  to floating-point rounding (the sums are taken in another order).

Besides the input, memory then grows with ``n`` only through ``(n, k)`` products.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils._chunking import get_chunk_n_rows

__all__ = [
    "row_slices",
    "column_means",
    "centred_blocks",
    "centred_matmul",
    "centred_rmatmul",
    "centred_column_sums",
    "centred_gram",
    "regularised_covariance",
    "paired_covariances",
    "check_n_bits_for_correlated_directions",
    "check_covariance_width",
    "MAX_COVARIANCE_FEATURES",
    "sign_flips",
]

# CCA-ITQ, CVH and SCM whiten each view with its dense (d, d) covariance (an eigenproblem or an
# inverse square root: nothing sparse survives it). Above this width one float64 copy is 2 GiB,
# SCM and CVH hold several, and the eigensolver's O(d^3) runs for tens of minutes, so a
# TF-IDF vocabulary that wide is refused with what to do instead, not left to exhaust memory.
MAX_COVARIANCE_FEATURES = 16_384


def row_slices(n_rows: int, row_bytes: int):
    """Slices of consecutive rows, each block using at most sklearn's ``working_memory``."""
    step = get_chunk_n_rows(row_bytes=max(int(row_bytes), 1), max_n_rows=max(n_rows, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _float64_sparse(X):
    # Sparse products accumulate in the input dtype: float64 data, a copy of the nonzeros only.
    return X if X.dtype == np.float64 else X.astype(np.float64)


def _dense(A) -> np.ndarray:
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def column_means(X) -> np.ndarray:
    """Float64 column means of ``X``, dense or sparse (no float64 copy of a float32 ``X``)."""
    if sp.issparse(X):
        return np.asarray(_float64_sparse(X).mean(axis=0)).ravel()
    return np.mean(X, axis=0, dtype=np.float64)


def centred_blocks(X, mean: np.ndarray, row_width: int | None = None):
    """Yield ``(rows, X[rows] - mean)`` as float64 for a dense ``X``, one block at a time.

    ``row_width`` is the number of float64 values held per row while a block is used (the
    block's own columns by default).
    """
    n, d = X.shape
    for rows in row_slices(n, 8 * (d if row_width is None else row_width)):
        block = np.array(X[rows], dtype=np.float64)
        block -= mean
        yield rows, block


def centred_matmul(X, mean: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``(X - mean) @ W`` without forming ``X - mean``; ``W`` is ``(d, k)`` or ``(d,)``."""
    if sp.issparse(X):
        return _dense(_float64_sparse(X) @ W) - mean @ W
    out = np.empty((X.shape[0],) + W.shape[1:])
    for rows, block in centred_blocks(X, mean):
        out[rows] = block @ W
    return out


def centred_rmatmul(X, mean: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``(X - mean).T @ A`` for a dense ``A`` of shape ``(n, k)`` or ``(n,)``."""
    if sp.issparse(X):
        XtA = _dense(_float64_sparse(X).T @ A)
        return XtA - np.multiply.outer(mean, A.sum(axis=0))
    out = np.zeros((X.shape[1],) + A.shape[1:])
    for rows, block in centred_blocks(X, mean):
        out += block.T @ A[rows]
    return out


def centred_column_sums(X, mean: np.ndarray) -> np.ndarray:
    """Column sums of ``X - mean`` (zero up to rounding when ``mean`` is ``X``'s own mean)."""
    if sp.issparse(X):
        return np.asarray(_float64_sparse(X).sum(axis=0)).ravel() - X.shape[0] * mean
    out = np.zeros(X.shape[1])
    for _, block in centred_blocks(X, mean):
        out += block.sum(axis=0)
    return out


def _implicitly_centred_cross(X, mean_x, T, mean_t) -> np.ndarray:
    """``(X - 1 mean_x^T)^T (T - 1 mean_t^T)`` from the raw product ``X^T T``.

    Expanded as ``X^T T - s_x mean_t^T - mean_x s_t^T + n mean_x mean_t^T`` with the column sums
    ``s``: exact for any means, not only for the blocks' own.
    """
    X = _float64_sparse(X) if sp.issparse(X) else X
    T = _float64_sparse(T) if sp.issparse(T) else T
    mean_t = np.broadcast_to(np.asarray(mean_t, dtype=np.float64), (T.shape[1],))
    XtT = _dense(T.T @ X).T if sp.issparse(T) and not sp.issparse(X) else _dense(X.T @ T)
    sums_x = np.asarray(X.sum(axis=0, dtype=np.float64)).ravel()
    sums_t = np.asarray(T.sum(axis=0, dtype=np.float64)).ravel()
    n = X.shape[0]
    return XtT - np.outer(sums_x, mean_t) - np.outer(mean_x, sums_t) + n * np.outer(mean_x, mean_t)


def centred_gram(X, mean_x: np.ndarray, T=None, mean_t=None) -> np.ndarray:
    """``(X - mean_x).T @ (T - mean_t)``; ``T=None`` gives ``X``'s Gram matrix.

    ``T`` may also be a float64 array that is already centred (pass ``mean_t=0``), such as a
    latent factor. Either matrix may be scipy sparse (centred implicitly).
    """
    if T is None:
        if sp.issparse(X):
            return _implicitly_centred_cross(X, mean_x, X, mean_x)
        gram = np.zeros((X.shape[1], X.shape[1]))
        for _, block in centred_blocks(X, mean_x):
            gram += block.T @ block
        return gram
    if sp.issparse(X) or sp.issparse(T):
        return _implicitly_centred_cross(X, mean_x, T, mean_t)
    gram = np.zeros((X.shape[1], T.shape[1]))
    for rows, block in centred_blocks(X, mean_x, X.shape[1] + T.shape[1]):
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


def check_covariance_width(n_features: int, hasher: str, block: str) -> None:
    """Refuse a block too wide for the ``(d, d)`` covariance that ``hasher`` must form."""
    if n_features <= MAX_COVARIANCE_FEATURES:
        return
    gigabytes = 8 * n_features**2 / 2**30
    raise ValueError(
        f"{hasher} whitens the {block} block with its dense (d, d) covariance, which no sparse "
        f"algebra avoids: the {block} block has d={n_features} columns, a {gigabytes:.1f} GiB "
        f"array per copy and O(d^3) work; {hasher} accepts at most {MAX_COVARIANCE_FEATURES}. "
        "Make the block narrower (for text, TfidfVectorizer(max_features=...)), project it in "
        "the pipeline (TruncatedSVD), or use a hasher that never forms that matrix: DLFHHasher, "
        "CMFHHasher, SePHHasher or MetaCMHHasher."
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
