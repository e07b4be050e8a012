"""Pairwise label similarity without the ``n x n`` matrix.

Two items are relevant when their label rows share a 1: ``S = 1[Y Y^T > 0]``. The supervised
baselines never build ``S`` for the whole training set; they use one of two exact structures:

* **cosine similarity** of the label rows, ``S~ = 2 Yn Yn^T - 1`` with ``Yn`` the row-normalised
  labels (SCM, Zhang & Li, AAAI 2014). It is a rank ``n_classes + 1`` matrix, so products such as
  ``X^T S~ Z`` cost ``O(n d n_classes)``. For single-label data (at most one label per row) it
  equals ``2 S - 1`` exactly; for multi-label data its sign still says who is relevant
  (``S~_ij > -1`` iff ``S_ij = 1``) and its value grows with the share of common labels.
  Items with no label have a zero row in ``Yn`` and are dissimilar (``-1``) to everything.
* **blocks** of ``S`` itself, rows ``A`` against columns ``B``, computed from ``Y[A] Y[B]^T``
  when an algorithm needs the 0/1 values (DLFH): memory ``|A| x |B|``.
"""

from __future__ import annotations

import numpy as np

from ._linear_algebra import centred_column_sums, centred_rmatmul


def normalized_labels(Y: np.ndarray) -> np.ndarray:
    """Rows of ``Y`` scaled to unit length; all-zero rows stay zero."""
    Y = np.asarray(Y, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", Y, Y))
    norms[norms == 0] = 1.0
    return Y / norms[:, None]


def relevance_block(Y_rows: np.ndarray, Y_cols: np.ndarray) -> np.ndarray:
    """The block ``1[Y_rows Y_cols^T > 0]`` of the relevance matrix, as float64."""
    Y_rows = np.asarray(Y_rows, dtype=np.float64)
    Y_cols = np.asarray(Y_cols, dtype=np.float64)
    return (Y_rows @ Y_cols.T > 0).astype(np.float64)


def cosine_cross_product(A, mean_a, B, mean_b, Yn: np.ndarray) -> np.ndarray:
    """``Ac^T S~ Bc`` with ``S~ = 2 Yn Yn^T - 1`` and ``Ac = A - mean_a``, in ``O(n d n_classes)``.

    ``Ac^T (2 Yn Yn^T - 1 1^T) Bc = 2 (Ac^T Yn)(Bc^T Yn)^T - (Ac^T 1)(Bc^T 1)^T``; the centring
    happens inside the products (:mod:`._linear_algebra`), so ``A`` and ``B`` may be sparse.
    """
    A_Yn, B_Yn = centred_rmatmul(A, mean_a, Yn), centred_rmatmul(B, mean_b, Yn)
    sums_a, sums_b = centred_column_sums(A, mean_a), centred_column_sums(B, mean_b)
    return 2.0 * A_Yn @ B_Yn.T - np.outer(sums_a, sums_b)
