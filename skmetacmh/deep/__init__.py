"""MetaCMH and DCMH hashers; the only part of skmetacmh that imports torch.

The public classes live in ``_estimator``; the torch backend is private: the network
(``_network``), the associative memory (``_memory``), the objective (``_loss``) and the
training loop (``_training``).
"""

from ._estimator import DCMHHasher, MetaCMHHasher

__all__ = ["MetaCMHHasher", "DCMHHasher"]
