"""Supervised baselines (SCM, SePH, DLFH) against random codes: accuracy, speed, memory.

Accuracy protocol (balanced UCI Multiple Features): all 2,000 items; 200 stratified queries
(20 per digit, drawn per seed); the other 1,800 items are both the training set and the
retrieval database (codes from the learned hash functions). View ``pix`` (240 features) is the
image modality and ``fou`` (76) the text; each feature is standardised with a scaler fit on the
training set. Relevant = same digit. The seed draws the queries and is the hasher's
``random_state``. Reported: image->text and text->image mAP@all, mean and standard deviation
over seeds. Every hasher runs with its paper defaults; one extra row shows DLFH with a smaller
``scale`` (lambda), which this data set prefers.

Scale: fit time of each hasher on synthetic data (n = 20,000 by default, 512 image and 1,000
text features, 64 bits, 10 balanced classes) and its peak traced memory (``tracemalloc``, which
sees numpy's allocations) at n/2, n and 2n, giving the memory model
``fixed + per_sample * n`` and the largest n that fits a budget (8 GB by default, counting the
float64 input itself).

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_baselines_supervised.py
OMP_NUM_THREADS=1 python benchmarks/bench_baselines_supervised.py --part uci --seeds 0 1 2
OMP_NUM_THREADS=1 python benchmarks/bench_baselines_supervised.py --part scale --n 20000
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np
from sklearn.preprocessing import StandardScaler

from skmetacmh.baselines.dlfh import DLFHHasher
from skmetacmh.baselines.scm import SCMHasher
from skmetacmh.baselines.seph import SePHHasher
from skmetacmh.datasets import load_uci_mfeat
from skmetacmh.metrics import cross_modal_map, mean_average_precision

HASHERS = {
    "SCM-Orth": lambda b, d, seed: SCMHasher(b, d, variant="orthogonal", random_state=seed),
    "SCM-Seq": lambda b, d, seed: SCMHasher(b, d, variant="sequential", random_state=seed),
    "SePH": lambda b, d, seed: SePHHasher(b, d, random_state=seed),
    "DLFH": lambda b, d, seed: DLFHHasher(b, d, random_state=seed),
    # Not a default: lambda tuned by hand on seed 1 (see the report), shown for transparency.
    "DLFH (scale=4)": lambda b, d, seed: DLFHHasher(b, d, scale=4.0, random_state=seed),
}
SCALE_HASHERS = ("SCM-Orth", "SCM-Seq", "SePH", "DLFH")


def stratified_queries(y: np.ndarray, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``per_class`` random queries per class, and of all other items."""
    rng = np.random.default_rng(seed)
    query = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    )
    return np.sort(query), np.setdiff1d(np.arange(len(y)), query)


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
    data = load_uci_mfeat(views=("pix", "fou"))
    y = data.labels
    rows = []
    for seed in seeds:
        query, train = stratified_queries(y, 20, seed)
        image = StandardScaler().fit(data.image[train]).transform(data.image)
        text = StandardScaler().fit(data.text[train]).transform(data.text)
        X, d_image = np.hstack([image, text]), image.shape[1]
        for n_bits in bits:
            result = random_codes_map(y[query], y[train], n_bits, seed)
            rows.append({"method": "random codes", "bits": n_bits, "seed": seed, **result})
            for name in methods:
                hasher = HASHERS[name](n_bits, d_image, seed)
                start = time.perf_counter()
                hasher.fit(X[train], y[train])
                fit_s = time.perf_counter() - start
                result = cross_modal_map(hasher, X[query], y[query])
                rows.append(
                    {
                        "method": name,
                        "bits": n_bits,
                        "seed": seed,
                        "image_to_text": result["image_to_text"],
                        "text_to_image": result["text_to_image"],
                        "fit_s": fit_s,
                    }
                )
            print(f"seed {seed}, {n_bits} bits done", flush=True)
    return rows


def uci_table(rows, bits) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = [
        "| method | "
        + " | ".join(f"{b} bits I->T | {b} bits T->I" for b in bits)
        + " | mean fit (s) |",
        "|---|" + "---|---|" * len(bits) + "---|",
    ]
    for method in methods:
        cells = []
        for b in bits:
            for key in ("image_to_text", "text_to_image"):
                values = [r[key] for r in rows if r["method"] == method and r["bits"] == b]
                cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}")
        fit = np.mean([r["fit_s"] for r in rows if r["method"] == method])
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {fit:.2f} |")
    return "\n".join(lines)


def _synthetic(size, d_image, d_text, rng):
    """Gaussian features with a class signal (10 balanced classes), for timing only."""
    y = rng.integers(10, size=size)
    centres = rng.standard_normal((10, d_image + d_text))
    return centres[y] + 3.0 * rng.standard_normal((size, d_image + d_text)), y


def peak_fit_memory(hasher, X, y) -> int:
    """Peak traced memory (bytes) allocated during ``fit``, the input X excluded."""
    tracemalloc.start()
    try:
        hasher.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def run_scale(n, d_image, d_text, n_bits, budget_gb, methods, seed=0) -> list[dict]:
    """Fit time at ``n`` (untraced run); peak traced fit memory at ``n/2``, ``n`` and ``2n``.

    The peak is the largest of fixed phases (covariances, kernel anchors, the ``m x m`` SePH
    problem, blocks of the similarity) and phases that grow with ``n``; the per-sample cost is
    the largest slope between consecutive sizes, floored at the ``(n, n_bits)`` float64
    projections of the database codes. Traced runs use 2 iterations: every iteration allocates
    the same arrays.
    """
    rng = np.random.default_rng(seed)
    rows = []
    sizes = (n // 2, n, 2 * n)
    data = {size: _synthetic(size, d_image, d_text, rng) for size in sizes}
    for name in methods:
        peaks = {}
        for size in sizes:
            X, y = data[size]
            if size == n:
                # Timed without tracing: tracemalloc slows allocation-heavy code.
                hasher = HASHERS[name](n_bits, d_image, seed)
                start, start_cpu = time.perf_counter(), time.process_time()
                hasher.fit(X, y)
                fit_s = time.perf_counter() - start
                fit_cpu_s = time.process_time() - start_cpu
            traced = HASHERS[name](n_bits, d_image, seed)
            if "max_iter" in traced.get_params():
                traced.set_params(max_iter=2)
            peaks[size] = peak_fit_memory(traced, X, y)
        slopes = [(peaks[b] - peaks[a]) / (b - a) for a, b in zip(sizes, sizes[1:])]
        per_sample = max(max(slopes), 8.0 * n_bits)
        fixed = max(peaks[size] - per_sample * size for size in sizes)
        input_per_sample = 8 * (d_image + d_text)
        largest_n = int((budget_gb * 1e9 - fixed) / (per_sample + input_per_sample))
        rows.append(
            {
                "method": name,
                "n": n,
                "fit_s": fit_s,
                "fit_cpu_s": fit_cpu_s,
                "peak_fit_bytes": {str(size): peaks[size] for size in sizes},
                "input_bytes": input_per_sample * n,
                "per_sample_bytes": per_sample,
                "fixed_bytes": fixed,
                "largest_n_in_budget": largest_n,
            }
        )
        print(f"{name}: fit {fit_s:.1f} s ({fit_cpu_s:.1f} s CPU), peaks {peaks}", flush=True)
    return rows


def scale_table(rows, budget_gb) -> str:
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
    parser.add_argument("--bits", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(HASHERS), choices=list(HASHERS))
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
        methods = [m for m in args.methods if m in SCALE_HASHERS]
        out["scale"] = run_scale(
            args.n,
            args.image_features,
            args.text_features,
            args.scale_bits,
            args.budget_gb,
            methods,
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
