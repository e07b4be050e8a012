"""Every example script runs at smoke size (SKMETACMH_SMOKE=1) and prints what it promises."""

import re
import runpy
from pathlib import Path

import pytest
import torch  # a dependency of skmetacmh; imported here to limit its threads below
from threadpoolctl import threadpool_limits

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> a line fragment its output must contain
EXPECTED = {
    "catalogue_search.py": "time per query (one caption at a time, top-10 of",
    "pipeline_column_transformer.py": "cross-modal mAP of held-out queries:",
    "grid_search_n_bits.py": "best:",
    "hamming_index_search.py": "precision of the top 10 texts for an image query:",
    "load_mirflickr25k.py": "SCM, 32 bits: image->text mAP",
    "long_tail_metacmh.py": "MetaCMH",
    "tfidf_captions_metacmh.py": "MetaCMH on image features + TF-IDF captions: mAP",
}


def test_every_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_at_smoke_size(script, monkeypatch, capsys):
    monkeypatch.setenv("SKMETACMH_SMOKE", "1")
    monkeypatch.setattr("sys.argv", [script])
    # One thread each for BLAS and torch: tiny problems gain nothing from more, and thread pools
    # competing with a parallel test worker slow them down many times over.
    previous = torch.get_num_threads()
    try:
        with threadpool_limits(limits=1):
            torch.set_num_threads(1)
            runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    finally:
        torch.set_num_threads(previous)
    out = capsys.readouterr().out
    assert EXPECTED[script] in out
    # A scorer that failed inside GridSearchCV shows up as nan.
    assert not re.search(r"\bnan\b", out), out
