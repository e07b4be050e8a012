"""Benchmark cross-modal hashers on long-tailed data: ``skmetacmh-bench``.

Runs every combination of datasets x hashers x code lengths x seeds under the leak-free
long-tail protocol (see :mod:`skmetacmh._bench._protocol`), prints a markdown table of
mean ± std over seeds, and writes into ``--output-dir``:

* ``results.json``: every run, raw (rewritten after each run, so an interrupted benchmark
  resumes where it stopped: runs already there are skipped when they were made by the same
  code, library versions and thread count);
* ``results.csv``: the aggregated table; ``results.md`` and ``results.rst``: the table as
  markdown and as a reStructuredText list-table;
* ``*.png``: mAP against code length, per-class mAP against training frequency, and
  precision-recall curves.

With no flags it runs the shipped configuration ``default.json``. Flags override the
configuration file's values. ``--list`` shows the known datasets and hashers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

from . import _report
from ._config import (
    CONFIG_DIR,
    DEFAULT_CONFIG,
    PROTOCOL_DEFAULTS,
    SCHEMA,
    ConfigError,
    load_config,
    validate_config,
)
from ._data import DATASETS, dataset_options, load_dataset
from ._registry import HASHERS, REFERENCE_HASHERS, check_params, resolve_hasher

__all__ = ["main", "load_config", "run_benchmark", "DEFAULT_CONFIG", "HASHERS"]

#: Libraries whose version can change a run's numbers; part of every resume key.
_LIBRARIES = ("numpy", "scipy", "scikit-learn", "torch")
# Build products left out of the source digest.
_BUILT = {".so", ".pyd", ".pyc", ".dll", ".dylib"}


def _optional_float(text: str):
    return None if text.lower() in ("none", "null") else float(text)


# Flags that override a key of the configuration file, in --help order. argparse names each
# destination after its flag ("--n-query" -> n_query), which is the configuration key.
_OVERRIDES = (
    ("--datasets", {"nargs": "+", "metavar": "NAME"}),
    ("--hashers", {"nargs": "+", "metavar": "NAME"}),
    ("--bits", {"nargs": "+", "type": int, "metavar": "N"}),
    ("--seeds", {"nargs": "+", "type": int, "metavar": "SEED"}),
    (
        "--imbalance-factor",
        {
            "type": _optional_float,
            "help": "largest / smallest training class size (default 50); 'none' trains on a "
            "uniform draw from the database (the balanced protocol)",
        },
    ),
    (
        "--query",
        {
            "choices": ("per_class", "random"),
            "help": "queries drawn per class (default, balanced) or uniformly at random",
        },
    ),
    (
        "--n-query",
        {
            "type": int,
            "help": "queries per class (--query per_class, default 20) or in total "
            "(--query random)",
        },
    ),
    (
        "--n-train",
        {
            "type": int,
            "help": "training items drawn from the database when --imbalance-factor is none "
            "(default: the whole database)",
        },
    ),
    (
        "--shuffle-classes",
        {
            "action": argparse.BooleanOptionalAction,
            "help": "rank classes of equal size in a random order per seed when drawing the "
            "long tail (default), or by class value (--no-shuffle-classes)",
        },
    ),
    (
        "--n-samples",
        {"type": int, "help": "subsample size of fashion-mnist-halves / size of synthetic"},
    ),
    ("--data-path", {"help": "folder or .mat file of mirflickr25k/nuswide/mscoco"}),
)


def _parse_args(argv):
    # The overriding flags are absent from the namespace unless given (argparse.SUPPRESS), so
    # "--imbalance-factor none" can set None; the run-control flags below have defaults.
    parser = argparse.ArgumentParser(
        prog="skmetacmh-bench",
        argument_default=argparse.SUPPRESS,
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Datasets: "
        + ", ".join(DATASETS)
        + ". Hashers: "
        + ", ".join([*HASHERS, *REFERENCE_HASHERS])
        + " (or any 'module:Class').",
    )
    shipped = ", ".join(sorted(p.name for p in CONFIG_DIR.glob("*.json")))
    parser.add_argument(
        "--config",
        help=f"JSON configuration: a path, or the name of a shipped one ({shipped}); "
        "default: default.json",
    )
    for flag, options in _OVERRIDES:
        parser.add_argument(flag, **options)
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="HASHER.NAME=VALUE",
        help="a hasher parameter, VALUE parsed as JSON (e.g. --param MetaCMH.max_epochs=30)",
    )
    parser.add_argument("--output-dir", help="where results go (default ./bench_results)")
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
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


def _parse_param(text: str):
    target, sep, value = text.partition("=")
    hasher, dot, name = target.partition(".")
    if not sep or not dot or not hasher or not name:
        raise ConfigError(f"--param expects HASHER.NAME=VALUE; got {text!r}.")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value  # a bare string such as adam
    return hasher, name, parsed


def _settings(args) -> dict:
    """The configuration file, overridden by the flags given, validated once."""
    config = load_config(getattr(args, "config", None) or DEFAULT_CONFIG)
    config.pop("description", None)
    given = vars(args)
    for key in set(SCHEMA) - {"params", "description"}:
        if key in given:
            config[key] = given[key]
    params = {k: dict(v) for k, v in (config.get("params") or {}).items()}
    for text in args.param:
        hasher, name, value = _parse_param(text)
        params.setdefault(hasher, {})[name] = value
    config["params"] = params
    return validate_config(config, "configuration (file and flags)")


def _environment(threads: int) -> dict:
    """What besides the configuration decides a run's numbers: code, libraries, threads."""
    import skmetacmh

    versions = {}
    for library in _LIBRARIES:
        try:
            versions[library] = metadata.version(library)
        except metadata.PackageNotFoundError:
            versions[library] = None
    return {
        "skmetacmh": skmetacmh.__version__,
        "source": _source_fingerprint(),
        **versions,
        "threads": int(threads),
    }


def _source_fingerprint() -> str:
    """A digest of the package's files (sources, C code, shipped data and configurations).

    A changed hasher is other code even before the version number moves. Compiled extensions
    and bytecode are left out: they follow from the sources, and differ between builds.
    """
    import skmetacmh

    root = Path(skmetacmh.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in _BUILT:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _run_key(dataset, options, protocol, hasher, params, bits, seed, environment) -> str:
    return json.dumps(
        [dataset, options, protocol, hasher, params, int(bits), int(seed), environment],
        sort_keys=True,
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


def _available_hashers(config):
    """The classes of the hashers that import, their parameters checked; the others skipped.

    An unknown hasher name or parameter raises ``ConfigError`` (before any run); a hasher
    whose module does not import is skipped with a warning, so the others still run.
    """
    classes = {}
    for name in config["hashers"]:
        try:
            classes[name] = resolve_hasher(name)
        except ImportError as exc:
            warnings.warn(f"skipping hasher {name}: {exc}", RuntimeWarning, stacklevel=3)
    for name, params in config["params"].items():
        if name in classes:
            try:
                check_params(name, classes[name], params)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        elif name not in config["hashers"] and name not in {**HASHERS, **REFERENCE_HASHERS}:
            raise ConfigError(
                f"--param / 'params' name hasher {name!r}, which is not among the hashers of "
                f"this run {config['hashers']}."
            )
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
    config = validate_config(config)
    hashers = _available_hashers(config)
    skipped = [name for name in config["hashers"] if name not in hashers]
    out_dir = Path(config["output_dir"])
    json_path = out_dir / "results.json"
    runs = _previous_runs(out_dir, json_path, fresh)
    environment = _environment(threads)
    protocol = {key: config[key] for key in PROTOCOL_DEFAULTS}
    plan = _plan(config, hashers, protocol, environment)
    done = {run["key"] for run in runs}
    todo = [item for item in plan if item[0] not in done]
    _announce(plan, todo, _stale_count(runs, plan), json_path)
    failed = _execute(todo, hashers, protocol, n_jobs, threads, runs, json_path, environment)

    # The report covers this configuration only, even when results.json holds more runs.
    order = {item[0]: i for i, item in enumerate(plan)}
    selected = sorted((run for run in runs if run["key"] in order), key=lambda r: order[r["key"]])
    if not json_path.exists():
        _report.write_json(json_path, {"runs": runs})
    rows, table, files = _write_report(selected, out_dir, plots)
    print(table, file=stream)
    if skipped:
        print(f"Skipped hashers (not importable): {', '.join(skipped)}", file=stream)
    return {
        "runs": selected,
        "rows": rows,
        "table": table,
        "failed": failed,
        "skipped_hashers": skipped,
        "files": [json_path, *files],
    }


def _plan(config, hashers, protocol, environment) -> list:
    """Every run of the configuration: ``(key, dataset, options, hasher, params, bits, seed)``."""
    plan = []
    for dataset in config["datasets"]:
        options = dataset_options(
            dataset, n_samples=config.get("n_samples"), data_path=config.get("data_path")
        )
        for name in hashers:
            params = config["params"].get(name, {})
            for bits in config["bits"]:
                for seed in config["seeds"]:
                    key = _run_key(
                        dataset, options, protocol, name, params, bits, seed, environment
                    )
                    plan.append((key, dataset, options, name, params, bits, seed))
    return plan


def _announce(plan: list, todo: list, stale: int, json_path: Path) -> None:
    print(
        f"{len(plan)} runs planned, {len(plan) - len(todo)} already in {json_path}, "
        f"{len(todo)} to do."
        + (
            f" {stale} run(s) there were made by other code, library versions or threads "
            "and are recomputed."
            if stale
            else ""
        ),
        file=sys.stderr,
    )


def _execute(todo, hashers, protocol, n_jobs, threads, runs, json_path, environment) -> list:
    """Run ``todo``, appending each result to ``runs`` and to ``json_path`` as it comes.

    Returns the keys of the runs that raised; one broken run must not lose the others.
    """
    failed = []
    bar = _progress(len(todo))
    try:
        # One dataset in memory at a time; its runs go to n_jobs single-threaded workers.
        for dataset_key in dict.fromkeys((item[1], json.dumps(item[2])) for item in todo):
            batch = [item for item in todo if (item[1], json.dumps(item[2])) == dataset_key]
            data = load_dataset(batch[0][1], batch[0][2])
            results = _execute_all(batch, data, hashers, protocol, n_jobs, threads)
            for item, (ok, numbers) in results:
                key, dataset, options, name, params, bits, seed = item
                label = f"{dataset} {name} {bits} bits seed {seed}"
                bar.set_description(label)
                bar.update(1)
                if not ok:
                    failed.append(key)
                    bar.write(f"FAILED {label}: {numbers}", file=sys.stderr)
                    continue
                runs.append(_run_record(item, protocol, threads, environment, numbers))
                _report.write_json(json_path, {"runs": runs})
    finally:
        bar.close()
    return failed


def _run_record(item, protocol, threads, environment, numbers) -> dict:
    """One finished run as ``results.json`` stores it."""
    key, dataset, options, name, params, bits, seed = item
    return {
        "key": key,
        "dataset": dataset,
        "dataset_options": options,
        "protocol": protocol,
        "hasher": name,
        "params": params,
        "bits": int(bits),
        "seed": int(seed),
        "threads": threads,
        "environment": environment,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **numbers,
    }


def _write_report(selected: list, out_dir: Path, plots: bool):
    """Aggregate ``selected`` runs and write the tables and figures; ``(rows, table, files)``."""
    rows = _report.aggregate(selected)
    table = _report.markdown_table(rows)
    _report.write_csv(rows, out_dir / "results.csv")
    (out_dir / "results.md").write_text(table, encoding="utf-8")
    (out_dir / "results.rst").write_text(_report.rst_table(rows), encoding="utf-8")
    files = [out_dir / "results.csv", out_dir / "results.md", out_dir / "results.rst"]
    if plots and selected:
        try:
            files += _report.write_plots(selected, rows, out_dir)
        except ImportError as exc:  # matplotlib is optional: the numbers matter more
            warnings.warn(f"no figures: {exc}", RuntimeWarning, stacklevel=3)
    return rows, table, files


def _previous_runs(out_dir: Path, json_path: Path, fresh: bool) -> list:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--output-dir {str(out_dir)!r} is a file, not a directory.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create --output-dir {str(out_dir)!r}: {exc.strerror or exc}."
        ) from None
    if fresh or not json_path.exists():
        return []
    try:
        runs = json.loads(json_path.read_text(encoding="utf-8"))["runs"]
        if not isinstance(runs, list) or not all("key" in run for run in runs):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{json_path} is not a results file of this benchmark; pass --fresh to overwrite "
            "it or choose another --output-dir."
        ) from None
    return runs


def _stale_count(runs: list, plan: list) -> int:
    """Stored runs of a planned (dataset, protocol, hasher, bits, seed) made by other code."""
    planned = {json.dumps(json.loads(item[0])[:-1]) for item in plan}
    keys = {item[0] for item in plan}
    count = 0
    for run in runs:
        try:
            config_part = json.dumps(json.loads(run["key"])[:-1])
        except ValueError:
            continue
        count += run["key"] not in keys and config_part in planned
    return count


def _list() -> None:
    print("datasets:")
    for name, text in DATASETS.items():
        print(f"  {name:22s} {text}")
    print("hashers:")
    for name, spec in HASHERS.items():
        print(f"  {name:22s} {spec}")
    print("reference points (not in the default configuration):")
    for name, spec in REFERENCE_HASHERS.items():
        print(f"  {name:22s} {spec}")


def main(argv=None) -> int:
    """Entry point of ``skmetacmh-bench`` and ``python -m skmetacmh._bench``.

    Returns the exit status: 0, 1 when a run failed, 2 for a configuration that cannot run
    (reported on one line, before any run starts).
    """
    args = _parse_args(argv)
    if args.list:
        _list()
        return 0
    try:
        if args.threads < 1:
            raise ConfigError(f"--threads must be >= 1; got {args.threads}.")
        if args.n_jobs == 0:
            raise ConfigError("--n-jobs must be a non-zero int (-1: one per core); got 0.")
        config = _settings(args)
        result = run_benchmark(
            config,
            plots=not args.no_plots,
            fresh=args.fresh,
            n_jobs=args.n_jobs,
            threads=args.threads,
        )
    except ConfigError as exc:
        print(f"skmetacmh-bench: error: {exc}", file=sys.stderr)
        return 2
    if result["failed"]:
        print(f"{len(result['failed'])} run(s) failed; see the messages above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
