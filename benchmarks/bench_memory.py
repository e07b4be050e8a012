"""Does MetaCMH's memory earn its place? Episodic training and a frequency-aware selector.

Every variant is a MetaCMH (``ResearchMetaCMHHasher``: the public hasher plus the research
options) compared, seed by seed, with the same hasher with ``memory=False``: DCMH with
MetaCMH's extensions (class-balanced pairs and the class head), so the paired difference is
what the memory (and its training) adds. All runs go through the benchmark's protocol
(:func:`skmetacmh._bench._protocol.run_once`): per-class queries, the database is every other
item, a long-tailed training set inside the database (classes ranked in a random order per
seed), a scaler fitted on the training set, head / medium / tail as thirds of the classes by
training frequency, mAP of both directions.

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
* ``many80-{single,multi}-{near,nonlinear}``: the regime study (``--regimes``,
  docs/studies/memory.rst): 80 generated classes, imbalance factor 100, tail classes of 2 to 9
  items (single-label) or 6 to 27 (multi-label, where rare labels ride on frequent ones),
  near-linear features or the same folded by a fixed ``sin(0.5 X R)``; with ``uci-if100`` and
  ``fashion-if100``, and the variants ``metacmh``, ``two_stage`` and ``centres``, scored on the
  strict tail as well.

Results go to a JSON-lines file, one line per (setting, variant, seed); a rerun skips what
the file holds, so an interrupted run resumes. The report prints mean / head / medium / tail
(and per direction) per variant, and the paired difference against ``memory_off`` with the
number of seeds on which it is positive; ``--report-only`` prints it from the file.

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --settings uci-if50 uci-if100
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --settings fewshot-1 fewshot-2 fewshot-5
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --quick
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --regimes --out regimes.jsonl
OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --report-only --out bench_memory.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.utils import Bunch

from skmetacmh._bench._data import dataset_options, load_dataset
from skmetacmh._bench._protocol import (
    DIRECTIONS,
    GROUP_NAMES,
    make_scaler,
    run_once,
    split_long_tailed,
)
from skmetacmh._labels import as_label_indicator
from skmetacmh.datasets import frequency_groups, make_cross_modal_classification
from skmetacmh.metacmh._research import ResearchMetaCMHHasher
from skmetacmh.metrics import mean_average_precision

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
    # The two levers of the regime study: decoupled two-stage training with the memory, and
    # the memory moved to code space (class centres as targets) on the memory-free network.
    "two_stage": {"two_stage": True},
    "centres": {"memory": False, "centre_weight": 1.0},
}

#: The variants of the regime study (docs/studies/memory.rst).
REGIME_VARIANTS = ("metacmh", "two_stage", "centres")


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
    # The many-class regime (issue 22): 80 classes, imbalance factor 100 (single-label: the
    # head class with 200 training items, the tail third with 2 to 9; multi-label: 6 to 27);
    # near-linear (the generator's tanh / linear maps) and nonlinear features (the same passed
    # through a fixed random folding map, see _many_class_data).
    "many80-single-near": (
        "many-classes",
        {"multilabel": False, "features": "near"},
        _protocol(10, 100),
    ),
    "many80-single-nonlinear": (
        "many-classes",
        {"multilabel": False, "features": "nonlinear"},
        _protocol(10, 100),
    ),
    "many80-multi-near": (
        "many-classes",
        {"multilabel": True, "features": "near"},
        _protocol(10, 100),
    ),
    "many80-multi-nonlinear": (
        "many-classes",
        {"multilabel": True, "features": "nonlinear"},
        _protocol(10, 100),
    ),
}

#: The many-class cells: 80 classes, 215 items each before the long tail (10 queries, the
#: rest database, the training set a long-tailed part of the database).
MANY_CLASSES, MANY_PER_CLASS = 80, 215
#: The frequency of the nonlinear cells' folding map.
FOLD = 0.5


def _many_class_data(multilabel: bool, features: str) -> Bunch:
    """The many-class generator data, balanced (the protocol draws the long tail).

    ``features="near"`` is :func:`make_cross_modal_classification` as it is (image
    ``tanh(z A)``, text ``z B``, plus noise). ``"nonlinear"`` folds each block through a fixed
    random map ``sin(FOLD X R)`` (``R`` Gaussian, unit variance per input), so that classes
    that were linearly separable are less so: on the single-label image block a logistic
    regression's held-out accuracy falls from 0.81 to 0.64 at a fold of 0.75 and to 0.18 at
    1.5 (3,000 training items, 80 classes, seed 0).
    """
    X, y = make_cross_modal_classification(
        n_samples=MANY_CLASSES * MANY_PER_CLASS,
        n_classes=MANY_CLASSES,
        multilabel=multilabel,
        n_labels=2.0,
        # Multi-label: rare labels must be rare in the pool too, or the extra labels of the
        # head's items keep every label above 50 training items.
        imbalance_factor=100.0 if multilabel else 1.0,
        random_state=0,
    )
    X_image, X_text = X[:, :64], X[:, 64:]
    if features == "nonlinear":
        rng = np.random.default_rng(7)
        fold = [
            rng.standard_normal((b.shape[1], b.shape[1])) / np.sqrt(b.shape[1])
            for b in (X_image, X_text)
        ]
        X_image, X_text = np.sin(FOLD * X_image @ fold[0]), np.sin(FOLD * X_text @ fold[1])
    return Bunch(X_image=X_image, X_text=X_text, y=np.asarray(y), name="many-classes")


def _load(dataset: str, options: dict, cache: dict) -> Bunch:
    key = (dataset, tuple(sorted(options.items())))
    if key not in cache:
        if dataset == "many-classes":
            cache[key] = _many_class_data(**options)
        else:
            cache[key] = load_dataset(dataset, dataset_options(dataset, **options))
    return cache[key]


def strict_group_map(query_codes, db_codes, y_query, y_db, y_train, group="tail") -> float | None:
    """mAP of a frequency group with strict relevance.

    A query is scored once per class of the group it carries, and a database item is
    relevant when it carries that class (``map_by_frequency_group(..., relevance="strict")``
    of the bench contract); for single-label data this is the usual group mAP.
    """
    classes = as_label_indicator(y_train)[1]
    Y_query = as_label_indicator(y_query, classes=classes)[0]
    Y_db = as_label_indicator(y_db, classes=classes)[0]
    members = frequency_groups(np.asarray(y_train))[group]
    columns = [int(np.flatnonzero(classes == c)[0]) for c in members]
    total, count = 0.0, 0
    for k in columns:
        carriers = np.flatnonzero(Y_query[:, k] > 0)
        if not len(carriers) or not Y_db[:, k].any():
            continue
        ap = mean_average_precision(
            query_codes[carriers],
            db_codes,
            np.ones(len(carriers), dtype=int),
            (Y_db[:, k] > 0).astype(int),
        )
        total, count = total + ap * len(carriers), count + len(carriers)
    return total / count if count else None


COLUMNS = ("mean", *GROUP_NAMES, "tail_strict", "i2t", "t2i", "i2t_tail", "t2i_tail")

#: The issue's bar for a new default: paired tail gain and seeds it must hold on.
TAIL_GAIN, MIN_POSITIVE, MAX_OVERALL_LOSS = 0.03, 4, 0.01


def run_one(setting: str, variant: str, n_bits: int, seed: int, overrides: dict, cache: dict):
    """One fit and its flat numbers (JSON-ready)."""
    dataset, options, protocol = SETTINGS[setting]
    data = _load(dataset, options, cache)
    params = {**VARIANTS[variant], **overrides}
    numbers = run_once(
        data, ResearchMetaCMHHasher, params, n_bits, seed, protocol=protocol, keep_hasher=True
    )
    row = {g: numbers[g] for g in ("mean", *GROUP_NAMES)}
    for short, direction in zip(("i2t", "t2i"), DIRECTIONS):
        row[short] = numbers[direction]
        row[f"{short}_tail"] = numbers["groups_by_direction"][direction]["tail"]
    row["tail_strict"] = _strict_tail(data, protocol, seed, numbers.pop("hasher"))
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


def _strict_tail(data: Bunch, protocol: dict, seed: int, hasher) -> float | None:
    """The strict tail mAP, both directions averaged, on the split ``run_once`` used."""
    split = split_long_tailed(data.y, protocol, seed)
    n_img = data.X_image.shape[1]
    X = np.hstack([data.X_image, data.X_text])
    scaler = make_scaler(n_img).fit(X[split.train])
    query, db = (scaler.transform(X[split[k]]) for k in ("query", "database"))
    y = data.y
    values = []
    for q_mod, d_mod in (("image", "text"), ("text", "image")):
        q_cols = slice(0, n_img) if q_mod == "image" else slice(n_img, None)
        d_cols = slice(0, n_img) if d_mod == "image" else slice(n_img, None)
        q = np.asarray(hasher.encode(query[:, q_cols], modality=q_mod))
        d = np.asarray(hasher.encode(db[:, d_cols], modality=d_mod))
        value = strict_group_map(q, d, y[split.query], y[split.database], y[split.train])
        if value is not None:
            values.append(value)
    return float(np.mean(values)) if values else None


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
    hasher = ResearchMetaCMHHasher(n_bits=n_bits, n_image_features=n_img, random_state=seed)
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
            means = [np.mean([r[c] for r in mine if r.get(c) is not None]) for c in COLUMNS]
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


def _paired_cells(rows, setting, variants, bits, base, tail: str, missing: str) -> list[str]:
    """One table row's cells after the setting: ``memory=False``'s mean / ``tail`` over the
    seeds of ``base``, then per variant ``d mean / d tail (seeds with a tail gain / seeds)``."""
    cells = [
        f"     - {np.mean([r['mean'] for r in base]):.3f} / "
        f"{np.mean([r[tail] for r in base]):.3f} ({len(base)} seeds)"
    ]
    for variant in variants:
        _, d_mean = paired(rows, setting, variant, bits, "mean")
        seeds, d_tail = paired(rows, setting, variant, bits, tail)
        if not len(seeds):
            cells.append(f"     - {missing}")
            continue
        cells.append(
            f"     - {d_mean.mean():+.3f} / {d_tail.mean():+.3f} "
            f"({int((d_tail > 0).sum())}/{len(seeds)})"
        )
    return cells


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
        lines += _paired_cells(rows, setting, variants, bits, base, "tail", missing="n/a")
    return "\n".join(lines)


#: The cells of the regime study: the many-class ones, where a lever must earn its gain, and
#: the real sets at their most long-tailed settings, where it must cost nothing.
MANY_CLASS_CELLS = (
    "many80-single-near",
    "many80-single-nonlinear",
    "many80-multi-near",
    "many80-multi-nonlinear",
)
REGIME_CELLS = (*MANY_CLASS_CELLS, "uci-if100", "fashion-if100")


def regime_verdict(rows: list[dict], bits: int, variant: str) -> tuple[bool, list[str]]:
    """The issue's rule: a strict-tail gain >= +0.03 on >= 4 of 5 seeds in every many-class
    cell, and a loss of at most 0.01 (overall, and on the tail outside those cells) anywhere."""
    reasons = []
    for setting in REGIME_CELLS:
        seeds, d_mean = paired(rows, setting, variant, bits, "mean")
        _, d_tail = paired(rows, setting, variant, bits, "tail_strict")
        if not len(seeds):
            reasons.append(f"{setting}: not run")
            continue
        if d_mean.mean() < -MAX_OVERALL_LOSS:
            reasons.append(f"{setting}: overall {d_mean.mean():+.3f}")
        if setting in MANY_CLASS_CELLS:
            if not (d_tail.mean() >= TAIL_GAIN and (d_tail > 0).sum() >= MIN_POSITIVE):
                reasons.append(
                    f"{setting}: tail {d_tail.mean():+.3f} ({(d_tail > 0).sum()}/{len(seeds)})"
                )
        elif d_tail.mean() < -MAX_OVERALL_LOSS:
            reasons.append(f"{setting}: tail {d_tail.mean():+.3f}")
    return not reasons, reasons


def report_regimes(rows: list[dict], bits: int, variants=REGIME_VARIANTS) -> str:
    """The regime study's RST table: per cell, ``memory=False``'s numbers and each variant's
    paired differences ``d overall / d strict tail (seeds with a tail gain / seeds)``."""
    lines = [
        f".. list-table:: paired difference to ``memory=False`` ({bits} bits, mean over seeds): "
        "d overall / d strict tail (seeds with a tail gain)",
        "   :header-rows: 1",
        "",
        "   * - cell",
        "     - train items (tail class sizes)",
        "     - memory off: overall / strict tail",
        *(f"     - ``{v}``" for v in variants),
    ]
    for setting in (s for s in REGIME_CELLS if any(r["setting"] == s for r in rows)):
        base = [r for r in rows if r["setting"] == setting and r["variant"] == BASELINE]
        base = [r for r in base if r["bits"] == bits]
        if not base:
            continue
        counts = np.sort(np.asarray(base[0]["train_counts"]))
        tail = counts[: max(1, len(counts) // 3)]
        lines.append(f"   * - {setting}")
        lines.append(f"     - {base[0]['n_train']} ({tail.min()}-{tail.max()})")
        lines += _paired_cells(
            rows, setting, variants, bits, base, "tail_strict", missing="not run"
        )
    lines.append("")
    for variant in variants:
        passed, reasons = regime_verdict(rows, bits, variant)
        lines.append(
            f"* ``{variant}``: {'earns the default' if passed else 'fails: ' + '; '.join(reasons)}"
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
        "--regimes",
        action="store_true",
        help="the regime study: its cells and variants (docs/studies/memory.rst)",
    )
    parser.add_argument(
        "--hallucinator",
        action="store_true",
        help="only print how often the hallucinator recalls a query's own class",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    overrides = {k: parse_value(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    if args.regimes:
        args.settings, args.variants = list(REGIME_CELLS), [BASELINE, *REGIME_VARIANTS]
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
    if args.regimes:
        print(report_regimes(chosen, args.bits))
    elif args.rst:
        shown = [v for v in args.variants if v != BASELINE]
        print(report_rst(chosen, args.bits, shown))


if __name__ == "__main__":
    main()
