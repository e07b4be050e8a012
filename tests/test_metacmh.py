"""Tests of MetaCMHHasher and DCMHHasher (tiny data, few epochs: the file runs in seconds)."""

import dataclasses
import io
import math
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from skmetacmh import DCMHHasher, MetaCMHHasher
from skmetacmh.metacmh._loss import dcmh_loss, sample_weights
from skmetacmh.metacmh._memory import AssociativeMemory
from skmetacmh.metacmh._network import build_network
from skmetacmh.metacmh._research import ResearchMetaCMHHasher

from ._helpers import make_two_view_data

SMALL = {"image_hidden": (16,), "text_hidden": (16,), "max_epochs": 4, "batch_size": 32}


def make_data(n=120, n_classes=4, noise=0.5, seed=0, multilabel=False):
    """Two noisy views of the class indicator, 5 and 7 features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    Y = np.eye(n_classes)[y]
    if multilabel:
        Y = np.maximum(Y, rng.random((n, n_classes)) < 0.2)
        Y[:5] = 0  # unlabelled items
    X = make_two_view_data(Y, 5, 7, noise=noise, rng=rng)
    return X, (Y.astype(np.uint8) if multilabel else y)


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL).fit(X, y)


# ---------------------------------------------------------------------------- shapes & API
def test_shapes_and_learned_attributes(fitted, data):
    X, y = data
    assert fitted.encode(X[:7, :5], modality="image").shape == (7, 8)
    assert fitted.encode(X[:7, 5:], modality="text").dtype == np.uint8
    assert fitted.transform(X).shape == (len(X), 16)
    assert fitted.database_codes_.shape == (len(X), 16)
    assert fitted.image_centroids_.shape == (4, 8)
    assert fitted.text_centroids_.shape == (4, 8)
    assert fitted.n_epochs_ == SMALL["max_epochs"]


def test_clone_and_set_params_rebuild_the_network(fitted, data):
    X, y = data
    h = clone(fitted).set_params(n_bits=4)
    assert not hasattr(h, "module_")
    assert h.fit(X, y).transform(X).shape == (len(X), 8)


def test_dcmh_has_no_memory_parameters():
    params = DCMHHasher().get_params()
    assert not {"memory", "reachability", "recall_weight"} & set(params)
    assert params["class_weight"] is None and params["classification_weight"] == 0.0


def test_bad_hidden_sizes_give_a_clear_error(data):
    X, y = data
    with pytest.raises(ValueError, match="image_hidden"):
        MetaCMHHasher(n_bits=4, n_image_features=5, image_hidden=(0,), max_epochs=1).fit(X, y)


# ---------------------------------------------------------------------------- determinism
def test_same_random_state_gives_identical_codes(data):
    X, y = data
    a = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=3, **SMALL).fit(X, y)
    b = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=3, **SMALL).fit(X, y)
    c = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=4, **SMALL).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.array_equal(a.transform(X), c.transform(X))


def test_random_state_does_not_touch_the_global_torch_seed(data):
    X, y = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


_SCRIPT = textwrap.dedent(
    """
    import hashlib
    import numpy as np
    from skmetacmh import MetaCMHHasher
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    X = np.eye(3)[y] @ rng.standard_normal((3, 8)) + 0.5 * rng.standard_normal((90, 8))
    h = MetaCMHHasher(n_bits=8, n_image_features=4, image_hidden=(16,), text_hidden=(16,),
                      max_epochs=3, batch_size=32, random_state=7).fit(X, y)
    print(hashlib.sha256(h.transform(X).tobytes()).hexdigest())
    """
)


def test_codes_identical_across_two_fresh_processes():
    import os

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # Both processes run at once: the cost is one torch import, not two.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SCRIPT], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    digests = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(digests[0]) == 64
    assert digests[0] == digests[1]


# ---------------------------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trips_give_identical_codes(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.transform(X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), expected)
    joblib.dump(fitted, tmp_path / "h.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "h.joblib").transform(X), expected)
    # The fitted estimator still works after being pickled (getstate must not mutate it).
    np.testing.assert_array_equal(fitted.transform(X), expected)


def test_pickled_state_is_a_cpu_state_dict_loaded_with_map_location_cpu(fitted, data, monkeypatch):
    X, _ = data
    state = fitted.__getstate__()
    raw = state["module_"]["state_dict"]
    assert isinstance(raw, bytes)
    tensors = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    assert all(t.device.type == "cpu" for t in tensors.values())
    # A model fitted on a GPU is restored through torch.load(map_location="cpu").
    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("map_location"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    restored = pickle.loads(pickle.dumps(fitted))
    assert seen == ["cpu"]
    assert next(restored.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))


# ---------------------------------------------------------------------------- robustness
@pytest.mark.parametrize("reachability", [False, True])
def test_class_without_training_sample_gives_no_nan(reachability):
    X, Y = make_data(multilabel=True)
    Y = np.hstack([Y, np.zeros((len(Y), 1), dtype=np.uint8)])  # a class nobody carries
    h = ResearchMetaCMHHasher(
        n_bits=8, n_image_features=5, reachability=reachability, random_state=0, **SMALL
    ).fit(X, Y)
    assert np.isfinite(h.image_centroids_).all() and np.isfinite(h.text_centroids_).all()
    np.testing.assert_array_equal(h.image_centroids_[-1], 0.0)
    assert all(np.isfinite(r["loss"]) for r in h.history_)
    assert h.transform(X).shape == (len(X), 16)


def test_memory_refresh_matches_per_class_means():
    rng = np.random.default_rng(0)
    direct = rng.standard_normal((30, 4)).astype(np.float32)
    Y = (rng.random((30, 3)) < 0.4).astype(np.float32)
    Y[:, 1] = 0
    mem = AssociativeMemory(4, 3)
    mem.refresh(torch.from_numpy(direct), torch.from_numpy(Y))
    for k in range(3):
        rows = Y[:, k] > 0
        expected = direct[rows].mean(axis=0) if rows.any() else np.zeros(4)
        np.testing.assert_allclose(mem.centroids[k].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_classifier_prototypes_are_the_class_head_rows_at_the_direct_feature_scale(data):
    X, y = data
    h = ResearchMetaCMHHasher(
        n_bits=8, n_image_features=5, memory_source="classifier", random_state=0, **SMALL
    ).fit(X, y)
    W = h.module_.classifier.weight.detach().numpy()
    for centroids, net, cols in (
        (h.image_centroids_, h.module_.image, slice(0, 5)),
        (h.text_centroids_, h.module_.text, slice(5, None)),
    ):
        unit = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        np.testing.assert_allclose(unit, W / np.linalg.norm(W, axis=1, keepdims=True), atol=1e-5)
        # Every row has the root-mean-square norm of the last epoch's direct features,
        # which lie within the spread of the final network's direct features.
        with torch.no_grad():
            direct = net.direct(torch.as_tensor(X[:, cols], dtype=torch.float32)).numpy()
        rms = np.sqrt((direct**2).sum(axis=1).mean())
        norms = np.linalg.norm(centroids, axis=1)
        np.testing.assert_allclose(norms, norms[0], rtol=1e-5)
        assert 0.5 * rms < norms[0] < 2.0 * rms
    assert bool(h.module_.image.memory.populated.all())


def test_classifier_prototypes_without_a_class_head_is_a_clear_error(data):
    X, y = data
    h = ResearchMetaCMHHasher(
        n_image_features=5, memory_source="classifier", classification_weight=0.0, **SMALL
    )
    with pytest.raises(ValueError, match="classification_weight > 0"):
        h.fit(X, y)


def test_set_prototypes_rescales_rows_to_the_rms_norm_of_the_features():
    rng = np.random.default_rng(0)
    direct = torch.from_numpy(rng.standard_normal((50, 4)).astype(np.float32))
    protos = torch.from_numpy(rng.standard_normal((3, 4)).astype(np.float32))
    mem = AssociativeMemory(4, 3)
    mem.set_prototypes(protos, direct)
    rms = math.sqrt(float((direct.numpy() ** 2).sum(axis=1).mean()))
    expected = protos.numpy() / np.linalg.norm(protos.numpy(), axis=1, keepdims=True) * rms
    np.testing.assert_allclose(mem.centroids.numpy(), expected, rtol=1e-5)


def test_zero_selector_starts_with_the_memory_off_and_changes_only_the_selector(fitted, data):
    # Same draws everywhere but the selector, whose output is then e = 0 (meta = direct).
    zero_net = build_network(fitted.module_config_, torch.Generator().manual_seed(0))
    rand_net = build_network(fitted.module_config_, torch.Generator().manual_seed(0))
    zero_net.image.memory.zero_selector_()
    zero_net.text.memory.zero_selector_()
    direct = torch.randn(6, 8)
    np.testing.assert_array_equal(zero_net.image.memory(direct).detach().numpy(), direct.numpy())
    for (name, a), b in zip(zero_net.named_parameters(), rand_net.parameters()):
        assert torch.equal(a, b) == ("selector" not in name), name
    # Through the estimator: training moves the selector away from zero (memory learned in).
    X, y = data
    h = ResearchMetaCMHHasher(
        n_bits=8, n_image_features=5, selector_init="zero", random_state=0, **SMALL
    )
    h.fit(X, y)
    assert h.module_.image.memory.selector.weight.abs().max() > 0
    assert h.get_params()["selector_init"] == ResearchMetaCMHHasher().selector_init == "zero"
    random_init = clone(h).set_params(selector_init="random").fit(X, y)
    assert not np.array_equal(h.transform(X), random_init.transform(X))


def test_absurd_learning_rate_raises_instead_of_garbage_codes(data):
    X, y = data
    h = MetaCMHHasher(
        n_bits=8, n_image_features=5, optimizer="sgd", learning_rate=1e6, random_state=0, **SMALL
    )
    with pytest.raises(FloatingPointError, match="learning rate"):
        h.fit(X, y)


def test_nan_or_inf_features_are_rejected_before_training(data):
    X, y = data
    for bad in (np.nan, np.inf):
        X_bad = X.copy()
        X_bad[3, 2] = bad
        with pytest.raises(ValueError, match="(?i)nan|inf"):
            MetaCMHHasher(n_bits=8, n_image_features=5, **SMALL).fit(X_bad, y)


def test_cuda_without_cuda_is_a_clear_error(data):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X, y = data
    with pytest.raises(ValueError, match="CUDA is not available"):
        MetaCMHHasher(n_bits=8, n_image_features=5, device="cuda", **SMALL).fit(X, y)


def test_multilabel_with_unlabelled_items():
    X, Y = make_data(multilabel=True)
    opts = {**SMALL, "max_epochs": 30}
    h = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **opts).fit(X, Y)
    assert h.multilabel_ and h.n_unlabeled_ == 5
    # Random 8-bit codes score 0.53 to 0.55 on these queries (20 draws); 30 epochs give 0.74.
    assert h.score(X[:40], Y[:40]) > 0.65


# ---------------------------------------------------------------------------- equivalences
def test_memory_off_is_dcmh(data):
    X, y = data
    opts = {"n_bits": 8, "n_image_features": 5, "random_state": 1, **SMALL}
    a = MetaCMHHasher(
        memory=False, class_weight=None, classification_weight=0.0, similarity_scale=None, **opts
    )
    b = DCMHHasher(**opts)
    np.testing.assert_array_equal(a.fit(X, y).transform(X), b.fit(X, y).transform(X))
    assert a.module_.image.memory is None and b.image_centroids_ is None


def _reference_dcmh_terms(F, G, B, S, w, gamma, eta, F_all):
    """Pair by pair with math.log1p(exp), the obvious way."""
    nll = 0.0
    for i in range(F.shape[0]):
        for j in range(G.shape[0]):
            theta = 0.5 * float(F[i] @ G[j])
            nll += w[i, j] * (math.log1p(math.exp(theta)) - S[i, j] * theta)
    norm = F.shape[0] * G.shape[0]
    quant = gamma * float(((B - F) ** 2).sum())
    bal = eta * float((F_all.sum(axis=0) ** 2).sum())
    return nll / norm, quant / norm, bal / norm


def test_dcmh_loss_matches_a_pairwise_reference():
    rng = np.random.default_rng(0)
    F, G = rng.standard_normal((5, 3)), rng.standard_normal((9, 3))
    B = np.sign(rng.standard_normal((5, 3)))
    S = (rng.random((5, 9)) < 0.3).astype(float)
    w_batch, w_all = rng.random(5), rng.random(9)
    F_all = rng.standard_normal((9, 3))
    t = {k: torch.tensor(v) for k, v in dict(F=F, G=G, B=B, S=S, A=F_all).items()}
    weights = (torch.tensor(w_batch), torch.tensor(w_all))
    got = dcmh_loss(t["F"], t["G"], t["B"], t["A"].sum(0), t["S"], 0.7, 0.3, weights)
    ref = _reference_dcmh_terms(F, G, B, S, np.outer(w_batch, w_all), 0.7, 0.3, F_all)
    for key, value in zip(("likelihood", "quantization", "balance"), ref):
        assert float(got[key]) == pytest.approx(value, rel=1e-10)


def test_likelihood_is_stable_for_huge_inner_products():
    F = torch.full((2, 4), 1e4)
    S = torch.ones(2, 2)
    parts = dcmh_loss(F, F, torch.ones(2, 4), F.sum(0), S, 1.0, 1.0)
    assert torch.isfinite(parts["likelihood"])


def test_balanced_sample_weights_make_classes_count_alike():
    Y = torch.tensor(np.eye(3)[[0, 0, 0, 0, 1, 1, 2]], dtype=torch.float32)
    w = sample_weights(Y, "balanced")
    per_class = [float(w[Y[:, k] > 0].sum()) for k in range(3)]
    assert per_class == pytest.approx([per_class[0]] * 3)
    assert float(w.mean()) == pytest.approx(1.0)
    assert sample_weights(Y, None) is None


# ---------------------------------------------------------------------------- training
def test_recall_supervision_adds_its_term(data):
    X, y = data
    fits = {
        weight: ResearchMetaCMHHasher(
            n_bits=8, n_image_features=5, recall_weight=weight, random_state=0, **SMALL
        ).fit(X, y)
        for weight in (0.0, 1.0)
    }
    parts = ("likelihood", "quantization", "balance", "classification", "recall")
    for record in fits[1.0].history_:
        # The logged loss is the sum of its logged parts, the recall term included.
        assert record["recall"] > 0
        assert record["loss"] == pytest.approx(sum(record[p] for p in parts), rel=1e-6)
    assert all(r["recall"] == 0 for r in fits[0.0].history_)
    # The term reaches the hallucinator: at the same seed, its weights differ with it on.
    weights = {w: h.module_.image.memory.hallucinator.weight.detach() for w, h in fits.items()}
    assert not torch.equal(weights[0.0], weights[1.0])


def test_history_is_recorded_per_epoch(fitted):
    keys = {"epoch", "loss", "likelihood", "quantization", "balance", "classification"}
    assert len(fitted.history_) == fitted.n_epochs_
    assert all(keys | {"duration", "learning_rate"} <= set(r) for r in fitted.history_)
    assert [r["epoch"] for r in fitted.history_] == list(range(1, fitted.n_epochs_ + 1))


def test_verbose_prints_one_line_per_epoch(data, capsys):
    X, y = data
    MetaCMHHasher(n_bits=8, n_image_features=5, verbose=1, random_state=0, **SMALL).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert len(lines) == SMALL["max_epochs"]
    assert "loss" in lines[0]


@pytest.mark.filterwarnings("ignore::skmetacmh.metacmh.NoProgressWarning")
def test_early_stopping_stops_when_the_validation_score_is_flat(data):
    X, y = data
    opts = {**SMALL, "max_epochs": 30}
    h = MetaCMHHasher(
        n_bits=8,
        n_image_features=5,
        learning_rate=1e-12,
        validation_fraction=0.25,
        n_iter_no_change=2,
        random_state=0,
        **opts,
    ).fit(X, y)
    assert h.n_epochs_ == 3
    assert all("valid_score" in r for r in h.history_)


def test_loss_decreases_and_beats_random_codes():
    X_all, y_all = make_data(n=400, noise=0.5, seed=1)
    X, y, X_q, y_q = X_all[:300], y_all[:300], X_all[300:], y_all[300:]
    opts = {**SMALL, "max_epochs": 30}
    h = MetaCMHHasher(n_bits=16, n_image_features=5, random_state=0, **opts).fit(X, y)
    assert h.history_[-1]["loss"] < h.history_[0]["loss"]
    # Random codes give mAP near the class prior (0.25); the hasher must do far better.
    assert h.score(X_q, y_q) > 0.6


# ---------------------------------------------------------------------------- package layout
def test_deep_hashers_share_a_private_base_and_pass_fixed_values_up():
    from skmetacmh.metacmh._estimator import _BaseDeepHasher
    from skmetacmh.metacmh._plan import ResearchOptions

    assert issubclass(MetaCMHHasher, _BaseDeepHasher) and issubclass(DCMHHasher, _BaseDeepHasher)
    assert not issubclass(DCMHHasher, MetaCMHHasher)
    # MetaCMH holds the one full public signature; DCMH derives its own and fixes the memory.
    assert "memory" in MetaCMHHasher().get_params()
    assert "memory" not in DCMHHasher().get_params()
    assert DCMHHasher._fixed_params == {"memory": False}
    assert not set(DCMHHasher._fixed_params) & set(DCMHHasher._parameter_constraints)
    assert set(DCMHHasher().get_params()) < set(MetaCMHHasher().get_params())
    for cls in (MetaCMHHasher, DCMHHasher):
        assert set(cls().get_params()) == set(cls._parameter_constraints)
        assert "n_jobs" in cls().get_params() and cls().n_jobs is None
    # The research options are not public parameters.
    research = {f.name for f in dataclasses.fields(ResearchOptions)}
    assert not research & set(MetaCMHHasher().get_params())


def test_dcmh_signature_is_metacmh_less_the_memory_with_the_papers_defaults():
    import inspect

    meta = inspect.signature(MetaCMHHasher).parameters
    dcmh = inspect.signature(DCMHHasher).parameters
    assert list(dcmh) == [name for name in meta if name != "memory"]
    changed = {name: p.default for name, p in dcmh.items() if p.default != meta[name].default}
    assert changed == {"class_weight": None, "classification_weight": 0.0, "similarity_scale": None}
    assert [p.kind for p in dcmh.values()] == [meta[name].kind for name in dcmh]
    # Stored untouched, positionally too, and clone/repr see only what was set.
    h = DCMHHasher(16, 5, gamma=0.5)
    assert (h.n_bits, h.n_image_features, h.gamma, h.similarity_scale) == (16, 5, 0.5, None)
    assert repr(clone(h)) == "DCMHHasher(gamma=0.5, n_bits=16, n_image_features=5)"
    with pytest.raises(TypeError, match="memory"):
        DCMHHasher(memory=True)
    with pytest.raises(TypeError):
        DCMHHasher(16, 5, (64,))  # image_hidden is keyword-only, as in MetaCMH


@pytest.mark.parametrize("cls", [MetaCMHHasher, DCMHHasher])
def test_every_documented_default_is_the_signature_default(cls):
    import ast
    import inspect

    from skmetacmh.metacmh._docstring import parameter_entries

    entries = parameter_entries(cls.__doc__)
    signature = inspect.signature(cls).parameters
    assert list(entries) == list(signature)
    for name, parameter in signature.items():
        documented = entries[name].splitlines()[0].rsplit("default=", 1)[1]
        assert ast.literal_eval(documented) == parameter.default, name


def test_derived_parameter_docs_refuse_what_the_base_does_not_document():
    from skmetacmh.metacmh._docstring import derived_parameters, parameter_entries

    with pytest.raises(KeyError, match="no parameters \\['memroy'\\]"):
        derived_parameters(MetaCMHHasher, override={"memroy": "memroy : bool"})
    with pytest.raises(ValueError, match="no numpydoc Parameters section"):
        parameter_entries("A summary.\n\n    Returns\n    -------\n    x : int\n")
    assert parameter_entries(None) == {}  # python -OO
    doc = "S.\n\n    Parameters\n    ---\n    a, b : int\n        Two.\n\n    Notes\n    ---\n"
    two = "a, b : int\n        Two."
    assert parameter_entries(doc) == {"a": two, "b": two}


def test_derived_init_refuses_names_the_base_does_not_have_or_already_has():
    from skmetacmh.metacmh._signature import derived_init

    with pytest.raises(TypeError, match="no parameter 'memroy'"):
        derived_init(MetaCMHHasher, drop=("memroy",))
    with pytest.raises(TypeError, match="no parameter 'self'"):
        derived_init(MetaCMHHasher, defaults={"self": 1})
    with pytest.raises(TypeError, match=r"already has the parameters \['gamma'\]"):
        derived_init(MetaCMHHasher, add={"gamma": 2.0})


def test_research_class_exposes_the_research_options_with_the_plan_defaults():
    from skmetacmh.metacmh._plan import ResearchOptions
    from skmetacmh.metacmh._research import ResearchMetaCMHHasher

    params = ResearchMetaCMHHasher().get_params()
    for field in dataclasses.fields(ResearchOptions):
        assert params[field.name] == field.default, field.name
    assert set(params) == set(MetaCMHHasher().get_params()) | {
        f.name for f in dataclasses.fields(ResearchOptions)
    }
    assert set(params) == set(ResearchMetaCMHHasher._parameter_constraints)


def test_research_class_at_its_defaults_fits_what_metacmh_fits(data):
    from skmetacmh.metacmh._research import ResearchMetaCMHHasher

    X, y = data
    a = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL).fit(X, y)
    b = ResearchMetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


# ---------------------------------------------------------------------------- sampled pairs
def _long_tailed_labels(n=400, n_classes=12, seed=0, multilabel=False):
    rng = np.random.default_rng(seed)
    p = 0.6 ** np.arange(n_classes)
    y = rng.choice(n_classes, size=n, p=p / p.sum())
    Y = np.eye(n_classes)[y]
    if multilabel:
        Y = np.maximum(Y, rng.random((n, n_classes)) < 0.05)
        Y[:7] = 0
    Y[:, -1] = 0
    Y[3, -1] = 1  # a class with a single item
    return torch.tensor(Y, dtype=torch.float32)


@pytest.mark.parametrize("multilabel", [False, True])
def test_every_populated_class_is_in_every_sample(multilabel):
    from skmetacmh.metacmh._sampling import PairSampler

    Y = _long_tailed_labels(multilabel=multilabel)
    populated = Y.sum(0) > 0
    sampler = PairSampler(Y, None, 30, torch.Generator().manual_seed(0))
    assert not sampler.full and sampler.n_columns <= 30 + int(populated.sum())
    for _ in range(3):
        sampler.start_pass()
        for _ in range(20):
            items, _ = sampler.draw()
            present = Y[items].sum(0) > 0
            assert bool(present[populated].all())
            if multilabel:
                assert bool((Y[items].sum(1) == 0).any())  # the unlabelled stratum too


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_sampled_pair_sum_is_an_unbiased_estimate_of_the_full_one(class_weight):
    from skmetacmh.metacmh._sampling import PairSampler

    Y = _long_tailed_labels(multilabel=True)
    weights = sample_weights(Y, class_weight)
    values = torch.rand(Y.shape[0], dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    full = float((values if weights is None else values * weights.double()).sum())
    sampler = PairSampler(Y, weights, 40, torch.Generator().manual_seed(0))
    estimates = []
    for _ in range(150):
        sampler.start_pass()
        for _ in range(10):
            items, column_weights = sampler.draw()
            estimates.append(float((values[items] * column_weights.double()).sum()))
    estimates = np.asarray(estimates)
    standard_error = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - full) < 4 * standard_error + 1e-9 * full
    # Each sample is a real estimate, not a lucky average of wild ones.
    assert estimates.std() < 0.25 * full


def test_allocation_takes_small_strata_whole_and_shares_the_rest():
    from skmetacmh.metacmh._sampling import allocate_draws

    sizes = torch.tensor([1000, 300, 10, 2, 1])
    draws = allocate_draws(sizes, sizes.double(), 100)
    assert bool((draws >= 1).all()) and bool((draws <= sizes).all())
    assert draws.tolist()[:2] == [76, 22] and int(draws.sum()) <= 100 + len(sizes)
    # Class-balanced totals weigh every stratum the same: the three small ones are taken
    # whole and the other two share what they leave.
    balanced = allocate_draws(sizes, torch.ones(5, dtype=torch.float64), 100)
    assert balanced.tolist() == [43, 43, 10, 2, 1]


def test_n_at_most_m_uses_every_item_and_gives_the_full_pair_codes(data):
    X, y = data
    opts = {"n_bits": 8, "n_image_features": 5, "random_state": 2, **SMALL}
    full = MetaCMHHasher(n_sampled_columns=None, **opts).fit(X, y).transform(X)
    for m in (len(X), 10 * len(X)):
        codes = MetaCMHHasher(n_sampled_columns=m, **opts).fit(X, y).transform(X)
        np.testing.assert_array_equal(codes, full)
    # One column fewer than the items: the sampled path, whose draws change the training.
    sampled = MetaCMHHasher(n_sampled_columns=len(X) - 1, **opts).fit(X, y)
    reference = MetaCMHHasher(n_sampled_columns=None, **opts).fit(X, y)
    assert [r["loss"] for r in sampled.history_] != [r["loss"] for r in reference.history_]


@pytest.mark.parametrize("similarity_scale", [None, 8.0])
def test_sampled_training_is_deterministic_and_learns(similarity_scale):
    X_all, y_all = make_data(n=400, noise=0.5, seed=1)
    X, y, X_q, y_q = X_all[:300], y_all[:300], X_all[300:], y_all[300:]
    opts = {**SMALL, "max_epochs": 30, "n_sampled_columns": 40, "n_bits": 16}
    opts.update(n_image_features=5, similarity_scale=similarity_scale)
    a = MetaCMHHasher(random_state=0, **opts).fit(X, y)
    b = MetaCMHHasher(random_state=0, **opts).fit(X, y)
    c = MetaCMHHasher(random_state=1, **opts).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert [r["loss"] for r in a.history_] == [r["loss"] for r in b.history_]
    assert not np.array_equal(a.transform(X), c.transform(X))
    assert a.score(X_q, y_q) > 0.6


def test_cosine_likelihood_matches_a_pairwise_reference():
    rng = np.random.default_rng(0)
    F, G = rng.standard_normal((5, 4)), rng.standard_normal((9, 4))
    B = np.sign(rng.standard_normal((5, 4)))
    S = (rng.random((5, 9)) < 0.3).astype(float)
    w_batch, w_cols = rng.random(5), rng.random(9)
    got = dcmh_loss(
        torch.tensor(F),
        torch.tensor(G),
        torch.tensor(B),
        torch.zeros(4, dtype=torch.float64),
        torch.tensor(S),
        1.0,
        1.0,
        (torch.tensor(w_batch), torch.tensor(w_cols)),
        similarity_scale=6.0,
        n_items=20,
    )
    nll = 0.0
    for i in range(5):
        for j in range(9):
            cos = float(F[i] @ G[j]) / (np.linalg.norm(F[i]) * np.linalg.norm(G[j]))
            theta = 6.0 * cos
            nll += w_batch[i] * w_cols[j] * (math.log1p(math.exp(theta)) - S[i, j] * theta)
    assert float(got["likelihood"]) == pytest.approx(nll / (5 * 20), rel=1e-10)


# ---------------------------------------------------------------------------- progress
def test_a_loss_that_does_not_fall_warns(data):
    from skmetacmh.metacmh import NoProgressWarning

    X, y = data
    h = MetaCMHHasher(n_bits=8, n_image_features=5, learning_rate=1e-12, random_state=0, **SMALL)
    with pytest.warns(NoProgressWarning, match="did not fall"):
        h.fit(X, y)
    assert issubclass(NoProgressWarning, __import__("sklearn").exceptions.ConvergenceWarning)


def test_a_loss_that_falls_does_not_warn(data):
    import warnings

    from skmetacmh.metacmh import NoProgressWarning

    X, y = data
    opts = {**SMALL, "max_epochs": 15}
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoProgressWarning)
        h = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **opts).fit(X, y)
    assert h.history_[-1]["loss"] < h.history_[0]["loss"]


def test_best_epoch_is_the_kept_weights_epoch(data):
    X, y = data
    plain = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL).fit(X, y)
    assert plain.best_epoch_ == plain.n_epochs_ == SMALL["max_epochs"]
    opts = {**SMALL, "max_epochs": 12}
    h = MetaCMHHasher(
        n_bits=8,
        n_image_features=5,
        validation_fraction=0.25,
        n_iter_no_change=3,
        random_state=0,
        **opts,
    ).fit(X, y)
    scores = [r["valid_score"] for r in h.history_]
    assert h.best_epoch_ == 1 + int(np.argmax(scores))
    assert h.n_epochs_ == len(scores)


# ---------------------------------------------------------------------------- sparse text
def _sparse_text_data(n=1500, n_text=4000, density=0.004, seed=0):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    image = np.eye(4)[y] @ rng.standard_normal((4, 5)) + 0.5 * rng.standard_normal((n, 5))
    text = sp.random(n, n_text, density=density, format="csr", random_state=seed)
    # Class words: each class lights up its own block of columns.
    words = sp.csr_matrix(
        (np.ones(n), (np.arange(n), y * 10 + rng.integers(0, 10, n))), shape=(n, n_text)
    )
    return sp.hstack([sp.csr_matrix(image), text + words], format="csr"), y


def test_sparse_text_is_never_densified_whole():
    import tracemalloc

    X, y = _sparse_text_data()
    dense_text_bytes = 4 * X.shape[0] * (X.shape[1] - 5)  # float32, the smallest dense copy
    h = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL)
    # A first fit imports what torch imports lazily (its optimisers pull in sympy), which
    # tracemalloc would otherwise count.
    clone(h).set_params(max_epochs=2).fit(X[:200], y[:200])
    seen = []
    hook = None

    def record(module, inputs):
        seen.append((inputs[0].layout != torch.strided, inputs[0].shape[0]))

    from skmetacmh.metacmh import _optim

    real_lazy_step = _optim.RowSparseAdam._lazy_step
    touched = []

    def spy_lazy_step(self, group, param, grad):
        touched.append((param.shape, grad.indices().shape[1]))
        return real_lazy_step(self, group, param, grad)

    _optim.RowSparseAdam._lazy_step = spy_lazy_step
    tracemalloc.start()
    try:
        h.fit(X, y)
        _optim.RowSparseAdam._lazy_step = real_lazy_step
        hook = h.module_.text.direct[0].register_forward_pre_hook(record)
        codes = h.transform(X)
        text_codes = h.encode(X[:, 5:], modality="text")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        _optim.RowSparseAdam._lazy_step = real_lazy_step
        if hook is not None:
            hook.remove()
    assert peak < dense_text_bytes / 4, (peak, dense_text_bytes)
    assert seen and all(is_sparse for is_sparse, _ in seen)
    np.testing.assert_array_equal(codes[:, 8:], text_codes)
    # torch's allocations escape tracemalloc: the first text layer must also only ever get a
    # row-sparse gradient over the rows a batch touches, never a dense vocabulary x width one.
    assert h.module_config_["sparse_text"]
    n_text = X.shape[1] - 5
    assert touched and all(shape == (n_text, 16) for shape, _ in touched)
    assert max(rows for _, rows in touched) < n_text / 2


def test_sparse_text_gives_the_codes_of_its_dense_form():
    X, y = _sparse_text_data(n=300, n_text=200, density=0.02)
    opts = {"n_bits": 8, "n_image_features": 5, "random_state": 0, **SMALL}
    sparse = MetaCMHHasher(**opts).fit(X, y)
    dense = MetaCMHHasher(**opts).fit(X.toarray(), y)
    agree = (sparse.transform(X) == dense.transform(X.toarray())).mean()
    # The same arithmetic up to float summation order in the first layer.
    assert agree > 0.98
    restored = pickle.loads(pickle.dumps(sparse))
    np.testing.assert_array_equal(restored.transform(X), sparse.transform(X))


def test_training_batches_reach_the_text_net_sparse_and_small():
    X, y = _sparse_text_data(n=300, n_text=200, density=0.02)
    h = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL)
    seen = []
    from skmetacmh.metacmh import _network

    real_forward = _network.RowSparseLinear.forward

    def spy(self, x):
        if self.in_features == 200:
            seen.append((x.layout == torch.sparse_csr, x.shape[0]))
        return real_forward(self, x)

    _network.RowSparseLinear.forward = spy
    try:
        h.fit(X, y)
    finally:
        _network.RowSparseLinear.forward = real_forward
    assert seen and all(s for s, _ in seen)
    assert max(rows for _, rows in seen if rows <= SMALL["batch_size"]) == SMALL["batch_size"]


def test_tfidf_caption_pipeline_on_a_dataframe():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    n = 240
    y = rng.integers(0, 4, n)
    image = np.eye(4)[y] @ rng.standard_normal((4, 6)) + 0.5 * rng.standard_normal((n, 6))
    frame = pd.DataFrame(image, columns=[f"px{i}" for i in range(6)])
    frame["caption"] = [
        " ".join([f"class{k}word{rng.integers(5)}" for _ in range(3)] + ["a", "photo"]) for k in y
    ]
    opts = {**SMALL, "max_epochs": 30}
    pipeline = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("image", StandardScaler(), list(frame.columns[:6])),
                        ("text", TfidfVectorizer(), "caption"),
                    ]
                ),
            ),
            ("hasher", MetaCMHHasher(n_bits=8, n_image_features=6, random_state=0, **opts)),
        ]
    )
    pipeline.fit(frame[:200], y[:200])
    hasher = pipeline.named_steps["hasher"]
    assert hasher.n_text_features_ == len(pipeline[0].named_transformers_["text"].vocabulary_)
    assert pipeline.transform(frame[200:]).shape == (40, 16)
    score = pipeline.score(frame[200:], y[200:])
    # The pipeline scores the hasher on the transformed features...
    assert score == hasher.score(pipeline[0].transform(frame[200:]), y[200:])
    # ...and it learned: random 8-bit codes score 0.25 to 0.28 here (20 draws), this 0.68.
    assert score > 0.55


# ---------------------------------------------------------------------------- CUDA
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
def test_cuda_fit_with_sampling_and_sparse_text_matches_its_own_rerun_and_pickles():
    X, y = _sparse_text_data(n=600, n_text=300, density=0.02)
    opts = {"n_bits": 8, "n_image_features": 5, "random_state": 0, "device": "cuda"}
    opts.update(SMALL, n_sampled_columns=50)
    h = MetaCMHHasher(**opts).fit(X, y)
    assert next(h.module_.parameters()).device.type == "cuda"
    codes = h.transform(X)
    again = MetaCMHHasher(**opts).fit(X, y).transform(X)
    assert (codes == again).mean() > 0.95  # GPU kernels may flip a few bits between runs
    restored = pickle.loads(pickle.dumps(h))
    assert next(restored.module_.parameters()).device.type == "cpu"
    assert (restored.transform(X) == codes).mean() > 0.99


@cuda
def test_cuda_sampler_draws_on_the_device():
    from skmetacmh.metacmh._sampling import PairSampler

    Y = _long_tailed_labels().cuda()
    sampler = PairSampler(Y, None, 30, torch.Generator(device="cuda").manual_seed(0))
    sampler.start_pass()
    items, weights = sampler.draw()
    assert items.device.type == "cuda" and weights.device.type == "cuda"
    assert bool((Y[items].sum(0) > 0)[Y.sum(0) > 0].all())


def test_full_and_sampled_pairs_share_one_interface():
    from skmetacmh.metacmh._pairs import FullPairs, SampledPairs, make_pairs

    Y = torch.tensor(np.eye(4)[make_data(n=200)[1]], dtype=torch.float32)
    full = make_pairs(Y, None, 1024, 8.0, torch.Generator().manual_seed(0))
    sampled = make_pairs(Y, None, 50, 8.0, torch.Generator().manual_seed(0))
    assert type(full) is FullPairs and type(sampled) is SampledPairs
    own, other = torch.randn(200, 8), torch.randn(200, 8)
    batch = torch.arange(10)
    for pairs in (full, sampled):
        pairs.start_pass(own.clone(), other)
        columns, labels, _ = pairs.columns(batch, None)
        assert columns.shape[1] == 8 and labels.shape == (len(columns), 4)
        new = torch.randn(10, 8)
        live = pairs.balance_sum(batch, new)
        pairs.write(batch, new)
        torch.testing.assert_close(pairs.own[batch], new)
        # The live balance sum is the column sum of the buffer with the batch's new rows.
        expected = (pairs.own / pairs.own.norm(dim=1, keepdim=True)).sum(0)
        torch.testing.assert_close(live, expected, atol=1e-4, rtol=1e-5)
    assert len(full.columns(batch, None)[0]) == 200 > len(sampled.columns(batch, None)[0])


def test_running_balance_sums_follow_the_output_buffers():
    from skmetacmh.metacmh._features import DenseRows
    from skmetacmh.metacmh._loss import pair_features
    from skmetacmh.metacmh._pairs import SampledPairs
    from skmetacmh.metacmh._training import Trainer

    X, y = make_data(n=200)
    Y = torch.tensor(np.eye(4)[y], dtype=torch.float32)
    hasher = MetaCMHHasher(n_bits=8, n_sampled_columns=50, **SMALL)
    plan = hasher._resolve(X[:, :5], X[:, 5:], Y.numpy())
    net = build_network(plan.network, torch.Generator().manual_seed(0))
    data = {
        "image": DenseRows(torch.tensor(X[:, :5], dtype=torch.float32)),
        "text": DenseRows(torch.tensor(X[:, 5:], dtype=torch.float32)),
        "Y": Y,
    }
    options = plan.training
    trainer = Trainer(net, data, options, torch.Generator().manual_seed(0), torch.Generator())
    assert isinstance(trainer.pairs, SampledPairs)
    trainer.initialise_state()
    for name in ("image", "text"):
        trainer.train_modality(name)
        exact = pair_features(trainer.outputs[name], options.similarity_scale).sum(0)
        torch.testing.assert_close(trainer.pairs.sums.float(), exact, atol=1e-4, rtol=1e-5)


# ---------------------------------------------------------------------------- row-sparse layer
def _csr_batch(n_rows=12, n_cols=40, density=0.1, seed=0):
    import scipy.sparse as sp

    from skmetacmh.metacmh._features import SparseRows

    block = sp.random(n_rows, n_cols, density=density, format="csr", random_state=seed)
    rows = SparseRows(block, torch.device("cpu"))
    return rows.rows(torch.arange(n_rows)), torch.tensor(block.toarray(), dtype=torch.float32)


def test_row_sparse_layer_gives_the_dense_layer_output_and_gradients():
    from skmetacmh.metacmh._network import RowSparseLinear

    sparse_x, dense_x = _csr_batch()
    dense = torch.nn.Linear(40, 7)
    layer = RowSparseLinear(40, 7)
    with torch.no_grad():
        layer.weight.copy_(dense.weight.t())
        layer.bias.copy_(dense.bias)
    upstream = torch.randn(12, 7, generator=torch.Generator().manual_seed(1))
    out = layer(sparse_x)
    (out * upstream).sum().backward()
    expected = dense(dense_x)
    (expected * upstream).sum().backward()
    torch.testing.assert_close(out, expected)
    assert layer.weight.grad.is_sparse
    grad = layer.weight.grad.coalesce()
    torch.testing.assert_close(grad.to_dense(), dense.weight.grad.t())
    torch.testing.assert_close(layer.bias.grad, dense.bias.grad)
    # Only the rows of the columns the batch uses carry a gradient.
    used = torch.unique(sparse_x.col_indices())
    torch.testing.assert_close(grad.indices()[0], used)
    # A dense batch through the same layer: the same numbers.
    torch.testing.assert_close(layer(dense_x), expected.detach())


def test_row_sparse_adam_is_adam_on_touched_rows_and_leaves_the_rest():
    from skmetacmh.metacmh._optim import RowSparseAdam

    generator = torch.Generator().manual_seed(0)
    start = torch.randn(6, 3, generator=generator)
    lazy = torch.nn.Parameter(start.clone())
    full = torch.nn.Parameter(start.clone())
    lazy_opt = RowSparseAdam([lazy], lr=0.1, weight_decay=0.01)
    full_opt = torch.optim.Adam([full], lr=0.1, weight_decay=0.01)
    every_row = torch.arange(6)
    for _ in range(3):
        grad = torch.randn(6, 3, generator=generator)
        lazy.grad = torch.sparse_coo_tensor(every_row[None], grad, (6, 3)).coalesce()
        full.grad = grad
        lazy_opt.step()
        full_opt.step()
    # Every row touched every step: exactly Adam.
    torch.testing.assert_close(lazy.detach(), full.detach())
    before = lazy.detach().clone()
    lazy.grad = torch.sparse_coo_tensor(torch.tensor([[1, 4]]), torch.ones(2, 3), (6, 3)).coalesce()
    lazy_opt.step()
    moved = (lazy.detach() != before).any(dim=1)
    assert moved.tolist() == [False, True, False, False, True, False]


# The tiny 4-epoch fits collapse some text bits, as the dense fit of this data does.
@pytest.mark.filterwarnings("ignore:.*codes of the .* collapsed")
def test_sparse_fit_is_deterministic_and_pickles_its_row_sparse_layer():
    from skmetacmh.metacmh._network import RowSparseLinear

    X, y = _sparse_text_data(n=300, n_text=200, density=0.02)
    opts = {"n_bits": 8, "n_image_features": 5, "random_state": 0, **SMALL}
    first = MetaCMHHasher(**opts).fit(X, y)
    second = MetaCMHHasher(**opts).fit(X, y)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    assert isinstance(first.module_.text.direct[0], RowSparseLinear)
    assert not isinstance(first.module_.image.direct[0], RowSparseLinear)
    restored = pickle.loads(pickle.dumps(first))
    assert isinstance(restored.module_.text.direct[0], RowSparseLinear)
    np.testing.assert_array_equal(restored.transform(X), first.transform(X))
    # The trained weights also encode the dense form of the same text.
    np.testing.assert_array_equal(
        first.encode(X[:, 5:].toarray(), modality="text"), first.encode(X[:, 5:], modality="text")
    )


# The tiny 4-epoch fits collapse some text bits, as the dense fit of this data does.
@pytest.mark.filterwarnings("ignore:.*codes of the .* collapsed")
def test_sparse_fit_with_sgd_trains_its_row_sparse_layer():
    X, y = _sparse_text_data(n=300, n_text=200, density=0.02)
    h = MetaCMHHasher(n_bits=8, n_image_features=5, optimizer="sgd", random_state=0, **SMALL).fit(
        X, y
    )
    assert np.isfinite(h.history_[-1]["loss"])
    assert h.history_[-1]["loss"] < h.history_[0]["loss"]


def test_configs_without_the_newer_keys_build_what_those_modules_were():
    from skmetacmh.metacmh._network import NetworkSpec, SparseInputLinear

    X, y = make_data(n=60)
    hasher = MetaCMHHasher(n_bits=8, n_image_features=5, **SMALL)
    spec = hasher._resolve(X[:, :5], X[:, 5:], np.eye(4)[y]).network
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.n_bits = 16  # the plan's architecture is read, never changed
    config = spec.as_config()
    assert config["sparse_text"] is False and config["frequency_aware"] is False
    # As in pickles written before the row-sparse layer and the frequency-aware selector.
    del config["sparse_text"], config["frequency_aware"]
    net = build_network(config)
    assert net.spec == spec and NetworkSpec.from_config(config) == spec
    assert type(net.text.direct[0]) is SparseInputLinear
    assert not net.image.memory.frequency_aware


# ---------------------------------------------------------------------------- "auto" defaults
def test_auto_max_epochs_caps_the_updates_per_modality():
    from skmetacmh.metacmh._plan import resolve_max_epochs

    # Small sets keep DCMH's 50 epochs; large ones get about 20,000 updates per modality.
    assert resolve_max_epochs("auto", 505, 128) == 50
    assert resolve_max_epochs("auto", 408 * 128, 128) == 50
    assert resolve_max_epochs("auto", 409 * 128, 128) == 49
    assert resolve_max_epochs("auto", 198_000, 128) == 13
    assert resolve_max_epochs("auto", 10_000_000, 128) == 1
    assert resolve_max_epochs(7, 198_000, 128) == 7


def test_auto_max_epochs_is_resolved_on_the_items_trained_on(data, monkeypatch):
    from skmetacmh.metacmh import _plan

    X, y = data  # 120 items: 4 batches of 32, or 3 with 24 held out for validation
    monkeypatch.setattr(_plan, "AUTO_UPDATE_BUDGET", 12)
    opts = {**SMALL, "max_epochs": "auto"}
    plain = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **opts).fit(X, y)
    assert plain.n_epochs_ == len(plain.history_) == 3
    # The schedule runs over the resolved epochs: the linear one ends at a tenth.
    assert plain.history_[-1]["learning_rate"] == pytest.approx(1e-4)
    held = MetaCMHHasher(
        n_bits=8, n_image_features=5, random_state=0, validation_fraction=0.2, **opts
    ).fit(X, y)
    assert len(held.history_) == 4
    assert MetaCMHHasher().max_epochs == "auto" == DCMHHasher().max_epochs


@pytest.mark.parametrize(
    "n_text, widths",
    [(7, (512,)), (10_000, (512,)), (10_001, (256,)), (25_000, (256,)), (50_000, (128,))],
)
def test_auto_text_hidden_narrows_the_first_layer_of_a_wide_text_block(n_text, widths):
    from skmetacmh.metacmh._plan import resolve_text_hidden

    assert resolve_text_hidden("auto", n_text) == widths
    assert resolve_text_hidden((64, 32), n_text) == (64, 32)
    assert resolve_text_hidden(64, n_text) == (64,)


def test_auto_text_hidden_is_recorded_and_survives_pickling(monkeypatch):
    import scipy.sparse as sp

    from skmetacmh.metacmh import _plan

    X, y = make_data(n=80)
    # A 300-word sparse vocabulary, with the auto table budget shrunk to make it "wide".
    words = sp.random(80, 300, density=0.05, random_state=0, format="csr")
    words = words + sp.csr_matrix((np.ones(80), (np.arange(80), 10 * y)), shape=(80, 300))
    X_sparse = sp.hstack([sp.csr_matrix(X[:, :5]), words], format="csr")
    monkeypatch.setattr(_plan, "AUTO_TEXT_WIDTHS", ((100, 512), (1000, 256), (None, 128)))
    opts = {**SMALL, "text_hidden": "auto", "max_epochs": 2}
    hasher = MetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **opts)
    hasher.fit(X_sparse, y)
    assert hasher.module_config_["text_hidden"] == (256,)
    assert hasher.module_.text.direct[0].out_features == 256
    assert hasher.get_params()["text_hidden"] == "auto"  # the parameter is left untouched
    restored = pickle.loads(pickle.dumps(hasher))
    query = X_sparse[:6, 5:]
    np.testing.assert_array_equal(
        restored.encode(query, modality="text"), hasher.encode(query, modality="text")
    )


@pytest.mark.parametrize("param, value", [("max_epochs", "many"), ("text_hidden", "wide")])
def test_auto_parameters_refuse_other_strings(data, param, value):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = data
    with pytest.raises(InvalidParameterError, match=param):
        MetaCMHHasher(n_bits=8, n_image_features=5, **{**SMALL, param: value}).fit(X, y)


# ---------------------------------------------------------------------------- d7da4cb reference
@pytest.mark.parametrize(
    "case",
    [
        "metacmh",
        "metacmh_sampled",
        "metacmh_nomemory",
        "dcmh",
        "dcmh_sampled_scaled",
        "metacmh_sparse",
    ],
)
def test_codes_and_histories_match_those_saved_from_d7da4cb(case):
    """The parameter refactor changed no number: codes and loss parts, bit for bit."""
    from pathlib import Path

    folder = Path(__file__).parent / "data"
    sys.path.insert(0, str(folder))
    try:
        import make_deep_reference as reference
    finally:
        sys.path.remove(str(folder))
    saved = np.load(folder / "deep_reference_d7da4cb.npz")
    for key, value in reference.fit_case(case).items():
        np.testing.assert_array_equal(value, saved[f"{case}/{key}"], err_msg=f"{case}/{key}")


# ---------------------------------------------------------------------------- training codes
@pytest.mark.parametrize("cls", [MetaCMHHasher, DCMHHasher])
def test_training_codes_are_the_learned_codes_b_twice(cls, data):
    X, y = data
    h = cls(n_bits=8, n_image_features=5, random_state=0, **SMALL).fit(X, y)
    codes = h.training_codes_
    assert codes.dtype == np.uint8 and codes.shape == (len(X), 16)
    np.testing.assert_array_equal(codes[:, :8], codes[:, 8:])  # B | B
    assert set(np.unique(codes)) <= {0, 1}
    # B = sign(F + G) of the last epoch: close to, but not the same thing as, the encodings.
    agreement = (codes == h.database_codes_).mean()
    assert 0.5 < agreement <= 1.0


def test_training_codes_with_validation_are_the_trained_rows_in_order(data):
    X, y = data
    h = MetaCMHHasher(
        n_bits=8, n_image_features=5, random_state=0, validation_fraction=0.2, **SMALL
    ).fit(X, y)
    assert h.training_codes_.shape == (len(X) - 24, 16)


# ---------------------------------------------------------------------------- devices
@pytest.mark.parametrize("device", ["mps", "gpu", "meta", "cuda:x", "tpu"])
def test_unusable_devices_get_one_message_with_the_valid_choices(device, data):
    X, y = data
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(ValueError, match="device") as error:
        MetaCMHHasher(n_bits=8, n_image_features=5, device=device, **SMALL).fit(X, y)
    message = str(error.value)
    assert repr(device) in message
    if device != "mps":
        assert "'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps'" in message
    else:
        assert "MPS" in message and "device='cpu'" in message
