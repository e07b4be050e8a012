"""Benchmark: which thread count the deep hashers should default to, idle and loaded.

Part 1, ``--fits``: MetaCMH fits at three sizes, for each ``n_jobs`` in ``--threads`` (counts
that resolve to the same number of threads are measured once), on the machine as it is
("idle") and with two busy processes added (pure-Python spin loops, one per core on a 2-core
machine; ``--spinners``), best of ``--repeats``:

* ``uci``: the README fit, UCI pix/fou, 1,000 training items, 32 bits, MetaCMH defaults,
  seed 0 (the whole fit, 50 epochs);
* ``20k`` and ``200k``: synthetic catalogue items shaped as in ``bench_deep_scale.py``
  (500 dense image features; a 20,000-word TF-IDF text block, 200 words per item; 24 classes,
  multi-label, long-tailed), 32 bits, defaults, seed 0, with the fit cut to one epoch whose two
  modality passes each do only ``--updates`` mini-batch updates (the rest of each pass is
  skipped). What is timed is that truncated fit (network set-up, the initial forward passes
  over all items, the updates, the end-of-epoch code and memory refresh, the final encoding of
  the training set) and, separately, the mean time of one mini-batch update.

Part 2, ``--gridsearch``: ``GridSearchCV`` over MetaCMH (1,500 synthetic items, 30 + 20
features, 5 classes, ``max_epochs=20``, ``n_bits`` in 8/16/32, 2-fold: 6 fits, no refit),
each variant in a fresh process: the search's own ``n_jobs`` 1 or 2, the hasher's ``n_jobs``
None (the default), -1 or 2. Each fit records the thread counts it ran under (torch, BLAS,
OpenMP), its wall and CPU seconds; a sampler counts the threads of the process tree that are
runnable (state R) every 50 ms. More runnable threads than cores is oversubscription.

The load average (1 minute) is recorded next to every number: the benchmark machine is
shared with other jobs, so "idle" means "without the benchmark's own spinners".

Run::

    python benchmarks/bench_threads.py --fits --gridsearch          # about 15 minutes on 2 cores
    python benchmarks/bench_threads.py --fits --sizes uci --repeats 2   # quick look
"""

from __future__ import annotations

import os

# The thread environment variables are read once, when a library starts: a caller's
# OMP_NUM_THREADS=1 would cap what n_jobs=2 can get. The benchmark sets threads itself.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

LOG_VARIABLE = "SKMETACMH_BENCH_THREADS_LOG"


def load() -> float:
    return round(os.getloadavg()[0], 2)


# ---------------------------------------------------------------------- data
def uci_problem():
    """The README's fit: UCI pix/fou, 1,000 training items, standardised on them."""
    from sklearn.preprocessing import StandardScaler

    from skmetacmh import join_modalities
    from skmetacmh.datasets import load_uci_mfeat, split_query_database

    data = load_uci_mfeat(views=("pix", "fou"))
    X, n_image = join_modalities(data.image, data.text)
    split = split_query_database(data.labels, n_query=20, n_train=1000, random_state=0)
    X = StandardScaler().fit(X[split.train]).transform(X)
    return X[split.train], data.labels[split.train], n_image


def catalogue_problem(n_items: int, seed: int = 0, n_classes: int = 24, n_image: int = 500):
    """Items shaped as ``bench_deep_scale.py``'s catalogue, built without a Python loop.

    Long-tailed multi-label indicator (imbalance 50; one class per item, a second one for
    half of them), image features = class means + noise, text = 200 word ids per item, half
    from the item's first class's words, TF-IDF weighted.
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = np.random.default_rng(seed)
    sizes = 50.0 ** (-np.arange(n_classes) / (n_classes - 1))
    first = rng.choice(n_classes, n_items, p=sizes / sizes.sum())
    second = rng.choice(n_classes, n_items, p=sizes / sizes.sum())
    Y = np.zeros((n_items, n_classes), dtype=np.uint8)
    Y[np.arange(n_items), first] = 1
    has_second = rng.random(n_items) < 0.5
    Y[np.flatnonzero(has_second), second[has_second]] = 1
    means = rng.standard_normal((n_classes, n_image)).astype(np.float32)
    image = (Y @ means) / Y.sum(axis=1, keepdims=True) + rng.standard_normal(
        (n_items, n_image), dtype=np.float32
    )
    vocabulary, words = 20_000, 200
    per_class = vocabulary // (2 * n_classes)
    own = first[:, None] * per_class + rng.integers(0, per_class, (n_items, words // 2))
    anywhere = rng.integers(0, vocabulary, (n_items, words - words // 2))
    cols = np.hstack([own, anywhere]).ravel()
    rows = np.repeat(np.arange(n_items), words)
    counts = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(n_items, vocabulary)
    )
    counts.sum_duplicates()
    text = TfidfTransformer().fit_transform(counts).astype(np.float32)
    image = (image - image.mean(axis=0)) / image.std(axis=0)
    X = sp.hstack([sp.csr_matrix(image.astype(np.float32)), text], format="csr")
    return X, Y, n_image


# ---------------------------------------------------------------------- timing one fit
class _UpdateLimit:
    """Patch ``Trainer.train_step`` so that each modality pass does only ``n_updates`` updates.

    The remaining batches of a pass return at once (no gradient step), so one epoch costs
    ``2 * n_updates`` updates plus everything that does not depend on their number. Records
    the time of each real update.
    """

    def __init__(self, n_updates: int):
        self.n_updates = n_updates
        self.step_seconds: list[float] = []

    @contextlib.contextmanager
    def active(self):
        from skmetacmh.metacmh import _training

        original = _training.Trainer.train_step
        state = {"name": None, "count": 0}

        def limited(trainer, net, name, batch):
            if name != state["name"]:
                state["name"], state["count"] = name, 0
            if state["count"] >= self.n_updates:
                return {}
            state["count"] += 1
            start = time.perf_counter()
            parts = original(trainer, net, name, batch)
            self.step_seconds.append(time.perf_counter() - start)
            return parts

        _training.Trainer.train_step = limited
        try:
            yield self
        finally:
            _training.Trainer.train_step = original


def time_fit(problem, n_jobs, n_updates):
    """Seconds of one fit (and of one update, for the truncated fits); its codes' digest."""
    from skmetacmh import MetaCMHHasher

    X, Y, n_image = problem
    hasher = MetaCMHHasher(n_bits=32, n_image_features=n_image, random_state=0, n_jobs=n_jobs)
    limit = None
    if n_updates is not None:
        hasher.set_params(max_epochs=1)
        limit = _UpdateLimit(n_updates)
    with limit.active() if limit is not None else contextlib.nullcontext():
        start = time.perf_counter()
        hasher.fit(X, Y)
        seconds = time.perf_counter() - start
    # Skip each pass's first 5 updates (allocation, first-touch) in the per-update mean.
    steps = limit.step_seconds if limit is not None else []
    warm = steps[5:n_updates] + steps[n_updates + 5 :] if steps else []
    per_update = float(np.mean(warm)) if warm else None
    digest = hash(hasher.database_codes_.tobytes())
    return seconds, per_update, digest


@contextlib.contextmanager
def spinners(n: int):
    """``n`` busy processes (pure-Python loops), killed on exit."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(2.0)  # let the load average and the scheduler see them
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def run_fits(args) -> list[dict]:
    from skmetacmh._threads import resolve_n_jobs

    counts = {}
    for n_jobs in args.threads:
        value = None if n_jobs == "None" else int(n_jobs)
        counts.setdefault(resolve_n_jobs(value), []).append(n_jobs)
    print(f"n_jobs -> threads here: { {str(v): k for k, v in counts.items()} }", flush=True)
    rows = []
    for size in args.sizes:
        start = time.perf_counter()
        problem = uci_problem() if size == "uci" else catalogue_problem(_SIZES[size])
        n_updates = None if size == "uci" else args.updates
        print(
            f"{size}: {problem[0].shape[0]} training items, built in "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
        time_fit(problem, 1, 5 if n_updates else None)  # warm-up: imports, allocator
        for condition in args.conditions:
            n_spin = args.spinners if condition == "loaded" else 0
            with spinners(n_spin) if n_spin else contextlib.nullcontext():
                digests = set()
                for repeat in range(args.repeats):
                    for threads, names in counts.items():
                        before = load()
                        seconds, per_update, digest = time_fit(problem, threads, n_updates)
                        digests.add(digest)
                        row = {
                            "size": size,
                            "condition": condition,
                            "n_jobs": names,
                            "threads": threads,
                            "repeat": repeat,
                            "seconds": seconds,
                            "update_ms": None if per_update is None else 1e3 * per_update,
                            "load_before": before,
                            "load_after": load(),
                        }
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                if len(digests) != 1:
                    print(f"!! {size} {condition}: codes differ between thread counts", flush=True)
    return rows


_SIZES = {"20k": 20_000, "200k": 200_000}


def fits_table(rows: list[dict]) -> str:
    """Best of the repeats per (size, condition, threads), and the two goals' ratios."""
    lines = []
    keys = sorted({(r["size"], r["condition"]) for r in rows}, key=lambda k: (_ORDER[k[0]], k[1]))
    threads = sorted({r["threads"] for r in rows})
    head = " | ".join(f"{t} thr" for t in threads)
    lines.append(f"size  condition | {head} | default/best | default/1-thr | load 1-min")
    for size, condition in keys:
        these = [r for r in rows if r["size"] == size and r["condition"] == condition]
        for metric, unit in (("seconds", "s"), ("update_ms", "ms/update")):
            if these[0][metric] is None:
                continue
            best = {t: min(r[metric] for r in these if r["threads"] == t) for t in threads}
            default = best[1]  # n_jobs=None resolves to 1 outside a parallel_config
            cells = " | ".join(f"{best[t]:8.3f}" for t in threads)
            loads = [r["load_before"] for r in these]
            lines.append(
                f"{size:5s} {condition:6s} {unit:9s} | {cells} | "
                f"{default / min(best.values()):.2f} | {default / best[1]:.2f} | "
                f"{min(loads):.1f}-{max(loads):.1f}"
            )
    return "\n".join(lines)


_ORDER = {"uci": 0, "20k": 1, "200k": 2}


# ---------------------------------------------------------------------- grid search
_GRID_CODE = """
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {bench_dir!r})
import bench_threads as bench
from sklearn.model_selection import GridSearchCV
from skmetacmh.datasets import make_cross_modal_classification
from skmetacmh.metrics import make_cross_modal_scorer
X, y = make_cross_modal_classification(n_samples=1500, n_classes=5, n_image_features=30,
                                       n_text_features=20, random_state=0)
hasher = bench.RecordingMetaCMH(n_image_features=30, max_epochs=20, random_state=0,
                                n_jobs={hasher_n_jobs})
search = GridSearchCV(hasher, {{"n_bits": [8, 16, 32]}}, scoring=make_cross_modal_scorer(),
                      cv=2, n_jobs={search_n_jobs}, refit=False)
with bench.RunnableThreads() as sampler:
    start, cpu = time.perf_counter(), time.process_time()
    search.fit(X, y)
    wall = time.perf_counter() - start
print(json.dumps({{"main_pid": os.getpid(), "wall": wall, "main_cpu": time.process_time() - cpu,
                  "runnable_mean": sampler.mean, "runnable_max": sampler.max,
                  "threads_alive_max": sampler.alive_max,
                  "scores": search.cv_results_["mean_test_score"].round(4).tolist()}}))
"""


def _recording_class():
    from threadpoolctl import threadpool_info

    from skmetacmh import MetaCMHHasher

    class RecordingMetaCMH(MetaCMHHasher):
        """MetaCMH that logs, per fit, the thread counts it ran under and its times."""

        def _fit(self, X_image, X_text, Y):
            import torch

            pools = {p["internal_api"]: p["num_threads"] for p in threadpool_info()}
            start, cpu = time.perf_counter(), time.process_time()
            result = super()._fit(X_image, X_text, Y)
            record = {
                "pid": os.getpid(),
                "torch_threads": torch.get_num_threads(),
                "pools": pools,
                "wall": time.perf_counter() - start,
                "cpu": time.process_time() - cpu,
            }
            with open(os.environ[LOG_VARIABLE], "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            return result

    return RecordingMetaCMH


def __getattr__(name):
    # Built on first use so that importing this module does not import torch.
    if name == "RecordingMetaCMH":
        cls = _recording_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


class RunnableThreads:
    """Sample, every ``interval`` s, the threads of this process and its descendants that are
    runnable (state R in ``/proc/<pid>/task/<tid>/stat``) and how many are alive."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.samples: list[int] = []
        self.alive_max = 0
        self._stop = threading.Event()

    def _tree(self):
        import psutil

        me = psutil.Process()
        return [me.pid] + [p.pid for p in me.children(recursive=True)]

    def _sample(self):
        runnable = alive = 0
        for pid in self._tree():
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tasks:
                try:
                    with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as handle:
                        state = handle.read().rsplit(")", 1)[1].split()[0]
                except (OSError, IndexError):
                    continue
                alive += 1
                runnable += state == "R"
        # The sampler's own thread is runnable while it samples: not counted.
        self.samples.append(max(runnable - 1, 0))
        self.alive_max = max(self.alive_max, alive)

    def _loop(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples)) if self.samples else 0.0

    @property
    def max(self) -> int:
        return int(max(self.samples, default=0))


def run_gridsearch(args) -> list[dict]:
    variants = [(int(v.split(":")[0]), v.split(":")[1]) for v in args.gs_variants]
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    rows = []
    for repeat in range(args.gs_repeats):
        for search_n_jobs, hasher_n_jobs in variants:
            log = f"/tmp/bench_threads_gs_{os.getpid()}_{search_n_jobs}_{hasher_n_jobs}.jsonl"
            with contextlib.suppress(FileNotFoundError):
                os.remove(log)
            code = _GRID_CODE.format(
                bench_dir=bench_dir, hasher_n_jobs=hasher_n_jobs, search_n_jobs=search_n_jobs
            )
            before = load()
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code],
                env={**os.environ, LOG_VARIABLE: log},
                capture_output=True,
                text=True,
                timeout=900,
            )
            process_wall = time.perf_counter() - start
            if out.returncode != 0:
                raise RuntimeError(out.stderr[-3000:])
            result = json.loads(out.stdout.strip().splitlines()[-1])
            with open(log, encoding="utf-8") as handle:
                fits = [json.loads(line) for line in handle]
            os.remove(log)
            row = {
                "search_n_jobs": search_n_jobs,
                "hasher_n_jobs": hasher_n_jobs,
                "repeat": repeat,
                "process_wall": process_wall,
                **result,
                "n_fits": len(fits),
                "fit_torch_threads": sorted({f["torch_threads"] for f in fits}),
                "fits_in_main": sum(f["pid"] == result["main_pid"] for f in fits),
                "fit_pools": sorted({json.dumps(f["pools"], sort_keys=True) for f in fits}),
                "fit_wall_sum": sum(f["wall"] for f in fits),
                "fit_cpu_sum": sum(f["cpu"] for f in fits),
                "worker_pids": len({f["pid"] for f in fits}),
                "load_before": before,
                "load_after": load(),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def gridsearch_table(rows: list[dict]) -> str:
    lines = [
        "search n_jobs | hasher n_jobs | threads per fit | search wall s | sum fit wall s | "
        "sum fit CPU s | runnable threads mean / max | load"
    ]
    for search_n_jobs, hasher_n_jobs in dict.fromkeys(
        (r["search_n_jobs"], r["hasher_n_jobs"]) for r in rows
    ):
        these = [
            r
            for r in rows
            if r["search_n_jobs"] == search_n_jobs and r["hasher_n_jobs"] == hasher_n_jobs
        ]
        best = min(these, key=lambda r: r["wall"])
        lines.append(
            f"{search_n_jobs:13d} | {hasher_n_jobs:>13s} | {best['fit_torch_threads']} | "
            f"{best['wall']:13.1f} | {best['fit_wall_sum']:14.1f} | {best['fit_cpu_sum']:13.1f} "
            f"| {best['runnable_mean']:.2f} / {best['runnable_max']} | "
            f"{best['load_before']:.1f}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fits", action="store_true", help="part 1: fit times by threads")
    parser.add_argument("--gridsearch", action="store_true", help="part 2: GridSearchCV")
    parser.add_argument("--sizes", nargs="+", default=["uci", "20k", "200k"], choices=_ORDER)
    parser.add_argument("--threads", nargs="+", default=["None", "1", "2", "-1"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gs-repeats", type=int, default=2)
    parser.add_argument(
        "--gs-variants",
        nargs="+",
        default=["1:None", "2:None", "2:-1", "2:2"],
        help="SEARCH_N_JOBS:HASHER_N_JOBS pairs",
    )
    parser.add_argument("--updates", type=int, default=150)
    parser.add_argument("--spinners", type=int, default=2)
    parser.add_argument("--conditions", nargs="+", default=["idle", "loaded"])
    parser.add_argument("--json", default=None, help="append the rows to this JSON-lines file")
    args = parser.parse_args(argv)
    # The truncated fits stop long before their codes are good; their warnings say so.
    warnings.filterwarnings("ignore", message=".*collapsed.*")
    warnings.filterwarnings("ignore", message=".*loss did not fall.*")
    if not (args.fits or args.gridsearch):
        parser.error("choose --fits and/or --gridsearch")
    print(f"cores {os.cpu_count()}, load {os.getloadavg()}", flush=True)
    rows, tables = [], []
    if args.fits:
        fit_rows = run_fits(args)
        rows += fit_rows
        tables.append(fits_table(fit_rows))
    if args.gridsearch:
        gs_rows = run_gridsearch(args)
        rows += gs_rows
        tables.append(gridsearch_table(gs_rows))
    print("\n\n".join(tables))
    if args.json:
        with open(args.json, "a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
