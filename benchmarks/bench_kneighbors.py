"""``hasher.kneighbors`` against the by-hand path it replaces, one thread.

A fitted ``CCAITQHasher`` (64 bits) on ``--n`` items of ``make_cross_modal_classification``
(20 classes, 64 + 64 features, seed 0); ``--n-query`` held-out image queries, top-``--k``
texts. Times (best of ``--repeats``):

* ``kneighbors``: the first call (it builds MIH's tables when ``method="auto"`` picks MIH,
  from 262,144 codes on with the compiled kernels) and the later ones;
* by hand, as users did before: slice the text half of ``database_codes_``, ``HammingIndex.add``
  (packs a copy), then ``encode`` the queries and ``search``, with ``method="auto"`` and
  ``method="scan"`` (``kneighbors`` encodes the queries too).

Checks that every path returns the same distances and ids (ties by id). The fit is not timed.

Usage::

    python benchmarks/bench_kneighbors.py                 # 300,000 items, a few minutes
    python benchmarks/bench_kneighbors.py --n 50000       # the scan regime
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from skmetacmh import CCAITQHasher  # noqa: E402
from skmetacmh.datasets import make_cross_modal_classification  # noqa: E402
from skmetacmh.index import HammingIndex  # noqa: E402

N_BITS, D = 64, 64


def _best(call, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300_000, help="training (database) items")
    parser.add_argument("--n-query", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    X, y = make_cross_modal_classification(args.n + args.n_query, 20, D, D, random_state=0)
    X_query, X, y = X[: args.n_query, :D], X[args.n_query :], y[args.n_query :]
    start = time.perf_counter()
    hasher = CCAITQHasher(n_bits=N_BITS, n_image_features=D, random_state=0).fit(X, y)
    print(f"fit: {time.perf_counter() - start:.1f} s (not part of the comparison)")
    method = hasher._database_search["text"].method

    def kneighbors():
        return hasher.kneighbors(X_query, modality="image", n_neighbors=args.k)

    t_first, reference = _best(kneighbors, 1)
    t_knn, _ = _best(kneighbors, args.repeats)
    print(f"{args.n:,} items, {args.n_query:,} image queries, k={args.k}, {N_BITS} bits")
    print(f"  kneighbors [{method}]: first call {t_first:.3f} s, then {t_knn:.3f} s")
    for index_method in ("auto", "scan"):

        def build(method=index_method):
            index = HammingIndex(N_BITS, method=method)
            index.add(hasher.database_codes_[:, N_BITS:])
            return index

        t_add, index = _best(build, args.repeats)
        t_search, result = _best(
            lambda i=index: i.search(hasher.encode(X_query, modality="image"), args.k),
            args.repeats,
        )
        same = all(np.array_equal(a, b) for a, b in zip(result, reference))
        print(
            f"  by hand, HammingIndex(method={index_method!r}) [{index.active_method}]: "
            f"slice + add {t_add:.3f} s ({index.packed_codes.nbytes / 1e6:.1f} MB of packed "
            f"copies), encode + search {t_search:.3f} s; identical to kneighbors: {same}"
        )
        assert same


if __name__ == "__main__":
    main()
