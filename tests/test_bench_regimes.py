"""benchmarks/bench_regimes.py: its designs, a smoke run, resuming, and the report."""

import importlib.util
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def script():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_regimes.py"
    spec = importlib.util.spec_from_file_location("_script_bench_regimes", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _coded(script, cell):
    """The five two-level factors of a 2,000-item cell, coded 0 (base level) or 1."""
    levels = {"classes": (10, 100), "imbalance": (10, 100)}
    return tuple(
        levels.get(a, script.AXES[a]).index(getattr(cell, a))
        for a in ("labels", "features", "classes", "imbalance", "text")
    )


def test_the_half_fraction_is_a_resolution_v_design_holding_the_moves(script):
    fraction = script.design("fraction")
    coded = [_coded(script, c) for c in fraction]
    assert len(set(coded)) == 16 and all(c.n == 2000 for c in fraction)
    assert all(sum(c) % 2 == 1 for c in coded)  # I = ABCDE in -1/+1 coding
    # Every pair of factors sees each of its four level combinations equally often.
    for i, j in itertools.combinations(range(5), 2):
        assert set(Counter((c[i], c[j]) for c in coded).values()) == {4}
    # It holds the five two-level one-factor moves of the base, not the base itself.
    moves = {c.key for c in script.design("ofat")}
    assert len(moves & {c.key for c in fraction}) == 5
    assert script.design("base")[0].key not in {c.key for c in fraction}
    full = script.design("all")
    assert len({c.key for c in full}) == 2 * 2 * 3 * 3 * 2 * 2 + len(script.REAL)
    assert {c.key for c in script.design("run")} <= {c.key for c in full}
    with pytest.raises(ValueError, match="Unknown design 'half'"):
        script.design("half")


def test_smoke_run_resumes_redoes_and_reports(script, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REGIMES_COMMIT", "old")
    out = tmp_path / "regimes.jsonl"
    args = ["--smoke", "--hashers", "SCM", "CCA-ITQ", "--seeds", "0", "--out", str(out)]
    assert script.main(args) == 0
    rows = script.read_rows(out)
    assert len(rows) == 4 and not any("error" in r for r in rows)
    single, multi = (
        {r["hasher"]: r for r in rows if r["cell"] == c.key} for c in script.design("smoke")
    )
    for row in single.values():  # one class per item: the two tails are the same numbers
        assert row["tail_strict"] == row["tail_lenient"] and 0 < row["mean"] <= 1
        assert row["n_query"] == 6 * 5 and row["bits"] == 32
    # Rare labels ride on frequent ones: the lenient tail credits the frequent label.
    assert all(r["tail_lenient"] > r["tail_strict"] + 0.1 for r in multi.values())
    assert script.main(args) == 0  # resumed: nothing new
    assert len(script.read_rows(out)) == 4
    monkeypatch.setenv("REGIMES_COMMIT", "new")  # SCM changed: its rows are redone, once
    for _ in range(2):
        assert script.main([*args, "--redo", "SCM"]) == 0
        assert Counter(r["hasher"] for r in script.read_rows(out)) == {"SCM": 4, "CCA-ITQ": 2}
    table, figure = tmp_path / "table.rst", tmp_path / "map.png"
    capsys.readouterr()
    assert (
        script.main(["--report", "--out", str(out), "--table", str(table), "--figure", str(figure)])
        == 0
    )
    text = table.read_text()
    assert "list-table" in text and single["SCM"]["cell"] in text
    assert figure.stat().st_size > 1000
    printed = capsys.readouterr().out
    summary = script.summarise(script.read_rows(out))
    for cell, (winner, value, margin, second) in script.winners(summary, "mean").items():
        means = {h: np.mean(v["mean"]) for h, v in summary[cell].items()}
        assert winner == max(means, key=means.get) and margin == value - means[second] >= 0
        assert f"{cell}" in printed
    assert script.main(["--list", "--out", str(out)]) == 0
    listed = capsys.readouterr().out
    assert "partial (2 hashers)" in listed and "not run" in listed


def test_a_failing_hasher_is_recorded_and_the_map_goes_on(script, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(script, "run_cell_hasher", broken)
    out = tmp_path / "regimes.jsonl"
    script.main(["--smoke", "--hashers", "SCM", "--seeds", "0", "--out", str(out)])
    rows = script.read_rows(out)
    assert len(rows) == 2 and all(r["error"] == "RuntimeError: boom" for r in rows)
    json.dumps(rows)
