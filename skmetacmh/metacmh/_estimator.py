"""MetaCMHHasher and DCMHHasher: the scikit-learn face of the torch backend.

``_BaseDeepHasher`` holds the fitting code; ``MetaCMHHasher`` writes the family's one full
signature. ``DCMHHasher`` takes that signature less ``memory``, which it fixes at ``False`` in
``_fixed_params`` (as scikit-learn's ``PLSRegression`` passes fixed values up to ``_PLS``), and
with the paper's objective as its defaults (``_signature.derived_init``).

The torch module is built at fit time from the parameters (as skorch does), so ``clone``,
``set_params`` and grid search work; the fitted module is learned state (``module_``). A
pickled hasher holds the module's state dict on CPU plus its architecture, so a model fitted
on a GPU loads on a machine without one.
"""

from __future__ import annotations

import io
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import BaseCrossModalHasher
from .._docstring import Substitution
from .._threads import N_JOBS_CONSTRAINTS
from ._decoupling import tau_normalise_hallucinators
from ._docstring import derived_parameters
from ._features import feature_rows
from ._network import build_network
from ._plan import FitPlan, resolve_fit
from ._signature import derived_init
from ._training import Trainer, forward_in_chunks

__all__ = ["MetaCMHHasher", "DCMHHasher"]


class _BaseDeepHasher(BaseCrossModalHasher):
    """The fitting and encoding of the deep hashers; the public classes hold the parameters.

    Not for direct use. :class:`MetaCMHHasher` has the full public signature; a subclass that
    fixes some of its parameters derives its ``__init__`` from it without them and holds the
    fixed values in ``_fixed_params``. Fitting reads the parameters once, through
    :func:`~._plan.resolve_fit`.
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
        "class_weight": [StrOptions({"balanced", "sqrt"}), None],
        "classification_weight": [Interval(Real, 0, None, closed="left")],
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
        "n_jobs": N_JOBS_CONSTRAINTS,
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Parameters a subclass does not expose, and the values it fixes them at.
    _fixed_params: dict = {}

    # A CSR text block reaches the text network as it is: each mini-batch (and each encoding
    # chunk) becomes a torch sparse tensor that the first layer multiplies sparsely.
    _supports_sparse_text = True

    # ------------------------------------------------------------------ fitting
    def _resolve(self, X_image, X_text, Y) -> FitPlan:
        """This fit's plan: the parameters (fixed ones included), checked and resolved."""
        params = {**self.get_params(deep=False), **self._fixed_params}
        return resolve_fit(params, X_image, X_text, Y)

    def _fit(self, X_image, X_text, Y):
        plan = self._resolve(X_image, X_text, Y)
        generator = torch.Generator().manual_seed(plan.streams.init)
        # The pair sampler draws on the device, from its own stream: fits that do not sample
        # (n <= n_sampled_columns) draw exactly what they drew before sampling existed.
        sampler_generator = torch.Generator(device=plan.device).manual_seed(plan.streams.sampler)
        net = build_network(plan.network, generator).to(plan.device)
        if plan.network.memory and plan.selector_init == "zero":
            # After the random draws, so every other weight is as with "random".
            net.image.memory.zero_selector_()
            net.text.memory.zero_selector_()
        data, train_rows = _training_data(X_image, X_text, Y, plan, generator)
        centres = None if plan.centres is None else torch.as_tensor(plan.centres)
        trainer = Trainer(
            net,
            data,
            plan.training,
            generator,
            sampler_generator,
            centres,
            episode_rng=np.random.default_rng(plan.streams.episodes),
        )
        self.history_ = trainer.fit()
        tau_normalise_hallucinators(net, plan.hallucinator_tau)
        self.n_epochs_ = len(self.history_)
        self.best_epoch_ = trainer.best_epoch
        self.module_ = net.eval()
        # A dict of plain values, so that a pickle does not depend on the spec's class.
        self.module_config_ = plan.network.as_config()
        self.image_centroids_ = self._centroids(net.image)
        self.text_centroids_ = self._centroids(net.text)
        if plan.centres is not None:
            self.code_centres_ = plan.centres
        # B | B (image bits, then text bits), rows in the order of the items trained on.
        codes = (trainer.codes > 0).cpu().numpy().astype(np.uint8)
        order = np.argsort(train_rows, kind="stable")
        self.training_codes_ = np.hstack([codes[order], codes[order]])
        return self

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


def _training_data(X_image, X_text, Y, plan: FitPlan, generator):
    """The training rows on the device, the held-out ones for early stopping, and which rows
    of ``X`` were trained on."""
    image, text = feature_rows(X_image, plan.device), feature_rows(X_text, plan.device)
    labels = torch.as_tensor(np.asarray(Y, dtype=np.float32), device=plan.device)
    n = Y.shape[0]
    if not plan.n_valid:
        return {"image": image, "text": text, "Y": labels}, np.arange(n)
    order = torch.randperm(n, generator=generator).to(plan.device)
    valid, train = order[: plan.n_valid], order[plan.n_valid :]
    data = {
        "image": image.subset(train),
        "text": text.subset(train),
        "Y": labels[train],
        "valid": (image.subset(valid), text.subset(valid), labels[valid]),
    }
    return data, train.cpu().numpy()


def _load_module(config: dict, raw: bytes):
    """Rebuild the network from its architecture and a saved state dict, on CPU."""
    net = build_network(config)
    state_dict = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    net.load_state_dict(state_dict)
    return net.eval()


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
    n_bits : int, default=32
        Code length per modality.
    n_image_features : int, default=None
        How many leading columns of ``X`` are the image modality; the rest are text.
    image_hidden : tuple of int, default=(512,)
        Hidden layer widths of the image modality's direct-feature MLP; ``()`` gives a linear
        map.
    text_hidden : tuple of int or "auto", default="auto"
        The same for the text modality. ``"auto"`` is ``(512,)`` for up to 10,000 text
        features, ``(256,)`` up to 25,000 and ``(128,)`` beyond: on a wide (TF-IDF) text
        block the first layer is most of the cost of an epoch, in proportion to its width
        (:ref:`tuning_at_scale`). ``module_config_["text_hidden"]`` holds the widths used.
    memory : bool, default=True
        Use the associative memory. ``False`` gives DCMH (see :class:`DCMHHasher`). The
        centroids are refreshed once per epoch from the direct features computed during that
        epoch's mini-batches (no extra forward pass).
    class_weight : {"balanced", "sqrt"} or None, default="balanced"
        Class-balanced weighting of the pairwise likelihood (pair weight ``w_i w_j``) and of
        the classification term: ``"balanced"`` weighs an item by ``1 / n_k`` of its class,
        ``"sqrt"`` by ``1 / sqrt(n_k)``. ``None`` is the faithful, unweighted objective.
    classification_weight : float, default=3.0
        Weight of a class-balanced cross-entropy of a linear class head (shared by both
        modalities) on ``tanh`` of the meta feature, as in LTHNet. ``0`` switches it off.
    gamma : float, default=1.0
        Weight of the quantisation term ``||B - F||^2 + ||B - G||^2``.
    eta : float, default=1.0
        Weight of the bit-balance term ``||F^T 1||^2 + ||G^T 1||^2``.
    optimizer : {"adam", "sgd"}, default="adam"
        ``"sgd"`` uses momentum 0.9.
    learning_rate : float, default=1e-3
        Initial learning rate. A loss that becomes NaN means it is too large.
    schedule : {"constant", "linear", "cosine"}, default="linear"
        Learning-rate schedule over ``max_epochs`` (``"linear"`` falls to a tenth).
    weight_decay : float, default=0.0
        L2 penalty of the optimizer.
    max_epochs : int or "auto", default="auto"
        Number of passes over the training set (each updates both modalities). ``"auto"`` is
        50, or fewer on a large training set: ``ceil(20000 / n_batches)`` epochs, where
        ``n_batches = ceil(n_train / batch_size)``, caps the mini-batch updates per modality
        near 20,000, so sets of up to 52,224 items (at ``batch_size=128``) keep 50 epochs and
        200,000 items get 13 (:ref:`tuning_at_scale`). ``n_epochs_`` is the number run.
    batch_size : int, default=128
        Items per mini-batch of each modality's pass.
    validation_fraction : float or None, default=None
        Hold out this fraction of the training set and stop when its cross-modal mAP has not
        improved for ``n_iter_no_change`` epochs; the best epoch's weights are kept.
    n_iter_no_change : int, default=10
        Epochs without a better validation mAP before early stopping (with
        ``validation_fraction``).
    similarity_scale : float or None, default=8.0
        The pairwise likelihood's logit is ``Theta_ij = similarity_scale * cos(f_i, g_j)``,
        and the bit-balance term sees the outputs scaled to unit norm; at the codes this is
        DLFH's ``(similarity_scale / n_bits) b_i^T b_j``. ``None`` is DCMH's ``Theta_ij =
        0.5 f_i^T g_j`` on the raw outputs, whose scale grows with ``n_bits`` and with the
        outputs' norm (which the likelihood rewards), so that the same learning rate that
        suits 240 features and 32 bits diverges on 1,000 features or 64 bits. See
        :ref:`tuning_scale`.
    n_sampled_columns : int or None, default=1024
        Score each mini-batch against this many items of the other modality instead of all
        ``n``: a sample stratified by class (every class with training items is in every
        sample) and importance-weighted, so that the sampled likelihood is an unbiased
        estimate of the full one (the sampled columns of DLFH and ADSH); an epoch costs
        ``O(n * n_sampled_columns * n_bits)`` instead of ``O(n^2 n_bits)``. With at most this
        many training items, or ``None``, every item is used (DCMH's full pairwise term).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``..., ``"mps"`` or ``"auto"`` (CUDA when there is
        one, else CPU); a device this machine lacks, or another name, is an error.
    n_jobs : int, default=None
        Threads of torch's intra-op pool (and of BLAS and OpenMP) during ``fit``, ``encode``,
        ``transform`` and ``score``; the caller's settings are restored afterwards. ``None``
        means 1 unless in a :func:`joblib.parallel_config` context, ``-1`` all cores (capped
        by ``OMP_NUM_THREADS`` where joblib sets it in its workers). One thread is the
        default because mini-batches of 128 items are too small to share out: more threads
        did not speed fits up, and on a busy machine they slowed them down several times
        (:ref:`performance`). The codes do not depend on it. GPU use is ``device``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and shuffling through a private ``torch.Generator``; the same
        value gives bit-identical codes on CPU.
    verbose : int, default=0
        Print one line per epoch with the loss and its parts.

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
    training_codes_ : ndarray of shape (n_train, 2 * n_bits), dtype uint8
        The codes learned for the training items, ``B = sign(F + G)`` of the last epoch, as
        ``B | B`` (image bits, then text bits: the layout of ``database_codes_``), rows in
        the order of ``X``; with ``validation_fraction`` the held-out rows are left out.
    database_codes_, database_labels_, classes_, multilabel_, n_features_in_ : see
        :class:`~skmetacmh.BaseCrossModalHasher`.

    See Also
    --------
    DCMHHasher : The same network and objective without the memory.

    Notes
    -----
    The defaults were chosen by measurement on long-tailed data (:ref:`tuning`): the
    class-balanced pairs with the class head lift the tail, ``similarity_scale`` keeps one
    learning rate across widths and code lengths, ``n_sampled_columns`` makes an epoch linear
    in the training items, and the ``"auto"`` values act only on large or wide data. The
    memory, against ``memory=False`` seed by seed at 32 bits (:ref:`memory_regimes`), stays
    within 0.01 overall and on the strict tail on UCI and Fashion-MNIST halves at imbalance
    factor 100 and on 80 multi-label classes. On 80 single-label classes at imbalance factor
    100 (tails of 2 to 9 items) it gains +0.013 overall and +0.042 on the head, but loses 0.024
    on the tail, on each of 5 seeds; on folded (nonlinear) features of those classes it gains
    +0.024 overall and is level on the tail. It did not help the tail anywhere we measured, and
    none of the options built to make it do so (two-stage training, a code-side memory,
    episodes) earned a default.

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
        class_weight="balanced",
        classification_weight=3.0,
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
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.n_bits = n_bits
        self.n_image_features = n_image_features
        self.image_hidden = image_hidden
        self.text_hidden = text_hidden
        self.memory = memory
        self.class_weight = class_weight
        self.classification_weight = classification_weight
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose


# DCMH is MetaCMH without the memory, and by default with the paper's objective: no class
# weighting, no class head, the unscaled inner product.
_DCMH_FIXED = {"memory": False}
_DCMH_DEFAULTS = {"class_weight": None, "classification_weight": 0.0, "similarity_scale": None}
# The docs of the parameters whose default DCMH changes; the rest are MetaCMH's.
_DCMH_DOCS = {
    "class_weight": """class_weight : {"balanced", "sqrt"} or None, default=None
        Class-balanced pair weighting (off: the paper's objective).""",
    "classification_weight": """classification_weight : float, default=0.0
        Weight of a class head on the features (off: the paper's objective).""",
    "similarity_scale": """similarity_scale : float or None, default=None
        ``None`` is the paper's ``Theta = 0.5 F G^T``; a float uses MetaCMH's scaled cosine
        (see :class:`MetaCMHHasher`), which keeps one learning rate good across input widths
        and code lengths.""",
}


@Substitution(
    parameters=derived_parameters(MetaCMHHasher, drop=tuple(_DCMH_FIXED), override=_DCMH_DOCS)
)
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
    {parameters}

    Attributes
    ----------
    module_, history_, n_epochs_, best_epoch_, training_codes_ : as in :class:`MetaCMHHasher`.

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

    _fixed_params: dict = _DCMH_FIXED
    _parameter_constraints: dict = {
        k: v for k, v in _BaseDeepHasher._parameter_constraints.items() if k not in _DCMH_FIXED
    }

    # MetaCMH's signature less the fixed ``memory``, with the paper's objective as default.
    __init__ = derived_init(MetaCMHHasher, drop=tuple(_DCMH_FIXED), defaults=_DCMH_DEFAULTS)
