"""Re-measure the speed claims made in the docs and in code comments, one command each.

Every claim names the command that gives it, for example::

    OMP_NUM_THREADS=1 python benchmarks/bench_doc_claims.py top-k-crossover
    python benchmarks/bench_doc_claims.py blas-threads   # needs the default BLAS threads

``top-k-crossover`` (``skmetacmh/_search/_engine.py``, docs/metrics.rst): mAP@k with a top-k
search against ranking the whole database, per engine, on bench_metrics.py's problem.
``blas-threads`` (docs/benchmark.rst): SCM's fit on the UCI long-tail training set with the
default BLAS threads and with one. ``normals`` (``skmetacmh/datasets/_generator.py``): numpy's
Generator against the legacy RandomState. ``within-mask`` (``skmetacmh/_search/_numpy_engine.py``):
the radius filter of the numpy engine against the obvious ``np.nonzero``. ``knn-engines``
(``skmetacmh/_search/__init__.py``): the compiled, faiss and numpy engines' top-k search on one
thread. Timings are the best of a few repeats; ratios are taken within one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _best(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def top_k_crossover(n_db: int, ratios=(1000, 180, 64, 40, 16)) -> None:
    """Full ranking / top-k search time for mAP@k, at several n_db / k."""
    from bench_metrics import make_problem

    from skmetacmh._search import _COMPILED, _NUMPY
    from skmetacmh.metrics._ranking import _per_query_ap

    qc, dbc, ql, dbl = make_problem(300, n_db, 64, 24, 0.12, seed=0)
    for engine in [e for e in (_COMPILED, _NUMPY) if e is not None]:
        try:
            for ratio in ratios:
                k = max(1, n_db // ratio)
                timings = {}
                for name, forced in (("top-k", 0), ("full", 10**12)):
                    engine.top_k_search_ratio = forced  # 0: always search, huge: never
                    timings[name] = _best(
                        lambda k=k, engine=engine: _per_query_ap(
                            qc, dbc, ql, dbl, k, engine=engine
                        ),
                        3,
                    )
                print(
                    f"{engine.name:8s} n_db={n_db} n_db/k={ratio:5d} k={k:5d}: top-k "
                    f"{timings['top-k'] * 1e3:7.1f} ms, full {timings['full'] * 1e3:7.1f} ms, "
                    f"full / top-k {timings['full'] / timings['top-k']:5.2f}"
                )
        finally:
            del engine.top_k_search_ratio  # back to the class's measured value


def blas_threads() -> None:
    """SCM fit (32 bits) on UCI pix/fou, 20 queries per digit, imbalance 50, seed 0."""
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_info, threadpool_limits

    from skmetacmh import SCMHasher, join_modalities
    from skmetacmh.datasets import load_uci_mfeat, split_query_database

    print("thread pools:", [(i["internal_api"], i["num_threads"]) for i in threadpool_info()])
    data = load_uci_mfeat()
    X, n_image = join_modalities(data.image, data.text)
    split = split_query_database(data.labels, 20, train_imbalance_factor=50, random_state=0)
    X_train = StandardScaler().fit_transform(X[split.train])
    y_train = data.labels[split.train]

    def fit():
        SCMHasher(n_bits=32, n_image_features=n_image).fit(X_train, y_train)

    for _ in range(3):
        default = _best(fit, 1)
        with threadpool_limits(1):
            one = _best(fit, 1)
        print(f"default threads {default:.3f} s, one thread {one:.3f} s, ratio {default / one:.1f}")


def normals() -> None:
    """4,000 x 500 standard normals, legacy RandomState against Generator."""
    legacy, modern = np.random.RandomState(0), np.random.default_rng(0)
    for _ in range(3):
        a = _best(lambda: legacy.standard_normal((4000, 500)), 3)
        b = _best(lambda: modern.standard_normal((4000, 500)), 3)
        print(f"RandomState {a * 1e3:.0f} ms, Generator {b * 1e3:.0f} ms, ratio {a / b:.2f}")


def within_mask() -> None:
    """One 64 x 4,096 uint8 distance block: preallocated np.less + flatnonzero vs np.nonzero."""
    rng = np.random.default_rng(0)
    dist = rng.integers(0, 65, (64, 4096)).astype(np.uint8)
    bound = rng.integers(5, 25, 64)
    mask = np.empty(dist.shape, dtype=bool)

    def ours():
        np.less(dist, bound.astype(np.uint8)[:, None], out=mask)
        return np.divmod(np.flatnonzero(mask), dist.shape[1])

    def obvious():
        return np.nonzero(dist <= (bound - 1)[:, None])

    assert all((a == b).all() for a, b in zip(ours(), obvious()))
    a, b = _best(ours, 20), _best(obvious, 20)
    print(f"np.less + flatnonzero {a * 1e6:.0f} us, np.nonzero {b * 1e6:.0f} us, ratio {b / a:.1f}")


def knn_engines() -> None:
    """HammingIndex.search, 64 bits, 100,000 random codes, 1,000 queries, k=10, one thread."""
    from skmetacmh.index import HammingIndex

    try:
        import faiss

        faiss.omp_set_num_threads(1)
    except ImportError:
        print("faiss is not installed: compiled and numpy only")
    rng = np.random.default_rng(0)
    db = rng.integers(0, 2, (100_000, 64), dtype=np.uint8)
    queries = rng.integers(0, 2, (1000, 64), dtype=np.uint8)
    for backend in ("compiled", "faiss", "numpy"):
        try:
            index = HammingIndex(64, backend=backend)
        except ImportError as exc:
            print(f"{backend}: {exc}")
            continue
        index.add(db)
        print(
            f"{backend:8s} {_best(lambda index=index: index.search(queries, 10), 3) * 1e3:.0f} ms"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "claim",
        choices=("top-k-crossover", "blas-threads", "normals", "within-mask", "knn-engines"),
    )
    parser.add_argument("--n-db", type=int, default=18015, help="database size of top-k-crossover")
    parser.add_argument(
        "--ratios", type=int, nargs="+", default=[1000, 180, 64, 40, 16],
        help="the n_db / k of top-k-crossover",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.claim == "top-k-crossover":
        top_k_crossover(args.n_db, tuple(args.ratios))
    else:
        {
            "blas-threads": blas_threads,
            "normals": normals,
            "within-mask": within_mask,
            "knn-engines": knn_engines,
        }[args.claim]()


if __name__ == "__main__":
    main()
