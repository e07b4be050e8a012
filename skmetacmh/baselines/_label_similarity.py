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


def cosine_cross_product(A: np.ndarray, B: np.ndarray, Yn: np.ndarray) -> np.ndarray:
    """``A^T S~ B`` with ``S~ = 2 Yn Yn^T - 1``, in ``O(n (d_a + d_b) n_classes)``.

    ``A^T (2 Yn Yn^T - 1 1^T) B = 2 (A^T Yn)(B^T Yn)^T - (A^T 1)(B^T 1)^T``.
    """
    return 2.0 * (A.T @ Yn) @ (B.T @ Yn).T - np.outer(A.sum(axis=0), B.sum(axis=0))
