"""The UCI Multiple Features data set (handwritten digits described by six feature views)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_uci_mfeat", "MFEAT_VIEWS"]

#: The six views: Fourier coefficients of the shapes, profile correlations, Karhunen-Loeve
#: coefficients, pixel averages in 2x3 windows, Zernike moments, morphological features.
MFEAT_VIEWS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}

# The copy shipped inside the package (gzip-compressed CSVs; mfeat.rst there gives the source,
# the citation and the licence), so the loader needs no download and no extra install.
BUNDLED_MFEAT_FOLDER = Path(__file__).with_name("data")

_HOW_TO_GET = (
    "Leave data_home unset to read the copy shipped with skmetacmh, or download mfeat-* from "
    "the UCI repository (https://archive.ics.uci.edu/dataset/72/multiple+features), save each "
    "view as mfeat-<view>.csv or mfeat-<view>.csv.gz (a header line, then one row per digit: "
    "the features, then the label) and pass data_home=<that folder>."
)


def _view_file(folder: Path, view: str) -> Path | None:
    """``mfeat-<view>.csv`` or its gzip-compressed ``.csv.gz`` in ``folder``, if present."""
    for name in (f"mfeat-{view}.csv", f"mfeat-{view}.csv.gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_view(path: Path, view: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of one CSV (``.gz`` or plain): a header, then features and label."""
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    n_features = MFEAT_VIEWS[view]
    if table.shape[1] != n_features + 1:
        raise ValueError(
            f"{path} should have {n_features} feature columns and a label column; it has "
            f"{table.shape[1]} columns."
        )
    return table[:, :-1], table[:, -1].astype(np.int64)


def load_uci_mfeat(views=("pix", "fou"), data_home=None) -> Bunch:
    """Load the UCI Multiple Features digits: 2,000 items (200 per digit) in up to six views.

    The data ship with skmetacmh (compressed CSVs in ``skmetacmh/datasets/data``, with their
    citation and licence in ``mfeat.rst`` there), so nothing needs to be downloaded or
    installed; ``data_home`` reads another copy instead.

    Parameters
    ----------
    views : sequence of str, default=("pix", "fou")
        Views to load, in order, among ``"fou"`` (76 Fourier coefficients), ``"fac"`` (216
        profile correlations), ``"kar"`` (64 Karhunen-Loeve coefficients), ``"pix"`` (240 pixel
        averages), ``"zer"`` (47 Zernike moments) and ``"mor"`` (6 morphological features).
    data_home : str or path-like, default=None
        Folder holding ``mfeat-<view>.csv`` (or ``mfeat-<view>.csv.gz``); by default the copy
        shipped with skmetacmh.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``views``: list of float64 ndarrays, one of shape (2000, n_features) per view.
        - ``view_names``: the views' names, in the order asked.
        - ``image``, ``text``: the first and second view (only with exactly two views), so
          that the two views stand in for the two modalities of a cross-modal hasher.
        - ``labels``: int64 ndarray of shape (2000,), digits 0..9 (200 each, in order).
        - ``label_names``: ``["0", ..., "9"]``; ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When the CSV files are not found; the message says how to get them.
    ValueError
        For an unknown or repeated view, or a malformed file.

    See Also
    --------
    load_fashion_mnist_halves : A larger two-view set (70,000 items), not shipped.
    make_cross_modal_classification : Synthetic paired views of any size and class profile.

    References
    ----------
    R. Duin, "Multiple Features", UCI Machine Learning Repository, 1998 (CC BY 4.0),
    https://doi.org/10.24432/C5HC70. M. van Breukelen, R. P. W. Duin, D. M. J. Tax and J. E.
    den Hartog, "Handwritten digit recognition by combined classifiers", Kybernetika 34(4),
    1998.

    Examples
    --------
    >>> from skmetacmh.datasets import load_uci_mfeat
    >>> data = load_uci_mfeat(views=("pix", "fou"))
    >>> data.image.shape, data.text.shape, data.labels.shape
    ((2000, 240), (2000, 76), (2000,))
    """
    if isinstance(views, str):
        views = (views,)
    views = list(views)
    unknown = [v for v in views if v not in MFEAT_VIEWS]
    if not views or unknown or len(set(views)) != len(views):
        raise ValueError(
            f"views must be distinct names among {sorted(MFEAT_VIEWS)}; got {views!r}."
        )
    if data_home is None:
        folder = BUNDLED_MFEAT_FOLDER
        where = f"the copy shipped with skmetacmh ({folder})"
    else:
        folder = Path(os.fspath(data_home)).expanduser()
        where = str(folder)
    arrays, labels = [], None
    for view in views:
        path = _view_file(folder, view)
        if path is None:
            raise FileNotFoundError(
                f"UCI Multiple Features: neither mfeat-{view}.csv nor mfeat-{view}.csv.gz is in "
                f"{folder}. {_HOW_TO_GET}"
            )
        features, view_labels = _read_view(path, view)
        if labels is not None and not np.array_equal(labels, view_labels):
            raise ValueError(f"{path}: its labels differ from those of the other views.")
        arrays.append(features)
        labels = view_labels
    bunch = Bunch(
        views=arrays,
        view_names=views,
        labels=labels,
        label_names=[str(d) for d in range(10)],
        DESCR=(
            f"UCI Multiple Features (handwritten digits 0-9): {len(labels)} items, views "
            + ", ".join(f"{v} ({a.shape[1]} dims)" for v, a in zip(views, arrays))
            + f"; read from {where}. Duin, Multiple Features, UCI Machine Learning "
            "Repository, 1998, https://doi.org/10.24432/C5HC70 (CC BY 4.0)."
        ),
    )
    if len(arrays) == 2:
        bunch.image, bunch.text = arrays
    return bunch
