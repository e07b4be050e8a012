"""Head, medium and tail classes by training frequency."""

from __future__ import annotations

from sklearn.utils._param_validation import StrOptions, validate_params

from .._labels import GROUP_NAMES, class_counts, group_by_frequency

__all__ = ["frequency_groups", "GROUP_NAMES"]


@validate_params(
    {
        "y_train": ["array-like", "sparse matrix"],
        "method": [StrOptions({"thirds", "thresholds"})],
        "thresholds": [tuple, list],
    },
    prefer_skip_nested_validation=True,
)
def frequency_groups(y_train, *, method: str = "thirds", thresholds=(100, 20)) -> dict:
    """Split classes into head, medium and tail groups by how often they occur in training.

    Long-tail evaluation reports mAP per group, so that the rare (tail) classes are not hidden
    by the frequent ones in one overall mean.

    Parameters
    ----------
    y_train : array-like or sparse matrix of shape (n_samples,) or (n_samples, n_labels)
        Training labels: class labels (1-D or an ``(n, 1)`` column), or a {0,1} indicator
        matrix (a multi-label item counts once for each of its labels).
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

    See Also
    --------
    skmetacmh.metrics.map_by_frequency_group : The mAP of each group's queries.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.datasets import frequency_groups
    >>> y = np.repeat([0, 1, 2, 3, 4, 5], [50, 40, 10, 8, 2, 1])
    >>> {k: v.tolist() for k, v in frequency_groups(y).items()}
    {'head': [0, 1], 'medium': [2, 3], 'tail': [4, 5]}
    """
    if len(thresholds) != 2:
        raise ValueError(f"thresholds must be a pair (many, few); got {thresholds!r}.")
    return group_by_frequency(*class_counts(y_train, name="y_train"), method, thresholds)
