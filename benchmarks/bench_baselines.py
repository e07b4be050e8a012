"""The six baselines (CCA-ITQ, CVH, CMFH, SCM, SePH, DLFH) against random codes.

Accuracy protocol (balanced UCI Multiple Features), the benchmark's protocol
(:mod:`skmetacmh._bench._protocol`) without a long tail: all 2,000 items; 200 queries (20 per
digit, drawn per seed by :func:`~skmetacmh.datasets.split_query_database`); the other 1,800
items are both the training set and the retrieval database. View ``pix`` (240 features) is the
image modality and ``fou`` (76) the text; each modality is standardised with a scaler fit on
the training set. Relevant = same digit. The seed draws the queries and is the hasher's
``random_state``. Every hasher runs with its defaults except ``n_bits`` and ``random_state``
(SCM twice, once per ``variant``). Reported: image->text and text->image mAP@all, mean and
standard deviation over seeds, and the mean fit time.

Scale: fit time (wall and CPU) of each hasher on synthetic data (n = 20,000 by default, 512
image and 1,000 text features, 64 bits, 10 balanced classes around Gaussian centres) and its
peak traced memory (``tracemalloc``, which sees numpy's allocations) at n/2, n and 2n. They
give the memory model ``X + fixed + per_sample * n`` (see :func:`run_scale`), from which the
largest n that fits in a memory budget (8 GB by default, counting the float64 input itself)
follows.

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_baselines.py
OMP_NUM_THREADS=1 python benchmarks/bench_baselines.py --part uci --seeds 0 1 2
OMP_NUM_THREADS=1 python benchmarks/bench_baselines.py --part scale --n 20000 --methods SePH DLFH
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from skmetacmh._bench._data import dataset_options, load_dataset, make_timing_data
from skmetacmh._bench._measure import peak_traced_bytes
from skmetacmh._bench._protocol import DIRECTIONS, run_once, split_long_tailed
from skmetacmh._bench._registry import make_hasher, resolve_hasher
from skmetacmh.metrics import mean_average_precision

#: Method label -> (benchmark hasher name, the parameters that make the method what it is).
#: Nothing else is set: every other parameter keeps the class default.
METHODS = {
    "CCA-ITQ": ("CCA-ITQ", {}),
    "CVH": ("CVH", {}),
    "CMFH": ("CMFH", {}),
    "SCM-Orth": ("SCM", {"variant": "orthogonal"}),
    "SCM-Seq": ("SCM", {"variant": "sequential"}),
    "SePH": ("SePH", {}),
    "DLFH": ("DLFH", {}),
}
RANDOM = "random codes"
#: Balanced UCI: 20 queries per digit, every other item is the database and the training set.
PROTOCOL = {
    "query": "per_class",
    "n_query": 20,
    "imbalance_factor": None,
    "n_train": None,
    "shuffle_classes": False,
}
# Iterations of the traced (memory) fits: every iteration allocates the same arrays, so a few
# show the peak, and tracing the full run would take far longer than the timed one.
TRACED_ITERATIONS = 2


def method_hasher(name: str, n_bits: int, n_image_features: int, seed: int):
    """A fresh hasher of method ``name``: defaults, but ``n_bits`` and the seed."""
    hasher, params = METHODS[name]
    return make_hasher(resolve_hasher(hasher), params, n_bits, n_image_features, seed)


def random_codes_map(y_query, y_db, n_bits, seed) -> dict:
    """mAP of uniformly random codes in both directions (the floor every method must clear)."""
    rng = np.random.default_rng(seed)
    q_img, q_txt = (rng.integers(2, size=(len(y_query), n_bits), dtype=np.uint8) for _ in "ab")
    d_img, d_txt = (rng.integers(2, size=(len(y_db), n_bits), dtype=np.uint8) for _ in "ab")
    return {
        "image_to_text": mean_average_precision(q_img, d_txt, y_query, y_db),
        "text_to_image": mean_average_precision(q_txt, d_img, y_query, y_db),
        "fit_s": 0.0,
    }


def run_uci(bits, seeds, methods) -> list[dict]:
    """One row per (seed, code length, method), random codes included."""
    data = load_dataset("uci-mfeat", dataset_options("uci-mfeat"))
    y = data.y
    rows = []
    for seed in seeds:
        split = split_long_tailed(y, PROTOCOL, seed)
        for n_bits in bits:
            result = random_codes_map(y[split.query], y[split.database], n_bits, seed)
            rows.append({"method": RANDOM, "bits": n_bits, "seed": seed, **result})
            for name in methods:
                hasher, params = METHODS[name]
                numbers = run_once(
                    data, resolve_hasher(hasher), params, n_bits, seed, protocol=PROTOCOL
                )
                rows.append(
                    {
                        "method": name,
                        "bits": n_bits,
                        "seed": seed,
                        **{direction: numbers[direction] for direction in DIRECTIONS},
                        "fit_s": numbers["fit_seconds"],
                    }
                )
            print(f"seed {seed}, {n_bits} bits done", flush=True)
    return rows


def uci_table(rows, bits) -> str:
    """Markdown: one row per method, I->T and T->I mAP per code length, mean fit time."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = [
        "| method | "
        + " | ".join(f"{b} bits I→T | {b} bits T→I" for b in bits)
        + " | mean fit (s) |",
        "|---|" + "---|---|" * len(bits) + "---|",
    ]
    for method in methods:
        cells = []
        for b in bits:
            for key in DIRECTIONS:
                values = [r[key] for r in rows if r["method"] == method and r["bits"] == b]
                cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}")
        fit = np.mean([r["fit_s"] for r in rows if r["method"] == method])
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {fit:.2f} |")
    return "\n".join(lines)


def run_scale(n, d_image, d_text, n_bits, budget_gb, methods, seed=0) -> list[dict]:
    """Fit time at ``n`` (untraced run); peak traced fit memory at ``n/2``, ``n`` and ``2n``.

    The peak is the largest of fixed phases (covariances, eigensolver workspace, kernel
    anchors, the ``m x m`` SePH problem, blocks of rows or of the similarity) and phases that
    grow with ``n`` (``(n, n_bits)`` arrays), so the per-sample cost is the largest slope between
    consecutive sizes. It is floored at the ``(n, n_bits)`` float64 projections every hasher
    returns when it encodes its database, which a fixed phase can hide at these sizes. Traced
    runs stop after ``TRACED_ITERATIONS`` iterations (``n_iter`` or ``max_iter``).
    """
    rng = np.random.default_rng(seed)
    sizes = (n // 2, n, 2 * n)
    data = {size: make_timing_data(size, d_image, d_text, rng) for size in sizes}
    input_per_sample = 8 * (d_image + d_text)
    rows = []
    for name in methods:
        X, y = data[n]
        # Timed without tracing: tracemalloc slows allocation-heavy code, so the time comes
        # from this run and the memory from the traced ones.
        hasher = method_hasher(name, n_bits, d_image, seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start, start_cpu = time.perf_counter(), time.process_time()
            hasher.fit(X, y)
            fit_s = time.perf_counter() - start
            fit_cpu_s = time.process_time() - start_cpu
        peaks = {}
        for size in sizes:
            traced = method_hasher(name, n_bits, d_image, seed)
            for param in ("n_iter", "max_iter"):
                if param in traced.get_params():
                    traced.set_params(**{param: TRACED_ITERATIONS})
            with warnings.catch_warnings():
                # The capped iterations warn that they did not converge, by design.
                warnings.simplefilter("ignore")
                peaks[size] = peak_traced_bytes(traced.fit, *data[size])[0]
        slopes = [(peaks[b] - peaks[a]) / (b - a) for a, b in zip(sizes, sizes[1:])]
        per_sample = max(max(slopes), 8.0 * n_bits)
        fixed = max(peaks[size] - per_sample * size for size in sizes)
        largest_n = int((budget_gb * 1e9 - fixed) / (per_sample + input_per_sample))
        rows.append(
            {
                "method": name,
                "n": n,
                "fit_s": fit_s,
                "fit_cpu_s": fit_cpu_s,
                "n_iter": getattr(hasher, "n_iter_", None),
                "fit_warnings": sorted({str(w.message) for w in caught}),
                "peak_fit_bytes": {str(size): peaks[size] for size in sizes},
                "input_bytes": input_per_sample * n,
                "per_sample_bytes": per_sample,
                "fixed_bytes": fixed,
                "largest_n_in_budget": largest_n,
            }
        )
        print(f"{name}: fit {fit_s:.1f} s ({fit_cpu_s:.1f} s CPU), peaks {peaks}", flush=True)
        for message in rows[-1]["fit_warnings"]:
            print(f"  warning during the timed fit: {message}", flush=True)
    return rows


def scale_table(rows, budget_gb) -> str:
    """Markdown: one row per method, fit times, traced peaks and the fitted memory model."""
    sizes = list(rows[0]["peak_fit_bytes"])
    lines = [
        "| method | fit wall time (s) | fit CPU time (s) | peak fit memory, X excluded, at n = "
        + " / ".join(f"{int(s):,}" for s in sizes)
        + " (MB) | X at n (MB) | model: bytes/sample + fixed MB | largest n in "
        f"{budget_gb:g} GB (X included) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        peaks = " / ".join(f"{p / 1e6:.0f}" for p in r["peak_fit_bytes"].values())
        lines.append(
            f"| {r['method']} | {r['fit_s']:.1f} | {r['fit_cpu_s']:.1f} | {peaks} | "
            f"{r['input_bytes'] / 1e6:.0f} | {r['per_sample_bytes']:.0f} B + "
            f"{r['fixed_bytes'] / 1e6:.0f} MB | {r['largest_n_in_budget']:,} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("uci", "scale", "all"), default="all")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--bits", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n", type=int, default=20_000, help="samples for the scale run")
    parser.add_argument("--image-features", type=int, default=512)
    parser.add_argument("--text-features", type=int, default=1000)
    parser.add_argument("--scale-bits", type=int, default=64)
    parser.add_argument("--budget-gb", type=float, default=8.0)
    parser.add_argument("--json", help="write the raw rows to this file")
    args = parser.parse_args(argv)

    out = {}
    if args.part in ("uci", "all"):
        out["uci"] = run_uci(args.bits, args.seeds, args.methods)
        print(
            f"\nUCI mfeat pix->fou, 200 queries / 1,800 database+train, mAP@all, mean ± std "
            f"over seeds {args.seeds}\n"
        )
        print(uci_table(out["uci"], args.bits))
    if args.part in ("scale", "all"):
        out["scale"] = run_scale(
            args.n,
            args.image_features,
            args.text_features,
            args.scale_bits,
            args.budget_gb,
            args.methods,
        )
        print(
            f"\nScale: synthetic, n={args.n:,}, {args.image_features} image + "
            f"{args.text_features} text features, {args.scale_bits} bits\n"
        )
        print(scale_table(out["scale"], args.budget_gb))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
