"""HammingIndex: exact Hamming top-k and radius search over packed binary codes.

The index stores codes packed into 64-bit words (any positive ``n_bits``) and answers
``search`` and ``range_search`` with results sorted by (distance, database index), the ranking
rule of :mod:`skmetacmh.metrics`. Three engines give identical results, tie order included:

* ``"compiled"``: the package's optional C extension;
* ``"numpy"``: the same algorithm in pure numpy (both keep a per-query distance histogram
  rather than sorting, since a Hamming distance takes only ``n_bits + 1`` values);
* ``"faiss"``: ``faiss.IndexBinaryFlat`` (needs ``n_bits % 8 == 0``), with ties at the k-th
  distance re-ranked by index.

The engine is resolved once, when the index is built (see ``skmetacmh._search``).

:func:`merge_search_results` merges the results of indexes that each hold one shard of a
database into the exact result of one index over the whole database (see the sharding page of
the user guide).
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from . import _index_files
from ._index_contract import SizedIndex, check_positive_int, check_radius, neighbour_count
from ._search import BACKENDS, _mih, check_codes, n_words, pack_codes, resolve_engine, unpack_codes
from ._search._merge import check_topk_lists, merge_topk

__all__ = ["EngineFallbackWarning", "HammingIndex", "merge_search_results"]


class EngineFallbackWarning(UserWarning):
    """An index asked for an engine that this process lacks, and answers with numpy instead.

    Raised when a pickled or saved index of ``backend="compiled"`` (or ``"faiss"``) is loaded
    where the compiled kernels are not built (or faiss is not installed). The results are the
    same on every engine; only the speed differs.

    See Also
    --------
    HammingIndex.load : Reads a saved index, resolving its engine again.

    Examples
    --------
    >>> import warnings
    >>> from skmetacmh.index import EngineFallbackWarning
    >>> with warnings.catch_warnings():  # insist on the saved engine: fail instead
    ...     warnings.simplefilter("error", EngineFallbackWarning)
    ...     issubclass(EngineFallbackWarning, UserWarning)
    True
    """


def _engine_or_numpy(backend: str, n_bits: int, where: str):
    """The engine of ``backend``; numpy, with a warning, when a loaded index's engine is missing."""
    try:
        return resolve_engine(backend, n_bits)
    except ImportError as exc:
        warnings.warn(
            f"{where} asks for backend={backend!r}, which this process cannot run ({exc}); "
            "searching with the numpy engine instead (identical results, slower).",
            EngineFallbackWarning,
            stacklevel=3,
        )
        return resolve_engine("numpy", n_bits)


class HammingIndex(SizedIndex):
    """Exact nearest-neighbour search by Hamming distance over binary codes, in faiss style.

    Codes are added in batches and get consecutive ids; ``search`` returns the ``k`` nearest
    stored codes of each query and ``range_search`` every code within a radius, both sorted by
    (distance, id) whatever the engine, so the answers are deterministic and shardable.

    Parameters
    ----------
    n_bits : int
        Code length. Any positive value; codes are stored packed, ``ceil(n_bits / 64)`` 64-bit
        words per code.
    backend : {"auto", "compiled", "numpy", "faiss"}, default="auto"
        The search engine. ``"compiled"`` is the package's C extension (an ``ImportError`` if it
        is not built, or switched off with ``SKMETACMH_NO_KERNELS=1``); ``"numpy"`` the same
        search in pure numpy; ``"faiss"`` uses ``faiss.IndexBinaryFlat`` and needs faiss
        installed and ``n_bits`` divisible by 8. ``"auto"`` uses the compiled engine when it
        is built (it is faster than faiss on one thread), else faiss when installed and
        ``n_bits % 8 == 0``, else numpy. Every engine returns the same arrays.
    method : {"auto", "scan", "mih"}, default="auto"
        ``"scan"`` reads every stored code (the search of ``backend``). ``"mih"`` is exact
        multi-index hashing (Norouzi, Punjani & Fleet, CVPR 2012 / TPAMI 2014): hash tables
        on ``n_substrings`` substrings of the codes, probed until the k-th distance is proven,
        sub-linear in ``ntotal`` and with the same results as the scan, ties included (a
        compiled kernel when built, numpy otherwise; not with ``backend="faiss"``). ``"auto"``
        chooses at each search, from ``ntotal``, ``n_bits``, ``k`` and whether the codes are
        clustered (as a fitted hasher's are) or spread like random ones, by the crossover
        measured on both kinds (see the Hamming index page of the user guide); MIH only when
        its kernel is built.
    n_substrings : int or None, default=None
        Substrings (hash tables) of MIH. ``None`` picks ``ceil(n_bits / min(floor(log2
        ntotal), 16))`` each time the tables are built. Each substring must fit in 64 bits.

    Attributes
    ----------
    n_bits : int
        The code length given.
    backend : str
        The backend asked for.
    ntotal : int
        Number of codes added so far; they have ids ``0 .. ntotal - 1`` in the order added.
    active_backend : str
        The engine ``backend`` resolved to, once, at construction: ``"compiled"``, ``"numpy"``
        or ``"faiss"``.
    active_method : str
        The search that answers now, ``"scan"`` or ``"mih"``: ``method="auto"`` resolved for
        the ``k`` of the last ``search`` (before any, for ``range_search``).

    See Also
    --------
    merge_search_results : Merge the searches of several shard indexes.
    skmetacmh.metrics.mean_average_precision : The same (distance, index) ranking.

    Notes
    -----
    Distances are ``int32`` and ids ``int64``, as in faiss. ``search(q, k)`` returns
    ``min(k, ntotal)`` neighbours per query: an index cannot hold more, and faiss's
    ``(n_query, k)`` arrays padded with ``-1`` would make the memory grow with ``k`` rather
    than with the index (scikit-learn's ``NearestNeighbors`` refuses such a ``k`` instead).

    The index pickles (the faiss object and the MIH tables, if any, are rebuilt after loading),
    and :meth:`save` writes it to a folder of ``.npy`` files that :meth:`load` can map into
    memory without reading them. An index of an engine this process lacks (a compiled-engine
    index loaded where the kernels are not built) searches with numpy and says so with an
    :class:`EngineFallbackWarning`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.index import HammingIndex
    >>> db = np.array([[0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]], dtype=np.uint8)
    >>> index = HammingIndex(4)
    >>> index.add(db)
    >>> distances, ids = index.search(np.array([[0, 0, 0, 0]], dtype=np.uint8), k=3)
    >>> distances
    array([[1, 1, 2]], dtype=int32)
    >>> ids
    array([[0, 3, 2]])
    >>> lims, distances, ids = index.range_search(np.array([[1, 1, 1, 1]], dtype=np.uint8), 2)
    >>> ids[lims[0] : lims[1]]
    array([1, 2])
    """

    def __init__(
        self, n_bits: int, *, backend: str = "auto", method: str = "auto", n_substrings=None
    ):
        self.n_bits = check_positive_int(n_bits, "n_bits")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}.")
        self.n_substrings = _mih.check_method(method, n_substrings, backend, self.n_bits)
        self.method = method
        self.backend = backend
        # "auto" is resolved once, here, as sklearn's neighbors resolve their algorithm in fit.
        self._engine = resolve_engine(backend, self.n_bits)
        self.reset()

    # ------------------------------------------------------------------ state
    @property
    def n_words(self) -> int:
        """Number of 64-bit words per stored code."""
        return n_words(self.n_bits)

    @property
    def active_backend(self) -> str:
        """The engine that answers searches, resolved once from ``backend``."""
        return self._engine.name

    @property
    def active_method(self) -> str:
        """The search that answers now (``"scan"`` or ``"mih"``), for the last ``search``'s k."""
        return self._method

    def _resolve_method(self, k):
        """``method`` resolved for a search of ``k`` neighbours (``None``: a range search)."""
        db = self._packed[: self._ntotal]
        spread = lambda: self._mih.spread(db)  # noqa: E731 - read only when the kind decides
        return _mih.resolve_method(self.method, self.backend, self._ntotal, self.n_bits, k, spread)

    @property
    def packed_codes(self) -> np.ndarray:
        """The stored codes as ``(ntotal, n_words)`` little-endian ``uint64`` words (read-only)."""
        view = self._packed[: self._ntotal]
        view.flags.writeable = False
        return view

    def reconstruct_n(self, start: int = 0, n: int | None = None) -> np.ndarray:
        """Return up to ``n`` stored codes from id ``start`` as 0/1 ``uint8`` bits.

        Parameters
        ----------
        start : int, default=0
            First id, ``0 <= start <= ntotal``.
        n : int or None, default=None
            How many codes (fewer when the index ends first); ``None`` means up to the end.

        Returns
        -------
        codes : ndarray of shape (n_returned, n_bits), dtype uint8
            Possibly empty.
        """
        if (
            isinstance(start, (bool, np.bool_))
            or not isinstance(start, Integral)
            or not 0 <= start <= self._ntotal
        ):
            raise ValueError(
                f"start must be an integer id in [0, ntotal] = [0, {self._ntotal}]; got {start!r}."
            )
        if n is not None and (
            isinstance(n, (bool, np.bool_)) or not isinstance(n, Integral) or n < 0
        ):
            raise ValueError(f"n must be None or a non-negative integer; got {n!r}.")
        stop = self._ntotal if n is None else min(self._ntotal, int(start) + int(n))
        return unpack_codes(self._packed[int(start) : stop], self.n_bits)

    def reset(self) -> None:
        """Remove every code."""
        self._packed = np.zeros((0, self.n_words), dtype=np.uint64)
        self._ntotal = 0
        self._engine.forget()  # the faiss engine caches faiss's copy of the codes
        self._mih = _mih.MultiIndex(self.n_bits, self.n_substrings)  # tables built on search
        self._last_k = None
        self._method = self._resolve_method(None)

    def __repr__(self) -> str:
        return f"HammingIndex(n_bits={self.n_bits}, backend={self.backend!r}, ntotal={self.ntotal})"

    def __getstate__(self):
        state = self.__dict__.copy()
        # Drop spare capacity; np.array also turns a memory map into an ordinary array.
        state["_packed"] = np.array(self._packed[: self._ntotal])
        # Engines hold compiled modules or faiss objects, which do not pickle: resolve again.
        del state["_engine"]
        return state

    def __setstate__(self, state):
        state.setdefault("_last_k", None)  # pickled before "auto" took k into account
        self.__dict__.update(state)
        self._engine = _engine_or_numpy(self.backend, self.n_bits, "The unpickled HammingIndex")

    # ------------------------------------------------------------------ adding
    def add(self, codes) -> None:
        """Append codes; they get the ids ``ntotal, ntotal + 1, ...``.

        Parameters
        ----------
        codes : array-like of shape (n, n_bits)
            0/1 bits (``uint8``, ``bool`` or any number type holding only 0 and 1).
        """
        packed = pack_codes(check_codes(codes, "codes", self.n_bits))
        if packed.shape[0] == 0:
            return
        needed = self._ntotal + packed.shape[0]
        if needed > self._packed.shape[0]:
            # Geometric growth keeps many small add() calls linear overall. This is also where
            # a memory-mapped index (capacity == ntotal, read-only) moves into memory.
            capacity = max(needed, 2 * self._packed.shape[0])
            grown = np.zeros((capacity, self.n_words), dtype=np.uint64)
            grown[: self._ntotal] = self._packed[: self._ntotal]
            self._packed = grown
        self._packed[self._ntotal : needed] = packed
        self._ntotal = needed
        self._method = self._resolve_method(self._last_k)

    # ------------------------------------------------------------------ searching
    def _prepare_queries(self, query_codes) -> np.ndarray:
        if self._ntotal == 0:
            raise ValueError("The index is empty: add codes with .add(codes) before searching.")
        return pack_codes(check_codes(query_codes, "query_codes", self.n_bits))

    def search(self, query_codes, k: int):
        """The ``k`` nearest stored codes of each query, sorted by (distance, id).

        Parameters
        ----------
        query_codes : array-like of shape (n_query, n_bits)
            0/1 query codes.
        k : int
            Number of neighbours, at least 1. At most ``ntotal`` are returned: a larger ``k``
            gives every stored code, ranked (the result never grows with ``k`` beyond the
            index).

        Returns
        -------
        distances : ndarray of int32, shape (n_query, min(k, ntotal))
            Hamming distances, ascending.
        indices : ndarray of int64, shape (n_query, min(k, ntotal))
            Ids of the neighbours (ties by id).
        """
        check_positive_int(k, "k")
        queries, db = self._prepare_queries(query_codes), self._packed[: self._ntotal]
        k = neighbour_count(k, self._ntotal)
        method = self._resolve_method(k)  # a local: threads may search with other k at once
        self._last_k, self._method = k, method
        if method == "mih":
            return self._mih.search(queries, db, k, engine=self._engine)
        return self._engine.knn(queries, db, self.n_bits, k)

    def range_search(self, query_codes, radius):
        """Every stored code within Hamming distance ``radius`` (inclusive) of each query.

        Parameters
        ----------
        query_codes : array-like of shape (n_query, n_bits)
            0/1 query codes.
        radius : int or float
            Non-negative; items with ``distance <= radius`` are returned. (faiss's own
            ``range_search`` is strict, ``distance < radius``; this one is inclusive, as the
            Hamming-ball radius of :func:`skmetacmh.metrics.precision_recall_curve`).

        Returns
        -------
        lims : ndarray of int64, shape (n_query + 1,)
            The results of query ``q`` are ``distances[lims[q]:lims[q + 1]]`` and
            ``indices[lims[q]:lims[q + 1]]``, sorted by (distance, id).
        distances : ndarray of int32
            Hamming distances of all results, query after query.
        indices : ndarray of int64
            Ids of all results, aligned with ``distances``.
        """
        radius = int(min(np.floor(check_radius(radius)), self.n_bits))
        queries, db = self._prepare_queries(query_codes), self._packed[: self._ntotal]
        if self._resolve_method(None) == "mih":
            return self._mih.range_search(queries, db, radius, engine=self._engine)
        return self._engine.range(queries, db, self.n_bits, radius)

    # ------------------------------------------------------------------ on disk
    def save(self, path) -> None:
        """Write the index to the folder ``path``, in a layout :meth:`load` can memory-map.

        The folder holds ``header.json`` (format version, ``n_bits``, ``ntotal``, the
        parameters, the dtype and shape of each array), ``codes.npy`` (the packed codes,
        ``(ntotal, n_words)`` little-endian ``uint64``) and, when the index searches by
        multi-index hashing, its tables as ``mih_*.npy`` (built first if no search has built
        them yet), so that a loaded index answers its first MIH search without a rebuild.
        Plain ``.npy`` files, no pickle: see the Hamming index page of the user guide.

        Parameters
        ----------
        path : str or os.PathLike
            The folder to write. It may be absent, empty, or a previously saved index, which
            is replaced (the new folder is written beside it and renamed into place, so a
            failed save leaves the old one intact). Anything else is refused.

        See Also
        --------
        load : Read it back, optionally memory-mapped.

        Examples
        --------
        >>> import tempfile, os
        >>> import numpy as np
        >>> from skmetacmh.index import HammingIndex
        >>> codes = np.random.default_rng(0).integers(0, 2, size=(1000, 64), dtype=np.uint8)
        >>> index = HammingIndex(64)
        >>> index.add(codes)
        >>> path = os.path.join(tempfile.mkdtemp(), "codes.index")
        >>> index.save(path)
        >>> loaded = HammingIndex.load(path, mmap_mode="r")  # maps the codes, reads nothing
        >>> loaded.ntotal
        1000
        >>> bool((loaded.search(codes[:3], 5)[1] == index.search(codes[:3], 5)[1]).all())
        True
        """
        n = self._ntotal
        arrays = {"codes": self._packed[:n]}
        mih = None
        if self._method == "mih" and n:
            self._mih._refresh(self._packed[:n])  # what the next search would build
        tables = self._mih._tables
        if tables is not None:
            # The sizes go in the header, each array in mih_<name>.npy.
            scalars, table_arrays = tables.to_arrays()
            arrays.update({f"mih_{name}": value for name, value in table_arrays.items()})
            mih = {"scalars": scalars, "arrays": sorted(f"mih_{name}" for name in table_arrays)}
        header = {
            "format": "skmetacmh.HammingIndex",
            "n_bits": self.n_bits,
            "n_words": self.n_words,
            "ntotal": n,
            "backend": self.backend,
            "method": self.method,
            "n_substrings": self.n_substrings,
            "mih_tables": mih,
        }
        with _index_files.staged_folder(path) as folder:
            _index_files.save_arrays(folder, header, arrays)

    @classmethod
    def load(cls, path, mmap_mode=None) -> HammingIndex:
        """Read an index written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            The folder :meth:`save` wrote.
        mmap_mode : {None, "r", "c"}, default=None
            ``None`` reads the arrays into memory. ``"r"`` maps them read-only
            (``np.load(mmap_mode="r")``): loading reads only the header, and a search reads
            the pages it touches, so an index larger than memory can be searched (a scan
            reads every code; MIH only the buckets it probes). ``"c"`` maps them
            copy-on-write. The files are never written. ``add`` after a mapped load works:
            it moves the codes into memory first, and the files stay as saved.

        Returns
        -------
        index : HammingIndex
            Searches give the same results as the saved index, scan and MIH. Its engine is
            resolved again from the saved ``backend``; a compiled-engine index loaded where
            the kernels are not built falls back to numpy with an
            :class:`EngineFallbackWarning`.

        Raises
        ------
        ValueError
            If the folder was written in a newer format version than this skmetacmh reads,
            holds another kind of index, or was changed after saving.
        FileNotFoundError
            If ``path`` holds no saved index or misses one of its files.
        """
        mmap_mode = _index_files.check_mmap_mode(mmap_mode)
        header = _index_files.read_header(path, "HammingIndex")
        try:
            n_bits, ntotal = header["n_bits"], header["ntotal"]
            backend, method, n_substrings = (
                header["backend"], header["method"], header["n_substrings"]
            )  # fmt: skip
            tables_spec = header["mih_tables"]
            expected = {"codes"} | set(tables_spec["arrays"] if tables_spec else ())
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: the index header lacks {exc}; it is incomplete.") from exc
        n_bits = check_positive_int(n_bits, f"n_bits in {path}'s header")
        if isinstance(ntotal, bool) or not isinstance(ntotal, int) or ntotal < 0:
            raise ValueError(
                f"ntotal in {path}'s header must be a non-negative int; got {ntotal!r}."
            )
        if set(header["arrays"]) != expected:
            raise ValueError(
                f"{path}: the header lists arrays {sorted(header['arrays'])}, expected "
                f"{sorted(expected)}."
            )
        codes_spec = header["arrays"]["codes"]
        if codes_spec["shape"] != [ntotal, n_words(n_bits)] or codes_spec["dtype"] != "<u8":
            raise ValueError(
                f"{path}: codes.npy must be <u8 of shape {(ntotal, n_words(n_bits))} for "
                f"ntotal={ntotal}, n_bits={n_bits}; the header says {codes_spec}."
            )
        arrays = _index_files.load_arrays(path, header, mmap_mode)
        index = cls.__new__(cls)
        index.n_bits, index.backend, index.method = n_bits, backend, method
        index.n_substrings = _mih.check_method(method, n_substrings, backend, n_bits)
        index._engine = _engine_or_numpy(backend, n_bits, f"The HammingIndex saved at {path}")
        index.reset()
        index._packed, index._ntotal = arrays["codes"], ntotal
        if tables_spec:
            table_arrays = {
                name.removeprefix("mih_"): arrays[name] for name in tables_spec["arrays"]
            }
            try:
                tables = _mih._Tables.from_arrays(tables_spec["scalars"], table_arrays)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from exc
            index._mih._tables = tables
        index._method = index._resolve_method(None)  # as after add(): resolved on the codes
        return index


@validate_params(
    {
        "distances_list": ["array-like"],
        "indices_list": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "offsets": ["array-like", None],
        "shard_sizes": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def merge_search_results(
    distances_list, indices_list, k: int, offsets=None, *, shard_sizes=None
) -> tuple:
    """Merge per-shard top-k results into the exact top-k over the whole database.

    Each shard ``s`` is searched on its own (``HammingIndex.search`` with the same queries and
    the same ``k``); its local ids become global ids ``local + offsets[s]``. Because each
    shard's list is already its exact (distance, id) top-k, the ``k`` best of their union,
    ordered by (distance, global id), is exactly what one index over the concatenated database
    returns, ties included.

    The inputs are checked, since a wrong one would give a plausible but wrong answer: each
    row sorted by (distance, id) with padding (``-1``) only at its end, offsets non-negative,
    global ids disjoint across shards, and every shard searched deep enough. A list narrower
    than ``k`` is complete only if the shard holds fewer than ``k`` codes
    (``HammingIndex.search`` returns at most ``ntotal``): pass ``shard_sizes`` to say so;
    without it, such a list is accepted only when padded with ``-1`` (faiss's convention).

    Parameters
    ----------
    distances_list : sequence of array-like of shape (n_query, k_s)
        Distances returned by each shard (``-1`` marks an empty slot).
    indices_list : sequence of array-like of shape (n_query, k_s)
        Ids returned by each shard (``-1`` marks an empty slot).
    k : int
        Number of neighbours to keep.
    offsets : sequence of int, optional
        Global id of each shard's first item (non-negative), usually the cumulative sizes of
        the shards before it. ``None`` means the ids are already global. Within a shard,
        global ids must keep the local order, which a constant offset does.
    shard_sizes : sequence of int, optional
        Number of codes in each shard. When given, each shard's list must hold
        ``min(k, shard_sizes[s])`` neighbours per query, and (with ``offsets``) local ids
        below ``shard_sizes[s]``.

    Returns
    -------
    distances : ndarray of int32, shape (n_query, min(k, total k_s))
        Merged distances, ascending; ``-1`` in padded slots.
    indices : ndarray of int64, shape (n_query, min(k, total k_s))
        Global ids, ties by id; ``-1`` in padded slots (only where the inputs were padded).

    See Also
    --------
    HammingIndex.search : The per-shard searches to merge.
    skmetacmh.distributed.encode_dask : Encode a database too large for one machine.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh.index import HammingIndex, merge_search_results
    >>> rng = np.random.default_rng(0)
    >>> db = rng.integers(0, 2, size=(100, 16), dtype=np.uint8)
    >>> queries = rng.integers(0, 2, size=(5, 16), dtype=np.uint8)
    >>> shards, offsets, results = np.array_split(db, [30, 70]), [0, 30, 70], []
    >>> for shard in shards:
    ...     index = HammingIndex(16)
    ...     index.add(shard)
    ...     results.append(index.search(queries, k=10))
    >>> D, I = merge_search_results([d for d, _ in results], [i for _, i in results], 10, offsets)
    >>> D.shape
    (5, 10)
    >>> whole = HammingIndex(16)
    >>> whole.add(db)
    >>> D_whole, I_whole = whole.search(queries, k=10)
    >>> bool((D == D_whole).all() and (I == I_whole).all())
    True
    """
    k = check_positive_int(k, "k")  # validate_params lets a bool through as an int
    dists, ids, offsets = check_topk_lists(distances_list, indices_list, k, offsets, shard_sizes)
    return merge_topk(dists, ids, k, offsets)
