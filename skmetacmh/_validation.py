"""The data contract: one X holding both modalities, and labels as classes or indicators.

``X`` is ``[image block | text block]``; the first ``n_image_features`` columns are the image
modality. ``y`` is either 1-D class labels (single-label) or a 2-D {0,1} indicator matrix
(multi-label). Internally labels always become an indicator matrix, so relevance is one rule:
two items are relevant when they share at least one label.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp

__all__ = [
    "MODALITIES",
    "join_modalities",
    "check_modality",
    "check_n_image_features",
    "split_modalities",
    "check_fit_labels",
    "labels_to_indicator",
]

MODALITIES = ("image", "text")


def join_modalities(X_image, X_text):
    """Stack two modality blocks into the single ``X`` every hasher takes.

    Parameters
    ----------
    X_image : array-like of shape (n_samples, n_image_features)
        Image features.
    X_text : array-like or sparse matrix of shape (n_samples, n_text_features)
        Text features. When sparse, the result is a CSR matrix.

    Returns
    -------
    X : ndarray or sparse matrix of shape (n_samples, n_image_features + n_text_features)
        ``[X_image | X_text]``.
    n_image_features : int
        The value to pass as ``n_image_features`` to a hasher.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh import join_modalities
    >>> X, n_img = join_modalities(np.ones((3, 4)), np.zeros((3, 2)))
    >>> X.shape, n_img
    ((3, 6), 4)
    """
    blocks = []
    for name, block in (("X_image", X_image), ("X_text", X_text)):
        if not sp.issparse(block):
            block = np.asarray(block)
        if block.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features); got shape {block.shape}."
            )
        if block.shape[1] == 0:
            raise ValueError(f"{name} must have at least one feature column; got 0.")
        blocks.append(block)
    if blocks[0].shape[0] != blocks[1].shape[0]:
        raise ValueError(
            "X_image and X_text must describe the same items (same number of rows); got "
            f"{blocks[0].shape[0]} image rows and {blocks[1].shape[0]} text rows."
        )
    n_image_features = int(blocks[0].shape[1])
    if any(sp.issparse(b) for b in blocks):
        return sp.hstack(blocks, format="csr"), n_image_features
    return np.hstack(blocks), n_image_features


def check_modality(modality) -> str:
    """Return ``modality`` if it names a modality, else raise a ValueError listing the choices."""
    if not isinstance(modality, str) or modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}; got {modality!r}.")
    return modality


def check_n_image_features(n_image_features, n_features: int) -> int:
    """Check that ``n_image_features`` leaves at least one column for each modality."""
    if n_image_features is None:
        raise ValueError(
            "n_image_features must be set to the number of image columns at the start of X "
            "(the rest are text columns); got None. skmetacmh.join_modalities(X_image, X_text) "
            "returns X together with this number."
        )
    if isinstance(n_image_features, bool) or not isinstance(n_image_features, Integral):
        raise TypeError(
            f"n_image_features must be an int; got {type(n_image_features).__name__} "
            f"({n_image_features!r})."
        )
    if not 0 < n_image_features < n_features:
        raise ValueError(
            f"n_image_features must satisfy 0 < n_image_features < n_features so that both "
            f"modalities have columns; got n_image_features={n_image_features} for X with "
            f"n_features={n_features}."
        )
    return int(n_image_features)


def split_modalities(X, n_image_features: int):
    """Split validated ``X`` into ``(X_image, X_text)`` column blocks."""
    return X[:, :n_image_features], X[:, n_image_features:]


def _is_indicator(y: np.ndarray) -> bool:
    if y.dtype == bool:
        return True
    if not np.issubdtype(y.dtype, np.number):
        return False
    return bool(np.all((y == 0) | (y == 1)))


def check_fit_labels(y, n_samples: int):
    """Validate training labels and turn them into an indicator matrix.

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
    if sp.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not _is_indicator(y):
        # A column vector of class labels, as pandas or reshape(-1, 1) produce.
        y = y.ravel()
    if y.ndim not in (1, 2):
        raise ValueError(
            "y must be 1-D class labels or a 2-D {0,1} label indicator matrix; got an array "
            f"with {y.ndim} dimensions and shape {y.shape}."
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"y must have one entry per row of X: X has {n_samples} rows but y has {y.shape[0]}."
        )
    if n_samples < 2:
        raise ValueError(
            f"At least 2 samples are needed to learn hash codes; got {n_samples} sample."
        )
    if y.ndim == 2:
        if not _is_indicator(y):
            bad = (
                y[~((y == 0) | (y == 1))].ravel()[0] if np.issubdtype(y.dtype, np.number) else None
            )
            shown = f"found {bad!r}" if bad is not None else f"got dtype {y.dtype}"
            raise ValueError(
                f"A 2-D y must be a {{0,1}} label indicator matrix (one column per label); {shown}."
            )
        Y = y.astype(np.uint8)
        if np.count_nonzero(Y.any(axis=0)) < 2:
            raise ValueError(
                "y must contain at least 2 different labels to learn anything supervised; "
                f"the indicator matrix uses {np.count_nonzero(Y.any(axis=0))} of its "
                f"{Y.shape[1]} columns."
            )
        return Y, np.arange(Y.shape[1]), True
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity; class labels must be finite.")
    if y.dtype == object:
        try:
            classes = np.unique(y)
        except TypeError as exc:
            raise ValueError(
                f"y holds labels of mixed types that cannot be compared: {exc}."
            ) from exc
    else:
        classes = np.unique(y)
    if classes.shape[0] < 2:
        raise ValueError(
            f"y must contain at least 2 classes; got only {classes.shape[0]} ({classes!r})."
        )
    Y = (y[:, None] == classes[None, :]).astype(np.uint8)
    return Y, classes, False


def labels_to_indicator(y, classes: np.ndarray, multilabel: bool, name: str = "y") -> np.ndarray:
    """Map labels to the indicator columns learned in ``fit``.

    A 1-D label that training never saw becomes an all-zero row: that item is relevant to
    nothing, so as a query it is excluded from mAP (and counted) and as a database item it is
    never a hit.
    """
    if sp.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not multilabel:
        y = y.ravel()
    if multilabel:
        if y.ndim != 2 or y.shape[1] != classes.shape[0]:
            raise ValueError(
                f"{name} must be a {{0,1}} indicator matrix with {classes.shape[0]} columns, as "
                f"in fit; got shape {y.shape}."
            )
        if not _is_indicator(y):
            raise ValueError(f"{name} must hold only 0 and 1 (a label indicator matrix).")
        return y.astype(np.uint8)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels, as in fit; got shape {y.shape}.")
    return (y[:, None] == classes[None, :]).astype(np.uint8)
