"""How many threads a hasher uses, and the one scope that applies it.

Every hasher takes ``n_jobs``. The name is scikit-learn's (``KNeighborsClassifier``,
``RandomForestClassifier``) and so is its meaning; skorch has no parameter of its own and leaves
torch's global setting alone, so a name of our own (``n_threads``, ``torch_threads``) would be
one more thing to learn and would not compose with ``joblib.parallel_config``. The count covers
every thread pool a fit uses: torch's intra-op pool in the deep hashers, and BLAS and OpenMP
(through threadpoolctl) in every hasher.

:func:`resolve_n_jobs` turns ``n_jobs`` into a thread count:

* ``None`` is 1, unless a ``joblib.parallel_config(n_jobs=k)`` is active, which makes it ``k``
  (:func:`joblib.effective_n_jobs`). One thread is the default because it was the fastest in
  every cell measured: on a shared 2-core machine the README fit took 16 s on one thread and
  313 s on two (``benchmarks/bench_threads.py``, docs page "Performance and threads"); a
  mini-batch of 128 items is too little work to share out, and a thread that waits for a busy
  core stalls the others at every product.
* A positive int is that many threads, as asked.
* ``-1`` is every core this process may use (:func:`joblib.cpu_count`, which honours CPU
  affinity, cgroup quotas and ``LOKY_MAX_CPU_COUNT``), ``-2`` one fewer, and so on; this is then
  capped by ``OMP_NUM_THREADS`` when that is set. joblib sets ``OMP_NUM_THREADS`` (with the other
  BLAS variables) in the worker processes it starts, to ``cpu_count // n_workers`` or to
  ``inner_max_num_threads``, so ``GridSearchCV(n_jobs=2)`` over a hasher with ``n_jobs=-1``
  gives each worker its share of the cores instead of all of them.
* ``0`` and bools are errors.

Inside a joblib worker (loky or multiprocessing) ``None`` is 1 as well, since joblib runs nested
calls sequentially: ``GridSearchCV(n_jobs=k)`` over default hashers runs ``k`` single-threaded
fits.

:func:`thread_limits` is the scope: torch's intra-op threads (only if torch is already
imported: nothing here imports it) and threadpoolctl's BLAS and OpenMP limits, set on entry and
the caller's values put back on exit, exceptions included. :func:`limits_threads` wraps a
hasher method in it; nested calls with the same count (``score`` calls ``encode``) enter once.
Thread counts are process-wide settings in torch, BLAS and OpenMP, so two hashers with
different ``n_jobs`` running at the same time in threads of one process (joblib's threading
backend) would override each other's count; results do not depend on it (codes are identical
for every thread count), only speed does.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

__all__ = ["N_JOBS_CONSTRAINTS", "limits_threads", "resolve_n_jobs", "thread_limits"]

#: ``_parameter_constraints`` entry of ``n_jobs``: None, a positive or a negative int (not 0).
N_JOBS_CONSTRAINTS = [
    Interval(Integral, 1, None, closed="left"),
    Interval(Integral, None, -1, closed="right"),
    None,
]

# The thread count of the scope that the current thread is inside, if any.
_active = threading.local()


def resolve_n_jobs(n_jobs) -> int:
    """The number of threads ``n_jobs`` stands for here and now (see the module docstring).

    Parameters
    ----------
    n_jobs : int or None
        ``None`` (1 unless a joblib ``parallel_config`` says otherwise), a positive count, or a
        negative one counted back from the available cores (``-1``: all of them).

    Returns
    -------
    n_threads : int
        At least 1.

    Examples
    --------
    >>> from joblib import parallel_config
    >>> from skmetacmh._threads import resolve_n_jobs
    >>> resolve_n_jobs(None), resolve_n_jobs(3)
    (1, 3)
    >>> with parallel_config(n_jobs=2):
    ...     resolve_n_jobs(None)
    2
    """
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, Integral) or n_jobs == 0
    ):
        raise ValueError(
            "n_jobs must be None, a positive int (that many threads) or a negative int (-1: all "
            f"cores, -2: all but one, ...); got {n_jobs!r}."
        )
    if n_jobs is not None and n_jobs > 0:
        return int(n_jobs)
    from joblib import cpu_count, effective_n_jobs

    if n_jobs is None:
        return max(int(effective_n_jobs(None)), 1)
    n_threads = max(cpu_count() + 1 + int(n_jobs), 1)
    worker_share = _omp_num_threads()
    return min(n_threads, worker_share) if worker_share is not None else n_threads


def _omp_num_threads() -> int | None:
    """``OMP_NUM_THREADS`` as a positive int, or None when unset or not a positive int."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    # OpenMP also allows a nested list ("4,2"): its first entry is this level's count.
    first = value.split(",")[0].strip()
    return int(first) if first.isdigit() and int(first) > 0 else None


@contextmanager
def thread_limits(n_threads: int):
    """Run the body with torch, BLAS and OpenMP limited to ``n_threads`` threads.

    torch's intra-op count is set only when torch is already imported (a linear baseline never
    imports it). The caller's settings are restored on exit, also when the body raises.

    Parameters
    ----------
    n_threads : int
        Threads for the body, at least 1 (see :func:`resolve_n_jobs`).

    Yields
    ------
    n_threads : int
        The count in force.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from skmetacmh._threads import thread_limits
    >>> with thread_limits(1):
    ...     all(pool["num_threads"] == 1 for pool in threadpool_info())
    True
    """
    torch = sys.modules.get("torch")
    previous_torch = torch.get_num_threads() if torch is not None else None
    outer = getattr(_active, "n_threads", None)
    try:
        # The limiter records each library's count and puts it back on exit. BLAS and OpenMP
        # only: torch's own pool is set directly, and its libgomp is OpenMP anyway.
        with _controller().limit(limits=n_threads, user_api=None):
            if torch is not None:
                torch.set_num_threads(n_threads)
            _active.n_threads = n_threads
            yield n_threads
    finally:
        _active.n_threads = outer
        if torch is not None:
            torch.set_num_threads(previous_torch)


# threadpoolctl finds the loaded BLAS and OpenMP libraries by walking every shared object of
# the process, which took 5.7 ms of a 15 ms one-caption query (Catalogue.kneighbors through a
# TF-IDF + MetaCMH pipeline, cProfile, CPU time). So the controller is built once and built
# again only when modules were imported since, the way new libraries get loaded.
_cached_controller: list = [None, -1]


def _controller():
    """A threadpoolctl controller of the libraries loaded now, rebuilt after new imports."""
    from threadpoolctl import ThreadpoolController

    if _cached_controller[0] is None or _cached_controller[1] != len(sys.modules):
        _cached_controller[0] = ThreadpoolController()
        _cached_controller[1] = len(sys.modules)
    return _cached_controller[0]


def limits_threads(method):
    """Decorator: run a hasher method inside :func:`thread_limits` of ``self.n_jobs``.

    A nested call with the same count (``score`` calling ``encode``) runs directly: limiting
    again would only cost time. A hasher subclass that has no ``n_jobs`` parameter (one written
    outside this package) runs with the caller's settings, untouched.

    Parameters
    ----------
    method : callable
        A method of a hasher.

    Returns
    -------
    wrapped : callable
        The method, limited.
    """

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        if "n_jobs" not in self._get_param_names():
            return method(self, *args, **kwargs)
        n_threads = resolve_n_jobs(self.n_jobs)
        if getattr(_active, "n_threads", None) == n_threads:
            return method(self, *args, **kwargs)
        with thread_limits(n_threads):
            return method(self, *args, **kwargs)

    return wrapped
