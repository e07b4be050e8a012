"""n_jobs: how it resolves, that fits run on that many threads, that the caller's settings come
back, that codes do not depend on it, and how it composes with joblib."""

import json
import os

import numpy as np
import pytest
import torch
from joblib import cpu_count, parallel_config
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_info, threadpool_limits

import skmetacmh
from skmetacmh import CCAITQHasher, MetaCMHHasher
from skmetacmh._threads import limits_threads, resolve_n_jobs, thread_limits
from skmetacmh.metrics import make_cross_modal_scorer

# Every public hasher, in the package's order.
HASHER_NAMES = [
    name for name in skmetacmh.__all__ if name.endswith("Hasher") and name != "BaseCrossModalHasher"
]


def pool_threads() -> dict:
    """Thread count of every BLAS / OpenMP pool threadpoolctl sees, and torch's."""
    pools = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
    return {"torch": torch.get_num_threads(), **pools}


def two_views(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    centres = rng.standard_normal((4, 16))
    X = np.hstack(
        [
            centres[y] + 0.5 * rng.standard_normal((n, 16)),
            centres[y][:, ::-1] + 0.5 * rng.standard_normal((n, 16)),
        ]
    )
    return X, y


def small_metacmh(**params):
    # Narrow nets: these tests run 2-thread fits, which are slow on a busy machine.
    return MetaCMHHasher(
        n_bits=8,
        n_image_features=16,
        image_hidden=(16,),
        text_hidden=(16,),
        max_epochs=2,
        batch_size=32,
        random_state=0,
        **params,
    )


class RecordingCCAITQ(CCAITQHasher):
    """CCA-ITQ that records, inside ``_fit``, the thread counts it runs under."""

    def _fit(self, X_image, X_text, Y):
        self.seen_threads_ = pool_threads()
        if os.environ.get("THREADS_TEST_LOG"):
            record = {
                "pid": os.getpid(),
                "n_jobs": self.n_jobs,
                "threads": self.seen_threads_,
                "omp_env": os.environ.get("OMP_NUM_THREADS"),
            }
            with open(os.environ["THREADS_TEST_LOG"], "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        return super()._fit(X_image, X_text, Y)


class RecordingMetaCMH(MetaCMHHasher):
    def _fit(self, X_image, X_text, Y):
        self.seen_threads_ = pool_threads()
        return super()._fit(X_image, X_text, Y)


class FailingMetaCMH(MetaCMHHasher):
    def _fit(self, X_image, X_text, Y):
        raise RuntimeError("failed inside the thread scope")


@pytest.fixture
def caller_threads():
    """The caller runs with 3 torch threads and 1 BLAS / OpenMP thread: values no hasher
    default gives, so that a missing restore shows."""
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    with threadpool_limits(limits=1):
        yield pool_threads()
    torch.set_num_threads(previous)


# ---------------------------------------------------------------------- resolution
def test_none_is_one_thread_outside_a_parallel_config():
    assert resolve_n_jobs(None) == 1


def test_none_follows_an_active_parallel_config():
    with parallel_config(n_jobs=3):
        assert resolve_n_jobs(None) == 3
    assert resolve_n_jobs(None) == 1


def test_positive_n_jobs_is_taken_as_asked(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert resolve_n_jobs(1) == 1
    assert resolve_n_jobs(5) == 5  # an explicit count is not capped


def test_negative_n_jobs_counts_back_from_the_cores(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert resolve_n_jobs(-1) == cpu_count()
    assert resolve_n_jobs(-2) == max(cpu_count() - 1, 1)
    assert resolve_n_jobs(-1000) == 1


@pytest.mark.parametrize("value, expected", [("1", 1), ("2,1", 2), ("", None), ("x", None)])
def test_all_cores_is_capped_by_omp_num_threads(monkeypatch, value, expected):
    # joblib sets OMP_NUM_THREADS in its workers to their share of the cores.
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    cap = cpu_count() if expected is None else min(expected, cpu_count())
    assert resolve_n_jobs(-1) == cap


@pytest.mark.parametrize("bad", [0, True, False, 1.5, "2", np.float64(2.0)])
def test_bad_n_jobs_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=r"n_jobs must be None, a positive int.*got"):
        resolve_n_jobs(bad)


@pytest.mark.parametrize("name", HASHER_NAMES)
def test_every_hasher_takes_n_jobs_none_by_default(name):
    cls = getattr(skmetacmh, name)
    assert cls().get_params()["n_jobs"] is None
    assert "n_jobs" in cls._parameter_constraints
    assert "n_jobs : int, default=None" in cls.__doc__


@pytest.mark.parametrize("bad", [0, 1.5, "all"])
def test_fit_refuses_a_bad_n_jobs_naming_it(bad):
    X, y = two_views()
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        small_metacmh(n_jobs=bad).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        CCAITQHasher(n_bits=4, n_image_features=16, n_jobs=bad).fit(X, y)


def test_fit_refuses_a_bool_n_jobs():
    X, y = two_views()
    with pytest.raises(ValueError, match="n_jobs must be .* got True"):
        CCAITQHasher(n_bits=4, n_image_features=16, n_jobs=True).fit(X, y)


# ---------------------------------------------------------------------- the scope
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_fit_runs_on_n_jobs_threads_and_restores_the_caller(caller_threads, n_jobs):
    X, y = two_views()
    for hasher in (RecordingMetaCMH, RecordingCCAITQ):
        params = dict(n_bits=4, n_image_features=16, random_state=0, n_jobs=n_jobs)
        if hasher is RecordingMetaCMH:
            params.update(max_epochs=1, batch_size=32, image_hidden=(16,), text_hidden=(16,))
        fitted = hasher(**params).fit(X, y)
        assert set(fitted.seen_threads_.values()) == {n_jobs}, fitted.seen_threads_
        assert pool_threads() == caller_threads


def test_encode_transform_score_restore_the_caller(caller_threads):
    X, y = two_views()
    hasher = small_metacmh(n_jobs=2).fit(X, y)
    hasher.encode(X[:5, :16], modality="image")
    assert pool_threads() == caller_threads
    hasher.transform(X[:5])
    assert pool_threads() == caller_threads
    hasher.score(X[:20], y[:20])
    assert pool_threads() == caller_threads


def test_the_caller_is_restored_after_an_exception(caller_threads):
    X, y = two_views()
    with pytest.raises(RuntimeError, match="inside the thread scope"):
        FailingMetaCMH(n_image_features=16, n_jobs=2).fit(X, y)
    assert pool_threads() == caller_threads
    hasher = small_metacmh(n_jobs=2).fit(X, y)
    with pytest.raises(ValueError, match="expects the 16 image columns"):
        hasher.encode(X[:5, :3], modality="image")  # raises inside the scope
    assert pool_threads() == caller_threads


def test_thread_limits_sets_and_restores_torch_and_the_pools(caller_threads):
    with thread_limits(2) as n:
        assert n == 2
        assert set(pool_threads().values()) == {2}
        with thread_limits(1):
            assert set(pool_threads().values()) == {1}
        assert set(pool_threads().values()) == {2}
    assert pool_threads() == caller_threads


def test_nested_calls_with_the_same_count_enter_the_scope_once(monkeypatch):
    from skmetacmh import _threads

    entered = []
    real = _threads.thread_limits

    def counting(n_threads):
        entered.append(n_threads)
        return real(n_threads)

    monkeypatch.setattr(_threads, "thread_limits", counting)
    X, y = two_views()
    hasher = small_metacmh(n_jobs=2).fit(X, y)
    entered.clear()
    hasher.score(X[:20], y[:20])  # score encodes both modalities of the queries
    assert entered == [2]


def test_a_subclass_without_n_jobs_keeps_the_callers_settings(caller_threads):
    class Plain:
        @classmethod
        def _get_param_names(cls):
            return ["n_bits"]

        @limits_threads
        def run(self):
            return pool_threads()

    assert Plain().run() == caller_threads


def test_torch_is_not_imported_by_the_scope():
    import subprocess
    import sys

    code = (
        "import sys; from skmetacmh import CCAITQHasher; import numpy as np\n"
        "X = np.random.default_rng(0).standard_normal((40, 6)); y = np.arange(40) % 2\n"
        "CCAITQHasher(n_bits=2, n_image_features=3, n_jobs=2).fit(X, y).transform(X)\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------- results
@pytest.fixture
def all_cores(monkeypatch):
    # conftest caps the suite's threads through OMP_NUM_THREADS, which would make -1 mean 1.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def assert_deep_codes_identical(n, hidden, max_epochs):
    X, y = two_views(n=n)
    codes = {}
    for n_jobs in (1, 2, -1, None):
        hasher = MetaCMHHasher(
            n_bits=16,
            n_image_features=16,
            image_hidden=hidden,
            text_hidden=hidden,
            max_epochs=max_epochs,
            random_state=0,
            n_jobs=n_jobs,
        )
        codes[n_jobs] = hasher.fit(X, y).transform(X)
    for n_jobs in (2, -1, None):
        np.testing.assert_array_equal(codes[n_jobs], codes[1])


def test_deep_codes_are_identical_for_every_thread_count(all_cores):
    # Narrower than the default net to stay quick; the slow test below uses the default width.
    assert_deep_codes_identical(n=200, hidden=(256,), max_epochs=2)


@pytest.mark.slow
def test_deep_codes_are_identical_for_every_thread_count_default_width(all_cores):
    assert_deep_codes_identical(n=600, hidden=(512,), max_epochs=5)


def assert_linear_codes_identical(n, d):
    rng = np.random.default_rng(1)
    # Wide enough that the covariances and whitening go through multi-threaded BLAS.
    X = rng.standard_normal((n, 2 * d))
    X[:, d:] += X[:, :d] @ rng.standard_normal((d, d)) * 0.1
    y = rng.integers(0, 5, n)
    for cls in (CCAITQHasher, skmetacmh.CMFHHasher):
        codes = [
            cls(n_bits=16, n_image_features=d, random_state=0, n_jobs=n_jobs).fit(X, y).transform(X)
            for n_jobs in (1, 2, -1)
        ]
        np.testing.assert_array_equal(codes[1], codes[0])
        np.testing.assert_array_equal(codes[2], codes[0])


def test_blas_heavy_baseline_codes_are_identical_for_every_thread_count(all_cores):
    assert_linear_codes_identical(n=300, d=100)


@pytest.mark.slow
def test_blas_heavy_baseline_codes_are_identical_for_every_thread_count_wide(all_cores):
    assert_linear_codes_identical(n=2000, d=400)


# ---------------------------------------------------------------------- joblib
def test_parallel_config_sets_the_threads_of_a_default_hasher(caller_threads):
    X, y = two_views()
    with parallel_config(n_jobs=2):
        fitted = RecordingCCAITQ(n_bits=4, n_image_features=16, random_state=0).fit(X, y)
    assert set(fitted.seen_threads_.values()) == {2}
    assert pool_threads() == caller_threads


def test_grid_search_workers_do_not_oversubscribe(tmp_path, monkeypatch):
    # Each of GridSearchCV's two worker processes runs a default hasher on one thread and an
    # n_jobs=-1 hasher on the worker's share of the cores, which joblib puts in OMP_NUM_THREADS.
    from joblib.externals.loky import get_reusable_executor

    log = tmp_path / "fits.jsonl"
    monkeypatch.setenv("THREADS_TEST_LOG", str(log))
    # Workers left by an earlier test would carry that test's environment: start fresh ones.
    get_reusable_executor().shutdown(wait=True)
    X, y = two_views(n=160)
    search = GridSearchCV(
        RecordingCCAITQ(n_bits=4, n_image_features=16, random_state=0),
        {"n_jobs": [None, -1]},
        scoring=make_cross_modal_scorer(),
        cv=2,
        n_jobs=2,
        refit=False,
    ).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    fits = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(fits) == 4
    assert all(f["pid"] != os.getpid() for f in fits)  # they ran in the workers
    for fit in fits:
        counts = set(fit["threads"].values())
        if fit["n_jobs"] is None:
            assert counts == {1}
        else:
            # joblib's worker share: cpu_count // n_jobs, or the parent's own OMP_NUM_THREADS
            # (the suite's conftest sets 1).
            assert counts == {min(cpu_count(), int(fit["omp_env"]))}
