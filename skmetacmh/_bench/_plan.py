"""Planning a benchmark: every run as a frozen :class:`RunSpec`, checked before any runs.

A configuration (:class:`~._config.Config`) becomes one :class:`RunSpec` per dataset x hasher
x code length x seed. Everything that can fail without fitting a hasher fails here, as a
one-line :class:`~._config.ConfigError`: hasher parameter values and code lengths (each
hasher's own ``_parameter_constraints``) and the split of every dataset for every seed (too
few items for the queries asked for, an imbalance factor the classes cannot give). A run can
then fail only for what its fit finds.

A run's resume key (:meth:`RunSpec.key`) holds what decides its numbers: the run itself and
the :func:`environment` (package version, a digest of its source files, library versions and
the thread count).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ._config import Config, ConfigError
from ._registry import make_hasher

__all__ = ["RunSpec", "plan", "check_hashers", "check_splits", "environment"]

#: Libraries whose version can change a run's numbers; part of every resume key.
_LIBRARIES = ("numpy", "scipy", "scikit-learn", "torch")
# Build products left out of the source digest.
_BUILT = {".so", ".pyd", ".pyc", ".dll", ".dylib"}


@dataclass(frozen=True)
class RunSpec:
    """One run of the benchmark: which data, split protocol, hasher, code length and seed.

    The dict fields are JSON-ready and must not be changed after planning (a frozen
    dataclass stops reassignment, not mutation of a dict).
    """

    dataset: str
    options: dict
    protocol: dict
    hasher: str
    params: dict
    bits: int
    seed: int

    def key(self, environment: dict) -> str:
        """The resume key: this run and the environment that computes it, as JSON.

        The layout ``[dataset, options, protocol, hasher, params, bits, seed, environment]`` is
        the one results files have always used, so that older files stay readable.
        """
        return json.dumps(
            [
                self.dataset,
                self.options,
                self.protocol,
                self.hasher,
                self.params,
                int(self.bits),
                int(self.seed),
                environment,
            ],
            sort_keys=True,
        )

    @property
    def data_key(self) -> str:
        """Which loaded data the run needs (runs of one dataset and options share it)."""
        return json.dumps([self.dataset, self.options], sort_keys=True)

    @property
    def label(self) -> str:
        return f"{self.dataset} {self.hasher} {self.bits} bits seed {self.seed}"


def plan(config: Config, hashers) -> list[RunSpec]:
    """Every run of ``config`` for the importable ``hashers``, in the report's order."""
    return [
        RunSpec(
            dataset=dataset,
            options=dict(config.dataset_options[dataset]),
            protocol=dict(config.protocol),
            hasher=name,
            params=dict(config.params.get(name, {})),
            bits=int(bits),
            seed=int(seed),
        )
        for dataset in config.datasets
        for name in hashers
        for bits in config.bits
        for seed in config.seeds
    ]


def check_hashers(specs: list[RunSpec], hashers: dict) -> None:
    """Build every (hasher, parameters, code length) of the plan and check its parameters.

    The hasher's ``_parameter_constraints`` (what ``fit`` checks first) decide: a misspelt
    parameter value or a code length beyond a hasher's limit is an error before any run,
    not one failure per run. ``n_image_features`` is a placeholder here (the data decide it).
    """
    for spec in _first_of_each(specs, lambda s: (s.hasher, _json_key(s.params), s.bits)):
        try:
            hasher = make_hasher(hashers[spec.hasher], spec.params, spec.bits, 1, spec.seed)
            validate = getattr(hasher, "_validate_params", None)
            if validate is not None:
                validate()
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"hasher {spec.hasher!r} at {spec.bits} bits: {_one_line(exc)}"
            ) from None


def check_splits(specs: list[RunSpec], load) -> None:
    """Draw the split of every (dataset, protocol, seed) of ``specs`` before any run.

    ``load(spec)`` returns the run's data (see :class:`~._runner.DataCache`). Too few items
    for the queries asked for, or an imbalance factor the classes cannot give, is then a
    one-line error naming the dataset and seed, instead of a failure in every run.
    """
    from ._protocol import split_long_tailed

    for spec in _first_of_each(specs, lambda s: (s.data_key, _json_key(s.protocol), s.seed)):
        try:
            data = load(spec)
        except (ValueError, OSError, KeyError) as exc:
            raise ConfigError(
                f"cannot load dataset {spec.dataset!r} with options {spec.options}: "
                f"{_one_line(exc)}"
            ) from None
        try:
            split_long_tailed(data.y, spec.protocol, spec.seed)
        except ValueError as exc:
            raise ConfigError(
                f"dataset {spec.dataset!r} with options {spec.options} cannot give the split "
                f"of seed {spec.seed}: {_one_line(exc)}"
            ) from None


def _json_key(options: dict) -> str:
    return json.dumps(options, sort_keys=True)


def _first_of_each(specs, key):
    """The specs in order, each only if no earlier one had the same ``key(spec)``."""
    seen = set()
    for spec in specs:
        what = key(spec)
        if what not in seen:
            seen.add(what)
            yield spec


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def environment(threads: int) -> dict:
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
        "source": source_fingerprint(),
        **versions,
        "threads": int(threads),
    }


def source_fingerprint() -> str:
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
