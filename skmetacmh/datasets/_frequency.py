"""Head, medium and tail classes by training frequency."""

from __future__ import annotations

import numpy as np

__all__ = ["frequency_groups", "GROUP_NAMES"]

GROUP_NAMES = ("head", "medium", "tail")


def _class_counts(y_train):
    y = np.asarray(y_train)
    if y.ndim == 2:
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("A 2-D y_train must be a {0,1} label indicator matrix.")
        return np.arange(y.shape[1]), y.sum(axis=0).astype(np.int64)
    if y.ndim != 1:
        raise ValueError(f"y_train must be 1-D labels or a 2-D indicator; got shape {y.shape}.")
    classes, counts = np.unique(y, return_counts=True)
    return classes, counts.astype(np.int64)


def frequency_groups(y_train, *, method: str = "thirds", thresholds=(100, 20)) -> dict:
    """Split classes into head, medium and tail groups by how often they occur in training.

    Parameters
    ----------
    y_train : array-like of shape (n_samples,) or (n_samples, n_labels)
        Training labels: class labels, or a {0,1} indicator matrix (a multi-label item counts
        once for each of its labels).
    method : {"thirds", "thresholds"}, default="thirds"
        ``"thirds"`` (default) sorts the classes by training frequency, most frequent first
        (ties by class order), and cuts the list into three groups of (nearly) equal size; the
        tail is the rarest third. This works on any dataset size, which fixed shot counts do not.
        ``"thresholds"`` uses absolute counts as in OLTR (Liu et al., CVPR 2019): head has more
        than ``thresholds[0]`` training items, tail fewer than ``thresholds[1]``, medium the rest.
    thresholds : tuple of two ints, default=(100, 20)
        ``(many, few)`` used by ``method="thresholds"``; ignored otherwise.

    Returns
    -------
    groups : dict
        ``{"head": classes, "medium": classes, "tail": classes}``, each a 1-D array of class
        values (1-D ``y_train``) or label column indices (indicator ``y_train``). Classes that
        never occur in training are put in the tail.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.datasets import frequency_groups
    >>> y = np.repeat([0, 1, 2, 3, 4, 5], [50, 40, 10, 8, 2, 1])
    >>> {k: v.tolist() for k, v in frequency_groups(y).items()}
    {'head': [0, 1], 'medium': [2, 3], 'tail': [4, 5]}
    """
    classes, counts = _class_counts(y_train)
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
    if method == "thresholds":
        many, few = thresholds
        if not few <= many:
            raise ValueError(
                f"thresholds must be (many, few) with few <= many; got {thresholds!r}."
            )
        return {
            "head": classes[counts > many],
            "medium": classes[(counts >= few) & (counts <= many)],
            "tail": classes[counts < few],
        }
    raise ValueError(f"method must be 'thirds' or 'thresholds'; got {method!r}.")
