"""Turning raw benchmark runs into a markdown table, a CSV file and figures.

Runs are aggregated over seeds per (dataset, hasher and its parameters, code length) as
mean ± standard deviation (sample standard deviation; 0 for a single seed).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

__all__ = [
    "aggregate",
    "markdown_table",
    "rst_table",
    "write_csv",
    "write_plots",
    "table_columns",
    "METRICS",
    "STRICT_METRICS",
    "LEARNED_METRICS",
]

#: Aggregated columns of every run: (key in a run, column title, format). ``head``, ``medium``
#: and ``tail`` are the lenient group scores (a query of the group, relevant = shares any
#: label); for multi-label data the table then calls the tail column "tail (lenient)".
METRICS = (
    ("image_to_text", "I→T mAP", ".3f"),
    ("text_to_image", "T→I mAP", ".3f"),
    ("mean", "mean mAP", ".3f"),
    ("head", "head", ".3f"),
    ("medium", "medium", ".3f"),
    ("tail", "tail", ".3f"),
    ("fit_seconds", "fit (s)", ".2f"),
    ("encode_items_per_second", "encode (items/s)", "thousands"),
)

#: The strict group scores (a query once per class of the group, relevant = carries it). In
#: the table when a row is multi-label (tail only; CSV and JSON have all three).
STRICT_METRICS = (
    ("head_strict", "head (strict)", ".3f"),
    ("medium_strict", "medium (strict)", ".3f"),
    ("tail_strict", "tail (strict)", ".3f"),
)

#: The authors' protocol (``learned_codes``): the learned training codes as the database. In
#: the table when a run had the option (n/a for a hasher without learned codes).
LEARNED_METRICS = (
    ("learned_image_to_text", "I→T mAP, learned db", ".3f"),
    ("learned_text_to_image", "T→I mAP, learned db", ".3f"),
    ("learned_mean", "mean mAP, learned db", ".3f"),
    ("learned_head", "head, learned db", ".3f"),
    ("learned_medium", "medium, learned db", ".3f"),
    ("learned_tail", "tail, learned db", ".3f"),
    ("learned_head_strict", "head (strict), learned db", ".3f"),
    ("learned_medium_strict", "medium (strict), learned db", ".3f"),
    ("learned_tail_strict", "tail (strict), learned db", ".3f"),
)

_ALL_METRICS = (*METRICS, *STRICT_METRICS, *LEARNED_METRICS)


def method_label(run: dict) -> str:
    """``Hasher``, or ``Hasher(param=value, ...)`` when the run set parameters."""
    # A "module:Class" hasher is shown by its class name.
    name = run["hasher"].rpartition(":")[2]
    params = run.get("params") or {}
    if not params:
        return name
    inner = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
    return f"{name}({inner})"


def _group_key(run: dict):
    return (run["dataset"], method_label(run), int(run["bits"]))


def aggregate(runs: list[dict]) -> list[dict]:
    """One row per (dataset, method, bits) with ``<metric>_mean``/``_std`` and ``n_seeds``.

    Rows keep the order in which their first run appears (the order of the configuration).
    A metric no run of a row has (a run of an earlier version, a hasher without learned
    codes) is ``None``: "n/a" in the tables. ``multilabel`` says whether the row's data are
    multi-label (``None`` when its runs predate that field) and ``learned`` whether its runs
    scored the learned codes.
    """
    groups: dict = {}
    for run in runs:
        groups.setdefault(_group_key(run), []).append(run)
    rows = []
    for (dataset, method, bits), members in groups.items():
        flags = [m.get("multilabel") for m in members]
        row = {
            "dataset": dataset,
            "method": method,
            "bits": bits,
            "n_seeds": len(members),
            "multilabel": None if None in flags else any(flags),
            "learned": any("learned_mean" in m for m in members),
        }
        for key, _, _ in _ALL_METRICS:
            values = np.array([m[key] for m in members if m.get(key) is not None], dtype=float)
            row[f"{key}_mean"] = float(values.mean()) if values.size else None
            row[f"{key}_std"] = float(values.std(ddof=1)) if values.size > 1 else 0.0
        rows.append(row)
    return rows


def _format(value: float, fmt: str) -> str:
    if fmt == "thousands":  # throughputs: 73k reads faster than 7.3e+04
        return f"{value / 1e3:.0f}k" if value >= 1e3 else f"{value:.0f}"
    return format(value, fmt)


def _cell(row, key, fmt):
    mean, std = row.get(f"{key}_mean"), row.get(f"{key}_std")
    if mean is None:
        return "n/a"
    if row["n_seeds"] < 2:
        return _format(mean, fmt)
    return f"{_format(mean, fmt)} ± {_format(std, fmt)}"


def table_columns(rows: list[dict]) -> list[tuple]:
    """The columns of the tables: (key, title, format).

    Every run's columns, with the tail column labelled "tail (lenient)" and followed by
    "tail (strict)" when a row is multi-label, then the learned-codes columns when a row
    scored them (lenient and strict tail both, for multi-label rows).
    """
    multilabel = any(row.get("multilabel") for row in rows)
    columns = []
    for key, title, fmt in METRICS:
        if key == "tail" and multilabel:
            columns += [(key, "tail (lenient)", fmt), STRICT_METRICS[-1]]
        else:
            columns.append((key, title, fmt))
    if any(row.get("learned") for row in rows):
        wanted = ["learned_image_to_text", "learned_text_to_image", "learned_mean"]
        wanted += ["learned_tail", "learned_tail_strict"] if multilabel else ["learned_tail"]
        titles = {key: (key, title, fmt) for key, title, fmt in LEARNED_METRICS}
        if multilabel:
            titles["learned_tail"] = ("learned_tail", "tail (lenient), learned db", ".3f")
        columns += [titles[key] for key in wanted]
    return columns


def _table(rows: list[dict]):
    columns = table_columns(rows)
    header = ["dataset", "hasher", "bits", *(title for _, title, _ in columns), "seeds"]
    body = [
        [row["dataset"], row["method"], str(row["bits"])]
        + [_cell(row, key, fmt) for key, _, fmt in columns]
        + [str(row["n_seeds"])]
        for row in rows
    ]
    return header, body


def markdown_table(rows: list[dict]) -> str:
    """A GitHub-flavoured markdown table of aggregated rows (mean ± std over seeds)."""
    header, body = _table(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines) + "\n"


def rst_table(rows: list[dict]) -> str:
    """The same table as :func:`markdown_table`, as a reStructuredText ``list-table``."""
    header, body = _table(rows)
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for cells in [header, *body]:
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {cell}" for cell in cells[1:])
    return "\n".join(lines) + "\n"


def write_csv(rows: list[dict], path: Path) -> None:
    """Write aggregated rows as CSV: one column per mean and per std of every metric.

    The columns are the same whatever the rows hold (empty where a metric is n/a), so that
    files of several invocations line up: the lenient ``head``/``medium``/``tail``, the
    ``*_strict`` group scores and the ``learned_*`` numbers of the authors' protocol.
    """
    fields = ["dataset", "method", "bits", "n_seeds", "multilabel"]
    fields += [f"{key}_{stat}" for key, _, _ in _ALL_METRICS for stat in ("mean", "std")]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            out = {k: row.get(k) for k in fields}
            for key, _, _ in _ALL_METRICS:
                if out[f"{key}_mean"] is None:
                    out[f"{key}_std"] = None  # n/a, not a spread of 0
            writer.writerow(out)


def write_json(path: Path, payload: dict) -> None:
    """Write JSON atomically, so an interrupted run never leaves a truncated results file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    tmp.replace(path)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def _mean_curves(members, direction):
    precision = np.mean([m["pr"][direction]["precision"] for m in members], axis=0)
    recall = np.mean([m["pr"][direction]["recall"] for m in members], axis=0)
    return precision, recall


def _by_frequency_rank(members):
    """Training counts and per-class mAP by class rank (most frequent first), mean over seeds.

    Which classes are rare can change with the seed, so seeds are averaged by rank, not by
    class. NaN marks a rank whose class had no counted query in any seed.
    """
    counts, values = [], []
    for m in members:
        order = np.argsort(-np.asarray(m["train_counts"]), kind="stable")
        counts.append(np.asarray(m["train_counts"], dtype=float)[order])
        per_class = np.array([np.nan if v is None else v for v in m["per_class_map"]], dtype=float)
        values.append(per_class[order])
    values = np.array(values)
    counted = ~np.isnan(values)
    n = counted.sum(axis=0)
    sums = np.where(counted, values, 0.0).sum(axis=0)
    return np.mean(counts, axis=0), np.where(n > 0, sums / np.maximum(n, 1), np.nan)


def write_plots(runs: list[dict], rows: list[dict], out_dir: Path) -> list[Path]:
    """Draw the benchmark figures into ``out_dir`` and return their paths.

    Per dataset: mAP against code length per method; then per code length, per-class mAP
    against training class frequency and precision-recall curves (both directions).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skmetacmh.plotting import (
        _place_legend,
        plot_map_by_class_frequency,
        plot_map_vs_bits,
        plot_precision_recall,
    )

    written = []
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        maps, stds = {}, {}
        for row in rows:
            if row["dataset"] == dataset and row["mean_mean"] is not None:
                maps.setdefault(row["method"], {})[row["bits"]] = row["mean_mean"]
                stds.setdefault(row["method"], {})[row["bits"]] = row["mean_std"]
        fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
        plot_map_vs_bits(maps, std=stds, ax=ax, title=f"{dataset}: mean of I→T and T→I mAP")
        written.append(_save(fig, out_dir / f"map_vs_bits_{_slug(dataset)}.png"))

        by_bits: dict = {}
        for run in runs:
            if run["dataset"] == dataset:
                by_bits.setdefault(int(run["bits"]), {}).setdefault(method_label(run), []).append(
                    run
                )
        for bits, methods in sorted(by_bits.items()):
            first = next(iter(methods.values()))[0]
            ranked = {name: _by_frequency_rank(ms) for name, ms in methods.items()}
            counts = next(iter(ranked.values()))[0]
            fig, ax = plt.subplots(figsize=(7.2, 4.4), layout="constrained")
            plot_map_by_class_frequency(
                counts,
                {name: per_class for name, (_, per_class) in ranked.items()},
                ax=ax,
                title=f"{dataset}, {bits} bits: per-class mAP (mean of both directions)",
            )
            written.append(_save(fig, out_dir / f"per_class_{_slug(dataset)}_{bits}bits.png"))

            fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
            for ax, direction in zip(axes, first["pr"]):
                plot_precision_recall(
                    {name: _mean_curves(ms, direction) for name, ms in methods.items()},
                    ax=ax,
                    title=f"{dataset}, {bits} bits, {direction.replace('_', ' ')}",
                )
            for ax in axes:  # the second axes can move the first: place both legends again
                _place_legend(ax)
            written.append(_save(fig, out_dir / f"pr_{_slug(dataset)}_{bits}bits.png"))
    return written


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
