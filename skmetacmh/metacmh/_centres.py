"""A code-side memory: one binary centre per class, kept apart, as a target for the outputs.

Central-similarity hashing (Yuan et al., "Central Similarity Quantization for Efficient Image
and Video Retrieval", CVPR 2020) gives each class a *hash centre* ``c_k`` in ``{-1, 1}^b``,
chosen far apart before training, and pulls every item's code towards the centre of its
class; Long-Tail Hashing (Chen et al., "Long-Tail Hashing", SIGIR 2021) keeps its class
prototypes in code space for the same reason: a tail class with a handful of items gets a
centre as far from the others as a head class's, where a centroid of its few codes would sit
wherever those items happen to fall.

* **Centres.** With ``n_classes <= 2 b`` and ``b`` a power of two, the rows of ``[H; -H]`` for
  the Hadamard matrix ``H`` of order ``b``: any two are ``b / 2`` bits apart (or ``b``, for a
  row and its negation). Otherwise each bit is ``+-1`` with probability one half (CSQ's
  Bernoulli centres), whose pairwise distances concentrate at ``b / 2``. Which class gets
  which row is drawn from the fit's seed.
* **Targets.** A single-label item's target is its class's centre. A multi-label item's is the
  sign of the sum of its labels' centres (CSQ's rule), a tied bit taking the value of its
  rarest label's centre, so the tail label wins the ties.
* **Term.** ``centre_weight * mean_i w_i mean_j softplus(-2 t_ij u_ij)``: the binary
  cross-entropy of ``(1 + tanh(u)) / 2 = sigmoid(2 u)`` against ``(1 + t) / 2``, with ``u``
  an item's output, ``t`` its target and ``w_i`` its class-balanced weight (so the pull is
  strongest on tail items); unlabelled items have no target and weight zero.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.linalg import hadamard

__all__ = ["centre_loss", "centre_targets", "class_centres"]


def class_centres(n_classes: int, n_bits: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_classes, n_bits)`` centres in ``{-1, 1}``: Hadamard rows where they suffice."""
    is_power_of_two = n_bits & (n_bits - 1) == 0
    if is_power_of_two and n_classes <= 2 * n_bits:
        H = hadamard(n_bits).astype(np.int8)
        rows = np.vstack([H, -H])
        return rows[rng.permutation(2 * n_bits)[:n_classes]]
    return np.where(rng.random((n_classes, n_bits)) < 0.5, -1, 1).astype(np.int8)


def centre_targets(Y: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Each item's target in ``{-1, 0, 1}``: its labels' centre (0: an unlabelled item)."""
    summed = Y @ centres
    counts = Y.sum(dim=0)
    # An item's rarest label (labels it does not carry count as infinitely frequent).
    rarest = torch.where(Y > 0, counts, torch.full_like(counts, float("inf"))).argmin(dim=1)
    tie_break = centres[rarest] * (Y.sum(dim=1, keepdim=True) > 0)
    return torch.where(summed != 0, torch.sign(summed), tie_break)


def centre_loss(output: torch.Tensor, targets: torch.Tensor, weights) -> torch.Tensor:
    """The weighted mean binary cross-entropy of ``sigmoid(2 u)`` against ``(1 + t) / 2``."""
    labelled = (targets != 0).any(dim=1).to(output.dtype)
    w = labelled if weights is None else labelled * weights
    per_item = F.softplus(-2.0 * targets * output).mean(dim=1)
    return (w * per_item).sum() / w.sum().clamp_min(1e-12)
