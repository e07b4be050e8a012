"""A minimal hasher used to test the shared base class without any real algorithm."""

import numpy as np

from skmetacmh import BaseCrossModalHasher


class ToyHasher(BaseCrossModalHasher):
    """Least squares from each modality onto centred labels, then a shared random projection."""

    def __init__(self, n_bits=8, n_image_features=None, *, random_state=None):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.random_state = random_state

    def _fit(self, X_image, X_text, Y):
        rng = np.random.default_rng(self.random_state)
        target = Y - Y.mean(axis=0)
        self.weights_ = {}
        for name, X in (("image", X_image), ("text", X_text)):
            self.weights_[name] = np.linalg.lstsq(np.c_[X, np.ones(len(X))], target, rcond=None)[0]
        self.projection_ = rng.standard_normal((Y.shape[1], self.n_bits))

    def _project(self, X, modality):
        return np.c_[X, np.ones(len(X))] @ self.weights_[modality] @ self.projection_
