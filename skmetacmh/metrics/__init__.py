"""Retrieval metrics for Hamming ranking, and the one scorer every hasher shares.

* :mod:`._ranking`: metrics on codes and labels (``mean_average_precision``,
  ``precision_at_k``, ``precision_recall_curve``, ``map_per_class``, ``map_by_frequency_group``);
* :mod:`._scorer`: metrics on a fitted hasher (``cross_modal_map``) and the ``scoring=``
  callable (``make_cross_modal_scorer``).

Relevance, ranking and AP are defined once, in :mod:`._ranking`'s docstring.
"""

from ._ranking import (
    map_by_frequency_group,
    map_per_class,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
)
from ._scorer import cross_modal_map, make_cross_modal_scorer

__all__ = [
    "mean_average_precision",
    "cross_modal_map",
    "map_per_class",
    "map_by_frequency_group",
    "precision_at_k",
    "precision_recall_curve",
    "make_cross_modal_scorer",
]
