"""Is a MetaCMH epoch linear in the number of training items with the sampled pairwise term?

Synthetic data (``make_cross_modal_classification``: 240 image + 76 text features, the widths of
UCI Multiple Features, 20 classes, imbalance factor 10), standardised; the default
``MetaCMHHasher`` at 64 bits, trained for a few epochs on one thread. The figure is the
per-item time of an epoch (``history_[k]["duration"] / n``, the median over the epochs after
the first), reported as a ratio to that at the smallest size, so that the machine's speed
cancels out. ``--full-sizes`` also times DCMH's full pairwise term (``n_sampled_columns=None``)
at the sizes given, which grows quadratically.

Examples
--------
python benchmarks/bench_deep_linear_time.py --sizes 10000 160000
python benchmarks/bench_deep_linear_time.py --sizes 10000 40000 --full-sizes 10000 20000
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skmetacmh import MetaCMHHasher  # noqa: E402
from skmetacmh.datasets import make_cross_modal_classification  # noqa: E402


def epoch_seconds_per_item(n_items, n_bits, epochs, seed, **params) -> float:
    X, y = make_cross_modal_classification(
        n_samples=n_items,
        n_classes=20,
        n_image_features=240,
        n_text_features=76,
        imbalance_factor=10,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X).astype(np.float32)
    hasher = MetaCMHHasher(
        n_bits=n_bits, n_image_features=240, max_epochs=epochs, random_state=seed, **params
    )
    hasher.fit(X, y)
    durations = [record["duration"] for record in hasher.history_[1:]]
    return float(np.median(durations)) / n_items


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 160_000])
    parser.add_argument("--full-sizes", nargs="*", type=int, default=[])
    parser.add_argument("--bits", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for label, sizes, params in (
        ("sampled (default)", args.sizes, {}),
        ("full pairs", args.full_sizes, {"n_sampled_columns": None}),
    ):
        reference = None
        for n in sizes:
            per_item = epoch_seconds_per_item(n, args.bits, args.epochs, args.seed, **params)
            reference = per_item if reference is None else reference
            row = {
                "variant": label,
                "n": n,
                "epoch_seconds": per_item * n,
                "us_per_item": 1e6 * per_item,
                "ratio_to_smallest": per_item / reference,
            }
            rows.append(row)
            print(
                f"{label:18s} n={n:7d}  epoch {row['epoch_seconds']:8.2f} s  "
                f"{row['us_per_item']:7.1f} us/item  x{row['ratio_to_smallest']:.2f}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
