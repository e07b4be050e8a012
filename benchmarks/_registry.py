"""Which hasher a benchmark name means, imported only when a run needs it.

Names map to ``"module:Class"`` strings rather than classes so that the benchmark starts (and
skips with a clear warning) even while a hasher module is missing or broken. Any other
``"module:Class"`` string is accepted too, so a user can benchmark their own hasher.
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["HASHERS", "resolve_hasher", "hasher_spec"]

#: Benchmark name -> "module:Class" of every hasher that ships with skmetacmh.
HASHERS = {
    "MetaCMH": "skmetacmh.deep:MetaCMHHasher",
    "DCMH": "skmetacmh.deep:DCMHHasher",
    "SePH": "skmetacmh.baselines.seph:SePHHasher",
    "SCM": "skmetacmh.baselines.scm:SCMHasher",
    "DLFH": "skmetacmh.baselines.dlfh:DLFHHasher",
    "CMFH": "skmetacmh.baselines.cmfh:CMFHHasher",
    "CVH": "skmetacmh.baselines.cvh:CVHHasher",
    "CCA-ITQ": "skmetacmh.baselines.cca_itq:CCAITQHasher",
}


def hasher_spec(name: str) -> str:
    """The ``"module:Class"`` string of a benchmark hasher name (or of a spec itself)."""
    if name in HASHERS:
        return HASHERS[name]
    folded = {key.lower(): value for key, value in HASHERS.items()}
    if name.lower() in folded:
        return folded[name.lower()]
    if ":" in name:
        return name
    raise ValueError(
        f"Unknown hasher {name!r}: expected one of {sorted(HASHERS)} or a 'module:Class' string."
    )


def resolve_hasher(name: str):
    """Import and return the hasher class a benchmark name refers to.

    Raises
    ------
    ImportError
        If the module or the class cannot be imported; the message names both.
    """
    module_name, _, class_name = hasher_spec(name).partition(":")
    try:
        module = import_module(module_name)
    except Exception as exc:
        raise ImportError(
            f"hasher {name!r}: cannot import module {module_name!r} ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ImportError(
            f"hasher {name!r}: module {module_name!r} has no class {class_name!r}"
        ) from None
