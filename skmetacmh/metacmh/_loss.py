"""The DCMH objective, with the optional class-balanced weighting and classification term.

For a mini-batch of one modality's outputs ``F_b`` against the other modality's outputs ``G``
of the training items (Jiang & Li, "Deep Cross-Modal Hashing", CVPR 2017, eq. 2-3)::

    Theta = 0.5 * F_b G^T                              (similarity_scale=None: DCMH's)
    Theta = lambda * cos(F_b, G)                       (similarity_scale=lambda)
    J = sum W * (softplus(Theta) - S * Theta)          negative log-likelihood
        + gamma * ||B_b - F_b||^2                      quantisation
        + eta * ||P(F)^T 1||^2                         bit balance

all divided by ``batch * n`` as in the reference implementation. ``softplus`` is the stable
``log(1 + exp(.))``. With a ``similarity_scale``, ``P`` scales each row to unit norm (``P``
is the identity otherwise), so that for outputs at the codes ``Theta = (lambda / n_bits)
B_i B_j^T``, DLFH's parametrisation (Jiang & Li, TIP 2019): ``Theta`` is bounded by ``lambda``
whatever the code length and the output scale, and the gradients of the likelihood and of the
balance term keep their ratio as ``n_bits`` grows. DCMH's ``0.5 F G^T`` grows with both (to
``n_bits / 2`` at the codes, and beyond as the outputs grow, which the likelihood rewards),
which saturates the likelihood and lets the balance term explode on wide inputs or long codes.

``G`` may be every training item or a sample of them (``._sampling``): ``W`` then carries the
importance weights that keep the sampled sum an unbiased estimate of the full one, and the
normaliser stays ``batch * n``. ``S`` is only ever formed for the batch against those columns,
never ``n x n``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "batch_similarity",
    "dcmh_loss",
    "classification_loss",
    "pair_features",
    "sample_weights",
]


def batch_similarity(Y_batch: torch.Tensor, Y_all: torch.Tensor) -> torch.Tensor:
    """``S_ij = 1`` when batch item i and training item j share a label (unlabelled: never)."""
    return ((Y_batch @ Y_all.T) > 0).to(Y_batch.dtype)


def pair_features(outputs: torch.Tensor, similarity_scale) -> torch.Tensor:
    """What the likelihood and the balance term see of the outputs (``P`` above)."""
    if similarity_scale is None:
        return outputs
    return outputs / outputs.norm(dim=1, keepdim=True).clamp_min(1e-12)


def dcmh_loss(
    feat_batch,
    other_columns,
    codes_batch,
    balance_sum,
    S,
    gamma: float,
    eta: float,
    weights=None,
    *,
    similarity_scale=None,
    n_items=None,
) -> dict:
    """The three DCMH terms for one mini-batch, each already normalised by ``batch * n``.

    ``balance_sum`` is the column sum of ``P`` of this modality's outputs over the whole
    training set with the batch's rows taken from ``feat_batch`` (so the bit-balance term
    has a gradient). ``weights = (w_batch, w_columns)`` weighs pair ``(i, j)`` by
    ``w_i * w_j``, computed as ``w_batch @ (nll @ w_columns)`` so that no second
    ``batch x columns`` matrix is formed. ``other_columns`` are the other modality's outputs
    of every training item, or of a weighted sample of them; ``n_items`` is the number of
    training items (default: the number of columns).
    """
    n_items = other_columns.shape[0] if n_items is None else n_items
    norm = feat_batch.shape[0] * n_items
    if similarity_scale is None:
        theta = 0.5 * feat_batch @ other_columns.T
    else:
        theta = similarity_scale * (
            pair_features(feat_batch, similarity_scale)
            @ pair_features(other_columns, similarity_scale).T
        )
    nll = F.softplus(theta) - S * theta
    if weights is None:
        total = nll.sum()
    else:
        w_batch, w_columns = weights
        total = w_batch @ (nll @ w_columns)
    return {
        "likelihood": total / norm,
        "quantization": gamma * (codes_batch - feat_batch).pow(2).sum() / norm,
        "balance": eta * balance_sum.pow(2).sum() / norm,
    }


def classification_loss(logits, Y_batch, weight_batch=None) -> torch.Tensor:
    """Cross-entropy of the shared class head against the label distribution ``Y / |Y|``.

    A multi-label item spreads its target over its labels; unlabelled items are left out.
    With ``weight_batch`` each item counts by its class-balanced weight.
    """
    n_labels = Y_batch.sum(dim=1)
    labelled = n_labels > 0
    if not bool(labelled.any()):
        return logits.sum() * 0.0
    target = Y_batch[labelled] / n_labels[labelled, None]
    per_item = -(target * torch.log_softmax(logits[labelled], dim=1)).sum(dim=1)
    if weight_batch is None:
        return per_item.mean()
    w = weight_batch[labelled]
    return (w * per_item).sum() / w.sum()


def sample_weights(Y: torch.Tensor, class_weight) -> torch.Tensor | None:
    """Per-item weights that make every class count alike, normalised to mean one.

    ``"balanced"`` weighs class k by ``1 / n_k`` (sklearn's rule), ``"sqrt"`` by
    ``1 / sqrt(n_k)``; a multi-label item takes the mean over its labels and an unlabelled
    item weight one. ``None`` gives ``None`` (no weighting).
    """
    if class_weight is None:
        return None
    counts = Y.sum(dim=0)
    power = 1.0 if class_weight == "balanced" else 0.5
    per_class = torch.where(counts > 0, counts.clamp_min(1.0).pow(-power), torch.zeros_like(counts))
    n_labels = Y.sum(dim=1)
    w = (Y @ per_class) / n_labels.clamp_min(1.0)
    labelled = n_labels > 0
    w = w / w[labelled].mean() if bool(labelled.any()) else torch.ones_like(w)
    return torch.where(labelled, w, torch.ones_like(w))
