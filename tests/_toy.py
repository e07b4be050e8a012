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


class LearnedCodesToyHasher(ToyHasher):
    """ToyHasher that also learns training codes (``training_codes_``), as DLFH or SePH do.

    The learned codes are the signs of the labels' own projection, image bits then text bits
    (the same for both here, as SePH's H | H), so they differ from the hash functions' codes.
    ``training_codes`` breaks the contract on purpose: ``"wrong_shape"`` drops a row,
    ``"not_bits"`` stores the real-valued projection.
    """

    def __init__(self, n_bits=8, n_image_features=None, *, random_state=None, training_codes="ok"):
        super().__init__(n_bits, n_image_features, random_state=random_state)
        self.training_codes = training_codes

    def _fit(self, X_image, X_text, Y):
        super()._fit(X_image, X_text, Y)
        scores = (Y - Y.mean(axis=0)) @ self.projection_
        bits = (scores > 0).astype(np.uint8)
        codes = np.hstack([bits, bits])
        if self.training_codes == "wrong_shape":
            codes = codes[1:]
        elif self.training_codes == "not_bits":
            codes = np.hstack([scores, scores])
        self.training_codes_ = codes
