"""The benchmark's datasets by name, each returned as two modality blocks and labels.

``uci-mfeat``, ``fashion-mnist-halves`` and ``synthetic`` need no download; ``mirflickr25k``,
``nuswide`` and ``mscoco`` read the community's ``.mat`` files from ``--data-path``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["DATASETS", "load_dataset", "dataset_options", "make_timing_data"]

#: Benchmark dataset name -> one-line description (shown by ``--list``).
DATASETS = {
    "uci-mfeat": "UCI Multiple Features digits: pix (240) as image, fou (76) as text; 10 classes",
    "fashion-mnist-halves": "Fashion-MNIST: top half as image, bottom half as text; subsampled",
    "synthetic": "make_cross_modal_classification: 64 image / 32 text features, 10 classes",
    "synthetic-multilabel": (
        "make_cross_modal_classification, multi-label: 64 / 32 features, 10 labels, ~2 per item, "
        "rare labels co-occurring with frequent ones"
    ),
    "mirflickr25k": "MIRFlickr-25K .mat files (needs --data-path); 24 labels, multi-label",
    "nuswide": "NUS-WIDE .mat files (needs --data-path); multi-label",
    "mscoco": "MS-COCO .mat files (needs --data-path); 80 labels, multi-label",
}

_NEEDS_PATH = ("mirflickr25k", "nuswide", "mscoco")
_SYNTHETIC_IMAGE_FEATURES = 64

# Sizes used when the user gives none: large enough to be meaningful, small enough for a laptop.
_DEFAULT_N_SAMPLES = {
    "fashion-mnist-halves": 6000,
    "synthetic": 3000,
    "synthetic-multilabel": 3000,
}


def dataset_options(name: str, *, n_samples=None, data_path=None) -> dict:
    """The options that define a dataset's content, part of every run's resume key."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: expected one of {sorted(DATASETS)}.")
    options = {}
    if name in _DEFAULT_N_SAMPLES:
        options["n_samples"] = int(n_samples or _DEFAULT_N_SAMPLES[name])
    if name in _NEEDS_PATH:
        if not data_path:
            raise ValueError(
                f"Dataset {name!r} is read from its .mat files: pass --data-path (a file or the "
                "folder holding them)."
            )
        if not Path(data_path).exists():
            raise ValueError(
                f"--data-path / 'data_path' {str(data_path)!r} does not exist: pass the "
                f".mat file of {name} or the folder holding its files."
            )
        options["data_path"] = str(data_path)
    return options


def _blocks(bunch):
    """(X_image, X_text, y) from a loader's Bunch (``image``, ``text``, ``labels``)."""
    if getattr(bunch, "image_is_raw", False):
        raise ValueError(
            "The image modality in these files is raw pixels; the benchmark needs feature "
            "vectors (use the files with XAll / image features, see the loader's image_key)."
        )
    return bunch.image, bunch.text, bunch.labels


def _subsample(y, n_samples: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a class-stratified subsample (fixed seed: part of the dataset)."""
    if n_samples >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(len(y)), train_size=n_samples, stratify=y, random_state=seed
    )
    return np.sort(keep)


def load_dataset(name: str, options: dict) -> Bunch:
    """Load a benchmark dataset.

    Returns
    -------
    Bunch
        ``X_image``, ``X_text`` (dense float arrays), ``y`` (1-D classes or a 2-D indicator),
        ``name``.
    """
    from skmetacmh import datasets

    if name == "uci-mfeat":
        X_image, X_text, y = _blocks(datasets.load_uci_mfeat(views=("pix", "fou")))
    elif name == "fashion-mnist-halves":
        X_image, X_text, y = _blocks(datasets.load_fashion_mnist_halves())
        keep = _subsample(np.asarray(y), options["n_samples"])
        X_image, X_text, y = X_image[keep], X_text[keep], np.asarray(y)[keep]
    elif name == "synthetic":
        # Balanced classes: the protocol draws the long tail from the database.
        X, y = datasets.make_cross_modal_classification(
            n_samples=options["n_samples"],
            n_image_features=_SYNTHETIC_IMAGE_FEATURES,
            n_text_features=32,
            random_state=0,
        )
        X_image, X_text = X[:, :_SYNTHETIC_IMAGE_FEATURES], X[:, _SYNTHETIC_IMAGE_FEATURES:]
    elif name == "synthetic-multilabel":
        # Extra labels are drawn in proportion to label frequency times affinity, so a rare
        # label mostly rides on items that also carry a frequent one (as in MIRFlickr and
        # NUS-WIDE tags); the protocol draws the training set's long tail on top.
        X, y = datasets.make_cross_modal_classification(
            n_samples=options["n_samples"],
            n_image_features=_SYNTHETIC_IMAGE_FEATURES,
            n_text_features=32,
            multilabel=True,
            n_labels=2.0,
            imbalance_factor=50.0,
            random_state=0,
        )
        X_image, X_text = X[:, :_SYNTHETIC_IMAGE_FEATURES], X[:, _SYNTHETIC_IMAGE_FEATURES:]
    elif name in _NEEDS_PATH:
        loader = getattr(datasets, f"load_{name}")
        X_image, X_text, y = _blocks(loader(options["data_path"]))
    else:
        raise ValueError(f"Unknown dataset {name!r}: expected one of {sorted(DATASETS)}.")
    X_image, X_text = (_dense_float(block) for block in (X_image, X_text))
    return Bunch(X_image=X_image, X_text=X_text, y=np.asarray(y), name=name)


def _dense_float(block):
    if hasattr(block, "toarray"):
        block = block.toarray()
    return np.asarray(block, dtype=np.float64)


def make_timing_data(n_samples: int, n_image_features: int, n_text_features: int, rng):
    """Gaussian features around 10 class centres (balanced classes), for timing runs only.

    Returns ``(X, y)`` with ``X = [image | text]`` of ``n_image_features + n_text_features``
    columns; ``rng`` is a :class:`numpy.random.Generator`, so consecutive calls draw new data.
    """
    y = rng.integers(10, size=n_samples)
    centres = rng.standard_normal((10, n_image_features + n_text_features))
    noise = rng.standard_normal((n_samples, n_image_features + n_text_features))
    return centres[y] + 3.0 * noise, y
