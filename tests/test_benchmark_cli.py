"""The benchmark CLI end to end on a tiny configuration: outputs, resuming, skipping, protocol."""

import csv
import json
import subprocess
import sys
import types

import numpy as np
import pytest

from skmetacmh import BaseCrossModalHasher
from skmetacmh._bench import _plan, _protocol, _report
from skmetacmh._bench import cli as bench

TINY = [
    "--config",
    "smoke.json",
    "--hashers",
    "tests._toy:ToyHasher",
    "SCM",
    "--bits",
    "8",
    "--seeds",
    "0",
]


@pytest.fixture
def count_runs(monkeypatch):
    """Count the runs the benchmark actually computes."""
    calls = []
    real = _protocol.run_once

    def counting(*args, **kwargs):
        calls.append(args[3:5])  # (bits, seed)
        return real(*args, **kwargs)

    monkeypatch.setattr(_protocol, "run_once", counting)
    return calls


def _scores_by_hand(X_image, X_text, y, protocol, hasher, seed):
    """A run's mAP per direction, mean and tail, from public pieces: the protocol's split, a
    scaler per block fitted on the training rows, the hasher's codes, the shared metrics."""
    from sklearn.preprocessing import StandardScaler

    from skmetacmh import metrics

    split = _protocol.split_long_tailed(y, protocol, seed)
    blocks = {}
    for modality, X in (("image", X_image), ("text", X_text)):
        scaler = StandardScaler().fit(X[split.train])
        blocks[modality] = {
            k: scaler.transform(X[split[k]]) for k in ("train", "query", "database")
        }
    hasher.fit(np.hstack([blocks["image"]["train"], blocks["text"]["train"]]), y[split.train])
    codes = {
        (m, k): hasher.encode(blocks[m][k], modality=m)
        for m in blocks
        for k in ("query", "database")
    }
    y_query, y_db, y_train = y[split.query], y[split.database], y[split.train]
    scores, tails = {}, {}
    for direction, (q, d) in {
        "image_to_text": ("image", "text"),
        "text_to_image": ("text", "image"),
    }.items():
        args = (codes[q, "query"], codes[d, "database"], y_query, y_db)
        scores[direction] = metrics.mean_average_precision(*args)
        for relevance in ("lenient", "strict"):
            grouped = metrics.map_by_frequency_group(*args, y_train, relevance=relevance)
            tails.setdefault(relevance, []).append(grouped.map["tail"])
    scores["mean"] = (scores["image_to_text"] + scores["text_to_image"]) / 2
    scores["tail"] = float(np.mean(tails["lenient"]))
    scores["tail_strict"] = float(np.mean(tails["strict"]))
    return scores


def test_cli_writes_table_json_csv_and_plots_then_resumes(tmp_path, capsys, count_runs):
    pytest.importorskip("matplotlib")
    out = tmp_path / "results"
    assert bench.main([*TINY, "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| synthetic | ToyHasher | 8 |" in printed
    assert "| synthetic | SCM | 8 |" in printed
    assert len(count_runs) == 2

    runs = json.loads((out / "results.json").read_text())["runs"]
    assert sorted(r["hasher"] for r in runs) == ["SCM", "tests._toy:ToyHasher"]
    for run in runs:
        assert 0 < run["image_to_text"] <= 1 and 0 < run["text_to_image"] <= 1
        assert run["mean"] == pytest.approx((run["image_to_text"] + run["text_to_image"]) / 2)
        assert {"head", "medium", "tail", "fit_seconds", "encode_items_per_second"} <= set(run)
        assert len(run["pr"]["image_to_text"]["precision"]) == 8 + 1
    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["method"], r["bits"], r["n_seeds"]) for r in rows] == [
        ("ToyHasher", "8", "1"),
        ("SCM", "8", "1"),
    ]
    assert (out / "results.md").read_text() in printed
    assert "   * - synthetic\n     - SCM\n     - 8\n" in (out / "results.rst").read_text()
    for name in ("map_vs_bits_synthetic", "per_class_synthetic_8bits", "pr_synthetic_8bits"):
        assert (out / f"{name}.png").stat().st_size > 1000

    # Second invocation: everything is in results.json, nothing is recomputed, same table.
    assert bench.main([*TINY, "--output-dir", str(out), "--no-plots"]) == 0
    assert len(count_runs) == 2
    assert capsys.readouterr().out == printed
    assert json.loads((out / "results.json").read_text())["runs"] == runs


def test_interrupted_benchmark_recomputes_only_missing_runs(tmp_path, count_runs):
    out = tmp_path / "results"
    args = [*TINY, "--hashers", "tests._toy:ToyHasher", "--seeds", "0", "1"]
    args += ["--output-dir", str(out)]
    assert bench.main([*args, "--no-plots"]) == 0
    path = out / "results.json"
    runs = json.loads(path.read_text())["runs"]
    path.write_text(json.dumps({"runs": runs[:1]}))  # as if stopped after the first run
    count_runs.clear()
    assert bench.main([*args, "--no-plots"]) == 0
    assert count_runs == [(8, 1)]
    again = json.loads(path.read_text())["runs"]
    assert [r["key"] for r in again] == [r["key"] for r in runs]
    # Same seed, same split, same deterministic hasher: the same numbers.
    assert again[1]["mean"] == pytest.approx(runs[1]["mean"])


def test_parallel_runs_give_the_same_numbers_as_sequential_ones(tmp_path):
    args = [*TINY, "--seeds", "0", "1", "--no-plots"]
    assert bench.main([*args, "--output-dir", str(tmp_path / "seq")]) == 0
    assert bench.main([*args, "--output-dir", str(tmp_path / "par"), "--n-jobs", "2"]) == 0
    seq, par = (
        json.loads((tmp_path / name / "results.json").read_text())["runs"]
        for name in ("seq", "par")
    )
    by_key = {run["key"]: run for run in par}
    assert sorted(by_key) == sorted(run["key"] for run in seq)
    for run in seq:
        assert by_key[run["key"]]["mean"] == run["mean"]
        assert by_key[run["key"]]["tail"] == run["tail"]

    # The report follows the configuration's order, whatever order runs finished in.
    def first_columns(name):
        lines = (tmp_path / name / "results.md").read_text().splitlines()
        return [line.split("|")[1:4] for line in lines]

    assert first_columns("par") == first_columns("seq")


def test_changing_the_protocol_does_not_reuse_runs(tmp_path, count_runs):
    out = tmp_path / "results"
    args = [*TINY, "--hashers", "tests._toy:ToyHasher", "--output-dir", str(out), "--no-plots"]
    assert bench.main(args) == 0
    assert bench.main([*args, "--imbalance-factor", "5"]) == 0
    assert len(count_runs) == 2


def test_without_tqdm_or_matplotlib_progress_is_plain_lines_and_figures_are_skipped(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # makes the import fail
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    args = [*TINY, "--hashers", "tests._toy:ToyHasher", "--output-dir", str(tmp_path)]
    with pytest.warns(RuntimeWarning, match="no figures"):
        assert bench.main(args) == 0
    assert "[1/1] synthetic tests._toy:ToyHasher 8 bits seed 0: done" in capsys.readouterr().err
    assert (tmp_path / "results.csv").is_file() and not list(tmp_path.glob("*.png"))


def test_missing_hasher_is_skipped_with_a_warning(tmp_path, capsys):
    args = [*TINY, "--hashers", "tests._toy:ToyHasher", "no_such_module:Hasher"]
    with pytest.warns(RuntimeWarning, match="skipping hasher no_such_module:Hasher"):
        assert bench.main([*args, "--output-dir", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "ToyHasher" in out and "Skipped hashers (not importable): no_such_module:Hasher" in out


def test_a_failing_run_is_reported_and_not_stored(tmp_path, capsys):
    # CVH cannot give more bits than the smaller modality has features (32 on synthetic data).
    args = [*TINY, "--hashers", "tests._toy:ToyHasher", "CVH", "--bits", "48", "--no-plots"]
    assert bench.main([*args, "--output-dir", str(tmp_path)]) == 1
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [r["hasher"] for r in runs] == ["tests._toy:ToyHasher"]
    assert "FAILED synthetic CVH 48 bits seed 0" in capsys.readouterr().err


def test_multilabel_mat_dataset_runs_from_a_data_path(tmp_path):
    # A tiny .mat file in the DCMH layout (XAll, YAll, LAll), as load_mirflickr25k reads it.
    scipy_io = pytest.importorskip("scipy.io")
    from skmetacmh.datasets import make_cross_modal_classification

    X, labels = make_cross_modal_classification(
        n_samples=400,
        n_classes=6,
        n_image_features=20,
        n_text_features=12,
        multilabel=True,
        random_state=0,
    )
    path = tmp_path / "mirflickr25k.mat"
    scipy_io.savemat(path, {"XAll": X[:, :20], "YAll": X[:, 20:], "LAll": labels})
    args = ["--datasets", "mirflickr25k", "--data-path", str(path), "--hashers", "SCM"]
    args += ["--bits", "8", "--seeds", "0", "--n-query", "5", "--imbalance-factor", "5"]
    assert bench.main([*args, "--output-dir", str(tmp_path / "out"), "--no-plots"]) == 0
    (run,) = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    assert run["classes"] == list(range(6))  # label columns
    assert len(run["train_counts"]) == 6 and run["n_train"] < 400
    # The recorded numbers are those of the run computed by hand from the data in the file.
    from skmetacmh import SCMHasher

    expected = _scores_by_hand(
        X[:, :20], X[:, 20:], labels, run["protocol"], SCMHasher(8, 20), seed=0
    )
    for key, value in expected.items():
        assert run[key] == pytest.approx(value, abs=1e-12), key
    assert run["tail_strict"] < run["tail"]  # multi-label: strict relevance is the harder one


def test_split_is_leak_free_and_long_tailed():
    y = np.repeat(np.arange(6), 60)
    protocol = {"query": "per_class", "n_query": 10, "imbalance_factor": 10.0, "n_train": None}
    split = _protocol.split_long_tailed(y, protocol, random_state=0)
    assert np.intersect1d(split.query, split.database).size == 0
    assert np.union1d(split.query, split.database).size == y.size
    assert np.isin(split.train, split.database).all()
    assert np.bincount(y[split.query]).tolist() == [10] * 6
    counts = np.bincount(y[split.train])
    assert counts.max() / counts.min() == pytest.approx(10, rel=0.1)


def test_shuffled_classes_make_other_classes_rare_in_each_seed():
    y = np.repeat(np.arange(6), 60)  # balanced: every class ties on size
    protocol = {"query": "per_class", "n_query": 10, "imbalance_factor": 10.0, "n_train": None}

    def rarest(seed, shuffle):
        split = _protocol.split_long_tailed(y, {**protocol, "shuffle_classes": shuffle}, seed)
        return int(np.argmin(np.bincount(y[split.train], minlength=6)))

    assert {rarest(seed, False) for seed in range(6)} == {5}  # ties ranked by class value
    assert len({rarest(seed, True) for seed in range(6)}) > 1
    assert rarest(3, True) == rarest(3, True)  # but reproducible per seed


def test_scaler_is_fitted_on_training_items_only(monkeypatch):
    from skmetacmh._bench._data import dataset_options, load_dataset
    from tests._toy import ToyHasher

    fitted_rows = []
    real = _protocol.make_scaler

    def spying(n_image_features):
        scaler = real(n_image_features)
        fit = scaler.fit

        def recording_fit(X, y=None):
            fitted_rows.append(X.shape[0])
            return fit(X, y)

        scaler.fit = recording_fit
        return scaler

    monkeypatch.setattr(_protocol, "make_scaler", spying)
    data = load_dataset("synthetic", dataset_options("synthetic", n_samples=600))
    protocol = {"query": "per_class", "n_query": 5, "imbalance_factor": 10.0, "n_train": None}
    result = _protocol.run_once(data, ToyHasher, {}, 8, 0, protocol=protocol)
    assert fitted_rows == [result["n_train"]]
    assert result["n_train"] < result["n_database"]


def test_aggregate_gives_mean_and_sample_std_over_seeds():
    runs = [
        {"dataset": "d", "hasher": "H", "params": {}, "bits": 8, **dict.fromkeys(keys, v)}
        for keys, v in [
            ((k for k, _, _ in _report.METRICS), 0.2),
            ((k for k, _, _ in _report.METRICS), 0.4),
        ]
    ]
    (row,) = _report.aggregate(runs)
    assert row["n_seeds"] == 2
    assert row["mean_mean"] == pytest.approx(0.3)
    assert row["mean_std"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert "0.300 ± 0.141" in _report.markdown_table([row])


def test_hasher_parameters_from_flags_reach_the_hasher_and_the_label(tmp_path):
    args = [*TINY, "--hashers", "SCM", "--param", 'SCM.variant="orthogonal"', "--no-plots"]
    assert bench.main([*args, "--output-dir", str(tmp_path)]) == 0
    (run,) = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert run["params"] == {"variant": "orthogonal"}
    assert "SCM(variant='orthogonal')" in (tmp_path / "results.md").read_text()


def test_unknown_configuration_keys_are_rejected(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"datasets": ["synthetic"], "bitz": [8]}))
    with pytest.raises(ValueError, match="unknown configuration keys \\['bitz'\\]"):
        bench.load_config(config)


def test_default_configuration_names_every_shipped_hasher():
    config = bench.load_config(bench.DEFAULT_CONFIG)
    assert sorted(config["hashers"]) == sorted(bench.HASHERS)
    assert config["datasets"] == ["uci-mfeat"]


@pytest.mark.parametrize("module", ["skmetacmh._bench", "benchmarks.run"])
def test_module_entry_point_lists_datasets_and_hashers(module):
    out = subprocess.run(
        [sys.executable, "-m", module, "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "uci-mfeat" in out and "MetaCMH" in out and "CCA-ITQ" in out


def test_the_console_script_entry_point_and_its_former_spelling_both_work():
    import re
    from pathlib import Path

    from skmetacmh._bench import run as former

    setup = (Path(__file__).resolve().parents[1] / "setup.py").read_text()
    (target,) = re.findall(r"skmetacmh-bench=([\w.]+):(\w+)", setup)
    assert target == ("skmetacmh._bench.cli", "main")
    # Scripts installed before the move point at skmetacmh._bench.run:main.
    assert former.main is bench.main and former.run_benchmark is not None


# ---------------------------------------------------------------- names checked before any run
def _error_line(capsys) -> str:
    """The one line the CLI prints for a configuration error (and that nothing else came)."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("skmetacmh-bench: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_an_unknown_hasher_name_fails_before_any_run_with_the_valid_names(
    tmp_path, capsys, count_runs
):
    args = [*TINY, "--hashers", "SCM", "Nope", "--output-dir", str(tmp_path / "out")]
    assert bench.main([*args, "--no-plots"]) == 2
    line = _error_line(capsys)
    assert "Unknown hasher 'Nope'" in line
    for name in bench.HASHERS:
        assert repr(name) in line
    assert count_runs == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "param, message",
    [
        ("SCMM.reg=3", "Unknown hasher 'SCMM'"),
        ("SCM.regg=3", "Unknown parameter(s) ['regg'] for hasher 'SCM'"),
        ("SCM.n_bits=3", "set by the benchmark"),
        ("SCM", "--param expects HASHER.NAME=VALUE"),
    ],
)
def test_a_misspelt_hasher_parameter_fails_before_any_run(
    tmp_path, capsys, count_runs, param, message
):
    args = [*TINY, "--hashers", "SCM", "--param", param, "--output-dir", str(tmp_path)]
    assert bench.main([*args, "--no-plots"]) == 2
    line = _error_line(capsys)
    assert message in line
    if "regg" in param:
        assert "'variant'" in line  # the valid parameters are listed
    assert count_runs == []


def test_hasher_names_are_case_insensitive_and_parameters_follow(tmp_path):
    args = [*TINY, "--hashers", "scm", "--param", 'Scm.variant="orthogonal"', "--no-plots"]
    assert bench.main([*args, "--output-dir", str(tmp_path)]) == 0
    (run,) = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert run["hasher"] == "SCM" and run["params"] == {"variant": "orthogonal"}


# ---------------------------------------------------------------- the configuration schema
@pytest.mark.parametrize(
    "content, message",
    [
        ('{"bits": "16"}', "'bits' must be a non-empty list of ints >= 1; got '16'"),
        ('{"datasets": "synthetic"}', "'datasets' must be a non-empty list of dataset names"),
        ('{"datasets": ["nope"]}', "'datasets' must be a non-empty list of dataset names"),
        ('{"bits": [true]}', "'bits' must be a non-empty list of ints >= 1"),
        ('{"seeds": []}', "'seeds' must be a non-empty list of ints >= 0"),
        ('{"n_query": 2.5}', "'n_query' must be an int >= 1"),
        ('{"imbalance_factor": "50"}', "'imbalance_factor' must be a number >= 1 or null"),
        ('{"query": "all"}', "'query' must be one of ['per_class', 'random']"),
        ('{"params": {"SCM": 3}}', "'params' must be an object"),
        ('{"bitz": [8]}', "unknown configuration keys ['bitz']"),
        ('{"learned_codes": "yes"}', "'learned_codes' must be true or false"),
        ('{"bits": [8],', "not valid JSON"),
        ("[8]", "must be a JSON object; got list"),
    ],
)
def test_configuration_errors_are_one_line_and_run_nothing(
    tmp_path, capsys, count_runs, content, message
):
    config = tmp_path / "config.json"
    smoke = json.loads((bench.DEFAULT_CONFIG.parent / "smoke.json").read_text())
    try:  # a smoke configuration with the one bad value
        config.write_text(json.dumps({**smoke, **json.loads(content)}))
    except (ValueError, TypeError):  # the malformed ones go in as they are
        config.write_text(content)
    args = ["--config", str(config), "--output-dir", str(tmp_path / "out"), "--no-plots"]
    assert bench.main(args) == 2
    assert message in _error_line(capsys)
    assert count_runs == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--config", "no_such_config.json"], "cannot read the configuration"),
        (["--datasets", "nope"], "'datasets' must be a non-empty list of dataset names"),
        (["--datasets", "mirflickr25k"], "pass --data-path"),
        (["--threads", "0"], "--threads must be >= 1"),
        (["--n-query", "0"], "'n_query' must be an int >= 1"),
    ],
)
def test_flag_errors_are_one_line_and_run_nothing(tmp_path, capsys, count_runs, extra, message):
    args = [*TINY, "--output-dir", str(tmp_path / "out"), "--no-plots", *extra]
    assert bench.main(args) == 2
    assert message in _error_line(capsys)
    assert count_runs == []


def test_an_output_directory_that_is_a_file_is_a_one_line_error(tmp_path, capsys, count_runs):
    target = tmp_path / "results"
    target.write_text("not a directory")
    assert bench.main([*TINY, "--output-dir", str(target), "--no-plots"]) == 2
    assert "is a file, not a directory" in _error_line(capsys)
    assert count_runs == [] and target.read_text() == "not a directory"


def test_a_corrupt_results_file_is_a_one_line_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / "results.json").write_text("{ truncated")
    assert bench.main([*TINY, "--output-dir", str(tmp_path), "--no-plots"]) == 2
    assert "pass --fresh" in _error_line(capsys)
    assert bench.main([*TINY, "--output-dir", str(tmp_path), "--no-plots", "--fresh"]) == 0


def test_the_command_line_prints_configuration_errors_without_a_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "skmetacmh._bench", "--config", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("skmetacmh-bench: error: cannot read the configuration")
    assert len(done.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- what the resume key holds
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda mp: mp.setattr("skmetacmh.__version__", "99.0"), id="version"),
        pytest.param(
            lambda mp: mp.setattr(_plan, "source_fingerprint", lambda: "other-code"),
            id="source",
        ),
        pytest.param("--threads", id="threads"),
    ],
)
def test_runs_of_other_code_or_threads_are_not_reused(
    tmp_path, monkeypatch, capsys, count_runs, change
):
    args = [*TINY, "--hashers", "tests._toy:ToyHasher", "--output-dir", str(tmp_path)]
    args += ["--no-plots"]
    assert bench.main(args) == 0
    assert bench.main(args) == 0
    assert len(count_runs) == 1  # same code, same threads: reused
    if change == "--threads":
        args += ["--threads", "2"]
    else:
        change(monkeypatch)
    capsys.readouterr()
    assert bench.main(args) == 0
    assert len(count_runs) == 2
    assert "1 run(s) there were made by other code" in capsys.readouterr().err
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert len(runs) == 2 and runs[0]["environment"] != runs[1]["environment"]
    assert {"skmetacmh", "source", "numpy", "scikit-learn", "threads"} <= set(
        runs[1]["environment"]
    )


# ---------------------------------------------------------------- one protocol for every script
class _NoSeedHasher(BaseCrossModalHasher):
    """A deterministic hasher: it has no random_state for the benchmark to set."""

    def __init__(self, n_bits=8, n_image_features=None):
        self.n_bits = n_bits
        self.n_image_features = n_image_features

    def _fit(self, X_image, X_text, Y):
        self.centres_ = {"image": X_image.mean(axis=0), "text": X_text.mean(axis=0)}

    def _project(self, X, modality):
        X = X - self.centres_[modality]
        return X[:, : self.n_bits]


def test_the_seed_is_set_only_on_hashers_that_have_a_random_state():
    from skmetacmh._bench._data import dataset_options, load_dataset

    data = load_dataset("synthetic", dataset_options("synthetic", n_samples=600))
    protocol = {"query": "per_class", "n_query": 5, "imbalance_factor": 10.0, "n_train": None}
    result = _protocol.run_once(data, _NoSeedHasher, {}, 8, 3, protocol=protocol, keep_hasher=True)
    assert "random_state" not in result["hasher"].get_params()
    expected = _scores_by_hand(
        data.X_image, data.X_text, data.y, protocol, _NoSeedHasher(8, data.X_image.shape[1]), 3
    )
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-12), key


def test_ridge_floor_runs_through_the_benchmark_like_any_hasher(tmp_path):
    args = [*TINY, "--hashers", "RidgeFloor", "--param", "RidgeFloor.alpha=10", "--no-plots"]
    assert bench.main([*args, "--output-dir", str(tmp_path)]) == 0
    (run,) = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert run["hasher"] == "RidgeFloor" and 0.2 < run["mean"] <= 1
    assert "RidgeFloor(alpha=10)" in (tmp_path / "results.md").read_text()


def test_ridge_floor_codes_are_reproducible_and_follow_the_seed():
    from skmetacmh._bench._ridge_floor import _RidgeFloorHasher
    from skmetacmh.datasets import make_cross_modal_classification

    X, y = make_cross_modal_classification(
        n_samples=300, n_image_features=12, n_text_features=8, random_state=0
    )

    def codes(seed, **params):
        hasher = _RidgeFloorHasher(16, 12, random_state=seed, **params)
        return hasher.fit(X, y).transform(X)

    assert np.array_equal(codes(0), codes(0))
    assert not np.array_equal(codes(0), codes(1))
    assert not np.array_equal(codes(0), codes(0, balanced=False, alpha=1e3))
    with pytest.raises(ValueError, match="alpha"):
        _RidgeFloorHasher(16, 12, alpha=-1.0).fit(X, y)


def _script(name):
    """Import a focused benchmark script from the source tree's benchmarks/ folder."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_script_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_metacmh_scores_with_the_benchmark_protocol():
    script = _script("bench_metacmh")
    data = script.load("uci")
    protocol = script.protocol(20, 50)
    row = script.run_one("ridge_floor", 16, 1, {"max_epochs": 1}, data, 20, 50)
    from skmetacmh._bench._registry import resolve_hasher

    same = _protocol.run_once(data, resolve_hasher("RidgeFloor"), {}, 16, 1, protocol=protocol)
    assert row["all"] == same["mean"] and row["tail"] == same["tail"]
    assert row["i2t_all"] == same["image_to_text"] and row["n_train"] == same["n_train"]
    # The --set overrides reach the deep models only, and DCMH + ext takes MetaCMH's options.
    _, params = script.variant("dcmh_balanced_head", {"max_epochs": 3})
    metacmh = resolve_hasher("MetaCMH")()
    assert params["class_weight"] == metacmh.class_weight and params["max_epochs"] == 3
    assert script.variant("ridge_floor", {"max_epochs": 3})[1] == {}


def test_bench_baselines_scores_with_the_benchmark_protocol():
    script = _script("bench_baselines")
    rows = script.run_uci([8], [0], ["CCA-ITQ"])
    random_codes, cca = rows
    assert random_codes["method"] == "random codes" and cca["method"] == "CCA-ITQ"
    assert cca["image_to_text"] > random_codes["image_to_text"] + 0.2
    from skmetacmh._bench._data import dataset_options, load_dataset

    data = load_dataset("uci-mfeat", dataset_options("uci-mfeat"))
    split = _protocol.split_long_tailed(data.y, script.PROTOCOL, 0)
    assert len(split.query) == 200 and np.array_equal(split.train, split.database)


def test_peak_traced_bytes_sees_the_arrays_a_call_allocates():
    from skmetacmh._bench._measure import peak_traced_bytes

    kept = np.ones(1_000_000)  # allocated before the call: not counted

    def allocate(n):
        return float(np.ones(n).sum() + kept[0])

    peak, value = peak_traced_bytes(allocate, 500_000)
    assert value == 500_001.0
    assert 4_000_000 <= peak < 6_000_000  # the 4 MB temporary, not the 8 MB kept array


def test_bench_doc_claims_measures_what_the_docs_cite(capsys):
    # Smoke run of the commands the docs name beside their speed claims: every claim prints
    # its timings and ratio (the values themselves are the docs' business, not a test's).
    script = _script("bench_doc_claims")
    script.main(["top-k-crossover", "--n-db", "2000"])
    lines = capsys.readouterr().out.splitlines()
    engines = {line.split()[0] for line in lines}
    assert engines <= {"compiled", "numpy"} and "numpy" in engines
    assert all("full / top-k" in line for line in lines) and len(lines) == 5 * len(engines)
    script.main(["within-mask"])
    assert "ratio" in capsys.readouterr().out
    script.main(["normals"])
    assert capsys.readouterr().out.count("ratio") == 3
    with pytest.raises(SystemExit):
        script.main(["no-such-claim"])


# ---------------------------------------------------------------- checked before any run (#20)
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seeds", "0", "0"], "'seeds' lists 0 more than once"),
        (["--bits", "16", "16"], "'bits' lists 16 more than once"),
        (["--hashers", "SCM", "scm"], "'hashers' lists 'SCM' more than once"),
        (["--datasets", "synthetic", "synthetic"], "'datasets' lists 'synthetic' more than once"),
    ],
)
def test_a_repeated_value_is_refused_before_any_run(tmp_path, capsys, count_runs, extra, message):
    # Running a seed twice reported "2 seeds, ± 0.000" for one measurement (issue 20, item 2).
    args = [*TINY, "--output-dir", str(tmp_path / "out"), "--no-plots", *extra]
    assert bench.main(args) == 2
    assert message in _error_line(capsys)
    assert count_runs == [] and not (tmp_path / "out").exists()


def test_a_repeated_value_in_a_configuration_file_is_refused(tmp_path, capsys, count_runs):
    config = tmp_path / "config.json"
    smoke = json.loads((bench.DEFAULT_CONFIG.parent / "smoke.json").read_text())
    config.write_text(json.dumps({**smoke, "seeds": [0, 1, 0]}))
    assert bench.main(["--config", str(config), "--output-dir", str(tmp_path / "o")]) == 2
    assert "'seeds' lists 0 more than once" in _error_line(capsys)
    assert count_runs == []


def _garbage_mat(tmp_path):
    path = tmp_path / "mirflickr25k.mat"
    path.write_text("not a .mat file")
    return ["--datasets", "mirflickr25k", "--data-path", str(path)]


def _binary_config(tmp_path):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    return str(path)


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            lambda tmp: ["--datasets", "mirflickr25k", "--data-path", str(tmp / "nonexistent")],
            "does not exist",
        ),
        (lambda tmp: ["--n-samples", "3"], "cannot load dataset 'synthetic'"),
        (_garbage_mat, "not a readable MATLAB .mat file"),
        (lambda tmp: ["--config", _binary_config(tmp)], "must be UTF-8 JSON text"),
        (
            lambda tmp: ["--bits", "5000"],
            "'n_bits' parameter of SCMHasher must be an int (not a bool) from 1 to 4096",
        ),
        (lambda tmp: ["--n-query", "100000"], "n_query=100000 queries per class need more"),
        (
            lambda tmp: ["--param", 'SCM.variant="sequental"'],
            "'variant' parameter of SCMHasher must be a str among",
        ),
    ],
)
def test_errors_that_used_to_fail_run_by_run_or_with_a_traceback_fail_up_front(
    tmp_path, capsys, count_runs, extra, message
):
    # Issue 20, item 7: all of these fail before any run, in one line, with exit status 2.
    args = [*TINY, "--hashers", "SCM", "--output-dir", str(tmp_path / "out"), "--no-plots"]
    assert bench.main([*args, *extra(tmp_path)]) == 2
    assert message in _error_line(capsys)
    assert count_runs == [] and not (tmp_path / "out").exists()


def test_the_command_line_refuses_a_non_utf8_configuration_without_a_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "skmetacmh._bench", "--config", _binary_config(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("skmetacmh-bench: error: ")
    assert len(done.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- Config, RunSpec, resume (#23)
def test_the_configuration_is_validated_once_into_a_frozen_config(tmp_path, monkeypatch):
    import dataclasses

    from skmetacmh._bench import _config, _runner

    calls = []
    real = _config.validate_config

    def counting(config, *args, **kwargs):
        calls.append(type(config).__name__)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(bench, "validate_config", counting)
    monkeypatch.setattr(_runner, "validate_config", counting)
    assert bench.main([*TINY, "--output-dir", str(tmp_path), "--no-plots"]) == 0
    assert calls == ["dict", "Config"]  # checked once; the runner gets the Config through
    config = real({"datasets": ["synthetic"], "hashers": ["scm"], "bits": [8], "seeds": [0]})
    assert config.hashers == ("SCM",) and config.bits == (8,)
    assert config.dataset_options == {"synthetic": {"n_samples": 3000}}
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.bits = (16,)


def test_the_plan_is_one_runspec_per_run_in_report_order():
    from skmetacmh._bench._config import validate_config

    config = validate_config(
        {"datasets": ["synthetic"], "hashers": ["SCM", "CVH"], "bits": [8, 16], "seeds": [0, 1]}
    )
    specs = _plan.plan(config, {"SCM": None, "CVH": None})
    assert [(s.hasher, s.bits, s.seed) for s in specs] == [
        (h, b, s) for h in ("SCM", "CVH") for b in (8, 16) for s in (0, 1)
    ]
    env = {"threads": 1}
    key = json.loads(specs[0].key(env))
    # The key layout of every earlier results file: dataset, options, protocol, hasher,
    # params, bits, seed, environment.
    assert key == ["synthetic", {"n_samples": 3000}, config.protocol, "SCM", {}, 8, 0, env]
    assert "learned_codes" not in config.protocol  # an extra enters the key only when set


def test_a_results_file_written_by_the_earlier_runner_resumes(tmp_path, monkeypatch, capsys):
    # tests/data/bench_results_d7da4cb.json was written by the runner of d7da4cb (smoke.json,
    # SCM, 8 bits; synthetic seeds 0 and 1, synthetic-multilabel seed 0).
    from pathlib import Path

    legacy = Path(__file__).parent / "data" / "bench_results_d7da4cb.json"
    (tmp_path / "results.json").write_text(legacy.read_text())
    old = json.loads(legacy.read_text())["runs"]
    args = ["--config", "smoke.json", "--hashers", "SCM", "--bits", "8", "--no-plots"]
    args += ["--output-dir", str(tmp_path)]
    # Under the environment that wrote it, every run is reused as it is.
    from skmetacmh._bench import _runner

    monkeypatch.setattr(_runner, "environment", lambda threads: old[0]["environment"])
    calls = []
    monkeypatch.setattr(_protocol, "run_once", lambda *a, **k: calls.append(a) or {})
    assert bench.main([*args, "--seeds", "0", "1"]) == 0
    assert calls == []
    printed = capsys.readouterr()
    assert "2 runs planned, 2 already in" in printed.err
    row = "| synthetic | SCM | 8 | 0.327 ± 0.022 | 0.349 ± 0.020 | 0.338 ± 0.021 |"
    assert row in printed.out
    assert json.loads((tmp_path / "results.json").read_text())["runs"] == old
    # Under today's code the same file is readable, and its runs are counted as stale.
    monkeypatch.undo()
    assert bench.main([*args, "--datasets", "synthetic-multilabel", "--seeds", "0"]) == 0
    assert "1 run(s) there were made by other code" in capsys.readouterr().err


# ---------------------------------------------------------------- strict tail, learned codes
def _run(dataset, hasher, protocol, **kwargs):
    from skmetacmh._bench._data import dataset_options, load_dataset

    data = load_dataset(dataset, dataset_options(dataset, n_samples=600))
    return data, _protocol.run_once(data, hasher, kwargs, 8, 0, protocol=protocol, keep_hasher=True)


SMALL = {"query": "per_class", "n_query": 5, "imbalance_factor": 10.0, "n_train": None}


def _direct_scores(data, hasher, protocol, db="hash"):
    """The run's numbers recomputed by hand from the split, the scaler and the metrics."""
    from skmetacmh import metrics

    split = _protocol.split_long_tailed(data.y, protocol, 0)
    n_img = data.X_image.shape[1]
    X_train, X_query, X_db = _protocol._scaled_blocks(data, split, n_img)
    y_train, y_query, y_db = (data.y[split[k]] for k in ("train", "query", "database"))
    q = {m: hasher.encode(X_query[:, c], modality=m) for m, c in _BLOCKS(n_img)}
    if db == "hash":
        d = {m: hasher.encode(X_db[:, c], modality=m) for m, c in _BLOCKS(n_img)}
    else:
        b = hasher.n_bits
        d = {"image": hasher.training_codes_[:, :b], "text": hasher.training_codes_[:, b:]}
        y_db = y_train
    out = {}
    for name, (qm, dm) in {
        "image_to_text": ("image", "text"),
        "text_to_image": ("text", "image"),
    }.items():
        out[name] = metrics.mean_average_precision(q[qm], d[dm], y_query, y_db)
        for relevance in ("lenient", "strict"):
            groups = metrics.map_by_frequency_group(
                q[qm], d[dm], y_query, y_db, y_train, relevance=relevance
            )
            out[(name, relevance)] = groups.map.get("tail")
    return out


def _BLOCKS(n_img):
    return (("image", slice(0, n_img)), ("text", slice(n_img, None)))


def test_runs_report_the_strict_tail_next_to_the_lenient_one():
    from tests._toy import ToyHasher

    data, run = _run("synthetic-multilabel", ToyHasher, SMALL)
    direct = _direct_scores(data, run["hasher"], SMALL)
    assert run["multilabel"] is True
    for d in _protocol.DIRECTIONS:
        assert run["groups_by_direction"][d]["tail"] == direct[(d, "lenient")]
        assert run["groups_by_direction_strict"][d]["tail"] == direct[(d, "strict")]
    assert run["tail_strict"] == pytest.approx(
        np.mean([direct[(d, "strict")] for d in _protocol.DIRECTIONS])
    )
    # Rare tags ride on frequent ones: finding any shared tag is much easier than the rare one.
    assert run["tail_strict"] < run["tail"] - 0.1
    _, single = _run("synthetic", ToyHasher, SMALL)
    assert single["multilabel"] is False
    for g in ("head", "medium", "tail"):
        assert single[f"{g}_strict"] == pytest.approx(single[g], rel=1e-12)


def test_learned_codes_are_scored_as_the_database_next_to_the_default_protocol():
    from tests._toy import LearnedCodesToyHasher, ToyHasher

    learned = {**SMALL, "learned_codes": True}
    data, run = _run("synthetic-multilabel", LearnedCodesToyHasher, learned)
    hasher = run["hasher"]
    by_hand = _direct_scores(data, hasher, SMALL, db="learned")
    for d in _protocol.DIRECTIONS:
        assert run[f"learned_{d}"] == by_hand[d]
    assert run["learned_mean"] == pytest.approx(
        (by_hand["image_to_text"] + by_hand["text_to_image"]) / 2
    )
    assert run["learned_tail_strict"] == pytest.approx(
        np.mean([by_hand[(d, "strict")] for d in _protocol.DIRECTIONS])
    )
    # The default protocol's numbers do not change with the option, nor by the hasher's
    # having learned codes (same hash functions as ToyHasher).
    _, plain = _run("synthetic-multilabel", LearnedCodesToyHasher, SMALL)
    _, toy = _run("synthetic-multilabel", ToyHasher, learned)
    for key in ("image_to_text", "text_to_image", "mean", "tail", "tail_strict"):
        assert run[key] == plain[key] == toy[key]
    assert not any(key.startswith("learned_") for key in plain)
    # A hasher without learned codes: n/a, not a number of the other protocol.
    assert all(toy[f"learned_{key}"] is None for key in _protocol.LEARNED_KEYS)


@pytest.mark.parametrize(
    "broken, message",
    [
        ("wrong_shape", "must have shape \\(n_train, 2 \\* n_bits\\)"),
        ("not_bits", "must be uint8 0/1 bits"),
    ],
)
def test_learned_codes_that_break_the_contract_fail_the_run_with_a_clear_message(broken, message):
    from tests._toy import LearnedCodesToyHasher

    with pytest.raises(ValueError, match=f"LearnedCodesToyHasher.training_codes_ {message}"):
        _run(
            "synthetic",
            LearnedCodesToyHasher,
            {**SMALL, "learned_codes": True},
            training_codes=broken,
        )


def test_the_tables_label_both_tails_and_both_protocols(tmp_path):
    args = ["--config", "smoke.json", "--datasets", "synthetic", "synthetic-multilabel"]
    args += ["--hashers", "tests._toy:LearnedCodesToyHasher", "SCM", "--bits", "8"]
    args += ["--seeds", "0", "--learned-codes", "--no-plots", "--output-dir", str(tmp_path)]
    assert bench.main(args) == 0
    header, _, *lines = (tmp_path / "results.md").read_text().splitlines()
    titles = [cell.strip() for cell in header.strip("|").split("|")]
    for title in (
        "tail (lenient)",
        "tail (strict)",
        "mean mAP, learned db",
        "tail (lenient), learned db",
        "tail (strict), learned db",
    ):
        assert title in titles
    rows = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): line for line in lines}
    scm = [c.strip() for c in rows[("synthetic", "SCM")].strip("|").split("|")]
    assert scm[titles.index("mean mAP, learned db")] == "n/a"  # SCM learns no codes
    toy = [
        c.strip()
        for c in rows[("synthetic-multilabel", "LearnedCodesToyHasher")].strip("|").split("|")
    ]
    assert toy[titles.index("mean mAP, learned db")] != "n/a"
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert all(run["protocol"]["learned_codes"] is True for run in runs)
    with open(tmp_path / "results.csv") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert {"tail_strict_mean", "learned_mean_mean", "learned_tail_strict_std"} <= set(csv_rows[0])
    by_method = {(r["dataset"], r["method"]): r for r in csv_rows}
    assert by_method[("synthetic", "SCM")]["learned_mean_mean"] == ""
    assert (
        float(by_method[("synthetic-multilabel", "LearnedCodesToyHasher")]["learned_mean_mean"]) > 0
    )
    assert "tail (strict)" in (tmp_path / "results.rst").read_text()


def test_single_label_tables_keep_their_columns():
    runs = [
        {
            "dataset": "d",
            "hasher": "H",
            "params": {},
            "bits": 8,
            "multilabel": False,
            **{k: 0.5 for k, _, _ in _report.METRICS},
        }
    ]
    table = _report.markdown_table(_report.aggregate(runs))
    assert "| tail |" in table and "strict" not in table and "learned" not in table


def test_a_runs_thread_count_reaches_the_hashers_own_scope(monkeypatch):
    """--threads N: a hasher at n_jobs=None runs on N threads, not on its default of one."""
    from skmetacmh._bench import _protocol, _runner
    from skmetacmh._threads import resolve_n_jobs

    seen = []
    monkeypatch.setattr(_protocol, "run_once", lambda *a, **k: seen.append(resolve_n_jobs(None)))
    spec = types.SimpleNamespace(params={}, bits=8, seed=0, protocol={})
    for threads in (1, 3):
        assert _runner.run_limited(spec, None, None, threads)[0]
    assert seen == [1, 3]
    assert resolve_n_jobs(None) == 1  # and the setting ends with the run
