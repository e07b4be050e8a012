"""Parameter and attribute text shared by the baseline docstrings.

The baseline classes fill their ``{name}`` placeholders with these through the package's
:class:`~skmetacmh._docstring.Substitution`.
"""

from __future__ import annotations

from .._docstring import Substitution

__all__ = ["Substitution", "SHARED_DOCS"]


# Each entry continues at the indentation of a numpydoc section inside a class docstring.
SHARED_DOCS = {
    "n_bits": """n_bits : int, default=32
        Code length per modality (an item gets ``n_bits`` bits per modality).""",
    "n_image_features": """n_image_features : int, default=None
        Number of leading columns of ``X`` that are image features; the rest are text
        features. Required.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        An int gives bit-identical codes from one fit to the next; ``None`` draws fresh
        randomness at every fit.""",
    "n_jobs": """n_jobs : int, default=None
        Threads for BLAS and OpenMP during ``fit``, ``encode``, ``transform`` and ``score``.
        ``None`` means 1 unless in a :func:`joblib.parallel_config` context; ``-1`` means all
        cores (capped by ``OMP_NUM_THREADS`` where joblib sets it in its workers). The codes do
        not depend on it. See :ref:`performance`.""",
    "linear_attributes": """image_mean_ : ndarray of shape (n_image_features,)
        Column means of the training image block.
    text_mean_ : ndarray of shape (n_text_features_,)
        Column means of the training text block.""",
    "base_attributes": """database_codes_, database_labels_, classes_, multilabel_, \
n_features_in_, n_text_features_, n_unlabeled_
        See :class:`~skmetacmh.BaseCrossModalHasher`.""",
    "sparse_text": """A scipy sparse (CSR) text block, such as a ``TfidfVectorizer`` output, is used
    as it is, in ``fit`` and in ``encode``: it is centred implicitly and enters only through
    sparse products, so no dense copy of it is made. Codes agree with those of the same block
    passed dense up to floating-point rounding.""",
    "covariance_limit": """The whitening needs each view's dense ``(d, d)`` covariance, which
    no sparse algebra avoids, so a view wider than 16,384 columns (2 GiB per copy) is refused
    with a ``ValueError`` that says what to do instead (a smaller vocabulary, a
    ``TruncatedSVD`` in the pipeline, or a hasher whose text side stays sparse).""",
}
