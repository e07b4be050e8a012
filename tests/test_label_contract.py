"""One label contract: every consumer of y reads each form of y the same way (skmetacmh._labels).

The same labels are given as 1-D ints, an (n, 1) column, strings, objects, floats, a list, bools,
a one-hot or multi-label indicator (ints, bools, floats, sparse) to ``fit``, every metric,
``frequency_groups``, ``make_long_tailed`` and ``split_query_database``; each must give the
same answer for every form, and the malformed forms the same clear error everywhere.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from skmetacmh.datasets import frequency_groups, make_long_tailed, split_query_database
from skmetacmh.metrics import (
    cross_modal_map,
    map_by_frequency_group,
    map_per_class,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
)

from ._toy import ToyHasher

N, N_QUERY, N_BITS = 240, 60, 12


def _class_labels(seed=0):
    rng = np.random.default_rng(seed)
    return rng.permutation(np.repeat(np.arange(4), [108, 72, 41, 19]))  # long-tailed, N items


def _multilabel(seed=0):
    rng = np.random.default_rng(seed)
    Y = (rng.random((N, 4)) < [0.5, 0.3, 0.2, 0.1]).astype(np.uint8)
    Y[np.arange(N), rng.integers(0, 4, N)] = 1  # every item has a label
    return Y


y1 = _class_labels()
letters = np.array(["ant", "bee", "cat", "dog"])  # same order as 0..3
CLASS_FORMS = {
    "1-D ints": y1,
    "(n, 1) column": y1[:, None],
    "strings": letters[y1],
    "objects": letters[y1].astype(object),
    "floats": y1.astype(float),
    "list": y1.tolist(),
    "sparse column": sp.csr_matrix(y1[:, None]),
}
Y_multi = _multilabel()
INDICATOR_FORMS = {
    "uint8 indicator": Y_multi,
    "bool indicator": Y_multi.astype(bool),
    "float indicator": Y_multi.astype(float),
    "list of lists": Y_multi.tolist(),
    "sparse indicator": sp.csr_matrix(Y_multi),
}
y_binary = y1 % 2
BINARY_FORMS = {
    "0/1 ints": y_binary,
    "bools": y_binary.astype(bool),
    "(n, 1) bools": y_binary[:, None] > 0,
}
# A one-hot indicator says what the classes say: relevance must not change.
ONE_HOT_FORMS = {"1-D ints": y1, "one-hot indicator": np.eye(4, dtype=np.uint8)[y1]}

FAMILIES = {
    "classes": CLASS_FORMS,
    "indicator": INDICATOR_FORMS,
    "binary": BINARY_FORMS,
    "one-hot": ONE_HOT_FORMS,
}


def _rows(y, rows):
    if sp.issparse(y):
        return y[rows]
    if isinstance(y, list):
        return [y[i] for i in np.arange(len(y))[rows]]
    return y[rows]


def _X(seed=0):
    rng = np.random.default_rng(seed)
    signal = np.eye(4)[y1] + Y_multi
    return np.c_[signal @ rng.standard_normal((4, 6)), signal @ rng.standard_normal((4, 5))] + (
        0.5 * rng.standard_normal((N, 11))
    )


def _codes(seed=1):
    rng = np.random.default_rng(seed)
    signal = np.eye(4)[y1] + Y_multi
    return (
        (signal @ rng.standard_normal((4, N_BITS)) + rng.standard_normal((N, N_BITS))) > 0
    ).astype(np.uint8)


def _metrics(y):
    codes = _codes()
    q, d = slice(0, N_QUERY), slice(N_QUERY, N)
    args = (codes[q], codes[d], _rows(y, q), _rows(y, d))
    per_class = map_per_class(*args)
    grouped = map_by_frequency_group(*args, _rows(y, d))
    return {
        "map": mean_average_precision(*args),
        "map@10": mean_average_precision(*args, top_k=10),
        "p@k": precision_at_k(*args, k=[1, 10, 50]).tolist(),
        "pr": [a.tolist() for a in precision_recall_curve(*args)],
        "per_class": (per_class.map.tolist(), per_class.n_queries.tolist()),
        "groups": (grouped.map, grouped.n_queries),
    }


def _fit(y):
    X = _X()
    h = ToyHasher(N_BITS, 6, random_state=0).fit(X[N_QUERY:], _rows(y, slice(N_QUERY, N)))
    return {
        "codes": h.database_codes_.tolist(),
        "labels": h.database_labels_.tolist(),
        "score": h.score(X[:N_QUERY], _rows(y, slice(0, N_QUERY))),
        "map@10": cross_modal_map(h, X[:N_QUERY], _rows(y, slice(0, N_QUERY)), top_k=10),
    }


def _item_groups(y):
    """The group of each item's (first) class: comparable across forms whatever the values."""
    groups = frequency_groups(y)
    labels = np.asarray(y.toarray() if sp.issparse(y) else y, dtype=object)
    labels = labels[:, 0] if labels.ndim == 2 and labels.shape[1] == 1 else labels
    if labels.ndim == 2:  # an indicator: the group of each label column
        return {g: sorted(map(int, c)) for g, c in groups.items()}
    return [next(g for g, c in groups.items() if v in set(c.tolist())) for v in labels]


def _long_tailed(y):
    subset = make_long_tailed(y, 3, random_state=0)
    return subset.indices.tolist(), subset.class_counts.tolist(), subset.imbalance_factor


def _split(y):
    split = split_query_database(y, 5, train_imbalance_factor=2, random_state=0)
    return split.query.tolist(), split.database.tolist(), split.train.tolist()


CONSUMERS = {
    "metrics": _metrics,
    "fit/score": _fit,
    "frequency_groups": _item_groups,
    "make_long_tailed": _long_tailed,
    "split_query_database": _split,
}


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_form_of_the_same_labels_means_the_same(family, consumer):
    if family == "one-hot" and consumer in (
        "frequency_groups",
        "make_long_tailed",
        "split_query_database",
    ):
        pytest.skip("these report per label column: class values and columns differ by design")
    run = CONSUMERS[consumer]
    forms = FAMILIES[family]
    reference_name = next(iter(forms))
    reference = run(forms[reference_name])
    for name, y in forms.items():
        assert run(y) == reference, f"{consumer} reads {name!r} unlike {reference_name!r}"


def test_column_of_classes_is_classes_everywhere():
    # The (n, 1) rule: an indicator needs two columns, so a column holds class labels.
    X = _X()
    h = ToyHasher(N_BITS, 6, random_state=0).fit(X, y1[:, None])
    assert h.multilabel_ is False and h.classes_.tolist() == [0, 1, 2, 3]
    assert sorted(np.concatenate(list(frequency_groups(y1[:, None]).values())).tolist()) == [
        0,
        1,
        2,
        3,
    ]


def _spoilt(y, value):
    """``y`` with ``value`` in its first and last row: in the queries and in the database."""
    y = y.copy()
    y[0] = y[-1] = value
    return y


BAD_FORMS = {
    "NaN label": (_spoilt(y1.astype(float), np.nan), "NaN or infinity"),
    "infinite label": (_spoilt(y1.astype(float), np.inf), "NaN or infinity"),
    "NaN in an object array": (_spoilt(letters[y1].astype(object), np.nan), "NaN or infinity"),
    "3-D": (np.zeros((N, 2, 2)), "3 dimensions"),
    "strings in 2-D": (np.full((N, 2), "x"), "indicator"),
    "2 in an indicator": (np.c_[Y_multi[:, :3], np.full(N, 2)], "indicator"),
    # sklearn's type_of_target: floats with a fractional part are "continuous", not classes.
    "one continuous value": (_spoilt(y1.astype(float), 0.5), "continuous"),
    "a regression target": (np.random.default_rng(0).standard_normal(N), "continuous"),
    "continuous (n, 1) column": (np.linspace(0, 1, N)[:, None], "continuous"),
    "complex classes": (y1.astype(complex), "complex"),
    "complex indicator": (Y_multi.astype(complex), "complex"),
}


def _all_consumers(y):
    codes = _codes()
    q, d = slice(0, N_QUERY), slice(N_QUERY, N)
    yq, yd = _rows(y, q), _rows(y, d)
    args = (codes[q], codes[d], yq, yd)
    # query labels bad and database labels good (and the reverse) must both be refused
    yield "fit", lambda: ToyHasher(N_BITS, 6).fit(_X(), y)
    yield "mean_average_precision", lambda: mean_average_precision(*args)
    yield "mAP (bad db labels)", lambda: mean_average_precision(codes[q], codes[d], y1[q], yd)
    yield "mAP@k", lambda: mean_average_precision(*args, top_k=5)
    yield "precision_at_k", lambda: precision_at_k(*args, k=5)
    yield "precision_recall_curve", lambda: precision_recall_curve(*args)
    yield "map_per_class", lambda: map_per_class(*args)
    yield (
        "map_by_frequency_group",
        lambda: map_by_frequency_group(codes[q], codes[d], y1[q], y1[d], y),
    )
    yield "frequency_groups", lambda: frequency_groups(y)
    yield "make_long_tailed", lambda: make_long_tailed(y, 3, random_state=0)
    yield "split_query_database", lambda: split_query_database(y, 5, random_state=0)


@pytest.mark.parametrize("form", BAD_FORMS)
def test_bad_labels_give_the_same_clear_error_everywhere(form):
    y, match = BAD_FORMS[form]
    for name, call in _all_consumers(y):
        with pytest.raises(ValueError, match=match):
            call()
            pytest.fail(f"{name} accepted {form}")


def test_scoring_checks_labels_against_the_fit():
    X = _X()
    h = ToyHasher(N_BITS, 6, random_state=0).fit(X[N_QUERY:], Y_multi[N_QUERY:])
    with pytest.raises(ValueError, match="4 columns"):
        h.score(X[:N_QUERY], Y_multi[:N_QUERY, :3])
    with pytest.raises(ValueError, match="indicator matrix, as in fit"):
        h.score(X[:N_QUERY], y1[:N_QUERY])
    with pytest.raises(ValueError, match="NaN"):
        h.score(X[:N_QUERY], np.full((N_QUERY, 4), np.nan))
    h = ToyHasher(N_BITS, 6, random_state=0).fit(X[N_QUERY:], y1[N_QUERY:])
    with pytest.raises(ValueError, match="1-D class labels, as in fit"):
        h.score(X[:N_QUERY], Y_multi[:N_QUERY])


def test_integer_valued_floats_stay_class_labels():
    # 1.0, 2.0 ... are classes (type_of_target: "multiclass"); only fractions are continuous.
    h = ToyHasher(N_BITS, 6, random_state=0).fit(_X()[N_QUERY:], y1[N_QUERY:] + 10.0)
    assert h.classes_.tolist() == [10.0, 11.0, 12.0, 13.0]
    with pytest.raises(ValueError, match=r"y holds continuous values \(for instance 10.5\)"):
        h.score(_X()[:N_QUERY], _spoilt(y1[:N_QUERY] + 10.0, 10.5))


def _numpy_engine():
    from skmetacmh._search import resolve_engine

    return resolve_engine("numpy", N_BITS)


@pytest.mark.parametrize("engine", ["default", "numpy"])
@pytest.mark.parametrize("multilabel", [False, True], ids=["classes", "indicator"])
def test_scoring_refuses_labels_that_are_not_one_per_row(engine, multilabel, monkeypatch):
    # The numpy engine used to score a longer y against its first rows (a silently wrong mAP)
    # and the compiled one failed on buffer sizes: both must give the same ValueError, naming
    # both lengths, before anything is encoded.
    import skmetacmh.metrics._scorer as scorer_module
    from skmetacmh.metrics import make_cross_modal_scorer

    if engine == "numpy":
        monkeypatch.setattr(scorer_module, "default_engine", _numpy_engine)
    X, y = _X(), (Y_multi if multilabel else y1)
    h = ToyHasher(N_BITS, 6, random_state=0).fit(X[N_QUERY:], y[N_QUERY:])
    Xq = X[:10]
    scorer = make_cross_modal_scorer()
    for n_labels in (9, 11, N):
        yq = y[:n_labels]
        both = f"X has 10 rows but y has {n_labels}"
        with pytest.raises(ValueError, match=f"y must have one entry per row of X: {both}"):
            h.score(Xq, yq)
        with pytest.raises(ValueError, match=both):
            scorer(h, Xq, yq)
        with pytest.raises(ValueError, match=f"X_query has 10 rows but y_query has {n_labels}"):
            cross_modal_map(h, Xq, yq)
    for n_db_labels in (99, 101):
        with pytest.raises(ValueError, match=f"X_db has 100 rows but y_db has {n_db_labels}"):
            cross_modal_map(h, Xq, y[:10], X_db=X[20:120], y_db=y[20 : 20 + n_db_labels])
    with pytest.raises(ValueError, match="X is empty"):
        h.score(X[:0], y[:0])
    # The right lengths still score, and the same on both engines.
    assert h.score(Xq, y[:10]) == cross_modal_map(h, Xq, y[:10])["mean"]
