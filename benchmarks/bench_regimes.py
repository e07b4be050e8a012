"""The regime map: which hasher wins where, every hasher at its defaults, 32 bits, 3 seeds.

Issue 18 item 4. A *cell* is one data regime; every hasher of the package (MetaCMH, DCMH,
CCA-ITQ, CVH, CMFH, SCM, SePH, DLFH) runs in it at its defaults, one thread, on seeds 0-2,
under the benchmark's own protocol (:mod:`skmetacmh._bench._protocol`): per-class queries,
the database is every other item, the training set a long-tailed subset of the database at
the cell's imbalance factor, scalers fitted on the training set, head / medium / tail as
thirds of the classes by training frequency, mAP\\@all of both directions.

The grid (:data:`AXES`):

* ``labels``: ``single`` or ``multi`` (about 2 labels per item, label marginals at the cell's
  imbalance factor, and 90% of the items without a head label given one: rare labels ride on
  frequent ones, ``head_cooccurrence=0.9`` of the generator);
* ``features``: ``linear`` (near-linear, "CNN-like": ``feature_map="linear"``, one cluster
  per class) or ``nonlinear`` (``feature_map="tanh"`` and ``n_modes=3``: each class is three
  separate clusters);
* ``n``: 2,000, 20,000 or 200,000 items (before the split);
* ``classes``: 10, 40 or 100;
* ``imbalance``: 10 or 100 (the training set's largest / smallest class);
* ``text``: ``dense`` (32 features) or ``tfidf`` (a 2,000-word TF-IDF bag of 50 words per
  item, passed as CSR, unscaled, as :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
  gives it);

plus the real sets at their most long-tailed settings: UCI Multiple Features (pix / fou,
imbalance factor 100) and Fashion-MNIST halves (10,000 items, imbalance factor 100). Every
run records the tail both ways: ``tail_strict`` (a query of tail class k, relevant = carries
k) and ``tail_lenient`` (shares any label); on single-label data they are equal.

The full factorial (2 x 2 x 3 x 3 x 2 x 2 = 144 synthetic cells) does not fit a shared
two-core machine, so ``--cells`` names a design (``--list`` shows every cell and whether the
results file holds it):

* ``base``: single-label, near-linear, 2,000 items, 10 classes, IF 10, dense text;
* ``ofat``: the base and each one-factor-at-a-time move from it at 2,000 items (multi,
  nonlinear, 40 and 100 classes, IF 100, TF-IDF; the move to 20,000 items is in ``large``);
* ``fraction``: the 2^(5-1) half fraction (defining relation I = ABCDE, resolution V) of
  labels x features x classes {10, 100} x IF {10, 100} x text at 2,000 items, which holds the
  five two-level moves of ``ofat``;
* ``large``: four cells at 20,000 items (the base; multi-label nonlinear; 40 classes at IF
  100 with TF-IDF text; 100 classes at IF 100, nonlinear);
* ``real``: UCI and Fashion-MNIST;
* ``run``: all of the above (what the docs report); ``all``: the full factorial and the real
  sets; ``smoke``: two tiny cells for the test suite (``--smoke`` is the same).

Results are appended to a JSON-lines file, one line per (cell, hasher, seed); a rerun skips
what the file holds, so an interrupted run resumes, and ``--redo SePH`` runs a hasher again
where its rows come from another commit (the report reads the newest line of each key).
``--report`` writes the table (RST) and the heat map (the winner per cell and its margin over
the runner-up).

Examples
--------
OMP_NUM_THREADS=1 python benchmarks/bench_regimes.py --cells ofat fraction real
OMP_NUM_THREADS=1 python benchmarks/bench_regimes.py --cells large --hashers SePH --redo SePH
python benchmarks/bench_regimes.py --list
python benchmarks/bench_regimes.py --report --table docs/regimes_table.rst \\
    --figure docs/results_figures/regime_map.png
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# One thread for every BLAS and for torch, set before numpy is imported.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import Bunch  # noqa: E402

from skmetacmh import metrics  # noqa: E402
from skmetacmh._bench._data import dataset_options, load_dataset  # noqa: E402
from skmetacmh._bench._protocol import DIRECTIONS, split_long_tailed  # noqa: E402
from skmetacmh._bench._registry import HASHERS, make_hasher, resolve_hasher  # noqa: E402
from skmetacmh.datasets import make_cross_modal_classification  # noqa: E402

N_BITS = 32
SEEDS = (0, 1, 2)
IMAGE_FEATURES = 64
DENSE_TEXT_FEATURES = 32
VOCABULARY = 2000

#: Axis name -> its levels, the first the base cell's.
AXES = {
    "labels": ("single", "multi"),
    "features": ("linear", "nonlinear"),
    "n": (2000, 20000, 200000),
    "classes": (10, 40, 100),
    "imbalance": (10, 100),
    "text": ("dense", "tfidf"),
}
BASE = {axis: levels[0] for axis, levels in AXES.items()}

#: The real sets: name -> (benchmark dataset, its options, queries per class, IF).
REAL = {
    "uci-mfeat-if100": ("uci-mfeat", {}, 20, 100.0),
    "fashion-if100": ("fashion-mnist-halves", {"n_samples": 10000}, 100, 100.0),
}


@dataclass(frozen=True)
class Cell:
    """One regime: a synthetic cell (every axis set) or a real set (``real`` set)."""

    labels: str = "single"
    features: str = "linear"
    n: int = 2000
    classes: int = 10
    imbalance: int = 10
    text: str = "dense"
    real: str | None = None

    @property
    def key(self) -> str:
        if self.real:
            return self.real
        return (
            f"{self.labels}-{self.features}-n{self.n}-c{self.classes}-if{self.imbalance}-"
            f"{self.text}"
        )

    @property
    def n_query(self) -> int:
        """Queries per class: a tenth of a balanced class, between 5 and 50."""
        if self.real:
            return REAL[self.real][2]
        return int(np.clip(self.n // (10 * self.classes), 5, 50))


def _synthetic(**moves) -> Cell:
    return Cell(**{**BASE, **moves})


def _fraction() -> list[Cell]:
    """The 16 cells of the 2^(5-1) design with I = ABCDE over the five two-level factors."""
    factors = {
        "labels": ("single", "multi"),
        "features": ("linear", "nonlinear"),
        "classes": (10, 100),
        "imbalance": (10, 100),
        "text": ("dense", "tfidf"),
    }
    cells = []
    for signs in itertools.product((0, 1), repeat=4):
        last = 1 - sum(signs) % 2  # an odd number of high levels: ABCDE = +1 in -1/+1 coding
        levels = (*signs, last)
        cells.append(_synthetic(**{a: factors[a][i] for a, i in zip(factors, levels)}))
    return cells


def design(name: str) -> list[Cell]:
    """The cells of a named design (see the module docstring)."""
    if name == "base":
        return [_synthetic()]
    if name == "ofat":
        moves = [{}] + [{a: v} for a, levels in AXES.items() for v in levels[1:] if a != "n"]
        return [_synthetic(**m) for m in moves]  # the move to n = 20,000 is in "large"
    if name == "fraction":
        return _fraction()
    if name == "large":
        return [
            _synthetic(n=20000),
            _synthetic(n=20000, labels="multi", features="nonlinear"),
            _synthetic(n=20000, classes=40, imbalance=100, text="tfidf"),
            _synthetic(n=20000, classes=100, imbalance=100, features="nonlinear"),
        ]
    if name == "real":
        return [Cell(real=r) for r in REAL]
    if name == "run":
        return _unique([c for part in ("ofat", "fraction", "large", "real") for c in design(part)])
    if name == "all":
        full = [_synthetic(**dict(zip(AXES, v))) for v in itertools.product(*AXES.values())]
        return full + design("real")
    if name == "smoke":
        return [
            Cell(n=300, classes=5, imbalance=10),
            Cell(
                labels="multi", features="nonlinear", n=300, classes=6, imbalance=10, text="tfidf"
            ),
        ]
    raise ValueError(
        f"Unknown design {name!r}: expected one of base, ofat, fraction, large, real, run, "
        "all, smoke."
    )


def _unique(cells):
    seen, out = set(), []
    for cell in cells:
        if cell.key not in seen:
            seen.add(cell.key)
            out.append(cell)
    return out


def load_cell(cell: Cell) -> Bunch:
    """``X_image``, ``X_text`` (dense, or CSR for TF-IDF text), ``y`` of one cell.

    The data depends on the cell only (``random_state=0``, as the benchmark's synthetic
    sets); the seeds vary the split and the hashers.
    """
    if cell.real:
        name, options, _, _ = REAL[cell.real]
        data = load_dataset(name, dataset_options(name, **options))
        return Bunch(X_image=data.X_image, X_text=data.X_text, y=data.y)
    multi = cell.labels == "multi"
    X, y = make_cross_modal_classification(
        cell.n,
        cell.classes,
        IMAGE_FEATURES,
        VOCABULARY if cell.text == "tfidf" else DENSE_TEXT_FEATURES,
        multilabel=multi,
        n_labels=2.0,
        # Multi-label marginals are long-tailed in the data (the protocol's quotas keep that
        # order, classes are not shuffled), so the training-rare labels are the ones that
        # ride on frequent ones; single-label data is balanced and the protocol makes the tail.
        imbalance_factor=float(cell.imbalance) if multi else 1.0,
        head_cooccurrence=0.9 if multi else 0.0,
        feature_map="linear" if cell.features == "linear" else "tanh",
        n_modes=1 if cell.features == "linear" else 3,
        text_format=cell.text,
        random_state=0,
    )
    X = X.tocsr() if sp.issparse(X) else X
    X_image = X[:, :IMAGE_FEATURES]
    X_image = X_image.toarray() if sp.issparse(X_image) else X_image
    return Bunch(X_image=X_image, X_text=X[:, IMAGE_FEATURES:], y=y)


def protocol(cell: Cell) -> dict:
    """The benchmark protocol's settings for a cell (see the module docstring)."""
    imbalance = REAL[cell.real][3] if cell.real else float(cell.imbalance)
    return {
        "query": "per_class",
        "n_query": cell.n_query,
        "imbalance_factor": imbalance,
        "n_train": None,
        "shuffle_classes": cell.real is not None or cell.labels == "single",
    }


def _prepare(data: Bunch, split: Bunch):
    """Train / query / database ``[image | text]`` rows: dense blocks scaled on training.

    TF-IDF text stays sparse and unscaled, as a vectoriser gives it.
    """
    image = StandardScaler().fit(data.X_image[split.train]).transform(data.X_image)
    text = data.X_text
    if not sp.issparse(text):
        text = StandardScaler().fit(text[split.train]).transform(text)
        X = np.hstack([image, text])
    else:
        X = sp.hstack([sp.csr_matrix(image), text], format="csr")
    return {k: X[split[k]] for k in ("train", "query", "database")}


def run_cell_hasher(cell: Cell, data: Bunch, name: str, seed: int) -> dict:
    """Fit one hasher on one seed's split of a cell; every number of the map."""
    y = np.asarray(data.y)
    split = split_long_tailed(y, protocol(cell), seed)
    blocks = _prepare(data, split)
    n_img = data.X_image.shape[1]
    hasher = make_hasher(resolve_hasher(name), {}, N_BITS, n_img, seed)
    start, start_cpu = time.perf_counter(), time.process_time()
    hasher.fit(blocks["train"], y[split.train])
    fit_seconds, fit_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    codes = {}
    for part in ("query", "database"):
        X = blocks[part]
        codes[part] = {
            "image": hasher.encode(X[:, :n_img], modality="image"),
            "text": hasher.encode(X[:, n_img:], modality="text"),
        }
    y_q, y_db, y_train = y[split.query], y[split.database], y[split.train]
    row = {"by_direction": {}}
    for direction in DIRECTIONS:
        source, target = direction.split("_to_")
        q, d = codes["query"][source], codes["database"][target]
        numbers = {"mean": metrics.mean_average_precision(q, d, y_q, y_db)}
        for relevance in ("lenient", "strict"):
            groups = metrics.map_by_frequency_group(
                q, d, y_q, y_db, y_train, relevance=relevance
            ).map
            for group in ("head", "medium", "tail"):
                numbers[f"{group}_{relevance}"] = groups.get(group)
        row["by_direction"][direction] = numbers
    for metric in row["by_direction"][DIRECTIONS[0]]:
        values = [row["by_direction"][d][metric] for d in DIRECTIONS]
        values = [v for v in values if v is not None]
        row[metric] = float(np.mean(values)) if values else None
    row.update(
        fit_seconds=fit_seconds,
        fit_cpu_seconds=fit_cpu,
        n_train=int(len(split.train)),
        n_query=int(len(split.query)),
        n_database=int(len(split.database)),
    )
    return row


def _code_commit() -> str:
    """The commit the code runs from: ``REGIMES_COMMIT`` (a frozen copy has no git), or git's."""
    if os.environ.get("REGIMES_COMMIT"):
        return os.environ["REGIMES_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _row_key(row) -> tuple:
    return (row["cell"], row["hasher"], row["seed"])


def run(cells, hashers, seeds, out: Path, redo=()) -> int:
    """Run every (cell, hasher, seed) the results file lacks; returns how many ran."""
    import torch

    torch.set_num_threads(1)
    rows = read_rows(out)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit, count = _code_commit(), 0
    # A redone hasher runs again wherever its rows come from other code (so a restarted redo
    # resumes too); the report then reads the newest row of each key.
    done = {_row_key(r) for r in rows if r["hasher"] not in set(redo) or r["commit"] == commit}
    for cell in cells:
        todo = [(h, s) for h in hashers for s in seeds if (cell.key, h, s) not in done]
        if not todo:
            continue
        data = load_cell(cell)
        for name, seed in todo:
            row = {"cell": cell.key, "hasher": name, "seed": seed, "bits": N_BITS}
            row.update(axes=asdict(cell), commit=commit, started=started)
            try:
                row.update(run_cell_hasher(cell, data, name, seed))
            except Exception as exc:  # one failing hasher must not stop the map
                row["error"] = f"{type(exc).__name__}: {exc}"
            with out.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
            count += 1
            shown = (
                f"{row['mean']:.3f} tail {row['tail_strict']}" if "mean" in row else row["error"]
            )
            print(f"{cell.key} {name} seed {seed}: {shown}", flush=True)
    return count


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

#: The columns of the map: what a cell's winner is chosen on.
SCORES = {"mean": "mean mAP", "tail_strict": "tail mAP (strict)", "tail_lenient": "tail (lenient)"}


def summarise(rows) -> dict:
    """cell -> hasher -> score -> (mean over seeds, std, n seeds), newest row per key."""
    newest = {}
    for row in rows:
        newest[_row_key(row)] = row
    table: dict = {}
    for (cell, hasher, _), row in newest.items():
        if "error" in row:
            continue
        entry = table.setdefault(cell, {}).setdefault(hasher, {s: [] for s in SCORES})
        entry.setdefault("fit", []).append(row["fit_cpu_seconds"])
        entry.setdefault("row", row)
        for score in SCORES:
            if row.get(score) is not None:
                entry[score].append(row[score])
    return table


def complete(by_hasher, hashers=tuple(HASHERS)) -> bool:
    """Every hasher ran in the cell (on as many seeds as the most-run one)."""
    seeds = max(len(v["mean"]) for v in by_hasher.values())
    return all(h in by_hasher and len(by_hasher[h]["mean"]) == seeds for h in hashers)


def winners(table, score: str, hashers=tuple(HASHERS)) -> dict:
    """cell -> (winner, its mean, margin over the runner-up, runner-up), complete cells only."""
    out = {}
    for cell, by_hasher in table.items():
        if not complete(by_hasher, hashers):
            continue
        means = {h: np.mean(v[score]) for h, v in by_hasher.items() if v[score]}
        if len(means) < 2:
            continue
        ranked = sorted(means, key=means.get, reverse=True)
        out[cell] = (ranked[0], means[ranked[0]], means[ranked[0]] - means[ranked[1]], ranked[1])
    return out


def _ordered_cells(table):
    order = [c.key for c in design("run")] + [c.key for c in design("all")]
    known = [c for c in dict.fromkeys(order) if c in table]
    return known + sorted(set(table) - set(known))


def write_table(table, path: Path) -> None:
    """An RST list-table: per cell, every hasher's mean and strict tail, the winners."""
    hashers = [h for h in HASHERS if any(h in v for v in table.values())]
    win = {s: winners(table, s) for s in SCORES}
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :class: regime-table",
        "",
        "   * - cell",
        "     - n train",
        *[f"     - {h}" for h in hashers],
        "     - winner (mean)",
        "     - winner (strict tail)",
        "     - winner (lenient tail)",
    ]
    for cell in _ordered_cells(table):
        by_hasher = table[cell]
        any_row = next(iter(by_hasher.values()))["row"]
        lines.append(f"   * - ``{cell}``")
        lines.append(f"     - {any_row['n_train']}")
        for h in hashers:
            v = by_hasher.get(h)
            if not v or not v["mean"]:
                lines.append("     - n/a")
                continue
            tail = f"{np.mean(v['tail_strict']):.3f}" if v["tail_strict"] else "n/a"
            lines.append(f"     - {np.mean(v['mean']):.3f} / {tail}")
        for score in ("mean", "tail_strict", "tail_lenient"):
            w = win[score].get(cell)
            if not w:
                lines.append("     - (incomplete)")
            elif score == "tail_lenient" and any_row["axes"].get("labels") != "multi":
                lines.append("     - = strict")
            else:
                lines.append(f"     - {w[0]} (+{w[2]:.3f})")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def plot_map(table, path: Path) -> None:
    """Heat map: rows are cells, columns hashers; colour = mAP; the winner boxed; margins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    hashers = [h for h in HASHERS if any(h in v for v in table.values())]
    cells = _ordered_cells(table)
    panels = ("mean", "tail_strict")
    fig, axes = plt.subplots(
        1, 2, figsize=(2 * (0.55 * len(hashers) + 3.2), 0.32 * len(cells) + 1.8), sharey=True
    )
    # Room for the margin labels right of each panel and for the colour bar beyond them.
    fig.subplots_adjust(wspace=0.5, right=0.84)
    for ax, score in zip(axes, panels):
        grid = np.full((len(cells), len(hashers)), np.nan)
        for i, cell in enumerate(cells):
            for j, h in enumerate(hashers):
                v = table[cell].get(h)
                if v and v[score]:
                    grid[i, j] = np.mean(v[score])
        image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0, vmax=1)
        for i, row in enumerate(grid):
            for j in np.flatnonzero(~np.isnan(row)):
                colour = "black" if row[j] > 0.6 else "white"
                ax.text(j, i, f"{row[j]:.2f}", ha="center", va="center", fontsize=6, color=colour)
            if np.any(np.isnan(row)):  # an incomplete cell has no winner yet
                continue
            second, best = np.argsort(row)[-2:]
            ax.add_patch(Rectangle((best - 0.5, i - 0.5), 1, 1, fill=False, lw=2, ec="red"))
            label = f"{hashers[best]} +{row[best] - row[second]:.2f}"
            ax.text(len(hashers) - 0.3, i, label, va="center", fontsize=7, clip_on=False)
        ax.set_xticks(range(len(hashers)), hashers, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(cells)), cells, fontsize=7)
        ax.set_title(
            f"{SCORES[score]}, 32 bits, mean of 3 seeds\n(box: winner; right: margin)", fontsize=9
        )
    colour_bar = fig.add_axes((0.95, 0.3, 0.012, 0.45))
    fig.colorbar(image, cax=colour_bar, label="mAP")
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)


def cell_status(rows) -> list[tuple[str, str, str]]:
    """(cell, "designed" / "factorial" / "other", "run" / "partial (k hashers)" / "not run")."""
    have, seeds, errors = {}, {}, {}
    for row in rows:
        if "error" not in row:
            have.setdefault(row["cell"], set()).add(row["hasher"])
            seeds.setdefault((row["cell"], row["hasher"]), set()).add(row["seed"])
        else:
            errors.setdefault(row["cell"], row["error"])
    designed = {c.key for c in design("run")}
    keys = [c.key for c in _unique(design("run") + design("all"))]
    out = []
    for key in keys + sorted((set(have) | set(errors)) - set(keys)):
        if key not in have:
            status = f"failed ({errors[key]})" if key in errors else "not run"
        elif len(have[key]) == len(HASHERS) and all(
            len(seeds[key, h]) >= len(SEEDS) for h in HASHERS
        ):
            status = "run"
        else:
            status = f"partial ({len(have[key])} hashers)"
        out.append(
            (
                key,
                "designed" if key in designed else "factorial" if key in keys else "other",
                status,
            )
        )
    return out


def list_cells(rows) -> None:
    """Print every cell of the designs (and any other the file holds) and whether it ran."""
    for key, kind, status in cell_status(rows):
        print(f"{key:48s} {kind:9s}  {status}")


def write_status(rows, path: Path) -> None:
    """RST: the designed cells that ran, those that did not, and how much of the rest ran."""
    status = cell_status(rows)
    designed = [(k, s) for k, kind, s in status if kind == "designed"]
    ran = [k for k, s in designed if s == "run"]
    missing = [(k, s) for k, s in designed if s != "run"]
    factorial = [k for k, kind, s in status if kind == "factorial"]
    lines = [
        f"Of the {len(designed)} designed cells, {len(ran)} ran with every hasher and three seeds:",
        "",
    ]
    lines += [f"* ``{k}``" for k in ran]
    if missing:
        lines += ["", "and these did not (not run: no time left; failed: the error):", ""]
        lines += [f"* ``{k}``: {s}" for k, s in missing]
    lines += [
        "",
        f"The other {len(factorial)} cells of the full factorial did not run "
        "(``--cells all`` runs them).",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", nargs="+", default=["base"], help="designs (see --list)")
    parser.add_argument("--hashers", nargs="+", default=list(HASHERS), choices=list(HASHERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--out", type=Path, default=Path("docs/studies/data/bench_regimes.jsonl"))
    parser.add_argument("--redo", nargs="*", default=[], choices=list(HASHERS))
    parser.add_argument(
        "--shard",
        default="0/1",
        help="I/K: run only cells I, I+K, I+2K, ... of the chosen designs, so that K processes "
        "(sharing one --out file) split a design without running a cell twice",
    )
    parser.add_argument("--smoke", action="store_true", help="two tiny cells (the test's run)")
    parser.add_argument("--list", action="store_true", help="every cell and whether it ran")
    parser.add_argument("--report", action="store_true", help="write the table and figure")
    parser.add_argument("--table", type=Path, default=None)
    parser.add_argument("--figure", type=Path, default=None)
    parser.add_argument("--status", type=Path, default=None, help="write which cells ran (RST)")
    args = parser.parse_args(argv)
    if args.list:
        list_cells(read_rows(args.out))
        return 0
    if not args.report:
        names = ["smoke"] if args.smoke else args.cells
        try:
            cells = _unique([c for name in names for c in design(name)])
            index, count = (int(part) for part in args.shard.split("/"))
            if not 0 <= index < count:
                raise ValueError
        except ValueError as exc:
            parser.error(str(exc) or f"--shard must be I/K with 0 <= I < K; got {args.shard!r}")
        cells = cells[index::count]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        count = run(cells, args.hashers, args.seeds, args.out, redo=args.redo)
        print(f"{count} runs appended to {args.out}")
    if args.status:
        write_status(read_rows(args.out), args.status)
    if args.report or args.table or args.figure:
        table = summarise(read_rows(args.out))
        if not table:
            print(f"no results in {args.out}", file=sys.stderr)
            return 1
        if args.table:
            write_table(table, args.table)
        if args.figure:
            plot_map(table, args.figure)
        for score in ("mean", "tail_strict"):
            for cell, (h, value, margin, second) in winners(table, score).items():
                print(f"{score:12s} {cell:48s} {h:8s} {value:.3f} (+{margin:.3f} over {second})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
