"""Retrieval metrics of Hamming ranking on codes: mAP, mAP@k, precision@k, PR curve, per class.

Definitions (the contract every number in this package follows):

* **Relevance.** Two items are relevant when they share at least one label: equal class labels
  for 1-D labels, a common 1 for indicator matrices (see ``skmetacmh._labels``).
* **Ranking.** The database is sorted by ascending Hamming distance to the query; ties are
  broken by database index (a stable sort), so results are deterministic and do not depend on
  the sorting algorithm.
* **AP** of a query is the mean of precision@r over the ranks r of its relevant items.
  **mAP** is the mean AP over the queries that have at least one relevant item in the database;
  the others are excluded (and counted in the details), since their AP is undefined.
* With ``top_k``, only the first ``top_k`` ranks count and AP is normalised by the number of
  relevant items found within them (the usual mAP@k of hashing papers); a query whose relevant
  items all lie beyond ``top_k`` scores 0. mAP@k and precision@k with a small ``k`` run one
  exact top-k search per query (the engine of :class:`~skmetacmh.index.HammingIndex`), not a
  ranking of the whole database.

The work runs on the search engine chosen once in ``skmetacmh._search`` (compiled when built);
the numpy paths go through the queries in chunks sized from scikit-learn's ``working_memory``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_params,
)

from .._docstring import Substitution
from .._labels import as_label_indicator, check_label_pair, class_counts, group_by_frequency
from .._search import check_codes, default_engine, n_words, pack_codes
from .._search._engine import TOP_K_SEARCH_RATIO, gathered_relevance, has_relevant, relevance
from .._search._numpy_engine import hamming_distances

__all__ = [
    "mean_average_precision",
    "map_per_class",
    "map_by_frequency_group",
    "precision_at_k",
    "precision_recall_curve",
]

# Bytes of working memory one (query, database item) pair costs in a chunk of precision@k or the
# PR curve: distances, the argsort output (8), relevance and its reordered copy, bin counts.
_BYTES_PER_PAIR = 28

_LABELS = ["array-like", "sparse matrix"]
_TOP_K = [Interval(Integral, 1, None, closed="left"), None]
# The four arrays of every ranking metric, declared and documented once.
_PROBLEM = {
    "query_codes": ["array-like"],
    "db_codes": ["array-like"],
    "query_labels": _LABELS,
    "db_labels": _LABELS,
}
_DOCS = Substitution(
    ranking_problem="""query_codes : array-like of shape (n_queries, n_bits)
        0/1 codes of the queries.
    db_codes : array-like of shape (n_db, n_bits)
        0/1 codes of the database.
    query_labels : array-like or sparse matrix of shape (n_queries,) or (n_queries, n_labels)
        Class labels (1-D, or an ``(n, 1)`` column) or a {0,1} indicator matrix.
    db_labels : array-like or sparse matrix of shape (n_db,) or (n_db, n_labels)
        The database's labels, of the same kind as ``query_labels``.""",
    top_k="""top_k : int, default=None
        Only the first ``top_k`` ranks count (mAP@k); ``None`` ranks the whole database.""",
)


def _reject_bool(value, name: str, function: str, allowed: str) -> None:
    # validate_params treats a bool as an int (True == 1); a bool k is a mistake, not 1.
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The {name!r} parameter of {function} must be {allowed}. Got {value!r} instead."
        )


# --------------------------------------------------------------------------- preparation
def engine_labels(query_labels: np.ndarray, db_labels: np.ndarray, multilabel: bool):
    """Labels in the engines' form: class ids as they are, indicators packed as bit sets."""
    if multilabel:
        return pack_codes(query_labels), pack_codes(db_labels), n_words(query_labels.shape[1])
    return query_labels, db_labels, 0


class _Problem:
    """Validated, packed codes and labels of one ranking problem."""

    def __init__(self, query_codes, db_codes, query_labels, db_labels):
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
        ql, dl, multilabel = check_label_pair(query_labels, db_labels, q.shape[0], d.shape[0])
        self.n_bits = q.shape[1]
        self.queries, self.db = pack_codes(q), pack_codes(d)
        self.query_labels, self.db_labels, self.label_words = engine_labels(ql, dl, multilabel)

    def average_precision(self, top_k, engine=None):
        engine = default_engine() if engine is None else engine
        return engine.average_precision(
            self.queries,
            self.db,
            self.n_bits,
            self.query_labels,
            self.db_labels,
            self.label_words,
            top_k,
        )

    def for_class_queries(self, rows: np.ndarray, db_carries: np.ndarray) -> _Problem:
        """The queries ``rows`` against the database, relevant = the item carries one class.

        The strict relevance of :func:`map_by_frequency_group`: the codes stay packed as they
        are; the labels become one class id, 1 on the queries and on the database items that
        carry the class, 0 on the others (single-label relevance: equal ids).
        """
        sub = object.__new__(_Problem)
        sub.n_bits, sub.db, sub.label_words = self.n_bits, self.db, 0
        sub.queries = np.ascontiguousarray(self.queries[rows])
        sub.query_labels = np.ones(sub.queries.shape[0], dtype=np.int64)
        sub.db_labels = np.ascontiguousarray(db_carries, dtype=np.int64)
        return sub

    def _slices(self):
        n_query, n_db = self.queries.shape[0], self.db.shape[0]
        rows = get_chunk_n_rows(_BYTES_PER_PAIR * n_db, max_n_rows=n_query)
        for start in range(0, n_query, rows):
            yield slice(start, start + rows)

    def chunks(self):
        """Query slices sized from ``working_memory``, with their distances and relevance."""
        for chunk in self._slices():
            dist = hamming_distances(self.queries[chunk], self.db, self.n_bits)
            rel = relevance(self.query_labels[chunk], self.db_labels, self.label_words)
            yield dist, rel

    def ranked_hits(self, k: int, engine=None):
        """Per chunk: relevance of the first ``k`` ranks, and which queries have a relevant item.

        A top-k search when ``k`` is small against the database (as mAP@k), else a stable sort
        of each chunk's distances; the same chunks either way, so sums over them do not change.
        """
        engine = default_engine() if engine is None else engine
        top_k_search = k * TOP_K_SEARCH_RATIO <= self.db.shape[0]
        for chunk in self._slices():
            q_labels = self.query_labels[chunk]
            if top_k_search:
                _, ids = engine.knn(self.queries[chunk], self.db, self.n_bits, k)
                hits = gathered_relevance(q_labels, self.db_labels, self.label_words, ids)
                yield hits, has_relevant(q_labels, self.db_labels, self.label_words)
            else:
                dist = hamming_distances(self.queries[chunk], self.db, self.n_bits)
                rel = relevance(q_labels, self.db_labels, self.label_words)
                order = np.argsort(dist, axis=1, kind="stable")[:, :k]
                yield np.take_along_axis(rel, order, axis=1), rel.any(axis=1)


def mean_over_valid(ap, valid, what="mAP") -> float:
    """Mean AP of the queries that have a relevant item; an error when there is none."""
    if not valid.any():
        raise ValueError(
            f"{what} is undefined: none of the {valid.shape[0]} queries has a relevant item "
            "(an item sharing a label) in the database."
        )
    return float(ap[valid].mean())


def _per_query_ap(query_codes, db_codes, query_labels, db_labels, top_k=None, engine=None):
    """Per-query AP and the mask of counted queries (``engine``: for the parity tests)."""
    problem = _Problem(query_codes, db_codes, query_labels, db_labels)
    return problem.average_precision(top_k, engine)


# --------------------------------------------------------------------------- public metrics
@validate_params(
    {
        **_PROBLEM,
        "top_k": _TOP_K,
        "return_details": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
@_DOCS
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

    Each query ranks the database by Hamming distance (ties by database index); its AP is the
    mean precision at the ranks of its relevant items, and mAP the mean over the queries that
    have a relevant item at all. See the module docstring for the exact definitions.

    Parameters
    ----------
    {ranking_problem}
    top_k : int, default=None
        Only the first ``top_k`` ranks count; AP is normalised by the relevant items found
        within them. ``None`` ranks the whole database.
    return_details : bool, default=False
        Also return the per-query AP and which queries were counted.

    Returns
    -------
    map : float
        Mean AP over the queries that have at least one relevant database item.
    details : Bunch
        Only when ``return_details=True``: ``ap`` (per query, 0 for excluded queries),
        ``valid`` (bool mask of counted queries) and ``n_excluded`` (queries with no relevant
        item, left out of the mean).

    Raises
    ------
    ValueError
        If codes or labels are malformed, or if no query has a relevant item (mAP undefined).

    See Also
    --------
    skmetacmh.metrics.cross_modal_map : Both directions of a fitted hasher.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.metrics import mean_average_precision
    >>> q = np.array([[0, 0, 0, 0]])
    >>> db = np.array([[0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
    >>> float(mean_average_precision(q, db, [1], [1, 2, 1]))  # ranks 1 and 2 are relevant
    1.0
    """
    _reject_bool(top_k, "top_k", "mean_average_precision", "an int in the range [1, inf) or None")
    ap, valid = _per_query_ap(query_codes, db_codes, query_labels, db_labels, top_k)
    value = mean_over_valid(ap, valid)
    if return_details:
        return value, Bunch(ap=ap, valid=valid, n_excluded=int((~valid).sum()))
    return value


@validate_params(
    {
        **_PROBLEM,
        "k": [Interval(Integral, 1, None, closed="left"), "array-like"],
    },
    prefer_skip_nested_validation=True,
)
@_DOCS
def precision_at_k(query_codes, db_codes, query_labels, db_labels, k):
    """Mean precision of the first ``k`` ranked items (ties by database index).

    Averaged over the queries that have at least one relevant database item, as mAP is.

    Parameters
    ----------
    {ranking_problem}
    k : int or array-like of int
        Cut-off rank(s), each at least 1. A cut-off beyond the database counts the missing
        ranks as misses (precision is divided by ``k``).

    Returns
    -------
    precision : float or ndarray of shape (n_k,)
        A float for an int ``k``, an array for a sequence.

    See Also
    --------
    mean_average_precision : The same ranking, averaged over the relevant ranks.

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
    if (
        ks.size == 0
        or ks.ndim != 1
        or not np.issubdtype(ks.dtype, np.integer)
        or ks.dtype == bool
        or (ks < 1).any()
    ):
        raise ValueError(f"k must be a positive int or a sequence of positive ints; got {k!r}.")
    problem = _Problem(query_codes, db_codes, query_labels, db_labels)
    n_db = problem.db.shape[0]
    kmax = int(min(ks.max(), n_db))
    clipped = np.minimum(ks, n_db)
    sums = np.zeros(ks.shape[0])
    n_valid = 0
    for ranked, valid in problem.ranked_hits(kmax):
        hits = np.cumsum(ranked, axis=1)[valid]
        sums += (hits[:, clipped - 1] / ks).sum(axis=0)
        n_valid += int(valid.sum())
    if n_valid == 0:
        raise ValueError("precision@k is undefined: no query has a relevant database item.")
    result = sums / n_valid
    return float(result[0]) if scalar else result


@validate_params(
    _PROBLEM,
    prefer_skip_nested_validation=True,
)
@_DOCS
def precision_recall_curve(query_codes, db_codes, query_labels, db_labels):
    """Precision and recall of Hamming-ball retrieval at every radius 0..n_bits.

    At radius r a query retrieves every database item within Hamming distance r. Recall is
    averaged over the queries that have a relevant item; precision over the queries that
    retrieve at least one item at that radius. Where no query retrieves anything (small radii),
    precision is 1.0 by convention, the value of an empty answer that makes no mistake.

    Parameters
    ----------
    {ranking_problem}

    Returns
    -------
    precision : ndarray of shape (n_bits + 1,)
        Mean precision at each radius.
    recall : ndarray of shape (n_bits + 1,)
        Mean recall at each radius.
    radii : ndarray of shape (n_bits + 1,)
        The radii, ``0 .. n_bits``.

    See Also
    --------
    skmetacmh.index.HammingIndex.range_search : The same Hamming-ball retrieval, per query.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.metrics import precision_recall_curve
    >>> p, r, radii = precision_recall_curve([[0, 0]], [[0, 0], [1, 1]], [0], [0, 1])
    >>> p.tolist(), r.tolist(), radii.tolist()
    ([1.0, 1.0, 0.5], [1.0, 1.0, 1.0], [0, 1, 2])
    """
    problem = _Problem(query_codes, db_codes, query_labels, db_labels)
    n_radii = problem.n_bits + 1
    precision_sum = np.zeros(n_radii)
    n_retrieving = np.zeros(n_radii)
    recall_sum = np.zeros(n_radii)
    n_valid = 0
    for dist, rel in problem.chunks():
        dist = dist.astype(np.int64)
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


def _query_membership(query_labels):
    """``(n_queries, n_classes)`` bool membership of each query in each class, and the classes."""
    indicator, classes, _ = as_label_indicator(query_labels, name="query_labels")
    return indicator.astype(bool), classes


@validate_params(
    {
        **_PROBLEM,
        "top_k": _TOP_K,
        "relevance": [StrOptions({"lenient", "strict"})],
    },
    prefer_skip_nested_validation=True,
)
@_DOCS
def map_per_class(
    query_codes, db_codes, query_labels, db_labels, top_k=None, *, relevance: str = "lenient"
) -> Bunch:
    """Compute the mAP of the queries of each class.

    A multi-label query counts for each of its labels. Classes with no counted query are left
    out of the result rather than reported as NaN. ``relevance`` decides, as in
    :func:`map_by_frequency_group`, what a class's score asks of the database when labels are
    multi-label: ``"lenient"`` scores each query once, relevant = shares any label with it;
    ``"strict"`` scores the queries of class ``k`` with relevant = carries ``k``, so a rare
    class's score says whether that class itself is found. For single-label data both give the
    same numbers.

    Parameters
    ----------
    {ranking_problem}
    {top_k}
    relevance : {"lenient", "strict"}, default="lenient"
        ``"lenient"``: relevant = shares any label with the query; ``"strict"``: relevant =
        carries the class being scored.

    Returns
    -------
    result : Bunch
        ``classes`` (class values, or label columns for indicator labels), ``map`` (mAP of each
        class's queries) and ``n_queries`` (how many counted queries each class has; with
        ``relevance="strict"``, those whose class some database item carries).

    See Also
    --------
    map_by_frequency_group : The same, for head, medium and tail groups of classes.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.metrics import map_per_class
    >>> q = np.array([[0, 0], [1, 1]])
    >>> db = np.array([[0, 0], [1, 1], [0, 1]])
    >>> result = map_per_class(q, db, [0, 1], [0, 1, 1])
    >>> result.classes.tolist(), result.map.round(3).tolist()
    ([0, 1], [1.0, 1.0])
    """
    _reject_bool(top_k, "top_k", "map_per_class", "an int in the range [1, inf) or None")
    if relevance == "strict":
        problem = _Problem(query_codes, db_codes, query_labels, db_labels)
        strict = _StrictClasses(problem, query_labels, db_labels, top_k)
        pairs = [strict.ap_sum(col) for col in range(len(strict.classes))]
        sums = np.array([total for total, _ in pairs], dtype=np.float64)
        counts = np.array([count for _, count in pairs], dtype=int)
        keep = counts > 0
        return Bunch(
            classes=strict.classes[keep], map=sums[keep] / counts[keep], n_queries=counts[keep]
        )
    ap, valid = _per_query_ap(query_codes, db_codes, query_labels, db_labels, top_k)
    membership, classes = _query_membership(query_labels)
    membership = membership[valid]
    counts = membership.sum(axis=0)
    keep = counts > 0
    sums = membership.T.astype(np.float64) @ ap[valid]
    return Bunch(
        classes=classes[keep], map=sums[keep] / counts[keep], n_queries=counts[keep].astype(int)
    )


@validate_params(
    {
        **_PROBLEM,
        "train_labels": _LABELS,
        "groups": [dict, None],
        "top_k": _TOP_K,
        "relevance": [StrOptions({"lenient", "strict"})],
    },
    prefer_skip_nested_validation=True,
)
@_DOCS
def map_by_frequency_group(
    query_codes,
    db_codes,
    query_labels,
    db_labels,
    train_labels,
    *,
    groups: dict | None = None,
    top_k: int | None = None,
    relevance: str = "lenient",
) -> Bunch:
    """Compute the mAP of the queries of head, medium and tail classes.

    Classes are grouped by how often they occur in ``train_labels`` as
    :func:`skmetacmh.datasets.frequency_groups` does by default (thirds of the classes by
    training frequency), or by ``groups``. A group whose queries all lack relevant items is
    left out of ``map``; ``n_queries`` still lists it with 0.

    ``relevance`` decides what a group's score asks of the database when labels are
    multi-label:

    * ``"lenient"``: a query belongs to every group one of its labels is in and is scored once
      there, with the usual relevance (a database item shares any label with it). A query of a
      rare class that also carries a frequent one scores well by finding the frequent one.
    * ``"strict"``: a query is scored once per class of the group it carries, and for class
      ``k`` the relevant items are those that carry ``k``. The tail score then says whether
      the rare class itself is found.

    For single-label data (one class per item) both give the same numbers.

    Parameters
    ----------
    {ranking_problem}
    train_labels : array-like or sparse matrix of shape (n_train,) or (n_train, n_labels)
        The training labels whose class frequencies define the groups.
    groups : dict, default=None
        A dict mapping a group name to its classes, instead of the frequency thirds.
    {top_k}
    relevance : {"lenient", "strict"}, default="lenient"
        ``"lenient"``: one score per query, relevant = shares any label; ``"strict"``: one
        score per (query, class of the group it carries), relevant = carries that class.

    Returns
    -------
    result : Bunch
        ``map`` (dict group -> mAP), ``n_queries`` (dict group -> counted queries; with
        ``relevance="strict"`` counted (query, class) pairs, which is the number of queries
        for single-label data) and ``groups`` (dict group -> classes).

    See Also
    --------
    skmetacmh.datasets.frequency_groups : The default grouping.
    map_per_class : The mAP of each class.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.metrics import map_by_frequency_group
    >>> q, db = np.array([[0, 0], [1, 1], [0, 1]]), np.array([[0, 0], [1, 1], [0, 1]])
    >>> result = map_by_frequency_group(q, db, [0, 1, 2], [0, 1, 2], [0, 0, 0, 1, 1, 2])
    >>> {name: value for name, value in result.map.items()}
    {'head': 1.0, 'medium': 1.0, 'tail': 1.0}

    With a rare label riding on a frequent one, the strict tail asks for the rare label:

    >>> labels = np.array([[1, 1], [1, 0], [0, 1]])  # column 1 is the rare label
    >>> codes = np.array([[0, 0], [0, 0], [1, 1]])  # the query's nearest item lacks it
    >>> train = np.array([[1, 0]] * 5 + [[0, 1]])
    >>> groups = {"head": [0], "tail": [1]}
    >>> args = codes[:1], codes[1:], labels[:1], labels[1:], train
    >>> map_by_frequency_group(*args, groups=groups).map["tail"]
    1.0
    >>> map_by_frequency_group(*args, groups=groups, relevance="strict").map["tail"]
    0.5
    """
    _reject_bool(top_k, "top_k", "map_by_frequency_group", "an int in the range [1, inf) or None")
    if groups is None:
        groups = group_by_frequency(*class_counts(train_labels, name="train_labels"))
    if relevance == "strict":
        result, n_queries = _strict_groups(
            _Problem(query_codes, db_codes, query_labels, db_labels),
            query_labels,
            db_labels,
            groups,
            top_k,
        )
        return Bunch(map=result, n_queries=n_queries, groups=groups)
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


class _StrictClasses:
    """The strict relevance, class by class: for class ``k``, the queries that carry it against
    the database, relevant = carries ``k``. Each class's ranking problem is solved once, on the
    codes packed once, and only when asked for. ``engine``: for the parity tests."""

    def __init__(self, problem: _Problem, query_labels, db_labels, top_k, engine=None):
        self.membership, self.classes = _query_membership(query_labels)
        # The database's membership in the queries' classes (a 1-D class the queries lack has
        # no column: no query asks for it).
        indicator = as_label_indicator(db_labels, classes=self.classes, name="db_labels")
        self.db_membership = indicator[0]
        self.problem, self.top_k, self.engine = problem, top_k, engine
        self._sums: dict = {}

    def ap_sum(self, col: int) -> tuple[float, int]:
        """Sum of AP over the counted (query, class ``col``) pairs, and how many there are; a
        pair whose class no database item carries has no defined AP and is not counted."""
        if col not in self._sums:
            rows = np.flatnonzero(self.membership[:, col])
            if rows.size == 0:
                self._sums[col] = (0.0, 0)
            else:
                sub = self.problem.for_class_queries(rows, self.db_membership[:, col])
                ap, valid = sub.average_precision(self.top_k, self.engine)
                self._sums[col] = (float(ap[valid].sum()), int(valid.sum()))
        return self._sums[col]


def _strict_groups(problem: _Problem, query_labels, db_labels, groups: dict, top_k, engine=None):
    """Per group: mean AP over (query, class of the group it carries), relevant = carries it."""
    strict = _StrictClasses(problem, query_labels, db_labels, top_k, engine)
    result, n_queries = {}, {}
    for name, group_classes in groups.items():
        total, count = 0.0, 0
        for col in np.flatnonzero(np.isin(strict.classes, np.asarray(group_classes))):
            class_total, class_count = strict.ap_sum(col)
            total += class_total
            count += class_count
        n_queries[name] = count
        if count:
            result[name] = total / count
    return result, n_queries
