"""Single-thread speed of HammingIndex against faiss.IndexBinaryFlat, with an exactness check.

Default workload: top-100 of 1,000 random queries over 1,000,000 random 64-bit codes, on ONE
thread. It times

* ``numpy``: ``HammingIndex(backend="numpy")``, the package's own search (the compiled kernel
  when it is built, see the ``engine`` column);
* ``pure numpy``: the same search with the compiled kernel switched off (optional, slower);
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

from skmetacmh import _topk  # noqa: E402
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


def _best_time(search, queries, repeats):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = search(queries)
        best = min(best, time.perf_counter() - start)
    return best, result


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def main(argv=None):
    args = _parse_args(argv)
    rng = np.random.default_rng(args.seed)
    db = rng.integers(0, 2, size=(args.n_db, args.n_bits), dtype=np.uint8)
    queries = rng.integers(0, 2, size=(args.n_query, args.n_bits), dtype=np.uint8)
    rows = []

    def record(name, engine, seconds, n_query, identical):
        rows.append(
            {
                "method": name,
                "engine": engine,
                "ms_per_query": 1e3 * seconds / n_query,
                "total_s_for_all_queries": seconds * args.n_query / n_query,
                "identical_to_numpy": identical,
            }
        )

    ours = HammingIndex(args.n_bits, backend="numpy")
    ours.add(db)
    t_numpy, reference = _best_time(lambda q: ours.search(q, args.k), queries, args.repeats)
    record("numpy", ours.active_backend, t_numpy, args.n_query, True)

    if args.pure_numpy_queries and _topk.KERNEL_AVAILABLE:
        n_q = min(args.pure_numpy_queries, args.n_query)
        _topk.KERNEL_AVAILABLE = False
        try:
            t_pure, pure = _best_time(lambda q: ours.search(q, args.k), queries[:n_q], 1)
            engine = ours.active_backend
        finally:
            _topk.KERNEL_AVAILABLE = True
        same = _same(pure, (reference[0][:n_q], reference[1][:n_q]))
        record("pure numpy", engine, t_pure, n_q, same)

    t_faiss = None
    try:
        import faiss
    except ImportError:
        print("faiss is not installed (pip install faiss-cpu): faiss timings skipped")
    else:
        faiss.omp_set_num_threads(1)
        if args.n_bits % 8 == 0:
            raw = faiss.IndexBinaryFlat(args.n_bits)
            raw.add(np.packbits(db, axis=1))
            packed_queries = np.packbits(queries, axis=1)
            t_faiss, raw_result = _best_time(
                lambda q: raw.search(q, args.k), packed_queries, args.repeats
            )
            record(
                "faiss raw", "IndexBinaryFlat", t_faiss, args.n_query, _same(raw_result, reference)
            )
            exact = HammingIndex(args.n_bits, backend="faiss")
            exact.add(db)
            t_exact, exact_result = _best_time(
                lambda q: exact.search(q, args.k), queries, args.repeats
            )
            record("faiss exact", "faiss", t_exact, args.n_query, _same(exact_result, reference))
        else:
            print(f"faiss needs n_bits % 8 == 0 (got {args.n_bits}): faiss timings skipped")

    print(
        f"top-{args.k} of {args.n_query} queries over {args.n_db} random {args.n_bits}-bit codes, "
        f"seed {args.seed}, 1 thread, best of {args.repeats}; {platform.processor() or ''}"
    )
    print(f"{'method':<12} {'engine':<16} {'ms/query':>9} {'total s':>8}  identical")
    for row in rows:
        print(
            f"{row['method']:<12} {row['engine']:<16} {row['ms_per_query']:>9.3f} "
            f"{row['total_s_for_all_queries']:>8.2f}  {row['identical_to_numpy']}"
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
