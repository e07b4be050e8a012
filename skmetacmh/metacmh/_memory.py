"""The associative memory of MetaCMH: class centroids, a hallucinator and a selector.

A direct feature ``f`` recalls a memory feature ``v = softmax(W_hal f)^T M`` from the class
centroids ``M``, and a selector ``e = tanh(W_sel f + b_sel)`` decides per dimension how much of
it to mix in: the meta feature is ``f + e * v``. This is the dynamic meta-embedding of OLTR
(Liu et al., "Large-Scale Long-Tailed Recognition in an Open World", CVPR 2019) as MetaCMH
(Wang, Yu, Domeniconi & Zhang, arXiv 2111.04086) uses it for hashing.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AssociativeMemory"]


class AssociativeMemory(nn.Module):
    """Class-centroid memory for one modality.

    Parameters
    ----------
    n_bits : int
        Size of the direct feature (the code length).
    n_classes : int
        Number of label columns; one centroid each.
    reachability : bool
        Scale the meta feature by OLTR's reachability ``1 / min_k ||f - m_k||``, normalised by
        its training mean so that the average scale is one (the sign, hence the code, is not
        changed by a positive scale; the loss is).
    frequency_aware : bool
        Give the selector one more input, the recalled class distribution's expected log
        training frequency ``softmax(W_hal f) . log_frequency`` (set by
        :meth:`set_log_frequency`), through a weight vector that starts at
        zero: the selector can learn "rare, therefore lean on the memory".
    """

    def __init__(
        self, n_bits: int, n_classes: int, reachability: bool = False, frequency_aware=False
    ):
        super().__init__()
        self.hallucinator = nn.Linear(n_bits, n_classes)
        self.selector = nn.Linear(n_bits, n_bits)
        self.reachability = reachability
        self.frequency_aware = frequency_aware
        if frequency_aware:
            self.frequency_weight = nn.Parameter(torch.zeros(n_bits))
            self.register_buffer("log_frequency", torch.zeros(n_classes))
        self.register_buffer("centroids", torch.zeros(n_classes, n_bits))
        # Classes that had at least one training sample at the last refresh.
        self.register_buffer("populated", torch.zeros(n_classes, dtype=torch.bool))
        self.register_buffer("mean_min_distance", torch.ones(()))

    @torch.no_grad()
    def zero_selector_(self) -> None:
        """Start with the memory switched off: ``e = tanh(0) = 0``, so meta = direct.

        The selector's gradient is not zero there (``tanh'(0) = 1``), so training mixes the
        memory in only as far as it lowers the loss, as a zero-initialised residual branch.
        """
        self.selector.weight.zero_()
        self.selector.bias.zero_()
        if self.frequency_aware:
            self.frequency_weight.zero_()

    def forward(self, direct: torch.Tensor) -> torch.Tensor:
        return self.recall(direct)[0]

    def recall(self, direct: torch.Tensor, frozen=None) -> tuple[torch.Tensor, torch.Tensor]:
        """The meta feature and the hallucinator's logits (which classes it recalls).

        ``frozen`` (a boolean row mask, episodic training) detaches the memory branch of those
        rows: their loss does not train the selector or the hallucinator.
        """
        logits = self.hallucinator(direct)
        recalled = torch.softmax(logits, dim=1)
        memory = recalled @ self.centroids
        gate = self.selector(direct)
        if self.frequency_aware:
            gate = gate + (recalled @ self.log_frequency)[:, None] * self.frequency_weight
        select = torch.tanh(gate)
        if frozen is not None:
            rows = frozen[:, None]
            memory = torch.where(rows, memory.detach(), memory)
            select = torch.where(rows, select.detach(), select)
        meta = direct + select * memory
        if self.reachability and bool(self.populated.any()):
            meta = meta * (self.mean_min_distance / self._min_distance(direct))
        return meta, logits

    def _min_distance(self, direct: torch.Tensor) -> torch.Tensor:
        # Empty classes have no centroid to be near to; leave them out of the minimum.
        dist = torch.cdist(direct, self.centroids[self.populated])
        return dist.min(dim=1, keepdim=True).values.clamp_min(1e-6)

    @torch.no_grad()
    def set_prototypes(self, prototypes: torch.Tensor, direct: torch.Tensor) -> None:
        """Use given class prototypes (one row per class) as the centroids.

        Each row is rescaled to the root-mean-square norm of ``direct`` (the training direct
        features), so the memory feature is on the scale of the direct feature whatever the
        scale of the prototypes; every class then counts as populated.
        """
        scale = direct.pow(2).sum(dim=1).mean().sqrt()
        norms = prototypes.norm(dim=1, keepdim=True).clamp_min(1e-12)
        self.centroids.copy_(prototypes / norms * scale)
        self.populated.fill_(True)
        if self.reachability:
            self.mean_min_distance.copy_(self._min_distance(direct).mean())

    @torch.no_grad()
    def set_log_frequency(self, Y: torch.Tensor) -> None:
        """The log training frequency of every class, the frequency-aware selector's input.

        The value of class ``k`` is ``log(max(n_k, 1) / n_max)``: 0 for the most frequent
        class, ``-log(imbalance factor)`` for the rarest (a class without items counts as one).
        """
        counts = Y.sum(dim=0).clamp_min(1.0)
        self.log_frequency.copy_(torch.log(counts / counts.max()))

    @torch.no_grad()
    def refresh(self, direct: torch.Tensor, Y: torch.Tensor, support=None) -> None:
        """Recompute the centroids from the features of the training items (the one path).

        ``m_k`` is the mean feature of the items carrying label ``k`` (a multi-label item
        counts for each of its labels). Without ``support`` every item counts, and a class
        with no item keeps its previous centroid (zero before the first refresh) instead of
        dividing by zero. With ``support`` (a boolean row mask: an episode's support part)
        only those items count, and a class without a support item has a zero centroid and is
        not "populated" for the episode, so no query item's feature leaks into the memory.
        """
        if support is not None:
            weights = Y * support[:, None].to(Y.dtype)
            counts = weights.sum(dim=0)
            has = counts > 0
            centroids = torch.zeros_like(self.centroids)
            centroids[has] = (weights.T @ direct)[has] / counts[has, None]
            self.centroids.copy_(centroids)
            self.populated.copy_(has)
            return
        counts = Y.sum(dim=0)
        sums = Y.T @ direct
        has = counts > 0
        self.centroids[has] = sums[has] / counts[has, None]
        self.populated.copy_(self.populated | has)
        if self.reachability and bool(self.populated.any()):
            self.mean_min_distance.copy_(self._min_distance(direct).mean())
