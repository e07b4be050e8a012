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

from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._fit_checks import check_feature_scale, warn_if_codes_collapse
from ._labels import check_fit_labels, labels_to_indicator
from ._modalities import check_modality, check_n_image_features, split_modalities
from ._search import pack_database
from ._threads import limits_threads

__all__ = ["BaseCrossModalHasher", "MAX_BITS"]

#: Largest code length any hasher accepts; beyond it codes stop being compact.
MAX_BITS = 4096


class _IntervalNotBool(Interval):
    """An integer interval that refuses bools: ``n_bits=True`` is a mistake, not one bit."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        return f"{super().__str__()}, not a bool"


class BaseCrossModalHasher(TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for cross-modal hashers: the data contract, encoding and scoring.

    Parameters shared by every hasher are ``n_bits`` and ``n_image_features``; subclasses
    add their own and list them in ``_parameter_constraints``. A hasher with an ``n_jobs``
    parameter runs ``fit``, ``encode``, ``transform`` and ``score`` on that many threads
    (:mod:`skmetacmh._threads`) and restores the caller's thread settings afterwards.

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

    See Also
    --------
    skmetacmh.join_modalities : Build the single ``X`` from two modality blocks.
    skmetacmh.metrics.cross_modal_map : What ``score`` computes, in both directions.

    Examples
    --------
    A hasher only says how to learn and how to project; the base does the rest.

    >>> import numpy as np
    >>> from skmetacmh import BaseCrossModalHasher
    >>> class SignHasher(BaseCrossModalHasher):
    ...     def __init__(self, n_bits=2, n_image_features=None):
    ...         self.n_bits = n_bits
    ...         self.n_image_features = n_image_features
    ...
    ...     def _fit(self, X_image, X_text, Y):
    ...         self.fitted_ = True
    ...
    ...     def _project(self, X, modality):
    ...         return X[:, : self.n_bits] - 0.5
    >>> X = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]])
    >>> SignHasher(n_image_features=2).fit(X, [0, 1]).transform(X)
    array([[0, 1, 1, 0],
           [1, 0, 0, 1]], dtype=uint8)
    """

    _parameter_constraints: dict = {
        "n_bits": [_IntervalNotBool(Integral, 1, MAX_BITS, closed="both")],
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
    @limits_threads
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
        image_bits, text_bits = self._bits(X_image, "image"), self._bits(X_text, "text")
        self.database_codes_ = np.hstack([image_bits, text_bits])
        warn_if_codes_collapse(self, self.database_codes_, X_image, X_text, Y)
        self.database_labels_ = Y
        # Packed once here, so that score() and every CV fold search these words directly.
        self._packed_database = pack_database(image_bits, text_bits, Y)
        return self

    def fit_transform(self, X, y=None):
        """Fit, then return the training set's codes (the stored database codes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            ``[image block | text block]``, as in ``fit``.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels or a {0,1} label indicator matrix, as in ``fit``.

        Returns
        -------
        codes : ndarray of shape (n_samples, 2 * n_bits), dtype uint8
            Image bits then text bits of the training items.
        """
        return self.fit(X, y).database_codes_.copy()

    # ------------------------------------------------------------------ encoding
    @limits_threads
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

    @limits_threads
    def transform(self, X) -> np.ndarray:
        """Encode both modalities of each row: image bits then text bits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Both modalities, as in ``fit``.

        Returns
        -------
        codes : ndarray of shape (n_samples, 2 * n_bits), dtype uint8
            0/1 bits; :func:`skmetacmh._modalities.split_codes` cuts them into the two halves.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        X_image, X_text = split_modalities(X, self.n_image_features)
        return np.hstack([self._bits(X_image, "image"), self._bits(X_text, "text")])

    @limits_threads
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
            Mean of the two directions' mAP.
        """
        from .metrics._scorer import cross_modal_map

        return cross_modal_map(self, X, y)["mean"]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Get the names of the output bits: ``image_bit0``..., then ``text_bit0``....

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked, as scikit-learn's transformers check it: when given, it must match
            ``feature_names_in_`` (if fit saw names) or have ``n_features_in_`` entries.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``2 * n_bits`` names.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        b = self.n_bits
        names = [f"image_bit{i}" for i in range(b)] + [f"text_bit{i}" for i in range(b)]
        return np.asarray(names, dtype=object)

    def labels_to_indicator(self, y) -> np.ndarray:
        """Map labels to the indicator columns learned in ``fit`` (unseen classes: zero rows).

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels in the form used in ``fit``.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_classes), dtype uint8
            One column per entry of ``classes_``.
        """
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
