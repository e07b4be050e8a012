"""Benchmark cross-modal hashers on long-tailed data: ``python -m benchmarks.run``.

Runs every combination of datasets x hashers x code lengths x seeds under the leak-free
long-tail protocol (see :mod:`benchmarks._protocol`), prints a markdown table of mean ± std
over seeds, and writes into ``--output-dir``:

* ``results.json``: every run, raw (rewritten after each run, so an interrupted benchmark
  resumes where it stopped: runs already there are skipped);
* ``results.csv``: the aggregated table; ``results.md`` and ``results.rst``: the table as
  markdown and as a reStructuredText list-table;
* ``*.png``: mAP against code length, per-class mAP against training frequency, and
  precision-recall curves.

With no flags it runs ``benchmarks/configs/default.json``. Flags override the configuration
file's values. ``--list`` shows the known datasets and hashers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

from . import _report
from ._data import DATASETS, dataset_options, load_dataset
from ._registry import HASHERS, resolve_hasher

__all__ = ["main", "load_config", "run_benchmark"]

CONFIG_DIR = Path(__file__).parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "default.json"

#: Protocol settings every configuration has, with their defaults: 20 queries per class, the
#: training set a long-tailed subset of the database with imbalance factor 50.
PROTOCOL_DEFAULTS = {
    "query": "per_class",
    "n_query": 20,
    "imbalance_factor": 50.0,
    "n_train": None,
    "shuffle_classes": True,
}

_CONFIG_KEYS = {
    "datasets",
    "hashers",
    "bits",
    "seeds",
    "params",
    "n_samples",
    "data_path",
    "output_dir",
    *PROTOCOL_DEFAULTS,
}


def load_config(path) -> dict:
    """Read a JSON benchmark configuration and check its keys.

    Keys: ``datasets`` (list of names), ``hashers`` (list of names or ``"module:Class"``),
    ``bits`` (list of ints), ``seeds`` (list of ints), ``params`` (``{hasher: {param: value}}``),
    the protocol (``query``, ``n_query``, ``imbalance_factor``, ``n_train``,
    ``shuffle_classes``), ``n_samples``,
    ``data_path``, ``output_dir``.
    """
    path = Path(path)
    if not path.is_file() and (CONFIG_DIR / path).is_file():
        path = CONFIG_DIR / path
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    if not isinstance(config, dict):
        raise ValueError(f"{path}: a benchmark configuration must be a JSON object.")
    unknown = set(config) - _CONFIG_KEYS - {"description"}
    if unknown:
        raise ValueError(
            f"{path}: unknown configuration keys {sorted(unknown)}; expected some of "
            f"{sorted(_CONFIG_KEYS)}."
        )
    return config


def _parse_args(argv):
    # Flags that override the configuration file are absent from the namespace unless given
    # (argparse.SUPPRESS), so "--imbalance-factor none" can set None.
    parser = argparse.ArgumentParser(
        prog="skmetacmh-bench",
        argument_default=argparse.SUPPRESS,
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Datasets: "
        + ", ".join(DATASETS)
        + ". Hashers: "
        + ", ".join(HASHERS)
        + " (or any 'module:Class').",
    )
    parser.add_argument(
        "--config",
        help="JSON configuration (a path, or a file name in benchmarks/configs); "
        "default: default.json",
    )
    parser.add_argument("--datasets", nargs="+", metavar="NAME")
    parser.add_argument("--hashers", nargs="+", metavar="NAME")
    parser.add_argument("--bits", nargs="+", type=int, metavar="N")
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED")
    parser.add_argument(
        "--imbalance-factor",
        type=_optional_float,
        dest="imbalance_factor",
        help="largest / smallest training class size (default 50); 'none' trains on a "
        "uniform draw from the database (the balanced protocol)",
    )
    parser.add_argument(
        "--query",
        choices=("per_class", "random"),
        help="queries drawn per class (default, balanced) or uniformly at random",
    )
    parser.add_argument(
        "--n-query",
        type=int,
        dest="n_query",
        help="queries per class (--query per_class, default 20) or in total (--query random)",
    )
    parser.add_argument(
        "--n-train",
        type=int,
        dest="n_train",
        help="training items drawn from the database when --imbalance-factor is none "
        "(default: the whole database)",
    )
    parser.add_argument(
        "--shuffle-classes",
        action=argparse.BooleanOptionalAction,
        dest="shuffle_classes",
        help="rank classes of equal size in a random order per seed when drawing the long "
        "tail (default), or by class value (--no-shuffle-classes)",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        dest="n_samples",
        help="subsample size of fashion-mnist-halves / size of synthetic",
    )
    parser.add_argument(
        "--data-path", dest="data_path", help="folder or .mat file of mirflickr25k/nuswide/mscoco"
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="HASHER.NAME=VALUE",
        help="a hasher parameter, VALUE parsed as JSON (e.g. --param MetaCMH.max_epochs=30)",
    )
    parser.add_argument(
        "--output-dir", dest="output_dir", help="where results go (default ./bench_results)"
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        dest="n_jobs",
        help="runs in parallel, one process each (default 1; -1: one per core)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS / OpenMP / torch threads per run (default 1: on benchmark-sized data, "
        "competing thread pools cost more than they give)",
    )
    parser.add_argument("--no-plots", action="store_true", default=False, help="skip the figures")
    parser.add_argument(
        "--fresh",
        action="store_true",
        default=False,
        help="ignore (and overwrite) runs already in results.json",
    )
    parser.add_argument(
        "--list", action="store_true", default=False, help="list datasets and hashers, then exit"
    )
    return parser.parse_args(argv)


def _optional_float(text: str):
    return None if text.lower() in ("none", "null") else float(text)


def _parse_param(text: str):
    target, sep, value = text.partition("=")
    hasher, dot, name = target.partition(".")
    if not sep or not dot or not hasher or not name:
        raise SystemExit(f"--param expects HASHER.NAME=VALUE; got {text!r}.")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value  # a bare string such as adam
    return hasher, name, parsed


def _settings(args) -> dict:
    config = load_config(getattr(args, "config", None) or DEFAULT_CONFIG)
    given = vars(args)
    for key in _CONFIG_KEYS - {"params"}:
        if key in given:
            config[key] = given[key]
    params = {k: dict(v) for k, v in (config.get("params") or {}).items()}
    for text in args.param:
        hasher, name, value = _parse_param(text)
        params.setdefault(hasher, {})[name] = value
    config["params"] = params
    for key, default in PROTOCOL_DEFAULTS.items():
        config.setdefault(key, default)
    # One spelling per value, so that 50 (JSON) and 50.0 (flag) give the same resume key.
    if config["imbalance_factor"] is not None:
        config["imbalance_factor"] = float(config["imbalance_factor"])
    for key in ("n_query", "n_train"):
        if config[key] is not None:
            config[key] = int(config[key])
    config["shuffle_classes"] = bool(config["shuffle_classes"])
    if config["query"] not in ("per_class", "random"):
        raise SystemExit(f"query must be 'per_class' or 'random'; got {config['query']!r}.")
    config.setdefault("output_dir", "bench_results")
    for key in ("datasets", "hashers", "bits", "seeds"):
        if not config.get(key):
            raise SystemExit(f"The benchmark needs at least one entry in {key!r}.")
    return config


def _run_key(dataset, options, protocol, hasher, params, bits, seed) -> str:
    return json.dumps(
        [dataset, options, protocol, hasher, params, int(bits), int(seed)], sort_keys=True
    )


def _progress(total: int):
    """A tqdm bar when tqdm is installed, else plain numbered lines on stderr."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines(total)
    return tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True)


class _Lines:
    def __init__(self, total):
        self.total, self.n, self.text = total, 0, ""

    def set_description(self, text):
        self.text = text

    def update(self, n=1):
        self.n += n
        print(f"[{self.n}/{self.total}] {self.text}: done", file=sys.stderr, flush=True)

    def write(self, text, file=None):
        print(text, file=file or sys.stderr, flush=True)

    def close(self):
        pass


def _available_hashers(names):
    classes = {}
    for name in names:
        try:
            classes[name] = resolve_hasher(name)
        except (ImportError, ValueError) as exc:
            warnings.warn(f"skipping hasher {name}: {exc}", RuntimeWarning, stacklevel=2)
    return classes


def _run_limited(data, hasher_class, params, bits, seed, protocol, threads):
    """One run with BLAS, OpenMP and torch limited to ``threads`` threads; never raises."""
    from threadpoolctl import threadpool_limits

    from . import _protocol

    torch = sys.modules.get("torch")  # imported by the hasher's module, if it uses torch
    previous = torch.get_num_threads() if torch is not None else None
    try:
        with threadpool_limits(limits=threads):
            if torch is not None:
                torch.set_num_threads(threads)
            numbers = _protocol.run_once(data, hasher_class, params, bits, seed, protocol=protocol)
        return True, numbers
    except Exception as exc:
        return False, repr(exc)
    finally:
        if torch is not None:
            torch.set_num_threads(previous)


def _execute_all(batch, data, hashers, protocol, n_jobs, threads):
    """Yield ``(plan item, (ok, numbers or error))`` as runs finish (any order if parallel)."""
    if n_jobs == 1:
        for item in batch:
            _, _, _, name, params, bits, seed = item
            yield item, _run_limited(data, hashers[name], params, bits, seed, protocol, threads)
        return
    from joblib import Parallel, delayed

    def tagged(item):
        _, _, _, name, params, bits, seed = item
        return item, _run_limited(data, hashers[name], params, bits, seed, protocol, threads)

    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(tagged)(item) for item in batch
    )


def run_benchmark(
    config: dict,
    *,
    plots: bool = True,
    fresh: bool = False,
    n_jobs: int = 1,
    threads: int = 1,
    stream=None,
) -> dict:
    """Run (or resume) a benchmark configuration and write its outputs.

    ``n_jobs`` runs go in parallel (processes), each limited to ``threads`` BLAS / OpenMP /
    torch threads.

    Returns
    -------
    dict
        ``runs`` (every run, raw), ``rows`` (aggregated), ``table`` (markdown), ``failed``
        (keys of runs that raised), ``skipped_hashers`` and ``files`` written.
    """
    stream = stream or sys.stdout
    out_dir = Path(config["output_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    runs = []
    if json_path.exists() and not fresh:
        runs = json.loads(json_path.read_text(encoding="utf-8")).get("runs", [])
    done = {run["key"] for run in runs}

    hashers = _available_hashers(config["hashers"])
    skipped = [name for name in config["hashers"] if name not in hashers]
    protocol = {key: config[key] for key in PROTOCOL_DEFAULTS}
    plan = []
    for dataset in config["datasets"]:
        options = dataset_options(
            dataset, n_samples=config.get("n_samples"), data_path=config.get("data_path")
        )
        for name in hashers:
            params = config["params"].get(name, {})
            for bits in config["bits"]:
                for seed in config["seeds"]:
                    key = _run_key(dataset, options, protocol, name, params, bits, seed)
                    plan.append((key, dataset, options, name, params, bits, seed))
    todo = [item for item in plan if item[0] not in done]
    print(
        f"{len(plan)} runs planned, {len(plan) - len(todo)} already in {json_path}, "
        f"{len(todo)} to do.",
        file=sys.stderr,
    )

    failed = []
    bar = _progress(len(todo))
    try:
        # One dataset in memory at a time; its runs go to n_jobs single-threaded workers.
        for dataset_key in dict.fromkeys((item[1], json.dumps(item[2])) for item in todo):
            batch = [item for item in todo if (item[1], json.dumps(item[2])) == dataset_key]
            data = load_dataset(batch[0][1], batch[0][2])
            results = _execute_all(batch, data, hashers, protocol, n_jobs, threads)
            for (key, dataset, options, name, params, bits, seed), (ok, numbers) in results:
                label = f"{dataset} {name} {bits} bits seed {seed}"
                bar.set_description(label)
                bar.update(1)
                if not ok:  # one broken run must not lose the others
                    failed.append(key)
                    bar.write(f"FAILED {label}: {numbers}", file=sys.stderr)
                    continue
                runs.append(
                    {
                        "key": key,
                        "dataset": dataset,
                        "dataset_options": options,
                        "protocol": protocol,
                        "hasher": name,
                        "params": params,
                        "bits": int(bits),
                        "seed": int(seed),
                        "threads": threads,
                        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        **numbers,
                    }
                )
                _report.write_json(json_path, {"runs": runs})
    finally:
        bar.close()

    # The report covers this configuration only, even when results.json holds more runs.
    order = {item[0]: i for i, item in enumerate(plan)}
    selected = sorted((run for run in runs if run["key"] in order), key=lambda r: order[r["key"]])
    rows = _report.aggregate(selected)
    table = _report.markdown_table(rows)
    files = [json_path]
    if not json_path.exists():
        _report.write_json(json_path, {"runs": runs})
    _report.write_csv(rows, out_dir / "results.csv")
    (out_dir / "results.md").write_text(table, encoding="utf-8")
    (out_dir / "results.rst").write_text(_report.rst_table(rows), encoding="utf-8")
    files += [out_dir / "results.csv", out_dir / "results.md", out_dir / "results.rst"]
    if plots and selected:
        try:
            files += _report.write_plots(selected, rows, out_dir)
        except ImportError as exc:  # matplotlib is optional: the numbers matter more
            warnings.warn(f"no figures: {exc}", RuntimeWarning, stacklevel=2)
    print(table, file=stream)
    if skipped:
        print(f"Skipped hashers (not importable): {', '.join(skipped)}", file=stream)
    return {
        "runs": selected,
        "rows": rows,
        "table": table,
        "failed": failed,
        "skipped_hashers": skipped,
        "files": files,
    }


def main(argv=None) -> int:
    """Entry point of ``python -m benchmarks.run`` and ``skmetacmh-bench``."""
    args = _parse_args(argv)
    if args.list:
        print("datasets:")
        for name, text in DATASETS.items():
            print(f"  {name:22s} {text}")
        print("hashers:")
        for name, spec in HASHERS.items():
            print(f"  {name:22s} {spec}")
        return 0
    config = _settings(args)
    if args.threads < 1 or args.n_jobs == 0:
        raise SystemExit("--threads must be >= 1 and --n-jobs a non-zero int.")
    result = run_benchmark(
        config, plots=not args.no_plots, fresh=args.fresh, n_jobs=args.n_jobs, threads=args.threads
    )
    if result["failed"]:
        print(f"{len(result['failed'])} run(s) failed; see the messages above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
