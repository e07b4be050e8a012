"""Scoring a fitted hasher: cross-modal mAP, and the one scorer every hasher is compared with.

The path is straight: the queries are encoded once (``transform``), cut into image and text bits
(``pack_joined``) and packed; their labels become the fitted indicator once. The database is the
hasher's fitted one, packed once in ``fit`` (``BaseCrossModalHasher``), or ``X_db`` encoded the
same way. Both directions then run on the same search engine as the metrics.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import _num_samples, check_is_fitted

from .._labels import check_one_label_per_row, joint_label_indicators, labels_to_indicator
from .._search import PackedDatabase, default_engine, pack_joined
from ._ranking import _reject_bool, mean_over_valid

__all__ = ["cross_modal_map", "make_cross_modal_scorer"]

#: Which directions a scorer averages.
DIRECTIONS = ("both", "image_to_text", "text_to_image")

_TOP_K = [Interval(Integral, 1, None, closed="left"), None]


def _final_hasher(estimator, X_query, X_db):
    """See through Pipelines and fitted searches; transform the data by the steps before.

    A Pipeline's preprocessing transforms the queries (and ``X_db``); a fitted
    ``GridSearchCV``/``RandomizedSearchCV`` stands for its ``best_estimator_``, as its own
    ``score`` does.
    """
    from sklearn.pipeline import Pipeline

    while True:
        if isinstance(estimator, Pipeline):
            preprocessing = estimator[:-1]
            X_query = preprocessing.transform(X_query)
            if X_db is not None:
                X_db = preprocessing.transform(X_db)
            estimator = estimator[-1]
        elif hasattr(estimator, "cv_results_"):  # a fitted hyper-parameter search
            if not hasattr(estimator, "best_estimator_"):
                raise ValueError(
                    f"{type(estimator).__name__} was fitted with refit=False, so it holds no "
                    "fitted hasher to score; refit it with refit=True or score one of its "
                    "candidates yourself."
                )
            estimator = estimator.best_estimator_
        else:
            return estimator, X_query, X_db


def _fitted_database(hasher) -> PackedDatabase:
    """The fitted database, packed once in fit (any hasher of this package)."""
    cached = getattr(hasher, "_packed_database", None)  # duck-typed hashers have none
    if cached is not None:
        return cached
    return pack_joined(hasher.database_codes_, hasher.database_labels_)


def _encoded(hasher, X, labels) -> PackedDatabase:
    """``X`` encoded and packed with its (already checked) indicator ``labels``."""
    return pack_joined(hasher.transform(X), labels)


def _checked_rows(X, labels, names):
    """Refuse an empty ``X``, and labels that are not one per row of ``X``.

    Checked before anything is encoded, so that a wrong ``y`` costs nothing and gives the same
    error on every engine (the engines would otherwise read past the labels, or fail on
    buffer sizes).
    """
    X_name, y_name = names
    n_rows = _num_samples(X)
    if n_rows == 0:
        raise ValueError(f"{X_name} is empty: at least one item is needed to score.")
    check_one_label_per_row(labels.shape[0], n_rows, labels_name=y_name, rows_name=X_name)
    return labels


def _checked_labels(hasher, X_query, y_query, X_db, y_db, names):
    """Query and database labels as indicators of the same columns, one per row each.

    The columns are the fitted classes; a hasher fitted without labels has none, so both sets
    come at score time and give the columns together.
    """
    db_names = ("X_db", "y_db")
    if hasher.database_labels_ is None:
        if X_db is None:
            raise ValueError(
                f"This {type(hasher).__name__} was fitted without y, so its database (the "
                "training set) has no labels to judge relevance by. Score it against a "
                "labelled database, cross_modal_map(hasher, X_query, y_query, X_db=X_db, "
                "y_db=y_db), or fit it with y: an unsupervised hasher does not learn from the "
                "labels, it only stores them for score."
            )
        q_labels, d_labels = joint_label_indicators(y_query, y_db, names=(names[1], "y_db"))
        return _checked_rows(X_query, q_labels, names), _checked_rows(X_db, d_labels, db_names)

    def fitted(y, name):
        return labels_to_indicator(y, hasher.classes_, hasher.multilabel_, name=name)

    q_labels = _checked_rows(X_query, fitted(y_query, names[1]), names)
    d_labels = None if X_db is None else _checked_rows(X_db, fitted(y_db, "y_db"), db_names)
    return q_labels, d_labels


def _cross_modal_map(
    hasher, X_query, y_query, X_db, y_db, top_k, direction, names=("X_query", "y_query")
):
    check_is_fitted(hasher)
    hasher, X_query, X_db = _final_hasher(hasher, X_query, X_db)
    if (X_db is None) != (y_db is None):
        given, missing = ("y_db", "X_db") if X_db is None else ("X_db", "y_db")
        raise ValueError(f"{given} was given without {missing}; pass both or neither.")
    q_labels, d_labels = _checked_labels(hasher, X_query, y_query, X_db, y_db, names)
    query = _encoded(hasher, X_query, q_labels)
    database = _fitted_database(hasher) if X_db is None else _encoded(hasher, X_db, d_labels)
    engine, q_labels, d_labels = default_engine(), query.labels, database.labels
    pairs = {"image_to_text": ("image", "text"), "text_to_image": ("text", "image")}
    out = {}
    for name, (query_modality, db_modality) in pairs.items():
        if direction in ("both", name):
            queries, db = query.codes(query_modality), database.codes(db_modality)
            ap, valid = engine.average_precision(
                queries.words,
                db.words,
                queries.n_bits,
                q_labels.values,
                d_labels.values,
                q_labels.label_words,
                top_k,
            )
            out[name] = mean_over_valid(ap, valid)
    out["mean"] = float(np.mean(list(out.values())))
    return out


@validate_params(
    {
        "hasher": "no_validation",
        "X_query": ["array-like", "sparse matrix"],
        "y_query": ["array-like", "sparse matrix"],
        "X_db": ["array-like", "sparse matrix", None],
        "y_db": ["array-like", "sparse matrix", None],
        "top_k": _TOP_K,
    },
    prefer_skip_nested_validation=True,
)
def cross_modal_map(hasher, X_query, y_query, X_db=None, y_db=None, top_k=None) -> dict:
    """Image->text and text->image mAP of a fitted hasher, and their mean.

    The query rows are encoded once and their image bits searched against the database's text
    bits (image->text), and the other way round; the database is the hasher's fitted one
    unless ``X_db`` is given.

    Parameters
    ----------
    hasher : estimator
        The fitted cross-modal hasher, a fitted Pipeline that ends in one (its preprocessing
        steps transform the queries and ``X_db`` first), or a fitted ``GridSearchCV`` /
        ``RandomizedSearchCV`` over either (its ``best_estimator_`` is scored).
    X_query : array-like of shape (n_queries, n_features)
        Query items, both modalities as in ``fit``.
    y_query : array-like of shape (n_queries,) or (n_queries, n_labels)
        Their labels, in the form used in ``fit``.
    X_db : array-like of shape (n_db, n_features), default=None
        A database to search; by default the hasher's fitted one (its training set).
    y_db : array-like of shape (n_db,) or (n_db, n_labels), default=None
        Labels of ``X_db``; given exactly when ``X_db`` is. An unsupervised hasher fitted
        without ``y`` has an unlabelled database and is scored only this way: the classes are
        then those of ``y_query`` and ``y_db`` together.
    top_k : int, default=None
        Compute mAP@k instead of mAP@all.

    Returns
    -------
    scores : dict
        ``{"image_to_text": float, "text_to_image": float, "mean": float}``.

    See Also
    --------
    make_cross_modal_scorer : The same score as a ``scoring=`` callable.

    Examples
    --------
    >>> from skmetacmh import CCAITQHasher
    >>> from skmetacmh.datasets import make_cross_modal_classification
    >>> from skmetacmh.metrics import cross_modal_map
    >>> X, y = make_cross_modal_classification(300, 4, 16, 16, random_state=0)
    >>> hasher = CCAITQHasher(n_bits=8, n_image_features=16, random_state=0).fit(X[:200], y[:200])
    >>> sorted(cross_modal_map(hasher, X[200:], y[200:]))
    ['image_to_text', 'mean', 'text_to_image']
    """
    _reject_bool(top_k, "top_k", "cross_modal_map", "an int in the range [1, inf) or None")
    return _cross_modal_map(hasher, X_query, y_query, X_db, y_db, top_k, "both")


class _CrossModalScorer:
    """Callable ``scorer(estimator, X, y)`` for ``GridSearchCV`` and ``cross_val_score``."""

    def __init__(self, direction: str, top_k: int | None):
        self.direction = direction
        self.top_k = top_k

    def __call__(self, estimator, X, y) -> float:
        result = _cross_modal_map(
            estimator, X, y, None, None, self.top_k, self.direction, names=("X", "y")
        )
        return result["mean"]

    def __repr__(self) -> str:
        return f"make_cross_modal_scorer(direction={self.direction!r}, top_k={self.top_k!r})"


@validate_params(
    {"direction": [StrOptions(set(DIRECTIONS))], "top_k": _TOP_K},
    prefer_skip_nested_validation=True,
)
def make_cross_modal_scorer(direction: str = "both", top_k: int | None = None):
    """The scorer every hasher is compared with: cross-modal mAP against the fitted database.

    The rows passed to the scorer are the queries; the database is the hasher's training set
    (in cross-validation: the training folds), so queries and database are disjoint. The
    estimator may be a hasher or a Pipeline ending in one (its other steps transform the
    queries first).

    Parameters
    ----------
    direction : {"both", "image_to_text", "text_to_image"}, default="both"
        ``"both"`` averages the two directions.
    top_k : int, default=None
        Compute mAP@k instead of mAP@all.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``, for ``scoring=`` in ``GridSearchCV`` and
        ``cross_val_score``.

    See Also
    --------
    cross_modal_map : Both directions and their mean, as a dict.

    Examples
    --------
    >>> from skmetacmh.metrics import make_cross_modal_scorer
    >>> make_cross_modal_scorer(top_k=50)
    make_cross_modal_scorer(direction='both', top_k=50)
    """
    _reject_bool(top_k, "top_k", "make_cross_modal_scorer", "an int in the range [1, inf) or None")
    return _CrossModalScorer(direction, top_k)
