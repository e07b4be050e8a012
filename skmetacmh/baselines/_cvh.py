"""CVH: cross-view hashing by a generalised eigenvalue problem over the views.

Kumar and Udupa learn one linear hash function per view so that the codes of an object's views
agree, relaxing the binary problem into a generalised eigenproblem. For two views whose rows are
paired (each object similar to itself across the views), it is the eigenproblem written out in
:func:`_cross_view_eigenproblem`; its solutions are the canonical directions of the two views.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.linalg import eigh
from sklearn.utils._param_validation import Interval

from .._base import UnsupervisedHasherMixin
from ._docstring import SHARED_DOCS, Substitution
from ._linear_algebra import (
    check_covariance_width,
    check_n_bits_for_correlated_directions,
    paired_covariances,
    sign_flips,
)
from ._linear_projection import _LinearProjectionHasher

__all__ = ["CVHHasher"]


def _cross_view_eigenproblem(C_11, C_22, C_12):
    """The matrices ``(A, B)`` of CVH's relaxed problem ``A a = lambda B a`` for two views.

    CVH (Kumar and Udupa 2011) minimises the cross-view disagreement of the relaxed
    codes, ``sum_i || A_1^T x_i - A_2^T t_i ||^2`` for paired training objects, subject to
    uncorrelated unit-variance bits, ``A_1^T C_11 A_1 + A_2^T C_22 A_2 = I``. Writing
    ``a = [a_1; a_2]`` turns this into the generalised eigenproblem

        [[C_11, -C_12], [-C_21, C_22]] a = lambda [[C_11, 0], [0, C_22]] a,

    whose smallest eigenvalues give the hash directions. Its eigenvalues are ``1 - rho`` and
    ``1 + rho`` for the canonical correlations ``rho`` (and 1 for directions one view cannot
    match), so the ``k`` smallest are the ``k`` most correlated canonical pairs. ``C_11`` and
    ``C_22`` carry the ridge ``reg * trace(C) / d`` on both sides, which keeps ``B``
    positive definite when a view has collinear features or more features than samples.
    """
    d_1 = C_11.shape[0]
    B = np.zeros((d_1 + C_22.shape[0],) * 2)
    B[:d_1, :d_1] = C_11
    B[d_1:, d_1:] = C_22
    A = B.copy()
    A[:d_1, d_1:] = -C_12
    A[d_1:, :d_1] = -C_12.T
    return A, B


@Substitution(**SHARED_DOCS)
class CVHHasher(UnsupervisedHasherMixin, _LinearProjectionHasher):
    """Cross-view hashing (CVH): per-view linear hash functions from a generalised eigenproblem.

    Each view is centred; the ``n_bits`` eigenvectors of the cross-view generalised eigenproblem
    with the smallest eigenvalues give one projection per view, and a bit is the sign of a
    projection (thresholding at the training mean, as centring makes the mean zero). With two
    paired views the similarity between objects is the identity (each object is similar to its
    own other view), so CVH needs no labels: ``y`` is only stored as the labels of the retrieval
    database.

    Parameters
    ----------
    {n_bits}
        At most ``min(n_image_features, n_text_features)``: beyond that the eigenproblem only
        has directions that one view cannot match.
    {n_image_features}
    reg : float, default=1e-4
        Ridge added to each view's covariance on both sides of the eigenproblem, relative to its
        mean eigenvalue (``C + reg * trace(C) / d * I``).
    {n_jobs}

    Attributes
    ----------
    {linear_attributes}
    image_projection_ : ndarray of shape (n_image_features, n_bits)
        Image hash directions ``A_1``: bits are ``(X_image - image_mean_) @ A_1 > 0``.
    text_projection_ : ndarray of shape (n_text_features_, n_bits)
        Text hash directions ``A_2``.
    eigenvalues_ : ndarray of shape (n_bits,)
        The smallest generalised eigenvalues, ascending; ``1 - eigenvalues_`` are the canonical
        correlations of the bits.
    {base_attributes}

    See Also
    --------
    CCAITQHasher : The same directions, followed by a learned rotation (ITQ).
    CMFHHasher : A shared latent factor learned by collective matrix factorisation.

    Notes
    -----
    CVH is deterministic (a dense symmetric eigensolver, with eigenvector signs fixed), so it has
    no ``random_state``. {sparse_text} The eigenproblem is dense, of size
    ``n_image_features + n_text_features_``, and refused above 16,384 (2 GiB per copy) with a
    ``ValueError`` that says what to do instead.

    For two paired views Kumar and Udupa's relaxation is CCA, solved here as
    ``C_it C_tt^-1 C_ti a = lambda C_ii a``. The BMC-SDNU toolbox (``CVHtrainCCA.m`` at
    0196e313; no authors' code is public) drops the inverse. On the Octave cross-check
    (:doc:`/crosscheck`) this hasher equals that code with the inverse restored to 0.001 mAP in
    all 12 cells, and differs from it as published by up to 0.035.

    References
    ----------
    .. [1] S. Kumar and R. Udupa, "Learning hash functions for cross-view similarity search",
       IJCAI 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.baselines import CVHHasher
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((200, 4))
    >>> X = np.hstack([latent @ rng.standard_normal((4, 10)), latent @ rng.standard_normal((4, 6))])
    >>> y = (latent[:, 0] > 0).astype(int)
    >>> hasher = CVHHasher(n_bits=4, n_image_features=10).fit(X, y)
    >>> hasher.encode(X[:3, 10:], modality="text").shape
    (3, 4)
    """

    _parameter_constraints = {
        **_LinearProjectionHasher._parameter_constraints,
        "reg": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_bits=32, n_image_features=None, *, reg=1e-4, n_jobs=None):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.reg = reg
        self.n_jobs = n_jobs

    def _fit(self, X_image, X_text, Y):
        # The cross-view eigenproblem is over both views stacked: (d_image + d_text)^2.
        check_covariance_width(
            X_image.shape[1] + X_text.shape[1], type(self).__name__, "image + text"
        )
        d_1 = X_image.shape[1]
        check_n_bits_for_correlated_directions(
            self.n_bits,
            d_1,
            X_text.shape[1],
            type(self).__name__,
            "with two views the cross-view eigenproblem has at most min(d_image, d_text) "
            "directions that both views share",
        )
        self.image_mean_, self.text_mean_, C_11, C_22, C_12 = paired_covariances(
            X_image, X_text, self.reg
        )
        A, B = _cross_view_eigenproblem(C_11, C_22, C_12)
        eigenvalues, vectors = eigh(A, B, subset_by_index=[0, self.n_bits - 1])
        vectors = vectors * sign_flips(vectors)
        self.eigenvalues_ = eigenvalues
        self.image_projection_ = vectors[:d_1]
        self.text_projection_ = vectors[d_1:]
