"""Query-time retrieval from a fitted hasher: exact Hamming top-k over its packed database.

``fit`` packs each modality's database codes once (``BaseCrossModalHasher``); a
:class:`DatabaseSearch` answers top-k queries against one of them with the engine and the method
that a :class:`~skmetacmh.index.HammingIndex` built with ``backend="auto", method="auto"``
resolves, so ``kneighbors`` returns exactly what such an index over the same codes returns
(ties by id) without copying or re-packing the codes.
"""

from __future__ import annotations

import numpy as np

from ._search import _mih, resolve_engine

__all__ = ["DatabaseSearch"]


class DatabaseSearch:
    """Exact top-k search over packed codes that belong to someone else (read, never copied).

    The engine is resolved once, here, as ``HammingIndex`` resolves it; the method (scan or
    multi-index hashing) per search, from the database size, the code length and ``k``, by the
    same rule as ``HammingIndex(method="auto")``. MIH tables are built on the first search that
    uses them. Pickling keeps only the codes: the engine is resolved again on loading, where
    the compiled kernels may be missing, and the tables are rebuilt on demand.

    Parameters
    ----------
    packed : ndarray of uint64, shape (n, n_words)
        Codes packed by ``skmetacmh._search.pack_codes``.
    n_bits : int
        Code length.
    """

    def __init__(self, packed: np.ndarray, n_bits: int):
        self.packed = packed
        self.n_bits = n_bits
        self._resolve()

    def _resolve(self) -> None:
        self._engine = resolve_engine("auto", self.n_bits)
        self._tables = _mih.MultiIndex(self.n_bits)

    def __getstate__(self):
        return {"packed": self.packed, "n_bits": self.n_bits}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._resolve()

    @property
    def ntotal(self) -> int:
        """Number of codes searched."""
        return self.packed.shape[0]

    def method_for(self, k: int) -> str:
        """The search (``"scan"`` or ``"mih"``) that ``k`` neighbours would use."""
        spread = lambda: self._tables.spread(self.packed)  # noqa: E731 - read only if needed
        return _mih.resolve_method("auto", "auto", self.ntotal, self.n_bits, k, spread)

    def search(self, queries: np.ndarray, k: int):
        """``(distances, ids)`` of the ``k <= ntotal`` nearest codes of each packed query."""
        if self.method_for(k) == "mih":
            return self._tables.search(queries, self.packed, k, engine=self._engine)
        return self._engine.knn(queries, self.packed, self.n_bits, k)
