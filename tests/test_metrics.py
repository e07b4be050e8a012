"""The metrics against slow, obvious per-query references, plus their error paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import config_context
from sklearn.utils._param_validation import InvalidParameterError

from skmetacmh import _search
from skmetacmh._bench._measure import peak_traced_bytes
from skmetacmh.metrics import (
    cross_modal_map,
    make_cross_modal_scorer,
    map_by_frequency_group,
    map_per_class,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
)
from skmetacmh.metrics._ranking import _per_query_ap, _Problem, _strict_groups

NUMPY = _search.resolve_engine("numpy", 64)
COMPILED = _search.resolve_engine("compiled", 64) if _search.kernels_available() else None


# ----------------------------------------------------------------------------- references
def _relevant(q_label, db_labels):
    if db_labels.ndim == 2:
        return (db_labels @ q_label) > 0
    return db_labels == q_label


def _ranking(q_code, db_codes):
    dist = (q_code[None, :] != db_codes).sum(axis=1)
    # Ascending distance, ties by database index.
    return np.lexsort((np.arange(len(db_codes)), dist)), dist


def reference_ap(q_code, db_codes, q_label, db_labels, top_k=None):
    """AP by its definition: mean of precision@r over the ranks r of relevant items."""
    order, _ = _ranking(q_code, db_codes)
    rel = _relevant(q_label, db_labels)[order]
    if not rel.any():
        return None
    if top_k is not None:
        rel = rel[:top_k]
    precisions = [rel[: r + 1].mean() for r in range(len(rel)) if rel[r]]
    return float(np.mean(precisions)) if precisions else 0.0


def reference_map(qc, dbc, ql, dbl, top_k=None):
    aps = [reference_ap(qc[i], dbc, ql[i], dbl, top_k) for i in range(len(qc))]
    aps = [a for a in aps if a is not None]
    return float(np.mean(aps)), len(qc) - len(aps)


@st.composite
def retrieval_problem(draw):
    # Up to 5 words per code and 3 words per label set: every specialised kernel loop is drawn.
    n_bits = draw(st.one_of(st.integers(1, 70), st.integers(120, 300)))
    n_query = draw(st.integers(1, 12))
    n_db = draw(st.integers(1, 40))
    multilabel = draw(st.booleans())
    # Few distinct codes give heavy ties; the density parameter spreads them.
    n_distinct = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 2, size=(n_distinct, n_bits), dtype=np.uint8)
    qc = pool[rng.integers(0, n_distinct, n_query)]
    dbc = pool[rng.integers(0, n_distinct, n_db)]
    # An indicator has at least two columns: one column is a column of class labels.
    n_labels = draw(st.integers(2 if multilabel else 1, 5))
    if multilabel and draw(st.booleans()):
        n_labels = draw(st.integers(60, 150))  # two or three label words
    if multilabel:
        ql = (rng.random((n_query, n_labels)) < 0.35).astype(np.uint8)
        dbl = (rng.random((n_db, n_labels)) < 0.35).astype(np.uint8)
    else:
        ql = rng.integers(0, n_labels, n_query)
        dbl = rng.integers(0, n_labels, n_db)
    top_k = draw(st.one_of(st.none(), st.integers(1, n_db + 3)))
    return qc, dbc, ql, dbl, top_k


# ----------------------------------------------------------------------------- exactness
@settings(max_examples=300, deadline=None)
@given(retrieval_problem())
def test_map_matches_per_query_reference(problem):
    qc, dbc, ql, dbl, top_k = problem
    has_relevant = any(_relevant(ql[i], dbl).any() for i in range(len(qc)))
    if not has_relevant:
        with pytest.raises(ValueError, match="undefined"):
            mean_average_precision(qc, dbc, ql, dbl, top_k)
        return
    expected, n_excluded = reference_map(qc, dbc, ql, dbl, top_k)
    value, details = mean_average_precision(qc, dbc, ql, dbl, top_k, return_details=True)
    assert value == pytest.approx(expected, abs=1e-12)
    assert details.n_excluded == n_excluded


ENGINES = [NUMPY] + ([COMPILED] if COMPILED is not None else [])


@settings(max_examples=300, deadline=None)
@given(retrieval_problem())
def test_every_engine_and_route_matches_the_reference(problem):
    # mAP@k is computed by a top-k search or by a ranking of the whole database, depending on
    # k / n_db; both routes, on every engine, must give the reference AP of every query.
    qc, dbc, ql, dbl, top_k = problem
    expected = [reference_ap(qc[i], dbc, ql[i], dbl, top_k) for i in range(len(qc))]
    valid = np.array([e is not None for e in expected])
    expected = np.array([0.0 if e is None else e for e in expected])
    p = _Problem(qc, dbc, ql, dbl)
    args = (p.queries, p.db, p.n_bits, p.query_labels, p.db_labels, p.label_words)
    k = None if top_k is None or top_k >= len(dbc) else top_k
    results = {}
    for engine in ENGINES:
        routes = {"full": engine._average_precision_all(*args, k)}
        if k is not None:
            routes["top-k"] = engine._average_precision_top_k(*args, k)
        for route, (ap, got_valid) in routes.items():
            np.testing.assert_array_equal(got_valid, valid)
            np.testing.assert_allclose(ap[valid], expected[valid], rtol=0, atol=1e-12)
            results[engine.name, route] = ap
    # Every engine and route sums the precision terms in database-index order: bit-identical.
    for key, ap in results.items():
        np.testing.assert_array_equal(ap, results["numpy", "full"], err_msg=str(key))


@pytest.mark.parametrize("n_bits, n_labels", [(64, 0), (64, 24), (128, 24), (200, 100)])
@pytest.mark.parametrize("top_k", [None, 700])
def test_engines_agree_to_the_last_bit_on_a_realistic_problem(n_bits, n_labels, top_k):
    # Codes correlated with labels (many ties at mid distances, about a third relevant), with a
    # query count that is not a multiple of the kernel's block of 4: the compiled kernel's one
    # pass and the numpy ranking must give the same floating-point AP, query by query.
    rng = np.random.default_rng(n_bits + n_labels)
    labels = (rng.random((2_061, max(n_labels, 24))) < 0.12).astype(np.uint8)
    codes = labels @ rng.standard_normal((labels.shape[1], n_bits))
    codes = (codes + 2 * rng.standard_normal(codes.shape) > 0).astype(np.uint8)
    if n_labels == 0:
        labels = labels.argmax(axis=1)  # class ids
    qc, dbc, ql, dbl = codes[:61], codes[61:], labels[:61], labels[61:]
    p = _Problem(qc, dbc, ql, dbl)
    args = (p.queries, p.db, p.n_bits, p.query_labels, p.db_labels, p.label_words, top_k)
    expected = [reference_ap(qc[i], dbc, ql[i], dbl, top_k) for i in range(len(qc))]
    valid = np.array([e is not None for e in expected])
    ap_numpy, valid_numpy = NUMPY._average_precision_all(*args)
    np.testing.assert_array_equal(valid_numpy, valid)
    np.testing.assert_allclose(ap_numpy[valid], np.array(expected)[valid].astype(float), atol=1e-12)
    if COMPILED is not None:
        ap_compiled, valid_compiled = COMPILED._average_precision_all(*args)
        np.testing.assert_array_equal(valid_compiled, valid)
        np.testing.assert_array_equal(ap_compiled, ap_numpy)


def test_compiled_ap_hands_databases_beyond_its_counters_to_numpy(monkeypatch):
    if COMPILED is None:
        pytest.skip("compiled kernels not built")
    from skmetacmh._search import _compiled_engine

    rng = np.random.default_rng(1)
    qc, dbc = rng.integers(0, 2, (5, 16), np.uint8), rng.integers(0, 2, (50, 16), np.uint8)
    ql, dbl = rng.integers(0, 3, 5), rng.integers(0, 3, 50)
    expected = _per_query_ap(qc, dbc, ql, dbl, engine=COMPILED)
    monkeypatch.setattr(_compiled_engine, "AP_MAX_DB", 49)
    monkeypatch.setattr(COMPILED, "_kernels", None)  # the kernel must not be called
    got = _per_query_ap(qc, dbc, ql, dbl, engine=COMPILED)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.skipif(COMPILED is None, reason="compiled kernels not built")
def test_ap_kernel_refuses_a_database_beyond_its_32_bit_counters():
    from skmetacmh._search import _kernels

    queries, db = np.zeros((2, 1), np.uint64), np.zeros((1, 1), np.uint64)
    labels = np.zeros(2, np.int64)
    ap, n_rel = np.zeros(2), np.zeros(2, np.int64)
    with pytest.raises(ValueError, match="invalid sizes"):  # before any buffer is read
        _kernels.average_precision(queries, 2, db, 2**32, 1, 64, labels, labels, 0, 0, ap, n_rel)


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_map_at_small_k_runs_a_top_k_search_not_a_full_ranking(engine, monkeypatch):
    if engine == "compiled" and COMPILED is None:
        pytest.skip("compiled kernels not built")
    engine = COMPILED if engine == "compiled" else NUMPY
    rng = np.random.default_rng(0)
    qc, dbc = rng.integers(0, 2, (30, 16), np.uint8), rng.integers(0, 2, (2000, 16), np.uint8)
    ql, dbl = rng.integers(0, 4, 30), rng.integers(0, 4, 2000)
    largest = 2000 // engine.top_k_search_ratio  # the largest k searched, not ranked
    ks = (1, max(1, largest // 2), largest)
    expected = {k: reference_map(qc, dbc, ql, dbl, k)[0] for k in (*ks, largest + 1)}

    def refuse(route):
        def call(*args, **kwargs):
            raise AssertionError(f"mAP@k took the {route} route")

        return call

    with monkeypatch.context() as patch:
        patch.setattr(engine, "_average_precision_all", refuse("full-ranking"))
        for k in ks:
            ap, valid = _per_query_ap(qc, dbc, ql, dbl, k, engine=engine)
            assert ap[valid].mean() == pytest.approx(expected[k], abs=1e-12)
    # One past the crossover, the whole database is ranked instead.
    monkeypatch.setattr(engine, "_average_precision_top_k", refuse("top-k search"))
    ap, valid = _per_query_ap(qc, dbc, ql, dbl, largest + 1, engine=engine)
    assert ap[valid].mean() == pytest.approx(expected[largest + 1], abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(retrieval_problem(), st.integers(1, 45))
def test_precision_at_k_matches_reference(problem, k):
    qc, dbc, ql, dbl, _ = problem
    valid = [i for i in range(len(qc)) if _relevant(ql[i], dbl).any()]
    if not valid:
        return
    expected = []
    for i in valid:
        order, _ = _ranking(qc[i], dbc)
        expected.append(_relevant(ql[i], dbl)[order][:k].sum() / k)
    assert precision_at_k(qc, dbc, ql, dbl, k) == pytest.approx(np.mean(expected), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(retrieval_problem())
def test_precision_recall_curve_matches_reference(problem):
    qc, dbc, ql, dbl, _ = problem
    valid = [i for i in range(len(qc)) if _relevant(ql[i], dbl).any()]
    if not valid:
        return
    n_bits = qc.shape[1]
    precision, recall, radii = precision_recall_curve(qc, dbc, ql, dbl)
    assert radii.tolist() == list(range(n_bits + 1))
    for r in range(n_bits + 1):
        ps, rs = [], []
        for i in valid:
            _, dist = _ranking(qc[i], dbc)
            rel = _relevant(ql[i], dbl)
            inside = dist <= r
            rs.append((rel & inside).sum() / rel.sum())
            if inside.any():
                ps.append((rel & inside).sum() / inside.sum())
        assert recall[r] == pytest.approx(np.mean(rs), abs=1e-12)
        assert precision[r] == pytest.approx(np.mean(ps) if ps else 1.0, abs=1e-12)


def test_ties_are_broken_by_database_index():
    # All database codes equal: the ranking is the database order, so AP depends on where the
    # relevant items sit, not on the sort algorithm.
    q = np.zeros((1, 8), dtype=np.uint8)
    db = np.zeros((4, 8), dtype=np.uint8)
    value = mean_average_precision(q, db, [1], [0, 1, 0, 1])
    assert value == pytest.approx((1 / 2 + 2 / 4) / 2)


def test_top_k_normalises_by_relevant_found_within_k():
    q = np.zeros((1, 4), dtype=np.uint8)
    db = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1]], dtype=np.uint8)
    # Ranking is db order; relevant at ranks 2 and 4.
    assert mean_average_precision(q, db, [1], [0, 1, 0, 1], top_k=2) == pytest.approx(1 / 2)
    # Relevant only beyond k: AP 0, the query still counts.
    assert mean_average_precision(q, db, [1], [0, 0, 0, 1], top_k=2) == 0.0


def test_query_without_relevant_items_is_excluded_and_counted():
    q = np.zeros((3, 4), dtype=np.uint8)
    db = np.zeros((3, 4), dtype=np.uint8)
    value, details = mean_average_precision(q, db, [0, 7, 1], [0, 1, 1], return_details=True)
    assert details.n_excluded == 1
    assert details.valid.tolist() == [True, False, True]
    assert value == pytest.approx((1.0 + (1 / 2 + 2 / 3) / 2) / 2)


def test_unlabelled_indicator_rows_are_relevant_to_nothing():
    q = np.zeros((2, 4), dtype=np.uint8)
    db = np.zeros((3, 4), dtype=np.uint8)
    ql = np.array([[1, 0], [0, 0]])
    dbl = np.array([[0, 0], [1, 1], [1, 0]])
    value, details = mean_average_precision(q, db, ql, dbl, return_details=True)
    assert details.n_excluded == 1
    assert value == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_results_do_not_depend_on_chunking():
    rng = np.random.default_rng(0)
    qc = rng.integers(0, 2, (300, 24), dtype=np.uint8)
    dbc = rng.integers(0, 2, (2000, 24), dtype=np.uint8)
    ql = (rng.random((300, 6)) < 0.3).astype(np.uint8)
    dbl = (rng.random((2000, 6)) < 0.3).astype(np.uint8)
    for top_k in (None, 50):
        full, _ = _per_query_ap(qc, dbc, ql, dbl, top_k, engine=NUMPY)
        with config_context(working_memory=1):  # a few queries per chunk
            chunked, _ = _per_query_ap(qc, dbc, ql, dbl, top_k, engine=NUMPY)
        np.testing.assert_array_equal(chunked, full)


def test_memory_is_bounded_by_working_memory():
    rng = np.random.default_rng(0)
    qc = rng.integers(0, 2, (400, 64), dtype=np.uint8)
    dbc = rng.integers(0, 2, (200_000, 64), dtype=np.uint8)
    ql = rng.integers(0, 24, 400)
    dbl = rng.integers(0, 24, 200_000)

    def both_engines():
        with config_context(working_memory=16):
            _per_query_ap(qc, dbc, ql, dbl, engine=NUMPY)
            if COMPILED is not None:
                _per_query_ap(qc, dbc, ql, dbl, engine=COMPILED)

    peak, _ = peak_traced_bytes(both_engines)
    # Unchunked, 400 x 200,000 pairs would need ~2.2 GB; the bound is the 16 MiB budget plus
    # the packed database and per-query outputs.
    assert peak < 48 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_map_per_class_and_groups_average_the_right_queries():
    q = np.array([[0, 0], [0, 0], [1, 1]], dtype=np.uint8)
    db = np.array([[0, 0], [1, 1], [0, 1]], dtype=np.uint8)
    ql = np.array([0, 1, 1])
    dbl = np.array([0, 1, 1])
    _, details = mean_average_precision(q, db, ql, dbl, return_details=True)
    per_class = map_per_class(q, db, ql, dbl)
    assert per_class.classes.tolist() == [0, 1]
    assert per_class.map[0] == pytest.approx(details.ap[0])
    assert per_class.map[1] == pytest.approx(details.ap[1:].mean())
    assert per_class.n_queries.tolist() == [1, 2]
    train = np.array([0] * 10 + [1] * 2 + [2])
    groups = map_by_frequency_group(q, db, ql, dbl, train)
    assert groups.groups["head"].tolist() == [0]
    assert groups.map["head"] == pytest.approx(details.ap[0])
    assert groups.map["medium"] == pytest.approx(details.ap[1:].mean())
    assert "tail" not in groups.map and groups.n_queries["tail"] == 0


def test_strict_per_class_map_asks_for_the_class_itself():
    # The query carries classes 0 and 1; its nearest item carries only 0, the far one only 1.
    labels = np.array([[1, 1], [1, 0], [0, 1]])
    codes = np.array([[0, 0], [0, 0], [1, 1]], dtype=np.uint8)
    args = codes[:1], codes[1:], labels[:1], labels[1:]
    lenient = map_per_class(*args)
    assert lenient.map.tolist() == [1.0, 1.0]  # both items share a label: AP 1 for each class
    strict = map_per_class(*args, relevance="strict")
    assert strict.classes.tolist() == [0, 1]
    assert strict.map.tolist() == [1.0, 0.5]  # class 1's only item is ranked second
    assert strict.n_queries.tolist() == [1, 1]
    # The strict group score of a group of one class is that class's strict score.
    train = np.array([[1, 0]] * 5 + [[0, 1]])
    tail = map_by_frequency_group(*args, train, groups={"tail": [1]}, relevance="strict")
    assert tail.map["tail"] == strict.map[1]


def test_strict_per_class_map_leaves_out_classes_no_database_item_carries():
    labels = np.array([[1, 1], [1, 0], [1, 0]])  # no database item carries class 1
    codes = np.array([[0, 0], [0, 1], [1, 1]], dtype=np.uint8)
    strict = map_per_class(codes[:1], codes[1:], labels[:1], labels[1:], relevance="strict")
    assert strict.classes.tolist() == [0] and strict.n_queries.tolist() == [1]


@given(seed=st.integers(0, 2**16), top_k=st.sampled_from([None, 1, 3]))
@settings(max_examples=25, deadline=None)
def test_strict_and_lenient_per_class_map_agree_on_single_label_data(seed, top_k):
    rng = np.random.default_rng(seed)
    q, db = rng.integers(0, 2, (12, 8), dtype=np.uint8), rng.integers(0, 2, (30, 8), dtype=np.uint8)
    ql, dbl = rng.integers(0, 4, 12), rng.integers(0, 4, 30)
    lenient = map_per_class(q, db, ql, dbl, top_k=top_k)
    strict = map_per_class(q, db, ql, dbl, top_k=top_k, relevance="strict")
    np.testing.assert_array_equal(strict.classes, lenient.classes)
    np.testing.assert_array_equal(strict.n_queries, lenient.n_queries)
    np.testing.assert_allclose(strict.map, lenient.map, rtol=1e-12)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "qc, dbc, ql, dbl, match",
    [
        (np.zeros((2, 4)), np.zeros((3, 5)), [0, 1], [0, 1, 1], "same number of bits"),
        (np.full((2, 4), 2), np.zeros((3, 4)), [0, 1], [0, 1, 1], "only 0 and 1"),
        (np.zeros(4), np.zeros((3, 4)), [0], [0, 1, 1], "2-D"),
        (np.zeros((2, 4)), np.zeros((3, 4)), [0], [0, 1, 1], "one row per code"),
        (np.zeros((2, 4)), np.zeros((3, 4)), [[1, 0], [0, 1]], [0, 1, 1], "both be class"),
        (np.zeros((2, 4)), np.zeros((3, 4)), [[1, 0], [0, 1]], [[1, 0, 0]] * 3, "label columns"),
        (np.zeros((2, 4)), np.zeros((3, 4)), [0.0, np.nan], [0, 1, 1], "NaN"),
        (np.zeros((2, 4)), np.zeros((3, 4)), [0, 1], np.zeros((3, 2, 2)), "3 dimensions"),
        (np.zeros((0, 4)), np.zeros((3, 4)), [], [0, 1, 1], "empty"),
        (np.zeros((1, 4)), np.zeros((0, 4)), [0], [], "empty"),
        (np.full((1, 4), np.nan), np.zeros((1, 4)), [0], [0], "NaN"),
    ],
)
def test_bad_input_gives_clear_errors(qc, dbc, ql, dbl, match):
    with pytest.raises(ValueError, match=match):
        mean_average_precision(qc, dbc, ql, dbl)


@pytest.mark.parametrize("top_k", [0, -3, 2.5, True])
def test_bad_top_k(top_k):
    with pytest.raises(ValueError, match="top_k"):
        mean_average_precision(np.zeros((1, 2)), np.zeros((2, 2)), [0], [0, 0], top_k=top_k)


def test_bad_k_and_direction():
    with pytest.raises(InvalidParameterError, match="'k' parameter of precision_at_k"):
        precision_at_k(np.zeros((1, 2)), np.zeros((2, 2)), [0], [0, 0], k=0)
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k(np.zeros((1, 2)), np.zeros((2, 2)), [0], [0, 0], k=[2, 0])
    with pytest.raises(InvalidParameterError, match="'direction' parameter"):
        make_cross_modal_scorer(direction="sideways")


CODES = np.zeros((2, 2)), np.zeros((3, 2)), [0, 1], [0, 1, 1]


@pytest.mark.parametrize(
    "call, parameter",
    [
        (lambda: mean_average_precision(*CODES, top_k="5"), "top_k"),
        (lambda: mean_average_precision(*CODES, return_details="yes"), "return_details"),
        (lambda: map_per_class(*CODES, top_k=-1), "top_k"),
        (lambda: map_per_class(*CODES, relevance="exact"), "relevance"),
        (lambda: map_by_frequency_group(*CODES, [0, 1], groups=[1]), "groups"),
        (lambda: map_by_frequency_group(*CODES, [0, 1], top_k=0), "top_k"),
        (lambda: precision_at_k(*CODES, k="3"), "k"),
        (lambda: precision_recall_curve(None, *CODES[1:]), "query_codes"),
        (lambda: make_cross_modal_scorer(top_k=0), "top_k"),
        (lambda: cross_modal_map(None, np.zeros((2, 2)), [0, 1], top_k=0), "top_k"),
    ],
)
def test_public_metrics_validate_their_parameters(call, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter"):
        call()


def test_metrics_do_not_import_the_dataset_loaders():
    import subprocess
    import sys

    code = "import sys, skmetacmh.metrics; print('skmetacmh.datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_precision_at_small_k_by_top_k_search_matches_reference(engine, monkeypatch):
    if engine == "compiled" and COMPILED is None:
        pytest.skip("compiled kernels not built")
    monkeypatch.setattr(_search, "_COMPILED", COMPILED if engine == "compiled" else None)
    rng = np.random.default_rng(4)
    pool = rng.integers(0, 2, (30, 20), dtype=np.uint8)  # heavy ties
    qc, dbc = pool[rng.integers(0, 30, 25)], pool[rng.integers(0, 30, 3000)]
    ql, dbl = (rng.random((25, 5)) < 0.3).astype(np.uint8), (rng.random((3000, 5)) < 0.3)
    ks = [1, 7, 3000 // _search._engine.TOP_K_SEARCH_RATIO]
    valid = [i for i in range(len(qc)) if _relevant(ql[i], dbl).any()]
    expected = []
    for k in ks:
        per_query = []
        for i in valid:
            order, _ = _ranking(qc[i], dbc)
            per_query.append(_relevant(ql[i], dbl)[order][:k].sum() / k)
        expected.append(np.mean(per_query))
    np.testing.assert_allclose(precision_at_k(qc, dbc, ql, dbl, ks), expected, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- strict tail
def reference_strict_groups(qc, dbc, ql, dbl, groups, top_k=None):
    """Per group: every (query, class of the group it carries), relevant = carries that class."""
    multilabel = np.ndim(ql) == 2
    aps = {name: [] for name in groups}
    for i in range(len(qc)):
        carried = np.flatnonzero(ql[i]) if multilabel else [ql[i]]
        for c in carried:
            carries = dbl[:, c] == 1 if multilabel else dbl == c
            order, _ = _ranking(qc[i], dbc)
            rel = carries[order]
            if not rel.any():
                continue
            if top_k is not None:
                rel = rel[:top_k]
            precisions = [rel[: r + 1].mean() for r in range(len(rel)) if rel[r]]
            ap = float(np.mean(precisions)) if precisions else 0.0
            for name, members in groups.items():
                if c in list(members):
                    aps[name].append(ap)
    return {n: float(np.mean(v)) for n, v in aps.items() if v}, {n: len(v) for n, v in aps.items()}


def _groups_for(ql, dbl, rng):
    """A random grouping of the classes that occur (some in none, some in two groups)."""
    classes = np.arange(ql.shape[1]) if np.ndim(ql) == 2 else np.unique(np.r_[ql, dbl])
    picks = rng.integers(0, 3, size=len(classes))
    groups = {name: classes[picks == g].tolist() for g, name in enumerate(("head", "tail"))}
    groups["both"] = classes[: max(1, len(classes) // 2)].tolist()
    return groups


@settings(max_examples=200, deadline=None)
@given(retrieval_problem(), st.integers(0, 2**32 - 1))
def test_strict_groups_match_per_query_reference(problem, seed):
    qc, dbc, ql, dbl, top_k = problem
    groups = _groups_for(ql, dbl, np.random.default_rng(seed))
    expected, counts = reference_strict_groups(qc, dbc, ql, dbl, groups, top_k)
    public = map_by_frequency_group(
        qc, dbc, ql, dbl, ql, groups=groups, top_k=top_k, relevance="strict"
    )
    results = [(public.map, public.n_queries)]
    for engine in (NUMPY, COMPILED) if COMPILED is not None else (NUMPY,):
        problem = _Problem(qc, dbc, ql, dbl)
        results.append(_strict_groups(problem, ql, dbl, groups, top_k, engine))
    for values, n_queries in results:
        assert n_queries == counts
        assert values.keys() == expected.keys()
        for name, value in expected.items():
            assert values[name] == pytest.approx(value, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(retrieval_problem())
def test_strict_and_lenient_agree_on_single_label_data(problem):
    qc, dbc, ql, dbl, top_k = problem
    if np.ndim(ql) == 2:
        ql, dbl = ql.argmax(axis=1), dbl.argmax(axis=1)  # one class per item
    train = np.r_[dbl, dbl[: len(dbl) // 2], ql]
    lenient = map_by_frequency_group(qc, dbc, ql, dbl, train, top_k=top_k)
    strict = map_by_frequency_group(qc, dbc, ql, dbl, train, top_k=top_k, relevance="strict")
    assert strict.n_queries == lenient.n_queries
    assert strict.groups.keys() == lenient.groups.keys()
    assert strict.map.keys() == lenient.map.keys()
    for name, value in lenient.map.items():
        assert strict.map[name] == pytest.approx(value, rel=1e-12)


def test_strict_tail_asks_for_the_rare_label_itself():
    # Query 0 carries the frequent label 0 and the rare label 1. Its nearest items carry only
    # label 0: leniently they are hits, strictly (for the tail) they are misses.
    qc = np.array([[0, 0, 0, 0]], dtype=np.uint8)
    dbc = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 1]], dtype=np.uint8)
    ql = np.array([[1, 1]])
    dbl = np.array([[1, 0], [1, 0], [0, 1]])
    groups = {"head": [0], "tail": [1]}
    lenient = map_by_frequency_group(qc, dbc, ql, dbl, dbl, groups=groups)
    strict = map_by_frequency_group(qc, dbc, ql, dbl, dbl, groups=groups, relevance="strict")
    assert lenient.map == {"head": 1.0, "tail": 1.0}
    assert strict.map["tail"] == pytest.approx(1 / 3)  # the one item with label 1 is at rank 3
    assert strict.map["head"] == 1.0
    assert strict.n_queries == {"head": 1, "tail": 1}


def test_strict_counts_a_query_once_per_class_of_the_group():
    qc = np.array([[0, 0], [1, 1]], dtype=np.uint8)
    dbc = np.array([[0, 0], [1, 1]], dtype=np.uint8)
    ql = np.array([[1, 1, 0], [0, 0, 1]])
    dbl = np.array([[1, 0, 0], [0, 1, 1]])
    groups = {"tail": [0, 1], "head": [2]}
    strict = map_by_frequency_group(qc, dbc, ql, dbl, dbl, groups=groups, relevance="strict")
    # Query 0 for class 0 finds it at rank 1 (AP 1), for class 1 at rank 2 (AP 1/2).
    assert strict.n_queries == {"tail": 2, "head": 1}
    assert strict.map["tail"] == pytest.approx(0.75)
    lenient = map_by_frequency_group(qc, dbc, ql, dbl, dbl, groups=groups)
    assert lenient.n_queries == {"tail": 1, "head": 1}


def test_strict_leaves_out_classes_the_database_lacks():
    qc, dbc = np.zeros((2, 2), dtype=np.uint8), np.zeros((2, 2), dtype=np.uint8)
    ql = np.array([[1, 0, 1], [1, 0, 0]])
    dbl = np.array([[1, 0, 0], [1, 1, 0]])
    groups = {"tail": [2], "head": [0]}
    strict = map_by_frequency_group(qc, dbc, ql, dbl, dbl, groups=groups, relevance="strict")
    assert "tail" not in strict.map and strict.n_queries["tail"] == 0
    assert strict.map["head"] == 1.0 and strict.n_queries["head"] == 2


@pytest.mark.parametrize("relevance", ["Strict", "exact", None, 1])
def test_strict_relevance_is_validated(relevance):
    with pytest.raises(InvalidParameterError, match="'relevance' parameter"):
        map_by_frequency_group(*CODES, [0, 1], relevance=relevance)
