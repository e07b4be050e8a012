"""The former module of ``skmetacmh-bench``, kept so that scripts installed before it moved work.

The command line is :mod:`.cli`, the runner :mod:`._runner`, the planning :mod:`._plan`.
"""

from ._config import DEFAULT_CONFIG, load_config
from ._registry import HASHERS
from ._runner import run_benchmark
from .cli import main

__all__ = ["main", "load_config", "run_benchmark", "DEFAULT_CONFIG", "HASHERS"]
