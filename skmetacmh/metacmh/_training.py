"""The training loop of MetaCMH / DCMH, split into small named steps (skorch style).

One epoch, as in the DCMH reference implementation (Jiang & Li, CVPR 2017):

1. ``train_modality("image")``: mini-batches of the image net (and its memory) against the
   output buffer of the text net, writing the new image outputs into the image buffer;
2. ``train_modality("text")``: the same for the text net against the image buffer;
3. ``update_codes``: ``B = sign(F + G)``;
4. ``refresh_memories``: recompute the class centroids without gradient (MetaCMH only);
5. the callbacks (:mod:`._callbacks`): print the epoch line, check early stopping; at the
   end, put the best weights back and warn if the loss did not fall.

Two options change the schedule or the objective (both off by default):

* ``two_stage``: decoupled training (OLTR, Liu et al., CVPR 2019; Kang et al., ICLR 2020).
  The first ``ceil(max_epochs / 2)`` epochs train the direct nets with the memory bypassed
  (the output is the direct feature). Then the centroids are computed once from a forward pass
  of that stage-1 network and kept fixed, and the remaining epochs train everything, memory
  included, on class-aware mini-batches: items are drawn with replacement in proportion to
  their class-balanced weight (every class equally often, for single-label data), and the
  batch side of the pair weights and of the class head is then one, since the sampling
  already balances it (the expected objective is the class-balanced one).
* ``centre_weight``: the code-side memory of :mod:`._centres`, a term pulling each item's
  output towards its class's binary centre.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields

import numpy as np
import torch

from ._callbacks import EarlyStopping, PrintLog, ProgressCheck
from ._centres import centre_loss, centre_targets
from ._episodes import EpisodeSchedule
from ._features import DenseRows
from ._loss import batch_similarity, classification_loss, dcmh_loss, sample_weights
from ._network import RowSparseLinear
from ._optim import RowSparseAdam, RowSparseSGD
from ._pairs import make_pairs

__all__ = ["Trainer", "TrainingOptions", "forward_in_chunks"]

PARTS = ("likelihood", "quantization", "balance", "classification", "recall")
MODALITIES = ("image", "text")


def forward_in_chunks(fn, rows) -> torch.Tensor:
    """Apply ``fn`` to a block of rows (:mod:`._features`) a chunk at a time, without gradient."""
    with torch.no_grad():
        return torch.cat([fn(chunk) for chunk in rows.chunks()])


def _signs(x: torch.Tensor) -> torch.Tensor:
    # Bit 1 is "> 0" everywhere in the package, so 0 maps to -1 here too.
    return torch.where(x > 0, 1.0, -1.0).to(x.dtype)


def _other(name: str) -> str:
    return "text" if name == "image" else "image"


@dataclass(frozen=True)
class TrainingOptions:
    """The hasher parameters the training loop reads (the rest shape the network)."""

    gamma: float
    eta: float
    class_weight: str | None
    classification_weight: float
    recall_weight: float
    memory_source: str
    optimizer: str
    learning_rate: float
    schedule: str
    weight_decay: float
    max_epochs: int
    batch_size: int
    n_iter_no_change: int
    similarity_scale: float | None
    n_sampled_columns: int | None
    verbose: int
    # Episodic training of the memory and the frequency-aware selector (._episodes).
    episodic: bool = False
    episode_length: int | None = None
    query_fraction: float = 0.5
    # The two levers of the long-tail study (module docstring).
    two_stage: bool = False
    centre_weight: float = 0.0

    @classmethod
    def from_params(cls, params: dict) -> TrainingOptions:
        """Pick this class's fields out of the hasher's full parameter dict."""
        return cls(**{field.name: params[field.name] for field in fields(cls)})


def _make_optimizer(net, options: TrainingOptions):
    params = list(net.parameters())
    # A row-sparse first layer (sparse text) has sparse gradients, which torch's own
    # optimisers refuse; dense nets keep torch's optimisers, and so their numbers.
    row_sparse = any(isinstance(m, RowSparseLinear) for m in net.modules())
    adam, sgd = (RowSparseAdam, RowSparseSGD) if row_sparse else (torch.optim.Adam, torch.optim.SGD)
    if options.optimizer == "adam":
        return adam(params, lr=options.learning_rate, weight_decay=options.weight_decay)
    return sgd(params, lr=options.learning_rate, momentum=0.9, weight_decay=options.weight_decay)


def _make_scheduler(optimizer, options: TrainingOptions):
    total = options.max_epochs
    if options.schedule == "linear":
        # Falls linearly to a tenth of the initial rate at the last epoch.
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda e: 1.0 - 0.9 * min(e, total - 1) / max(total - 1, 1)
        )
    if options.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1.0)


class Trainer:
    """Fits a :class:`~._network.CrossModalHashNet` in place and keeps its history.

    ``data`` maps ``"image"`` and ``"text"`` to blocks of rows (:mod:`._features`) and ``"Y"``
    to the label indicator tensor on the device, and optionally ``"valid"`` to the same
    triple for early stopping.
    """

    def __init__(
        self,
        net,
        data: dict,
        options: TrainingOptions,
        generator: torch.Generator,
        sampler_generator: torch.Generator,
        centres: torch.Tensor | None = None,
        episode_rng: np.random.Generator | None = None,
    ):
        self.net = net
        self.features = {"image": data["image"], "text": data["text"]}
        self.labels = data["Y"]
        self.validation = data.get("valid")
        self.options = options
        self.generator = generator
        self.n_items = self.labels.shape[0]
        self.weights = sample_weights(self.labels, options.class_weight)
        self.pairs = make_pairs(
            self.labels,
            self.weights,
            options.n_sampled_columns,
            options.similarity_scale,
            sampler_generator,
        )
        self.optimizer = _make_optimizer(net, options)
        self.scheduler = _make_scheduler(self.optimizer, options)
        self.early_stopping = (
            EarlyStopping(options.n_iter_no_change) if self.validation is not None else None
        )
        # The code-side memory's per-item targets (``centre_weight > 0`` only).
        self.centre_targets = None
        self.parts = PARTS
        if options.centre_weight > 0:
            self.centre_targets = centre_targets(self.labels, centres.to(self.labels))
            self.parts = (*PARTS, "centre")
        # Two-stage training: the epoch that starts stage 2 (None: one stage), and whether the
        # memory is bypassed now (stage 1).
        self.stage_two_epoch = math.ceil(options.max_epochs / 2) + 1 if options.two_stage else None
        self.bypass_memory = options.two_stage
        self.callbacks = [PrintLog(self.parts)] if options.verbose else []
        if self.early_stopping is not None:
            self.callbacks.append(self.early_stopping)
        self.callbacks.append(ProgressCheck())
        self.history: list[dict] = []
        # Every training item's current output per modality (DCMH's F and G), their shared
        # codes B = sign(F + G), and (modalities with a memory) their direct features.
        self.outputs: dict | None = None
        self.codes: torch.Tensor | None = None
        self.direct_features: dict = {}
        for name in MODALITIES:
            memory = net.modality(name).memory
            if memory is not None and memory.frequency_aware:
                memory.set_log_frequency(self.labels)
        # Episodic training: the schedule, and the current episode's query mask.
        self.episodes = None
        self.query = None
        if options.episodic:
            if episode_rng is None:
                # The stream the plan names (Streams.episodes) for a trainer built without one.
                episode_rng = np.random.default_rng(generator.initial_seed() + 2)
            labels = self.labels.detach().cpu().numpy()
            self.episodes = EpisodeSchedule(
                labels, options.query_fraction, options.episode_length, episode_rng
            )

    @property
    def best_epoch(self) -> int:
        """The epoch whose weights the network holds after ``fit``."""
        if self.early_stopping is not None and self.early_stopping.best_epoch is not None:
            return self.early_stopping.best_epoch
        return len(self.history)

    # ------------------------------------------------------------------ loop
    def fit(self) -> list[dict]:
        self.initialise_state()
        for epoch in range(1, self.options.max_epochs + 1):
            if epoch == self.stage_two_epoch:
                self.start_stage_two()
            record = self.run_epoch(epoch)
            self.history.append(record)
            # Every callback sees every epoch, even after one has asked to stop.
            if any([callback.on_epoch_end(self, record) for callback in self.callbacks]):
                break
        for callback in self.callbacks:
            callback.on_train_end(self)
        return self.history

    def initialise_state(self) -> None:
        """Memories from the initial network, then the output buffers and the codes."""
        self.refresh_memories()
        self.compute_outputs()
        self.update_codes()

    def run_epoch(self, epoch: int) -> dict:
        start = time.perf_counter()
        learning_rate = self.optimizer.param_groups[0]["lr"]
        image_parts = self.train_modality("image")
        text_parts = self.train_modality("text")
        self.update_codes()
        self.refresh_memories()
        self.update_codes()
        self.scheduler.step()
        parts = {key: image_parts[key] + text_parts[key] for key in self.parts}
        record = {
            "epoch": epoch,
            "loss": sum(parts.values()),
            **parts,
            "learning_rate": learning_rate,
        }
        if self.validation is not None:
            record["valid_score"] = self.validation_score()
        record["duration"] = time.perf_counter() - start
        return record

    # ------------------------------------------------------------------ steps
    def start_stage_two(self) -> None:
        """Centroids from the frozen stage-1 network, fixed from now on; the memory joins."""
        self.bypass_memory = False
        for name in MODALITIES:
            net = self.net.modality(name)
            self.direct_features[name] = forward_in_chunks(net.direct, self.features[name])
            net.memory.refresh(self.direct_features[name], self.labels)
        self.compute_outputs()
        self.update_codes()

    def start_episode(self) -> None:
        """A new support/query split; both memories hold the centroids of its support part."""
        self.query = torch.as_tensor(self.episodes.split(), device=self.labels.device)
        for name in MODALITIES:
            memory = self.net.modality(name).memory
            if memory is not None:
                memory.refresh(self.centroid_features(name), self.labels, support=~self.query)

    def centroid_features(self, name: str) -> torch.Tensor:
        """What the centroids average: the shared codes (``memory_source="codes"``, once they
        exist) or the modality's direct features."""
        if self.options.memory_source == "codes" and self.codes is not None:
            return self.codes
        return self.direct_features[name]

    def _forward_fn(self, name: str):
        """What maps a modality's features to its output now (the direct net in stage 1)."""
        net = self.net.modality(name)
        return net.direct if self.bypass_memory else net

    def refresh_memories(self) -> None:
        """New centroids from the direct features; the output buffers follow the new memory.

        The direct features are those computed during the epoch's mini-batches (kept in a
        buffer, as DCMH keeps ``F`` and ``G``), which saves a full forward pass per epoch;
        before the first epoch they come from a forward pass of the initial network.
        """
        for name in MODALITIES:
            net = self.net.modality(name)
            if net.memory is None or self.bypass_memory:
                continue
            if name not in self.direct_features:
                self.direct_features[name] = forward_in_chunks(net.direct, self.features[name])
            direct = self.direct_features[name]
            if self.stage_two_epoch is not None:
                pass  # stage 2: the centroids stay those of the stage-1 network
            elif self.options.memory_source == "classifier":
                # The class head's weight rows, learned with a class-balanced loss, are
                # prototypes that a 1-item class gets as well placed as a head class.
                net.memory.set_prototypes(self.net.classifier.weight.detach(), direct)
            else:
                # Before the first codes exist, "codes" starts from the direct features.
                net.memory.refresh(self.centroid_features(name), self.labels)
            if self.outputs is not None:
                self.outputs[name] = forward_in_chunks(net.memory, DenseRows(direct))

    def compute_outputs(self) -> None:
        self.outputs = {
            name: forward_in_chunks(self._forward_fn(name), self.features[name])
            for name in MODALITIES
        }

    def update_codes(self) -> None:
        self.codes = _signs(self.outputs["image"] + self.outputs["text"])

    def train_modality(self, name: str) -> dict:
        """One pass of modality ``name`` over the training set; the mean of each term."""
        net = self.net.modality(name)
        order = self._item_order()
        self.pairs.start_pass(self.outputs[name], self.outputs[_other(name)])
        totals = dict.fromkeys(self.parts, 0.0)
        n_batches = 0
        for start in range(0, self.n_items, self.options.batch_size):
            batch = order[start : start + self.options.batch_size]
            if self.class_aware:
                # Drawn with replacement: an item trains once per batch, and its buffer rows
                # (outputs, balance sums) are written once.
                batch = torch.unique(batch)
            if self.episodes is not None and self.episodes.due(len(self.history)):
                self.start_episode()
            for key, value in self.train_step(net, name, batch).items():
                totals[key] += value
            n_batches += 1
        return {key: value / n_batches for key, value in totals.items()}

    @property
    def class_aware(self) -> bool:
        """Stage 2 of two-stage training draws class-aware mini-batches."""
        return self.stage_two_epoch is not None and not self.bypass_memory

    def _item_order(self) -> torch.Tensor:
        """The items of one pass, in mini-batch order."""
        if self.class_aware:
            balanced = sample_weights(self.labels, "balanced")
            return torch.multinomial(
                balanced.cpu(), self.n_items, replacement=True, generator=self.generator
            ).to(self.labels.device)
        return torch.randperm(self.n_items, generator=self.generator).to(self.labels.device)

    def _batch_weights(self, batch: torch.Tensor):
        """The batch side's class-balanced weights (one when class-aware sampling balances)."""
        if self.weights is None:
            return None
        if self.class_aware:
            return torch.ones(len(batch), dtype=self.weights.dtype, device=self.weights.device)
        return self.weights[batch]

    def train_step(self, net, name: str, batch: torch.Tensor) -> dict:
        """One mini-batch update of modality ``name``; returns the float value of each term."""
        batch_labels = self.labels[batch]
        rows = self.features[name].rows(batch)
        if self.episodes is not None and net.memory is not None:
            # Support rows' memory branch is detached: only query rows train the memory.
            direct = net.direct(rows)
            output, recall_logits = net.memory.recall(direct, frozen=~self.query[batch])
        elif self.bypass_memory:
            output = direct = net.direct(rows)
            recall_logits = None
        else:
            output, recall_logits, direct = net.forward_with_recall(rows)
        columns, column_labels, pair_weights = self.pairs.columns(batch, self._batch_weights(batch))
        parts = dcmh_loss(
            output,
            columns,
            self.codes[batch],
            self.pairs.balance_sum(batch, output),
            batch_similarity(batch_labels, column_labels),
            self.options.gamma,
            self.options.eta,
            pair_weights,
            similarity_scale=self.options.similarity_scale,
            n_items=self.n_items,
        )
        parts.update(self._class_terms(output, recall_logits, batch, batch_labels))
        loss = sum(parts.values())
        self._check_finite(loss, name)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.pairs.write(batch, output.detach())
        if name in self.direct_features:
            self.direct_features[name][batch] = direct.detach()
        return {key: float(value.detach()) for key, value in parts.items()}

    def _class_terms(self, output, recall_logits, batch, batch_labels) -> dict:
        """The class head's cross-entropy and the memory's recall cross-entropy, when on."""
        terms = {}
        batch_weights = self._batch_weights(batch)
        if self.net.classifier is not None:
            logits = self.net.classifier(torch.tanh(output))
            terms["classification"] = self.options.classification_weight * classification_loss(
                logits, batch_labels, batch_weights
            )
        if recall_logits is not None and self.options.recall_weight > 0:
            # Teach the hallucinator to recall the item's own classes (class-balanced).
            terms["recall"] = self.options.recall_weight * classification_loss(
                recall_logits, batch_labels, batch_weights
            )
        if self.centre_targets is not None:
            terms["centre"] = self.options.centre_weight * centre_loss(
                output, self.centre_targets[batch], batch_weights
            )
        return terms

    def _check_finite(self, loss, name: str) -> None:
        if not bool(torch.isfinite(loss)):
            raise FloatingPointError(
                f"The training loss became {float(loss.detach())} in epoch {len(self.history) + 1} "
                f"({name} step). The learning rate ({self.options.learning_rate}) is most likely "
                "too large for these features: lower learning_rate (and check that the inputs "
                "are standardised)."
            )

    # ------------------------------------------------------------------ validation
    def validation_score(self) -> float:
        """Cross-modal mAP of the held-out items against the training items' codes."""
        from ..metrics import mean_average_precision

        image_rows, text_rows, valid_labels = self.validation
        if not (valid_labels @ self.labels.T).any():
            return 0.0
        query_image = forward_in_chunks(self._forward_fn("image"), image_rows) > 0
        query_text = forward_in_chunks(self._forward_fn("text"), text_rows) > 0

        def bits(t):
            return t.cpu().numpy().astype("uint8")

        valid_np, train_np = valid_labels.cpu().numpy(), self.labels.cpu().numpy()
        image_to_text = mean_average_precision(
            bits(query_image), bits(self.outputs["text"] > 0), valid_np, train_np
        )
        text_to_image = mean_average_precision(
            bits(query_text), bits(self.outputs["image"] > 0), valid_np, train_np
        )
        return 0.5 * (image_to_text + text_to_image)
