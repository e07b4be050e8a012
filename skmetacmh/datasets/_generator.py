"""Synthetic paired modalities tied to (possibly long-tailed, multi-label) labels."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._long_tail import profile_ratios

__all__ = ["make_cross_modal_classification"]


def _class_sizes(n_samples, ratios):
    """Integer sizes proportional to ``ratios`` summing to ``n_samples``, each at least 1.

    Largest remainders get the leftover items, so the sizes are as close to the profile as
    integers allow.
    """
    share = n_samples * ratios / ratios.sum()
    sizes = np.maximum(1, np.floor(share).astype(np.int64))
    while sizes.sum() > n_samples:  # the floor of 1 overshot: take from the largest
        sizes[np.argmax(sizes)] -= 1
    leftover = n_samples - sizes.sum()
    sizes[np.argsort(-(share - np.floor(share)), kind="stable")[:leftover]] += 1
    return sizes


def _extra_labels(primary, frequency, affinity, n_extra, rng):
    """Add ``n_extra[i]`` labels to item i, drawn by frequency times affinity to its labels."""
    n_samples, n_classes = primary.shape[0], frequency.shape[0]
    Y = np.zeros((n_samples, n_classes), dtype=np.uint8)
    Y[np.arange(n_samples), primary] = 1
    weights = frequency[None, :] * affinity[primary]
    for round_ in range(int(n_extra.max(initial=0))):
        rows = np.flatnonzero(n_extra > round_)
        w = weights[rows] * (1 - Y[rows])  # never the same label twice
        cumulative = np.cumsum(w, axis=1)
        u = rng.random_sample(rows.size) * cumulative[:, -1]
        drawn = np.minimum((cumulative < u[:, None]).sum(axis=1), n_classes - 1)
        Y[rows, drawn] = 1
    return Y


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 1, None, closed="left")],
        "n_image_features": [Interval(Integral, 1, None, closed="left")],
        "n_text_features": [Interval(Integral, 1, None, closed="left")],
        "multilabel": ["boolean"],
        "n_labels": [Interval(Real, 1, None, closed="left")],
        "imbalance_factor": [Interval(Real, 1, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "class_sep": [Interval(Real, 0, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_cross_modal_classification(
    n_samples: int = 1000,
    n_classes: int = 10,
    n_image_features: int = 64,
    n_text_features: int = 32,
    *,
    multilabel: bool = False,
    n_labels: float = 2.0,
    imbalance_factor: float = 1.0,
    latent_dim: int = 16,
    class_sep: float = 2.0,
    noise: float = 1.0,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate paired image and text features tied to their labels through a shared latent.

    Each class k has a prototype ``mu_k`` in a ``latent_dim``-dimensional latent space. An item
    with labels L gets the latent ``z = class_sep * mean(mu_k for k in L) + e``, where ``e`` is
    standard normal and *shared* by its two modalities (the item's own look, beyond its labels).
    The modalities see ``z`` through different maps and their own noise:

    * image: ``tanh(z A) + noise * e_image`` (a nonlinear map, as CNN features are);
    * text: ``z B + noise * e_text`` (a linear map);

    with random Gaussian ``A``, ``B`` scaled so that ``z A`` and ``z B`` have unit-variance
    entries per unit of latent variance.

    Labels follow a long-tailed profile: class k (class 0 the most frequent) has frequency
    proportional to ``imbalance_factor ** (-k / (n_classes - 1))``. Single-label class sizes
    follow it exactly (up to rounding, every class at least once). Multi-label items draw a
    first label from that profile and ``Poisson(n_labels - 1)`` more, each drawn with
    probability proportional to the class frequency times the affinity of the candidate to the
    first label (``exp(-||mu_j - mu_k||^2 / median)``): labels close in the latent space
    co-occur, frequent labels co-occur more, as in real tag data.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of items.
    n_classes : int, default=10
        Number of classes (labels).
    n_image_features, n_text_features : int, default=64 and 32
        Dimensions of the two modalities.
    multilabel : bool, default=False
        Return an indicator matrix with several labels per item.
    n_labels : float >= 1, default=2.0
        Mean number of labels per item when ``multilabel`` (capped at ``n_classes``).
    imbalance_factor : float >= 1, default=1.0
        Ratio of the most to the least frequent class (1 gives balanced classes).
    latent_dim : int, default=16
        Dimension of the shared latent space.
    class_sep : float, default=2.0
        Scale of the class prototypes relative to the shared within-class variation; larger is
        easier.
    noise : float, default=1.0
        Standard deviation of each modality's own noise; larger is harder.
    random_state : int, RandomState instance or None, default=None
        Controls every draw; an int gives identical data every time.

    Returns
    -------
    X : ndarray of shape (n_samples, n_image_features + n_text_features)
        ``[image | text]``: the first ``n_image_features`` columns are the image modality, as
        every hasher of this package takes it (pass the same ``n_image_features`` to the
        hasher; ``X[:, :n_image_features]`` and ``X[:, n_image_features:]`` are the blocks).
        One ``X`` rather than two arrays keeps the ``make_*`` convention of scikit-learn
        (``X, y``) and plugs straight into ``fit``, ``Pipeline`` and ``GridSearchCV``.
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        The labels: int64 classes, or a uint8 {0,1} indicator when ``multilabel``.

    See Also
    --------
    make_long_tailed : Subsample any labelled set to a long-tailed profile.
    split_query_database : Query / database / training split of the generated items.

    Examples
    --------
    >>> from skmetacmh.datasets import make_cross_modal_classification
    >>> X, y = make_cross_modal_classification(
    ...     n_samples=500, n_classes=5, n_image_features=20, n_text_features=10,
    ...     imbalance_factor=10, random_state=0)
    >>> X.shape, y.shape
    ((500, 30), (500,))
    >>> import numpy as np; np.bincount(y).tolist()
    [232, 131, 73, 41, 23]
    """
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} cannot give each of the n_classes={n_classes} classes an item."
        )
    rng = check_random_state(random_state)
    prototypes = rng.standard_normal((n_classes, latent_dim))
    frequency = profile_ratios(n_classes, float(imbalance_factor))
    primary = rng.permutation(np.repeat(np.arange(n_classes), _class_sizes(n_samples, frequency)))
    if multilabel:
        distances = np.square(prototypes[:, None, :] - prototypes[None, :, :]).sum(axis=-1)
        off_diagonal = distances[~np.eye(n_classes, dtype=bool)]
        scale = np.median(off_diagonal) if off_diagonal.size else 1.0
        affinity = np.exp(-distances / scale)
        n_extra = np.minimum(rng.poisson(float(n_labels) - 1.0, n_samples), n_classes - 1)
        Y = _extra_labels(primary, frequency, affinity, n_extra, rng)
        y = Y
        centre = (Y @ prototypes) / Y.sum(axis=1, keepdims=True)
    else:
        y = primary.astype(np.int64)
        centre = prototypes[primary]
    latent = class_sep * centre + rng.standard_normal((n_samples, latent_dim))
    # Unit-variance projections per unit of latent variance, whatever latent_dim is.
    image_map = rng.standard_normal((latent_dim, n_image_features)) / np.sqrt(latent_dim)
    text_map = rng.standard_normal((latent_dim, n_text_features)) / np.sqrt(latent_dim)
    # The noise blocks are most of the draws: a Generator (seeded from rng, so still
    # reproducible) draws them 1.1-1.6x faster than the legacy RandomState
    # (``python benchmarks/bench_doc_claims.py normals``).
    fast = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
    X = np.empty((n_samples, n_image_features + n_text_features))
    X[:, :n_image_features] = np.tanh(latent @ image_map)
    X[:, :n_image_features] += noise * fast.standard_normal((n_samples, n_image_features))
    X[:, n_image_features:] = latent @ text_map
    X[:, n_image_features:] += noise * fast.standard_normal((n_samples, n_text_features))
    return X, y
