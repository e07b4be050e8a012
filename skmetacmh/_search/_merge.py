"""Merging per-shard search results into the exact result over their union.

Two primitives, one per kind of search, for every caller that splits a database:
:class:`~skmetacmh.index.HammingIndex`'s multi-index search (the codes added after its tables
were built are scanned and merged in), :class:`~skmetacmh.distributed.DistributedHammingIndex`
(one shard per worker) and the public :func:`skmetacmh.index.merge_search_results` (shards
searched by the user). ``merge_topk`` merges top-k lists, ``merge_ranges`` radius results; both
trust their inputs, which :func:`check_topk_lists` validates for the public function. They live
here so that the search engines never import the public ``index`` module that imports them.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

__all__ = ["check_topk_lists", "merge_ranges", "merge_topk"]

_EMPTY = np.iinfo(np.int64).max  # sorts after every real distance and id


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _per_shard_ints(values, n_shards: int, name: str) -> list:
    if len(values) != n_shards:
        raise ValueError(f"{name} must hold one integer per shard ({n_shards}); got {len(values)}.")
    out = []
    for s, value in enumerate(values):
        if not _is_int(value) or value < 0:
            raise ValueError(
                f"{name}[{s}] must be a non-negative integer; got {value!r}"
                + (
                    " (a negative offset would turn real ids into the padding id -1 or into "
                    "another shard's ids)."
                    if name == "offsets" and _is_int(value)
                    else "."
                )
            )
        out.append(int(value))
    return out


def _check_sorted(s: int, dist: np.ndarray, ids: np.ndarray) -> None:
    """Shard ``s``'s list: padding (-1, -1) only at the end, real entries by (distance, id)."""
    pad_d, pad_i = dist == -1, ids == -1
    if (dist < -1).any() or (ids < -1).any():
        raise ValueError(
            f"shard {s}: distances and ids must be >= 0, or -1 in padded slots; got "
            f"{int(min(dist.min(), ids.min()))}."
        )
    if (pad_d != pad_i).any():
        raise ValueError(
            f"shard {s}: a padded slot must hold -1 as both its distance and its id; found "
            "one without the other."
        )
    real = ~pad_i
    if (real[:, 1:] & ~real[:, :-1]).any():
        raise ValueError(f"shard {s}: padded slots (-1) must come after every real neighbour.")
    both = real[:, 1:] & real[:, :-1]
    d0, d1, i0, i1 = dist[:, :-1], dist[:, 1:], ids[:, :-1], ids[:, 1:]
    wrong = both & ((d1 < d0) | ((d1 == d0) & (i1 <= i0)))
    _raise_at_first(
        wrong,
        lambda row, col: (
            f"shard {s}: each row must be sorted by (distance, id), as HammingIndex.search "
            f"returns it, with no repeated id; row {row} has ({d0[row, col]}, {i0[row, col]}) "
            f"before ({d1[row, col]}, {i1[row, col]})."
        ),
    )


def _raise_at_first(bad: np.ndarray, message) -> None:
    """A ``ValueError`` with ``message(row, col)`` of the first true cell of ``bad``, if any."""
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(message(row, col))


def check_topk_lists(distances_list, indices_list, k: int, offsets=None, shard_sizes=None):
    """Validate per-shard top-k lists for :func:`merge_topk`; return them as arrays.

    Returns ``(distances_list, indices_list, offsets)`` with ``offsets`` a list of ints. See
    :func:`skmetacmh.index.merge_search_results` for the contract checked here.
    """
    if len(distances_list) != len(indices_list) or len(distances_list) == 0:
        raise ValueError(
            f"distances_list and indices_list must hold one array per shard (at least one); got "
            f"{len(distances_list)} and {len(indices_list)}."
        )
    n_shards = len(distances_list)
    local_ids = offsets is not None  # else the ids are global, and no shard size bounds them
    offsets = [0] * n_shards if offsets is None else _per_shard_ints(offsets, n_shards, "offsets")
    if shard_sizes is not None:
        shard_sizes = _per_shard_ints(shard_sizes, n_shards, "shard_sizes")
    dists, idss, n_query = [], [], None
    for s, (dist, ids) in enumerate(zip(distances_list, indices_list)):
        dist, ids = np.asarray(dist), np.asarray(ids)
        if dist.ndim != 2 or dist.shape != ids.shape:
            raise ValueError(
                f"shard {s}: distances and indices must be 2-D arrays of the same shape "
                f"(n_query, k); got {dist.shape} and {ids.shape}."
            )
        for name, arr in (("distances", dist), ("indices", ids)):
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(f"shard {s}: {name} must be integers; got dtype {arr.dtype}.")
        dist, ids = dist.astype(np.int64, copy=False), ids.astype(np.int64, copy=False)
        if n_query is None:
            n_query = dist.shape[0]
        elif dist.shape[0] != n_query:
            raise ValueError(
                f"shard {s} answers {dist.shape[0]} queries; the first shard answers {n_query}."
            )
        if dist.size:
            _check_sorted(s, dist, ids)
        n_real = (ids >= 0).sum(axis=1)
        if shard_sizes is not None:
            size = shard_sizes[s]
            if local_ids and dist.size and ids.max() >= size:
                raise ValueError(
                    f"shard {s} holds {size} codes (shard_sizes), but its list has id "
                    f"{int(ids.max())}; ids must be local ids 0 .. {size - 1}."
                )
            short = n_real < min(k, size)
            if short.any():
                raise ValueError(
                    f"shard {s} returned {int(n_real[short].min())} neighbours for a query, fewer "
                    f"than min(k={k}, shard size {size}); search every shard with at least k "
                    f"neighbours."
                )
        elif dist.shape[1] < k and not (n_real < dist.shape[1]).all():
            # A full list shorter than k may hide items of this shard that belong in the top-k.
            raise ValueError(
                f"shard {s} returned {dist.shape[1]} neighbours per query, fewer than k={k}; "
                f"search every shard with at least k neighbours, or pass shard_sizes= when a "
                f"shard holds fewer than k codes (HammingIndex.search returns at most ntotal)."
            )
        dists.append(dist)
        idss.append(ids)
    _check_disjoint(idss, offsets)
    return dists, idss, offsets


def _check_disjoint(indices_list, offsets) -> None:
    """Global ids must not repeat across shards: a repeat would be returned twice."""
    if len(indices_list) < 2:
        return
    merged = np.concatenate(
        [np.where(ids < 0, _EMPTY, ids + off) for ids, off in zip(indices_list, offsets)], axis=1
    )
    merged.sort(axis=1)
    repeated = (merged[:, 1:] == merged[:, :-1]) & (merged[:, 1:] != _EMPTY)
    _raise_at_first(
        repeated,
        lambda row, col: (
            f"global id {int(merged[row, col])} comes from more than one shard (query {row}); "
            f"the shards' ids plus offsets must be disjoint, for example offsets = the "
            f"cumulative sizes of the shards before each one."
        ),
    )


def merge_topk(distances_list, indices_list, k: int, offsets=None) -> tuple:
    """``(distances, indices)``: the ``k`` best of the shards' lists by (distance, global id).

    ``-1`` marks an empty slot in the inputs and in the output. ``offsets[s]`` turns shard
    ``s``'s ids into global ids (``None``: already global). The output has
    ``min(k, total columns of the inputs)`` columns, so its size is bounded by the inputs'
    whatever ``k`` is. The inputs are trusted (see :func:`check_topk_lists`).
    """
    if offsets is None:
        offsets = [0] * len(distances_list)
    all_d, all_i = [], []
    for dist, ids, offset in zip(distances_list, indices_list, offsets):
        dist, ids = np.asarray(dist), np.asarray(ids)
        empty = ids < 0
        all_d.append(np.where(empty, _EMPTY, dist.astype(np.int64)))
        all_i.append(np.where(empty, _EMPTY, ids.astype(np.int64) + int(offset)))
    distances, indices = np.concatenate(all_d, axis=1), np.concatenate(all_i, axis=1)
    order = np.lexsort((indices, distances), axis=-1)[:, :k]
    distances = np.take_along_axis(distances, order, -1)
    indices = np.take_along_axis(indices, order, -1)
    empty = indices == _EMPTY
    return np.where(empty, -1, distances).astype(np.int32), np.where(empty, -1, indices)


def merge_ranges(lims_list, distances_list, indices_list, offsets=None) -> tuple:
    """``(lims, distances, indices)``: per query, the union of the shards' radius results.

    Each shard's result is ``(lims, distances, ids)`` as ``range_search`` returns it, for the
    same queries; ``offsets[s]`` turns shard ``s``'s ids into global ids (``None``: already
    global). Each query's results come sorted by (distance, global id), so the union of exact
    per-shard results is the exact result over the union. The inputs are trusted.
    """
    if offsets is None:
        offsets = [0] * len(lims_list)
    n_query = len(lims_list[0]) - 1
    queries, dists, ids = [], [], []
    for lims, dist, idx, offset in zip(lims_list, distances_list, indices_list, offsets):
        queries.append(np.repeat(np.arange(n_query), np.diff(lims)))
        dists.append(np.asarray(dist, dtype=np.int64))
        ids.append(np.asarray(idx, dtype=np.int64) + int(offset))
    q, d, i = np.concatenate(queries), np.concatenate(dists), np.concatenate(ids)
    order = np.lexsort((i, d, q))
    lims = np.zeros(n_query + 1, dtype=np.int64)
    np.cumsum(np.bincount(q, minlength=n_query), out=lims[1:])
    return lims, d[order].astype(np.int32), i[order]
