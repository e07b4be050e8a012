"""Encoding and searching out of core with Dask: databases larger than one machine's memory.

A fitted hasher is a small object; encoding is embarrassingly parallel over rows. These
helpers map ``transform``/``encode`` over the row blocks of a ``dask.array`` so each worker
holds one block at a time; the result is a lazy ``uint8`` dask array of bits, which can be
written to disk (``to_zarr``, ``to_npy_stack``) or indexed where it is computed by a
:class:`DistributedHammingIndex`, one exact :class:`~skmetacmh.index.HammingIndex` shard per
dask.distributed worker. ``dask_ml.wrappers.ParallelPostFit`` works too; these functions only
avoid that dependency and fix dtypes and chunk shapes up front.

Dask is an optional dependency (``pip install "dask[array,distributed]"``).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import _index_files
from ._index_contract import SizedIndex, check_positive_int, check_radius, neighbour_count
from ._modalities import check_modality
from ._search import check_codes
from ._search._merge import merge_ranges, merge_topk
from .index import HammingIndex

__all__ = ["transform_dask", "encode_dask", "DistributedHammingIndex"]


def _dask_array(X, name):
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Encoding with Dask needs dask: pip install "dask[array,distributed]".'
        ) from exc
    if not isinstance(X, da.Array):
        raise TypeError(f"{name} must be a dask.array.Array; got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D; got {X.ndim} dimensions.")
    # Whole rows per block: a hash function needs every feature of an item.
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def transform_dask(hasher, X):
    """Lazily hash both modalities of a dask array, block of rows by block of rows.

    Each block of rows is passed to ``hasher.transform`` on the worker that holds it, so a
    database larger than one machine's memory is encoded where it lies; nothing is computed
    until the result is asked for.

    Parameters
    ----------
    hasher : fitted cross-modal hasher
        Any fitted hasher of the package; it is shipped to the workers with the task graph.
    X : dask.array.Array of shape (n_samples, n_features)
        ``[image block | text block]`` as in ``fit``; chunked along rows.

    Returns
    -------
    codes : dask.array.Array of shape (n_samples, 2 * n_bits), dtype uint8
        Image bits then text bits, computed when asked for.

    See Also
    --------
    encode_dask : One modality only.
    DistributedHammingIndex : Search codes sharded over the workers.

    Examples
    --------
    >>> import dask.array as da
    >>> codes = transform_dask(hasher, da.from_array(X, chunks=(100_000, -1)))  # doctest: +SKIP
    >>> codes.to_zarr("codes.zarr")  # doctest: +SKIP
    """
    check_is_fitted(hasher)
    X = _dask_array(X, "X")
    if X.shape[1] != hasher.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(hasher).__name__} was fitted with "
            f"{hasher.n_features_in_}."
        )
    return X.map_blocks(
        _transform_block,
        hasher,
        dtype=np.uint8,
        chunks=(X.chunks[0], (2 * hasher.n_bits,)),
        meta=np.empty((0, 0), dtype=np.uint8),
    )


def encode_dask(hasher, X, modality: str):
    """Lazily hash one modality of a dask array (only that modality's columns).

    Each block of rows is passed to ``hasher.encode`` on the worker that holds it, so the
    database side of a retrieval task can be encoded where it is stored.

    Parameters
    ----------
    hasher : fitted cross-modal hasher
        Any fitted hasher of the package; it is shipped to the workers with the task graph.
    X : dask.array.Array of shape (n_samples, n_modality_features)
        The columns of one modality only, chunked along rows (one chunk across the columns).
    modality : {"image", "text"}
        Which modality ``X`` holds.

    Returns
    -------
    codes : dask.array.Array of shape (n_samples, n_bits), dtype uint8
        The bits, computed when asked for.

    See Also
    --------
    transform_dask : Both modalities at once.
    DistributedHammingIndex : Search the codes sharded over the workers.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skmetacmh import CCAITQHasher
    >>> from skmetacmh.distributed import encode_dask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 10))
    >>> y = rng.integers(0, 3, 200)
    >>> hasher = CCAITQHasher(n_bits=4, n_image_features=6, random_state=0).fit(X, y)
    >>> codes = encode_dask(hasher, da.from_array(X[:, :6], chunks=(50, -1)), "image")
    >>> codes.compute().shape
    (200, 4)
    """
    check_is_fitted(hasher)
    modality = check_modality(modality)
    X = _dask_array(X, "X")
    # Checked while the graph is built: a wrong width found at compute time may be hours away.
    expected = _modality_width(hasher, modality)
    if X.shape[1] != expected:
        raise ValueError(
            f"encode_dask(modality={modality!r}): X has {X.shape[1]} columns, but "
            f"{type(hasher).__name__} was fitted with {expected} {modality} columns."
        )
    return X.map_blocks(
        _encode_block,
        hasher,
        modality,
        dtype=np.uint8,
        chunks=(X.chunks[0], (hasher.n_bits,)),
        meta=np.empty((0, 0), dtype=np.uint8),
    )


def _modality_width(hasher, modality: str) -> int:
    """Columns of ``modality`` that the fitted ``hasher`` saw (not its current parameters)."""
    text = int(hasher.n_text_features_)
    return text if modality == "text" else int(hasher.n_features_in_) - text


# A boolean filter leaves 0-row blocks; the hashers refuse 0 samples (as sklearn's transformers
# do), so an empty block gets its empty codes here, as dask-ml's ParallelPostFit does.
def _transform_block(block, hasher):
    if block.shape[0] == 0:
        return np.zeros((0, 2 * hasher.n_bits), dtype=np.uint8)
    codes = hasher.transform(block)
    return codes.to_numpy() if hasattr(codes, "to_numpy") else codes


def _encode_block(block, hasher, modality):
    if block.shape[0] == 0:
        return np.zeros((0, hasher.n_bits), dtype=np.uint8)
    return hasher.encode(block, modality=modality)


# ---------------------------------------------------------------------------- distributed index
def _new_shard(n_bits, method, n_substrings, *blocks):
    shard = HammingIndex(n_bits, method=method, n_substrings=n_substrings)
    for block in blocks:
        shard.add(block)
    return shard


def _extend_shard(shard, *blocks):
    # A future's value must not change (a retried task would add twice): extend a copy.
    shard = copy.deepcopy(shard)
    for block in blocks:
        shard.add(block)
    return shard


def _n_rows(*blocks):
    return int(sum(np.shape(block)[0] for block in blocks))


def _search_shard(shard, queries, k):
    return shard.search(queries, k)


def _range_search_shard(shard, queries, radius):
    return shard.range_search(queries, radius)


def _save_shard(shard, path):
    shard.save(path)


def _shard_size(shard):
    return shard.ntotal


class _Shard:
    """Client-side record of one shard: its future, the worker last seen holding it, its ids.

    Each ``add`` appends one contiguous run of global ids to a shard, at local ids
    ``local_starts[r]`` onwards; later runs have larger global ids, so the local-to-global map
    is increasing and keeps the shard's (distance, id) order.
    """

    def __init__(self, worker, future):
        self.worker, self.future = worker, future
        self.size, self.local_starts, self.global_starts = 0, [], []

    def append_run(self, global_start: int, n: int) -> None:
        self.local_starts.append(self.size)
        self.global_starts.append(global_start)
        self.size += n

    def to_global(self, ids: np.ndarray) -> np.ndarray:
        local = np.asarray(self.local_starts, dtype=np.int64)
        shift = np.asarray(self.global_starts, dtype=np.int64) - local
        run = np.searchsorted(local, ids, side="right") - 1
        return np.where(ids < 0, -1, ids + shift[np.maximum(run, 0)])


class DistributedHammingIndex(SizedIndex):
    """Exact Hamming search over shards held by dask.distributed workers, one shard per worker.

    ``add`` takes a dask array of codes (for example the output of :func:`encode_dask`) and
    builds, on each worker, a :class:`~skmetacmh.index.HammingIndex` of a contiguous run of
    its row blocks, computed there: the codes never travel to the client. ``search`` scatters
    the query codes to every worker, runs each shard's exact search where the shard lives, and
    merges the answers by (distance, global id); the result is exactly that of one in-memory
    ``HammingIndex`` over all codes, ties included.

    Parameters
    ----------
    n_bits : int
        Code length.
    client : distributed.Client or None, default=None
        The cluster to use; ``None`` means the current default client (the last one created),
        looked up at the first ``add``.
    method : {"auto", "scan", "mih"}, default="auto"
        Search of each shard (see :class:`~skmetacmh.index.HammingIndex`); exact whatever it is.
    n_substrings : int or None, default=None
        Substring count of each shard's multi-index hashing tables.

    Attributes
    ----------
    ntotal : int
        Number of codes added; they have global ids ``0 .. ntotal - 1`` in row order.
    shard_sizes : dict
        Codes held by each live worker, by worker address (asked of the scheduler).

    See Also
    --------
    skmetacmh.index.HammingIndex : The single-machine index each shard is.
    skmetacmh.index.merge_search_results : The exact merge of per-shard results.

    Notes
    -----
    Fault handling: a shard lives in its worker's memory as a dask future whose lineage (the
    tasks that computed its row blocks, or loaded it from disk) the scheduler keeps. When a
    worker is lost, the scheduler recomputes its shard on a surviving worker and the search
    waits for it, so the answer stays complete; when a shard cannot be rebuilt or its search
    fails, ``search`` raises a ``RuntimeError`` naming the shard and worker. It never returns a
    result that misses a shard. After such a move a worker may hold two shards;
    ``shard_sizes`` reports where the shards are now, and the next ``add`` extends one shard
    per live worker (a new shard on a worker that holds none).

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from distributed import Client, LocalCluster
    >>> from skmetacmh.distributed import DistributedHammingIndex
    >>> cluster = LocalCluster(n_workers=2, processes=False, dashboard_address=":0")
    >>> client = Client(cluster)
    >>> codes = np.random.default_rng(0).integers(0, 2, size=(1000, 32), dtype=np.uint8)
    >>> index = DistributedHammingIndex(32, client=client)
    >>> index.add(da.from_array(codes, chunks=(250, 32)))
    >>> distances, ids = index.search(codes[:2], k=3)
    >>> ids[:, 0].tolist()  # each query's nearest code is itself
    [0, 1]
    >>> client.close(); cluster.close()
    """

    def __init__(self, n_bits: int, *, client=None, method: str = "auto", n_substrings=None):
        HammingIndex(n_bits, method=method, n_substrings=n_substrings)  # validates them
        self.n_bits = int(n_bits)
        self.client = client
        self.method = method
        self.n_substrings = n_substrings
        self._shards: list[_Shard] = []
        self._ntotal = 0

    @property
    def shard_sizes(self) -> dict:
        """Worker address -> number of codes in the shards that worker holds now.

        Asks the scheduler where each shard is (waiting for a shard that is being rebuilt after
        a worker was lost), so a lost worker is never listed.
        """
        if not self._shards:
            return {}
        self._locate(self._client())
        sizes: dict = {}
        for shard in self._shards:
            sizes[shard.worker] = sizes.get(shard.worker, 0) + shard.size
        return sizes

    def __repr__(self) -> str:
        return (
            f"DistributedHammingIndex(n_bits={self.n_bits}, ntotal={self.ntotal}, "
            f"n_shards={len(self._shards)})"
        )

    def _client(self):
        if self.client is not None:
            return self.client
        try:
            from distributed import default_client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'DistributedHammingIndex needs dask.distributed: pip install "dask[distributed]".'
            ) from exc
        try:
            return default_client()
        except ValueError as exc:
            raise ValueError(
                "DistributedHammingIndex(client=None) uses the default dask.distributed client, "
                "but none is running; create one (distributed.Client(...)) or pass client=."
            ) from exc

    @staticmethod
    def _workers(client) -> list:
        try:
            info = client.scheduler_info(n_workers=-1)  # all workers, not the first few
        except TypeError:  # older distributed: no such argument, and every worker listed
            info = client.scheduler_info()
        workers = sorted(info["workers"])
        if not workers:
            raise RuntimeError("The dask cluster has no workers to hold the shards.")
        return workers

    def _locate(self, client) -> None:
        """Record which worker holds each shard now (the scheduler moves lost ones)."""
        futures = [shard.future for shard in self._shards]
        self._wait(futures, [shard.worker for shard in self._shards], "locating")
        who_has = client.who_has(futures)
        for shard in self._shards:
            holders = sorted(who_has.get(shard.future.key, ()))
            if holders:
                shard.worker = holders[0]

    # ------------------------------------------------------------------ adding
    def add(self, codes) -> None:
        """Index the rows of a dask array of 0/1 codes where they are computed.

        Parameters
        ----------
        codes : dask.array.Array of shape (n, n_bits)
            0/1 bits, chunked along rows (for example :func:`encode_dask`'s output). They get
            the global ids ``ntotal, ntotal + 1, ...`` in row order. Row blocks are split into
            one contiguous run per live worker; each worker computes its blocks and adds them
            to the shard it holds (a new one if it holds none), so only row counts reach the
            client.
        """
        codes = _dask_array(codes, "codes")
        if codes.shape[1] != self.n_bits:
            raise ValueError(
                f"codes must have {self.n_bits} columns (n_bits); got {codes.shape[1]}."
            )
        client = self._client()
        workers = self._workers(client)
        target = {}  # live worker -> the (smallest) shard it holds now
        if self._shards:
            self._locate(client)
            for shard in sorted(self._shards, key=lambda shard: -shard.size):
                if shard.worker in workers:
                    target[shard.worker] = shard
        if len(codes.chunks[0]) < len(workers) and not np.isnan(codes.shape[0]):
            codes = codes.rechunk({0: max(1, -(-codes.shape[0] // len(workers)))})  # one each
        blocks = list(codes.to_delayed().ravel())
        runs = _contiguous_runs(codes.chunks[0], len(workers))
        new, counts = [], []
        for worker, (lo, hi) in zip(workers, runs):
            if lo == hi:
                continue
            block_futures = client.compute(
                blocks[lo:hi], workers=[worker], allow_other_workers=True
            )
            placement = {"workers": [worker], "allow_other_workers": True, "pure": False}
            shard = target.get(worker)
            if shard is None:
                future = client.submit(
                    _new_shard, self.n_bits, self.method, self.n_substrings, *block_futures,
                    **placement,
                )  # fmt: skip
            else:
                future = client.submit(_extend_shard, shard.future, *block_futures, **placement)
            new.append((worker, shard, future))
            counts.append(client.submit(_n_rows, *block_futures, **placement))
        self._wait([f for _, _, f in new], [w for w, _, _ in new], "building")
        sizes = client.gather(counts)
        start = self._ntotal
        for (worker, shard, future), size in zip(new, sizes):
            if shard is None:
                shard = _Shard(worker, future)
                self._shards.append(shard)
            shard.future = future
            shard.append_run(start, size)
            start += size
        self._ntotal = start

    # ------------------------------------------------------------------ searching
    @staticmethod
    def _wait(futures, workers, what: str) -> None:
        from distributed import wait

        wait(futures)
        for s, (future, worker) in enumerate(zip(futures, workers)):
            if future.status != "finished":
                try:
                    cause = future.exception()
                except Exception as exc:  # a cancelled future has no exception to fetch
                    cause = exc
                raise RuntimeError(
                    f"{what} shard {s} (worker {worker}) failed: {type(cause).__name__}: {cause}. "
                    f"No partial result is returned."
                ) from cause

    def _run_on_shards(self, func, query_codes, arg_of):
        """Run ``func(shard, queries, arg_of(shard))`` where each non-empty shard lives."""
        if self._ntotal == 0:
            raise ValueError("The index is empty: add codes with .add(codes) before searching.")
        queries = check_codes(query_codes, "query_codes", self.n_bits)
        client = self._client()
        shards = [shard for shard in self._shards if shard.size]  # 0 rows: nothing to search
        scattered = client.scatter(queries, broadcast=True, hash=False)
        futures = [
            client.submit(
                func, shard.future, scattered, arg_of(shard),
                workers=[shard.worker], allow_other_workers=True, pure=False,
            )
            for shard in shards
        ]  # fmt: skip
        self._wait(futures, [shard.worker for shard in shards], "searching")
        return shards, client.gather(futures)

    def search(self, query_codes, k: int):
        """The ``k`` nearest codes of each query over every shard, sorted by (distance, id).

        Parameters
        ----------
        query_codes : array-like of shape (n_query, n_bits)
            0/1 query codes (held by the client, scattered to the workers).
        k : int
            Number of neighbours, at least 1; at most ``ntotal`` are returned, as
            :meth:`skmetacmh.index.HammingIndex.search` does.

        Returns
        -------
        distances : ndarray of int32, shape (n_query, min(k, ntotal))
            Hamming distances, ascending.
        indices : ndarray of int64, shape (n_query, min(k, ntotal))
            Global ids, exactly those of one ``HammingIndex`` over all codes.
        """
        check_positive_int(k, "k")
        k = neighbour_count(k, self._ntotal) if self._ntotal else k
        shards, answers = self._run_on_shards(
            _search_shard, query_codes, lambda shard: min(k, shard.size)
        )
        distances = [d for d, _ in answers]
        ids = [shard.to_global(i) for shard, (_, i) in zip(shards, answers)]
        return merge_topk(distances, ids, k)

    def range_search(self, query_codes, radius):
        """Every code within Hamming distance ``radius`` (inclusive) over every shard.

        Parameters
        ----------
        query_codes : array-like of shape (n_query, n_bits)
            0/1 query codes (held by the client, scattered to the workers).
        radius : int or float
            Non-negative, inclusive: as :meth:`skmetacmh.index.HammingIndex.range_search`.

        Returns
        -------
        lims, distances, indices : ndarray
            What :meth:`skmetacmh.index.HammingIndex.range_search` returns for one index over
            all the codes: the shards' results, with global ids, merged per query in
            (distance, id) order.
        """
        check_radius(radius)
        shards, answers = self._run_on_shards(
            _range_search_shard, query_codes, lambda shard: radius
        )
        return merge_ranges(
            [lims for lims, _, _ in answers],
            [dist for _, dist, _ in answers],
            [shard.to_global(idx) for shard, (_, _, idx) in zip(shards, answers)],
        )

    # ------------------------------------------------------------------ on disk
    def save(self, path) -> None:
        """Write every shard to the folder ``path``, each shard from the worker that holds it.

        ``path`` receives one :meth:`skmetacmh.index.HammingIndex.save` folder per shard
        (``shard-00000``, ...) and a ``header.json`` with ``n_bits``, the parameters and each
        shard's size and local-to-global id runs. The shards are written by the workers, so
        ``path`` must be on a file system that every worker and the client see (as for
        ``dask.array.to_npy_stack``); the codes never travel to the client.

        Parameters
        ----------
        path : str or os.PathLike
            The folder to write; absent, empty, or a previously saved index (replaced).

        See Also
        --------
        load : Load the shards back onto the workers of a cluster.
        """
        client = self._client() if self._shards else None
        # Absolute: a worker may run in another working directory than the client.
        path = Path(os.fspath(path)).absolute()
        with _index_files.staged_folder(path) as folder:
            names = [f"shard-{s:05d}" for s in range(len(self._shards))]
            futures = [
                client.submit(
                    _save_shard, shard.future, os.fspath(folder / name),
                    workers=[shard.worker], allow_other_workers=True, pure=False,
                )
                for name, shard in zip(names, self._shards)
            ]  # fmt: skip
            self._wait(futures, [shard.worker for shard in self._shards], "saving")
            header = {
                "format": "skmetacmh.DistributedHammingIndex",
                "n_bits": self.n_bits,
                "ntotal": self._ntotal,
                "method": self.method,
                "n_substrings": self.n_substrings,
                "shards": [
                    {
                        "folder": name,
                        "size": shard.size,
                        "local_starts": [int(v) for v in shard.local_starts],
                        "global_starts": [int(v) for v in shard.global_starts],
                    }
                    for name, shard in zip(names, self._shards)
                ],
            }
            _index_files.save_arrays(folder, header, {})

    @classmethod
    def load(cls, path, *, client=None, mmap_mode=None) -> DistributedHammingIndex:
        """Load an index written by :meth:`save` onto the workers of a cluster.

        Each shard is loaded by one worker (shards are dealt to the live workers in turn) with
        :meth:`skmetacmh.index.HammingIndex.load`, so the codes go from the files to the
        workers, never through the client. A shard lost with its worker is loaded again from
        ``path`` elsewhere, so ``path`` must stay readable by the workers.

        Parameters
        ----------
        path : str or os.PathLike
            The folder :meth:`save` wrote, on a file system the workers see.
        client : distributed.Client or None, default=None
            The cluster to load onto; ``None``: the default client.
        mmap_mode : {None, "r", "c"}, default=None
            How each worker reads its shard (see :meth:`skmetacmh.index.HammingIndex.load`).

        Returns
        -------
        index : DistributedHammingIndex
            Answers exactly as the saved index did.
        """
        mmap_mode = _index_files.check_mmap_mode(mmap_mode)
        header = _index_files.read_header(path, "DistributedHammingIndex")
        try:
            index = cls(
                header["n_bits"], client=client, method=header["method"],
                n_substrings=header["n_substrings"],
            )  # fmt: skip
            specs, ntotal = header["shards"], int(header["ntotal"])
        except KeyError as exc:
            raise ValueError(f"{path}: the index header lacks {exc}; it is incomplete.") from exc
        if sum(spec["size"] for spec in specs) != ntotal:
            raise ValueError(
                f"{path}: the shards hold {sum(spec['size'] for spec in specs)} codes, but the "
                f"header says ntotal={ntotal}."
            )
        if not specs:
            return index
        path = Path(os.fspath(path)).absolute()
        client = index._client()
        workers = cls._workers(client)
        for s, spec in enumerate(specs):
            worker = workers[s % len(workers)]
            future = client.submit(
                HammingIndex.load, os.fspath(path / spec["folder"]), mmap_mode,
                workers=[worker], allow_other_workers=True, pure=False,
            )  # fmt: skip
            shard = _Shard(worker, future)
            shard.size = int(spec["size"])
            shard.local_starts = [int(v) for v in spec["local_starts"]]
            shard.global_starts = [int(v) for v in spec["global_starts"]]
            index._shards.append(shard)
        index._wait(
            [sh.future for sh in index._shards], [sh.worker for sh in index._shards], "loading"
        )
        sizes = client.gather([client.submit(_shard_size, sh.future) for sh in index._shards])
        for spec, size in zip(specs, sizes):
            if size != spec["size"]:
                raise ValueError(
                    f"{path / spec['folder']} holds {size} codes, but the header says "
                    f"{spec['size']}; the folder was changed after saving."
                )
        index._ntotal = ntotal
        return index


def _contiguous_runs(row_chunks, n_workers: int):
    """Split row blocks into ``n_workers`` contiguous runs of about equal row counts."""
    n_blocks = len(row_chunks)
    sizes = np.asarray(row_chunks, dtype=float)
    if np.isnan(sizes).any():  # unknown chunk sizes: balance the block counts instead
        sizes = np.ones(n_blocks)
    ends = np.concatenate([[0], np.cumsum(sizes)])
    targets = ends[-1] * np.arange(1, n_workers) / n_workers
    cuts = np.clip(np.searchsorted(ends, targets), 0, n_blocks)
    bounds = [0, *cuts.tolist(), n_blocks]
    return list(zip(bounds[:-1], bounds[1:]))
