"""The linear supervised floor of the MetaCMH ablation, as a hasher the benchmark can score."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import Interval

from .._base import BaseCrossModalHasher

__all__ = ["_RidgeFloorHasher"]


class _RidgeFloorHasher(BaseCrossModalHasher):
    """Ridge regression of each modality onto centred labels, then one shared projection.

    The floor a deep cross-modal hasher has to clear (METHOD.md): a linear model per modality
    predicts the label vector, and a random Gaussian projection of that prediction, shared by
    both modalities, gives the bits (a sign random projection, Charikar, STOC 2002). With
    ``balanced=True`` every class weighs the same in the regression, as the class-balanced
    pair weights do in MetaCMH.

    Parameters
    ----------
    n_bits : int, default=32
        Code length.
    n_image_features : int, default=None
        Columns of ``X`` that form the image block.
    alpha : float, default=1.0
        Ridge penalty of :class:`~sklearn.linear_model.Ridge`.
    balanced : bool, default=True
        Weight each item by the inverse size of its classes, so that every class weighs the
        same; ``False`` weighs every item the same.
    random_state : int, RandomState instance or None, default=None
        Seed of the shared projection.

    Attributes
    ----------
    models_ : dict
        ``{"image": Ridge, "text": Ridge}``, fitted.
    projection_ : ndarray of shape (n_classes, n_bits)
        The shared projection of the predicted labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh._bench._ridge_floor import _RidgeFloorHasher
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 20)
    >>> X = np.eye(3)[y] @ rng.standard_normal((3, 10)) + rng.standard_normal((60, 10))
    >>> hasher = _RidgeFloorHasher(n_bits=8, n_image_features=6, random_state=0).fit(X, y)
    >>> hasher.transform(X).shape
    (60, 16)
    """

    _parameter_constraints = {
        **BaseCrossModalHasher._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "balanced": ["boolean"],
    }

    def __init__(
        self, n_bits=32, n_image_features=None, *, alpha=1.0, balanced=True, random_state=None
    ):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.alpha = alpha
        self.balanced = balanced
        self.random_state = random_state

    def _fit(self, X_image, X_text, Y):
        Y = np.asarray(Y, dtype=np.float64)
        counts = Y.sum(axis=0)
        if self.balanced:
            # An unlabelled row or an empty label column would divide by zero.
            weights = Y @ (1.0 / np.maximum(counts, 1.0))
            weights = np.where(weights > 0, weights, 1.0 / max(len(Y), 1))
        else:
            weights = np.ones(len(Y))
        target = Y - np.average(Y, axis=0, weights=weights)
        self.models_ = {
            modality: Ridge(alpha=self.alpha).fit(X, target, sample_weight=weights)
            for modality, X in (("image", X_image), ("text", X_text))
        }
        # np.random.default_rng, not check_random_state: the seed -> projection map of the
        # ablation's published numbers.
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(np.iinfo(np.int32).max)
        self.projection_ = np.random.default_rng(seed).standard_normal((Y.shape[1], self.n_bits))

    def _project(self, X, modality):
        return self.models_[modality].predict(X) @ self.projection_
