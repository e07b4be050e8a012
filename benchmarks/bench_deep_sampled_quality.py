"""Does the sampled pairwise term keep the quality of full-pair training on long-tailed data?

Long-tailed UCI Multiple Features (pix 240 image, fou 76 text): 20 queries per class, the
database every other item, a training set inside it with imbalance factor 50 (about 540
items), features standardised on the training set; default ``MetaCMHHasher`` at 32 bits.
Each seed fits the full pairwise term (``n_sampled_columns=None``) and the sampled one at each
``--m`` (smaller than the training set, so that sampling is really on: with the default
``n_sampled_columns`` this training set is used whole). Reported per seed and as the mean:
cross-modal mAP (mean of both directions) and the tail group's mAP (the rarest third of the
classes by training frequency, mean of both directions).

Fashion-MNIST halves are used as well with ``--dataset fashion`` when the IDX files are
installed (``skmetacmh.datasets.load_fashion_mnist_halves``).

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_deep_sampled_quality.py --seeds 0 1 2 3 4 --m 128 256
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.preprocessing import StandardScaler

from skmetacmh import MetaCMHHasher
from skmetacmh.datasets import load_fashion_mnist_halves, load_uci_mfeat, split_query_database
from skmetacmh.metrics import map_by_frequency_group, mean_average_precision


def load(dataset: str, seed: int):
    if dataset == "uci":
        data = load_uci_mfeat(views=("pix", "fou"))
        return data.image, data.text, np.asarray(data.labels), 20
    data = load_fashion_mnist_halves()
    rng = np.random.default_rng(seed)
    labels = np.asarray(data.labels)
    keep = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(labels == k), 650, replace=False) for k in range(10)]
        )
    )
    return data.image[keep], data.text[keep], labels[keep], 50


def evaluate(hasher, X_img, X_txt, y, split):
    q, db, train = split.query, split.database, split.train
    scores = {"mean": [], "tail": []}
    for query_mod, db_mod, Xq, Xdb in (
        ("image", "text", X_img, X_txt),
        ("text", "image", X_txt, X_img),
    ):
        query_codes = hasher.encode(Xq[q], modality=query_mod)
        db_codes = hasher.encode(Xdb[db], modality=db_mod)
        result = map_by_frequency_group(query_codes, db_codes, y[q], y[db], y[train])
        scores["tail"].append(result.map["tail"])
        scores["mean"].append(mean_average_precision(query_codes, db_codes, y[q], y[db]))
    return float(np.mean(scores["mean"])), float(np.mean(scores["tail"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["uci", "fashion"], default="uci")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--m", nargs="+", type=int, default=[128, 256])
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = []
    for seed in args.seeds:
        X_img, X_txt, y, n_query = load(args.dataset, seed)
        split = split_query_database(y, n_query, train_imbalance_factor=50, random_state=seed)
        scalers = [StandardScaler().fit(X[split.train]) for X in (X_img, X_txt)]
        X_img, X_txt = (s.transform(X) for s, X in zip(scalers, (X_img, X_txt)))
        X_train = np.hstack([X_img[split.train], X_txt[split.train]])
        row = {"seed": seed, "n_train": len(split.train)}
        for m in [None, *args.m]:
            hasher = MetaCMHHasher(
                n_bits=args.bits,
                n_image_features=X_img.shape[1],
                n_sampled_columns=m,
                random_state=seed,
            ).fit(X_train, y[split.train])
            row[f"m={m or 'all'}"] = evaluate(hasher, X_img, X_txt, y, split)
        rows.append(row)
        print(
            f"seed {seed}  n_train {row['n_train']}  "
            + "  ".join(
                f"{key}: {row[key][0]:.3f} / {row[key][1]:.3f}" for key in row if "=" in key
            ),
            flush=True,
        )
    keys = [key for key in rows[0] if "=" in key]
    print("mean over seeds (overall / tail):")
    full = np.mean([row["m=all"] for row in rows], axis=0)
    for key in keys:
        mean = np.mean([row[key] for row in rows], axis=0)
        print(
            f"  {key:8s} {mean[0]:.4f} / {mean[1]:.4f}   minus full {mean[0] - full[0]:+.4f} / "
            f"{mean[1] - full[1]:+.4f}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
