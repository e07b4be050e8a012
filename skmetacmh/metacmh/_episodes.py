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
  (:func:`set_support_centroids`); a class with no support item has no centroid (zero, and not
  "populated") for the episode;
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
import torch

__all__ = [
    "EpisodeSchedule",
    "episode_split",
    "key_classes",
    "set_memory_frequencies",
    "set_support_centroids",
]


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


@torch.no_grad()
def set_support_centroids(memory, features: torch.Tensor, Y: torch.Tensor, support) -> None:
    """Centroids of the support items only; classes without a support item get none.

    ``features`` are what the centroids average (the direct features, or the codes with
    ``memory_source="codes"``). A class without a support item has a zero centroid and is not
    "populated" for the episode, so no query item's own feature leaks into the memory.
    """
    weights = Y * support[:, None].to(Y.dtype)
    counts = weights.sum(dim=0)
    has = counts > 0
    centroids = torch.zeros_like(memory.centroids)
    centroids[has] = (weights.T @ features)[has] / counts[has, None]
    memory.centroids.copy_(centroids)
    memory.populated.copy_(has)


@torch.no_grad()
def set_memory_frequencies(net, Y: torch.Tensor) -> None:
    """Give each frequency-aware memory the log training frequency of every class.

    The value of class ``k`` is ``log(max(n_k, 1) / n_max)``: 0 for the most frequent class,
    ``-log(imbalance factor)`` for the rarest (a class without training items counts as one).
    """
    counts = Y.sum(dim=0).clamp_min(1.0)
    log_frequency = torch.log(counts / counts.max())
    for name in ("image", "text"):
        memory = net.modality(name).memory
        if memory is not None and memory.frequency_aware:
            memory.log_frequency.copy_(log_frequency)


class EpisodeSchedule:
    """When episodes start, and the forward pass of a mini-batch inside one.

    ``episode_length=None`` starts an episode at the first mini-batch of every epoch; an int
    ``k`` starts one every ``k`` mini-batches (counted over both modalities' passes).
    """

    def __init__(self, labels: torch.Tensor, options, seed: int):
        self.labels = labels
        self.labels_np = labels.detach().cpu().numpy() > 0
        self.query_fraction = options.query_fraction
        self.episode_length = options.episode_length
        self.memory_source = options.memory_source
        # Its own stream: the shuffling and the pair sampler draw what they drew without
        # episodes.
        self.rng = np.random.default_rng(seed)
        self.query = None
        self.n_batches = 0
        self.epoch = None
        self.n_episodes = 0

    @classmethod
    def from_trainer(cls, trainer):
        """The schedule of a trainer whose options ask for episodes, else None."""
        if not trainer.options.episodic:
            return None
        return cls(trainer.labels, trainer.options, trainer.generator.initial_seed() + 2)

    def before_batch(self, trainer) -> None:
        """Start a new episode when one is due."""
        epoch = len(trainer.history)
        if self.episode_length is None:
            due = epoch != self.epoch
        else:
            due = self.n_batches % self.episode_length == 0
        self.epoch = epoch
        self.n_batches += 1
        if due:
            self.start(trainer)

    def start(self, trainer) -> None:
        """A new split; both memories hold the centroids of its support part."""
        query = episode_split(self.labels_np, self.query_fraction, self.rng)
        self.query = torch.as_tensor(query, device=self.labels.device)
        support = ~self.query
        for name in ("image", "text"):
            net = trainer.net.modality(name)
            if net.memory is None:
                continue
            if self.memory_source == "codes" and trainer.codes is not None:
                features = trainer.codes
            else:
                features = trainer.direct_features[name]
            set_support_centroids(net.memory, features, self.labels, support)
        self.n_episodes += 1

    def forward(self, net, rows, batch: torch.Tensor):
        """As ``net.forward_with_recall``, with the memory branch detached on support rows."""
        direct = net.direct(rows)
        meta, logits = net.memory.recall(direct, frozen=~self.query[batch])
        return meta, logits, direct
