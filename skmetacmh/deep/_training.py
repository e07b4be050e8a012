"""The training loop of MetaCMH / DCMH, split into small named steps (skorch style).

One epoch, as in the DCMH reference implementation (Jiang & Li, CVPR 2017):

1. ``train_modality("image")``: mini-batches of the image net (and its memory) against the
   buffer ``G`` of all text outputs, writing the new image outputs into the buffer ``F``;
2. ``train_modality("text")``: the same for the text net against ``F``;
3. ``update_codes``: ``B = sign(F + G)``;
4. ``refresh_memories``: recompute the class centroids without gradient (MetaCMH only);
5. ``on_epoch_end``: record the history, print, check early stopping.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from ._loss import batch_similarity, classification_loss, dcmh_loss, sample_weights

__all__ = ["Trainer", "forward_in_chunks"]

_CHUNK = 8192
_PARTS = ("likelihood", "quantization", "balance", "classification", "recall")


def forward_in_chunks(fn, X: torch.Tensor) -> torch.Tensor:
    """Apply ``fn`` to the rows of ``X`` a chunk at a time, without gradient."""
    with torch.no_grad():
        return torch.cat([fn(X[i : i + _CHUNK]) for i in range(0, X.shape[0], _CHUNK)])


def _signs(x: torch.Tensor) -> torch.Tensor:
    # Bit 1 is "> 0" everywhere in the package, so 0 maps to -1 here too.
    return torch.where(x > 0, 1.0, -1.0).to(x.dtype)


class Trainer:
    """Fits a :class:`~._network.CrossModalHashNet` in place and keeps its history.

    ``data`` maps ``"image"``, ``"text"``, ``"Y"`` to training tensors on the device, and
    optionally ``"valid"`` to the same triple for early stopping.
    """

    def __init__(self, net, data, params: dict, generator: torch.Generator, verbose: int = 0):
        self.net = net
        self.X = {"image": data["image"], "text": data["text"]}
        self.Y = data["Y"]
        self.valid = data.get("valid")
        self.p = params
        self.generator = generator
        self.verbose = verbose
        self.n = self.Y.shape[0]
        self.weights = sample_weights(self.Y, params["class_weight"])
        self.optimizer = self._make_optimizer()
        self.scheduler = self._make_scheduler()
        self.history: list[dict] = []
        self.direct: dict = {}
        self.best_score, self.best_state, self.stale = -np.inf, None, 0

    # ------------------------------------------------------------------ set-up
    def _make_optimizer(self):
        p = self.p
        params = list(self.net.parameters())
        if p["optimizer"] == "adam":
            return torch.optim.Adam(params, lr=p["learning_rate"], weight_decay=p["weight_decay"])
        return torch.optim.SGD(
            params, lr=p["learning_rate"], momentum=0.9, weight_decay=p["weight_decay"]
        )

    def _make_scheduler(self):
        total = self.p["max_epochs"]
        if self.p["schedule"] == "linear":
            # Falls linearly to a tenth of the initial rate at the last epoch.
            return torch.optim.lr_scheduler.LambdaLR(
                self.optimizer, lambda e: 1.0 - 0.9 * min(e, total - 1) / max(total - 1, 1)
            )
        if self.p["schedule"] == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=total)
        return torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda e: 1.0)

    # ------------------------------------------------------------------ steps
    def refresh_memories(self) -> None:
        """New centroids from the direct features; the output buffers follow the new memory.

        The direct features are those computed during the epoch's mini-batches (kept in a
        buffer, as DCMH keeps ``F`` and ``G``), which saves a full forward pass per epoch;
        before the first epoch they come from a forward pass of the initial network.
        """
        for name in ("image", "text"):
            net = self.net.modality(name)
            if net.memory is None:
                continue
            if name not in self.direct:
                self.direct[name] = forward_in_chunks(net.direct, self.X[name])
            source = self.p["memory_source"]
            if source == "classifier":
                # The class head's weight rows, learned with a class-balanced loss, are
                # prototypes that a 1-item class gets as well placed as a head class.
                prototypes = self.net.classifier.weight.detach()
                net.memory.set_prototypes(prototypes, self.direct[name])
            else:
                use_codes = source == "codes" and hasattr(self, "B")
                net.memory.refresh(self.B if use_codes else self.direct[name], self.Y)
            if hasattr(self, "out"):
                self.out[name] = forward_in_chunks(net.memory, self.direct[name])

    def compute_buffers(self) -> None:
        self.out = {
            name: forward_in_chunks(self.net.modality(name), self.X[name])
            for name in ("image", "text")
        }

    def update_codes(self) -> None:
        self.B = _signs(self.out["image"] + self.out["text"])

    def train_modality(self, name: str) -> dict:
        other = self.out["text" if name == "image" else "image"]
        buffer = self.out[name]
        net = self.net.modality(name)
        order = torch.randperm(self.n, generator=self.generator).to(self.Y.device)
        totals = dict.fromkeys(_PARTS, 0.0)
        n_batches = 0
        for start in range(0, self.n, self.p["batch_size"]):
            idx = order[start : start + self.p["batch_size"]]
            parts = self.train_step(net, name, idx, buffer, other)
            for key, value in parts.items():
                totals[key] += value
            n_batches += 1
        return {key: value / n_batches for key, value in totals.items()}

    def train_step(self, net, name, idx, buffer, other) -> dict:
        """One mini-batch update of modality ``name``; returns the float value of each term."""
        Y_b = self.Y[idx]
        feat, recall_logits, direct = net.forward_with_recall(self.X[name][idx])
        balance_sum = buffer.sum(dim=0) - buffer[idx].sum(dim=0) + feat.sum(dim=0)
        pair_weights = None if self.weights is None else (self.weights[idx], self.weights)
        parts = dcmh_loss(
            feat,
            other,
            self.B[idx],
            balance_sum,
            batch_similarity(Y_b, self.Y),
            self.p["gamma"],
            self.p["eta"],
            pair_weights,
        )
        if self.net.classifier is not None:
            w_b = None if self.weights is None else self.weights[idx]
            logits = self.net.classifier(torch.tanh(feat))
            parts["classification"] = self.p["classification_weight"] * classification_loss(
                logits, Y_b, w_b
            )
        if recall_logits is not None and self.p["recall_weight"] > 0:
            # Teach the hallucinator to recall the item's own classes (class-balanced).
            w_b = None if self.weights is None else self.weights[idx]
            parts["recall"] = self.p["recall_weight"] * classification_loss(recall_logits, Y_b, w_b)
        loss = sum(parts.values())
        self._check_finite(loss, name)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        buffer[idx] = feat.detach()
        if name in self.direct:
            self.direct[name][idx] = direct.detach()
        return {key: float(value.detach()) for key, value in parts.items()}

    def _check_finite(self, loss, name: str) -> None:
        if not bool(torch.isfinite(loss)):
            raise FloatingPointError(
                f"The training loss became {float(loss.detach())} in epoch {len(self.history) + 1} "
                f"({name} step). The learning rate ({self.p['learning_rate']}) is most likely "
                "too large for these features: lower learning_rate (and check that the inputs "
                "are standardised)."
            )

    # ------------------------------------------------------------------ validation
    def validation_score(self) -> float:
        """Cross-modal mAP of the held-out items against the training items' codes."""
        from ..metrics import mean_average_precision

        X_img, X_txt, Y_valid = self.valid
        q_img = forward_in_chunks(self.net.image, X_img) > 0
        q_txt = forward_in_chunks(self.net.text, X_txt) > 0
        db_img, db_txt = self.out["image"] > 0, self.out["text"] > 0
        Yv, Yt = Y_valid.cpu().numpy(), self.Y.cpu().numpy()

        def to_np(t):
            return t.cpu().numpy().astype(np.uint8)

        if not (Yv @ Yt.T).any():
            return 0.0
        i2t = mean_average_precision(to_np(q_img), to_np(db_txt), Yv, Yt)
        t2i = mean_average_precision(to_np(q_txt), to_np(db_img), Yv, Yt)
        return 0.5 * (i2t + t2i)

    # ------------------------------------------------------------------ loop
    def fit(self) -> list[dict]:
        self.refresh_memories()
        self.compute_buffers()
        self.update_codes()
        for epoch in range(1, self.p["max_epochs"] + 1):
            start = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            image_parts = self.train_modality("image")
            text_parts = self.train_modality("text")
            self.update_codes()
            self.refresh_memories()
            self.update_codes()
            self.scheduler.step()
            parts = {k: image_parts[k] + text_parts[k] for k in _PARTS}
            record = {"epoch": epoch, "loss": sum(parts.values()), **parts, "learning_rate": lr}
            if self.valid is not None:
                record["valid_score"] = self.validation_score()
            record["duration"] = time.perf_counter() - start
            self.history.append(record)
            if self.on_epoch_end(record):
                break
        if self.best_state is not None:
            self.net.load_state_dict(self.best_state)
        return self.history

    def on_epoch_end(self, record: dict) -> bool:
        """Print the epoch line; return True when early stopping says stop."""
        if self.verbose:
            line = f"epoch {record['epoch']:4d}  loss {record['loss']:.5f}"
            line += "".join(f"  {k} {record[k]:.5f}" for k in _PARTS if record[k])
            if "valid_score" in record:
                line += f"  valid_mAP {record['valid_score']:.4f}"
            print(line + f"  {record['duration']:.2f}s", flush=True)
        if self.valid is None:
            return False
        if record["valid_score"] > self.best_score:
            self.best_score, self.stale = record["valid_score"], 0
            self.best_state = copy.deepcopy(self.net.state_dict())
            return False
        self.stale += 1
        return self.stale >= self.p["n_iter_no_change"]
