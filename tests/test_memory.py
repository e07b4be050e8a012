"""Episodic training of MetaCMH's memory and the frequency-aware selector (tiny data, seconds)."""

import hashlib
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch

from skmetacmh import DCMHHasher
from skmetacmh.datasets import make_cross_modal_classification
from skmetacmh.metacmh._episodes import EpisodeSchedule, episode_split, key_classes
from skmetacmh.metacmh._estimator import _training_data
from skmetacmh.metacmh._memory import AssociativeMemory
from skmetacmh.metacmh._network import build_network
from skmetacmh.metacmh._research import ResearchMetaCMHHasher
from skmetacmh.metacmh._training import Trainer

from ._helpers import make_two_view_data

SMALL = {"image_hidden": (16,), "text_hidden": (16,), "max_epochs": 3, "batch_size": 32}


def long_tailed_labels(sizes, seed=0):
    y = np.repeat(np.arange(len(sizes)), sizes)
    return np.random.default_rng(seed).permutation(y)


def indicator(y, n_classes=None):
    return np.eye(n_classes or y.max() + 1)[y]


def make_data(n=150, seed=0, multilabel=False):
    rng = np.random.default_rng(seed)
    y = long_tailed_labels([70, 40, 20, 10, 6, 3, 1], seed)[:n]
    Y = indicator(y)
    if multilabel:
        Y = np.maximum(Y, rng.random(Y.shape) < 0.15)
    X = make_two_view_data(Y, 5, 6, noise=0.5, rng=rng)
    return X, (Y.astype(np.uint8) if multilabel else y)


# ---------------------------------------------------------------------------- the split
@pytest.mark.parametrize("seed", range(5))
def test_split_keeps_a_support_item_per_class_and_over_samples_the_tail(seed):
    sizes = [100, 40, 12, 5, 2, 1]
    y = long_tailed_labels(sizes, seed)
    query = episode_split(indicator(y), 0.5, np.random.default_rng(seed))
    support_counts = np.bincount(y[~query], minlength=len(sizes))
    query_counts = np.bincount(y[query], minlength=len(sizes))
    # Every class with two or more items keeps one in the support part and sends one to the
    # query part; the one-item class stays in the support part.
    assert (support_counts >= 1).all()
    assert (query_counts[:-1] >= 1).all() and query_counts[-1] == 0
    # The head is split about query_fraction; rarer classes send a larger share to the query.
    share = query_counts / np.array(sizes)
    assert share[0] == pytest.approx(0.5, abs=0.02)
    # (up to the floor of one support item: 40 -> 27 queries, 12 -> 10, 5 -> 4, 2 -> 1).
    assert share[1] > share[0] and share[2] > share[1]
    assert (share[1:4] > share[0]).all() and share[4] >= share[0]


def test_split_of_multilabel_items_keeps_a_support_carrier_of_every_label():
    rng = np.random.default_rng(0)
    for _ in range(20):
        Y = rng.random((60, 8)) < rng.uniform(0.02, 0.4, size=8)
        query = episode_split(Y, 0.7, rng)
        counts = Y.sum(axis=0)
        support_counts = Y[~query].sum(axis=0)
        assert (support_counts[counts >= 2] >= 1).all()
        assert not query[~Y.any(axis=1)].any()  # items without labels are never queries


def test_key_class_is_the_rarest_label_of_an_item():
    Y = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=bool)
    # counts: 4, 1, 1
    assert key_classes(Y).tolist() == [2, 0, 1, -1, 0]


def test_split_is_deterministic_from_its_stream():
    Y = indicator(long_tailed_labels([50, 20, 5, 2]))
    a = episode_split(Y, 0.5, np.random.default_rng(3))
    b = episode_split(Y, 0.5, np.random.default_rng(3))
    c = episode_split(Y, 0.5, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


# ---------------------------------------------------------------------------- centroids
def test_support_centroids_do_not_see_the_query_items():
    rng = np.random.default_rng(0)
    y = long_tailed_labels([30, 10, 3, 1])
    Y = torch.as_tensor(indicator(y), dtype=torch.float32)
    features = torch.as_tensor(rng.standard_normal((len(y), 4)), dtype=torch.float32)
    query = torch.as_tensor(episode_split(Y.numpy(), 0.5, rng))
    memory = AssociativeMemory(4, 4)
    memory.refresh(features, Y, support=~query)
    for k in range(4):
        support = (y == k) & ~query.numpy()
        expected = features.numpy()[support].mean(axis=0)
        np.testing.assert_allclose(memory.centroids[k].numpy(), expected, rtol=1e-5)
    # Changing the query items' features changes no centroid.
    moved = features.clone()
    moved[query] += 100.0
    again = AssociativeMemory(4, 4)
    again.refresh(moved, Y, support=~query)
    torch.testing.assert_close(again.centroids, memory.centroids, rtol=0, atol=0)


def test_a_class_without_support_items_has_no_centroid_in_the_episode():
    Y = torch.eye(3)[[0, 0, 1, 2]]
    features = torch.arange(8.0).reshape(4, 2)
    memory = AssociativeMemory(2, 3)
    memory.centroids.fill_(7.0)
    support = torch.tensor([True, False, False, True])
    memory.refresh(features, Y, support=support)
    assert memory.populated.tolist() == [True, False, True]
    assert memory.centroids[1].tolist() == [0.0, 0.0]  # not the stale 7s, not item 2


def _trainer(X, y, **params):
    hasher = ResearchMetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL, **params)
    Y = torch.as_tensor(indicator(y), dtype=torch.float32)
    plan = hasher._resolve(X[:, :5], X[:, 5:], Y.numpy())
    generator = torch.Generator().manual_seed(11)
    net = build_network(plan.network, generator)
    data, _ = _training_data(X[:, :5], X[:, 5:], Y.numpy(), plan, generator)
    return Trainer(net, data, plan.training, generator, torch.Generator().manual_seed(12))


def test_episodes_in_training_build_centroids_from_support_items_only():
    X, y = make_data()
    trainer = _trainer(X, y, episodic=True)
    trainer.initialise_state()
    episodes = trainer.episodes
    seen = []
    for _ in range(3):
        trainer.start_episode()
        support = ~trainer.query
        direct = trainer.direct_features["image"]
        for k in range(y.max() + 1):
            members = torch.as_tensor(y == k) & support
            if members.any():
                expected = direct[members].mean(dim=0)
                torch.testing.assert_close(trainer.net.image.memory.centroids[k], expected)
        seen.append(trainer.query.clone())
    assert episodes.n_episodes == 3
    assert not torch.equal(seen[0], seen[1])  # a new split per episode


def test_one_episode_per_epoch_or_every_k_batches():
    X, y = make_data()  # 150 items, batch 32: 5 batches per modality pass, 10 per epoch
    per_epoch = _trainer(X, y, episodic=True)
    per_epoch.fit()
    assert per_epoch.episodes.n_episodes == SMALL["max_epochs"]
    every_4 = _trainer(X, y, episodic=True, episode_length=4)
    every_4.fit()
    assert every_4.episodes.n_episodes == int(np.ceil(10 * SMALL["max_epochs"] / 4))


def test_only_query_rows_train_the_selector_and_the_hallucinator():
    torch.manual_seed(0)
    memory = AssociativeMemory(4, 3)
    memory.centroids.copy_(torch.randn(3, 4))
    direct = torch.randn(6, 4, requires_grad=True)
    for frozen, trains in ((torch.ones(6, dtype=torch.bool), False), (None, True)):
        memory.zero_grad(set_to_none=True)
        meta, _ = memory.recall(direct, frozen=frozen)
        meta.pow(2).sum().backward()
        grads = [memory.selector.weight.grad, memory.hallucinator.weight.grad]
        assert all((g is not None and bool(g.abs().sum() > 0)) == trains for g in grads)
    # The forward value does not depend on the mask.
    a, _ = memory.recall(direct, frozen=torch.tensor([True, False] * 3))
    b, _ = memory.recall(direct)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_after_training_the_centroids_average_all_training_items():
    X, y = make_data()
    trainer = _trainer(X, y, episodic=True)
    trainer.fit()
    Y = torch.as_tensor(indicator(y), dtype=torch.float32)
    for name in ("image", "text"):
        # The epoch's last refresh: every item's direct feature, query items included.
        features = trainer.direct_features[name]
        expected = (Y.T @ features) / Y.sum(dim=0)[:, None]
        memory = trainer.net.modality(name).memory
        torch.testing.assert_close(memory.centroids, expected)
        assert bool(memory.populated.all())


# ---------------------------------------------------------------------------- frequency
def test_frequency_aware_selector_sees_the_expected_log_frequency():
    torch.manual_seed(0)
    memory = AssociativeMemory(4, 3, frequency_aware=True)
    memory.set_log_frequency(torch.eye(3)[[0, 0, 0, 0, 1, 1, 2]])
    torch.testing.assert_close(memory.log_frequency, torch.log(torch.tensor([4.0, 2.0, 1.0]) / 4.0))
    memory.centroids.copy_(torch.randn(3, 4))
    with torch.no_grad():
        memory.frequency_weight.copy_(torch.tensor([1.0, -2.0, 0.5, 3.0]))
    direct = torch.randn(5, 4)
    meta, logits = memory.recall(direct)
    recalled = torch.softmax(logits, dim=1)
    expected_log_frequency = recalled @ memory.log_frequency
    gate = memory.selector(direct) + expected_log_frequency[:, None] * memory.frequency_weight
    expected = direct + torch.tanh(gate) * (recalled @ memory.centroids)
    torch.testing.assert_close(meta, expected)
    # With its weight at zero the extra input changes nothing.
    plain = AssociativeMemory(4, 3)
    plain.load_state_dict(
        {
            k: v
            for k, v in memory.state_dict().items()
            if k not in ("frequency_weight", "log_frequency")
        }
    )
    memory.zero_selector_()
    plain.zero_selector_()
    torch.testing.assert_close(memory.recall(direct)[0], plain.recall(direct)[0], rtol=0, atol=0)


def test_frequency_aware_fit_smoke():
    X, y = make_data()
    h = ResearchMetaCMHHasher(
        n_bits=8, n_image_features=5, frequency_aware=True, random_state=0, **SMALL
    )
    h.fit(X, y)
    memory = h.module_.image.memory
    counts = np.bincount(y).astype(float)
    np.testing.assert_allclose(
        memory.log_frequency.numpy(), np.log(counts / counts.max()), rtol=1e-6
    )
    # A smoke test of training: the weight starts at zero and the fit moved it...
    assert memory.frequency_weight.abs().max() > 0
    assert h.module_config_["frequency_aware"] is True
    # ...and the gate reads it: zeroing it changes the meta feature.
    direct = torch.randn(6, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        trained = memory(direct)
        memory.frequency_weight.zero_()
        assert not torch.equal(memory(direct), trained)


# ---------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("multilabel", [False, True])
def test_same_random_state_same_codes(multilabel):
    X, y = make_data(multilabel=multilabel)
    params = dict(n_bits=8, n_image_features=5, episodic=True, frequency_aware=True, **SMALL)
    a = ResearchMetaCMHHasher(random_state=1, episode_length=3, **params).fit(X, y)
    b = ResearchMetaCMHHasher(random_state=1, episode_length=3, **params).fit(X, y)
    c = ResearchMetaCMHHasher(random_state=2, episode_length=3, **params).fit(X, y)
    np.testing.assert_array_equal(a.database_codes_, b.database_codes_)
    assert (a.database_codes_ != c.database_codes_).any()


# ---------------------------------------------------------------------------- persistence
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_new_state_survives_pickling(dump):
    X, y = make_data()
    h = ResearchMetaCMHHasher(
        n_bits=8, n_image_features=5, episodic=True, frequency_aware=True, random_state=0, **SMALL
    ).fit(X, y)
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(h))
    else:
        buffer = io.BytesIO()
        joblib.dump(h, buffer)
        buffer.seek(0)
        loaded = joblib.load(buffer)
    for name in ("image", "text"):
        old, new = h.module_.modality(name).memory, loaded.module_.modality(name).memory
        assert new.frequency_aware
        torch.testing.assert_close(new.log_frequency, old.log_frequency, rtol=0, atol=0)
        torch.testing.assert_close(new.frequency_weight, old.frequency_weight, rtol=0, atol=0)
    for modality, cols in (("image", slice(0, 5)), ("text", slice(5, None))):
        np.testing.assert_array_equal(
            loaded.encode(X[:, cols], modality=modality), h.encode(X[:, cols], modality=modality)
        )
    assert loaded.get_params()["episodic"] is True


# ---------------------------------------------------------------------------- options off
def test_options_off_add_no_state_and_no_schedule():
    X, y = make_data()
    trainer = _trainer(X, y)
    assert trainer.episodes is None
    keys = set(trainer.net.state_dict())
    assert not {k for k in keys if "frequency" in k}


# Codes of the package before the episodic options existed (commit ead8f82), every parameter
# pinned so that a later change of a default does not move them: with the new options off the
# training loop must give these codes bit for bit. If the loop changes on purpose, regenerate.
PINNED = dict(
    image_hidden=(512,),
    text_hidden=(512,),
    memory=True,
    class_weight="balanced",
    classification_weight=3.0,
    recall_weight=0.0,
    selector_init="zero",
    gamma=1.0,
    eta=1.0,
    optimizer="adam",
    learning_rate=1e-3,
    schedule="linear",
    weight_decay=0.0,
    max_epochs=4,
    batch_size=128,
    similarity_scale=8.0,
    n_sampled_columns=1024,
)
REFERENCE = {
    "single": ({}, "df58b38a79112306", "220b6e06bc54209a"),
    "multi": (
        {"memory_source": "codes", "reachability": True},
        "e448db9f08e195c2",
        "c36d45b5e389cc83",
    ),
}


def _digest(codes):
    return hashlib.sha256(np.packbits(codes.astype(bool), axis=1).tobytes()).hexdigest()[:16]


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_options_off_give_the_codes_of_before(case):
    if case == "single":
        X, y = make_cross_modal_classification(
            n_samples=400, n_classes=6, imbalance_factor=10, random_state=0
        )
    else:
        X, y = make_cross_modal_classification(
            n_samples=300, n_classes=6, multilabel=True, imbalance_factor=5, random_state=1
        )
    extra, image_digest, text_digest = REFERENCE[case]
    h = ResearchMetaCMHHasher(n_bits=16, n_image_features=64, random_state=3, **{**PINNED, **extra})
    with warnings.catch_warnings():
        # Four epochs of the pinned model may not lower the loss; the codes are what matter.
        warnings.simplefilter("ignore")
        h.fit(X, y)
    assert _digest(h.encode(X[:, :64], modality="image")) == image_digest
    assert _digest(h.encode(X[:, 64:], modality="text")) == text_digest


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, message",
    [
        ({"episodic": True, "memory": False}, "needs memory=True"),
        ({"episodic": True, "memory_source": "classifier"}, "memory_source='classifier'"),
        ({"frequency_aware": True, "memory": False}, "needs memory=True"),
        ({"query_fraction": 1.0}, "query_fraction"),
        ({"episode_length": 0}, "episode_length"),
    ],
)
def test_bad_episode_options_are_refused(params, message):
    X, y = make_data()
    with pytest.raises(ValueError, match=message):
        ResearchMetaCMHHasher(n_bits=8, n_image_features=5, **SMALL, **params).fit(X, y)


def test_dcmh_does_not_expose_the_episode_options():
    params = DCMHHasher().get_params()
    assert not {"episodic", "episode_length", "query_fraction", "frequency_aware"} & set(params)


def test_schedule_is_off_unless_asked():
    X, y = make_data()
    assert _trainer(X, y).episodes is None
    schedule = _trainer(X, y, episodic=True, episode_length=3, query_fraction=0.75).episodes
    assert isinstance(schedule, EpisodeSchedule)
    # The schedule takes its settings from the options, and the labels of the training items.
    assert (schedule.episode_length, schedule.query_fraction) == (3, 0.75)
    np.testing.assert_array_equal(schedule.labels, indicator(y) > 0)


def test_schedule_is_a_policy_of_its_own():
    y = long_tailed_labels([30, 10, 3, 1])
    rng = np.random.default_rng(0)
    schedule = EpisodeSchedule(indicator(y), 0.5, None, rng)
    assert [schedule.due(epoch) for epoch in (0, 0, 0, 1, 1)] == [True, False, False, True, False]
    every_2 = EpisodeSchedule(indicator(y), 0.5, 2, np.random.default_rng(0))
    assert [every_2.due(0) for _ in range(5)] == [True, False, True, False, True]
    first, second = schedule.split(), schedule.split()
    assert first.dtype == bool and first.shape == y.shape and not np.array_equal(first, second)
    assert schedule.n_episodes == 2


# ---------------------------------------------------------------------------- protocol
@pytest.mark.parametrize("shots", [1, 2, 5])
def test_few_shot_tail_protocol_gives_each_tail_class_exactly_k_items(shots):
    from skmetacmh._bench._protocol import split_long_tailed
    from skmetacmh.datasets import frequency_groups

    y = np.repeat(np.arange(9), 60)
    protocol = {
        "query": "per_class",
        "n_query": 10,
        "imbalance_factor": 10.0,
        "shuffle_classes": True,
        "tail_shots": shots,
    }
    split = split_long_tailed(y, protocol, 3)
    counts = np.bincount(y[split.train], minlength=9)
    tail = frequency_groups(y[split.train])["tail"]
    assert len(tail) == 3 and (counts[tail] == shots).all()
    assert (np.delete(counts, tail) > shots).all()
    assert not np.isin(split.train, split.query).any()
    assert np.isin(split.train, split.database).all()
    again = split_long_tailed(y, protocol, 3)
    np.testing.assert_array_equal(again.train, split.train)


def test_few_shot_tail_protocol_refuses_multilabel_data():
    from skmetacmh._bench._protocol import split_long_tailed

    Y = (np.random.default_rng(0).random((200, 4)) < 0.5).astype(int)
    protocol = {"query": "random", "n_query": 20, "tail_shots": 2}
    with pytest.raises(ValueError, match="single-label"):
        split_long_tailed(Y, protocol, 0)


def test_synthetic_multilabel_benchmark_dataset():
    from skmetacmh._bench._data import dataset_options, load_dataset

    data = load_dataset(
        "synthetic-multilabel", dataset_options("synthetic-multilabel", n_samples=400)
    )
    assert data.y.shape == (400, 10) and data.X_image.shape == (400, 64)
    assert data.y.sum(axis=1).mean() > 1.5  # multi-label
    counts = data.y.sum(axis=0)
    rare = np.argsort(counts)[:3]
    frequent = np.argsort(counts)[-3:]
    with_rare = data.y[:, rare].any(axis=1)
    # Rare labels mostly ride on items that also carry a frequent one.
    assert data.y[with_rare][:, frequent].any(axis=1).mean() > 0.5


# ---------------------------------------------------------------------------- tau-norm
def test_tau_normalisation_equalises_the_hallucinator_rows():
    from skmetacmh.metacmh._decoupling import tau_normalise_hallucinators

    X, y = make_data()
    h = ResearchMetaCMHHasher(n_bits=8, n_image_features=5, random_state=0, **SMALL).fit(X, y)
    before = {k: v.clone() for k, v in h.module_.state_dict().items()}
    tau_normalise_hallucinators(h.module_, 0.0)
    for key, value in h.module_.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    tau_normalise_hallucinators(h.module_, 1.0)
    weight = h.module_.image.memory.hallucinator.weight
    norms = weight.norm(dim=1)
    old_norms = before["image.memory.hallucinator.weight"].norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, float(old_norms.mean())))
    assert not h.module_.image.memory.hallucinator.bias.any()
    # Only the hallucinators change.
    changed = {k for k, v in h.module_.state_dict().items() if not torch.equal(v, before[k])}
    assert changed <= {
        f"{m}.memory.hallucinator.{p}" for m in ("image", "text") for p in ("weight", "bias")
    }


def test_hallucinator_tau_is_applied_at_the_end_of_fit():
    X, y = make_data()
    h = ResearchMetaCMHHasher(
        n_bits=8, n_image_features=5, hallucinator_tau=1.0, random_state=0, **SMALL
    )
    h.fit(X, y)
    norms = h.module_.text.memory.hallucinator.weight.norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, float(norms.mean())))
    loaded = pickle.loads(pickle.dumps(h))
    np.testing.assert_array_equal(
        loaded.encode(X[:, 5:], modality="text"), h.encode(X[:, 5:], modality="text")
    )


# ---------------------------------------------------------------------------- the benchmark
def test_bench_memory_pairs_each_variant_with_memory_off(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_memory.py"
    spec = importlib.util.spec_from_file_location("_script_bench_memory", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "rows.jsonl"
    argv = ["--settings", "fewshot-2", "--variants", "episodic", "--seeds", "0", "1"]
    script.main([*argv, "--set", "max_epochs=1", "image_hidden=[16]", "--out", str(out)])
    rows = script.load_rows(out)
    assert sorted((r["variant"], r["seed"]) for r in rows) == [
        ("episodic", 0),
        ("episodic", 1),
        ("memory_off", 0),
        ("memory_off", 1),
    ]
    tail_counts = sorted(rows[0]["train_counts"])[:3]
    assert tail_counts == [2, 2, 2]  # the few-shot protocol reached the fits
    seeds, d_tail = script.paired(rows, "fewshot-2", "episodic", 32, "tail")
    by = {(r["variant"], r["seed"]): r["tail"] for r in rows}
    assert seeds == [0, 1]
    np.testing.assert_allclose(d_tail, [by["episodic", s] - by["memory_off", s] for s in seeds])
    # A rerun finds every row in the file and fits nothing.
    script.main([*argv, "--set", "max_epochs=1", "image_hidden=[16]", "--out", str(out)])
    assert len(script.load_rows(out)) == 4
    assert "episodic" in script.report_rst(rows, 32, ["episodic"])


# ---------------------------------------------------------------------------- the two levers
LEVERS = [
    {"two_stage": True},
    {"centre_weight": 1.0},
    {"memory": False, "centre_weight": 1.0},
    {"two_stage": True, "n_sampled_columns": 40},
]


@pytest.mark.parametrize("params", LEVERS)
def test_levers_are_deterministic_and_survive_pickling(params):
    X, y = make_data()
    opts = dict(n_bits=8, n_image_features=5, random_state=4, **SMALL, **params)
    a = ResearchMetaCMHHasher(**opts).fit(X, y)
    b = ResearchMetaCMHHasher(**opts).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert [r["loss"] for r in a.history_] == [r["loss"] for r in b.history_]
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.transform(X), a.transform(X))
    other = ResearchMetaCMHHasher(**{**opts, "random_state": 5}).fit(X, y)
    assert not np.array_equal(other.transform(X), a.transform(X))


@pytest.mark.parametrize("off", [{"two_stage": False}, {"centre_weight": 0.0}])
def test_levers_switched_off_change_no_bit(off):
    X, y = make_data()
    opts = dict(n_bits=8, n_image_features=5, random_state=4, **SMALL)
    from skmetacmh import MetaCMHHasher

    a = MetaCMHHasher(**opts).fit(X, y)
    b = ResearchMetaCMHHasher(**opts, **off).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert "centre" not in b.history_[0]


def test_two_stage_bypasses_the_memory_in_stage_one_and_freezes_stage_one_centroids():
    X, y = make_data()
    opts = dict(n_bits=8, n_image_features=5, random_state=4, **{**SMALL, "max_epochs": 4})
    h = ResearchMetaCMHHasher(two_stage=True, **opts)
    Y = torch.as_tensor(indicator(y), dtype=torch.float32)
    plan = h._resolve(X[:, :5], X[:, 5:], Y.numpy())
    generator = torch.Generator().manual_seed(0)
    net = build_network(plan.network, generator)
    net.image.memory.zero_selector_()
    net.text.memory.zero_selector_()
    data, _ = _training_data(X[:, :5], X[:, 5:], Y.numpy(), plan, generator)
    trainer = Trainer(net, data, plan.training, generator, torch.Generator().manual_seed(1))
    assert trainer.stage_two_epoch == 3 and trainer.bypass_memory
    trainer.initialise_state()
    trainer.run_epoch(1)
    # Stage 1: the memory is untouched (no centroid, no gradient on the selector).
    assert not trainer.net.image.memory.populated.any()
    assert not trainer.net.image.memory.selector.weight.any()
    trainer.run_epoch(2)
    trainer.start_stage_two()
    direct = forward_direct(trainer.net.image, X[:, :5])
    expected = (Y.T @ direct) / Y.sum(0)[:, None]
    torch.testing.assert_close(trainer.net.image.memory.centroids, expected)
    frozen = trainer.net.image.memory.centroids.clone()
    assert trainer.class_aware
    trainer.run_epoch(3)
    torch.testing.assert_close(trainer.net.image.memory.centroids, frozen)  # kept fixed
    assert trainer.net.image.memory.selector.weight.any()  # the memory now trains


def forward_direct(net, X):
    with torch.no_grad():
        return net.direct(torch.as_tensor(X, dtype=torch.float32))


def test_class_aware_stage_draws_tail_items_about_as_often_as_head_items():
    X, y = make_data()
    h = ResearchMetaCMHHasher(n_bits=8, n_image_features=5, two_stage=True, random_state=0, **SMALL)
    Y = torch.as_tensor(indicator(y), dtype=torch.float32)
    plan = h._resolve(X[:, :5], X[:, 5:], Y.numpy())
    generator = torch.Generator().manual_seed(0)
    net = build_network(plan.network, generator)
    data, _ = _training_data(X[:, :5], X[:, 5:], Y.numpy(), plan, generator)
    trainer = Trainer(net, data, plan.training, generator, torch.Generator().manual_seed(1))
    trainer.bypass_memory = False
    draws = torch.cat([trainer._item_order() for _ in range(40)]).numpy()
    per_class = np.bincount(y[draws], minlength=y.max() + 1) / len(draws)
    # 7 classes of 70..1 items: each drawn about 1/7 of the time (plain order: 70/150 vs 1/150).
    np.testing.assert_allclose(per_class, 1 / 7, atol=0.03)


def test_centres_are_far_apart_and_targets_follow_the_labels():
    from skmetacmh.metacmh._centres import centre_targets, class_centres

    rng = np.random.default_rng(0)
    hadamard = class_centres(10, 16, rng)
    distances = (hadamard[:, None, :] != hadamard[None, :, :]).sum(-1)
    off = distances[~np.eye(10, dtype=bool)]
    assert set(np.unique(off)) <= {8, 16}  # Hadamard rows: b/2 apart (b for a row and -row)
    bernoulli = class_centres(80, 32, rng)  # more classes than 2 b: Bernoulli bits
    assert bernoulli.shape == (80, 32) and set(np.unique(bernoulli)) == {-1, 1}
    assert len({row.tobytes() for row in bernoulli}) == 80
    C = torch.tensor([[1.0, 1, -1, -1], [1, -1, 1, -1], [-1, -1, -1, 1]])
    Y = torch.tensor([[1.0, 0, 0], [1, 1, 0], [0, 0, 0], [1, 1, 1]])
    Y = torch.cat([Y, torch.tensor([[0.0, 1, 0]] * 5)])  # class 1 frequent, class 0 rarer
    T = centre_targets(Y, C)
    assert T[0].tolist() == C[0].tolist()
    # Two labels: where their centres disagree, the rarer label's (class 0) bit wins.
    assert T[1].tolist() == [1, 1, -1, -1]
    assert T[2].tolist() == [0, 0, 0, 0]  # unlabelled: no target
    assert T[3].tolist() == [1, -1, -1, -1]


def test_centre_term_pulls_outputs_to_their_class_centre():
    X, y = make_data()
    opts = dict(n_bits=8, n_image_features=5, random_state=0, memory=False, learning_rate=1e-2)
    opts.update({**SMALL, "max_epochs": 15})
    h = ResearchMetaCMHHasher(centre_weight=30.0, **opts).fit(X, y)
    centres = h.code_centres_[np.searchsorted(h.classes_, y)] > 0
    with_centres = (h.encode(X[:, :5], modality="image") == centres).mean()
    plain = ResearchMetaCMHHasher(**opts).fit(X, y)
    assert not hasattr(plain, "code_centres_")
    without = (plain.encode(X[:, :5], modality="image") == centres).mean()
    assert with_centres > 0.8 and without < 0.7
    assert h.history_[-1]["centre"] < 0.6 * h.history_[0]["centre"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"two_stage": True, "memory": False}, "needs memory=True"),
        ({"two_stage": True, "episodic": True}, "episodic=False"),
        ({"two_stage": True, "validation_fraction": 0.2}, "validation_fraction=None"),
        ({"two_stage": True, "max_epochs": 1}, "max_epochs >= 2"),
        ({"centre_weight": -1.0}, "centre_weight"),
    ],
)
def test_lever_misuse_is_a_clear_error(params, match):
    X, y = make_data()
    opts = {**SMALL, **params}
    with pytest.raises(ValueError, match=match):
        ResearchMetaCMHHasher(n_bits=8, n_image_features=5, **opts).fit(X, y)


def _bench_memory_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_memory.py"
    spec = importlib.util.spec_from_file_location("_script_bench_memory_strict", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_bench_strict_tail_scores_each_tail_class_of_a_query_once():
    from skmetacmh.metrics import map_by_frequency_group

    script = _bench_memory_script()
    rng = np.random.default_rng(0)
    # Single-label: strict is the usual tail mAP.
    y_train = np.repeat([0, 1, 2], [20, 10, 2])
    y_query, y_db = rng.integers(0, 3, 12), rng.integers(0, 3, 40)
    q, db = rng.integers(0, 2, (12, 8)), rng.integers(0, 2, (40, 8))
    strict = script.strict_group_map(q, db, y_query, y_db, y_train)
    lenient = map_by_frequency_group(q, db, y_query, y_db, y_train).map["tail"]
    assert strict == pytest.approx(lenient)
    # Multi-label: a query carrying the tail label 2 and a head label counts once, for label 2,
    # and only database items carrying label 2 are relevant to it.
    Y_train = np.zeros((32, 3), dtype=np.uint8)
    Y_train[:20, 0], Y_train[20:30, 1], Y_train[30:, 2] = 1, 1, 1
    Y_query = np.array([[1, 0, 1]], dtype=np.uint8)
    Y_db = np.array([[1, 0, 0], [0, 0, 1], [1, 0, 0]], dtype=np.uint8)
    db_codes = np.array([[0, 0], [1, 1], [0, 1]], dtype=np.uint8)
    # The ranking is items 0, 2, 1 (distances 0, 1, 2). Lenient relevance (shares a label)
    # would count items 0 and 2 (label 0); strict counts item 1 only, ranked third: AP 1/3.
    value = script.strict_group_map(np.array([[0, 0]]), db_codes, Y_query, Y_db, Y_train)
    assert value == pytest.approx(1 / 3)
