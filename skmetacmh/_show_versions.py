"""``show_versions``: the versions and the search engines a bug report needs."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

__all__ = ["show_versions"]

_DEPENDENCIES = ("numpy", "scipy", "scikit-learn", "joblib", "torch", "faiss-cpu", "dask")


def _versions() -> dict:
    found = {}
    for name in _DEPENDENCIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def show_versions() -> None:
    """Print the system, the dependency versions and which search engine each use resolves to.

    Like :func:`sklearn.show_versions`, plus the part that is ours: whether the compiled search
    kernels are built (or switched off by ``SKMETACMH_NO_KERNELS=1``), whether faiss is
    installed, and which engine the metrics and ``HammingIndex(backend="auto")`` use.

    See Also
    --------
    skmetacmh.index.HammingIndex : Its ``backend`` parameter picks an engine by name.

    Examples
    --------
    >>> import skmetacmh
    >>> skmetacmh.show_versions()  # doctest: +SKIP
    """
    from . import __version__
    from ._search import engine_report

    print("System:")
    print(f"    python: {sys.version.split()[0]}")
    print(f"  platform: {platform.platform()}")
    print("\nDependencies:")
    print(f"  skmetacmh: {__version__}")
    for name, found in _versions().items():
        print(f"  {name}: {found or 'not installed'}")
    print("\nSearch engines:")
    for what, value in engine_report().items():
        print(f"  {what}: {value}")
