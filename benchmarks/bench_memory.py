"""Does MetaCMH's memory earn its place? Episodic training and a frequency-aware selector.

Every variant is a :class:`~skmetacmh.MetaCMHHasher` and is compared, seed by seed, with the
same hasher with ``memory=False``: DCMH with MetaCMH's extensions (class-balanced pairs and the
class head), so the paired difference is what the memory (and its training) adds. All runs go
through the benchmark's protocol (:func:`skmetacmh._bench._protocol.run_once`): per-class
queries, the database is every other item, a long-tailed training set inside the database
(classes ranked in a random order per seed), a scaler fitted on the training set, head /
medium / tail as thirds of the classes by training frequency, mAP of both directions.

Settings (``--settings``):

* ``uci-if50``, ``uci-if100``: UCI Multiple Features (pix as image, fou as text), 20 queries
  per class, imbalance factor 50 / 100;
* ``fewshot-1``, ``fewshot-2``, ``fewshot-5``: UCI with imbalance factor 10, and the tail third
  of the classes cut to exactly 1, 2 or 5 training items (``tail_shots`` of the protocol);
* ``multilabel-if50``: ``synthetic-multilabel`` (1,500 items, 10 labels, ~2 per item, rare
  labels riding on items with frequent ones), 10 queries per label, the multi-label long tail
  of :func:`skmetacmh.datasets.make_long_tailed` at imbalance factor 50;
* ``fashion-if50``, ``fashion-if100``: Fashion-MNIST halves (top half image, bottom half
  text), a class-stratified subsample of 6,500 items (650 per class: 50 queries and 600
  database items per class).

Results go to a JSON-lines file, one line per (setting, variant, seed); a rerun skips what
the file holds, so an interrupted run resumes. The report prints mean / head / medium / tail
(and per direction) per variant, and the paired difference against ``memory_off`` with the
number of seeds on which it is positive; ``--report-only`` prints it from the file.

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --settings uci-if50 uci-if100
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --settings fewshot-1 fewshot-2 fewshot-5
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --quick
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --report-only --out bench_memory.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from skmetacmh import MetaCMHHasher
from skmetacmh._bench._data import dataset_options, load_dataset
from skmetacmh._bench._protocol import (
    DIRECTIONS,
    GROUP_NAMES,
    make_scaler,
    run_once,
    split_long_tailed,
)
from skmetacmh.datasets import frequency_groups

#: The reference every variant is paired with: the memory off, everything else the same.
BASELINE = "memory_off"

#: name -> MetaCMHHasher parameters (on top of the package defaults).
VARIANTS = {
    BASELINE: {"memory": False},
    "metacmh": {},
    "frequency": {"frequency_aware": True},
    "episodic": {"episodic": True},
    "episodic_frequency": {"episodic": True, "frequency_aware": True},
    "episodic_k2": {"episodic": True, "episode_length": 2},
    "episodic_codes": {"episodic": True, "memory_source": "codes"},
    "episodic_q75": {"episodic": True, "query_fraction": 0.75},
    # The hallucinator taught to recall the item's own classes (class-balanced), so that an
    # unseen tail item recalls its class's centroid.
    "recall": {"recall_weight": 1.0},
    "episodic_recall": {"episodic": True, "recall_weight": 1.0},
    "episodic_frequency_recall": {"episodic": True, "frequency_aware": True, "recall_weight": 1.0},
    # Kang et al.'s tau-normalised classifier applied to the hallucinator after training.
    "tau1": {"hallucinator_tau": 1.0},
    "recall_tau1": {"recall_weight": 1.0, "hallucinator_tau": 1.0},
    "episodic_recall_tau1": {"episodic": True, "recall_weight": 1.0, "hallucinator_tau": 1.0},
}


def _protocol(n_query, imbalance_factor, **extra) -> dict:
    return {
        "query": "per_class",
        "n_query": n_query,
        "imbalance_factor": float(imbalance_factor),
        "n_train": None,
        "shuffle_classes": True,
        **extra,
    }


#: name -> (benchmark dataset, dataset options, protocol).
SETTINGS = {
    "uci-if50": ("uci-mfeat", {}, _protocol(20, 50)),
    "uci-if100": ("uci-mfeat", {}, _protocol(20, 100)),
    "fewshot-1": ("uci-mfeat", {}, _protocol(20, 10, tail_shots=1)),
    "fewshot-2": ("uci-mfeat", {}, _protocol(20, 10, tail_shots=2)),
    "fewshot-5": ("uci-mfeat", {}, _protocol(20, 10, tail_shots=5)),
    "multilabel-if50": ("synthetic-multilabel", {"n_samples": 1500}, _protocol(10, 50)),
    "fashion-if50": ("fashion-mnist-halves", {"n_samples": 6500}, _protocol(50, 50)),
    "fashion-if100": ("fashion-mnist-halves", {"n_samples": 6500}, _protocol(50, 100)),
}

COLUMNS = ("mean", *GROUP_NAMES, "i2t", "t2i", "i2t_tail", "t2i_tail")

#: The issue's bar for a new default: paired tail gain and seeds it must hold on.
TAIL_GAIN, MIN_POSITIVE, MAX_OVERALL_LOSS = 0.03, 4, 0.01


def run_one(setting: str, variant: str, n_bits: int, seed: int, overrides: dict, cache: dict):
    """One fit and its flat numbers (JSON-ready)."""
    dataset, options, protocol = SETTINGS[setting]
    key = (dataset, tuple(sorted(options.items())))
    if key not in cache:
        cache[key] = load_dataset(dataset, dataset_options(dataset, **options))
    params = {**VARIANTS[variant], **overrides}
    numbers = run_once(cache[key], MetaCMHHasher, params, n_bits, seed, protocol=protocol)
    row = {g: numbers[g] for g in ("mean", *GROUP_NAMES)}
    for short, direction in zip(("i2t", "t2i"), DIRECTIONS):
        row[short] = numbers[direction]
        row[f"{short}_tail"] = numbers["groups_by_direction"][direction]["tail"]
    return {
        "setting": setting,
        "variant": variant,
        "bits": n_bits,
        "seed": seed,
        "overrides": overrides,
        **row,
        "n_train": numbers["n_train"],
        "train_counts": numbers["train_counts"],
        "fit_seconds": numbers["fit_seconds"],
    }


def hallucinator_accuracy(setting: str, variant: str, n_bits: int, seed: int, cache: dict):
    """How often each memory's hallucinator recalls a query's own class (single-label data).

    The same split, scaler and fit as :func:`run_one`; the top recalled class of every query's
    direct feature against its label, over all queries and over the tail classes' queries.
    """
    dataset, options, protocol = SETTINGS[setting]
    key = (dataset, tuple(sorted(options.items())))
    if key not in cache:
        cache[key] = load_dataset(dataset, dataset_options(dataset, **options))
    data = cache[key]
    split = split_long_tailed(data.y, protocol, seed)
    X = np.hstack([data.X_image, data.X_text])
    n_img = data.X_image.shape[1]
    scaler = make_scaler(n_img).fit(X[split.train])
    y_train, y_query = data.y[split.train], data.y[split.query]
    hasher = MetaCMHHasher(n_bits=n_bits, n_image_features=n_img, random_state=seed)
    hasher.set_params(**VARIANTS[variant]).fit(scaler.transform(X[split.train]), y_train)
    X_query = torch.as_tensor(scaler.transform(X[split.query]), dtype=torch.float32)
    tail = np.isin(y_query, frequency_groups(y_train)["tail"])
    result = {}
    for name, cols in (("image", slice(0, n_img)), ("text", slice(n_img, None))):
        net = hasher.module_.modality(name)
        with torch.no_grad():
            recalled = net.memory.hallucinator(net.direct(X_query[:, cols])).argmax(dim=1)
        hit = hasher.classes_[recalled.numpy()] == y_query
        result[name] = (float(hit.mean()), float(hit[tail].mean()))
    return result


def _key(row) -> tuple:
    return (row["setting"], row["variant"], row["bits"], row["seed"], json.dumps(row["overrides"]))


def load_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def paired(rows, setting, variant, bits, column):
    """Per-seed differences ``variant - memory_off`` of one column (seeds both have)."""
    by_seed = {}
    for row in rows:
        if row["setting"] == setting and row["bits"] == bits and row[column] is not None:
            by_seed.setdefault(row["seed"], {})[row["variant"]] = row[column]
    seeds = sorted(s for s, v in by_seed.items() if variant in v and BASELINE in v)
    return seeds, np.array([by_seed[s][variant] - by_seed[s][BASELINE] for s in seeds])


def report(rows: list[dict], bits: int) -> str:
    """The table of means and paired differences, and the issue's verdict per variant."""
    lines = []
    settings = [s for s in SETTINGS if any(r["setting"] == s for r in rows)]
    wins = {}
    for setting in settings:
        here = [r for r in rows if r["setting"] == setting and r["bits"] == bits]
        n_train = sorted({r["n_train"] for r in here})
        header = "| variant | seeds | " + " | ".join(COLUMNS) + " | d mean | d tail | tail+ |"
        lines.append(f"\n### {setting} ({bits} bits, n_train {n_train[0]}..{n_train[-1]})\n")
        lines.append(header + "\n" + "|---" * (len(COLUMNS) + 5) + "|")
        for variant in VARIANTS:
            mine = [r for r in here if r["variant"] == variant]
            if not mine:
                continue
            means = [np.mean([r[c] for r in mine if r[c] is not None]) for c in COLUMNS]
            cells = " | ".join(f"{m:.3f}" for m in means)
            _, d_mean = paired(rows, setting, variant, bits, "mean")
            seeds, d_tail = paired(rows, setting, variant, bits, "tail")
            diff = "| | | |"
            if variant != BASELINE and len(seeds):
                positive = int((d_tail > 0).sum())
                diff = (
                    f"| {d_mean.mean():+.3f} (min {d_mean.min():+.3f}) "
                    f"| {d_tail.mean():+.3f} ± {d_tail.std():.3f} | {positive}/{len(seeds)} |"
                )
                wins.setdefault(variant, {})[setting] = (
                    d_tail.mean() >= TAIL_GAIN and positive >= MIN_POSITIVE,
                    d_mean.mean() >= -MAX_OVERALL_LOSS,
                )
            lines.append(f"| {variant} | {len(mine)} | {cells} {diff}")
    lines.append(
        f"\nVerdict (tail gain >= {TAIL_GAIN} on >= {MIN_POSITIVE} seeds, on >= 2 settings; "
        f"overall loss <= {MAX_OVERALL_LOSS} on every setting):"
    )
    for variant, per_setting in wins.items():
        gains = [s for s, (gain, _) in per_setting.items() if gain]
        losses = [s for s, (_, ok) in per_setting.items() if not ok]
        passed = len(gains) >= 2 and not losses
        lines.append(
            f"- {variant}: {'PASSES' if passed else 'fails'}; tail gain on {gains or 'none'}; "
            f"overall loss > {MAX_OVERALL_LOSS} on {losses or 'none'}"
        )
    return "\n".join(lines)


def report_rst(rows: list[dict], bits: int, variants) -> str:
    """The paired differences as an RST list-table: one row per setting, one column per variant.

    A cell is ``d mean / d tail (k)``: the mean over seeds of the variant minus ``memory_off``,
    overall and on the tail, and ``k`` the seeds on which the tail difference is positive.
    """
    settings = [s for s in SETTINGS if any(r["setting"] == s for r in rows)]
    lines = [
        f".. list-table:: paired difference to ``memory=False`` ({bits} bits): "
        "d overall / d tail (seeds with a tail gain)",
        "   :header-rows: 1",
        "",
        "   * - setting",
        "     - memory off: overall / tail",
        *(f"     - ``{v}``" for v in variants),
    ]
    for setting in settings:
        base = [r for r in rows if r["setting"] == setting and r["variant"] == BASELINE]
        base = [r for r in base if r["bits"] == bits]
        lines.append(f"   * - {setting}")
        lines.append(
            f"     - {np.mean([r['mean'] for r in base]):.3f} / "
            f"{np.mean([r['tail'] for r in base]):.3f} ({len(base)} seeds)"
        )
        for variant in variants:
            _, d_mean = paired(rows, setting, variant, bits, "mean")
            seeds, d_tail = paired(rows, setting, variant, bits, "tail")
            if not len(seeds):
                lines.append("     - n/a")
                continue
            lines.append(
                f"     - {d_mean.mean():+.3f} / {d_tail.mean():+.3f} "
                f"({int((d_tail > 0).sum())}/{len(seeds)})"
            )
    return "\n".join(lines)


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--set", nargs="*", default=[], help="param=value for every variant")
    parser.add_argument("--out", type=Path, default=Path("bench_memory.jsonl"))
    parser.add_argument("--quick", action="store_true", help="one seed, 5 epochs, UCI IF 50")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--rst", action="store_true", help="also print the RST table")
    parser.add_argument(
        "--hallucinator",
        action="store_true",
        help="only print how often the hallucinator recalls a query's own class",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    overrides = {k: parse_value(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    if args.quick:
        args.seeds, args.settings = args.seeds[:1], args.settings[:1]
        overrides.setdefault("max_epochs", 5)
    if args.hallucinator:
        cache: dict = {}
        for setting in args.settings:
            for variant in (v for v in args.variants if v != BASELINE):
                for seed in args.seeds:
                    acc = hallucinator_accuracy(setting, variant, args.bits, seed, cache)
                    print(
                        f"{setting} {variant} seed {seed}: hallucinator top-1 on queries "
                        + "  ".join(f"{m} {a:.2f} (tail {t:.2f})" for m, (a, t) in acc.items()),
                        flush=True,
                    )
        return
    rows = load_rows(args.out)
    if not args.report_only:
        done = {_key(r) for r in rows}
        cache: dict = {}
        variants = [BASELINE, *(v for v in args.variants if v != BASELINE)]
        for setting in args.settings:
            for seed in args.seeds:
                for variant in variants:
                    probe = {
                        "setting": setting,
                        "variant": variant,
                        "bits": args.bits,
                        "seed": seed,
                        "overrides": overrides,
                    }
                    if _key(probe) in done:
                        continue
                    row = run_one(setting, variant, args.bits, seed, overrides, cache)
                    rows.append(row)
                    with args.out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(
                        f"{setting} {variant} seed {seed}: mean {row['mean']:.4f} "
                        f"tail {row['tail']:.4f} ({row['fit_seconds']:.1f}s)",
                        flush=True,
                    )
    chosen = [r for r in rows if r["overrides"] == overrides and r["setting"] in args.settings]
    print(report(chosen, args.bits))
    if args.rst:
        shown = [v for v in args.variants if v != BASELINE]
        print(report_rst(chosen, args.bits, shown))


if __name__ == "__main__":
    main()
