"""Checks on what ``fit`` sees and produces: the scale of the features, the spread of the codes.

Both guard against a fit that goes wrong without saying why:

* features so large that squares and inner products overflow (the deep hashers train in
  float32, whose largest value is 3.4e38) make a deep hasher's loss become NaN, and a baseline
  fail deep inside LAPACK; :func:`check_feature_scale` refuses them before any hasher runs, with
  a message that says what is wrong and what to do;
* constant features, identical rows or features at a vanishing scale (1e-300) fit without any
  error but give (almost) every training item the same code; :func:`warn_if_codes_collapse`
  looks at the database codes after the fit and raises a :class:`CodeCollapseWarning`.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CodeCollapseWarning",
    "MAX_ABS_FEATURE",
    "check_feature_scale",
    "warn_if_codes_collapse",
]

#: Largest feature magnitude ``fit`` accepts. Squares of 1e12 are 1e24, which leaves float32
#: (largest value 3.4e38) room for sums over a million items and thousands of features. Above
#: it things break: measured on 120 items with 4-bit codes, MetaCMH's loss becomes NaN from
#: 1e15 on, DLFH's least squares fail from 1e18 (float32 input), SePH's projections overflow
#: from 1e19.
MAX_ABS_FEATURE = 1e12

# Fewer training items than this say nothing reliable about how the codes spread.
_MIN_ITEMS_TO_JUDGE = 10


class CodeCollapseWarning(UserWarning):
    """The codes learned in ``fit`` hardly vary: most bits are the same for every item.

    Such codes cannot rank the database: every query is at the same distance from (almost) all
    items. The usual causes are constant features, identical rows and features at a vanishing
    scale; standardizing the features (:class:`~sklearn.preprocessing.StandardScaler`) fixes
    the last one.

    See Also
    --------
    BaseCrossModalHasher.fit : Where the warning is raised, once per modality.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skmetacmh import CMFHHasher, CodeCollapseWarning
    >>> X = np.ones((40, 6))  # every item the same: nothing to hash
    >>> y = np.repeat([0, 1, 2, 3], 10)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = CMFHHasher(n_bits=8, n_image_features=3, random_state=0).fit(X, y)
    >>> any(issubclass(w.category, CodeCollapseWarning) for w in caught)
    True
    """


def _max_abs(X) -> tuple[float, int]:
    """Largest absolute value of a block and the column holding it (0.0, -1 when empty)."""
    if sp.issparse(X):
        # fit passes CSR blocks: read data and column indices in place (tocoo would copy both).
        X = X.tocsr()
        if X.nnz == 0:
            return 0.0, -1
        at = int(np.argmax(np.abs(X.data)))
        return float(abs(X.data[at])), int(X.indices[at])
    X = np.asarray(X)
    if X.size == 0:
        return 0.0, -1
    column_max = np.max(np.abs(X), axis=0)
    at = int(np.argmax(column_max))
    return float(column_max[at]), at


def check_feature_scale(estimator, X_image, X_text) -> None:
    """Refuse features whose magnitude exceeds :data:`MAX_ABS_FEATURE`.

    Parameters
    ----------
    estimator : BaseCrossModalHasher
        The hasher being fitted, named in the message.
    X_image, X_text : array-like or sparse matrix
        The two modality blocks given to ``fit`` (finite: ``validate_data`` has checked).

    Raises
    ------
    ValueError
        When a feature is larger in magnitude than :data:`MAX_ABS_FEATURE`; the message names
        the block, the column and the value, and says to standardize the features.
    """
    for modality, X in (("image", X_image), ("text", X_text)):
        largest, column = _max_abs(X)
        if largest > MAX_ABS_FEATURE:
            raise ValueError(
                f"{type(estimator).__name__}.fit: the {modality} block of X has values up to "
                f"{largest:.3g} in magnitude (column {column} of that block). Features this "
                "large overflow the squares and inner products every hasher computes (the "
                "deep hashers train in float32, largest value 3.4e38): magnitudes up to "
                f"{MAX_ABS_FEATURE:.0e} are accepted. Standardize the features first, for "
                "instance with sklearn.preprocessing.StandardScaler (per modality in a "
                "ColumnTransformer, inside a Pipeline), or rescale them."
            )


def _n_distinct_rows(codes: np.ndarray) -> int:
    packed = np.ascontiguousarray(np.packbits(codes, axis=1))
    return int(np.unique(packed.view(np.dtype((np.void, packed.shape[1])))).shape[0])


def _at_most_two_rows(codes: np.ndarray) -> bool:
    """Whether ``codes`` holds at most two distinct rows, in two linear passes (no sort)."""
    other = np.any(codes != codes[0], axis=1)
    if not other.any():
        return True
    second = codes[np.argmax(other)]
    return bool(np.all(np.all(codes[other] == second, axis=1)))


def _diagnosis(X) -> str:
    """What in the features most likely made the codes collapse."""
    largest, _ = _max_abs(X)
    if sp.issparse(X):
        spread = (X.max(axis=0) - X.min(axis=0)).toarray().ravel()
    else:
        spread = np.ptp(np.asarray(X), axis=0)
    n_constant = int(np.sum(spread == 0))
    if n_constant == X.shape[1]:
        return "every feature of this block is constant (all rows identical)"
    if largest < 1e-30:
        return (
            f"the features are at a vanishing scale (largest magnitude {largest:.3g}): "
            "standardize them, for instance with sklearn.preprocessing.StandardScaler"
        )
    parts = [f"{n_constant} of {X.shape[1]} features are constant"] if n_constant else []
    parts.append(f"largest feature magnitude {largest:.3g}")
    return "; ".join(parts)


def warn_if_codes_collapse(estimator, database_codes, X_image, X_text, Y) -> None:
    """Warn when the training items' codes of a modality hardly vary.

    A modality's codes have collapsed when more than half of its bits take the same value on
    every training item, or when they form at most two distinct codes although the items carry
    more than two distinct label sets (and more than one bit is asked for).

    Parameters
    ----------
    estimator : BaseCrossModalHasher
        The fitted hasher (its ``n_bits`` and name are used).
    database_codes : ndarray of shape (n_samples, 2 * n_bits)
        Image bits then text bits of the training items.
    X_image, X_text : array-like or sparse matrix
        The blocks the codes were computed from, to say what is wrong with them.
    Y : ndarray of shape (n_samples, n_classes)
        The training labels as an indicator matrix.

    Warns
    -----
    CodeCollapseWarning
        Once per collapsed modality.
    """
    n, n_bits = database_codes.shape[0], estimator.n_bits
    if n < _MIN_ITEMS_TO_JUDGE:
        return
    n_label_sets = None
    for offset, (modality, X) in enumerate((("image", X_image), ("text", X_text))):
        codes = database_codes[:, offset * n_bits : (offset + 1) * n_bits]
        n_constant = int(np.sum(np.all(codes == codes[:1], axis=0)))
        few_codes = False
        if n_bits > 1 and _at_most_two_rows(codes):
            if n_label_sets is None:
                n_label_sets = _n_distinct_rows(np.asarray(Y, dtype=np.uint8))
            few_codes = n_label_sets > 2
        if 2 * n_constant > n_bits or few_codes:
            name, n_codes = type(estimator).__name__, _n_distinct_rows(codes)
            warnings.warn(
                f"{name}: the {modality} codes of the {n} training items collapsed: "
                f"{n_constant} of {n_bits} bits are the same for every item, and there are "
                f"{n_codes} distinct codes. Such codes cannot rank the database. Likely cause: "
                f"{_diagnosis(X)}.",
                CodeCollapseWarning,
                stacklevel=5,  # the caller of fit, through _fit_context and limits_threads
            )
