"""Docstring text shared between objects, substituted so that ``python -OO`` works.

After imbalanced-learn's ``utils._docstring.Substitution``: the decorator fills ``{name}``
placeholders once, at definition time. Under ``python -OO`` docstrings are ``None`` and the
decorator leaves them alone, so importing never fails for want of a docstring.
"""

from __future__ import annotations

import re

__all__ = ["Substitution"]


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
