"""The private base of the hashers whose bits are signs of centred linear projections."""

from __future__ import annotations

import numpy as np

from .._base import BaseCrossModalHasher
from ._linear_algebra import centred_matmul

__all__ = ["_LinearProjectionHasher"]


class _LinearProjectionHasher(BaseCrossModalHasher):
    """Hash functions ``bits = (x - mean_m) @ P_m > 0``, one mean and projection per modality.

    As cca_zoo's ``BaseModel`` keeps ``means_`` and ``weights_`` and one ``transform`` serves
    every linear model, a subclass's ``_fit`` sets ``image_mean_``, ``text_mean_``,
    ``image_projection_`` and ``text_projection_``, and this class encodes. Centring happens
    block by block, or implicitly for a sparse text block, so it never copies ``X``.
    """

    _supports_sparse_text = True

    def _project(self, X, modality: str) -> np.ndarray:
        if modality == "image":
            return centred_matmul(X, self.image_mean_, self.image_projection_)
        return centred_matmul(X, self.text_mean_, self.text_projection_)
