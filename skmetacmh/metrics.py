"""Retrieval metrics for Hamming ranking: mAP and friends, and the one scorer every hasher shares.

Definitions (the contract every number in this package follows):

* **Relevance.** Two items are relevant when they share at least one label: equal class labels
  for 1-D labels, a common 1 for indicator matrices.
* **Ranking.** The database is sorted by ascending Hamming distance to the query; ties are
  broken by database index (a stable sort), so results are deterministic and do not depend on
  the sorting algorithm.
* **AP** of a query is the mean of precision@r over the ranks r of its relevant items.
  **mAP** is the mean AP over the queries that have at least one relevant item in the database;
  the others are excluded (and counted in the details), since their AP is undefined.
* With ``top_k``, only the first ``top_k`` ranks count and AP is normalised by the number of
  relevant items found within them (the usual mAP@k of hashing papers); a query whose relevant
  items all lie beyond ``top_k`` scores 0.

Every function works through the queries in chunks sized from scikit-learn's
``working_memory`` setting, so memory stays bounded for any database size.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import Bunch

from ._hamming import check_codes, hamming_distances, pack_codes

try:  # the optional compiled counting-sort kernel (see _ranking.c); numpy is the fallback
    from . import _ranking
except ImportError:  # pragma: no cover - depends on the build
    _ranking = None

__all__ = [
    "mean_average_precision",
    "cross_modal_map",
    "map_per_class",
    "map_by_frequency_group",
    "precision_at_k",
    "precision_recall_curve",
    "make_cross_modal_scorer",
]

# Bytes of working memory one (query, database item) pair costs inside a chunk: distances,
# the XOR temporary, the argsort output (8), relevance and its reordered copy, label products.
_BYTES_PER_PAIR = 28

DIRECTIONS = ("both", "image_to_text", "text_to_image")


# --------------------------------------------------------------------------- validation
def _check_labels_pair(query_labels, db_labels, n_query: int, n_db: int):
    """Return labels in a form ready for chunked relevance, checking shapes."""

    def as_array(labels, name, n):
        if sp.issparse(labels):
            labels = labels.toarray()
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] == 1 and labels.dtype.kind in "OUS":
            labels = labels.ravel()
        if labels.ndim not in (1, 2):
            raise ValueError(
                f"{name} must be 1-D class labels or a 2-D {{0,1}} indicator matrix; got shape "
                f"{labels.shape}."
            )
        if labels.shape[0] != n:
            raise ValueError(
                f"{name} must have one row per code: {n} codes but {labels.shape[0]} labels."
            )
        return labels

    q = as_array(query_labels, "query_labels", n_query)
    d = as_array(db_labels, "db_labels", n_db)
    if q.ndim != d.ndim:
        raise ValueError(
            "query_labels and db_labels must both be 1-D class labels or both be 2-D indicator "
            f"matrices; got {q.ndim}-D query labels and {d.ndim}-D database labels."
        )
    if q.ndim == 2:
        if q.shape[1] != d.shape[1]:
            raise ValueError(
                "query_labels and db_labels must have the same number of label columns; got "
                f"{q.shape[1]} and {d.shape[1]}."
            )
        for name, arr in (("query_labels", q), ("db_labels", d)):
            if not (arr.dtype == bool or np.issubdtype(arr.dtype, np.number)) or not np.all(
                (arr == 0) | (arr == 1)
            ):
                raise ValueError(f"{name} as a 2-D array must hold only 0 and 1.")
        # float32 products count shared labels exactly far beyond any realistic label count.
        return q.astype(np.float32), np.ascontiguousarray(d.T, dtype=np.float32)
    return q, d


def _relevance(q_labels: np.ndarray, db_labels_prepared: np.ndarray) -> np.ndarray:
    if q_labels.ndim == 2:
        return (q_labels @ db_labels_prepared) > 0
    return q_labels[:, None] == db_labels_prepared[None, :]


def _prepare(query_codes, db_codes, query_labels, db_labels):
    q = check_codes(query_codes, "query_codes")
    d = check_codes(db_codes, "db_codes")
    if q.shape[1] != d.shape[1]:
        raise ValueError(
            "query_codes and db_codes must have the same number of bits; got "
            f"{q.shape[1]} and {d.shape[1]}."
        )
    if q.shape[0] == 0:
        raise ValueError("query_codes is empty: at least one query is needed.")
    if d.shape[0] == 0:
        raise ValueError("db_codes is empty: the database needs at least one item.")
    ql, dl = _check_labels_pair(query_labels, db_labels, q.shape[0], d.shape[0])
    return pack_codes(q), pack_codes(d), ql, dl, q.shape[1]


def _chunks(n_query: int, n_db: int):
    budget = get_config()["working_memory"] * 2**20
    rows = max(1, int(budget // (_BYTES_PER_PAIR * max(n_db, 1))))
    for start in range(0, n_query, rows):
        yield slice(start, min(start + rows, n_query))


def _check_top_k(top_k, n_db: int):
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, Integral) or top_k < 1:
        raise ValueError(f"top_k must be None or a positive int; got {top_k!r}.")
    return min(int(top_k), n_db)


# --------------------------------------------------------------------------- core
def _average_precision_chunk(dist, rel, top_k):
    """Per-query AP for one chunk, plus how many relevant items each query has in the database."""
    n_relevant = rel.sum(axis=1)
    # Stable sort on small unsigned ints is a radix sort in numpy: linear, and ties stay in
    # database order, which is exactly the tie rule.
    order = np.argsort(dist, axis=1, kind="stable")
    if top_k is not None:
        order = order[:, :top_k]
    hits = np.take_along_axis(rel, order, axis=1)
    rows, cols = np.nonzero(hits)
    hits_per_row = np.bincount(rows, minlength=hits.shape[0])
    first_hit = np.cumsum(hits_per_row) - hits_per_row
    hit_rank = np.arange(rows.shape[0]) - np.repeat(first_hit, hits_per_row) + 1
    precision_sum = np.bincount(rows, weights=hit_rank / (cols + 1.0), minlength=hits.shape[0])
    ap = np.divide(
        precision_sum,
        hits_per_row,
        out=np.zeros(hits.shape[0], dtype=np.float64),
        where=hits_per_row > 0,
    )
    return ap, n_relevant


def _per_query_ap(query_codes, db_codes, query_labels, db_labels, top_k=None, use_kernel=None):
    pq, pd, ql, dl, n_bits = _prepare(query_codes, db_codes, query_labels, db_labels)
    top_k = _check_top_k(top_k, pd.shape[0])
    if use_kernel is None:
        use_kernel = _ranking is not None
    if use_kernel:
        return _per_query_ap_kernel(pq, pd, ql, dl, n_bits, top_k)
    ap = np.zeros(pq.shape[0])
    n_relevant = np.zeros(pq.shape[0], dtype=np.int64)
    for chunk in _chunks(pq.shape[0], pd.shape[0]):
        dist = hamming_distances(pq[chunk], pd)
        rel = _relevance(ql[chunk], dl)
        ap[chunk], n_relevant[chunk] = _average_precision_chunk(dist, rel, top_k)
    return ap, n_relevant > 0


def _per_query_ap_kernel(pq, pd, ql, dl, n_bits, top_k):
    """Counting-sort AP in compiled code: O(n_db) per query, no chunk matrices at all."""
    if ql.ndim == 2:
        # Indicator labels as bit sets: relevant iff the sets intersect.
        q_lab = pack_codes(ql.astype(np.uint8))
        d_lab = pack_codes(np.ascontiguousarray(dl.T).astype(np.uint8))
        label_words = q_lab.shape[1]
    else:
        # Class labels as integer ids over the union of both label sets.
        _, ids = np.unique(np.concatenate([ql, dl]), return_inverse=True)
        ids = ids.astype(np.int64)
        q_lab, d_lab = ids[: ql.shape[0]], ids[ql.shape[0] :]
        label_words = 0
    ap = np.zeros(pq.shape[0])
    n_relevant = np.zeros(pq.shape[0], dtype=np.int64)
    _ranking.average_precision(
        np.ascontiguousarray(pq),
        np.ascontiguousarray(pd),
        pq.shape[1],
        n_bits,
        np.ascontiguousarray(q_lab),
        np.ascontiguousarray(d_lab),
        label_words,
        0 if top_k is None else top_k,
        ap,
        n_relevant,
    )
    return ap, n_relevant > 0


def _mean_over_valid(ap, valid, what="mAP"):
    if not valid.any():
        raise ValueError(
            f"{what} is undefined: none of the {valid.shape[0]} queries has a relevant item "
            "(an item sharing a label) in the database."
        )
    return float(ap[valid].mean())


def mean_average_precision(
    query_codes,
    db_codes,
    query_labels,
    db_labels,
    top_k: int | None = None,
    *,
    return_details: bool = False,
):
    """Mean average precision of Hamming ranking (mAP@all, or mAP@k with ``top_k``).

    Parameters
    ----------
    query_codes : array-like of shape (n_queries, n_bits)
        0/1 codes of the queries.
    db_codes : array-like of shape (n_db, n_bits)
        0/1 codes of the database.
    query_labels, db_labels : array-like of shape (n, ) or (n, n_labels)
        Class labels (1-D) or {0,1} indicator matrices (2-D); both of the same kind.
    top_k : int, default=None
        Only the first ``top_k`` ranks count; AP is normalised by the relevant items found
        within them. ``None`` ranks the whole database.
    return_details : bool, default=False
        Also return the per-query AP and which queries were counted.

    Returns
    -------
    map : float
        Mean AP over the queries that have at least one relevant database item.
    details : Bunch, only when ``return_details=True``
        ``ap`` (per query, 0 for excluded queries), ``valid`` (bool mask of counted queries)
        and ``n_excluded`` (queries with no relevant item, left out of the mean).

    Raises
    ------
    ValueError
        If codes or labels are malformed, or if no query has a relevant item (mAP undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.metrics import mean_average_precision
    >>> q = np.array([[0, 0, 0, 0]])
    >>> db = np.array([[0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
    >>> float(mean_average_precision(q, db, [1], [1, 2, 1]))  # ranks 1 and 2 are relevant
    1.0
    """
    ap, valid = _per_query_ap(query_codes, db_codes, query_labels, db_labels, top_k)
    value = _mean_over_valid(ap, valid)
    if return_details:
        return value, Bunch(ap=ap, valid=valid, n_excluded=int((~valid).sum()))
    return value


def precision_at_k(query_codes, db_codes, query_labels, db_labels, k):
    """Mean precision of the first ``k`` ranked items (ties by database index).

    Averaged over the queries that have at least one relevant database item, as mAP is.
    ``k`` may be an int (returns a float) or a sequence of ints (returns an array).

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.metrics import precision_at_k
    >>> q = np.array([[0, 0]])
    >>> db = np.array([[0, 1], [0, 0], [1, 1]])
    >>> precision_at_k(q, db, [1], [0, 1, 1], k=[1, 2, 3]).round(3).tolist()
    [1.0, 0.5, 0.667]
    """
    scalar = np.ndim(k) == 0
    ks = np.atleast_1d(np.asarray(k))
    if ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or (ks < 1).any():
        raise ValueError(f"k must be a positive int or a sequence of positive ints; got {k!r}.")
    pq, pd, ql, dl, _ = _prepare(query_codes, db_codes, query_labels, db_labels)
    kmax = int(min(ks.max(), pd.shape[0]))
    clipped = np.minimum(ks, pd.shape[0])
    sums = np.zeros(ks.shape[0])
    n_valid = 0
    for chunk in _chunks(pq.shape[0], pd.shape[0]):
        dist = hamming_distances(pq[chunk], pd)
        rel = _relevance(ql[chunk], dl)
        valid = rel.any(axis=1)
        order = np.argsort(dist, axis=1, kind="stable")[:, :kmax]
        hits = np.cumsum(np.take_along_axis(rel, order, axis=1), axis=1)[valid]
        sums += (hits[:, clipped - 1] / ks).sum(axis=0)
        n_valid += int(valid.sum())
    if n_valid == 0:
        raise ValueError("precision@k is undefined: no query has a relevant database item.")
    result = sums / n_valid
    return float(result[0]) if scalar else result


def precision_recall_curve(query_codes, db_codes, query_labels, db_labels):
    """Precision and recall of Hamming-ball retrieval at every radius 0..n_bits.

    At radius r a query retrieves every database item within Hamming distance r. Recall is
    averaged over the queries that have a relevant item; precision over the queries that
    retrieve at least one item at that radius. Where no query retrieves anything (small radii),
    precision is 1.0 by convention, the value of an empty answer that makes no mistake.

    Returns
    -------
    precision, recall : ndarray of shape (n_bits + 1,)
    radii : ndarray of shape (n_bits + 1,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.metrics import precision_recall_curve
    >>> p, r, radii = precision_recall_curve([[0, 0]], [[0, 0], [1, 1]], [0], [0, 1])
    >>> p.tolist(), r.tolist(), radii.tolist()
    ([1.0, 1.0, 0.5], [1.0, 1.0, 1.0], [0, 1, 2])
    """
    pq, pd, ql, dl, n_bits = _prepare(query_codes, db_codes, query_labels, db_labels)
    n_radii = n_bits + 1
    precision_sum = np.zeros(n_radii)
    n_retrieving = np.zeros(n_radii)
    recall_sum = np.zeros(n_radii)
    n_valid = 0
    for chunk in _chunks(pq.shape[0], pd.shape[0]):
        dist = hamming_distances(pq[chunk], pd).astype(np.int64)
        rel = _relevance(ql[chunk], dl)
        c = dist.shape[0]
        flat = (dist + (np.arange(c) * n_radii)[:, None]).ravel()
        retrieved = np.cumsum(np.bincount(flat, minlength=c * n_radii).reshape(c, n_radii), 1)
        relevant = np.cumsum(
            np.bincount(flat, weights=rel.ravel(), minlength=c * n_radii).reshape(c, n_radii), 1
        )
        total = relevant[:, -1]
        valid = total > 0
        n_valid += int(valid.sum())
        retrieved, relevant, total = retrieved[valid], relevant[valid], total[valid]
        recall_sum += (relevant / total[:, None]).sum(axis=0)
        has = retrieved > 0
        precision_sum += np.divide(relevant, retrieved, out=np.zeros_like(relevant), where=has).sum(
            0
        )
        n_retrieving += has.sum(axis=0)
    if n_valid == 0:
        raise ValueError("The precision-recall curve is undefined: no query has a relevant item.")
    precision = np.divide(precision_sum, n_retrieving, out=np.ones(n_radii), where=n_retrieving > 0)
    return precision, recall_sum / n_valid, np.arange(n_radii)


def map_per_class(query_codes, db_codes, query_labels, db_labels, top_k=None):
    """mAP of the queries of each class.

    A multi-label query counts for each of its labels. Classes with no counted query are left
    out of the result rather than reported as NaN.

    Returns
    -------
    Bunch
        ``classes`` (class values, or label columns for indicator labels), ``map`` (mAP of each
        class's queries) and ``n_queries`` (how many counted queries each class has).
    """
    ap, valid = _per_query_ap(query_codes, db_codes, query_labels, db_labels, top_k)
    membership, classes = _query_membership(query_labels)
    membership = membership[valid]
    counts = membership.sum(axis=0)
    keep = counts > 0
    sums = membership.T.astype(np.float64) @ ap[valid]
    return Bunch(
        classes=classes[keep], map=sums[keep] / counts[keep], n_queries=counts[keep].astype(int)
    )


def _query_membership(query_labels):
    labels = query_labels.toarray() if sp.issparse(query_labels) else np.asarray(query_labels)
    if labels.ndim == 2:
        return labels.astype(bool), np.arange(labels.shape[1])
    classes = np.unique(labels)
    return labels[:, None] == classes[None, :], classes


def map_by_frequency_group(
    query_codes,
    db_codes,
    query_labels,
    db_labels,
    train_labels,
    *,
    groups: dict | None = None,
    top_k: int | None = None,
) -> Bunch:
    """mAP of the queries of head, medium and tail classes.

    Classes are grouped by how often they occur in ``train_labels`` with
    :func:`skmetacmh.datasets.frequency_groups` (default: thirds of the classes by training
    frequency), or by ``groups``, a dict mapping a group name to its classes. A query belongs to
    every group one of its labels is in. A group whose queries all lack relevant items is left
    out of ``map``; ``n_queries`` still lists it with 0.

    Returns
    -------
    Bunch
        ``map`` (dict group -> mAP), ``n_queries`` (dict group -> counted queries) and
        ``groups`` (dict group -> classes).
    """
    from .datasets import frequency_groups

    if groups is None:
        groups = frequency_groups(train_labels)
    ap, valid = _per_query_ap(query_codes, db_codes, query_labels, db_labels, top_k)
    membership, classes = _query_membership(query_labels)
    result, n_queries = {}, {}
    for name, group_classes in groups.items():
        cols = np.isin(classes, np.asarray(group_classes))
        in_group = membership[:, cols].any(axis=1) & valid
        n_queries[name] = int(in_group.sum())
        if n_queries[name]:
            result[name] = float(ap[in_group].mean())
    return Bunch(map=result, n_queries=n_queries, groups=groups)


# --------------------------------------------------------------------------- hashers
def _hasher_labels(hasher, y, name):
    from ._validation import labels_to_indicator

    return labels_to_indicator(y, hasher.classes_, hasher.multilabel_, name=name)


def cross_modal_map(hasher, X_query, y_query, X_db=None, y_db=None, top_k=None) -> dict:
    """Image->text and text->image mAP of a fitted hasher, and their mean.

    Parameters
    ----------
    hasher : fitted cross-modal hasher, or a fitted Pipeline that ends in one
        A Pipeline's preprocessing steps transform the queries (and ``X_db``) first.
    X_query : array-like of shape (n_queries, n_features)
        Query items, both modalities as in ``fit``.
    y_query : array-like
        Their labels, in the form used in ``fit``.
    X_db, y_db : array-like, default=None
        A database to search; by default the hasher's fitted one (its training set).
    top_k : int, default=None
        mAP@k instead of mAP@all.

    Returns
    -------
    dict
        ``{"image_to_text": float, "text_to_image": float, "mean": float}``.
    """
    return _cross_modal_map(hasher, X_query, y_query, X_db, y_db, top_k, "both")


def _unwrap_pipeline(estimator, X_query, X_db):
    """Pass the data through a Pipeline's preprocessing; return its final hasher."""
    from sklearn.pipeline import Pipeline

    while isinstance(estimator, Pipeline):
        preprocessing = estimator[:-1]
        X_query = preprocessing.transform(X_query)
        if X_db is not None:
            X_db = preprocessing.transform(X_db)
        estimator = estimator[-1]
    return estimator, X_query, X_db


def _cross_modal_map(hasher, X_query, y_query, X_db, y_db, top_k, direction):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(hasher)
    hasher, X_query, X_db = _unwrap_pipeline(hasher, X_query, X_db)
    query_codes = hasher.transform(X_query)
    if hasattr(query_codes, "to_numpy"):
        query_codes = query_codes.to_numpy()
    query_labels = _hasher_labels(hasher, y_query, "y_query")
    if X_db is None:
        if y_db is not None:
            raise ValueError("y_db was given without X_db; pass both or neither.")
        db_codes, db_labels = hasher.database_codes_, hasher.database_labels_
    else:
        if y_db is None:
            raise ValueError("X_db was given without y_db; pass both or neither.")
        db_codes = hasher.transform(X_db)
        if hasattr(db_codes, "to_numpy"):
            db_codes = db_codes.to_numpy()
        db_labels = _hasher_labels(hasher, y_db, "y_db")
    b = hasher.n_bits
    out = {}
    if direction in ("both", "image_to_text"):
        out["image_to_text"] = mean_average_precision(
            query_codes[:, :b], db_codes[:, b:], query_labels, db_labels, top_k
        )
    if direction in ("both", "text_to_image"):
        out["text_to_image"] = mean_average_precision(
            query_codes[:, b:], db_codes[:, :b], query_labels, db_labels, top_k
        )
    out["mean"] = float(np.mean(list(out.values())))
    return out


class _CrossModalScorer:
    """Callable ``scorer(estimator, X, y)`` for ``GridSearchCV`` and ``cross_val_score``."""

    def __init__(self, direction: str, top_k: int | None):
        self.direction = direction
        self.top_k = top_k

    def __call__(self, estimator, X, y) -> float:
        result = _cross_modal_map(estimator, X, y, None, None, self.top_k, self.direction)
        return result["mean"]

    def __repr__(self) -> str:
        return f"make_cross_modal_scorer(direction={self.direction!r}, top_k={self.top_k!r})"


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
        mAP@k instead of mAP@all.

    Examples
    --------
    >>> from skmetacmh.metrics import make_cross_modal_scorer
    >>> make_cross_modal_scorer(top_k=50)
    make_cross_modal_scorer(direction='both', top_k=50)
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}.")
    if top_k is not None:
        _check_top_k(top_k, 1)
    return _CrossModalScorer(direction, top_k)
