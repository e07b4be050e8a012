"""Parameter text shared by the docstrings of the deep hashers.

``MetaCMHHasher`` and ``DCMHHasher`` fill their ``{name}`` placeholders with these through the
package's :class:`~skmetacmh._docstring.Substitution`, so that each parameter they share is
written once and documented, with its type and default, in both. ``{inputs}``,
``{training}`` and ``{running}`` stand for the runs of parameters both list in the same order.
"""

from __future__ import annotations

__all__ = ["DEEP_DOCS"]


# Each entry continues at the indentation of a numpydoc section inside a class docstring.
DEEP_DOCS = {
    "n_bits": """n_bits : int, default=32
        Code length per modality.""",
    "n_image_features": """n_image_features : int, default=None
        How many leading columns of ``X`` are the image modality; the rest are text.""",
    "image_hidden": """image_hidden : tuple of int, default=(512,)
        Hidden layer widths of the image modality's direct-feature MLP; ``()`` gives a linear
        map.""",
    "text_hidden": """text_hidden : tuple of int or "auto", default="auto"
        The same for the text modality. ``"auto"`` is ``(512,)`` for up to 10,000 text
        features, ``(256,)`` up to 25,000 and ``(128,)`` beyond: on a wide (TF-IDF) text
        block the first layer is most of the cost of an epoch, in proportion to its width
        (:ref:`tuning_at_scale`). ``module_config_["text_hidden"]`` holds the widths used.""",
    "gamma": """gamma : float, default=1.0
        Weight of the quantisation term ``||B - F||^2 + ||B - G||^2``.""",
    "eta": """eta : float, default=1.0
        Weight of the bit-balance term ``||F^T 1||^2 + ||G^T 1||^2``.""",
    "optimizer": """optimizer : {"adam", "sgd"}, default="adam"
        ``"sgd"`` uses momentum 0.9.""",
    "learning_rate": """learning_rate : float, default=1e-3
        Initial learning rate. A loss that becomes NaN means it is too large.""",
    "schedule": """schedule : {"constant", "linear", "cosine"}, default="linear"
        Learning-rate schedule over ``max_epochs`` (``"linear"`` falls to a tenth).""",
    "weight_decay": """weight_decay : float, default=0.0
        L2 penalty of the optimizer.""",
    "max_epochs": """max_epochs : int or "auto", default="auto"
        Number of passes over the training set (each updates both modalities). ``"auto"`` is
        50, or fewer on a large training set: ``ceil(20000 / n_batches)`` epochs, where
        ``n_batches = ceil(n_train / batch_size)``, caps the mini-batch updates per modality
        near 20,000, so sets of up to 52,224 items (at ``batch_size=128``) keep 50 epochs and
        200,000 items get 13 (:ref:`tuning_at_scale`). ``n_epochs_`` is the number run.""",
    "batch_size": """batch_size : int, default=128
        Items per mini-batch of each modality's pass.""",
    "validation_fraction": """validation_fraction : float or None, default=None
        Hold out this fraction of the training set and stop when its cross-modal mAP has not
        improved for ``n_iter_no_change`` epochs; the best epoch's weights are kept.""",
    "n_iter_no_change": """n_iter_no_change : int, default=10
        Epochs without a better validation mAP before early stopping (with
        ``validation_fraction``).""",
    "n_sampled_columns": """n_sampled_columns : int or None, default=1024
        Score each mini-batch against this many items of the other modality instead of all
        ``n``: a sample stratified by class (every class with training items is in every
        sample) and importance-weighted, so that the sampled likelihood is an unbiased
        estimate of the full one (the sampled columns of DLFH and ADSH); an epoch costs
        ``O(n * n_sampled_columns * n_bits)`` instead of ``O(n^2 n_bits)``. With at most this
        many training items, or ``None``, every item is used (DCMH's full pairwise term).""",
    "device": """device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``..., ``"mps"`` or ``"auto"`` (CUDA when there is
        one, else CPU); a device this machine lacks, or another name, is an error.""",
    "n_jobs": """n_jobs : int, default=None
        Threads of torch's intra-op pool (and of BLAS and OpenMP) during ``fit``, ``encode``,
        ``transform`` and ``score``; the caller's settings are restored afterwards. ``None``
        means 1 unless in a :func:`joblib.parallel_config` context, ``-1`` all cores (capped
        by ``OMP_NUM_THREADS`` where joblib sets it in its workers). One thread is the
        default because mini-batches of 128 items are too small to share out: more threads
        did not speed fits up, and on a busy machine they slowed them down several times
        (:ref:`performance`). The codes do not depend on it. GPU use is ``device``.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seeds initialisation and shuffling through a private ``torch.Generator``; the same
        value gives bit-identical codes on CPU.""",
    "verbose": """verbose : int, default=0
        Print one line per epoch with the loss and its parts.""",
}

# The runs of parameters that both deep hashers list in the same order, each one placeholder.
_GROUPS = {
    "inputs": ("n_bits", "n_image_features", "image_hidden", "text_hidden"),
    "training": (
        "gamma",
        "eta",
        "optimizer",
        "learning_rate",
        "schedule",
        "weight_decay",
        "max_epochs",
        "batch_size",
        "validation_fraction",
        "n_iter_no_change",
    ),
    "running": ("n_sampled_columns", "device", "n_jobs", "random_state", "verbose"),
}
DEEP_DOCS.update(
    {group: "\n    ".join(DEEP_DOCS[n] for n in names) for group, names in _GROUPS.items()}
)
