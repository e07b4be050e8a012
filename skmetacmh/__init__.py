"""skmetacmh: scikit-learn compatible cross-modal hashing on long-tailed data.

Every hasher takes ``X = [image block | text block]`` with ``n_image_features`` and learns
binary codes for both modalities; see :class:`BaseCrossModalHasher` for the shared contract.
Hashers are imported lazily so that ``import skmetacmh`` stays light and never imports torch.
"""

from importlib import import_module

from ._base import BaseCrossModalHasher
from ._fit_checks import CodeCollapseWarning
from ._modalities import join_modalities
from ._show_versions import show_versions

__version__ = "0.1.0.dev0"

# public name -> module that defines it (relative to this package)
_LAZY = {
    "MetaCMHHasher": ".metacmh",
    "DCMHHasher": ".metacmh",
    "CCAITQHasher": ".baselines",
    "CVHHasher": ".baselines",
    "CMFHHasher": ".baselines",
    "SCMHasher": ".baselines",
    "SePHHasher": ".baselines",
    "DLFHHasher": ".baselines",
    "HammingIndex": ".index",
}

__all__ = [
    "BaseCrossModalHasher",
    "CodeCollapseWarning",
    "join_modalities",
    "show_versions",
    "__version__",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
