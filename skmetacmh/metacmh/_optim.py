"""Optimisers that also take the row-sparse gradient of :class:`~._network.RowSparseLinear`.

A sparse text block's first layer has ``n_features x width`` weights (10M for a 20,000-word
vocabulary and 512 units), of which a mini-batch touches only the rows its words name. torch's
``Adam`` refuses sparse gradients and a dense one would cost the whole table per step, so:

- :class:`RowSparseAdam` is torch's ``Adam`` for every dense gradient, and for a row-sparse
  gradient the *lazy* Adam update of the rows it names (the scheme of torch's ``SparseAdam``
  and of TensorFlow Addons' ``LazyAdam``): those rows' moments and weights move, the other rows
  keep theirs until a batch names them. One step count per parameter drives the bias
  correction; ``weight_decay`` (L2, as in ``Adam``) applies to the touched rows.
- :class:`RowSparseSGD` densifies a sparse gradient first (momentum has no lazy form that
  keeps its meaning), correct but costing the whole table per step.

Dense fits never meet a sparse gradient, so they step exactly as torch's optimisers do.
"""

from __future__ import annotations

import torch
from torch.optim.adam import adam as adam_update

__all__ = ["RowSparseAdam", "RowSparseSGD"]


def _take_sparse_grads(optimizer) -> list:
    """Detach every sparse gradient from its parameter: ``[(group, param, grad), ...]``."""
    taken = []
    for group in optimizer.param_groups:
        for param in group["params"]:
            if param.grad is not None and param.grad.is_sparse:
                taken.append((group, param, param.grad.coalesce()))
                param.grad = None
    return taken


class RowSparseAdam(torch.optim.Adam):
    """``torch.optim.Adam`` with a lazy update for row-sparse gradients."""

    @torch.no_grad()
    def step(self, closure=None):
        taken = _take_sparse_grads(self)
        loss = super().step(closure)
        for group, param, grad in taken:
            self._lazy_step(group, param, grad)
            param.grad = grad
        return loss

    def _lazy_step(self, group: dict, param: torch.Tensor, grad: torch.Tensor) -> None:
        rows = grad.indices()[0]
        if rows.numel() == 0:
            return
        state = self.state[param]
        if not state:
            state["step"] = torch.zeros((), dtype=torch.float32, device=param.device)
            state["exp_avg"] = torch.zeros_like(param)
            state["exp_avg_sq"] = torch.zeros_like(param)
        # Gather the touched rows, update them with Adam's fused kernel, scatter them back:
        # three gathers and three scatters of (touched rows x width), nothing of the rest.
        weights = param.index_select(0, rows)
        exp_avg = state["exp_avg"].index_select(0, rows)
        exp_avg_sq = state["exp_avg_sq"].index_select(0, rows)
        beta1, beta2 = group["betas"]
        adam_update(
            [weights],
            [grad.values()],
            [exp_avg],
            [exp_avg_sq],
            [],
            [state["step"]],
            fused=param.device.type in ("cpu", "cuda"),
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
        )
        param.index_copy_(0, rows, weights)
        state["exp_avg"].index_copy_(0, rows, exp_avg)
        state["exp_avg_sq"].index_copy_(0, rows, exp_avg_sq)


class RowSparseSGD(torch.optim.SGD):
    """``torch.optim.SGD`` that densifies a sparse gradient before its (momentum) step."""

    @torch.no_grad()
    def step(self, closure=None):
        for _, param, grad in _take_sparse_grads(self):
            param.grad = grad.to_dense()
        return super().step(closure)
