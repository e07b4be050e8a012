"""Fashion-MNIST as a two-view problem: the top and bottom halves of each image."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_fashion_mnist_halves", "FASHION_MNIST_LABELS"]

#: Class names in label order (Xiao, Rasul & Vollgraf, 2017).
FASHION_MNIST_LABELS = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip

DEFAULT_FASHION_MNIST_HOME = "/usr/share/datasets/fashion-mnist"
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# IDX magic numbers: two zero bytes, 0x08 (unsigned byte data), then the number of dimensions.
_MAGIC = {3: 0x00000803, 1: 0x00000801}


def _read_idx(folder: Path, name: str, n_dims: int) -> np.ndarray:
    """Read an IDX file (``name.gz`` or uncompressed ``name``) of unsigned bytes."""
    for path, opener in ((folder / f"{name}.gz", gzip.open), (folder / name, open)):
        if path.is_file():
            with opener(path, "rb") as f:
                raw = f.read()
            break
    else:
        raise FileNotFoundError(
            f"Fashion-MNIST: {name}.gz not found in {folder}. Install the Debian package "
            "`dataset-fashion-mnist` (it puts the files in "
            f"{DEFAULT_FASHION_MNIST_HOME}), or download the four IDX files from "
            "https://github.com/zalandoresearch/fashion-mnist and pass data_home=<folder>."
        )
    header = np.frombuffer(raw, dtype=">u4", count=1 + n_dims)
    if header[0] != _MAGIC[n_dims]:
        raise ValueError(
            f"{path} is not an IDX file of {n_dims}-D unsigned bytes (magic number "
            f"{int(header[0]):#010x}, expected {_MAGIC[n_dims]:#010x})."
        )
    shape = tuple(int(s) for s in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + n_dims))
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: the header announces shape {shape} but holds {data.size} bytes.")
    return data.reshape(shape)


def load_fashion_mnist_halves(data_home=None) -> Bunch:
    """Load Fashion-MNIST with the top and bottom halves of each image as the two views.

    Each 28x28 image is cut into its top 14 rows and its bottom 14 rows; the halves play the
    image and text modalities of a cross-modal hasher (a query half retrieves items whose other
    half shows the same kind of garment).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the four IDX files (gzip or not); by default
        ``/usr/share/datasets/fashion-mnist``, where the Debian package
        ``dataset-fashion-mnist`` installs them.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``image``: float32 ndarray of shape (70000, 392), top halves (rows 0-13), pixel
          values scaled to [0, 1], row-major.
        - ``text``: float32 ndarray of shape (70000, 392), bottom halves (rows 14-27).
        - ``labels``: int64 ndarray of shape (70000,), classes 0..9.
        - ``label_names``: the ten class names.
        - ``split``: Bunch of index arrays ``train`` (the first 60,000 items, the official
          training set) and ``test`` (the last 10,000).
        - ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When a file is missing; the message says how to get them.
    ValueError
        When a file is not a valid IDX file or the image and label counts differ.

    See Also
    --------
    load_uci_mfeat : A small two-view set shipped with skmetacmh.
    make_long_tailed : Draw a long-tailed training set from the loaded items.

    References
    ----------
    H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
    Machine Learning Algorithms", arXiv:1708.07747, 2017.

    Examples
    --------
    >>> from skmetacmh.datasets import load_fashion_mnist_halves
    >>> data = load_fashion_mnist_halves()  # doctest: +SKIP
    >>> data.image.shape, data.text.shape, len(data.split.test)  # doctest: +SKIP
    ((70000, 392), (70000, 392), 10000)
    """
    folder = Path(os.fspath(data_home if data_home is not None else DEFAULT_FASHION_MNIST_HOME))
    folder = folder.expanduser()
    images, labels, sizes = [], [], {}
    for part, (image_file, label_file) in _FILES.items():
        part_images = _read_idx(folder, image_file, 3)
        part_labels = _read_idx(folder, label_file, 1)
        if part_images.shape[0] != part_labels.shape[0] or part_images.shape[1:] != (28, 28):
            raise ValueError(
                f"Fashion-MNIST {part} files disagree: images {part_images.shape}, labels "
                f"{part_labels.shape} (expected (n, 28, 28) and (n,))."
            )
        images.append(part_images)
        labels.append(part_labels)
        sizes[part] = part_labels.shape[0]
    pixels = np.concatenate(images).astype(np.float32) / np.float32(255.0)
    n_items = pixels.shape[0]
    return Bunch(
        image=pixels[:, :14, :].reshape(n_items, -1),
        text=pixels[:, 14:, :].reshape(n_items, -1),
        labels=np.concatenate(labels).astype(np.int64),
        label_names=list(FASHION_MNIST_LABELS),
        split=Bunch(
            train=np.arange(sizes["train"]),
            test=np.arange(sizes["train"], n_items),
        ),
        DESCR=(
            f"Fashion-MNIST halves: {n_items} items ({sizes['train']} train, {sizes['test']} "
            f"test), image = top 14x28 half, text = bottom 14x28 half, pixels in [0, 1]; "
            f"read from {folder}."
        ),
    )
