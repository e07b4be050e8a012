"""The retrieval protocol's split: queries, a retrieval database, and a training set inside it."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._long_tail import PROFILES, _check_labels, _class_name, make_long_tailed

__all__ = ["split_query_database"]


def _per_class_queries(indicator, classes, n_query, rng):
    """At least ``n_query`` queries carrying each class, rarest class first."""
    sizes = indicator.sum(axis=0)
    is_query = np.zeros(indicator.shape[0], dtype=bool)
    for k in np.argsort(sizes, kind="stable"):
        if sizes[k] == 0:
            continue
        if sizes[k] <= n_query:
            raise ValueError(
                f"Class {_class_name(classes[k])} has {sizes[k]} items; n_query={n_query} "
                "queries per class need more, so that the class keeps a database item."
            )
        need = n_query - int(indicator[is_query, k].sum())
        if need > 0:
            candidates = np.flatnonzero(indicator[:, k] & ~is_query)
            is_query[rng.choice(candidates, size=need, replace=False)] = True
    left = sizes - indicator[is_query].sum(axis=0)
    empty = np.flatnonzero((sizes > 0) & (left == 0))
    if empty.size:  # multi-label: queries drawn for other labels used up this one
        raise ValueError(
            f"After drawing n_query={n_query} queries per class, class "
            f"{_class_name(classes[empty[0]])} has no database item left; lower n_query."
        )
    return np.flatnonzero(is_query)


@validate_params(
    {
        "y": ["array-like", "sparse matrix"],
        "n_query": [Interval(Integral, 1, None, closed="left")],
        "n_train": [Interval(Integral, 1, None, closed="left"), None],
        "query": [StrOptions({"per_class", "random"})],
        "train_imbalance_factor": [Interval(Real, 1, None, closed="left"), None],
        "profile": [StrOptions(set(PROFILES))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def split_query_database(
    y,
    n_query,
    n_train=None,
    *,
    query: str = "per_class",
    train_imbalance_factor=None,
    profile: str = "exponential",
    random_state=None,
) -> Bunch:
    """Split items into queries, a retrieval database, and a training set inside the database.

    Queries are drawn first; the database is every other item; the training set is drawn from
    the database. So no query is ever trained on or retrieved, and every training item can be
    retrieved. (The public MetaCMH split of NUS-WIDE draws its queries from its training set;
    this one cannot.)

    Parameters
    ----------
    y : array-like or sparse matrix of shape (n_samples,) or (n_samples, n_labels)
        Class labels (1-D or an ``(n, 1)`` column), or a {0,1} label indicator matrix.
    n_query : int
        With ``query="per_class"``, the number of queries **per class**: exactly ``n_query``
        for single-label ``y``; for multi-label ``y`` at least ``n_query`` queries carry each
        label (labels are served rarest first, and a query counts for all its labels).
        With ``query="random"``, the total number of queries.
    n_train : int, default=None
        Size of the training set, drawn uniformly from the database; None trains on the whole
        database. Must be None when ``train_imbalance_factor`` is given.
    query : {"per_class", "random"}, default="per_class"
        Balanced queries per class (what long-tail evaluation needs, so that tail classes are
        measured on as many queries as head classes), or a uniform random draw.
    train_imbalance_factor : float >= 1, default=None
        When given, the training set is the long-tailed subset of the database that
        :func:`make_long_tailed` draws with this imbalance factor and ``profile`` (head quota:
        the most the database allows). For another head size, call
        ``make_long_tailed(y[split.database], ..., n_max=...)`` yourself and index
        ``split.database`` with its ``indices``.
    profile : {"exponential", "linear", "step"}, default="exponential"
        Quota profile for ``train_imbalance_factor``.
    random_state : int, RandomState instance or None, default=None
        Controls every draw; an int gives the same split every time.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        Sorted int64 index arrays into ``y``: ``query``, ``database`` (all other items) and
        ``train`` (a subset of ``database``).

    Raises
    ------
    ValueError
        For bad arguments, a class with too few items for ``n_query`` queries, or more
        queries or training items than there are items.

    See Also
    --------
    make_long_tailed : The long-tailed subset drawn for ``train_imbalance_factor``.

    Examples
    --------
    The calibration protocol: 20 queries per class, the rest as database, a training set with
    imbalance factor 50.

    >>> import numpy as np
    >>> from skmetacmh.datasets import split_query_database
    >>> y = np.repeat(np.arange(10), 200)
    >>> split = split_query_database(y, 20, train_imbalance_factor=50, random_state=0)
    >>> len(split.query), len(split.database)
    (200, 1800)
    >>> np.bincount(y[split.train]).tolist()
    [180, 117, 75, 49, 32, 20, 13, 9, 6, 4]
    """
    indicator, classes, multilabel = _check_labels(y)
    n_samples = indicator.shape[0]
    rng = check_random_state(random_state)
    if query == "per_class":
        queries = _per_class_queries(indicator, classes, n_query, rng)
    else:
        if n_query >= n_samples:
            raise ValueError(
                f"n_query={n_query} random queries leave no database among {n_samples} items."
            )
        queries = np.sort(rng.choice(n_samples, size=n_query, replace=False))
    is_query = np.zeros(n_samples, dtype=bool)
    is_query[queries] = True
    database = np.flatnonzero(~is_query)
    if train_imbalance_factor is not None:
        if n_train is not None:
            raise ValueError(
                "n_train must be None when train_imbalance_factor is given; to choose the "
                "head size, call make_long_tailed(y[split.database], ..., n_max=...) yourself."
            )
        # The parsed labels, so that a column, a sparse matrix or strings mean what they meant
        # above: the indicator itself, or the class of each item.
        y_db = indicator[database] if multilabel else classes[indicator[database].argmax(axis=1)]
        subset = make_long_tailed(y_db, train_imbalance_factor, profile, random_state=rng)
        train = database[subset.indices]
    elif n_train is None:
        train = database.copy()
    else:
        if n_train > database.size:
            raise ValueError(
                f"n_train={n_train} exceeds the {database.size} database items left after "
                f"{queries.size} queries."
            )
        train = np.sort(rng.choice(database, size=n_train, replace=False))
    return Bunch(
        query=queries.astype(np.int64),
        database=database.astype(np.int64),
        train=train.astype(np.int64),
    )
