"""BaseCrossModalHasher: everything a hasher does that does not depend on its algorithm.

A concrete hasher implements two methods:

``_fit(X_image, X_text, Y)``
    learn the hash functions from the two modality blocks and the ``(n, n_classes)`` {0,1}
    indicator matrix ``Y`` (unsupervised hashers ignore ``Y``);
``_project(X, modality)``
    real-valued scores of shape ``(n, n_bits)`` whose signs are the bits (``> 0`` is bit 1).

The base class validates input once, splits the modalities, stores the retrieval database,
and provides ``encode``, ``transform``, ``score``, ``kneighbors`` and the feature names.
Hashers that learn from the features alone list :class:`UnsupervisedHasherMixin` first among
their bases: their ``fit`` takes ``y=None``.
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
from ._index_contract import check_n_neighbors
from ._labels import check_fit_labels, labels_to_indicator
from ._modalities import check_modality, check_n_image_features, split_modalities
from ._neighbors import DatabaseSearch
from ._search import PackedDatabase, pack_codes, pack_joined
from ._threads import N_JOBS_CONSTRAINTS, limits_threads

__all__ = ["BaseCrossModalHasher", "MAX_BITS", "UnsupervisedHasherMixin"]

#: Largest code length any hasher accepts; beyond it codes stop being compact.
MAX_BITS = 4096


class _IntervalNotBool(Interval):
    """The range of ``n_bits``, refusing bools: ``n_bits=True`` is a mistake, not one bit."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        # validate_params writes "must be <this>. Got <value> instead.": say what the bounds
        # mean, so that neither 5000 nor 0 reads as if it had been taken for a bool.
        return (
            f"an int (not a bool) from {self.left} to {self.right} ({self.right} bits per "
            "modality is the longest code a hasher accepts)"
        )


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
    n_image_features_ : int
        Columns of the image block, ``n_image_features`` as it was at ``fit``. ``encode`` and
        ``transform`` split and check their input by it, as every scikit-learn estimator checks
        ``X`` against ``n_features_in_``: a later ``set_params(n_image_features=...)`` takes
        effect at the next ``fit``, like every parameter.
    n_text_features_ : int
        Columns of the text block.
    classes_ : ndarray or None
        Class values (1-D ``y``) or label column indices (indicator ``y``); ``None`` when an
        unsupervised hasher was fitted without ``y``.
    multilabel_ : bool or None
        Whether ``y`` was an indicator matrix (``None`` without ``y``).
    database_codes_ : ndarray of shape (n_train, 2 * n_bits), dtype uint8
        Codes of the training items, image bits then text bits: the retrieval database that
        ``score`` and ``kneighbors`` search, as a k-NN model keeps its training data.
    database_labels_ : ndarray of shape (n_train, n_classes), dtype uint8, or None
        Their labels as an indicator matrix; ``None`` when fitted without ``y`` (then ``score``
        needs a labelled database, see :func:`skmetacmh.metrics.cross_modal_map`).
    n_unlabeled_ : int
        Training items with no label at all (every item, when fitted without ``y``). They are
        allowed and kept in the database, but are relevant to nothing: never a hit for any
        query.

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

    # Subclasses merge these. ``random_state`` and ``n_jobs`` mean the same in every hasher that
    # has them, so they are declared here once; sklearn checks only the parameters a hasher
    # has, so a hasher without one of them is unaffected.
    _parameter_constraints: dict = {
        "n_bits": [_IntervalNotBool(Integral, 1, MAX_BITS, closed="both")],
        "n_image_features": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINTS,
    }

    # Subclasses that can learn from a sparse text block directly set this to True; the others
    # receive dense arrays.
    _supports_sparse_text = False

    # Whether fit needs y; UnsupervisedHasherMixin sets it to False. The estimator tags read it,
    # so that sklearn's checks and meta-estimators see the same rule as fit.
    _requires_labels = True

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
        if y is None and not self._requires_labels:
            Y, self.classes_, self.multilabel_ = None, None, None
            self.n_unlabeled_ = X.shape[0]
        else:
            Y, self.classes_, self.multilabel_ = check_fit_labels(
                y, X.shape[0], supervised=self._requires_labels
            )
            self.n_unlabeled_ = int((Y.sum(axis=1) == 0).sum())
        self.n_image_features_ = n_img
        self.n_text_features_ = self.n_features_in_ - n_img
        X_image, X_text = split_modalities(X, n_img)
        # Densify once: the same blocks train the hash functions and give the database codes.
        X_image, X_text = self._dense(X_image), self._text_block(X_text)
        check_feature_scale(self, X_image, X_text)
        self._fit(X_image, X_text, Y)
        image_bits, text_bits = self._bits(X_image, "image"), self._bits(X_text, "text")
        self.database_codes_ = np.hstack([image_bits, text_bits])
        warn_if_codes_collapse(self, self.database_codes_, X_image, X_text, Y)
        self.database_labels_ = Y
        self._pack_database()
        return self

    def _pack_database(self) -> None:
        """Pack the database once, so that score(), every CV fold and kneighbors search the
        same words (private state, rebuilt from ``database_codes_`` when a pickle lacks it)."""
        # n_bits from the codes: as fitted, whatever set_params did since.
        database = pack_joined(self.database_codes_, self.database_labels_)
        self._packed_database = database
        self._database_search = {
            modality: DatabaseSearch(database.codes(modality).words, database.image.n_bits)
            for modality in ("image", "text")
        }

    def __setstate__(self, state):
        super().__setstate__(state)
        packed = state.get("_packed_database")
        if "database_codes_" in state and (
            "_database_search" not in state or not isinstance(packed, PackedDatabase)
        ):
            # Pickled by an earlier version (before kneighbors, or with the database packed as
            # a tuple): pack the stored codes as fit does.
            self._pack_database()

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

        Zero rows give zero codes, shape ``(0, n_bits)`` (an empty batch of a stream, or an
        empty dask block, needs no special case); ``fit`` and ``score`` do need items.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_modality_features)
            Only the columns of that modality: ``n_image_features_`` columns for images,
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
        expected = self.n_image_features_ if modality == "image" else self.n_text_features_
        X = self._check_block(X, modality, expected)
        return self._bits(X, modality)

    @limits_threads
    def transform(self, X) -> np.ndarray:
        """Encode both modalities of each row: image bits then text bits.

        Zero rows give an empty ``(0, 2 * n_bits)`` array, as in ``encode``.

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
        X_image, X_text = split_modalities(X, self.n_image_features_)
        return np.hstack([self._bits(X_image, "image"), self._bits(X_text, "text")])

    # ------------------------------------------------------------------ retrieval
    @limits_threads
    def kneighbors(self, X, *, modality: str, n_neighbors: int = 10, return_distance: bool = True):
        """Find the database items nearest to each query, across modalities.

        A query of one modality is encoded and searched, by Hamming distance, against the
        fitted database's codes of the *other* modality: image queries find texts, text
        queries find images. Neighbours come sorted by (distance, database index), the ranking
        of :func:`skmetacmh.metrics.mean_average_precision`, and are exactly what a
        :class:`~skmetacmh.index.HammingIndex` over those codes returns: the search runs on the
        database packed in ``fit``, by the same engine, with multi-index hashing where that
        index's ``method="auto"`` would choose it. To search a catalogue other than the
        training set, with ids of your own, use :class:`~skmetacmh.catalogue.Catalogue`.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_queries, n_modality_features)
            Only the columns of the queries' modality, as in ``encode``. Zero queries give
            empty results.
        modality : {"image", "text"}
            The modality of the queries, as in ``encode``. The database items returned are of
            the other one.
        n_neighbors : int, default=10
            Neighbours per query, from 1 to the size of the database (the training set).
        return_distance : bool, default=True
            Whether to return the distances as well.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors), dtype int32
            Hamming distances, ascending. Only when ``return_distance=True``.
        indices : ndarray of shape (n_queries, n_neighbors), dtype int64
            Rows of the training set (of ``database_codes_``), ties by index.

        See Also
        --------
        skmetacmh.index.HammingIndex : The same search over any codes.
        skmetacmh.catalogue.Catalogue : Items beyond the training set, encoded once, with ids.

        Examples
        --------
        >>> from skmetacmh import CCAITQHasher
        >>> from skmetacmh.datasets import make_cross_modal_classification
        >>> X, y = make_cross_modal_classification(300, 4, 16, 16, random_state=0)
        >>> hasher = CCAITQHasher(n_bits=8, n_image_features=16, random_state=0).fit(X, y)
        >>> distances, texts = hasher.kneighbors(X[:2, :16], modality="image", n_neighbors=3)
        >>> distances.shape, texts.shape
        ((2, 3), (2, 3))
        """
        check_is_fitted(self)
        modality = check_modality(modality)
        n_db = self.database_codes_.shape[0]
        n_neighbors = check_n_neighbors(
            n_neighbors,
            n_db,
            f"from 1 to {n_db}, the size of the fitted database (the training set)",
        )
        if not isinstance(return_distance, (bool, np.bool_)):
            raise ValueError(f"return_distance must be True or False; got {return_distance!r}.")
        queries = pack_codes(self.encode(X, modality))
        other = "text" if modality == "image" else "image"
        distances, indices = self._database_search[other].search(queries, n_neighbors)
        return (distances, indices) if return_distance else indices

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
            Query items, disjoint from the training set; at least one.
        y : array-like
            Their labels, in the form used in ``fit``, one entry per row of ``X``.

        Returns
        -------
        score : float
            Mean of the two directions' mAP.

        Raises
        ------
        ValueError
            When ``y`` does not have one entry per row of ``X`` (the message names both
            lengths), and when the hasher was fitted without ``y``: its database then has no
            labels, and :func:`skmetacmh.metrics.cross_modal_map` with ``X_db`` and ``y_db``
            scores it against a labelled one.
        """
        from .metrics._scorer import _cross_modal_map

        return _cross_modal_map(self, X, y, None, None, None, "both", names=("X", "y"))["mean"]

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
        if self.classes_ is None:
            raise ValueError(
                f"This {type(self).__name__} was fitted without y, so it has no classes to map "
                "labels to; fit it with labels to use labels_to_indicator."
            )
        return labels_to_indicator(y, self.classes_, self.multilabel_)

    # ------------------------------------------------------------------ helpers
    def _validate_X(self, X, reset: bool):
        return validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            # fit needs two items to learn anything; encoding zero items gives zero codes.
            ensure_min_samples=2 if reset else 0,
        )

    def _check_block(self, X, modality: str, expected: int):
        X = check_array(
            X,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_min_samples=0,
            input_name=f"X ({modality})",
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
        tags.target_tags.required = self._requires_labels
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = []
        return tags


class UnsupervisedHasherMixin:
    """Mixin of the hashers that learn from the features alone: ``fit(X, y=None)``.

    List it first among the bases (``class CVHHasher(UnsupervisedHasherMixin, ...)``). Such a
    hasher never reads ``y`` while learning: given, ``y`` is checked and stored as the labels
    of the retrieval database, so that ``score`` can judge relevance, and any labels do,
    a single class included; omitted, the database has no labels, ``kneighbors`` works as
    ever, and scoring needs a labelled database given at score time (``cross_modal_map`` with
    ``X_db`` and ``y_db``). The estimator tags say that ``y`` is not required.
    """

    _requires_labels = False

    def fit(self, X, y=None):
        """Learn hash functions for both modalities and store the training set as database.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            ``[image block | text block]``; the first ``n_image_features`` columns are images.
        y : array-like of shape (n_samples,) or (n_samples, n_labels), default=None
            Labels of the training items, not used to learn: only stored as the labels of the
            retrieval database for ``score``. ``None`` fits without labels.

        Returns
        -------
        self : object
            The fitted hasher.
        """
        return super().fit(X, y)
