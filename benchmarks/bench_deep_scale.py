"""MetaCMH at catalogue scale: many multi-label items, dense image features, sparse text.

Synthetic, long-tailed, multi-label (``make_cross_modal_classification``: 500 image features,
24 classes, imbalance factor 50, two labels per item on average). The text block is a sparse
bag of words built from the labels, never dense: ``--vocabulary`` columns (default 20,000),
``--words`` non-zeros per item (default 200, i.e. 1% density), half of them drawn from the
words of the item's classes and half from the whole vocabulary, TF-IDF weighted. Queries are
``--n-query`` random items; the database and training set are the rest. The image block is
standardised on the training set.

Reports, per hasher: fit seconds (wall, and the process's CPU seconds: one thread), peak RSS
of the process so far and of the fit alone (Linux: the peak mark is reset before the fit; the
data held counts), and mAP@all of the queries against the database (mean of both directions,
and the tail third of the classes by training frequency). Run one hasher per process
(``--hashers``) for a clean peak RSS.

Examples
--------
python benchmarks/bench_deep_scale.py --n-items 20000 --hashers MetaCMH DLFH
python benchmarks/bench_deep_scale.py --n-items 200000 --hashers MetaCMH
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.feature_extraction.text import TfidfTransformer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skmetacmh  # noqa: E402
from skmetacmh.datasets import (
    make_cross_modal_classification,  # noqa: E402
    split_query_database,  # noqa: E402
)
from skmetacmh.metrics import map_by_frequency_group, mean_average_precision  # noqa: E402

HASHERS = {
    "MetaCMH": "MetaCMHHasher",
    "DLFH": "DLFHHasher",
    "SePH": "SePHHasher",
    "CMFH": "CMFHHasher",
}


def sparse_text(Y, vocabulary, words, rng):
    """A TF-IDF CSR bag of words: half the words from the item's classes' vocabularies."""
    n_classes = Y.shape[1]
    per_class = vocabulary // (2 * n_classes)
    n_class_words = words // 2
    rows, cols = [], []
    for i, own in enumerate(np.flatnonzero(row) for row in Y):
        if len(own):
            classes = rng.choice(own, n_class_words)
            item_words = np.concatenate(
                [
                    classes * per_class + rng.integers(0, per_class, n_class_words),
                    rng.integers(0, vocabulary, words - n_class_words),
                ]
            )
        else:
            item_words = rng.integers(0, vocabulary, words)
        cols.append(item_words)
        rows.append(np.full(len(item_words), i))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    counts = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(Y.shape[0], vocabulary))
    counts.sum_duplicates()
    return TfidfTransformer().fit_transform(counts).astype(np.float32)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux), so a fit's peak can be read."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def peak_rss_since_reset_gb() -> float | None:
    """``VmHWM`` of this process (Linux): the peak RSS since :func:`reset_peak_rss`."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-items", type=int, default=200_000)
    parser.add_argument("--n-query", type=int, default=2000)
    parser.add_argument("--vocabulary", type=int, default=20_000)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--hashers", nargs="+", default=["MetaCMH"], choices=list(HASHERS))
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="MetaCMH only: fewer epochs than the default, to time epochs at scale",
    )
    parser.add_argument(
        "--text-hidden",
        type=int,
        nargs="*",
        default=None,
        help="MetaCMH only: text_hidden widths instead of the default (512,)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    X, Y = make_cross_modal_classification(
        n_samples=args.n_items,
        n_classes=24,
        n_image_features=500,
        n_text_features=1,
        multilabel=True,
        imbalance_factor=50,
        random_state=args.seed,
    )
    image = X[:, :500].astype(np.float32)
    del X
    text = sparse_text(Y, args.vocabulary, args.words, rng)
    split = split_query_database(Y, args.n_query, query="random", random_state=args.seed)
    scaler = StandardScaler().fit(image[split.train])
    image = scaler.transform(image).astype(np.float32)
    X_train = sp.hstack([sp.csr_matrix(image[split.train]), text[split.train]], format="csr")
    print(
        f"{args.n_items} items, {len(split.train)} training, text {text.shape[1]} columns at "
        f"density {text.nnz / np.prod(text.shape):.4f}; RSS so far {peak_rss_gb():.2f} GB",
        flush=True,
    )
    for name in args.hashers:
        cls = getattr(skmetacmh, HASHERS[name])
        hasher = cls(n_bits=args.bits, n_image_features=500, random_state=args.seed)
        if name == "MetaCMH" and args.max_epochs is not None:
            hasher.set_params(max_epochs=args.max_epochs)
        if name == "MetaCMH" and args.text_hidden is not None:
            hasher.set_params(text_hidden=tuple(args.text_hidden))
        # The data generation above peaks higher than some fits: mark the fit's own peak
        # (which includes the data still held, X_train among it).
        fit_peak = reset_peak_rss()
        start, start_cpu = time.perf_counter(), time.process_time()
        hasher.fit(X_train, Y[split.train])
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
        fit_peak = peak_rss_since_reset_gb() if fit_peak else None
        q, db = split.query, split.database
        overall, tails = [], []
        for query_mod, query_X, db_mod, db_X in (
            ("image", image, "text", text),
            ("text", text, "image", image),
        ):
            query_codes = hasher.encode(query_X[q], modality=query_mod)
            db_codes = hasher.encode(db_X[db], modality=db_mod)
            overall.append(mean_average_precision(query_codes, db_codes, Y[q], Y[db]))
            groups = map_by_frequency_group(query_codes, db_codes, Y[q], Y[db], Y[split.train])
            tails.append(groups.map["tail"])
        mean, tail = np.mean(overall), np.mean(tails)
        row = {
            "hasher": name,
            "n_items": args.n_items,
            "vocabulary": args.vocabulary,
            "words": args.words,
            "params": {
                key: value
                for key, value in hasher.get_params().items()
                if key in ("max_epochs", "text_hidden", "batch_size", "n_sampled_columns")
            },
            "fit_seconds": seconds,
            # CPU time of the process during the fit: on one thread, the fit's own cost even
            # when other jobs share the machine (wall time then runs longer).
            "fit_cpu_seconds": cpu_seconds,
            "epoch_seconds": (
                [r["duration"] for r in hasher.history_] if name == "MetaCMH" else None
            ),
            "peak_rss_gb": peak_rss_gb(),
            "fit_peak_rss_gb": fit_peak,
            "map": float(mean),
            "tail_map": float(tail),
        }
        print(json.dumps(row), flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
