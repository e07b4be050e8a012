"""The torch module of MetaCMH: per-modality MLPs, optional memories, optional class head.

``CrossModalHashNet`` holds one ``ModalityHashNet`` per modality. Each maps a feature vector to
a direct feature in ``R^n_bits`` with an MLP and, when the memory is on, turns it into a meta
feature with an :class:`~._memory.AssociativeMemory`. The optional linear classifier on
``tanh`` of the meta feature is shared by both modalities (as in LTHNet, Chen et al., SIGIR
2021), which also ties the two code spaces to the same class directions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ._memory import AssociativeMemory

__all__ = [
    "CrossModalHashNet",
    "ModalityHashNet",
    "NetworkSpec",
    "RowSparseLinear",
    "SparseInputLinear",
    "build_network",
    "reset_parameters",
]


class SparseInputLinear(nn.Linear):
    """``nn.Linear`` that also takes a sparse COO batch, multiplied without densifying it.

    The first layer of each MLP is one of these, so a sparse text block (TF-IDF) costs its
    non-zeros per mini-batch; a dense batch goes through ``nn.Linear`` unchanged. The
    parameters and their names are those of ``nn.Linear``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_sparse or x.layout == torch.sparse_csr:
            return torch.sparse.mm(x, self.weight.t()) + self.bias
        return super().forward(x)


class _RowSparseProduct(torch.autograd.Function):
    """``X @ W`` for a sparse CSR ``X``, whose weight gradient is row-sparse.

    Only the rows of ``W`` named by the batch's columns get a gradient, so the backward pass
    returns a coalesced sparse COO gradient over those rows (the layout of
    ``nn.Embedding(sparse=True)``), costing the batch's non-zeros times the width instead of a
    dense ``n_features x width`` tensor.
    """

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x)
        ctx.weight_shape = weight.shape
        return torch.sparse.mm(x, weight)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        crow, col, values = x.crow_indices(), x.col_indices(), x.values()
        touched, local = torch.unique(col, return_inverse=True)
        # X restricted to the touched columns, transposed: a CSR of touched columns x rows.
        order = torch.argsort(local, stable=True)
        rows = torch.repeat_interleave(torch.arange(x.shape[0], device=col.device), crow.diff())
        counts = torch.bincount(local, minlength=len(touched))
        crow_t = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        x_t = torch.sparse_csr_tensor(
            crow_t, rows[order], values[order], (len(touched), x.shape[0]), check_invariants=False
        )
        grad_rows = torch.sparse.mm(x_t, grad_output.contiguous())
        grad_weight = torch.sparse_coo_tensor(
            touched.unsqueeze(0),
            grad_rows,
            ctx.weight_shape,
            is_coalesced=True,
            check_invariants=False,
        )
        return None, grad_weight


class RowSparseLinear(nn.Module):
    """The first layer of a net fed a sparse block: cost proportional to the batch's non-zeros.

    ``y = x W + b`` with ``W`` stored ``(in_features, out_features)``, the layout of an
    embedding table (the transpose of ``nn.Linear.weight``), so the rows a batch's columns name
    are contiguous. A sparse batch costs its non-zeros times the width in the forward pass, the
    backward pass (a row-sparse gradient, :class:`_RowSparseProduct`) and the optimiser step
    (:class:`~skmetacmh.metacmh._optim.RowSparseAdam` updates only the rows with a gradient), the
    scheme of sparse embedding layers (word2vec; the ``EmbeddingBag`` of fastText-style text
    encoders). A dense batch is ``addmm(b, x, W)``.

    Built for the text net when the training text block is sparse (``module_config_``
    records ``"sparse_text": True``); the state dict then holds ``weight`` transposed relative
    to the ``nn.Linear`` of a dense fit.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_sparse:
            x = x.to_sparse_csr()
        if x.layout == torch.sparse_csr:
            return _RowSparseProduct.apply(x, self.weight) + self.bias
        return torch.addmm(self.bias, x, self.weight)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, row_sparse"


def _mlp(n_in: int, hidden: tuple, n_out: int, sparse_input: bool = False) -> nn.Sequential:
    layers, width = [], n_in
    linear = RowSparseLinear if sparse_input else SparseInputLinear
    for size in hidden:
        layers += [linear(width, int(size)), nn.ReLU()]
        width, linear = int(size), nn.Linear
    layers.append(linear(width, n_out))
    return nn.Sequential(*layers)


class ModalityHashNet(nn.Module):
    """Direct-feature MLP of one modality, followed by its memory when there is one."""

    def __init__(
        self,
        n_features,
        hidden,
        n_bits,
        n_classes,
        memory,
        reachability,
        frequency_aware=False,
        sparse_input=False,
    ):
        super().__init__()
        self.direct = _mlp(n_features, hidden, n_bits, sparse_input)
        self.memory = (
            AssociativeMemory(n_bits, n_classes, reachability, frequency_aware) if memory else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        direct = self.direct(x)
        return direct if self.memory is None else self.memory(direct)

    def forward_with_recall(self, x: torch.Tensor):
        """The output, the memory's recall logits (``None`` without memory), the direct feature."""
        direct = self.direct(x)
        if self.memory is None:
            return direct, None, direct
        meta, logits = self.memory.recall(direct)
        return meta, logits, direct


@dataclass(frozen=True)
class NetworkSpec:
    """The architecture of a :class:`CrossModalHashNet`: what a fit resolved, and all that a
    pickle needs to rebuild the module before loading its weights."""

    n_image_features: int
    n_text_features: int
    image_hidden: tuple
    text_hidden: tuple
    n_bits: int
    n_classes: int
    memory: bool
    reachability: bool
    head: bool
    frequency_aware: bool = False
    #: A row-sparse first text layer (the training text block was sparse).
    sparse_text: bool = False

    @classmethod
    def from_config(cls, config: Mapping) -> NetworkSpec:
        """The spec a ``module_config_`` dict records; keys that configs written before
        ``frequency_aware`` and ``sparse_text`` existed lack take the defaults (off), which is
        what those modules were."""
        return cls(**config)

    def as_config(self) -> dict:
        """The spec as the plain dict stored in ``module_config_`` (and so in pickles)."""
        return asdict(self)


class CrossModalHashNet(nn.Module):
    """Image net, text net and the optional shared classification head."""

    def __init__(self, spec: NetworkSpec):
        super().__init__()
        self.spec = spec
        self.image = ModalityHashNet(
            spec.n_image_features,
            spec.image_hidden,
            spec.n_bits,
            spec.n_classes,
            spec.memory,
            spec.reachability,
            spec.frequency_aware,
        )
        self.text = ModalityHashNet(
            spec.n_text_features,
            spec.text_hidden,
            spec.n_bits,
            spec.n_classes,
            spec.memory,
            spec.reachability,
            spec.frequency_aware,
            spec.sparse_text,
        )
        self.classifier = nn.Linear(spec.n_bits, spec.n_classes) if spec.head else None

    def modality(self, name: str) -> ModalityHashNet:
        return self.image if name == "image" else self.text


def reset_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-draw every linear layer as torch's default init does, but from ``generator``.

    torch's own initialisers draw from the global generator; drawing from a private one makes
    ``random_state`` reproducible without touching the user's global torch seed.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, RowSparseLinear)):
            bound = 1.0 / math.sqrt(layer.in_features)
            with torch.no_grad():
                # kaiming_uniform_(a=sqrt(5)) of torch's Linear has exactly this bound.
                if isinstance(layer, RowSparseLinear):
                    # Drawn in nn.Linear's (out, in) order: the same numbers, transposed.
                    drawn = torch.empty(layer.out_features, layer.in_features)
                    layer.weight.copy_(drawn.uniform_(-bound, bound, generator=generator).t())
                else:
                    layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)


def build_network(
    spec: NetworkSpec | Mapping, generator: torch.Generator | None = None
) -> CrossModalHashNet:
    """Build the module from its architecture (a spec, or a ``module_config_`` dict), and
    initialise it from ``generator``."""
    if not isinstance(spec, NetworkSpec):
        spec = NetworkSpec.from_config(spec)
    # Layer constructors draw their default init from the global generator; fork it so that
    # fitting leaves the user's global torch random state untouched.
    with torch.random.fork_rng(devices=[]):
        net = CrossModalHashNet(spec)
    if generator is not None:
        reset_parameters(net, generator)
    return net
