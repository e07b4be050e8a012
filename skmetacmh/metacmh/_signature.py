"""Signatures derived from MetaCMH's: the deep hashers' parameters are written once.

:class:`~skmetacmh.MetaCMHHasher` lists the family's full public signature. A hasher that
differs from it only in which parameters it exposes and in some defaults (DCMH: no memory,
the paper's objective; the research class: more options) takes :func:`derived_init`, an
``__init__`` whose signature is MetaCMH's with those differences, so a new MetaCMH option
reaches it with no edit. The signature is set as ``__signature__``, which ``inspect`` and so
scikit-learn's ``get_params``, ``clone`` and ``repr`` read; ``__init__`` stores every
argument untouched, as a scikit-learn estimator's does.
"""

from __future__ import annotations

import inspect
from typing import Callable

__all__ = ["derived_init"]


def derived_init(
    base: type,
    *,
    drop: tuple = (),
    defaults: dict | None = None,
    add: dict | None = None,
) -> Callable:
    """An ``__init__`` with ``base.__init__``'s signature, less ``drop``, with ``defaults``
    changed and the keyword-only parameters ``add`` (name: default) appended.

    Examples
    --------
    >>> from skmetacmh import MetaCMHHasher
    >>> init = derived_init(MetaCMHHasher, drop=("memory",), defaults={"gamma": 0.5})
    >>> sig = inspect.signature(init)
    >>> "memory" in sig.parameters, sig.parameters["gamma"].default
    (False, 0.5)
    """
    defaults, add = dict(defaults or {}), dict(add or {})
    parameters = inspect.signature(base.__init__).parameters
    for name in (*drop, *defaults):
        if name not in parameters or name == "self":
            raise TypeError(f"{base.__name__}.__init__ has no parameter {name!r} to change.")
    clash = set(add) & set(parameters)
    if clash:
        raise TypeError(f"{base.__name__}.__init__ already has the parameters {sorted(clash)}.")
    kept = [
        p.replace(default=defaults.get(name, p.default))
        for name, p in parameters.items()
        if name not in drop
    ]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, default in add.items()
    ]
    signature = inspect.Signature([*kept, *added])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__
