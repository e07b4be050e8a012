"""The benchmark configuration: its schema, read once from JSON and flags, checked once.

Every error is a :class:`ConfigError` with a one-line message that names the key, what was
expected and what came; the command line prints it without a traceback.
"""

from __future__ import annotations

import json
from numbers import Integral, Real
from pathlib import Path

from ._data import DATASETS, dataset_options
from ._registry import canonical_name

__all__ = [
    "CONFIG_DIR",
    "DEFAULT_CONFIG",
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
    ``n_samples``, ``data_path``, ``output_dir`` and ``description``. Each key is optional
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


def validate_config(config: dict, where: str = "configuration") -> dict:
    """Fill in the defaults of a merged configuration and check it once, completely.

    Hasher names become their registry spelling; the protocol values get one spelling each
    (``50`` and ``50.0`` give the same resume key); every dataset's options are resolved, so
    a missing ``data_path`` fails here, before any run.

    Raises
    ------
    ConfigError
        For an unknown key, a value of the wrong type, an unknown dataset or hasher name, a
        dataset without the ``data_path`` it needs, or a missing list.
    """
    config = dict(config)
    for key, default in PROTOCOL_DEFAULTS.items():
        config.setdefault(key, default)
    config.setdefault("output_dir", "bench_results")
    config.setdefault("params", {})
    _check_keys(config, where)
    for key in ("datasets", "hashers", "bits", "seeds"):
        if key not in config:
            raise ConfigError(f"{where}: the benchmark needs a non-empty list {key!r}.")
    _check_values(config, where)
    try:
        hashers = [canonical_name(name) for name in config["hashers"]]
        params = {}
        for name, settings in config["params"].items():
            params.setdefault(canonical_name(name), {}).update(settings)
        for dataset in config["datasets"]:
            dataset_options(
                dataset, n_samples=config.get("n_samples"), data_path=config.get("data_path")
            )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    config["hashers"] = list(dict.fromkeys(hashers))
    config["params"] = params
    if config["imbalance_factor"] is not None:
        config["imbalance_factor"] = float(config["imbalance_factor"])
    if config["n_train"] is not None and config["imbalance_factor"] is not None:
        raise ConfigError(
            f"{where}: 'n_train' draws a uniform training set and needs "
            "'imbalance_factor': null (the long tail sets its own size)."
        )
    return config
