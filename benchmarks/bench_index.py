"""Single-thread speed of HammingIndex against faiss.IndexBinaryFlat, with an exactness check.

Default workload: top-100 of 1,000 random queries over 1,000,000 random 64-bit codes, on ONE
thread. It times

* ``numpy``: ``HammingIndex()``, the package's own search (the compiled engine when it is
  built, see the ``engine`` column);
* ``pure numpy``: the same search with ``backend="numpy"`` (optional, slower);
* ``faiss raw``: ``faiss.IndexBinaryFlat.search`` as is;
* ``faiss exact``: ``HammingIndex(backend="faiss")``, faiss plus the exact tie re-ranking;

checks that every result is identical to the ``numpy`` one (distances and ids, tie order
included) and prints ``faiss_time / numpy_time`` (above 1 means the package is faster).

Usage::

    python benchmarks/bench_index.py                      # the default workload
    python benchmarks/bench_index.py --n-db 200000 --pure-numpy-queries 1000
"""

from __future__ import annotations

import os

# One thread everywhere; must be set before numpy (and its BLAS) is imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from skmetacmh import _search  # noqa: E402
from skmetacmh.index import HammingIndex  # noqa: E402


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-db", type=int, default=1_000_000, help="database codes")
    parser.add_argument("--n-query", type=int, default=1_000, help="queries")
    parser.add_argument("--n-bits", type=int, default=64, help="code length")
    parser.add_argument("--k", type=int, default=100, help="neighbours per query")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the codes")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument(
        "--pure-numpy-queries",
        type=int,
        default=100,
        help="queries for the (slow) pure numpy timing; 0 skips it",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    return parser.parse_args(argv)


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def main(argv=None):
    args = _parse_args(argv)
    rng = np.random.default_rng(args.seed)
    db = rng.integers(0, 2, size=(args.n_db, args.n_bits), dtype=np.uint8)
    queries = rng.integers(0, 2, size=(args.n_query, args.n_bits), dtype=np.uint8)

    ours = HammingIndex(args.n_bits)
    ours.add(db)
    # name -> (engine, search function, its queries); timed interleaved, so that every method
    # sees the same machine load, and the best of the repeats is kept.
    methods = {"numpy": (ours.active_backend, lambda q: ours.search(q, args.k), queries)}
    try:
        import faiss
    except ImportError:
        print("faiss is not installed (pip install faiss-cpu): faiss timings skipped")
    else:
        faiss.omp_set_num_threads(1)
        if args.n_bits % 8 == 0:
            raw = faiss.IndexBinaryFlat(args.n_bits)
            raw.add(np.packbits(db, axis=1))
            raw_queries = np.packbits(queries, axis=1)
            methods["faiss raw"] = ("IndexBinaryFlat", lambda q: raw.search(q, args.k), raw_queries)
            exact = HammingIndex(args.n_bits, backend="faiss")
            exact.add(db)
            methods["faiss exact"] = ("faiss", lambda q: exact.search(q, args.k), queries)
        else:
            print(f"faiss needs n_bits % 8 == 0 (got {args.n_bits}): faiss timings skipped")

    best = {name: float("inf") for name in methods}
    results = {}
    for _ in range(args.repeats):
        for name, (_, search, method_queries) in methods.items():
            start = time.perf_counter()
            results[name] = search(method_queries)
            best[name] = min(best[name], time.perf_counter() - start)
    reference = results["numpy"]
    rows = [
        {
            "method": name,
            "engine": engine,
            "n_query_timed": args.n_query,
            "ms_per_query": 1e3 * best[name] / args.n_query,
            "identical_to_numpy": _same(results[name], reference),
        }
        for name, (engine, _, _) in methods.items()
    ]
    if args.pure_numpy_queries and _search.kernels_available():
        n_q = min(args.pure_numpy_queries, args.n_query)
        pure_index = HammingIndex(args.n_bits, backend="numpy")
        pure_index.add(db)
        start = time.perf_counter()
        pure = pure_index.search(queries[:n_q], args.k)
        seconds = time.perf_counter() - start
        rows.insert(
            1,
            {
                "method": "pure numpy",
                "engine": "numpy",
                "n_query_timed": n_q,
                "ms_per_query": 1e3 * seconds / n_q,
                "identical_to_numpy": _same(pure, (reference[0][:n_q], reference[1][:n_q])),
            },
        )
    t_numpy = best["numpy"]
    t_faiss = best.get("faiss raw")

    print(
        f"top-{args.k} of {args.n_query} queries over {args.n_db} random {args.n_bits}-bit codes, "
        f"seed {args.seed}, 1 thread, best of {args.repeats}; {platform.processor() or ''}"
    )
    print(f"{'method':<12} {'engine':<16} {'ms/query':>9} {'queries':>8}  identical")
    for row in rows:
        print(
            f"{row['method']:<12} {row['engine']:<16} {row['ms_per_query']:>9.3f} "
            f"{row['n_query_timed']:>8}  {row['identical_to_numpy']}"
        )
    summary = {"args": vars(args), "rows": rows}
    if t_faiss is not None:
        summary["ratio_faiss_over_numpy"] = t_faiss / t_numpy
        print(f"ratio faiss_time / numpy_time = {t_faiss / t_numpy:.2f}  (goal >= 1.0)")
    # Raw faiss may order ties differently (allowed by faiss); the package's backends may not.
    if not all(row["identical_to_numpy"] for row in rows if row["method"] != "faiss raw"):
        raise SystemExit("MISMATCH: a HammingIndex backend differs from the numpy backend")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    return summary


if __name__ == "__main__":
    main()
