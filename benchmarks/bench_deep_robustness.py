"""Do the deep hashers' defaults hold across input widths, code lengths and label types?

For every cell (data x n_bits x label type) the default ``MetaCMHHasher`` is compared with the
same model at each learning rate of a grid (the best of which no default can beat by much if
the defaults hold), and with ``DLFHHasher`` at its defaults. The score is cross-modal mAP@all
(mean of image->text and text->image) of held-out queries against the database.

Data (public API only):

* ``uci``: UCI Multiple Features (pix 240 image, fou 76 text), 20 queries per class, database
  the rest, a long-tailed training set inside it (imbalance factor 50); single-label only;
* ``syn512``: ``make_cross_modal_classification`` with 512 image + 1,000 text features,
  20 classes, imbalance factor 10, 3,000 training items (the database) and 500 queries;
* ``syn4096``: the same with 4,096 image + 1,386 text features.

Features are standardised with a scaler fitted on the training set.

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_deep_robustness.py --cells uci --bits 16 32 64 128
OMP_NUM_THREADS=1 python benchmarks/bench_deep_robustness.py --cells syn512 --bits 32 64 \
    --labels single multi --json robustness.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.preprocessing import StandardScaler

from skmetacmh import DLFHHasher, MetaCMHHasher
from skmetacmh.datasets import load_uci_mfeat, make_cross_modal_classification, split_query_database
from skmetacmh.metrics import cross_modal_map

WIDTHS = {"syn512": (512, 1000), "syn4096": (4096, 1386)}


def load_cell(cell: str, multilabel: bool, seed: int, n_train: int, n_query: int):
    """``(X_train, y_train, X_query, y_query, X_db, y_db, n_image_features)``, standardised."""
    if cell == "uci":
        if multilabel:
            raise ValueError("UCI Multiple Features is single-label")
        data = load_uci_mfeat(views=("pix", "fou"))
        X, y = np.hstack([data.image, data.text]), np.asarray(data.labels)
        split = split_query_database(y, 20, train_imbalance_factor=50, random_state=seed)
        n_image = data.image.shape[1]
        query, train, database = split.query, split.train, split.database
    else:
        n_image, n_text = WIDTHS[cell]
        X, y = make_cross_modal_classification(
            n_samples=n_train + n_query,
            n_classes=20,
            n_image_features=n_image,
            n_text_features=n_text,
            multilabel=multilabel,
            imbalance_factor=10,
            random_state=seed,
        )
        split = split_query_database(y, n_query, query="random", random_state=seed)
        query, train, database = split.query, split.train, split.database
    scaler = StandardScaler().fit(X[train])
    return (
        scaler.transform(X[train]),
        y[train],
        scaler.transform(X[query]),
        y[query],
        scaler.transform(X[database]),
        y[database],
        n_image,
    )


def score(hasher, data) -> float:
    X_train, y_train, X_query, y_query, X_db, y_db, _ = data
    return cross_modal_map(hasher, X_query, y_query, X_db, y_db)["mean"]


def run_cell(cell, n_bits, multilabel, learning_rates, seed, n_train, n_query):
    data = load_cell(cell, multilabel, seed, n_train, n_query)
    X_train, y_train, n_image = data[0], data[1], data[-1]
    default_lr = MetaCMHHasher().learning_rate
    row = {"cell": cell, "n_bits": n_bits, "labels": "multi" if multilabel else "single"}
    scores = {}
    for lr in sorted(set(learning_rates) | {default_lr}):
        start = time.perf_counter()
        hasher = MetaCMHHasher(n_bits=n_bits, n_image_features=n_image, random_state=seed)
        if lr != default_lr:
            hasher.set_params(learning_rate=lr)
        scores[lr] = score(hasher.fit(X_train, y_train), data)
        row[f"seconds_lr{lr:g}"] = round(time.perf_counter() - start, 1)
    row["default"] = scores[default_lr]
    row.update({f"lr{lr:g}": s for lr, s in scores.items()})
    best_lr = max((lr for lr in learning_rates), key=scores.get)
    row["best_lr"], row["best"] = best_lr, scores[best_lr]
    row["gap"] = row["best"] - row["default"]
    dlfh = DLFHHasher(n_bits=n_bits, n_image_features=n_image, random_state=seed)
    row["dlfh"] = score(dlfh.fit(X_train, y_train), data)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", nargs="+", default=["uci", "syn512", "syn4096"])
    parser.add_argument("--bits", nargs="+", type=int, default=[16, 32, 64, 128])
    parser.add_argument("--labels", nargs="+", default=["single", "multi"])
    parser.add_argument("--lrs", nargs="+", type=float, default=[1e-4, 3e-4, 1e-3, 3e-3])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-query", type=int, default=500)
    parser.add_argument("--json", default=None, help="append one JSON line per cell here")
    args = parser.parse_args(argv)
    print("cell     bits labels default  best (lr)        gap    DLFH")
    for cell in args.cells:
        for labels in args.labels:
            if cell == "uci" and labels == "multi":
                continue
            for n_bits in args.bits:
                row = run_cell(
                    cell, n_bits, labels == "multi", args.lrs, args.seed, args.n_train, args.n_query
                )
                print(
                    f"{cell:8s} {n_bits:4d} {labels:6s} {row['default']:.3f}    "
                    f"{row['best']:.3f} ({row['best_lr']:g})  {row['gap']:+.3f}  {row['dlfh']:.3f}",
                    flush=True,
                )
                if args.json:
                    with open(args.json, "a", encoding="utf-8") as handle:
                        handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
