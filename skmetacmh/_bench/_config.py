"""The benchmark configuration: its schema, read once from JSON and flags, checked once.

:func:`validate_config` turns the merged configuration (file, then flags) into a frozen
:class:`Config`, with every default filled in, hasher names in their registry spelling and
every dataset's options resolved; nothing downstream validates it again. Every error is a
:class:`ConfigError` with a one-line message that names the key, what was expected and what
came; the command line prints it without a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

from ._data import DATASETS, dataset_options
from ._registry import canonical_name

__all__ = [
    "CONFIG_DIR",
    "Config",
    "DEFAULT_CONFIG",
    "EXTRA_PROTOCOL",
    "PROTOCOL_DEFAULTS",
    "SCHEMA",
    "ConfigError",
    "load_config",
    "validate_config",
]

#: The configurations shipped with the package (``--config NAME`` finds them by name).
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


#: Protocol settings added since results files were first written, with their defaults. They
#: enter a run's protocol (and so its resume key) only when set to another value, so the keys
#: of runs made before they existed stay valid. ``learned_codes``: also score the learned
#: training codes as the database (the authors' protocol, for hashers that learn them).
EXTRA_PROTOCOL = {"learned_codes": False}


class ConfigError(ValueError):
    """A benchmark configuration (file or flags) that cannot run; the message is one line."""


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _int(minimum, *, optional=False):
    def check(value):
        if value is None and optional:
            return None
        if not _is_int(value) or value < minimum:
            return f"an int >= {minimum}{' or null' if optional else ''}"
        return None

    return check


def _list_of(item_check, what):
    def check(value):
        if not isinstance(value, list) or not value:
            return f"a non-empty list of {what}"
        for item in value:
            if item_check(item) is not None:
                return f"a non-empty list of {what}"
        return None

    return check


def _string(value):
    return None if isinstance(value, str) and value else "a non-empty string"


def _optional_string(value):
    return None if value is None else _string(value)


def _choice(*choices):
    def check(value):
        return None if value in choices else f"one of {list(choices)}"

    return check


def _imbalance_factor(value):
    if value is None or (_is_real(value) and value >= 1):
        return None
    return "a number >= 1 or null"


def _boolean(value):
    return None if isinstance(value, bool) else "true or false"


def _params(value):
    expected = 'an object {"Hasher": {"parameter": value}}'
    if not isinstance(value, dict):
        return expected
    for settings in value.values():
        if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
            return expected
    return None


#: Key -> check returning None when the value is valid, else what was expected.
SCHEMA = {
    "description": _string,
    "datasets": _list_of(_choice(*DATASETS), f"dataset names from {list(DATASETS)}"),
    "hashers": _list_of(_string, "hasher names"),
    "bits": _list_of(_int(1), "ints >= 1"),
    "seeds": _list_of(_int(0), "ints >= 0"),
    "params": _params,
    "n_samples": _int(1, optional=True),
    "data_path": _optional_string,
    "output_dir": _string,
    "query": _choice("per_class", "random"),
    "n_query": _int(1),
    "imbalance_factor": _imbalance_factor,
    "n_train": _int(1, optional=True),
    "shuffle_classes": _boolean,
    "learned_codes": _boolean,
}


def _check_keys(config: dict, where: str) -> None:
    unknown = sorted(set(config) - set(SCHEMA))
    if unknown:
        raise ConfigError(
            f"{where}: unknown configuration keys {unknown}; expected some of {sorted(SCHEMA)}."
        )


def load_config(path) -> dict:
    """Read a JSON benchmark configuration and check its keys and value types.

    ``path`` is a file, or the name of a configuration shipped in ``CONFIG_DIR``. Keys:
    ``datasets`` (list of names), ``hashers`` (list of names or ``"module:Class"``), ``bits``
    (list of ints), ``seeds`` (list of ints), ``params`` (``{hasher: {param: value}}``), the
    protocol (``query``, ``n_query``, ``imbalance_factor``, ``n_train``, ``shuffle_classes``),
    ``n_samples``, ``data_path``, ``output_dir``, ``learned_codes`` (also score the learned
    training codes as the database) and ``description``. Each key is optional
    here; :func:`validate_config` checks that the merged configuration is complete.

    Raises
    ------
    ConfigError
        If the file is missing or is not valid JSON, or has an unknown key or a value of the
        wrong type.
    """
    path = Path(path)
    if not path.is_file() and (CONFIG_DIR / path).is_file():
        path = CONFIG_DIR / path
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: a configuration must be UTF-8 JSON text; byte {exc.object[exc.start]:#04x} "
            f"at offset {exc.start} is not UTF-8."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the configuration {str(path)!r} ({exc.strerror or exc}); pass a JSON "
            f"file or one of {sorted(p.name for p in CONFIG_DIR.glob('*.json'))}."
        ) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    if not isinstance(config, dict):
        raise ConfigError(
            f"{path}: a benchmark configuration must be a JSON object; got {type(config).__name__}."
        )
    _check_keys(config, str(path))
    _check_values(config, str(path))
    return config


def _check_values(config: dict, where: str) -> None:
    for key, value in config.items():
        expected = SCHEMA[key](value)
        if expected is not None:
            raise ConfigError(f"{where}: {key!r} must be {expected}; got {value!r}.")


@dataclass(frozen=True)
class Config:
    """A validated benchmark configuration (see :func:`validate_config`); read-only.

    Attributes
    ----------
    datasets, hashers : tuple of str
        Dataset names; hasher names in their registry spelling (or ``"module:Class"``).
    bits, seeds : tuple of int
        Code lengths and seeds, each value once.
    params : dict
        ``{hasher: {parameter: value}}``, keyed by registry spelling.
    protocol : dict
        The split protocol: every key of ``PROTOCOL_DEFAULTS``, plus the keys of
        ``EXTRA_PROTOCOL`` that are not at their default.
    dataset_options : dict
        ``{dataset: options}``: what defines each dataset's content (part of the resume key).
    output_dir : str
    n_samples : int or None
    data_path : str or None
    description : str or None
    """

    datasets: tuple
    hashers: tuple
    bits: tuple
    seeds: tuple
    params: dict
    protocol: dict
    dataset_options: dict
    output_dir: str = "bench_results"
    n_samples: int | None = None
    data_path: str | None = None
    description: str | None = None


def _refuse_repeats(config: dict, where: str) -> None:
    # A repeated seed or code length would run the same run twice and report a spread of 0
    # over "two" seeds; refusing names the mistake, deduplicating would hide it.
    for key in ("datasets", "hashers", "bits", "seeds"):
        values = config[key]
        if key == "hashers":
            values = [canonical_name(name) for name in values]
        repeated = sorted({v for v in values if values.count(v) > 1}, key=str)
        if repeated:
            raise ConfigError(
                f"{where}: {key!r} lists {', '.join(map(repr, repeated))} more than once; "
                f"each value runs once, so list it once (got {config[key]!r})."
            )


def validate_config(config, where: str = "configuration") -> Config:
    """Fill in the defaults of a merged configuration and check it once, completely.

    Hasher names become their registry spelling; the protocol values get one spelling each
    (``50`` and ``50.0`` give the same resume key); every dataset's options are resolved, so
    a missing or nonexistent ``data_path`` fails here, before any run. A :class:`Config` is
    returned as it is.

    Raises
    ------
    ConfigError
        For an unknown key, a value of the wrong type, an unknown dataset or hasher name, a
        repeated dataset, hasher, code length or seed, a dataset without the ``data_path`` it
        needs, or a missing list.
    """
    if isinstance(config, Config):
        return config
    config = dict(config)
    for key, default in {**PROTOCOL_DEFAULTS, **EXTRA_PROTOCOL}.items():
        config.setdefault(key, default)
    config.setdefault("output_dir", "bench_results")
    config.setdefault("params", {})
    _check_keys(config, where)
    for key in ("datasets", "hashers", "bits", "seeds"):
        if key not in config:
            raise ConfigError(f"{where}: the benchmark needs a non-empty list {key!r}.")
    _check_values(config, where)
    try:
        _refuse_repeats(config, where)
        hashers = tuple(canonical_name(name) for name in config["hashers"])
        params = {}
        for name, settings in config["params"].items():
            params.setdefault(canonical_name(name), {}).update(settings)
        options = {
            dataset: dataset_options(
                dataset, n_samples=config.get("n_samples"), data_path=config.get("data_path")
            )
            for dataset in config["datasets"]
        }
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    protocol = {key: config[key] for key in PROTOCOL_DEFAULTS}
    protocol.update(
        {key: config[key] for key, default in EXTRA_PROTOCOL.items() if config[key] != default}
    )
    if protocol["imbalance_factor"] is not None:
        protocol["imbalance_factor"] = float(protocol["imbalance_factor"])
    if protocol["n_train"] is not None and protocol["imbalance_factor"] is not None:
        raise ConfigError(
            f"{where}: 'n_train' draws a uniform training set and needs "
            "'imbalance_factor': null (the long tail sets its own size)."
        )
    return Config(
        datasets=tuple(config["datasets"]),
        hashers=hashers,
        bits=tuple(int(b) for b in config["bits"]),
        seeds=tuple(int(s) for s in config["seeds"]),
        params=params,
        protocol=protocol,
        dataset_options=options,
        output_dir=str(config["output_dir"]),
        n_samples=config.get("n_samples"),
        data_path=config.get("data_path"),
        description=config.get("description"),
    )
