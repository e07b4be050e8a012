"""Which hasher a benchmark name means, imported only when a run needs it.

Names map to ``"module:Class"`` strings rather than classes so that the benchmark starts (and
skips with a clear warning) even while a hasher module is missing or broken. Any other
``"module:Class"`` string is accepted too, so a user can benchmark their own hasher. A name that
is neither is an error, raised before any run starts.
"""

from __future__ import annotations

from importlib import import_module

__all__ = [
    "HASHERS",
    "REFERENCE_HASHERS",
    "canonical_name",
    "check_params",
    "hasher_spec",
    "make_hasher",
    "resolve_hasher",
]

#: Benchmark name -> "module:Class" of every hasher that ships with skmetacmh.
HASHERS = {
    "MetaCMH": "skmetacmh:MetaCMHHasher",
    "DCMH": "skmetacmh:DCMHHasher",
    "SePH": "skmetacmh:SePHHasher",
    "SCM": "skmetacmh:SCMHasher",
    "DLFH": "skmetacmh:DLFHHasher",
    "CMFH": "skmetacmh:CMFHHasher",
    "CVH": "skmetacmh:CVHHasher",
    "CCA-ITQ": "skmetacmh:CCAITQHasher",
}

#: Reference points that are not hashing methods of their own, for the ablation scripts.
REFERENCE_HASHERS = {
    "RidgeFloor": "skmetacmh._bench._ridge_floor:_RidgeFloorHasher",
}

_ALL = {**HASHERS, **REFERENCE_HASHERS}


def _known() -> str:
    return f"{sorted(_ALL)} or a 'module:Class' string"


def canonical_name(name: str) -> str:
    """The registry spelling of a benchmark name (names are case-insensitive).

    Raises
    ------
    ValueError
        If ``name`` is neither a known name nor a ``"module:Class"`` string; the message lists
        the valid names.
    """
    if not isinstance(name, str):
        raise ValueError(f"A hasher name must be a string; got {name!r}.")
    folded = {key.lower(): key for key in _ALL}
    if name.lower() in folded:
        return folded[name.lower()]
    module, colon, cls = name.partition(":")
    if colon and module and cls:
        return name
    raise ValueError(f"Unknown hasher {name!r}: expected one of {_known()}.")


def hasher_spec(name: str) -> str:
    """The ``"module:Class"`` string of a benchmark hasher name (or of a spec itself)."""
    name = canonical_name(name)
    return _ALL.get(name, name)


def resolve_hasher(name: str):
    """Import and return the hasher class a benchmark name refers to.

    Raises
    ------
    ValueError
        If the name is unknown (see :func:`canonical_name`).
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


def check_params(name: str, hasher_class, params: dict) -> None:
    """Raise ``ValueError`` naming the valid parameters if ``params`` has one the class lacks.

    ``n_bits``, ``n_image_features`` and ``random_state`` are set by the benchmark itself, so
    they are refused here too.
    """
    valid = set(hasher_class().get_params(deep=False))
    owned = {"n_bits", "n_image_features", "random_state"}
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {unknown} for hasher {name!r}: expected some of "
            f"{sorted(valid - owned)}."
        )
    taken = sorted(set(params) & owned)
    if taken:
        raise ValueError(
            f"Parameter(s) {taken} of hasher {name!r} are set by the benchmark (--bits, the "
            "dataset, --seeds); remove them from the hasher parameters."
        )


def make_hasher(hasher_class, params: dict, n_bits: int, n_image_features: int, seed: int):
    """A fresh hasher: ``params``, then the run's ``n_bits``, ``n_image_features`` and seed.

    The seed becomes ``random_state`` only for a hasher that has that parameter (a
    deterministic method has none).
    """
    hasher = hasher_class(**params)
    settings = {"n_bits": int(n_bits), "n_image_features": int(n_image_features)}
    if "random_state" in hasher.get_params(deep=False):
        settings["random_state"] = int(seed)
    return hasher.set_params(**settings)
