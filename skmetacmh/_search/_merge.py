"""Merging per-shard top-k lists into the exact top-k over their union.

One primitive for both callers: ``HammingIndex``'s multi-index search (the codes added after
its tables were built are scanned and merged in) and the public
:func:`skmetacmh.index.merge_search_results` (shards searched separately). It lives here so
that the search engines never import the public ``index`` module that imports them.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

__all__ = ["merge_topk"]


def merge_topk(distances_list, indices_list, k: int, offsets=None) -> tuple:
    """``(distances, indices)``: the ``k`` best of the shards' lists by (distance, global id).

    ``-1`` marks an empty slot, in the inputs and in the padded output; ``offsets[s]`` turns
    shard ``s``'s ids into global ids (``None``: already global). See
    :func:`skmetacmh.index.merge_search_results` for the contract.
    """
    if len(distances_list) != len(indices_list) or len(distances_list) == 0:
        raise ValueError(
            f"distances_list and indices_list must hold one array per shard (at least one); got "
            f"{len(distances_list)} and {len(indices_list)}."
        )
    if offsets is None:
        offsets = [0] * len(distances_list)
    if len(offsets) != len(distances_list):
        raise ValueError(
            f"offsets must hold one integer per shard ({len(distances_list)}); got {len(offsets)}."
        )
    all_d, all_i, n_query = [], [], None
    for s, (dist, ids, offset) in enumerate(zip(distances_list, indices_list, offsets)):
        dist, ids = np.asarray(dist), np.asarray(ids)
        if dist.ndim != 2 or dist.shape != ids.shape:
            raise ValueError(
                f"shard {s}: distances and indices must be 2-D arrays of the same shape "
                f"(n_query, k); got {dist.shape} and {ids.shape}."
            )
        if n_query is None:
            n_query = dist.shape[0]
        elif dist.shape[0] != n_query:
            raise ValueError(
                f"shard {s} answers {dist.shape[0]} queries; the first shard answers {n_query}."
            )
        empty = ids < 0
        if dist.shape[1] < k and not empty.any(axis=1).all():
            # A full list shorter than k may hide items of this shard that belong in the top-k.
            raise ValueError(
                f"shard {s} returned {dist.shape[1]} neighbours per query, fewer than k={k}; "
                f"search every shard with at least k neighbours."
            )
        if isinstance(offset, (bool, np.bool_)) or not isinstance(offset, Integral):
            raise ValueError(f"offsets[{s}] must be an integer; got {offset!r}.")
        all_d.append(np.where(empty, np.iinfo(np.int64).max, dist.astype(np.int64)))
        all_i.append(np.where(empty, np.iinfo(np.int64).max, ids.astype(np.int64) + int(offset)))
    distances, indices = np.concatenate(all_d, axis=1), np.concatenate(all_i, axis=1)
    order = np.lexsort((indices, distances), axis=-1)[:, :k]
    distances = np.take_along_axis(distances, order, -1)
    indices = np.take_along_axis(indices, order, -1)
    empty = indices == np.iinfo(np.int64).max
    out_d = np.where(empty, -1, distances).astype(np.int32)
    out_i = np.where(empty, -1, indices)
    if out_d.shape[1] < k:  # fewer columns in total than k: pad like a search would
        pad = ((0, 0), (0, k - out_d.shape[1]))
        out_d = np.pad(out_d, pad, constant_values=-1)
        out_i = np.pad(out_i, pad, constant_values=-1)
    return out_d, out_i
