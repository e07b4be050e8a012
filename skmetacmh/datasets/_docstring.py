"""Shared docstring text for the dataset loaders, substituted so that ``python -OO`` works.

After imbalanced-learn's ``imblearn/utils/_docstring.py::Substitution``: the decorator fills
``{name}`` placeholders at definition time and does nothing when docstrings are stripped.
"""

from __future__ import annotations

__all__ = ["Substitution"]


class Substitution:
    """Decorator that replaces ``{name}`` placeholders in a docstring with shared text.

    Only the named placeholders are replaced (no ``str.format``), so other braces in the
    docstring, such as ``{0,1}``, need no escaping. A missing docstring (``python -OO``) is left
    as it is.

    Parameters
    ----------
    **texts : str
        ``name=text`` for each ``{name}`` placeholder.

    Examples
    --------
    >>> @Substitution(what="the answer")
    ... def f():
    ...     '''Return {what}, in {0,1}.'''
    >>> f.__doc__
    'Return the answer, in {0,1}.'
    """

    def __init__(self, **texts: str):
        self.texts = texts

    def __call__(self, obj):
        if obj.__doc__:
            doc = obj.__doc__
            for name, text in self.texts.items():
                doc = doc.replace("{" + name + "}", text)
            obj.__doc__ = doc
        return obj
