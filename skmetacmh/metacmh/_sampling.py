"""The sampled pairwise term: which items of the other modality a mini-batch is scored against.

DCMH scores each mini-batch against the outputs of all ``n`` training items of the other
modality, so an epoch costs ``O(n^2 b)``. Here a mini-batch is scored against ``m`` items
instead, drawn anew for every mini-batch, and the pairs are reweighted so that the sampled
likelihood is an unbiased estimate of the full one; an epoch then costs ``O(n m b)``. The idea
is the sampled columns of DLFH (Jiang & Li, "Discrete Latent Factor Model for Cross-Modal
Hashing", IEEE TIP 2019) and the sampled database items of ADSH (Jiang & Li, "Asymmetric Deep
Supervised Hashing", AAAI 2018), which score query items against a sample of database codes.

The sample is stratified by class, so that every class with training items is in every
sample: on long-tailed data a uniform sample of ``m`` items would often miss the tail classes
altogether, and with them the only positive pairs of the tail items in the batch.

* **Strata.** One per class with items, plus one for the unlabelled items. A multi-label item
  belongs to the stratum of each of its ``c_j`` labels with share ``1 / c_j``, so the strata
  together count every item exactly once: ``sum_j f_j = sum_s sum_{j in s} f_j / c_j``.
* **Allocation.** Stratum ``s`` gets ``a_s`` draws in proportion to its total pair weight
  (its share-weighted class-balanced weights; its share-weighted size without weighting),
  at least one, and at most its size ``n_s``; a stratum with ``a_s = n_s`` is taken whole.
* **Draws.** Every pass over the training set permutes each stratum at random; the ``t``-th
  mini-batch takes the next ``a_s`` entries of each (cyclically). A window of a uniformly
  random permutation is a uniformly random subset, so item ``j`` of stratum ``s`` is drawn
  with probability ``a_s / n_s``, and consecutive mini-batches cover the stratum evenly.
* **Weights.** A draw of item ``j`` from stratum ``s`` carries ``(n_s / a_s) / c_j``
  (Horvitz-Thompson), times the class-balanced weight ``w_j`` when there is one: the
  expectation of the weighted sample sum is the full weighted sum, term for term.

When ``n <= m`` there is nothing to sample: every item is used, as in DCMH, and the trainer
takes its full-pair path, which draws nothing from any generator.
"""

from __future__ import annotations

import torch

__all__ = ["PairSampler", "allocate_draws"]


def allocate_draws(sizes: torch.Tensor, totals: torch.Tensor, budget: int) -> torch.Tensor:
    """Draws per stratum: proportional to ``totals``, at least 1, at most ``sizes``.

    Water-filling: strata whose proportional share reaches their size are taken whole, and the
    budget they leave is shared again among the others.
    """
    sizes, totals = sizes.double(), totals.double().clamp_min(0.0)
    draws = torch.zeros_like(sizes)
    whole = torch.zeros_like(sizes, dtype=torch.bool)
    while True:
        open_ = ~whole
        remaining = budget - sizes[whole].sum()
        if not bool(open_.any()) or remaining <= 0:
            break
        weight = totals[open_]
        if float(weight.sum()) <= 0.0:
            weight = sizes[open_]
        share = remaining * weight / weight.sum()
        capped = share >= sizes[open_]
        if not bool(capped.any()):
            draws[open_] = share
            break
        index = open_.nonzero().flatten()
        whole[index[capped]] = True
    draws[whole] = sizes[whole]
    return torch.minimum(torch.maximum(draws.floor(), torch.ones_like(draws)), sizes).long()


class PairSampler:
    """Class-stratified, importance-weighted sample of the columns of the pairwise term.

    Parameters
    ----------
    labels : tensor of shape (n, n_classes)
        {0,1} label indicators of the training items.
    weights : tensor of shape (n,) or None
        Class-balanced item weights (``None``: unweighted).
    n_sampled : int or None
        ``m``, the columns per mini-batch; ``None`` or ``n <= m`` uses every item (``full``).
    generator : torch.Generator
        On the labels' device; drawn from only when sampling.
    """

    def __init__(self, labels: torch.Tensor, weights, n_sampled, generator: torch.Generator):
        self.n_items = labels.shape[0]
        self.full = n_sampled is None or self.n_items <= n_sampled
        if self.full:
            return
        device = labels.device
        self.generator = generator
        n_labels = labels.sum(dim=1)
        # Memberships (stratum, item), grouped by stratum: one per label of each labelled
        # item, then one per unlabelled item in a last stratum.
        class_of, item_of = (labels.T > 0).nonzero(as_tuple=True)
        unlabelled = (n_labels == 0).nonzero().flatten()
        n_classes = labels.shape[1]
        stratum = torch.cat([class_of, torch.full_like(unlabelled, n_classes)])
        self.items = torch.cat([item_of, unlabelled])
        share = 1.0 / n_labels.clamp_min(1.0)[self.items]
        item_weights = share if weights is None else share * weights[self.items]
        sizes = torch.bincount(stratum, minlength=n_classes + 1)
        totals = torch.zeros(n_classes + 1, dtype=torch.float64, device=device)
        totals.index_add_(0, stratum, item_weights.double())
        populated = sizes > 0
        sizes, totals = sizes[populated], totals[populated]
        draws = allocate_draws(sizes, totals, int(n_sampled))
        starts = torch.cumsum(sizes, 0) - sizes
        # Per draw: its stratum's start and size, and its rank among the stratum's draws.
        self.draw_stratum = torch.repeat_interleave(torch.arange(len(sizes), device=device), draws)
        first_draw = torch.cumsum(draws, 0) - draws
        self.draw_rank = (
            torch.arange(int(draws.sum()), device=device) - first_draw[self.draw_stratum]
        )
        self.stratum_start = starts
        self.stratum_size = sizes
        self.stratum_draws = draws
        self.entry_stratum = torch.repeat_interleave(torch.arange(len(sizes), device=device), sizes)
        # Horvitz-Thompson weight of each membership entry when drawn.
        inclusion = (draws.double() / sizes.double())[self.entry_stratum]
        self.entry_weights = (item_weights.double() / inclusion).to(labels.dtype)
        self.order = torch.arange(len(self.items), device=device)
        self.batch_counter = 0

    @property
    def n_columns(self) -> int:
        """Columns per mini-batch (``n`` without sampling)."""
        return self.n_items if self.full else len(self.draw_stratum)

    def start_pass(self) -> None:
        """A new random order inside every stratum for the next pass over the training set."""
        keys = torch.rand(
            len(self.items), generator=self.generator, device=self.items.device
        ).double()
        self.order = torch.argsort(self.entry_stratum.double() + keys)
        self.batch_counter = 0

    def draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next mini-batch's columns: item indices and their pair weights ``w_j / pi``."""
        offset = self.batch_counter * self.stratum_draws[self.draw_stratum] + self.draw_rank
        positions = (
            self.stratum_start[self.draw_stratum] + offset % self.stratum_size[self.draw_stratum]
        )
        entries = self.order[positions]
        self.batch_counter += 1
        return self.items[entries], self.entry_weights[entries]
