"""Post-hoc rebalancing of the memory's hallucinator (decoupled classifier adjustment).

The hallucinator ``softmax(W_hal f + b_hal)`` decides which class centroids a direct feature
recalls. Trained on long-tailed data its weight rows of frequent classes grow larger than those
of rare ones, so an unseen tail item tends to recall head centroids. Kang et al. ("Decoupling
Representation and Classifier for Long-Tailed Recognition", ICLR 2020) remove that bias after
training with the *tau-normalised classifier*: ``w_k <- w_k / ||w_k||^tau`` with the bias
dropped (``tau = 1`` gives every class a weight row of the same norm, ``tau = 0`` changes
nothing). Here it is applied to each memory's hallucinator once training has ended; the
centroids, the selector and the direct networks are unchanged. The recall is a soft mixture
rather than an argmax, so the rows are then rescaled to keep their mean norm (the softmax's
temperature) as trained.
"""

from __future__ import annotations

import torch

__all__ = ["tau_normalise_hallucinators"]


@torch.no_grad()
def tau_normalise_hallucinators(net, tau: float) -> None:
    """``w_k <- c w_k / ||w_k||^tau`` (``c`` keeps the mean row norm) and a zero bias."""
    if tau == 0:
        return
    for name in ("image", "text"):
        memory = net.modality(name).memory
        if memory is None:
            continue
        weight = memory.hallucinator.weight
        norms = weight.norm(dim=1, keepdim=True).clamp_min(1e-12)
        scaled = weight / norms.pow(tau)
        weight.copy_(scaled * (norms.mean() / scaled.norm(dim=1).mean()))
        memory.hallucinator.bias.zero_()
