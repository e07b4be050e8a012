"""What every index of the package shares: its size, and how it reads ``k`` and ``radius``.

:class:`~skmetacmh.index.HammingIndex` and
:class:`~skmetacmh.distributed.DistributedHammingIndex` take the same scalar arguments and report
their size the same way; both import them from here, so neither reaches into the other's
private names.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

__all__ = [
    "SizedIndex",
    "check_n_neighbors",
    "check_positive_int",
    "check_radius",
    "neighbour_count",
]


def _is_bool(value) -> bool:
    # bool is an Integral in Python: k=True must not mean k=1.
    return isinstance(value, (bool, np.bool_))


def check_positive_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is an integer >= 1 (not a bool), else a ``ValueError``."""
    if _is_bool(value) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def check_radius(radius):
    """A search radius: a finite non-negative number (not a bool)."""
    if _is_bool(radius) or not isinstance(radius, Real) or not np.isfinite(radius) or radius < 0:
        raise ValueError(f"radius must be a non-negative number; got {radius!r}.")
    return radius


def neighbour_count(k, ntotal: int) -> int:
    """The number of neighbours a search of ``k`` returns: ``min(k, ntotal)``.

    An index cannot return more neighbours than it holds codes. Bounding the result here (as
    scikit-learn's ``NearestNeighbors`` bounds ``n_neighbors`` by the fitted samples, where
    faiss allocates and pads ``k`` slots) keeps a huge ``k`` from allocating memory that grows
    with ``k`` instead of with the index.
    """
    return min(check_positive_int(k, "k"), int(ntotal))


def check_n_neighbors(n_neighbors, n_items: int, bounds: str) -> int:
    """``n_neighbors`` of a ``kneighbors`` as an int from 1 to ``n_items`` (not a bool).

    Unlike ``k`` of a search, which :func:`neighbour_count` bounds, ``n_neighbors`` beyond the
    items searched is an error, as in scikit-learn's ``NearestNeighbors``; ``bounds`` says the
    allowed range in the caller's words.
    """
    if (
        _is_bool(n_neighbors)
        or not isinstance(n_neighbors, Integral)
        or not (1 <= n_neighbors <= n_items)
    ):
        raise ValueError(f"n_neighbors must be an int {bounds}; got {n_neighbors!r}.")
    return int(n_neighbors)


class SizedIndex:
    """How every index of the package reports its size: ``ntotal`` and ``len(index)``."""

    _ntotal: int

    @property
    def ntotal(self) -> int:
        """Number of stored codes (over all shards, for a distributed index)."""
        return self._ntotal

    def __len__(self) -> int:
        return self._ntotal
