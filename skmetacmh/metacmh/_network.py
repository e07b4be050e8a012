"""The torch module of MetaCMH: per-modality MLPs, optional memories, optional class head.

``CrossModalHashNet`` holds one ``ModalityHashNet`` per modality. Each maps a feature vector to
a direct feature in ``R^n_bits`` with an MLP and, when the memory is on, turns it into a meta
feature with an :class:`~._memory.AssociativeMemory`. The optional linear classifier on
``tanh`` of the meta feature is shared by both modalities (as in LTHNet, Chen et al., SIGIR
2021), which also ties the two code spaces to the same class directions.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._memory import AssociativeMemory

__all__ = [
    "CrossModalHashNet",
    "ModalityHashNet",
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
        if x.is_sparse:
            return torch.sparse.mm(x, self.weight.t()) + self.bias
        return super().forward(x)


def _mlp(n_in: int, hidden: tuple, n_out: int) -> nn.Sequential:
    layers, width, linear = [], n_in, SparseInputLinear
    for size in hidden:
        layers += [linear(width, int(size)), nn.ReLU()]
        width, linear = int(size), nn.Linear
    layers.append(linear(width, n_out))
    return nn.Sequential(*layers)


class ModalityHashNet(nn.Module):
    """Direct-feature MLP of one modality, followed by its memory when there is one."""

    def __init__(
        self, n_features, hidden, n_bits, n_classes, memory, reachability, frequency_aware=False
    ):
        super().__init__()
        self.direct = _mlp(n_features, hidden, n_bits)
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


class CrossModalHashNet(nn.Module):
    """Image net, text net and the optional shared classification head."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config)
        c = self.config
        self.image = ModalityHashNet(
            c["n_image_features"],
            c["image_hidden"],
            c["n_bits"],
            c["n_classes"],
            c["memory"],
            c["reachability"],
            c.get("frequency_aware", False),
        )
        self.text = ModalityHashNet(
            c["n_text_features"],
            c["text_hidden"],
            c["n_bits"],
            c["n_classes"],
            c["memory"],
            c["reachability"],
            c.get("frequency_aware", False),
        )
        self.classifier = nn.Linear(c["n_bits"], c["n_classes"]) if c["head"] else None

    def modality(self, name: str) -> ModalityHashNet:
        return self.image if name == "image" else self.text


def reset_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-draw every linear layer as torch's default init does, but from ``generator``.

    torch's own initialisers draw from the global generator; drawing from a private one makes
    ``random_state`` reproducible without touching the user's global torch seed.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            bound = 1.0 / math.sqrt(layer.in_features)
            with torch.no_grad():
                # kaiming_uniform_(a=sqrt(5)) of torch's Linear has exactly this bound.
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)


def build_network(config: dict, generator: torch.Generator | None = None) -> CrossModalHashNet:
    """Build the module from its architecture ``config`` (and initialise it from ``generator``)."""
    # Layer constructors draw their default init from the global generator; fork it so that
    # fitting leaves the user's global torch random state untouched.
    with torch.random.fork_rng(devices=[]):
        net = CrossModalHashNet(config)
    if generator is not None:
        reset_parameters(net, generator)
    return net
