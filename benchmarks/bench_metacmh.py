"""MetaCMH vs DCMH on long-tailed UCI Multiple Features: head/medium/tail mAP, speed.

The benchmark's protocol (:mod:`skmetacmh._bench._protocol`, the same split, scaler and scorer
as ``skmetacmh-bench``): 20 queries per class; the database is every non-query item; the
training set is a long-tailed subset of the database (exponential class-size profile from the
largest class size down to size / imbalance factor, classes ranked in a random order per
seed); features standardised with a scaler fit on the training set. View ``pix`` is the image
modality and ``fou`` the text. Groups are thirds of the classes by training frequency. A
variant with the package defaults gives the numbers of ``skmetacmh-bench`` for the same seeds.

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_metacmh.py --seeds 0 1 2 3 4 --bits 16 32 64
OMP_NUM_THREADS=1 python benchmarks/bench_metacmh.py --quick
OMP_NUM_THREADS=1 python benchmarks/bench_metacmh.py --variants dcmh metacmh --bits 32 \
    --set max_epochs=100 learning_rate=3e-4
OMP_NUM_THREADS=1 python benchmarks/bench_metacmh.py --imbalance-factor 200 --seeds 0 1 2 \
    --bits 32 --variants dcmh dcmh_balanced_head metacmh metacmh_codes
OMP_NUM_THREADS=1 python benchmarks/bench_metacmh.py --dataset fashion --imbalance-factor 100 \
    --seeds 0 1 2 --bits 32 --variants dcmh dcmh_balanced_head metacmh metacmh_codes

``--dataset fashion`` uses the benchmark's ``fashion-mnist-halves`` (top half image, bottom
half text, :func:`skmetacmh.datasets.load_fashion_mnist_halves`), a class-stratified subsample
of ``--fashion-per-class`` items per class (default 650: 50 queries + 600 database items per
class, a 6,000-item database), with ``--n-query-per-class`` 50 unless given.
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from skmetacmh._bench._data import dataset_options, load_dataset, make_timing_data
from skmetacmh._bench._protocol import DIRECTIONS, GROUP_NAMES, run_once, split_long_tailed
from skmetacmh._bench._registry import make_hasher, resolve_hasher
from skmetacmh.metacmh._research import ResearchMetaCMHHasher

# name -> (benchmark hasher name, parameters); the ablation of the extensions over the
# faithful model. The MetaCMH variants pin selector_init="random" (the method's
# initialisation, and the package default when they were measured); "metacmh" is whatever the
# package default is.
_RANDOM = {"selector_init": "random"}
_LONG_TAIL_OPTIONS = ("class_weight", "classification_weight")
VARIANTS = {
    "dcmh": ("DCMH", {}),
    "metacmh_faithful": (
        "MetaCMH",
        {**_RANDOM, "class_weight": None, "classification_weight": 0.0},
    ),
    "metacmh_faithful_reach": (
        "MetaCMH",
        {**_RANDOM, "class_weight": None, "classification_weight": 0.0, "reachability": True},
    ),
    "metacmh_balanced": ("MetaCMH", {**_RANDOM, "classification_weight": 0.0}),
    "metacmh_head": ("MetaCMH", {**_RANDOM, "class_weight": None}),
    "metacmh": ("MetaCMH", {}),
    "metacmh_random_selector": ("MetaCMH", _RANDOM),
    "metacmh_reach": ("MetaCMH", {**_RANDOM, "reachability": True}),
    "metacmh_recall": ("MetaCMH", {**_RANDOM, "recall_weight": 1.0}),
    "metacmh_codes": ("MetaCMH", {**_RANDOM, "memory_source": "codes"}),
    "metacmh_proto": ("MetaCMH", {**_RANDOM, "memory_source": "classifier"}),
    "metacmh_zero_selector": ("MetaCMH", {"selector_init": "zero"}),
    # DCMH with MetaCMH's default extensions (filled in by variant()): isolates what the
    # memory itself adds.
    "dcmh_balanced_head": ("DCMH", dict.fromkeys(_LONG_TAIL_OPTIONS)),
    # The faithful models with the slow schedule that suited DCMH best in METHOD.md.
    "dcmh_slow": ("DCMH", {"learning_rate": 1e-4, "max_epochs": 150}),
    "metacmh_faithful_slow": (
        "MetaCMH",
        {
            **_RANDOM,
            "class_weight": None,
            "classification_weight": 0.0,
            "learning_rate": 1e-4,
            "max_epochs": 150,
        },
    ),
    # The class-balanced linear floor of METHOD.md (not a deep model: --set does not apply).
    "ridge_floor": ("RidgeFloor", {}),
}
_DEEP = ("MetaCMH", "DCMH")
COLUMNS = ("all", *GROUP_NAMES, "i2t_all", "t2i_all", "i2t_tail", "t2i_tail")


def variant(name: str, overrides: dict | None = None):
    """``(hasher class, parameters)`` of an ablation variant, ``overrides`` on deep models."""
    hasher, params = VARIANTS[name]
    if name == "dcmh_balanced_head":
        defaults = resolve_hasher("MetaCMH")().get_params()
        params = {key: defaults[key] for key in _LONG_TAIL_OPTIONS}
    if hasher in _DEEP:
        params = {**params, **(overrides or {})}
    if hasher == "MetaCMH":
        # The research options (selector_init, reachability, ...) are not public parameters.
        return ResearchMetaCMHHasher, params
    return resolve_hasher(hasher), params


def load(dataset: str, fashion_per_class: int = 650):
    """The benchmark dataset behind ``--dataset`` (``uci`` or ``fashion``)."""
    if dataset == "uci":
        return load_dataset("uci-mfeat", dataset_options("uci-mfeat"))
    name = "fashion-mnist-halves"
    return load_dataset(name, dataset_options(name, n_samples=10 * fashion_per_class))


def protocol(n_query_per_class=20, imbalance_factor=50.0) -> dict:
    """The benchmark protocol with these queries per class and imbalance factor."""
    return {
        "query": "per_class",
        "n_query": int(n_query_per_class),
        "imbalance_factor": float(imbalance_factor),
        "n_train": None,
        "shuffle_classes": True,
    }


def run_one(name, n_bits, seed, overrides, data, n_query_per_class=20, imbalance_factor=50):
    """One variant on one seed, scored by the benchmark's :func:`run_once`; flat numbers."""
    cls, params = variant(name, overrides)
    numbers = run_once(
        data,
        cls,
        params,
        n_bits,
        seed,
        protocol=protocol(n_query_per_class, imbalance_factor),
        keep_hasher=True,
    )
    history = getattr(numbers["hasher"], "history_", None)
    res = {"all": numbers["mean"], **{g: numbers[g] for g in GROUP_NAMES}}
    for short, direction in zip(("i2t", "t2i"), DIRECTIONS):
        res[f"{short}_all"] = numbers[direction]
        for group in GROUP_NAMES:
            res[f"{short}_{group}"] = numbers["groups_by_direction"][direction][group]
    res.update(
        fit_s=numbers["fit_seconds"],
        epoch_s=float(np.mean([h["duration"] for h in history])) if history else float("nan"),
        n_train=numbers["n_train"],
    )
    return res


def epoch_times(n_items=None, n_bits=32, repeats=3, max_epochs=6, seed=0):
    """CPU seconds per epoch of DCMH and MetaCMH, fitted in turn on the same data.

    ``n_items=None`` uses the long-tailed UCI training set of seed 0; an int uses that many
    synthetic items with the UCI widths (240 + 76 features, 10 classes). Process CPU time
    (one thread) is used instead of wall time because the machine is shared; the fits
    alternate so that what load remains hits all models alike; the median over repeats.
    """
    if n_items is None:
        data = load("uci")
        train = split_long_tailed(data.y, protocol(), seed).train
        X = StandardScaler().fit_transform(np.hstack([data.X_image, data.X_text])[train])
        y = data.y[train]
    else:
        X, y = make_timing_data(n_items, 240, 76, np.random.default_rng(seed))
    names = ("dcmh", "metacmh_faithful", "dcmh_balanced_head", "metacmh")
    times = {name: [] for name in names}
    for _ in range(repeats):
        for name in names:
            cls, params = variant(name, {"max_epochs": max_epochs})
            h = make_hasher(cls, params, n_bits, 240, 0)
            start = time.process_time()
            h.fit(X, y)
            times[name].append((time.process_time() - start) / max_epochs)
    return {name: float(np.median(t)) for name, t in times.items()}, len(y)


def encode_throughput(n_items=100_000, n_bits=32, seed=0):
    """Items per second of ``encode`` for the default MetaCMH on 240-d standardised input."""
    data = load("uci")
    X = StandardScaler().fit_transform(np.hstack([data.X_image, data.X_text]))
    cls, params = variant("metacmh", {"max_epochs": 2})
    h = make_hasher(cls, params, n_bits, 240, seed).fit(X, data.y)
    big = np.random.default_rng(seed).standard_normal((n_items, 240))
    h.encode(big[:1000], modality="image")  # warm-up
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        h.encode(big, modality="image")
        best = min(best, time.perf_counter() - start)
    return n_items / best


def report_speed():
    for n_items in (None, 10_000):
        med, n = epoch_times(n_items)
        print(
            f"CPU seconds per epoch (fit incl. set-up), n_train={n}: "
            + "  ".join(f"{k} {v:.4f}" for k, v in med.items())
            + f"  | memory overhead: faithful {med['metacmh_faithful'] / med['dcmh']:.2f}x, "
            f"default {med['metacmh'] / med['dcmh_balanced_head']:.2f}x",
            flush=True,
        )
    print(
        f"encode throughput: {encode_throughput():,.0f} items/s "
        "(image modality, 32 bits, 100,000 items, 1 thread, best of 3)"
    )


def parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--bits", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument(
        "--variants",
        nargs="+",
        default=[
            "dcmh",
            "dcmh_slow",
            "metacmh_faithful",
            "metacmh_faithful_slow",
            "metacmh_faithful_reach",
            "metacmh_balanced",
            "metacmh_head",
            "metacmh",
            "metacmh_reach",
            "dcmh_balanced_head",
            "ridge_floor",
        ],
        choices=list(VARIANTS),
    )
    parser.add_argument("--dataset", choices=["uci", "fashion"], default="uci")
    parser.add_argument("--imbalance-factor", type=float, default=50.0)
    parser.add_argument(
        "--n-query-per-class", type=int, default=None, help="20 for uci, 50 for fashion"
    )
    parser.add_argument("--fashion-per-class", type=int, default=650)
    parser.add_argument("--set", nargs="*", default=[], help="param=value for every deep model")
    parser.add_argument("--quick", action="store_true", help="1 seed, 32 bits, few epochs")
    parser.add_argument("--speed", action="store_true", help="also time epochs and encoding")
    parser.add_argument("--speed-only", action="store_true", help="only the speed section")
    parser.add_argument("--json", type=Path, default=None, help="write all rows here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    overrides = dict(kv.split("=", 1) for kv in args.set)
    overrides = {k: parse_value(v) for k, v in overrides.items()}
    if args.quick:
        args.seeds, args.bits = args.seeds[:1], [32]
        overrides.setdefault("max_epochs", 10)
    if args.speed_only:
        report_speed()
        return
    data = load(args.dataset, args.fashion_per_class)
    n_query = args.n_query_per_class or (20 if args.dataset == "uci" else 50)
    rows = []
    cols = COLUMNS
    print(
        f"dataset: {args.dataset}  imbalance factor: {args.imbalance_factor:g}  "
        f"queries/class: {n_query}  overrides: {overrides}  seeds: {args.seeds}"
    )
    header = f"{'variant':24s} bits " + " ".join(f"{c:>11s}" for c in cols)
    print(header + "   epoch_s   fit_s")
    for n_bits in args.bits:
        for name in args.variants:
            results = [
                run_one(name, n_bits, s, overrides, data, n_query, args.imbalance_factor)
                for s in args.seeds
            ]
            mean = {k: float(np.mean([r[k] for r in results])) for k in results[0]}
            std = {k: float(np.std([r[k] for r in results])) for k in results[0]}
            rows.append(
                {
                    "variant": name,
                    "bits": n_bits,
                    "mean": mean,
                    "std": std,
                    "runs": results,
                    "overrides": overrides,
                    "dataset": args.dataset,
                    "imbalance_factor": args.imbalance_factor,
                }
            )
            line = f"{name:24s} {n_bits:4d} " + " ".join(
                f"{mean[c]:.3f}±{std[c]:.3f}" for c in cols
            )
            print(
                line
                + f" {mean['epoch_s']:9.4f} {mean['fit_s']:7.2f}"
                + f"   (tail std {std['tail']:.3f})",
                flush=True,
            )
    if args.speed:
        report_speed()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
