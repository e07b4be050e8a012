"""The modality contract: one X, and one code array, holding both modalities.

``X`` is ``[image block | text block]``; the first ``n_image_features`` columns are the image
modality. Codes follow the same layout: ``transform`` returns ``[image bits | text bits]``, and
:func:`split_codes` is the one place that cuts them apart again. (Labels: see ``_labels``.)
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
    "split_codes",
    "split_modalities",
]

MODALITIES = ("image", "text")


def join_modalities(X_image, X_text):
    """Stack two modality blocks into the single ``X`` every hasher takes.

    The image block comes first; its width is the ``n_image_features`` every hasher needs, so
    both are returned together. A sparse text block gives a sparse ``X``.

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

    See Also
    --------
    skmetacmh.BaseCrossModalHasher : The hashers that take this ``X``.

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


def split_codes(codes, n_bits: int):
    """Split ``(n, 2 * n_bits)`` codes, as ``transform`` returns them, into image and text bits.

    Parameters
    ----------
    codes : array-like of shape (n_samples, 2 * n_bits)
        Image bits then text bits.
    n_bits : int
        Code length of one modality.

    Returns
    -------
    image_codes, text_codes : ndarray of shape (n_samples, n_bits)
        Views of ``codes`` (a pandas output is converted first).
    """
    if hasattr(codes, "to_numpy"):  # transform under set_output(transform="pandas")
        codes = codes.to_numpy()
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2 * n_bits:
        raise ValueError(
            f"codes must have shape (n_samples, 2 * n_bits) = (n, {2 * n_bits}), image bits then "
            f"text bits; got shape {codes.shape}."
        )
    return codes[:, :n_bits], codes[:, n_bits:]
