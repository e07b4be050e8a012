"""Ridge solves with a centred data matrix that never form its Gram matrix.

DLFH's linear hash functions and CMFH's projections solve, for a data block ``X`` with column
means ``m`` (``Xc = X - 1 m^T``) and ``k`` right-hand sides ``R``,

``(Xc^T Xc + lam I) W = R``.

For a dense block, or a narrow sparse one, the hashers form the ``(d, d)`` Gram matrix once and
factorise it (the "gram" solver). For a wide sparse text block (a ``TfidfVectorizer`` output
with tens of thousands of columns) that matrix alone is ``8 d^2`` bytes (3.2 GB at
``d = 20,000``) and costs ``O(d^3)`` to factorise, so the "cg" solver runs conjugate gradients
whose only use of ``X`` is the product ``Xc^T (Xc V) + lam V``: two sparse products with the
centring as rank-one corrections (:func:`~._linear_algebra.centred_matmul`,
:func:`~._linear_algebra.centred_rmatmul`). Its memory is ``O(nnz + n k + d k)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._linear_algebra import _float64_sparse, centred_matmul, centred_rmatmul

__all__ = ["SPARSE_CG_MIN_FEATURES", "resolve_ridge_solver", "centred_ridge_cg"]

# Above this width a sparse block is solved by CG. At d = 4,096 the Gram is 134 MB and its
# Cholesky factorisation takes a few seconds on one core, so the direct solve is cheap and stays
# bit for bit what it was; the Gram's cost grows as d^2 in memory and d^3 in time while CG's
# grows as nnz, so past a few thousand columns the direct solve is the one that hurts
# (20,000 TF-IDF columns: 3.2 GB per copy, minutes of factorisation).
SPARSE_CG_MIN_FEATURES = 4096


def resolve_ridge_solver(X) -> str:
    """``"cg"`` for a scipy sparse block wider than :data:`SPARSE_CG_MIN_FEATURES`, else ``"gram"``.

    A dense block is always solved through its Gram matrix: it already takes ``8 n d`` bytes,
    and its Gram's ``O(n d^2)`` cost is paid once while CG would pay ``O(n d k)`` per iteration.
    """
    return "cg" if sp.issparse(X) and X.shape[1] > SPARSE_CG_MIN_FEATURES else "gram"


def centred_ridge_cg(
    X, mean, rhs, ridge, *, x0=None, tol=1e-6, max_iter=1000, solve_name="the ridge solve"
):
    """Solve ``((X - 1 mean^T)^T (X - 1 mean^T) + ridge I) W = rhs`` by conjugate gradients.

    The conjugate gradient method of Hestenes and Stiefel [1]_ runs on every column of ``rhs``
    at once: one recurrence per column, each with its own step sizes ``alpha_j = r_j^T r_j /
    p_j^T A p_j`` and ``beta_j``, so the result is what ``k`` separate CG runs would give, while
    the products with ``X`` are taken for all columns together (sparse times dense ``(d, k)``).
    (This is not O'Leary's block CG, which shares one Krylov space between the columns.) A
    column stops when its residual ``||rhs_j - A W_j||`` falls to ``tol * ||rhs_j||``; only the
    columns still running enter the next product.

    The operator is applied as ``Xc^T (Xc V) + ridge V`` with the centring implicit, so neither
    the ``(d, d)`` Gram matrix nor a dense copy of ``X`` is formed. Started from zero, the
    iterates stay in the range of ``Xc^T``: with ``ridge = 0`` and a singular Gram matrix they
    approach the minimum-norm solution, as a least-squares solver's would.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n, d)
        The raw block; a sparse one is converted to float64 once, not at every product.
    mean : ndarray of shape (d,)
        The column means to centre with.
    rhs : ndarray of shape (d, k) or (d,)
        Right-hand sides.
    ridge : float
        ``lam >= 0``.
    x0 : ndarray of the shape of ``rhs``, default=None
        Warm start (CMFH passes the previous sweep's solution); ``None`` starts from zero.
    tol : float, default=1e-6
        Relative residual per column at which that column stops.
    max_iter : int, default=1000
        Iterations at most; if some column has not converged by then, a
        :class:`~sklearn.exceptions.ConvergenceWarning` naming ``solve_name`` is raised and the
        last iterate is returned.
    solve_name : str
        What the solve is, for the warning (e.g. ``"DLFHHasher's text hash function"``).

    Returns
    -------
    W : ndarray of the shape of ``rhs``
    n_iter : int
        Iterations run (the slowest column's).

    References
    ----------
    .. [1] M. R. Hestenes and E. Stiefel, "Methods of conjugate gradients for solving linear
       systems", Journal of Research of the National Bureau of Standards 49(6), 1952.
    """
    if sp.issparse(X):
        X = _float64_sparse(X)
    rhs = np.asarray(rhs, dtype=np.float64)
    vector = rhs.ndim == 1
    B = rhs.reshape(-1, 1) if vector else rhs
    if B.shape[0] != X.shape[1]:
        raise ValueError(
            f"{solve_name}: rhs must have {X.shape[1]} rows (one per feature); got shape "
            f"{rhs.shape}."
        )

    def apply(V):
        return centred_rmatmul(X, mean, centred_matmul(X, mean, V)) + ridge * V

    if x0 is None:
        W = np.zeros_like(B)
        R = B.copy()
    else:
        x0 = np.asarray(x0, dtype=np.float64)
        if x0.shape != rhs.shape:
            raise ValueError(
                f"{solve_name}: the warm start x0 must have the shape of rhs, {rhs.shape}; "
                f"got {x0.shape}."
            )
        W = x0.reshape(B.shape).copy()
        R = B - apply(W)
    rhs_norm = np.linalg.norm(B, axis=0)
    threshold = tol * rhs_norm
    P = R.copy()
    rr = np.einsum("ij,ij->j", R, R)
    n_iter = 0
    while True:
        running = np.sqrt(rr) > threshold
        if not running.any() or n_iter == max_iter:
            break
        # Slicing keeps views while every column runs; fancy indexing copies (d, k_running).
        cols = slice(None) if running.all() else np.flatnonzero(running)
        Pc = P[:, cols]
        APc = apply(Pc)
        curvature = np.einsum("ij,ij->j", Pc, APc)
        # A zero curvature means a zero direction (an exactly solved column): no step.
        alpha = np.divide(rr[cols], curvature, out=np.zeros_like(curvature), where=curvature > 0)
        W[:, cols] += alpha * Pc
        Rc = R[:, cols] - alpha * APc
        R[:, cols] = Rc
        rr_new = np.einsum("ij,ij->j", Rc, Rc)
        beta = np.divide(rr_new, rr[cols], out=np.zeros_like(rr_new), where=rr[cols] > 0)
        P[:, cols] = Rc + beta * Pc
        rr[cols] = rr_new
        n_iter += 1
    if running.any():
        worst = float(np.max(np.sqrt(rr[running]) / np.maximum(rhs_norm[running], 1e-300)))
        warnings.warn(
            f"The conjugate-gradient solve of {solve_name} did not converge in "
            f"max_iter={max_iter} iterations: {int(running.sum())} of {B.shape[1]} columns "
            f"still have a relative residual above tol={tol} (largest {worst:.2e}). The "
            "last iterate is used.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return (W.ravel() if vector else W), n_iter
