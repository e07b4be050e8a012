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
import json
import sys

from ._config import (
    CONFIG_DIR,
    DEFAULT_CONFIG,
    SCHEMA,
    Config,
    ConfigError,
    load_config,
    validate_config,
)
from ._data import DATASETS
from ._registry import HASHERS, REFERENCE_HASHERS
from ._runner import run_benchmark

__all__ = ["main"]


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
    (
        "--learned-codes",
        {
            "action": argparse.BooleanOptionalAction,
            "help": "also score the learned training codes as the database, the authors' "
            "protocol (DLFH, SePH, DCMH, MetaCMH; n/a for hashers that learn none)",
        },
    ),
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


def _settings(args) -> Config:
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
