"""Classic cross-modal hashing baselines, each a numpy/scipy hasher with the shared API.

Unsupervised: :class:`CCAITQHasher`, :class:`CVHHasher`, :class:`CMFHHasher`.
Supervised: :class:`SCMHasher`, :class:`SePHHasher`, :class:`DLFHHasher`.
"""

from .cca_itq import CCAITQHasher
from .cmfh import CMFHHasher
from .cvh import CVHHasher
from .dlfh import DLFHHasher
from .scm import SCMHasher
from .seph import SePHHasher

__all__ = [
    "CCAITQHasher",
    "CVHHasher",
    "CMFHHasher",
    "SCMHasher",
    "SePHHasher",
    "DLFHHasher",
]
