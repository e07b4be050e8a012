"""Small objects the training loop calls at the end of each epoch (skorch's callbacks).

Each holds only its own state. ``on_epoch_end(trainer, record)`` returns True to stop the
training; ``on_train_end(trainer)`` runs once after the last epoch.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = ["Callback", "EarlyStopping", "NoProgressWarning", "PrintLog", "ProgressCheck"]


class NoProgressWarning(ConvergenceWarning):
    """The training loss of a deep hasher did not fall: its codes are likely no better than
    their initialisation (a learning rate far too small, or one so large that the loss
    rose)."""


class Callback:
    """No-op hooks (skorch's ``Callback``): a callback overrides only the ones it needs."""

    def on_epoch_end(self, trainer, record: dict) -> bool:
        """Called after each epoch with its history record; return True to stop training."""
        return False

    def on_train_end(self, trainer) -> None:
        """Called once, after the last epoch."""


class PrintLog(Callback):
    """Print one line per epoch: the loss, its non-zero parts, the validation score, the time."""

    def __init__(self, parts: tuple):
        self.parts = parts

    def on_epoch_end(self, trainer, record: dict) -> bool:
        line = f"epoch {record['epoch']:4d}  loss {record['loss']:.5f}"
        line += "".join(f"  {k} {record[k]:.5f}" for k in self.parts if record[k])
        if "valid_score" in record:
            line += f"  valid_mAP {record['valid_score']:.4f}"
        print(line + f"  {record['duration']:.2f}s", flush=True)
        return False


class EarlyStopping(Callback):
    """Stop when ``valid_score`` has not improved for ``patience`` epochs; keep the best weights.

    As skorch's ``EarlyStopping`` with ``load_best=True``: the weights (and the memories'
    buffers, which are part of the state dict) of the best epoch are put back at the end.
    """

    def __init__(self, patience: int):
        self.patience = patience
        self.best_score = -np.inf
        self.best_epoch = None
        self.best_state = None
        self.epochs_without_improvement = 0

    def on_epoch_end(self, trainer, record: dict) -> bool:
        if record["valid_score"] > self.best_score:
            self.best_score = record["valid_score"]
            self.best_epoch = record["epoch"]
            self.best_state = copy.deepcopy(trainer.net.state_dict())
            self.epochs_without_improvement = 0
            return False
        self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience

    def on_train_end(self, trainer) -> None:
        if self.best_state is not None:
            trainer.net.load_state_dict(self.best_state)


class ProgressCheck(Callback):
    """Warn (:class:`NoProgressWarning`) when no later epoch's loss is below the first's.

    "Below" means by more than ``rtol`` of the first epoch's loss, so that a loss that only
    wobbles at the level where it started counts as no progress. A fit of one epoch has
    nothing to compare and is not checked.
    """

    def __init__(self, rtol: float = 1e-3):
        self.rtol = rtol

    def on_train_end(self, trainer) -> None:
        history = trainer.history
        if getattr(trainer, "stage_two_epoch", None) is not None:
            # Two-stage training: stage 2 weighs the loss differently (class-aware batches),
            # so only stage 1's losses are comparable with the first epoch's.
            history = history[: trainer.stage_two_epoch - 1]
        if len(history) < 2:
            return
        first = history[0]["loss"]
        lowest = min(record["loss"] for record in history[1:])
        if lowest < first - self.rtol * abs(first):
            return
        warnings.warn(
            f"The training loss did not fall: {first:.6g} in epoch 1, never lower in the "
            f"{len(history) - 1} epochs after it (lowest {lowest:.6g}; "
            f"learning_rate={trainer.options.learning_rate}). The codes are "
            "likely no better than random: if the loss stayed flat, raise learning_rate or "
            "max_epochs; if it rose, lower learning_rate; and check that the inputs are "
            "standardised.",
            NoProgressWarning,
            stacklevel=2,
        )
