"""Episodic (meta) training of MetaCMH's memory: support/query splits and their centroids.

Without episodes the memory's centroids average every training item, so the item a
mini-batch trains on is always inside its own class centroid: the selector and the
hallucinator learn to help items the memory already contains. At test time a query is never
in the memory, and a tail query's class centroid is the mean of a handful of other items.

An *episode* reproduces that situation in training, as prototypical networks do (Snell,
Swersky & Zemel, "Prototypical Networks for Few-shot Learning", NeurIPS 2017; the
meta-learning reading of the memory in OLTR, Liu et al., CVPR 2019, and MetaCMH, Wang et al.,
arXiv 2111.04086):

* the training items are split into a *support* part and a *query* part
  (:func:`episode_split`), per class, from a seeded stream of its own;
* the memories hold the centroids of the support items only
  (``AssociativeMemory.refresh(..., support=...)``); a class with no support item has no
  centroid (zero, and not "populated") for the episode;
* every item is still trained in its mini-batch (the training budget of an epoch is
  unchanged), but only the query rows train the memory: a support row's recalled feature and
  selector are detached, so its loss reaches the direct net through the identity path only,
  and the selector and hallucinator learn from items that are not in the memory.

At the end of each epoch the centroids are recomputed from all training items as without
episodes (:meth:`~._training.Trainer.refresh_memories`), so encoding uses the whole training
set's centroids.

The split over-samples the tail into the query part: class ``k`` keeps a support share of
``(1 - query_fraction) * sqrt(n_k / n_max)`` of its items (at least one where it has two or
more), so the head is split about ``query_fraction`` to query and a class of two items
lends one to the query part. A class with one item keeps it in the support part: it cannot
be both the query and its own class's memory.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EpisodeSchedule", "episode_split", "key_classes"]


def key_classes(Y: np.ndarray) -> np.ndarray:
    """Each item's rarest label (its class when single-label); -1 for an item without labels.

    A multi-label item is split by its rarest label, so that the tail's quota decides it.
    """
    Y = np.asarray(Y, dtype=bool)
    counts = Y.sum(axis=0)
    # Labels the item does not carry get an infinite count, so argmin picks a carried one.
    masked = np.where(Y, counts[None, :], np.iinfo(np.int64).max)
    keys = masked.argmin(axis=1)
    keys[~Y.any(axis=1)] = -1
    return keys


def episode_split(Y: np.ndarray, query_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A support/query split of the training items: True marks a query item.

    Parameters
    ----------
    Y : ndarray of shape (n_items, n_classes)
        Label indicator of the training items.
    query_fraction : float in (0, 1)
        Share of the most frequent class's items that go to the query part; rarer classes send
        a larger share (see the module docstring).
    rng : numpy.random.Generator
        The episode stream.

    Returns
    -------
    query : ndarray of bool, shape (n_items,)
        Every label carried by two or more items keeps at least one of them in the support
        part; an item without labels, and the item of a one-item class, is in the support part.
    """
    Y = np.asarray(Y, dtype=bool)
    counts = Y.sum(axis=0)
    n_max = max(int(counts.max(initial=0)), 1)
    keys = key_classes(Y)
    query = np.zeros(len(Y), dtype=bool)
    for k in np.unique(keys[keys >= 0]):
        members = np.flatnonzero(keys == k)
        if len(members) < 2:
            continue
        share = (1.0 - query_fraction) * np.sqrt(counts[k] / n_max)
        n_support = min(max(1, int(round(share * len(members)))), len(members) - 1)
        chosen = rng.permutation(members)
        query[chosen[n_support:]] = True
    # Multi-label: a label can lose all its support items to other labels' quotas; give one
    # of its query items back.
    for k in np.flatnonzero(counts >= 2):
        carriers = Y[:, k]
        if not (carriers & ~query).any():
            query[rng.choice(np.flatnonzero(carriers & query))] = False
    return query


class EpisodeSchedule:
    """When episodes start and how they split the items: a policy that never sees the trainer.

    ``episode_length=None`` starts an episode at the first mini-batch of every epoch; an int
    ``k`` starts one every ``k`` mini-batches (counted over both modalities' passes). The
    trainer asks :meth:`due` before each mini-batch and applies :meth:`split`'s mask to the
    memories.
    """

    def __init__(
        self, labels: np.ndarray, query_fraction: float, episode_length, rng: np.random.Generator
    ):
        self.labels = np.asarray(labels) > 0
        self.query_fraction = query_fraction
        self.episode_length = episode_length
        # Its own stream: the shuffling and the pair sampler draw what they drew without
        # episodes.
        self.rng = rng
        self.n_batches = 0
        self.epoch = None
        self.n_episodes = 0

    def due(self, epoch: int) -> bool:
        """Whether the mini-batch about to run (in epoch ``epoch``) starts a new episode."""
        if self.episode_length is None:
            due = epoch != self.epoch
        else:
            due = self.n_batches % self.episode_length == 0
        self.epoch = epoch
        self.n_batches += 1
        return due

    def split(self) -> np.ndarray:
        """A new episode's query mask (True: a query item)."""
        self.n_episodes += 1
        return episode_split(self.labels, self.query_fraction, self.rng)
