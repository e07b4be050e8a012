"""From the deep hashers' parameters to a frozen fit plan: every check and every "auto", once.

:func:`resolve_fit` is the only reader of the hasher's parameters at fit time. It takes them
as one dict (the estimator's ``get_params`` plus the values its class fixes), makes every
cross-parameter check, resolves every ``"auto"`` on the data, and returns a :class:`FitPlan`
whose parts the fitting code and the trainer read. Nothing after it reads ``self.<param>``.

The research options (:class:`ResearchOptions`) are not parameters of the public hashers:
they keep their defaults here unless a class that exposes them
(:class:`~skmetacmh.metacmh._research.ResearchMetaCMHHasher`, for the benchmarks) sets them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._centres import class_centres
from ._network import NetworkSpec
from ._training import TrainingOptions

__all__ = [
    "RESEARCH_CONSTRAINTS",
    "FitPlan",
    "ResearchOptions",
    "Streams",
    "resolve_device",
    "resolve_fit",
    "resolve_max_epochs",
    "resolve_text_hidden",
]

# max_epochs="auto": the DCMH-style 50 epochs on small sets, but no more than about this many
# mini-batch updates per modality, so that a large training set is not passed over 50 times
# (an epoch of 200,000 items is already 1,560 updates). Sets of up to 52,224 items (at the
# default batch_size) keep 50 epochs.
AUTO_MAX_EPOCHS = 50
AUTO_UPDATE_BUDGET = 20_000
# text_hidden="auto": the first text layer's cost per update is the rows of its weight table
# that a batch touches times its width, and a batch of TF-IDF rows touches much of a wide
# vocabulary. So one hidden layer of 512 units, narrowed on a wide text block: measured on
# 20,000 items with a 20,000-word vocabulary, 10 epochs cost 13.4 / 5.4 / 2.9 s each at
# 512 / 256 / 128 units for mAP 0.790 / 0.778 / 0.769 (docs: tuning_at_scale).
AUTO_TEXT_WIDTHS = ((10_000, 512), (25_000, 256), (None, 128))

#: The devices a deep hasher runs on ("cuda:<index>" too).
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class ResearchOptions:
    """Options measured in the studies that did not earn a default (docs/studies/memory.rst).

    Their defaults are the values every public hasher uses; only the research class exposes
    them as parameters.
    """

    reachability: bool = False
    recall_weight: float = 0.0
    memory_source: str = "direct"
    selector_init: str = "zero"
    episodic: bool = False
    episode_length: int | None = None
    query_fraction: float = 0.5
    frequency_aware: bool = False
    hallucinator_tau: float = 0.0
    two_stage: bool = False
    centre_weight: float = 0.0


#: The research options' constraints, for the class that exposes them.
RESEARCH_CONSTRAINTS: dict = {
    "reachability": ["boolean"],
    "recall_weight": [Interval(Real, 0, None, closed="left")],
    "memory_source": [StrOptions({"direct", "codes", "classifier"})],
    "selector_init": [StrOptions({"random", "zero"})],
    "episodic": ["boolean"],
    "episode_length": [Interval(Integral, 1, None, closed="left"), None],
    "query_fraction": [Interval(Real, 0, 1, closed="neither")],
    "frequency_aware": ["boolean"],
    "hallucinator_tau": [Interval(Real, 0, None, closed="left")],
    "two_stage": ["boolean"],
    "centre_weight": [Interval(Real, 0, None, closed="left")],
}


@dataclass(frozen=True)
class Streams:
    """The seeds of a fit's random streams, each drawn from by one consumer only.

    ``init`` seeds the CPU generator of the network's initialisation, the validation split
    and the mini-batch order; ``sampler`` the pair sampler (on the device); ``episodes`` the
    episodic splits; ``centres`` the code-side memory's centres. Separate streams keep each
    consumer's draws the same whether or not the others draw.
    """

    init: int
    sampler: int
    episodes: int
    centres: int

    @classmethod
    def from_random_state(cls, random_state) -> Streams:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        return cls(init=seed, sampler=seed + 1, episodes=seed + 2, centres=seed + 3)


@dataclass(frozen=True)
class FitPlan:
    """What a fit does, resolved: read by the fitting code and the trainer, never changed."""

    #: The architecture (stored as ``module_config_``; a pickle rebuilds the module from it).
    network: NetworkSpec
    training: TrainingOptions
    device: torch.device
    #: Items held out for early stopping (0: none).
    n_valid: int
    streams: Streams
    selector_init: str
    hallucinator_tau: float
    #: The code-side memory's class centres in {-1, 1} (None: off).
    centres: np.ndarray | None


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def resolve_device(device: str) -> torch.device:
    """The torch device ``device`` names; a clear error for one this machine cannot use."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or dev.type not in DEVICE_CHOICES:
        raise ValueError(
            f"device must be one of 'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps'; got {device!r}."
        )
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available in this torch build "
            f"({torch.__version__}) or on this machine; use device='cpu' or device='auto'."
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} was requested but MPS (Apple GPUs) is not available in this "
            f"torch build ({torch.__version__}) or on this machine; use device='cpu' or "
            "device='auto'."
        )
    return dev


def resolve_max_epochs(max_epochs, n_train: int, batch_size: int) -> int:
    """The number of epochs ``max_epochs`` stands for on ``n_train`` training items."""
    if not _is_auto(max_epochs):
        return int(max_epochs)
    n_batches = -(-n_train // batch_size)
    return min(AUTO_MAX_EPOCHS, -(-AUTO_UPDATE_BUDGET // n_batches))


def resolve_text_hidden(text_hidden, n_text_features: int) -> tuple:
    """The text net's hidden widths ``text_hidden`` stands for on this many text features."""
    if not _is_auto(text_hidden):
        return _check_hidden(text_hidden, "text_hidden")
    for most_features, width in AUTO_TEXT_WIDTHS:
        if most_features is None or n_text_features <= most_features:
            return (width,)
    raise AssertionError("AUTO_TEXT_WIDTHS ends with a catch-all row")


def _check_hidden(hidden, name: str) -> tuple:
    sizes = (hidden,) if isinstance(hidden, Integral) else tuple(hidden)
    if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
        raise ValueError(
            f"{name} must be a tuple of positive ints (hidden layer widths, () for a linear "
            f"net); got {hidden!r}."
        )
    return tuple(int(s) for s in sizes)


def _check_options(p: dict) -> None:
    """The cross-parameter rules: refuse combinations that cannot do what they say."""
    if p["memory"] and p["memory_source"] == "classifier" and not p["classification_weight"] > 0:
        raise ValueError(
            "memory_source='classifier' takes the memory's prototypes from the class "
            "head, which needs classification_weight > 0; got classification_weight="
            f"{p['classification_weight']!r}."
        )
    if p["episodic"] and not p["memory"]:
        raise ValueError(
            "episodic=True trains the memory on items it does not contain, which needs "
            "memory=True; got memory=False."
        )
    if p["episodic"] and p["memory_source"] == "classifier":
        raise ValueError(
            "episodic=True splits the items that build the centroids, but "
            "memory_source='classifier' takes them from the class head (no items to split); "
            "use memory_source='direct' or 'codes'."
        )
    if p["frequency_aware"] and not p["memory"]:
        raise ValueError(
            "frequency_aware=True is an input of the memory's selector, which needs "
            "memory=True; got memory=False."
        )
    if p["two_stage"] and not p["memory"]:
        raise ValueError(
            "two_stage=True adds the memory in its second stage, which needs memory=True; "
            "got memory=False."
        )
    if p["two_stage"] and (p["episodic"] or p["memory_source"] != "direct"):
        raise ValueError(
            "two_stage=True keeps the centroids of the stage-1 direct features fixed, which "
            "needs episodic=False and memory_source='direct'; got "
            f"episodic={p['episodic']!r}, memory_source={p['memory_source']!r}."
        )
    if p["two_stage"] and p["validation_fraction"] is not None:
        raise ValueError(
            "two_stage=True runs a fixed schedule of two stages, which early stopping would "
            "cut inside stage 1; use validation_fraction=None with it, got "
            f"validation_fraction={p['validation_fraction']!r}."
        )


def _n_valid(validation_fraction, n: int) -> int:
    if validation_fraction is None:
        return 0
    n_valid = int(round(validation_fraction * n))
    if not 1 <= n_valid <= n - 2:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves {n_valid} of {n} "
            "training items for validation; it needs at least 1 and must leave 2 to train."
        )
    return n_valid


def resolve_fit(params: dict, X_image, X_text, Y) -> FitPlan:
    """Check ``params`` against each other and the data, and resolve them into a plan.

    ``params`` holds the hasher's parameters (research options it lacks take their
    :class:`ResearchOptions` defaults); ``Y`` is the training label indicator.
    """
    research = ResearchOptions(
        **{f.name: params[f.name] for f in fields(ResearchOptions) if f.name in params}
    )
    p = {**params, **asdict(research)}
    device = resolve_device(p["device"])
    _check_options(p)
    n_valid = _n_valid(p["validation_fraction"], Y.shape[0])
    # "auto" is resolved once, on the items that are really trained on.
    max_epochs = resolve_max_epochs(p["max_epochs"], Y.shape[0] - n_valid, p["batch_size"])
    if p["two_stage"] and max_epochs < 2:
        raise ValueError(
            f"two_stage=True needs max_epochs >= 2 (one epoch per stage); got {max_epochs}."
        )
    uses_memory = bool(p["memory"])
    network = NetworkSpec(
        n_image_features=X_image.shape[1],
        n_text_features=X_text.shape[1],
        image_hidden=_check_hidden(p["image_hidden"], "image_hidden"),
        text_hidden=resolve_text_hidden(p["text_hidden"], X_text.shape[1]),
        n_bits=int(p["n_bits"]),
        n_classes=Y.shape[1],
        memory=uses_memory,
        reachability=uses_memory and bool(p["reachability"]),
        frequency_aware=uses_memory and bool(p["frequency_aware"]),
        head=p["classification_weight"] > 0,
        # A sparse text block gets a row-sparse first layer (cost ~ a batch's non-zeros).
        sparse_text=sp.issparse(X_text),
    )
    streams = Streams.from_random_state(p["random_state"])
    centres = None
    if p["centre_weight"] > 0:
        rng = np.random.default_rng(streams.centres)
        centres = class_centres(Y.shape[1], int(p["n_bits"]), rng)
    return FitPlan(
        network=network,
        training=TrainingOptions.from_params({**p, "max_epochs": max_epochs}),
        device=device,
        n_valid=n_valid,
        streams=streams,
        selector_init=p["selector_init"],
        hallucinator_tau=float(p["hallucinator_tau"]),
        centres=centres,
    )
