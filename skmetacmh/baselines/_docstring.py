"""Parameter and attribute text shared by the baseline docstrings.

:class:`Substitution` fills ``{name}`` placeholders in a class docstring, as
imbalanced-learn's ``utils._docstring.Substitution`` does. Under ``python -OO`` docstrings are
``None`` and the decorator leaves them alone, so importing never fails for want of a docstring.
"""

from __future__ import annotations

import re

__all__ = ["Substitution", "SHARED_DOCS"]


class Substitution:
    """Decorator replacing ``{key}`` in the decorated object's docstring by ``value``.

    Only the given keys are replaced (other braces, such as ``{-1, +1}``, stay as they are). A
    placeholder left over after the substitution is an error, so that a misspelt key cannot
    leave ``{n_bit}`` in the rendered documentation.
    """

    def __init__(self, **params: str):
        self.params = params

    def __call__(self, obj):
        doc = obj.__doc__
        if doc is None:  # python -OO strips docstrings
            return obj
        for key, value in self.params.items():
            doc = doc.replace("{" + key + "}", value)
        left = _PLACEHOLDER.findall(doc)
        if left:
            raise KeyError(f"{obj.__qualname__}'s docstring has unknown placeholders {left}.")
        obj.__doc__ = doc
        return obj


_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

# Each entry continues at the indentation of a numpydoc section inside a class docstring.
SHARED_DOCS = {
    "n_bits": """n_bits : int, default=32
        Code length per modality (an item gets ``n_bits`` bits per modality).""",
    "n_image_features": """n_image_features : int, default=None
        Number of leading columns of ``X`` that are image features; the rest are text
        features. Required.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        An int gives bit-identical codes from one fit to the next; ``None`` draws fresh
        randomness at every fit.""",
    "linear_attributes": """image_mean_ : ndarray of shape (n_image_features,)
        Column means of the training image block.
    text_mean_ : ndarray of shape (n_text_features_,)
        Column means of the training text block.""",
    "base_attributes": """database_codes_, database_labels_, classes_, multilabel_, \
n_features_in_, n_text_features_, n_unlabeled_
        See :class:`~skmetacmh.BaseCrossModalHasher`.""",
    "sparse_text": """A scipy sparse (CSR) text block, such as a ``TfidfVectorizer`` output, is used
    as it is, in ``fit`` and in ``encode``: it is centred implicitly and enters only through
    sparse products, so no dense copy of it is made. Codes agree with those of the same block
    passed dense up to floating-point rounding.""",
}
