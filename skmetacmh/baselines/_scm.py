"""SCM: semantic correlation maximisation hashing (Zhang & Li, AAAI 2014).

SCM learns one linear projection per modality whose sign bits reproduce the label similarity:
``sign(X Wx) sign(Z Wz)^T ~ n_bits * S~`` with ``S~ = 2 Yn Yn^T - 1`` the cosine similarity of
the labels (see :mod:`skmetacmh.baselines._label_similarity`). Relaxing the signs turns this into
maximising ``tr(Wx^T X^T S~ Z Wz)`` under CCA-like constraints ``Wx^T X^T X Wx = I``, which needs
only the ``d_x x d_z`` matrix ``X^T S~ Z``: it is computed from the low-rank factors of ``S~`` in
``O(n d n_classes)`` time and the ``n x n`` similarity is never formed.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.linalg
from sklearn.utils._param_validation import Interval, StrOptions

from ._docstring import SHARED_DOCS, Substitution
from ._label_similarity import cosine_cross_product, normalized_labels
from ._linear_algebra import (
    centred_gram,
    centred_matmul,
    centred_rmatmul,
    check_covariance_width,
    column_means,
    sign_flips,
)
from ._linear_projection import _LinearProjectionHasher

__all__ = ["SCMHasher"]


def _inverse_sqrt(C: np.ndarray) -> np.ndarray:
    """``C^{-1/2}`` of a symmetric positive definite matrix, eigenvalues floored for safety."""
    s, E = np.linalg.eigh(C)
    floor = max(float(s.max()), 1.0) * 1e-12
    return (E / np.sqrt(np.maximum(s, floor))) @ E.T


def _top_correlation_pairs(Wx_white, Wz_white, Cxz, n_pairs):
    """Leading solutions of ``max wx^T Cxz wz`` s.t. ``wx^T Cxx wx = wz^T Czz wz = 1``.

    The generalised eigenproblem of SCM-Orth (Zhang & Li, AAAI 2014),
    ``Cxz Czz^{-1} Czx wx = lambda^2 Cxx wx``, solved by whitening both sides
    (``Wx_white = Cxx^{-1/2}``) and taking the SVD of the whitened cross matrix; ``wz`` follows
    as ``Czz^{-1} Czx wx / lambda``. Returns ``(Wx, Wz, singular_values)``.
    """
    M = Wx_white @ Cxz @ Wz_white
    try:
        U, sigma, Vt = np.linalg.svd(M, full_matrices=False)
    except np.linalg.LinAlgError:
        # The divide-and-conquer driver occasionally fails to converge on finite input; the
        # slower QR-iteration driver does not.
        U, sigma, Vt = scipy.linalg.svd(M, full_matrices=False, lapack_driver="gesvd")
    # Fix each singular pair's sign so that the result does not depend on the LAPACK build.
    signs = sign_flips(U)
    U, Vt = U * signs, Vt * signs[:, None]
    return Wx_white @ U[:, :n_pairs], Wz_white @ Vt[:n_pairs].T, sigma[:n_pairs]


@Substitution(**SHARED_DOCS)
class SCMHasher(_LinearProjectionHasher):
    """Semantic correlation maximisation (SCM) cross-modal hashing.

    Supervised, linear and fast: training cost is linear in the number of items. Two variants
    from the paper:

    * ``"orthogonal"`` (SCM-Orth): all bits at once from the generalised eigenproblem
      ``Cxz Czz^{-1} Czx wx = lambda^2 Cxx wx`` with ``Cxz = X^T S~ Z``; the projections are
      mutually orthogonal in the ``Cxx`` metric. Only ``rank(X^T S~ Z) <= n_classes - 1``
      directions (after centring) carry label correlation; further bits come from directions
      of zero correlation and add noise, so with few classes SCM-Orth degrades as codes grow
      (``correlations_`` shows the zeros; :ref:`baseline_parameters` has measurements). Prefer
      ``"sequential"``.
    * ``"sequential"`` (SCM-Seq): one bit at a time; after each bit the residual
      ``Cxz <- Cxz - (X^T hx)(Z^T hz)^T`` removes the similarity the learned bit pair
      ``hx = sign(X wx)``, ``hz = sign(Z wz)`` already explains (``Cxz`` starts at
      ``n_bits * X^T S~ Z``). As in the authors' code, if a bit's correlation would rise instead of
      fall, the remaining bits fall back to the plain CCA directions.

    The similarity ``S~ = 2 Yn Yn^T - 1`` is the cosine of the label vectors (``Yn`` the
    row-normalised labels): ``2 S - 1`` exactly for single-label data, and for multi-label data a
    graded similarity that is ``> -1`` exactly for the pairs sharing a label. It enters only
    through its low-rank factors, so memory is ``O(n (d_x + d_z + n_classes))``.
    SCM is deterministic, so it has no ``random_state``. {sparse_text} {covariance_limit}

    Parameters
    ----------
    {n_bits}
    {n_image_features}
    variant : {"sequential", "orthogonal"}, default="sequential"
        SCM-Seq (the more accurate variant in the paper) or SCM-Orth.
        ``"orthogonal"`` needs ``n_bits <= min(n_image_features, n_text_features)``.
    reg : float, default=1e-6
        Ridge added to the diagonal of each modality's covariance ``X^T X`` (the authors' code
        uses ``1e-6``). Raise it for collinear or nearly constant features.
    {n_jobs}

    Attributes
    ----------
    {linear_attributes} The paper assumes centred features.
    image_projection_ : ndarray of shape (n_image_features, n_bits)
        Image bits are ``(X_image - image_mean_) @ image_projection_ > 0``.
    text_projection_ : ndarray of shape (n_text_features_, n_bits)
        The same for texts.
    correlations_ : ndarray of shape (n_bits,)
        The singular value (relaxed correlation with the label similarity) behind each bit;
        for ``"sequential"`` the value on the residual when that bit was learned, ``nan`` for
        bits that fell back to CCA.
    n_fallback_bits_ : int
        Number of sequential bits that fell back to CCA directions (0 for ``"orthogonal"``).
    {base_attributes}

    See Also
    --------
    SePHHasher : Supervised hashing through a KL divergence to the label affinity.
    DLFHHasher : Supervised discrete latent factor hashing.

    References
    ----------
    .. [1] D. Zhang and W.-J. Li, "Large-scale supervised multimodal hashing with semantic
       correlation maximization", AAAI 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.baselines import SCMHasher
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(np.arange(4), 25)
    >>> centres = rng.normal(size=(4, 12))
    >>> X = centres[y] + 0.3 * rng.normal(size=(100, 12))
    >>> h = SCMHasher(n_bits=8, n_image_features=6).fit(X, y)
    >>> h.encode(X[:3, :6], modality="image").shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        **_LinearProjectionHasher._parameter_constraints,
        "variant": [StrOptions({"sequential", "orthogonal"})],
        "reg": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self, n_bits=32, n_image_features=None, *, variant="sequential", reg=1e-6, n_jobs=None
    ):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.variant = variant
        self.reg = reg
        self.n_jobs = n_jobs

    def _fit(self, X_image, X_text, Y):
        check_covariance_width(X_image.shape[1], type(self).__name__, "image")
        check_covariance_width(X_text.shape[1], type(self).__name__, "text")
        rank = min(X_image.shape[1], X_text.shape[1])
        if self.variant == "orthogonal" and self.n_bits > rank:
            raise ValueError(
                f"SCMHasher(variant='orthogonal') learns at most min(n_image_features, "
                f"n_text_features) = {rank} orthogonal projections; got n_bits={self.n_bits}. "
                "Use variant='sequential' or fewer bits."
            )
        # X and Z stand for the centred blocks; they are centred inside each product.
        X, mx = X_image, column_means(X_image)
        Z, mz = X_text, column_means(X_text)
        self.image_mean_, self.text_mean_ = mx, mz
        Yn = normalized_labels(Y)

        Cxz = cosine_cross_product(X, mx, Z, mz, Yn)
        Wx_white = _inverse_sqrt(centred_gram(X, mx) + self.reg * np.eye(X.shape[1]))
        Wz_white = _inverse_sqrt(centred_gram(Z, mz) + self.reg * np.eye(Z.shape[1]))

        if self.variant == "orthogonal":
            Wx, Wz, corr = _top_correlation_pairs(Wx_white, Wz_white, Cxz, self.n_bits)
            self.n_fallback_bits_ = 0
        else:
            Wx, Wz, corr = self._fit_sequential(X, mx, Z, mz, Cxz, Wx_white, Wz_white)
        self.image_projection_ = Wx
        self.text_projection_ = Wz
        self.correlations_ = corr

    def _fit_sequential(self, X, mx, Z, mz, Cxz, Wx_white, Wz_white):
        """SCM-Seq (Zhang & Li, AAAI 2014): one bit per residual update.

        ``X`` and ``Z`` are the raw blocks and ``mx``, ``mz`` their means.
        """
        b = self.n_bits
        Wx = np.zeros((X.shape[1], b))
        Wz = np.zeros((Z.shape[1], b))
        corr = np.full(b, np.nan)
        residual = b * Cxz
        last = np.inf
        fallback_from = b
        for t in range(b):
            wx, wz, sigma = _top_correlation_pairs(Wx_white, Wz_white, residual, 1)
            if sigma[0] > last:
                fallback_from = t
                break
            last = sigma[0]
            Wx[:, t], Wz[:, t], corr[t] = wx[:, 0], wz[:, 0], sigma[0]
            hx = np.where(centred_matmul(X, mx, wx[:, 0]) > 0, 1.0, -1.0)
            hz = np.where(centred_matmul(Z, mz, wz[:, 0]) > 0, 1.0, -1.0)
            residual -= np.outer(centred_rmatmul(X, mx, hx), centred_rmatmul(Z, mz, hz))
        if fallback_from < b:
            # The authors' fallback: plain CCA directions (Cxz = X^T Z) for the remaining bits.
            n_cca = min(b - fallback_from, min(X.shape[1], Z.shape[1]))
            cross = centred_gram(X, mx, Z, mz)
            cx, cz, _ = _top_correlation_pairs(Wx_white, Wz_white, cross, n_cca)
            Wx[:, fallback_from : fallback_from + n_cca] = cx
            Wz[:, fallback_from : fallback_from + n_cca] = cz
            # Bits beyond the CCA rank reuse CCA directions cyclically (duplicate bits) rather
            # than emit constant bits.
            for t in range(fallback_from + n_cca, b):
                Wx[:, t] = cx[:, (t - fallback_from) % n_cca]
                Wz[:, t] = cz[:, (t - fallback_from) % n_cca]
        self.n_fallback_bits_ = b - fallback_from
        return Wx, Wz, corr
