"""Running a planned benchmark: resume, execution (in parallel if asked), progress, outputs.

:func:`run_benchmark` validates the configuration once (when given a dict), plans its runs
(:mod:`._plan`), checks every hasher and split before the first run, skips the runs that
``results.json`` already holds (same key: same run, code, libraries and threads), computes
the others one dataset at a time, and writes the report of this configuration's runs.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

from . import _report
from ._config import Config, ConfigError, validate_config
from ._data import load_dataset
from ._plan import RunSpec, check_hashers, check_splits, environment, plan
from ._registry import HASHERS, REFERENCE_HASHERS, check_params, resolve_hasher

__all__ = ["DataCache", "run_benchmark"]


class DataCache:
    """The data of one dataset at a time: what the split checks load, the first runs reuse."""

    def __init__(self):
        self.key, self.data = None, None

    def __call__(self, spec: RunSpec):
        if spec.data_key != self.key:
            self.key, self.data = None, None  # free the old arrays before loading new ones
            self.data = load_dataset(spec.dataset, spec.options)
            self.key = spec.data_key
        return self.data


def available_hashers(config: Config) -> dict:
    """The classes of the hashers that import, their parameters checked; the others skipped.

    An unknown parameter name raises ``ConfigError`` (before any run); a hasher whose module
    does not import is skipped with a warning, so the others still run.
    """
    classes = {}
    for name in config.hashers:
        try:
            classes[name] = resolve_hasher(name)
        except ImportError as exc:
            warnings.warn(f"skipping hasher {name}: {exc}", RuntimeWarning, stacklevel=3)
    for name, params in config.params.items():
        if name in classes:
            try:
                check_params(name, classes[name], params)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        elif name not in config.hashers and name not in {**HASHERS, **REFERENCE_HASHERS}:
            raise ConfigError(
                f"--param / 'params' name hasher {name!r}, which is not among the hashers of "
                f"this run {list(config.hashers)}."
            )
    return classes


def run_limited(spec: RunSpec, data, hasher_class, threads: int):
    """One run with BLAS, OpenMP and torch limited to ``threads`` threads; never raises.

    Returns ``(True, numbers)`` or ``(False, repr of the exception)``.
    """
    from joblib import parallel_config

    from .._threads import thread_limits
    from . import _protocol

    try:
        # A hasher's n_jobs=None follows parallel_config: without it the hasher's own thread
        # scope would put back its default of one thread inside this one.
        with parallel_config(n_jobs=threads), thread_limits(threads):
            numbers = _protocol.run_once(
                data, hasher_class, spec.params, spec.bits, spec.seed, protocol=spec.protocol
            )
        return True, numbers
    except Exception as exc:
        return False, repr(exc)


def _execute_all(batch, data, hashers, n_jobs: int, threads: int):
    """Yield ``(spec, (ok, numbers or error))`` as runs finish (any order if parallel)."""
    if n_jobs == 1:
        for spec in batch:
            yield spec, run_limited(spec, data, hashers[spec.hasher], threads)
        return
    from joblib import Parallel, delayed

    def tagged(spec):
        return spec, run_limited(spec, data, hashers[spec.hasher], threads)

    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(tagged)(spec) for spec in batch
    )


def _execute(todo, hashers, load, n_jobs, threads, runs, json_path, env) -> list:
    """Run ``todo``, appending each result to ``runs`` and to ``json_path`` as it comes.

    Returns the keys of the runs that raised; one broken run must not lose the others.
    """
    failed = []
    bar = _progress(len(todo))
    try:
        # One dataset in memory at a time; its runs go to n_jobs single-threaded workers.
        for data_key in dict.fromkeys(spec.data_key for spec in todo):
            batch = [spec for spec in todo if spec.data_key == data_key]
            results = _execute_all(batch, load(batch[0]), hashers, n_jobs, threads)
            for spec, (ok, numbers) in results:
                bar.set_description(spec.label)
                bar.update(1)
                if not ok:
                    failed.append(spec.key(env))
                    bar.write(f"FAILED {spec.label}: {numbers}", file=sys.stderr)
                    continue
                runs.append(_run_record(spec, threads, env, numbers))
                _report.write_json(json_path, {"runs": runs})
    finally:
        bar.close()
    return failed


def _run_record(spec: RunSpec, threads: int, env: dict, numbers: dict) -> dict:
    """One finished run as ``results.json`` stores it."""
    return {
        "key": spec.key(env),
        "dataset": spec.dataset,
        "dataset_options": spec.options,
        "protocol": spec.protocol,
        "hasher": spec.hasher,
        "params": spec.params,
        "bits": spec.bits,
        "seed": spec.seed,
        "threads": threads,
        "environment": env,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **numbers,
    }


def run_benchmark(
    config: Config | dict,
    *,
    plots: bool = True,
    fresh: bool = False,
    n_jobs: int = 1,
    threads: int = 1,
    stream=None,
) -> dict:
    """Run (or resume) a benchmark configuration and write its outputs.

    ``config`` is a :class:`~._config.Config`, or a dict that is validated here. ``n_jobs``
    runs go in parallel (processes), each limited to ``threads`` BLAS / OpenMP / torch
    threads. Every hasher's parameters and every split are checked before the first run.

    Returns
    -------
    dict
        ``runs`` (every run, raw), ``rows`` (aggregated), ``table`` (markdown), ``failed``
        (keys of runs that raised), ``skipped_hashers`` and ``files`` written.
    """
    stream = stream or sys.stdout
    config = validate_config(config)
    hashers = available_hashers(config)
    skipped = [name for name in config.hashers if name not in hashers]
    specs = plan(config, hashers)
    env = environment(threads)
    keys = [spec.key(env) for spec in specs]
    check_hashers(specs, hashers)
    out_dir = Path(config.output_dir)
    json_path = out_dir / "results.json"
    runs = _previous_runs(json_path, fresh)
    done = {run["key"] for run in runs}
    todo = [spec for spec, key in zip(specs, keys) if key not in done]
    load = DataCache()
    check_splits(todo, load)
    _make_output_dir(out_dir)
    _announce(len(specs), len(todo), _stale_count(runs, keys), json_path)
    failed = _execute(todo, hashers, load, n_jobs, threads, runs, json_path, env)

    # The report covers this configuration only, even when results.json holds more runs.
    order = {key: i for i, key in enumerate(keys)}
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


def _announce(n_planned: int, n_todo: int, stale: int, json_path: Path) -> None:
    print(
        f"{n_planned} runs planned, {n_planned - n_todo} already in {json_path}, "
        f"{n_todo} to do."
        + (
            f" {stale} run(s) there were made by other code, library versions or threads "
            "and are recomputed."
            if stale
            else ""
        ),
        file=sys.stderr,
    )


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


def _check_output_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--output-dir {str(out_dir)!r} is a file, not a directory.")


def _make_output_dir(out_dir: Path) -> None:
    _check_output_dir(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create --output-dir {str(out_dir)!r}: {exc.strerror or exc}."
        ) from None


def _previous_runs(json_path: Path, fresh: bool) -> list:
    """The runs of an earlier invocation (any version of this benchmark), or none."""
    _check_output_dir(json_path.parent)
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


def _stale_count(runs: list, keys: list) -> int:
    """Stored runs of a planned (dataset, protocol, hasher, bits, seed) made by other code."""
    planned = {json.dumps(json.loads(key)[:-1]) for key in keys}
    current = set(keys)
    count = 0
    for run in runs:
        try:
            config_part = json.dumps(json.loads(run["key"])[:-1])
        except (ValueError, TypeError):
            continue
        count += run["key"] not in current and config_part in planned
    return count


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
