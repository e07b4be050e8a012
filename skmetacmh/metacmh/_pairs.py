"""Which columns a mini-batch's pairwise term is scored against: all items, or a sample.

The trainer picks one of two classes with one interface and never branches on which:

* :class:`FullPairs`: every training item of the other modality (DCMH; ``n <=
  n_sampled_columns``), drawing nothing from any generator;
* :class:`SampledPairs`: a class-stratified, importance-weighted sample per mini-batch
  (:class:`~._sampling.PairSampler`), which also keeps the float64 running column sums of
  ``pair_features`` of the modality's outputs, so the balance term costs ``O(batch b)`` per
  mini-batch instead of ``O(n b)``.

A pass over one modality is ``start_pass(own, other)`` (the two output buffers), then per
mini-batch ``columns(batch, batch_weights)``, ``balance_sum(batch, output)`` and
``write(batch, output)``, which writes the batch's new outputs into ``own``.
"""

from __future__ import annotations

import torch

from ._loss import pair_features
from ._sampling import PairSampler

__all__ = ["FullPairs", "SampledPairs", "make_pairs"]


class FullPairs:
    """Every training item is a column."""

    def __init__(self, labels: torch.Tensor, weights, similarity_scale):
        self.labels, self.weights, self.scale = labels, weights, similarity_scale
        self.own = self.other = None

    def start_pass(self, own: torch.Tensor, other: torch.Tensor) -> None:
        self.own, self.other = own, other

    def columns(self, batch: torch.Tensor, batch_weights):
        """The other modality's outputs, their labels, and the pair weights (or None)."""
        weights = None if self.weights is None else (batch_weights, self.weights)
        return self.other, self.labels, weights

    def balance_sum(self, batch: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The training set's column sum of ``pair_features``, with the batch's rows live."""
        live = pair_features(output, self.scale).sum(dim=0)
        own = self.own
        return (
            pair_features(own, self.scale).sum(dim=0)
            - pair_features(own[batch], self.scale).sum(dim=0)
            + live
        )

    def write(self, batch: torch.Tensor, output: torch.Tensor) -> None:
        self.own[batch] = output


class SampledPairs(FullPairs):
    """A class-stratified sample of columns per mini-batch, and running balance sums."""

    def __init__(self, labels, weights, similarity_scale, sampler: PairSampler):
        super().__init__(labels, weights, similarity_scale)
        self.sampler = sampler
        self.sums = None

    def start_pass(self, own: torch.Tensor, other: torch.Tensor) -> None:
        super().start_pass(own, other)
        self.sampler.start_pass()
        self.sums = pair_features(own, self.scale).sum(dim=0, dtype=torch.float64)

    def columns(self, batch: torch.Tensor, batch_weights):
        items, column_weights = self.sampler.draw()
        if batch_weights is None:
            other = self.other
            batch_weights = torch.ones(len(batch), dtype=other.dtype, device=other.device)
        return self.other[items], self.labels[items], (batch_weights, column_weights)

    def balance_sum(self, batch: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        live = pair_features(output, self.scale).sum(dim=0)
        others = self.sums - pair_features(self.own[batch], self.scale).sum(
            dim=0, dtype=torch.float64
        )
        return others.to(output.dtype) + live

    def write(self, batch: torch.Tensor, output: torch.Tensor) -> None:
        change = pair_features(output, self.scale).sum(dim=0, dtype=torch.float64)
        change -= pair_features(self.own[batch], self.scale).sum(dim=0, dtype=torch.float64)
        self.sums += change
        super().write(batch, output)


def make_pairs(labels, weights, n_sampled, similarity_scale, generator) -> FullPairs:
    """Full pairs when there is nothing to sample (``n <= n_sampled``), else sampled ones."""
    sampler = PairSampler(labels, weights, n_sampled, generator)
    if sampler.full:
        return FullPairs(labels, weights, similarity_scale)
    return SampledPairs(labels, weights, similarity_scale, sampler)
