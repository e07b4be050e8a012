"""Datasets: benchmark loaders, a synthetic generator and the long-tail protocol.

Loaders return a :class:`~sklearn.utils.Bunch` with ``image``, ``text`` and ``labels`` (and a
predefined ``split`` where the data has one):

- :func:`load_mirflickr25k`, :func:`load_nuswide`, :func:`load_mscoco`: the cross-modal hashing
  benchmarks in the ``.mat`` layouts the community shares (MATLAB v5 and v7.3/HDF5);
- :func:`load_uci_mfeat`: UCI Multiple Features (shipped with the package, or a folder);
- :func:`load_fashion_mnist_halves`: Fashion-MNIST, top and bottom halves as two views.

The protocol: :func:`make_cross_modal_classification` (synthetic paired data),
:func:`make_long_tailed` (a long-tailed subset), :func:`split_query_database` (queries, database,
training inside the database) and :func:`frequency_groups` (head, medium and tail classes).
"""

from ._fashion import FASHION_MNIST_LABELS, load_fashion_mnist_halves
from ._frequency import frequency_groups
from ._generator import make_cross_modal_classification
from ._long_tail import make_long_tailed
from ._mat_loaders import (
    MIRFLICKR25K_LABELS,
    MSCOCO_LABELS,
    NUSWIDE81_LABELS,
    load_mirflickr25k,
    load_mscoco,
    load_nuswide,
)
from ._split import split_query_database
from ._uci import MFEAT_VIEWS, load_uci_mfeat

__all__ = [
    "load_mirflickr25k",
    "load_nuswide",
    "load_mscoco",
    "load_uci_mfeat",
    "load_fashion_mnist_halves",
    "make_cross_modal_classification",
    "make_long_tailed",
    "split_query_database",
    "frequency_groups",
    "MIRFLICKR25K_LABELS",
    "NUSWIDE81_LABELS",
    "MSCOCO_LABELS",
    "FASHION_MNIST_LABELS",
    "MFEAT_VIEWS",
]
