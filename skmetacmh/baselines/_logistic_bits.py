"""One L2-regularised logistic regression per bit, solved jointly.

SePH (Lin et al., CVPR 2015) fits a kernel logistic regression from each modality's features to
each bit of the learned codes. The bits' problems are independent, so their sum is minimised in
one L-BFGS run over all weight vectors at once: the same solutions as ``n_bits`` separate
``sklearn.linear_model.LogisticRegression(C=C)`` fits (loss ``C * sum log(1 + exp(-t f)) +
||w||^2 / 2``, intercept not penalised), with matrix products in place of a Python loop.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit


def fit_logistic_bits(F: np.ndarray, T: np.ndarray, C: float, max_iter: int = 500):
    """Weights ``(W, b)`` with ``sign(F W + b)`` predicting the ``{-1, +1}`` targets ``T``.

    Parameters
    ----------
    F : ndarray of shape (n, d)
        Features.
    T : ndarray of shape (n, n_bits)
        Targets in {-1, +1}.
    C : float
        Inverse regularisation strength, as in scikit-learn.
    max_iter : int
        L-BFGS iterations.
    """
    n, d = F.shape
    k = T.shape[1]
    # Centring the features leaves the solution unchanged (the intercept absorbs the shift and
    # is not penalised) but conditions L-BFGS far better for RBF features, which share a large
    # positive mean.
    mean = F.mean(axis=0)
    F = F - mean

    def loss_grad(theta):
        W = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        margin = T * (F @ W + b)
        loss = -C * log_expit(margin).sum() + 0.5 * np.sum(W * W)
        # d/df log(1 + exp(-t f)) = -t * sigmoid(-t f)
        G = -C * T * expit(-margin)
        grad_W = F.T @ G + W
        grad_b = G.sum(axis=0)
        return loss, np.concatenate([grad_W.ravel(), grad_b])

    theta0 = np.zeros(d * k + k)
    res = minimize(loss_grad, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    W, b = res.x[: d * k].reshape(d, k), res.x[d * k :]
    return W, b - mean @ W
