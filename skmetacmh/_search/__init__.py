"""Hamming search engines behind one protocol, chosen once (private).

Three engines answer the same questions with the same results, tie order included (see
:mod:`._engine` for the protocol):

* ``"compiled"``: the optional C extension ``_kernels``, when it is built;
* ``"numpy"``: pure numpy, always available;
* ``"faiss"``: ``faiss.IndexBinaryFlat`` for top-k and radius search, when faiss is installed
  and ``n_bits % 8 == 0`` (its average precision is the package's own).

The compiled extension is imported once, here, as faiss' ``loader.py`` picks its compiled
variant once: setting the environment variable ``SKMETACMH_NO_KERNELS=1`` before the import
forces pure numpy everywhere. :func:`resolve_engine` turns a ``backend`` name (``"auto"``
included) into an engine object, which callers store and reuse; :func:`default_engine` is the
one the metrics use. ``skmetacmh.show_versions()`` reports what was built and chosen.
"""

from __future__ import annotations

import os

from ._compiled_engine import CompiledEngine
from ._engine import SearchEngine
from ._faiss_engine import FaissEngine, faiss_available
from ._numpy_engine import NumpyEngine
from ._packing import (
    PackedCodes,
    PackedDatabase,
    PackedLabels,
    check_codes,
    n_words,
    pack_codes,
    pack_database,
    pack_joined,
    unpack_codes,
)

__all__ = [
    "BACKENDS",
    "KERNELS_DISABLED",
    "PackedCodes",
    "PackedDatabase",
    "PackedLabels",
    "SearchEngine",
    "check_codes",
    "default_engine",
    "engine_report",
    "kernels_available",
    "n_words",
    "pack_codes",
    "pack_database",
    "pack_joined",
    "resolve_engine",
    "unpack_codes",
]

#: The names a ``backend`` parameter accepts.
BACKENDS = ("auto", "compiled", "numpy", "faiss")

#: Whether ``SKMETACMH_NO_KERNELS`` switched the compiled engine off for this process.
KERNELS_DISABLED = os.environ.get("SKMETACMH_NO_KERNELS", "").strip() not in ("", "0")

_KERNELS_ERROR = None
if KERNELS_DISABLED:
    _kernels = None
    _KERNELS_ERROR = "switched off by SKMETACMH_NO_KERNELS"
else:
    try:  # optional: a source install without a compiler still works, on numpy
        from . import _kernels
    except ImportError as exc:  # pragma: no cover - depends on the build
        _kernels = None
        _KERNELS_ERROR = f"not built ({exc})"

_NUMPY = NumpyEngine()
_COMPILED = CompiledEngine(_kernels) if _kernels is not None else None


def kernels_available() -> bool:
    """Whether the compiled engine can be used in this process."""
    return _COMPILED is not None


def default_engine() -> SearchEngine:
    """The fastest engine that needs no choice of ``n_bits``: compiled when built, else numpy."""
    return _COMPILED if _COMPILED is not None else _NUMPY


def resolve_engine(backend: str, n_bits: int) -> SearchEngine:
    """The engine a ``backend`` name stands for, ``"auto"`` resolved; call once and store it.

    ``"auto"`` is the compiled engine when built (2.3x faster than faiss on one thread: 64-bit
    top-10 search of 1,000 queries in 100,000 random codes, ``python
    benchmarks/bench_doc_claims.py knn-engines``), else faiss
    when installed and ``n_bits % 8 == 0``, else numpy. Explicit names that cannot be honoured
    raise instead of falling back silently.
    """
    if backend == "numpy":
        return _NUMPY
    if backend == "compiled":
        if _COMPILED is None:
            raise ImportError(
                f"backend='compiled' needs the compiled search kernels, which are "
                f"{_KERNELS_ERROR}. Build them with `python setup.py build_ext --inplace` (or "
                "reinstall with a C compiler), or use backend='numpy' or 'auto'."
            )
        return _COMPILED
    if backend == "faiss":
        if n_bits % 8:
            raise ValueError(
                f"backend='faiss' needs n_bits divisible by 8 (faiss.IndexBinaryFlat works on "
                f"bytes); got n_bits={n_bits}. Use backend='numpy' or 'auto'."
            )
        return FaissEngine(fallback=default_engine())
    if backend == "auto":
        if _COMPILED is not None:
            return _COMPILED
        if n_bits % 8 == 0 and faiss_available():
            return FaissEngine(fallback=_NUMPY)
        return _NUMPY
    raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}.")


def engine_report() -> dict:
    """What is built and what each use resolves to, for ``show_versions``."""
    return {
        "compiled kernels": "built" if _COMPILED is not None else _KERNELS_ERROR,
        "faiss": "installed" if faiss_available() else "not installed",
        "metrics engine": default_engine().name,
        "HammingIndex auto engine (n_bits % 8 == 0)": resolve_engine("auto", 64).name,
        "HammingIndex auto engine (other n_bits)": resolve_engine("auto", 7).name,
    }
