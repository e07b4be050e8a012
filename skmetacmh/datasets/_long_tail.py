"""Long-tailed subsets: class sizes falling from a head to a tail by an imbalance factor."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._labels import as_label_indicator

__all__ = ["make_long_tailed", "profile_ratios", "PROFILES"]

PROFILES = ("exponential", "linear", "step")


def profile_ratios(n_classes: int, imbalance_factor: float, profile: str = "exponential"):
    """Relative class sizes, from 1 (the head) down to ``1 / imbalance_factor`` (the tail).

    ``"exponential"``: ``IF ** (-k / (C - 1))`` for the k-th class, as in the long-tailed
    CIFAR of Cao et al. (NeurIPS 2019) and Cui et al. (CVPR 2019); ``"linear"``: sizes falling
    in equal steps; ``"step"``: the first half of the classes at 1, the rest at ``1 / IF``
    (Buda et al., Neural Networks 2018, with half the classes in the minority).
    """
    if n_classes == 1:
        return np.ones(1)
    rank = np.arange(n_classes) / (n_classes - 1)
    if profile == "exponential":
        return imbalance_factor ** (-rank)
    if profile == "linear":
        return 1.0 - (1.0 - 1.0 / imbalance_factor) * rank
    if profile == "step":
        n_head = (n_classes + 1) // 2
        return np.where(np.arange(n_classes) < n_head, 1.0, 1.0 / imbalance_factor)
    raise ValueError(f"profile must be one of {PROFILES}; got {profile!r}.")


def _check_labels(y):
    """``(indicator Y of shape (n, C) bool, class values, multilabel)`` by the label contract."""
    indicator, classes, multilabel = as_label_indicator(y)
    if indicator.shape[0] == 0:
        raise ValueError("y is empty.")
    return indicator.astype(bool), classes, multilabel


def _class_name(value) -> str:
    """A class value as a user wrote it: ``2`` or ``'cat'``, not ``np.int64(2)``."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _targets(ratios, n_max):
    return np.maximum(1, np.floor(n_max * ratios + 0.5).astype(np.int64))


@validate_params(
    {
        "y": ["array-like", "sparse matrix"],
        "imbalance_factor": [Interval(Real, 1, None, closed="left")],
        "profile": [StrOptions(set(PROFILES))],
        "n_max": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_long_tailed(
    y, imbalance_factor, profile: str = "exponential", *, n_max=None, random_state=None
) -> Bunch:
    """Pick a long-tailed subset of a labelled set: indices whose class sizes fall off.

    Classes are ranked by their size in ``y`` (largest first, ties by class order) and the k-th
    is given a quota ``n_max * r_k`` where ``r`` falls from 1 to ``1 / imbalance_factor``
    along the chosen profile.

    * Single-label ``y``: each class keeps exactly its quota, drawn at random, so the subset's
      imbalance factor (largest over smallest class) is the one asked, up to rounding.
    * Multi-label ``y`` (indicator): quotas count label occurrences, as in the long-tailed
      NUS-WIDE protocol of MetaCMH: few head labels with large quotas, many tail labels with
      small ones. Classes are filled rarest first; each item picked counts for all its labels,
      and among the candidates the ones carrying labels already at their quota are preferred
      last, so head labels are not flooded. Counts overlap, so quotas are met only roughly:
      the achieved counts and imbalance factor are returned. Items without any label are never
      picked.

    Parameters
    ----------
    y : array-like or sparse matrix of shape (n_samples,) or (n_samples, n_labels)
        Class labels (1-D or an ``(n, 1)`` column) or a {0,1} label indicator matrix. Labels
        that never occur are ignored.
    imbalance_factor : float >= 1
        Ratio of the head quota to the tail quota (1 means balanced).
    profile : {"exponential", "linear", "step"}, default="exponential"
        How quotas fall from head to tail, see :func:`profile_ratios`.
    n_max : int, default=None
        Quota of the largest class. By default the largest value that every class can supply,
        so the subset is as big as the profile allows.
    random_state : int, RandomState instance or None, default=None
        Controls which items are drawn.

    Returns
    -------
    subset : :class:`~sklearn.utils.Bunch`
        - ``indices``: sorted int64 ndarray, positions in ``y`` of the subset.
        - ``classes``: class values (1-D ``y``) or label columns (indicator ``y``) that occur.
        - ``target_counts``: the quota of each class, aligned with ``classes``.
        - ``class_counts``: how many subset items carry each class, aligned with ``classes``.
        - ``imbalance_factor``: achieved ``max(class_counts) / min(class_counts)``.

    Raises
    ------
    ValueError
        For ``imbalance_factor < 1``, or when ``n_max`` asks more items of a class than it
        has (the message names the class).

    See Also
    --------
    split_query_database : The retrieval split, with a long-tailed training set.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.datasets import make_long_tailed
    >>> y = np.repeat(np.arange(5), 100)
    >>> subset = make_long_tailed(y, imbalance_factor=10, random_state=0)
    >>> subset.class_counts.tolist(), float(subset.imbalance_factor)
    ([100, 56, 32, 18, 10], 10.0)
    """
    indicator, classes, multilabel = _check_labels(y)
    sizes = indicator.sum(axis=0)
    present = np.flatnonzero(sizes > 0)
    indicator, classes, sizes = indicator[:, present], classes[present], sizes[present]
    order = np.argsort(-sizes, kind="stable")
    ratios = np.empty(len(order))
    ratios[order] = profile_ratios(len(order), float(imbalance_factor), profile)
    if n_max is None:
        # Largest head size every class can supply: n_max * r_k <= size_k for all k.
        n_max = int(np.min(np.floor(sizes / ratios + 1e-9)))
    targets = _targets(ratios, n_max)
    short = np.flatnonzero(targets > sizes)
    if short.size:
        k = short[np.argmax(targets[short] - sizes[short])]
        raise ValueError(
            f"Class {_class_name(classes[k])} has {sizes[k]} items, but the {profile} profile with "
            f"n_max={n_max} and imbalance_factor={imbalance_factor} asks for {targets[k]}. "
            f"Lower n_max (at most {int(np.min(np.floor(sizes / ratios + 1e-9)))} fits every "
            "class) or leave it None."
        )
    rng = check_random_state(random_state)
    if multilabel:
        chosen = _fill_quotas(indicator, targets, order, rng)
    else:
        members = [np.flatnonzero(indicator[:, k]) for k in range(len(classes))]
        chosen = np.concatenate(
            [rng.choice(m, size=t, replace=False) for m, t in zip(members, targets)]
        )
    indices = np.sort(chosen).astype(np.int64)
    counts = indicator[indices].sum(axis=0).astype(np.int64)
    return Bunch(
        indices=indices,
        classes=classes,
        target_counts=targets,
        class_counts=counts,
        imbalance_factor=float(counts.max() / max(counts.min(), 1)),
    )


def _fill_quotas(indicator, targets, order, rng):
    """Greedy multi-label selection, rarest class first (see :func:`make_long_tailed`)."""
    selected = np.zeros(indicator.shape[0], dtype=bool)
    counts = np.zeros(indicator.shape[1], dtype=np.int64)
    for k in order[::-1]:
        need = targets[k] - counts[k]
        if need <= 0:
            continue
        candidates = np.flatnonzero(indicator[:, k] & ~selected)
        full = counts >= targets
        overshoot = indicator[candidates][:, full].sum(axis=1)
        # Fewest labels already at quota first; ties broken at random.
        picked = candidates[np.lexsort((rng.random_sample(candidates.size), overshoot))[:need]]
        selected[picked] = True
        counts += indicator[picked].sum(axis=0)
    return np.flatnonzero(selected)
