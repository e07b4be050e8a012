"""MetaCMH and DCMH hashers; the only part of skmetacmh that imports torch.

The public classes live in ``_estimator``; the torch backend is private: the network
(``_network``), the associative memory (``_memory``), the objective (``_loss``), the sampled
pairwise term (``_sampling``), the dense or sparse feature rows (``_features``), the training
loop (``_training``) and its callbacks (``_callbacks``, which also defines
:class:`NoProgressWarning`).
"""

from ._callbacks import NoProgressWarning
from ._estimator import DCMHHasher, MetaCMHHasher

__all__ = ["MetaCMHHasher", "DCMHHasher", "NoProgressWarning"]
