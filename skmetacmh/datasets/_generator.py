"""Synthetic paired modalities tied to (possibly long-tailed, multi-label) labels."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

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


def _add_head_label(Y, frequency, affinity, primary, probability, rng):
    """Give items that carry no head label one, with probability ``probability``.

    The head is the most frequent third of the classes (as
    :func:`~skmetacmh.datasets.frequency_groups` cuts it); the added label is drawn by
    frequency times affinity to the item's first label, as the other extra labels are.
    """
    n_classes = frequency.shape[0]
    n_head = -(-n_classes // 3)
    lonely = ~Y[:, :n_head].any(axis=1)
    # One uniform per item whatever the labels, so the stream does not depend on them.
    chosen = np.flatnonzero(lonely & (rng.random_sample(Y.shape[0]) < probability))
    weights = frequency[None, :n_head] * affinity[primary[chosen], :n_head]
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random_sample(chosen.size) * cumulative[:, -1]
    drawn = np.minimum((cumulative < u[:, None]).sum(axis=1), n_head - 1)
    Y[chosen, drawn] = 1
    return Y


def _centres(y_or_Y, modes, mode_of_item):
    """Each item's class centre: the mean over its labels of their prototype in its mode."""
    n_samples, latent_dim = mode_of_item.shape[0], modes.shape[-1]
    centre = np.empty((n_samples, latent_dim))
    for m in range(modes.shape[1]):
        rows = np.flatnonzero(mode_of_item == m)
        if y_or_Y.ndim == 1:
            centre[rows] = modes[y_or_Y[rows], m]
        else:
            Y = y_or_Y[rows]
            centre[rows] = (Y @ modes[:, m]) / Y.sum(axis=1, keepdims=True)
    return centre


# Rows of text drawn at a time in the TF-IDF form: the dense (rows, vocabulary) word rates of
# one chunk stay near 64 MB at a 2,000-word vocabulary.
_TEXT_CHUNK_ROWS = 4096


def _tfidf_text(latent, text_map, noise, doc_length, fast):
    """A TF-IDF bag of words whose word rates follow the latent, as real captions do.

    Word ``w`` of item i has rate ``doc_length * softmax_w(z_i B + noise * e + log prior)``,
    where the prior is a Zipf profile (the r-th most common word has weight ``1 / (r + 1)``,
    ranks in a random order), so that a few words are everywhere and most are rare. The
    counts are Poisson draws, and :class:`~sklearn.feature_extraction.text.TfidfTransformer`
    (its defaults, as :class:`~sklearn.feature_extraction.text.TfidfVectorizer` uses them)
    turns them into non-negative, L2-normalised, sparse rows.
    """
    n_samples, vocabulary = latent.shape[0], text_map.shape[1]
    log_prior = -np.log1p(fast.permutation(vocabulary))
    chunks = []
    for begin in range(0, n_samples, _TEXT_CHUNK_ROWS):
        logits = latent[begin : begin + _TEXT_CHUNK_ROWS] @ text_map
        logits += noise * fast.standard_normal(logits.shape)
        logits += log_prior
        logits -= logits.max(axis=1, keepdims=True)
        rates = np.exp(logits)
        rates *= doc_length / rates.sum(axis=1, keepdims=True)
        chunks.append(sp.csr_matrix(fast.poisson(rates).astype(np.float64)))
    counts = sp.vstack(chunks, format="csr")
    return TfidfTransformer().fit_transform(counts).tocsr()


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 1, None, closed="left")],
        "n_image_features": [Interval(Integral, 1, None, closed="left")],
        "n_text_features": [Interval(Integral, 1, None, closed="left")],
        "multilabel": ["boolean"],
        "n_labels": [Interval(Real, 1, None, closed="left")],
        "imbalance_factor": [Interval(Real, 1, None, closed="left")],
        "head_cooccurrence": [Interval(Real, 0, 1, closed="both")],
        "feature_map": [StrOptions({"tanh", "linear"})],
        "n_modes": [Interval(Integral, 1, None, closed="left")],
        "text_format": [StrOptions({"dense", "tfidf"})],
        "doc_length": [Interval(Real, 0, None, closed="neither")],
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
    head_cooccurrence: float = 0.0,
    feature_map: str = "tanh",
    n_modes: int = 1,
    text_format: str = "dense",
    doc_length: float = 50.0,
    latent_dim: int = 16,
    class_sep: float = 2.0,
    noise: float = 1.0,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray]:
    """Generate paired image and text features tied to their labels through a shared latent.

    Each class k has a prototype ``mu_k`` in a ``latent_dim``-dimensional latent space (or
    ``n_modes`` of them, see below). An item with labels L gets the latent
    ``z = class_sep * mean(mu_k for k in L) + e``, where ``e`` is standard normal and *shared*
    by its two modalities (the item's own look, beyond its labels). The modalities see ``z``
    through different maps and their own noise:

    * image: ``tanh(z A) + noise * e_image`` (``feature_map="tanh"``, a saturating map), or
      ``z A + noise * e_image`` (``feature_map="linear"``: classes are Gaussian blobs, nearly
      linearly separable, as the penultimate features of a trained CNN are);
    * text: ``z B + noise * e_text`` (``text_format="dense"``), or a TF-IDF bag of words whose
      word rates follow ``z B`` (``text_format="tfidf"``, see below);

    with random Gaussian ``A``, ``B`` scaled so that ``z A`` and ``z B`` have unit-variance
    entries per unit of latent variance.

    Labels follow a long-tailed profile: class k (class 0 the most frequent) has frequency
    proportional to ``imbalance_factor ** (-k / (n_classes - 1))``. Single-label class sizes
    follow it exactly (up to rounding, every class at least once), so ``n_classes=100,
    imbalance_factor=100`` gives a few-shot tail (the rarest third of the classes with 10
    items or fewer each) for ``n_samples`` up to about 4,800. Multi-label items draw a first
    label from that profile and ``Poisson(n_labels - 1)`` more, each drawn with probability
    proportional to the class frequency times the affinity of the candidate to the first label
    (``exp(-||mu_j - mu_k||^2 / median)``): labels close in the latent space co-occur, frequent
    labels co-occur more, as in real tag data. ``head_cooccurrence`` makes that explicit: an
    item none of whose labels is in the head (the most frequent third of the classes) gets a
    head label with that probability, so that a rare label rides on a frequent one, as a rare
    tag ("earthquake") rides on a common one ("sky", "person").

    Parameters
    ----------
    n_samples : int, default=1000
        Number of items.
    n_classes : int, default=10
        Number of classes (labels).
    n_image_features, n_text_features : int, default=64 and 32
        Dimensions of the two modalities (with ``text_format="tfidf"``, ``n_text_features`` is
        the vocabulary size).
    multilabel : bool, default=False
        Return an indicator matrix with several labels per item.
    n_labels : float >= 1, default=2.0
        Mean number of labels per item when ``multilabel`` (capped at ``n_classes``), before
        the head labels that ``head_cooccurrence`` adds.
    imbalance_factor : float >= 1, default=1.0
        Ratio of the most to the least frequent class (1 gives balanced classes).
    head_cooccurrence : float in [0, 1], default=0.0
        Multi-label only: the probability that an item without a head label gets one (drawn by
        frequency times affinity to its first label). 0 adds none; 1 puts every rare label on
        an item that also carries a frequent one.
    feature_map : {"tanh", "linear"}, default="tanh"
        How the image modality sees the latent: ``"tanh"`` saturates, ``"linear"`` keeps
        classes linearly separable ("CNN-like" features).
    n_modes : int >= 1, default=1
        Prototypes per class. With more than one, each item draws one of its classes' modes
        (independent standard-normal prototypes, the first being the class prototype), so a
        class is a union of separate clusters and no linear map of the features separates it:
        the nonlinear regime.
    text_format : {"dense", "tfidf"}, default="dense"
        ``"dense"``: the linear text map above. ``"tfidf"``: a bag of words over a vocabulary
        of ``n_text_features`` words; item i's word ``w`` has a Poisson count with mean
        ``doc_length * softmax_w(z_i B + noise * e_text + log prior_w)`` (a Zipf prior: a few
        common words everywhere, most words rare), turned into TF-IDF rows by
        :class:`~sklearn.feature_extraction.text.TfidfTransformer` at its defaults (smoothed
        idf, L2-normalised rows, as :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
        gives them): non-negative and sparse.
    doc_length : float > 0, default=50.0
        Mean number of words per item with ``text_format="tfidf"``; ignored otherwise.
    latent_dim : int, default=16
        Dimension of the shared latent space.
    class_sep : float, default=2.0
        Scale of the class prototypes relative to the shared within-class variation; larger is
        easier.
    noise : float, default=1.0
        Standard deviation of each modality's own noise; larger is harder.
    random_state : int, RandomState instance or None, default=None
        Controls every draw; an int gives identical data every time. The defaults of the
        options above draw nothing extra, so data made before they existed is reproduced bit
        for bit.

    Returns
    -------
    X : ndarray of shape (n_samples, n_image_features + n_text_features), or CSR matrix
        ``[image | text]``: the first ``n_image_features`` columns are the image modality, as
        every hasher of this package takes it (pass the same ``n_image_features`` to the
        hasher; ``X[:, :n_image_features]`` and ``X[:, n_image_features:]`` are the blocks).
        One ``X`` rather than two arrays keeps the ``make_*`` convention of scikit-learn
        (``X, y``) and plugs straight into ``fit``, ``Pipeline`` and ``GridSearchCV``. With
        ``text_format="tfidf"`` it is a ``scipy.sparse`` CSR matrix (the image block stored
        in it densely), which every hasher accepts.
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

    Multi-label tags whose rare labels ride on frequent ones, with TF-IDF text:

    >>> X, Y = make_cross_modal_classification(
    ...     n_samples=500, n_classes=12, n_image_features=20, n_text_features=300,
    ...     multilabel=True, imbalance_factor=50, head_cooccurrence=1.0, text_format="tfidf",
    ...     random_state=0)
    >>> X.format, Y.shape, bool(Y[:, :4].any(axis=1).all())
    ('csr', (500, 12), True)
    """
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} cannot give each of the n_classes={n_classes} classes an item."
        )
    if head_cooccurrence > 0 and not multilabel:
        raise ValueError(
            f"head_cooccurrence={head_cooccurrence} needs multilabel=True: a single-label item "
            "cannot carry a head label besides its own."
        )
    rng = check_random_state(random_state)
    prototypes = rng.standard_normal((n_classes, latent_dim))
    if n_modes > 1:  # drawn only then, so that n_modes=1 leaves every later draw unchanged
        extra = rng.standard_normal((n_classes, n_modes - 1, latent_dim))
        modes = np.concatenate([prototypes[:, None, :], extra], axis=1)
    frequency = profile_ratios(n_classes, float(imbalance_factor))
    primary = rng.permutation(np.repeat(np.arange(n_classes), _class_sizes(n_samples, frequency)))
    if multilabel:
        distances = np.square(prototypes[:, None, :] - prototypes[None, :, :]).sum(axis=-1)
        off_diagonal = distances[~np.eye(n_classes, dtype=bool)]
        scale = np.median(off_diagonal) if off_diagonal.size else 1.0
        affinity = np.exp(-distances / scale)
        n_extra = np.minimum(rng.poisson(float(n_labels) - 1.0, n_samples), n_classes - 1)
        Y = _extra_labels(primary, frequency, affinity, n_extra, rng)
        if head_cooccurrence > 0:
            Y = _add_head_label(Y, frequency, affinity, primary, float(head_cooccurrence), rng)
        y = Y
    else:
        y = primary.astype(np.int64)
    if n_modes > 1:
        centre = _centres(y, modes, rng.randint(n_modes, size=n_samples))
    elif multilabel:
        centre = (Y @ prototypes) / Y.sum(axis=1, keepdims=True)
    else:
        centre = prototypes[primary]
    latent = class_sep * centre + rng.standard_normal((n_samples, latent_dim))
    # Unit-variance projections per unit of latent variance, whatever latent_dim is.
    image_map = rng.standard_normal((latent_dim, n_image_features)) / np.sqrt(latent_dim)
    text_map = rng.standard_normal((latent_dim, n_text_features)) / np.sqrt(latent_dim)
    # The noise blocks are most of the draws: a Generator (seeded from rng, so still
    # reproducible) draws them 1.1-1.6x faster than the legacy RandomState
    # (``python benchmarks/bench_doc_claims.py normals``).
    fast = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
    image = latent @ image_map
    if feature_map == "tanh":
        image = np.tanh(image)
    image += noise * fast.standard_normal((n_samples, n_image_features))
    if text_format == "tfidf":
        text = _tfidf_text(latent, text_map, noise, float(doc_length), fast)
        return sp.hstack([sp.csr_matrix(image), text], format="csr"), y
    X = np.empty((n_samples, n_image_features + n_text_features))
    X[:, :n_image_features] = image
    X[:, n_image_features:] = latent @ text_map
    X[:, n_image_features:] += noise * fast.standard_normal((n_samples, n_text_features))
    return X, y
