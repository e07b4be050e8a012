"""The label contract: the one place that decides what a target ``y`` is.

Every module that reads labels (``fit``, every metric, the long-tail and split tools, the
frequency groups) goes through :func:`check_labels`, as every scikit-learn metric goes through
``type_of_target``. The rules:

* A 1-D array holds **class labels** (single-label): integers, strings or bools, or floats that
  hold integer values (``1.0``). NaN or infinite labels are an error, and so are floats with a
  fractional part: scikit-learn's ``type_of_target`` calls such a target ``"continuous"``, a
  regression target, not classes (taken as classes, every item would be a class of its own).
* A 2-D array with two or more columns is a **{0,1} label indicator** (multi-label), dense or
  sparse, numbers or bools. Two items are relevant when they share at least one label.
* A 2-D array with **one column** is a column of class labels, as pandas or ``reshape(-1, 1)``
  produce it (scikit-learn's ``type_of_target`` rule: an indicator needs at least two columns).
* Anything else (3-D, ragged, strings in 2-D, values other than 0/1 in an indicator) is an error
  that names the argument, what was expected and what came.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "GROUP_NAMES",
    "as_label_indicator",
    "check_fit_labels",
    "check_label_pair",
    "check_labels",
    "check_one_label_per_row",
    "class_counts",
    "group_by_frequency",
    "joint_label_indicators",
    "labels_to_indicator",
]

#: The frequency groups, most frequent classes first.
GROUP_NAMES = ("head", "medium", "tail")


def _has_nan(y: np.ndarray) -> bool:
    if y.dtype.kind in "fc":
        return not bool(np.all(np.isfinite(y)))
    if y.dtype == object:
        return any(isinstance(v, float) and not np.isfinite(v) for v in y.ravel())
    return False


def _first_fractional(y: np.ndarray):
    """The first value of a float array that is not an integer, or ``None`` (finite ``y``)."""
    if y.dtype.kind != "f":
        return None
    fractional = y != np.floor(y)
    return y[fractional].ravel()[0] if fractional.any() else None


def check_labels(y, *, name: str = "y", multilabel: bool | None = None):
    """Decide what kind of target ``y`` is and return it in canonical form.

    Parameters
    ----------
    y : array-like or sparse matrix
        1-D class labels, an ``(n, 1)`` column of class labels, or a 2-D {0,1} indicator.
    name : str, default="y"
        The argument's name, for error messages.
    multilabel : bool or None, default=None
        The kind ``y`` must be (as learned in ``fit``); ``None`` infers it.

    Returns
    -------
    y : ndarray
        1-D class labels, or a 2-D ``uint8`` indicator.
    multilabel : bool
        Whether ``y`` is an indicator.
    """
    if y is None:
        raise ValueError(
            f"{name} is None: give 1-D class labels or a 2-D {{0,1}} label indicator matrix."
        )
    if sp.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and multilabel is not True:
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D class labels or a 2-D {{0,1}} label indicator matrix; got an "
            f"array with {y.ndim} dimensions and shape {y.shape}."
        )
    if y.dtype.kind == "c":
        raise ValueError(
            f"{name} holds complex numbers ({y.dtype}); labels must be class values or 0/1."
        )
    if _has_nan(y):
        raise ValueError(
            f"{name} contains NaN or infinity; labels must be finite class values or 0/1."
        )
    if y.ndim == 1:
        fractional = _first_fractional(y)
        if fractional is not None:
            raise ValueError(
                f"{name} holds continuous values (for instance {float(fractional)!r}): "
                "scikit-learn's type_of_target calls such a target 'continuous'. Class labels "
                "must be integers, strings or bools (floats only with integer values, such as "
                "1.0); bin a continuous target into classes first, for instance with "
                "sklearn.preprocessing.KBinsDiscretizer."
            )
        if multilabel:
            raise ValueError(
                f"{name} must be a {{0,1}} indicator matrix, as in fit; got 1-D labels of shape "
                f"{y.shape}."
            )
        return y, False
    if multilabel is False:
        raise ValueError(f"{name} must be 1-D class labels, as in fit; got shape {y.shape}.")
    # "{name} is 2-D": the name may be a phrase ("the labels in file.mat"), not an identifier.
    if y.dtype != bool and not np.issubdtype(y.dtype, np.number):
        raise ValueError(
            f"{name} is 2-D with {y.shape[1]} columns, so it must be a {{0,1}} label indicator "
            f"matrix (one column per label); got dtype {y.dtype}."
        )
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(
            f"{name} is 2-D with {y.shape[1]} columns, so it must be a {{0,1}} label indicator "
            f"matrix (one column per label); found the value {y[bad].ravel()[0].item()!r}."
        )
    return y.astype(np.uint8), True


def _unique_classes(y: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.unique(y)
    except TypeError as exc:
        raise ValueError(
            f"{name} holds labels of mixed types that cannot be compared: {exc}."
        ) from exc


def as_label_indicator(y, *, classes=None, multilabel=None, name: str = "y"):
    """Labels as a {0,1} indicator matrix, with the classes its columns stand for.

    Parameters
    ----------
    y : array-like or sparse matrix
        Labels in any form :func:`check_labels` accepts.
    classes : ndarray or None, default=None
        Known classes (as learned in ``fit``). A class label not in ``classes`` becomes an
        all-zero row: that item is relevant to nothing. ``None`` learns them from ``y``.
    multilabel : bool or None, default=None
        The kind ``y`` must be; ``None`` infers it.
    name : str, default="y"
        The argument's name, for error messages.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_classes), dtype uint8
        One column per class (1-D labels) or per label (indicator).
    classes : ndarray
        Sorted class values, or ``arange(n_labels)`` for an indicator.
    multilabel : bool
        Whether ``y`` was an indicator.
    """
    y, multilabel = check_labels(y, name=name, multilabel=multilabel)
    if multilabel:
        if classes is not None and y.shape[1] != len(classes):
            raise ValueError(
                f"{name} must be a {{0,1}} indicator matrix with {len(classes)} columns, as in "
                f"fit; got shape {y.shape}."
            )
        return y, np.arange(y.shape[1]), True
    if classes is None:
        classes = _unique_classes(y, name)
    return (y[:, None] == classes[None, :]).astype(np.uint8), classes, False


def labels_to_indicator(y, classes: np.ndarray, multilabel: bool, name: str = "y") -> np.ndarray:
    """Map labels to the indicator columns learned in ``fit``.

    A 1-D label that training never saw becomes an all-zero row: that item is relevant to
    nothing, so as a query it is excluded from mAP (and counted) and as a database item it is
    never a hit.
    """
    return as_label_indicator(y, classes=classes, multilabel=multilabel, name=name)[0]


def joint_label_indicators(y_a, y_b, *, names=("y_a", "y_b")):
    """Two sets of labels as indicators over the same columns, when no fit fixed the classes.

    The classes are those of both sets together, so that a class present in only one of them
    is still a column (relevant to nothing on the other side). Both must be of one kind.

    Returns
    -------
    Y_a, Y_b : ndarray of uint8, shape (n_a, n_classes) and (n_b, n_classes)
    """
    a, multilabel = check_labels(y_a, name=names[0])
    b, _ = check_labels(y_b, name=names[1], multilabel=multilabel)
    if multilabel:
        classes = np.arange(a.shape[1])
    else:
        classes = _unique_classes(np.concatenate([a, b]), f"{names[0]} and {names[1]}")
    return (
        labels_to_indicator(a, classes, multilabel, name=names[0]),
        labels_to_indicator(b, classes, multilabel, name=names[1]),
    )


def check_one_label_per_row(
    n_labels: int, n_rows: int, *, labels_name: str = "y", rows_name: str = "X"
) -> None:
    """Refuse labels that do not have exactly one entry per row of the data they describe."""
    if n_labels != n_rows:
        raise ValueError(
            f"{labels_name} must have one entry per row of {rows_name}: {rows_name} has "
            f"{n_rows} rows but {labels_name} has {n_labels}."
        )


def check_fit_labels(y, n_samples: int, *, supervised: bool = True):
    """Validate training labels and turn them into an indicator matrix.

    ``supervised=False`` (a hasher that only stores ``y`` as the database's labels) accepts
    any valid labels, a single class included; a supervised hasher needs two classes or labels.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_classes), dtype uint8
        Indicator matrix; for 1-D ``y`` one column per class in ``classes``.
    classes : ndarray
        Sorted class values (1-D ``y``) or ``arange(n_labels)`` (indicator ``y``).
    multilabel : bool
        Whether ``y`` was given as an indicator matrix.
    """
    if y is None:
        raise ValueError(
            "This hasher requires y to be passed, but the target y is None: give 1-D class "
            "labels or a 2-D {0,1} label indicator matrix."
        )
    Y, classes, multilabel = as_label_indicator(y)
    check_one_label_per_row(Y.shape[0], n_samples)
    if n_samples < 2:
        raise ValueError(
            f"At least 2 samples are needed to learn hash codes; got {n_samples} sample."
        )
    if not supervised:
        return Y, classes, multilabel
    if multilabel and np.count_nonzero(Y.any(axis=0)) < 2:
        raise ValueError(
            "y must contain at least 2 different labels to learn anything supervised; "
            f"the indicator matrix uses {np.count_nonzero(Y.any(axis=0))} of its "
            f"{Y.shape[1]} columns."
        )
    if not multilabel and classes.shape[0] < 2:
        raise ValueError(
            f"y must contain at least 2 classes; got only {classes.shape[0]} ({classes!r})."
        )
    return Y, classes, multilabel


def check_label_pair(query_labels, db_labels, n_query: int, n_db: int):
    """Query and database labels of a metric, as one kind, in the form the engines take.

    Returns
    -------
    query_labels, db_labels : ndarray
        int64 class ids over the union of both label sets (1-D labels), or uint8 indicators
        with the same columns.
    multilabel : bool
    """
    q, q_multi = check_labels(query_labels, name="query_labels")
    d, d_multi = check_labels(db_labels, name="db_labels")
    for name, labels, n in (("query_labels", q, n_query), ("db_labels", d, n_db)):
        if labels.shape[0] != n:
            raise ValueError(
                f"{name} must have one row per code: {n} codes but {labels.shape[0]} labels."
            )
    if q_multi != d_multi:
        raise ValueError(
            "query_labels and db_labels must both be class labels or both be {0,1} indicator "
            f"matrices; got {q.ndim}-D query labels and {d.ndim}-D database labels."
        )
    if q_multi:
        if q.shape[1] != d.shape[1]:
            raise ValueError(
                "query_labels and db_labels must have the same number of label columns; got "
                f"{q.shape[1]} and {d.shape[1]}."
            )
        return q, d, True
    try:
        _, ids = np.unique(np.concatenate([q, d]), return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"The labels hold mixed types that cannot be compared: {exc}.") from exc
    ids = ids.reshape(-1).astype(np.int64)
    return ids[:n_query], ids[n_query:], False


def class_counts(y, *, name: str = "y"):
    """Classes of ``y`` and how many items carry each (a multi-label item counts for each label).

    Returns
    -------
    classes : ndarray
        Sorted class values (1-D ``y``) or label column indices (indicator ``y``).
    counts : ndarray of int64
    """
    y, multilabel = check_labels(y, name=name)
    if multilabel:
        return np.arange(y.shape[1]), y.sum(axis=0, dtype=np.int64)
    try:
        classes, counts = np.unique(y, return_counts=True)
    except TypeError as exc:
        raise ValueError(
            f"{name} holds labels of mixed types that cannot be compared: {exc}."
        ) from exc
    return classes, counts.astype(np.int64)


def group_by_frequency(classes, counts, method: str = "thirds", thresholds=(100, 20)) -> dict:
    """Head, medium and tail classes from their counts (see ``datasets.frequency_groups``)."""
    if method == "thirds":
        order = np.argsort(-counts, kind="stable")
        n = classes.shape[0]
        # Sizes as equal as possible; any remainder goes to head then medium.
        base, extra = divmod(n, 3)
        sizes = [base + (extra > 0), base + (extra > 1), base]
        bounds = np.cumsum([0, *sizes])
        return {
            name: np.sort(classes[order[bounds[i] : bounds[i + 1]]])
            for i, name in enumerate(GROUP_NAMES)
        }
    many, few = thresholds
    if not few <= many:
        raise ValueError(f"thresholds must be (many, few) with few <= many; got {thresholds!r}.")
    return {
        "head": classes[counts > many],
        "medium": classes[(counts >= few) & (counts <= many)],
        "tail": classes[counts < few],
    }
