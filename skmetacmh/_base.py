"""BaseCrossModalHasher: everything a hasher does that does not depend on its algorithm.

A concrete hasher implements two methods:

``_fit(X_image, X_text, Y)``
    learn the hash functions from the two modality blocks and the ``(n, n_classes)`` {0,1}
    indicator matrix ``Y`` (unsupervised hashers ignore ``Y``);
``_project(X, modality)``
    real-valued scores of shape ``(n, n_bits)`` whose signs are the bits (``> 0`` is bit 1).

The base class validates input once, splits the modalities, stores the retrieval database,
and provides ``encode``, ``transform``, ``score`` and the feature names.
"""

from __future__ import annotations

from abc import abstractmethod
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._fit_checks import check_feature_scale, warn_if_codes_collapse
from ._validation import (
    check_fit_labels,
    check_modality,
    check_n_image_features,
    labels_to_indicator,
    split_modalities,
)

__all__ = ["BaseCrossModalHasher", "MAX_BITS"]

#: Largest code length any hasher accepts; beyond it codes stop being compact.
MAX_BITS = 4096


class BaseCrossModalHasher(TransformerMixin, BaseEstimator):
    """Base class for cross-modal hashers: the data contract, encoding and scoring.

    Parameters shared by every hasher are ``n_bits`` and ``n_image_features``; subclasses
    add their own and list them in ``_parameter_constraints``.

    Attributes
    ----------
    n_features_in_ : int
        Columns of ``X`` (both modalities).
    n_text_features_ : int
        Columns of the text block.
    classes_ : ndarray
        Class values (1-D ``y``) or label column indices (indicator ``y``).
    multilabel_ : bool
        Whether ``y`` was an indicator matrix.
    database_codes_ : ndarray of shape (n_train, 2 * n_bits), dtype uint8
        Codes of the training items, image bits then text bits: the retrieval database that
        ``score`` searches, as a k-NN model keeps its training data.
    database_labels_ : ndarray of shape (n_train, n_classes), dtype uint8
        Their labels as an indicator matrix.
    n_unlabeled_ : int
        Training items with no label at all. They are allowed and kept in the database, but are
        relevant to nothing: never a hit for any query.
    """

    _parameter_constraints: dict = {
        "n_bits": [Interval(Integral, 1, MAX_BITS, closed="both")],
        "n_image_features": [Interval(Integral, 1, None, closed="left"), None],
    }

    # Subclasses that can learn from a sparse text block directly set this to True; the others
    # receive dense arrays.
    _supports_sparse_text = False

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _fit(self, X_image, X_text, Y):
        """Learn the hash functions. ``Y`` is a (n, n_classes) {0,1} indicator matrix."""

    @abstractmethod
    def _project(self, X, modality: str) -> np.ndarray:
        """Real-valued (n, n_bits) scores of one modality; bit = score > 0."""

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn hash functions for both modalities and store the training set as database.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            ``[image block | text block]``; the first ``n_image_features`` columns are images.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a {0,1} label indicator matrix for multi-label data. Rows of an
            indicator with no label are allowed: those items are relevant to nothing.

        Returns
        -------
        self : object
            The fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        n_img = check_n_image_features(self.n_image_features, self.n_features_in_)
        Y, self.classes_, self.multilabel_ = check_fit_labels(y, X.shape[0])
        self.n_text_features_ = self.n_features_in_ - n_img
        self.n_unlabeled_ = int((Y.sum(axis=1) == 0).sum())
        X_image, X_text = split_modalities(X, n_img)
        # Densify once: the same blocks train the hash functions and give the database codes.
        X_image, X_text = self._dense(X_image), self._text_block(X_text)
        check_feature_scale(self, X_image, X_text)
        self._fit(X_image, X_text, Y)
        self.database_codes_ = np.hstack([self._bits(X_image, "image"), self._bits(X_text, "text")])
        warn_if_codes_collapse(self, self.database_codes_, X_image, X_text, Y)
        self.database_labels_ = Y
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the training set's codes (the stored database codes)."""
        return self.fit(X, y, **fit_params).database_codes_.copy()

    # ------------------------------------------------------------------ encoding
    def encode(self, X, modality: str) -> np.ndarray:
        """Hash items of one modality.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_modality_features)
            Only the columns of that modality: ``n_image_features`` columns for images,
            ``n_text_features_`` for texts.
        modality : {"image", "text"}
            Which hash function to apply.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_bits), dtype uint8
            0/1 bits.
        """
        check_is_fitted(self)
        modality = check_modality(modality)
        expected = self.n_image_features if modality == "image" else self.n_text_features_
        X = self._check_block(X, modality, expected)
        return self._bits(X, modality)

    def transform(self, X) -> np.ndarray:
        """Codes of both modalities of each row: image bits then text bits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Both modalities, as in ``fit``.

        Returns
        -------
        codes : ndarray of shape (n_samples, 2 * n_bits), dtype uint8
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        X_image, X_text = split_modalities(X, self.n_image_features)
        return np.hstack([self._bits(X_image, "image"), self._bits(X_text, "text")])

    def score(self, X, y) -> float:
        """Cross-modal mAP@all of the rows of ``X`` as queries against the fitted database.

        The mean of image->text (image bits of a query against text bits of the database) and
        text->image mAP. Queries with no relevant database item (for instance a class the
        training set never saw) are excluded, as in
        :func:`skmetacmh.metrics.mean_average_precision`.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query items, disjoint from the training set.
        y : array-like
            Their labels, in the form used in ``fit``.

        Returns
        -------
        score : float
        """
        from .metrics import cross_modal_map

        return cross_modal_map(self, X, y)["mean"]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output bits: ``image_bit0``..., then ``text_bit0``...."""
        check_is_fitted(self)
        b = self.n_bits
        names = [f"image_bit{i}" for i in range(b)] + [f"text_bit{i}" for i in range(b)]
        return np.asarray(names, dtype=object)

    def labels_to_indicator(self, y) -> np.ndarray:
        """Map labels to the indicator columns learned in ``fit`` (unseen classes: zero rows)."""
        check_is_fitted(self)
        return labels_to_indicator(y, self.classes_, self.multilabel_)

    # ------------------------------------------------------------------ helpers
    def _validate_X(self, X, reset: bool):
        return validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_min_samples=1 if not reset else 2,
        )

    def _check_block(self, X, modality: str, expected: int):
        from sklearn.utils.validation import check_array

        X = check_array(
            X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name=f"X ({modality})"
        )
        if X.shape[1] != expected:
            raise ValueError(
                f"encode(modality={modality!r}) expects the {expected} {modality} columns seen in "
                f"fit; got an array with {X.shape[1]} columns."
            )
        return X

    def _bits(self, X, modality: str) -> np.ndarray:
        if X.shape[0] == 0:
            return np.zeros((0, self.n_bits), dtype=np.uint8)
        X = self._dense(X) if modality == "image" else self._text_block(X)
        scores = np.asarray(self._project(X, modality))
        if scores.shape != (X.shape[0], self.n_bits):
            raise RuntimeError(
                f"{type(self).__name__}._project returned shape {scores.shape}; expected "
                f"{(X.shape[0], self.n_bits)}."
            )
        if not np.all(np.isfinite(scores)):
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite projections for the {modality} "
                "modality; refusing to return codes built from NaN or infinity."
            )
        return (scores > 0).astype(np.uint8)

    @staticmethod
    def _dense(X):
        return X.toarray() if sp.issparse(X) else X

    def _text_block(self, X):
        return X if self._supports_sparse_text else self._dense(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = []
        return tags
