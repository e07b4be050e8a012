"""Benchmark: chunked vectorised mAP@all against the per-query loop of DCMH's public code.

The reference is the loop DCMH's Python code uses (for each query: relevance from a label
product, Hamming distances from a +-1 inner product, argsort, precision at the relevant ranks).
Its argsort is switched to a stable one so both follow the tie rule of this package (ties by
database index); with numpy's default quicksort the reference's value would depend on the sort.

Run::

    python benchmarks/bench_metrics.py            # 2,000 queries x 18,015 items, 64 bits, 24 labels
    python benchmarks/bench_metrics.py --big      # also the 10,000 x 1,000,000 memory check
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from skmetacmh import _search
from skmetacmh._bench._measure import peak_traced_bytes
from skmetacmh.metrics import mean_average_precision
from skmetacmh.metrics._ranking import _per_query_ap


def dcmh_style_map(query_codes, db_codes, query_labels, db_labels):
    """Per-query loop in the style of DCMH's ``calc_map`` (stable sort, valid queries only)."""
    qb = 2.0 * query_codes - 1.0
    rb = 2.0 * db_codes - 1.0
    n_bits = qb.shape[1]
    aps = []
    for i in range(qb.shape[0]):
        gnd = (query_labels[i] @ db_labels.T > 0).astype(np.float64)
        tsum = int(gnd.sum())
        if tsum == 0:
            continue
        hamm = 0.5 * (n_bits - qb[i] @ rb.T)
        ind = np.argsort(hamm, kind="stable")
        gnd = gnd[ind]
        count = np.linspace(1, tsum, tsum)
        tindex = np.asarray(np.where(gnd == 1)).squeeze() + 1.0
        aps.append(np.mean(count / tindex))
    return float(np.mean(aps))


def make_problem(n_query, n_db, n_bits, n_labels, density, seed=0):
    rng = np.random.default_rng(seed)
    labels = (rng.random((n_query + n_db, n_labels)) < density).astype(np.float64)
    # Codes correlated with labels, so the ranking is realistic (many ties, non-trivial AP).
    proj = rng.standard_normal((n_labels, n_bits))
    noise = rng.standard_normal((n_query + n_db, n_bits)) * 2.0
    codes = ((labels @ proj + noise) > 0).astype(np.uint8)
    return codes[:n_query], codes[n_query:], labels[:n_query], labels[n_query:]


def best_of(fn, repeats):
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-query", type=int, default=2000)
    parser.add_argument("--n-db", type=int, default=18015)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--n-labels", type=int, default=24)
    parser.add_argument("--density", type=float, default=0.12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also run 10,000 x 1,000,000")
    args = parser.parse_args()

    qc, dbc, ql, dbl = make_problem(
        args.n_query, args.n_db, args.n_bits, args.n_labels, args.density
    )
    print(
        f"label density {dbl.mean():.3f}; {args.n_query} queries x {args.n_db} items, "
        f"{args.n_bits} bits"
    )
    t_ref, ref = best_of(lambda: dcmh_style_map(qc, dbc, ql, dbl), 1)
    t_ours, ours = best_of(lambda: mean_average_precision(qc, dbc, ql, dbl), args.repeats)
    print(f"DCMH-style loop : {t_ref:8.3f} s  mAP={ref:.15f}")
    print(f"skmetacmh       : {t_ours:8.3f} s  mAP={ours:.15f}")
    print(f"|difference|    : {abs(ref - ours):.2e}")
    kernel = _search.kernels_available()
    print(f"speed-up        : {t_ref / t_ours:.1f}x (compiled kernel: {kernel})")
    t_np, ap_np = best_of(
        lambda: _per_query_ap(qc, dbc, ql, dbl, engine=_search.resolve_engine("numpy", 64)),
        args.repeats,
    )
    value_np = float(ap_np[0][ap_np[1]].mean())
    print(f"numpy fallback  : {t_np:8.3f} s  mAP={value_np:.15f}  speed-up {t_ref / t_np:.1f}x")

    if args.big:
        qc, dbc, ql, dbl = make_problem(10_000, 1_000_000, 64, 24, 0.12, seed=1)
        t0 = time.perf_counter()
        peak, value = peak_traced_bytes(mean_average_precision, qc, dbc, ql, dbl)
        elapsed = time.perf_counter() - t0
        print(
            f"10,000 x 1,000,000: mAP={value:.6f} in {elapsed:.0f} s, "
            f"peak extra memory {peak / 2**30:.2f} GiB"
        )


if __name__ == "__main__":
    main()
