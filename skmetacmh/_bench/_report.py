"""Turning raw benchmark runs into a markdown table, a CSV file and figures.

Runs are aggregated over seeds per (dataset, hasher and its parameters, code length) as
mean ± standard deviation (sample standard deviation; 0 for a single seed).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

__all__ = ["aggregate", "markdown_table", "rst_table", "write_csv", "write_plots", "METRICS"]

#: Aggregated columns: (key in a run, column title, format).
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
    """
    groups: dict = {}
    for run in runs:
        groups.setdefault(_group_key(run), []).append(run)
    rows = []
    for (dataset, method, bits), members in groups.items():
        row = {"dataset": dataset, "method": method, "bits": bits, "n_seeds": len(members)}
        for key, _, _ in METRICS:
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
    mean, std = row[f"{key}_mean"], row[f"{key}_std"]
    if mean is None:
        return "n/a"
    if row["n_seeds"] < 2:
        return _format(mean, fmt)
    return f"{_format(mean, fmt)} ± {_format(std, fmt)}"


def markdown_table(rows: list[dict]) -> str:
    """A GitHub-flavoured markdown table of aggregated rows (mean ± std over seeds)."""
    header = ["dataset", "hasher", "bits", *(title for _, title, _ in METRICS), "seeds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["dataset"], row["method"], str(row["bits"])]
        cells += [_cell(row, key, fmt) for key, _, fmt in METRICS]
        cells.append(str(row["n_seeds"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rst_table(rows: list[dict]) -> str:
    """The same table as :func:`markdown_table`, as a reStructuredText ``list-table``."""
    header = ["dataset", "hasher", "bits", *(title for _, title, _ in METRICS), "seeds"]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for cells in [header] + [
        [row["dataset"], row["method"], str(row["bits"])]
        + [_cell(row, key, fmt) for key, _, fmt in METRICS]
        + [str(row["n_seeds"])]
        for row in rows
    ]:
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {cell}" for cell in cells[1:])
    return "\n".join(lines) + "\n"


def write_csv(rows: list[dict], path: Path) -> None:
    """Write aggregated rows as CSV (one column per mean and per std)."""
    fields = ["dataset", "method", "bits", "n_seeds"]
    fields += [f"{key}_{stat}" for key, _, _ in METRICS for stat in ("mean", "std")]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row[k] for k in fields})


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
            written.append(_save(fig, out_dir / f"pr_{_slug(dataset)}_{bits}bits.png"))
    return written


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
