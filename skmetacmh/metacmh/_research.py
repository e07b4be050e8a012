"""MetaCMH with its research options as parameters, for the benchmarks and the studies.

The options of :class:`~._plan.ResearchOptions` were measured and did not earn a default
(docs/studies/memory.rst), so :class:`~skmetacmh.MetaCMHHasher` does not expose them.
:class:`ResearchMetaCMHHasher` is the same hasher with them added to its signature, so that
``benchmarks/bench_memory.py`` and ``benchmarks/bench_metacmh.py`` can set them, clone and
grid-search them; its defaults are :class:`~._plan.ResearchOptions`'s, so with none set it
fits exactly what ``MetaCMHHasher`` fits.
"""

from __future__ import annotations

import dataclasses

from .._docstring import Substitution
from ._docstring import parameter_entries
from ._estimator import MetaCMHHasher
from ._plan import RESEARCH_CONSTRAINTS, ResearchOptions
from ._signature import derived_init

__all__ = ["ResearchMetaCMHHasher"]

# Documented here as in MetaCMH; the other parameters by reference.
_POSITIONAL = ("n_bits", "n_image_features")


@Substitution(
    **{k: v for k, v in parameter_entries(MetaCMHHasher.__doc__).items() if k in _POSITIONAL}
)
class ResearchMetaCMHHasher(MetaCMHHasher):
    """MetaCMH with the research options of the memory studies (not public API).

    Parameters
    ----------
    {n_bits}
    {n_image_features}
    **params
        Every parameter of :class:`~skmetacmh.MetaCMHHasher`, and the research options:

        reachability : bool, default=False
            Scale the meta feature by OLTR's reachability ``1 / min_k ||f - m_k||`` (normalised to
            mean one over the training set).
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

    Attributes
    ----------
    code_centres_ : ndarray of shape (n_classes, n_bits), dtype int8
        The code-side memory's class centres in {-1, 1} (only when ``centre_weight > 0``).
    Every attribute of :class:`~skmetacmh.MetaCMHHasher`.

    References
    ----------
    J. Snell, K. Swersky, R. Zemel. "Prototypical Networks for Few-shot Learning". NeurIPS
    2017 (the support/query episodes of ``episodic``).

    B. Kang et al. "Decoupling Representation and Classifier for Long-Tailed Recognition".
    ICLR 2020 (``hallucinator_tau``; the class-aware second stage of ``two_stage``).

    Z. Liu et al. "Large-Scale Long-Tailed Recognition in an Open World". CVPR 2019 (the
    two stages of ``two_stage``).

    L. Yuan et al. "Central Similarity Quantization for Efficient Image and Video Retrieval".
    CVPR 2020 (the hash centres of ``centre_weight``).

    Y. Chen et al. "Long-Tail Hashing". SIGIR 2021 (prototypes in code space).
    """

    _parameter_constraints: dict = {
        **MetaCMHHasher._parameter_constraints,
        **RESEARCH_CONSTRAINTS,
    }

    # MetaCMH's signature plus the research options, so that a new MetaCMH parameter needs
    # no edit here.
    __init__ = derived_init(
        MetaCMHHasher, add={f.name: f.default for f in dataclasses.fields(ResearchOptions)}
    )
