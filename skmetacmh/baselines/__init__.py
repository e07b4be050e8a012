"""Classic cross-modal hashing baselines, each a numpy/scipy hasher with the shared API.

Unsupervised: :class:`CCAITQHasher`, :class:`CVHHasher`, :class:`CMFHHasher`.
Supervised: :class:`SCMHasher`, :class:`SePHHasher`, :class:`DLFHHasher`.

The implementations live in private modules (``_cca_itq``, ``_cvh``, ...); import the hashers
from here or from :mod:`skmetacmh`.
"""

from ._cca_itq import CCAITQHasher
from ._cmfh import CMFHHasher
from ._cvh import CVHHasher
from ._dlfh import DLFHHasher
from ._scm import SCMHasher
from ._seph import SePHHasher

__all__ = [
    "CCAITQHasher",
    "CVHHasher",
    "CMFHHasher",
    "SCMHasher",
    "SePHHasher",
    "DLFHHasher",
]
