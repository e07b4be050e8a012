"""MetaCMHHasher and DCMHHasher: the scikit-learn face of the torch backend.

``_BaseDeepHasher`` holds every parameter of the family and the fitting code; the public
classes only choose which parameters they expose, as scikit-learn's ``_PLS`` does for
``PLSRegression`` and ``CCA``: ``DCMHHasher`` passes ``memory=False`` (and the other memory
options) up as fixed values.

The torch module is built at fit time from the parameters (as skorch does), so ``clone``,
``set_params`` and grid search work; the fitted module is learned state (``module_``). A
pickled hasher holds the module's state dict on CPU plus its architecture, so a model fitted
on a GPU loads on a machine without one.
"""

from __future__ import annotations

import io
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import BaseCrossModalHasher
from .._docstring import Substitution
from ._centres import class_centres
from ._decoupling import tau_normalise_hallucinators
from ._docstring import DEEP_DOCS
from ._features import feature_rows
from ._network import build_network
from ._training import Trainer, TrainingOptions, forward_in_chunks

__all__ = ["MetaCMHHasher", "DCMHHasher"]


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available in this torch build "
            f"({torch.__version__}) or on this machine; use device='cpu' or device='auto'."
        )
    return dev


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


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


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


def _check_episode_options(hasher) -> None:
    """The episodic options act on a memory of item centroids; refuse what they cannot do."""
    if hasher.episodic and not hasher.memory:
        raise ValueError(
            "episodic=True trains the memory on items it does not contain, which needs "
            "memory=True; got memory=False."
        )
    if hasher.episodic and hasher.memory_source == "classifier":
        raise ValueError(
            "episodic=True splits the items that build the centroids, but "
            "memory_source='classifier' takes them from the class head (no items to split); "
            "use memory_source='direct' or 'codes'."
        )
    if hasher.two_stage and not hasher.memory:
        raise ValueError(
            "two_stage=True adds the memory in its second stage, which needs memory=True; "
            "got memory=False."
        )
    if hasher.two_stage and (hasher.episodic or hasher.memory_source != "direct"):
        raise ValueError(
            "two_stage=True keeps the centroids of the stage-1 direct features fixed, which "
            "needs episodic=False and memory_source='direct'; got "
            f"episodic={hasher.episodic!r}, memory_source={hasher.memory_source!r}."
        )
    if hasher.two_stage and hasher.validation_fraction is not None:
        raise ValueError(
            "two_stage=True runs a fixed schedule of two stages, which early stopping would "
            "cut inside stage 1; use validation_fraction=None with it, got "
            f"validation_fraction={hasher.validation_fraction!r}."
        )
    if hasher.frequency_aware and not hasher.memory:
        raise ValueError(
            "frequency_aware=True is an input of the memory's selector, which needs "
            "memory=True; got memory=False."
        )


class _BaseDeepHasher(BaseCrossModalHasher, metaclass=ABCMeta):
    """Every parameter of the deep hashers, and their fitting and encoding.

    Not for direct use: the public classes choose the parameters they expose and pass the
    others up as fixed values (:class:`MetaCMHHasher` exposes all of them).
    """

    _parameter_constraints: dict = {
        **BaseCrossModalHasher._parameter_constraints,
        "image_hidden": ["array-like", Interval(Integral, 1, None, closed="left")],
        "text_hidden": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "memory": ["boolean"],
        "reachability": ["boolean"],
        "class_weight": [StrOptions({"balanced", "sqrt"}), None],
        "classification_weight": [Interval(Real, 0, None, closed="left")],
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
        "gamma": [Interval(Real, 0, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"adam", "sgd"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "schedule": [StrOptions({"constant", "linear", "cosine"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "similarity_scale": [Interval(Real, 0, None, closed="neither"), None],
        "n_sampled_columns": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # A CSR text block reaches the text network as it is: each mini-batch (and each encoding
    # chunk) becomes a torch sparse tensor that the first layer multiplies sparsely.
    _supports_sparse_text = True

    @abstractmethod
    def __init__(
        self,
        n_bits=32,
        n_image_features=None,
        *,
        image_hidden=(512,),
        text_hidden="auto",
        memory=True,
        reachability=False,
        class_weight="balanced",
        classification_weight=3.0,
        recall_weight=0.0,
        memory_source="direct",
        selector_init="zero",
        episodic=False,
        episode_length=None,
        query_fraction=0.5,
        frequency_aware=False,
        hallucinator_tau=0.0,
        two_stage=False,
        centre_weight=0.0,
        gamma=1.0,
        eta=1.0,
        optimizer="adam",
        learning_rate=1e-3,
        schedule="linear",
        weight_decay=0.0,
        max_epochs="auto",
        batch_size=128,
        validation_fraction=None,
        n_iter_no_change=10,
        similarity_scale=8.0,
        n_sampled_columns=1024,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.image_hidden = image_hidden
        self.text_hidden = text_hidden
        self.memory = memory
        self.reachability = reachability
        self.class_weight = class_weight
        self.classification_weight = classification_weight
        self.recall_weight = recall_weight
        self.memory_source = memory_source
        self.selector_init = selector_init
        self.episodic = episodic
        self.episode_length = episode_length
        self.query_fraction = query_fraction
        self.frequency_aware = frequency_aware
        self.hallucinator_tau = hallucinator_tau
        self.two_stage = two_stage
        self.centre_weight = centre_weight
        self.gamma = gamma
        self.eta = eta
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.similarity_scale = similarity_scale
        self.n_sampled_columns = n_sampled_columns
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def _all_params(self) -> dict:
        """Every parameter of the family, the ones a subclass fixes included.

        ``get_params`` lists only what the subclass's ``__init__`` exposes; the names here come
        from the same machinery (``_get_param_names``) applied to the base's signature.
        """
        return {name: getattr(self, name) for name in _BaseDeepHasher._get_param_names()}

    def _network_config(self, X_image, X_text, Y) -> dict:
        """The architecture: what ``module_config_`` records and a pickle rebuilds from."""
        uses_memory = bool(self.memory)
        return {
            "n_image_features": X_image.shape[1],
            "n_text_features": X_text.shape[1],
            "image_hidden": _check_hidden(self.image_hidden, "image_hidden"),
            "text_hidden": resolve_text_hidden(self.text_hidden, X_text.shape[1]),
            "n_bits": int(self.n_bits),
            "n_classes": Y.shape[1],
            "memory": uses_memory,
            "reachability": uses_memory and bool(self.reachability),
            "frequency_aware": uses_memory and bool(self.frequency_aware),
            "head": self.classification_weight > 0,
            # A sparse text block gets a row-sparse first layer (cost ~ a batch's non-zeros).
            "sparse_text": sp.issparse(X_text),
        }

    def _fit(self, X_image, X_text, Y):
        device = _resolve_device(self.device)
        needs_head = self.memory and self.memory_source == "classifier"
        if needs_head and not self.classification_weight > 0:
            raise ValueError(
                "memory_source='classifier' takes the memory's prototypes from the class "
                "head, which needs classification_weight > 0; got classification_weight="
                f"{self.classification_weight!r}."
            )
        _check_episode_options(self)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        # The pair sampler draws on the device, from its own stream: fits that do not sample
        # (n <= n_sampled_columns) draw exactly what they drew before sampling existed.
        sampler_generator = torch.Generator(device=device).manual_seed(seed + 1)
        config = self._network_config(X_image, X_text, Y)
        net = build_network(config, generator).to(device)
        if config["memory"] and self.selector_init == "zero":
            # After the random draws, so every other weight is as with "random".
            net.image.memory.zero_selector_()
            net.text.memory.zero_selector_()
        data = self._training_data(X_image, X_text, Y, device, generator)
        # "auto" is resolved once, on the items that are really trained on.
        max_epochs = resolve_max_epochs(self.max_epochs, data["Y"].shape[0], self.batch_size)
        if self.two_stage and max_epochs < 2:
            raise ValueError(
                f"two_stage=True needs max_epochs >= 2 (one epoch per stage); got {max_epochs}."
            )
        options = TrainingOptions.from_params({**self._all_params(), "max_epochs": max_epochs})
        centres = None
        if self.centre_weight > 0:
            # Their own stream: every other draw of the fit is what it was without centres.
            rng = np.random.default_rng(seed + 3)
            centres = torch.as_tensor(class_centres(Y.shape[1], int(self.n_bits), rng))
        trainer = Trainer(net, data, options, generator, sampler_generator, centres)
        self.history_ = trainer.fit()
        tau_normalise_hallucinators(net, self.hallucinator_tau)
        self.n_epochs_ = len(self.history_)
        self.best_epoch_ = trainer.best_epoch
        self.module_ = net.eval()
        self.module_config_ = config
        self.image_centroids_ = self._centroids(net.image)
        self.text_centroids_ = self._centroids(net.text)
        self.code_centres_ = None if centres is None else centres.numpy().astype(np.int8)
        return self

    def _training_data(self, X_image, X_text, Y, device, generator) -> dict:
        image, text = feature_rows(X_image, device), feature_rows(X_text, device)
        labels = torch.as_tensor(np.asarray(Y, dtype=np.float32), device=device)
        if self.validation_fraction is None:
            return {"image": image, "text": text, "Y": labels}
        n = Y.shape[0]
        n_valid = int(round(self.validation_fraction * n))
        if not 1 <= n_valid <= n - 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {n_valid} of {n} "
                "training items for validation; it needs at least 1 and must leave 2 to train."
            )
        order = torch.randperm(n, generator=generator).to(device)
        valid, train = order[:n_valid], order[n_valid:]
        return {
            "image": image.subset(train),
            "text": text.subset(train),
            "Y": labels[train],
            "valid": (image.subset(valid), text.subset(valid), labels[valid]),
        }

    @staticmethod
    def _centroids(net):
        if net.memory is None:
            return None
        return net.memory.centroids.detach().cpu().numpy().copy()

    # ------------------------------------------------------------------ encoding
    def _project(self, X, modality: str) -> np.ndarray:
        check_is_fitted(self, "module_")
        device = next(self.module_.parameters()).device
        self.module_.eval()
        out = forward_in_chunks(self.module_.modality(modality), feature_rows(X, device))
        return out.cpu().numpy().astype(np.float64)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = dict(super().__getstate__())
        if "module_" in state:
            # Torch state is saved as a CPU state dict plus the architecture, so the pickle
            # does not depend on the device it was fitted on.
            buffer = io.BytesIO()
            cpu_state = {k: v.detach().cpu() for k, v in self.module_.state_dict().items()}
            torch.save(cpu_state, buffer)
            state["module_"] = {"state_dict": buffer.getvalue()}
        return state

    def __setstate__(self, state):
        module_state = state.get("module_")
        if isinstance(module_state, dict):
            state = dict(state)
            state["module_"] = _load_module(state["module_config_"], module_state["state_dict"])
        super().__setstate__(state)


def _load_module(config: dict, raw: bytes):
    """Rebuild the network from its architecture and a saved state dict, on CPU."""
    net = build_network(config)
    state_dict = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    net.load_state_dict(state_dict)
    return net.eval()


@Substitution(**DEEP_DOCS)
class MetaCMHHasher(_BaseDeepHasher):
    """Meta cross-modal hashing for long-tailed data (MetaCMH).

    Each modality is mapped by an MLP to a direct feature; an associative memory of class
    centroids adds a memory feature, weighted per dimension by a selector, to give the meta
    feature whose signs are the code. Both networks are trained with DCMH's pairwise
    negative log-likelihood, quantisation and bit-balance terms, alternating between the
    modalities. The memory is meant to help rare (tail) classes, whose direct features are
    learned from few samples; the Notes say where it did and did not in our measurements.

    Inputs are feature vectors; standardised features are expected (put a
    ``StandardScaler`` or a ``ColumnTransformer`` in a ``Pipeline`` before the hasher). A
    sparse (CSR) text block, such as the output of a ``TfidfVectorizer``, is used as it is:
    each mini-batch reaches the text network as a sparse tensor, so the whole block is never
    densified. Training scores each mini-batch against a class-stratified sample of
    ``n_sampled_columns`` items of the other modality, so an epoch costs time linear in the
    number of training items.

    Parameters
    ----------
    {n_bits}
    {n_image_features}
    {image_hidden}
    {text_hidden}
    memory : bool, default=True
        Use the associative memory. ``False`` gives DCMH (see :class:`DCMHHasher`). The
        centroids are refreshed once per epoch from the direct features computed during that
        epoch's mini-batches (no extra forward pass).
    reachability : bool, default=False
        Scale the meta feature by OLTR's reachability ``1 / min_k ||f - m_k||`` (normalised to
        mean one over the training set).
    class_weight : {"balanced", "sqrt"} or None, default="balanced"
        Class-balanced weighting of the pairwise likelihood (pair weight ``w_i w_j``) and of
        the classification term: ``"balanced"`` weighs an item by ``1 / n_k`` of its class,
        ``"sqrt"`` by ``1 / sqrt(n_k)``. ``None`` is the faithful, unweighted objective.
    classification_weight : float, default=3.0
        Weight of a class-balanced cross-entropy of a linear class head (shared by both
        modalities) on ``tanh`` of the meta feature, as in LTHNet. ``0`` switches it off.
    recall_weight : float, default=0.0
        Weight of a class-balanced cross-entropy on the hallucinator's logits, which teaches
        the memory to recall an item's own classes. ``0`` leaves the hallucinator to the
        end-to-end gradient, as in OLTR.
    memory_source : {"direct", "codes", "classifier"}, default="direct"
        What the centroids average: the direct features of the modality (the method), or the
        shared binary codes ``B = sign(F + G)``, so that both memories hold the same
        cross-modal class prototypes. ``"classifier"`` uses the weight rows of the class head
        (rescaled to the direct features' norm, refreshed each epoch) as the prototypes of
        both memories: they are learned with the class-balanced loss, so a class with one
        training item gets a prototype as well placed as a head class, where its centroid
        would be one noisy feature; it needs ``classification_weight > 0``.
    selector_init : {"zero", "random"}, default="zero"
        Initialisation of the selector ``e = tanh(W_sel f + b_sel)``. ``"zero"`` starts with
        ``e = 0``, i.e. with the memory switched off, and lets training mix it in (the
        selector's gradient at zero is not zero); ``"random"`` is torch's default
        initialisation, as in the method. ``"zero"`` is the default because it never lost
        in our measurements and avoids the harm a random selector did on Fashion-MNIST
        (see the Notes).
    episodic : bool, default=False
        Episodic (meta) training of the memory, as in prototypical networks: each episode
        splits the training items into a support part, whose items alone make the centroids,
        and a query part, whose loss alone trains the selector and the hallucinator, so the
        memory learns to help items it does not contain (as a test query is). Each class with
        two or more items keeps one in the support part; rarer classes send a larger share of
        their items to the query part. Every item is still trained in every epoch; the
        centroids used for encoding average all training items. Needs ``memory=True`` and
        ``memory_source`` ``"direct"`` or ``"codes"``. See :ref:`memory_episodic`.
    episode_length : int or None, default=None
        Mini-batches per episode (counted over both modalities); ``None``: one episode per
        epoch.
    query_fraction : float in (0, 1), default=0.5
        Share of the most frequent class's items in an episode's query part; class ``k``
        keeps ``(1 - query_fraction) * sqrt(n_k / n_max)`` of its items as support.
    frequency_aware : bool, default=False
        Give the selector the recalled classes' expected log training frequency
        ``softmax(W_hal f) . log(n_k / n_max)`` as one more input (its weight starts at
        zero), so that it can learn to lean on the memory for rare classes.
    hallucinator_tau : float >= 0, default=0.0
        After training, rebalance the hallucinator as Kang et al.'s tau-normalised classifier:
        ``w_k <- w_k / ||w_k||^tau``, rescaled to the trained mean row norm, bias dropped;
        ``0`` changes nothing.
    two_stage : bool, default=False
        Decoupled training (OLTR; Kang et al.): the first half of the epochs without the
        memory, then centroids from that network, kept fixed, and the second half with the
        memory on class-aware mini-batches. Needs ``memory=True``. See :ref:`memory_regimes`.
    centre_weight : float >= 0, default=0.0
        Weight of a code-side memory: each class gets a binary centre (Hadamard rows, or
        Bernoulli bits when there are more than ``2 * n_bits`` classes), and a class-balanced
        cross-entropy pulls each item's output towards its labels' centre (central
        similarity hashing; LTHNet). ``0`` switches it off. See :ref:`memory_regimes`.
    {gamma}
    {eta}
    {optimizer}
    {learning_rate}
    {schedule}
    {weight_decay}
    {max_epochs}
    {batch_size}
    {validation_fraction}
    {n_iter_no_change}
    similarity_scale : float or None, default=8.0
        The pairwise likelihood's logit is ``Theta_ij = similarity_scale * cos(f_i, g_j)``,
        and the bit-balance term sees the outputs scaled to unit norm; at the codes this is
        DLFH's ``(similarity_scale / n_bits) b_i^T b_j``. ``None`` is DCMH's ``Theta_ij =
        0.5 f_i^T g_j`` on the raw outputs, whose scale grows with ``n_bits`` and with the
        outputs' norm (which the likelihood rewards), so that the same learning rate that
        suits 240 features and 32 bits diverges on 1,000 features or 64 bits. See
        :ref:`tuning_scale`.
    {n_sampled_columns}
    {device}
    {random_state}
    {verbose}

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted network (``module_.image``, ``module_.text``, ``module_.classifier``).
    history_ : list of dict
        Per epoch: ``epoch``, ``loss``, ``likelihood``, ``quantization``, ``balance``,
        ``classification``, ``learning_rate``, ``duration`` (seconds) and ``valid_score``
        when early stopping is on.
    n_epochs_ : int
        Epochs actually run.
    best_epoch_ : int
        The epoch whose weights ``module_`` holds: the best validation epoch with early
        stopping, else the last epoch.
    image_centroids_, text_centroids_ : ndarray of shape (n_classes, n_bits) or None
        The class centroids of the memories (``None`` without memory).
    database_codes_, database_labels_, classes_, multilabel_, n_features_in_ : see
        :class:`~skmetacmh.BaseCrossModalHasher`.

    See Also
    --------
    DCMHHasher : The same network and objective without the memory.

    Notes
    -----
    The defaults were chosen by measurement on long-tailed data (UCI Multiple Features and
    Fashion-MNIST halves, imbalance factor 50 to 200): the class-balanced pair weights
    together with the class head are what lift the tail classes; the memory itself was
    neutral on UCI, and with ``selector_init="zero"`` (the default) it helped on
    Fashion-MNIST where a random selector hurt. ``similarity_scale`` keeps the likelihood's
    logit bounded, so that the default learning rate holds on wide inputs and long codes,
    where DCMH's unscaled inner product made the outputs and the balance term blow up
    (:ref:`tuning_scale`); ``n_sampled_columns`` makes an epoch linear in the number of
    training items without changing fits of up to that many items (:ref:`tuning_sampling`).
    The two ``"auto"`` defaults only act on large or wide data: ``max_epochs`` keeps 50
    epochs up to about 52,000 training items and then caps the updates, and ``text_hidden``
    narrows the first text layer above 10,000 text features; together they bring a fit on
    200,000 items with a 20,000-word TF-IDF block within 20 minutes on one core
    (:ref:`tuning_at_scale`). Every data set the other defaults were measured on keeps the
    same network and epochs, and so the same codes.
    The measurements, their commands and what to tune first are on the user guide page
    :ref:`tuning`.

    What the memory does and does not do, measured against ``memory=False`` (the same class head
    and pair weights) seed by seed, on long-tailed UCI, Fashion-MNIST halves, a few-shot tail
    with 1, 2 or 5 items per tail class, and a synthetic multi-label set (5 seeds, 32 bits,
    :ref:`memory_episodic`): with the defaults it moves mAP by at most 0.006 overall and 0.023
    on the tail. This includes Fashion-MNIST: the gain there quoted above was measured with
    earlier defaults, under which the memory-free model reached 0.395 overall at imbalance
    factor 50, against 0.581 now. It gives a small, fairly consistent gain on the medium classes
    of UCI and loses a little on the 1- and 2-shot tail. Under the default objective the
    hallucinator recalls a query's own class no more often than chance, so the memory acts as a
    learned, input-gated offset rather than as a class memory. Training it to recall
    (``recall_weight``) lowers mAP. None of ``episodic``, ``frequency_aware`` or
    ``hallucinator_tau`` reached the bar set for a new default (a tail gain of +0.03 on 4 of 5
    seeds on two datasets), so they are off by default.

    References
    ----------
    R. Wang, G. Yu, C. Domeniconi, X. Zhang. "Meta Cross-Modal Hashing on Long-Tailed Data".
    arXiv:2111.04086, 2021.

    Z. Liu et al. "Large-Scale Long-Tailed Recognition in an Open World". CVPR 2019.

    Y. Chen et al. "Long-Tail Hashing". SIGIR 2021.

    Q.-Y. Jiang, W.-J. Li. "Discrete Latent Factor Model for Cross-Modal Hashing". IEEE TIP
    28(7), 2019 (the scaled logit and the sampled columns).

    Q.-Y. Jiang, W.-J. Li. "Asymmetric Deep Supervised Hashing". AAAI 2018 (scoring a
    mini-batch against sampled database items).

    J. Snell, K. Swersky, R. Zemel. "Prototypical Networks for Few-shot Learning". NeurIPS
    2017 (the support/query episodes of ``episodic``).

    B. Kang et al. "Decoupling Representation and Classifier for Long-Tailed Recognition".
    ICLR 2020 (the tau-normalised classifier of ``hallucinator_tau``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh import MetaCMHHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 60)
    >>> X = np.hstack([np.eye(3)[y] + 0.1 * rng.standard_normal((60, 3)),
    ...                np.eye(3)[y] + 0.1 * rng.standard_normal((60, 3))])
    >>> h = MetaCMHHasher(n_bits=8, n_image_features=3, max_epochs=5, random_state=0)
    >>> h.fit(X, y).encode(X[:2, :3], modality="image").shape
    (2, 8)
    """

    def __init__(
        self,
        n_bits=32,
        n_image_features=None,
        *,
        image_hidden=(512,),
        text_hidden="auto",
        memory=True,
        reachability=False,
        class_weight="balanced",
        classification_weight=3.0,
        recall_weight=0.0,
        memory_source="direct",
        selector_init="zero",
        episodic=False,
        episode_length=None,
        query_fraction=0.5,
        frequency_aware=False,
        hallucinator_tau=0.0,
        two_stage=False,
        centre_weight=0.0,
        gamma=1.0,
        eta=1.0,
        optimizer="adam",
        learning_rate=1e-3,
        schedule="linear",
        weight_decay=0.0,
        max_epochs="auto",
        batch_size=128,
        validation_fraction=None,
        n_iter_no_change=10,
        similarity_scale=8.0,
        n_sampled_columns=1024,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_bits=n_bits,
            n_image_features=n_image_features,
            image_hidden=image_hidden,
            text_hidden=text_hidden,
            memory=memory,
            reachability=reachability,
            class_weight=class_weight,
            classification_weight=classification_weight,
            recall_weight=recall_weight,
            memory_source=memory_source,
            selector_init=selector_init,
            episodic=episodic,
            episode_length=episode_length,
            query_fraction=query_fraction,
            frequency_aware=frequency_aware,
            hallucinator_tau=hallucinator_tau,
            two_stage=two_stage,
            centre_weight=centre_weight,
            gamma=gamma,
            eta=eta,
            optimizer=optimizer,
            learning_rate=learning_rate,
            schedule=schedule,
            weight_decay=weight_decay,
            max_epochs=max_epochs,
            batch_size=batch_size,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            similarity_scale=similarity_scale,
            n_sampled_columns=n_sampled_columns,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )


@Substitution(**DEEP_DOCS)
class DCMHHasher(_BaseDeepHasher):
    """Deep cross-modal hashing (DCMH): MetaCMH without the associative memory.

    Per-modality MLPs trained end to end with a pairwise negative log-likelihood of the
    cross-modal label similarity, a quantisation term and a bit-balance term, alternating
    between the modalities against the other side's output buffer; ``B = sign(F + G)``.
    This package takes feature vectors for both modalities, so the image CNN of the paper
    is an MLP here. By default the objective is the paper's (no class weighting, no class
    head); both extensions of :class:`MetaCMHHasher` are available as options.

    Parameters
    ----------
    {n_bits}
    {n_image_features}
    {image_hidden}
    {text_hidden}
    class_weight : {"balanced", "sqrt"} or None, default=None
        Class-balanced pair weighting (off: the paper's objective).
    classification_weight : float, default=0.0
        Weight of a class head on the features (off: the paper's objective).
    {gamma}
    {eta}
    {optimizer}
    {learning_rate}
    {schedule}
    {weight_decay}
    {max_epochs}
    {batch_size}
    {validation_fraction}
    {n_iter_no_change}
    similarity_scale : float or None, default=None
        ``None`` is the paper's ``Theta = 0.5 F G^T``; a float uses MetaCMH's scaled cosine
        (see :class:`MetaCMHHasher`), which keeps one learning rate good across input widths
        and code lengths.
    {n_sampled_columns}
    {device}
    {random_state}
    {verbose}

    Attributes
    ----------
    module_, history_, n_epochs_, best_epoch_ : as in :class:`MetaCMHHasher`.

    See Also
    --------
    MetaCMHHasher : Adds the class-centroid memory for long-tailed data.

    References
    ----------
    Q.-Y. Jiang, W.-J. Li. "Deep Cross-Modal Hashing". CVPR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh import DCMHHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 60)
    >>> X = np.hstack([np.eye(3)[y] + 0.1 * rng.standard_normal((60, 3)),
    ...                np.eye(3)[y] + 0.1 * rng.standard_normal((60, 3))])
    >>> DCMHHasher(n_bits=8, n_image_features=3, max_epochs=5, random_state=0).fit(X, y)
    DCMHHasher(...)
    """

    _parameter_constraints: dict = {**_BaseDeepHasher._parameter_constraints}
    for param in ("memory", "reachability", "recall_weight", "memory_source", "selector_init"):
        _parameter_constraints.pop(param)
    for param in (
        "episodic",
        "episode_length",
        "query_fraction",
        "frequency_aware",
        "hallucinator_tau",
        "two_stage",
        "centre_weight",
    ):
        _parameter_constraints.pop(param)

    def __init__(
        self,
        n_bits=32,
        n_image_features=None,
        *,
        image_hidden=(512,),
        text_hidden="auto",
        class_weight=None,
        classification_weight=0.0,
        gamma=1.0,
        eta=1.0,
        optimizer="adam",
        learning_rate=1e-3,
        schedule="linear",
        weight_decay=0.0,
        max_epochs="auto",
        batch_size=128,
        validation_fraction=None,
        n_iter_no_change=10,
        similarity_scale=None,
        n_sampled_columns=1024,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_bits=n_bits,
            n_image_features=n_image_features,
            image_hidden=image_hidden,
            text_hidden=text_hidden,
            memory=False,
            reachability=False,
            class_weight=class_weight,
            classification_weight=classification_weight,
            recall_weight=0.0,
            memory_source="direct",
            selector_init="zero",
            episodic=False,
            episode_length=None,
            query_fraction=0.5,
            frequency_aware=False,
            hallucinator_tau=0.0,
            two_stage=False,
            centre_weight=0.0,
            gamma=gamma,
            eta=eta,
            optimizer=optimizer,
            learning_rate=learning_rate,
            schedule=schedule,
            weight_decay=weight_decay,
            max_epochs=max_epochs,
            batch_size=batch_size,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            similarity_scale=similarity_scale,
            n_sampled_columns=n_sampled_columns,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
