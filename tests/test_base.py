"""The shared data contract of every hasher, checked on a minimal hasher (tests/_toy.py)."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from skmetacmh import join_modalities
from skmetacmh._search import PackedDatabase
from skmetacmh.metrics import cross_modal_map, make_cross_modal_scorer

from ._helpers import cross_modal_queries, make_two_view_data
from ._toy import ToyHasher


def _data(n=120, n_classes=4, d_img=6, d_txt=5, seed=0, multilabel=False):
    rng = np.random.default_rng(seed)
    if multilabel:
        y = (rng.random((n, n_classes)) < 0.4).astype(int)
        signal = y.astype(float)
    else:
        y = rng.integers(0, n_classes, n)
        signal = np.eye(n_classes)[y]
    return make_two_view_data(signal, d_img, d_txt, noise=0.3, rng=rng), y, d_img


def test_fit_stores_database_and_contract_attributes():
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X, y)
    assert h.n_features_in_ == X.shape[1]
    assert h.n_text_features_ == X.shape[1] - n_img
    assert h.database_codes_.shape == (len(X), 16) and h.database_codes_.dtype == np.uint8
    assert set(np.unique(h.database_codes_)) <= {0, 1}
    np.testing.assert_array_equal(h.database_codes_, h.transform(X))
    assert h.database_labels_.shape == (len(X), 4)
    assert h.classes_.tolist() == [0, 1, 2, 3]
    assert h.multilabel_ is False and h.n_unlabeled_ == 0


def test_transform_is_image_bits_then_text_bits():
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X, y)
    codes = h.transform(X[:10])
    np.testing.assert_array_equal(codes[:, :8], h.encode(X[:10, :n_img], modality="image"))
    np.testing.assert_array_equal(codes[:, 8:], h.encode(X[:10, n_img:], modality="text"))
    assert h.get_feature_names_out()[[0, 8]].tolist() == ["image_bit0", "text_bit0"]


def test_score_is_mean_of_both_directions_and_matches_scorer():
    X, y, n_img = _data(n=200)
    h = ToyHasher(16, n_img, random_state=0).fit(X[:150], y[:150])
    both = cross_modal_map(h, X[150:], y[150:])
    assert both["mean"] == pytest.approx((both["image_to_text"] + both["text_to_image"]) / 2)
    assert h.score(X[150:], y[150:]) == both["mean"]
    assert make_cross_modal_scorer()(h, X[150:], y[150:]) == both["mean"]
    i2t = make_cross_modal_scorer("image_to_text")(h, X[150:], y[150:])
    assert i2t == both["image_to_text"]
    assert both["mean"] > 0.5  # well above the 0.25 of random codes on 4 balanced classes


def test_explicit_database_in_cross_modal_map():
    X, y, n_img = _data(n=200)
    h = ToyHasher(16, n_img, random_state=0).fit(X[:100], y[:100])
    own = cross_modal_map(h, X[150:], y[150:], X[100:150], y[100:150])
    assert 0 < own["mean"] <= 1
    with pytest.raises(ValueError, match="y_db"):
        cross_modal_map(h, X[150:], y[150:], X_db=X[100:150])


def test_multilabel_and_unlabelled_items():
    X, y, n_img = _data(multilabel=True)
    y[:5] = 0  # five items without any label
    h = ToyHasher(8, n_img, random_state=0).fit(X[:100], y[:100])
    assert h.multilabel_ and h.n_unlabeled_ == int((y[:100].sum(axis=1) == 0).sum()) >= 5
    # Unlabelled queries are excluded: the score is that of the labelled queries alone.
    y_query = y[100:].copy()
    y_query[:4] = 0
    labelled = y_query.any(axis=1)
    assert h.score(X[100:], y_query) == h.score(X[100:][labelled], y_query[labelled])


def test_unseen_class_at_score_time_is_excluded_not_nan():
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X[:100], y[:100])
    y_query = y[100:].copy()
    y_query[:3] = 99  # a class training never saw: relevant to nothing
    value = h.score(X[100:], y_query)
    assert value == h.score(X[103:], y[103:])  # excluded, not counted as AP 0
    with pytest.raises(ValueError, match="undefined"):
        h.score(X[100:103], y_query[:3])


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).set_output(transform="pandas").fit(X, y)
    out = h.transform(X[:3])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["image_bit0", "image_bit1"]
    assert h.score(X[:20], y[:20]) > 0  # scoring still works with a pandas transform


def test_sparse_text_block_is_accepted():
    X, y, n_img = _data()
    Xs, n = join_modalities(X[:, :n_img], sp.csr_matrix(X[:, n_img:]))
    assert sp.issparse(Xs) and n == n_img
    dense = ToyHasher(8, n_img, random_state=0).fit(X, y).transform(X)
    sparse = ToyHasher(8, n_img, random_state=0).fit(Xs, y).transform(Xs)
    np.testing.assert_array_equal(dense, sparse)


def test_pickle_round_trip_gives_identical_codes():
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X, y)
    h2 = pickle.loads(pickle.dumps(h))
    np.testing.assert_array_equal(h.transform(X), h2.transform(X))


class _PickledBeforeKneighbors:
    """Unpickles as a hasher written by a version without the packed database, or (``tuple``)
    by one that packed it as a tuple."""

    def __init__(self, hasher, tuple_database=False):
        self.state = {
            k: v
            for k, v in hasher.__getstate__().items()
            if k not in ("_packed_database", "_database_search")
        }
        if tuple_database:
            db = hasher._packed_database
            self.state["_packed_database"] = (db.image.words, db.text.words, db.labels.values, 1)
            self.state["_database_search"] = hasher._database_search
        self.cls = type(hasher)

    def __reduce__(self):
        return (object.__new__, (self.cls,), self.state)


@pytest.mark.parametrize("tuple_database", [False, True])
def test_a_hasher_pickled_by_an_earlier_version_searches_and_scores_as_a_fresh_one(
    tuple_database,
):
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X, y)
    old = pickle.loads(pickle.dumps(_PickledBeforeKneighbors(h, tuple_database)))
    assert type(old) is ToyHasher and "_database_search" in vars(old)
    assert isinstance(old._packed_database, PackedDatabase)
    for modality, Q in (("image", X[:7, :n_img]), ("text", X[:7, n_img:])):
        for got, want in zip(
            old.kneighbors(Q, modality=modality, n_neighbors=5),
            h.kneighbors(Q, modality=modality, n_neighbors=5),
        ):
            np.testing.assert_array_equal(got, want)
    assert old.score(X, y) == h.score(X, y)
    # A hasher whose n_bits was changed after fit still packs the codes it was fitted with.
    h.set_params(n_bits=4)
    old = pickle.loads(pickle.dumps(_PickledBeforeKneighbors(h, tuple_database)))
    assert old._database_search["text"].n_bits == 8


# ------------------------------------------------------------------------ error paths
@pytest.mark.parametrize(
    "n_image_features, match",
    [
        (None, "n_image_features must be set"),
        (0, "n_image_features"),
        (-2, "n_image_features"),
        (11, "0 < n_image_features < n_features"),
        (50, "0 < n_image_features < n_features"),
        (2.5, "n_image_features"),
    ],
)
def test_bad_n_image_features(n_image_features, match):
    X, y, _ = _data()
    with pytest.raises((ValueError, TypeError), match=match):
        ToyHasher(8, n_image_features).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features(bad):
    X, y, n_img = _data()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        ToyHasher(8, n_img).fit(X, y)
    h = ToyHasher(8, n_img).fit(np.nan_to_num(X, posinf=0, neginf=0), y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        h.transform(X)
    with pytest.raises(ValueError, match="NaN|infinity"):
        h.encode(X[:, :n_img], modality="image")


@pytest.mark.parametrize(
    "y_bad, match",
    [
        (np.zeros(119), "X has 120 rows but y has 119"),
        (np.zeros((120, 2, 2)), "1-D class labels or a 2-D"),
        (np.full((120, 3), 2), r"\{0,1\} label indicator"),
        (np.zeros(120), "at least 2 classes"),
        (np.c_[np.ones(120), np.zeros(120)], "at least 2 different labels"),
        (np.r_[np.nan, np.zeros(119)], "NaN"),
        (None, "requires y to be passed"),
    ],
)
def test_bad_labels(y_bad, match):
    X, _, n_img = _data()
    with pytest.raises(ValueError, match=match):
        ToyHasher(8, n_img).fit(X, y_bad)


def test_too_few_samples_and_empty_input():
    X, y, n_img = _data()
    with pytest.raises(ValueError, match="sample"):
        ToyHasher(8, n_img).fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="sample"):
        ToyHasher(8, n_img).fit(X[:0], y[:0])


def test_string_features_rejected_string_labels_accepted():
    X, y, n_img = _data()
    X_str = X.astype(object)
    X_str[0, 0] = "red"
    with pytest.raises(ValueError, match="red|string|convert"):
        ToyHasher(8, n_img).fit(X_str, y)
    names = np.array(["cat", "dog", "owl", "fox"])[y]
    h = ToyHasher(8, n_img, random_state=0).fit(X[:100], names[:100])
    assert h.classes_.tolist() == ["cat", "dog", "fox", "owl"]
    assert 0 < h.score(X[100:], names[100:]) <= 1


@pytest.mark.parametrize("n_bits", [0, -1, 10**6])
def test_bad_n_bits(n_bits):
    X, y, n_img = _data()
    with pytest.raises(ValueError, match="n_bits"):
        ToyHasher(n_bits, n_img).fit(X, y)


def test_encode_errors():
    X, y, n_img = _data()
    h = ToyHasher(8, n_img).fit(X, y)
    with pytest.raises(ValueError, match="modality must be one of"):
        h.encode(X[:, :n_img], modality="audio")
    with pytest.raises(ValueError, match="expects the 6 image columns"):
        h.encode(X[:, n_img:], modality="image")
    with pytest.raises(ValueError, match="expects the 5 text columns"):
        h.encode(X, modality="text")
    with pytest.raises(ValueError, match="features"):
        h.transform(X[:, :-1])


def test_use_before_fit():
    X, y, n_img = _data()
    h = ToyHasher(8, n_img)
    for call in (
        lambda: h.transform(X),
        lambda: h.encode(X[:, :n_img], modality="image"),
        lambda: h.score(X, y),
        lambda: h.get_feature_names_out(),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_score_label_form_must_match_fit():
    X, y, n_img = _data(multilabel=True)
    h = ToyHasher(8, n_img).fit(X, y)
    with pytest.raises(ValueError, match="4 columns"):
        h.score(X[:10], y[:10, :3])


def test_join_modalities_errors():
    with pytest.raises(ValueError, match="same number of rows"):
        join_modalities(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="2-D"):
        join_modalities(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="at least one feature"):
        join_modalities(np.ones((3, 0)), np.ones((3, 2)))


def test_a_hasher_without_fit_or_project_cannot_be_built():
    from skmetacmh import BaseCrossModalHasher

    class NoProject(BaseCrossModalHasher):
        def __init__(self, n_bits=8, n_image_features=None):
            self.n_bits = n_bits
            self.n_image_features = n_image_features

        def _fit(self, X_image, X_text, Y):
            pass

    with pytest.raises(TypeError, match="abstract"):
        NoProject()
    with pytest.raises(TypeError, match="abstract"):
        BaseCrossModalHasher()


def test_fit_transform_returns_the_database_codes():
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0)
    codes = h.fit_transform(X, y)
    np.testing.assert_array_equal(codes, h.database_codes_)
    codes[:] = 0  # a copy: the database is untouched
    assert h.database_codes_.any()
    with pytest.raises(TypeError):
        h.fit_transform(X, y, sample_weight=np.ones(len(X)))  # no fit parameters to pass on


def test_get_feature_names_out_checks_input_features():
    X, y, n_img = _data()
    h = ToyHasher(4, n_img, random_state=0).fit(X, y)
    names = [f"x{i}" for i in range(X.shape[1])]
    assert h.get_feature_names_out(names).tolist() == h.get_feature_names_out().tolist()
    with pytest.raises(ValueError, match="input_features"):
        h.get_feature_names_out(names[:-1])
    import pandas as pd

    h = ToyHasher(4, n_img, random_state=0).fit(pd.DataFrame(X, columns=names), y)
    with pytest.raises(ValueError, match="input_features"):
        h.get_feature_names_out([f"other{i}" for i in range(X.shape[1])])


def test_score_searches_the_database_packed_in_fit(monkeypatch):
    # The fitted database is packed once in fit; score packs only the queries (and their labels).
    from skmetacmh._search import _packing

    X, y, n_img = _data(n=200)
    h = ToyHasher(8, n_img, random_state=0).fit(X[:150], y[:150])
    expected = h.score(X[150:], y[150:])
    rows_packed = []
    original = _packing.pack_codes

    def counting(codes):
        rows_packed.append(len(codes))
        return original(codes)

    monkeypatch.setattr(_packing, "pack_codes", counting)
    assert h.score(X[150:], y[150:]) == expected
    assert rows_packed and set(rows_packed) == {50}
    # An explicit database is encoded and packed, once per call.
    rows_packed.clear()
    cross_modal_map(h, X[150:], y[150:], X[:150], y[:150])
    assert sorted(set(rows_packed)) == [50, 150]


@pytest.mark.parametrize("search", ["grid", "randomized", "pipeline_in_grid"])
def test_cross_modal_map_sees_through_a_fitted_search(search):
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, n_img = _data(n=200)
    estimator, grid = ToyHasher(8, n_img, random_state=0), {"n_bits": [4, 8]}
    if search == "pipeline_in_grid":
        estimator, grid = make_pipeline(StandardScaler(), estimator), {"toyhasher__n_bits": [4, 8]}
    cls = RandomizedSearchCV if search == "randomized" else GridSearchCV
    kwargs = {"n_iter": 2, "random_state": 0} if search == "randomized" else {}
    fitted = cls(estimator, grid, cv=3, **kwargs).fit(X[:150], y[:150])
    result = cross_modal_map(fitted, X[150:], y[150:])
    assert result == cross_modal_map(fitted.best_estimator_, X[150:], y[150:])
    assert result["mean"] == fitted.score(X[150:], y[150:])
    unfitted = GridSearchCV(ToyHasher(8, n_img), {"n_bits": [4, 8]}, cv=3, refit=False)
    with pytest.raises(ValueError, match="refit=False"):
        cross_modal_map(unfitted.fit(X[:150], y[:150]), X[150:], y[150:])


def test_split_codes_is_the_inverse_of_transforms_layout():
    from skmetacmh._modalities import split_codes

    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X, y)
    image, text = split_codes(h.transform(X[:5]), h.n_bits)
    np.testing.assert_array_equal(image, h.encode(X[:5, :n_img], modality="image"))
    np.testing.assert_array_equal(text, h.encode(X[:5, n_img:], modality="text"))
    with pytest.raises(ValueError, match=r"\(n_samples, 2 \* n_bits\) = \(n, 16\)"):
        split_codes(np.zeros((5, 15), dtype=np.uint8), 8)


# ------------------------------------------------------------------------ turn 3 contract
def test_n_bits_error_says_what_the_limit_is():
    # It read "must be an int in the range [1, 4096], not a bool. Got 5000 instead.", as if
    # 5000 had been taken for a bool.
    from sklearn.utils._param_validation import InvalidParameterError

    X, y, n_img = _data()
    for n_bits in (0, 5000, True):
        with pytest.raises(InvalidParameterError) as caught:
            ToyHasher(n_bits, n_img).fit(X, y)
        message = str(caught.value)
        assert "from 1 to 4096 (4096 bits per modality is the longest code" in message
        assert f"Got {n_bits!r} instead" in message and "not a bool. Got" not in message


def test_fitted_split_survives_set_params_of_n_image_features():
    # set_params takes effect at the next fit, as for every sklearn parameter: transform and
    # encode split and check X by n_image_features_, the width fit saw.
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X, y)
    assert h.n_image_features_ == n_img == 6
    before = h.transform(X)
    h.set_params(n_image_features=4)
    np.testing.assert_array_equal(h.transform(X), before)
    np.testing.assert_array_equal(h.encode(X[:, :6], modality="image"), before[:, :8])
    with pytest.raises(ValueError, match="expects the 6 image columns seen in fit; got an arr"):
        h.encode(X[:, :4], modality="image")
    assert h.fit(X, y).n_image_features_ == 4  # the next fit takes the new value


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_zero_rows_encode_to_zero_codes(sparse):
    # Decided: zero items give zero codes (an empty batch of a stream, an empty dask block);
    # the column count is still checked. fit and score need items.
    X, y, n_img = _data()
    h = ToyHasher(8, n_img, random_state=0).fit(X, y)
    empty = sp.csr_matrix(X[:0]) if sparse else X[:0]
    for codes, width in (
        (h.transform(empty), 16),
        (h.encode(empty[:, :n_img], modality="image"), 8),
        (h.encode(empty[:, n_img:], modality="text"), 8),
    ):
        assert codes.shape == (0, width) and codes.dtype == np.uint8
    with pytest.raises(ValueError, match="features"):
        h.transform(X[:0, :-1])
    with pytest.raises(ValueError, match="expects the 5 text columns"):
        h.encode(X[:0, :n_img], modality="text")
    distances, indices = h.kneighbors(X[:0, :n_img], modality="image", n_neighbors=3)
    assert distances.shape == indices.shape == (0, 3)
    with pytest.raises(ValueError, match="X is empty"):
        h.score(X[:0], y[:0])


def _index_over(codes):
    from skmetacmh.index import HammingIndex

    index = HammingIndex(codes.shape[1], method="scan")
    index.add(codes)
    return index


@pytest.mark.parametrize("n_bits", [3, 8, 70])
def test_kneighbors_searches_the_other_modality_as_an_index_would(n_bits):
    X, y, n_img = _data(n=200)
    h = ToyHasher(n_bits, n_img, random_state=0).fit(X[:150], y[:150])
    for modality, block, queries, other_db in cross_modal_queries(h, X[150:], n_img):
        for k in (1, 7, 150):
            distances, indices = h.kneighbors(block, modality=modality, n_neighbors=k)
            expected = _index_over(other_db).search(queries, k)
            np.testing.assert_array_equal(distances, expected[0])
            np.testing.assert_array_equal(indices, expected[1])
            assert distances.dtype == np.int32 and indices.dtype == np.int64
            only = h.kneighbors(block, modality=modality, n_neighbors=k, return_distance=False)
            np.testing.assert_array_equal(only, indices)


def test_kneighbors_runs_multi_index_hashing_where_auto_says_so(monkeypatch):
    # method="auto" picks MIH only on large databases; make the rule pick it here so that a
    # small fit takes the MIH path, and check it against the scan, ties included (3 bits).
    from skmetacmh._search import _mih, kernels_available

    if not kernels_available():
        pytest.skip("auto picks MIH only with the compiled kernels")
    X, y, n_img = _data(n=200)
    h = ToyHasher(16, n_img, random_state=0).fit(X[:150], y[:150])
    assert h._database_search["text"].method_for(5) == "scan"  # 150 codes: the scan wins
    monkeypatch.setattr(_mih, "auto_method", lambda *args, **kwargs: "mih")
    for n_bits in (3, 16):
        h = ToyHasher(n_bits, n_img, random_state=0).fit(X[:150], y[:150])
        assert h._database_search["text"].method_for(5) == "mih"
        for k in (1, 5, 150):
            got = h.kneighbors(X[150:, :n_img], modality="image", n_neighbors=k)
            queries = h.encode(X[150:, :n_img], modality="image")
            expected = _index_over(h.database_codes_[:, n_bits:]).search(queries, k)
            np.testing.assert_array_equal(got[0], expected[0])
            np.testing.assert_array_equal(got[1], expected[1])


def test_kneighbors_bad_arguments():
    X, y, n_img = _data(n=120)
    h = ToyHasher(8, n_img, random_state=0).fit(X[:100], y[:100])
    block = X[100:, :n_img]
    for n_neighbors in (0, -1, 101, True, 2.0, "3", None):
        with pytest.raises(ValueError, match=r"n_neighbors must be an int from 1 to 100, the size"):
            h.kneighbors(block, modality="image", n_neighbors=n_neighbors)
    assert h.kneighbors(block, modality="image", n_neighbors=100)[1].shape == (20, 100)
    with pytest.raises(ValueError, match="modality must be one of"):
        h.kneighbors(block, modality="audio")
    with pytest.raises(TypeError, match="modality"):
        h.kneighbors(block)  # keyword-only and required, as in encode
    with pytest.raises(ValueError, match="expects the 5 text columns"):
        h.kneighbors(block, modality="text")
    with pytest.raises(ValueError, match="return_distance must be True or False"):
        h.kneighbors(block, modality="image", return_distance="yes")
    with pytest.raises(NotFittedError):
        ToyHasher(8, n_img).kneighbors(block, modality="image")


def test_kneighbors_after_pickling_and_refitting():
    X, y, n_img = _data(n=200)
    h = ToyHasher(8, n_img, random_state=0).fit(X[:150], y[:150])
    expected = h.kneighbors(X[150:, n_img:], modality="text", n_neighbors=5)
    loaded = pickle.loads(pickle.dumps(h))
    for got, want in zip(
        loaded.kneighbors(X[150:, n_img:], modality="text", n_neighbors=5), expected
    ):
        np.testing.assert_array_equal(got, want)
    # A refit searches the new database, not the first one.
    h.fit(X[:60], y[:60])
    assert h.kneighbors(X[150:, n_img:], modality="text", n_neighbors=5)[1].max() < 60
    with pytest.raises(ValueError, match="from 1 to 60"):
        h.kneighbors(X[150:, n_img:], modality="text", n_neighbors=61)


def test_explicit_database_is_the_one_scored():
    # cross_modal_map(..., X_db, y_db) equals mean_average_precision on X_db's own codes (the
    # review's stronger form of the check above), and differs from the fitted database's score.
    from skmetacmh.metrics import mean_average_precision

    X, y, n_img = _data(n=200)
    h = ToyHasher(16, n_img, random_state=0).fit(X[:100], y[:100])
    own = cross_modal_map(h, X[150:], y[150:], X[100:150], y[100:150])
    q, d = h.transform(X[150:]), h.transform(X[100:150])
    i2t = mean_average_precision(q[:, :16], d[:, 16:], y[150:], y[100:150])
    t2i = mean_average_precision(q[:, 16:], d[:, :16], y[150:], y[100:150])
    assert own["image_to_text"] == pytest.approx(i2t, abs=1e-12)
    assert own["text_to_image"] == pytest.approx(t2i, abs=1e-12)
    assert own["mean"] != h.score(X[150:], y[150:])


_SEEDED = ["CCAITQHasher", "CMFHHasher", "SePHHasher", "DLFHHasher"]


@pytest.mark.parametrize(
    "name", [*_SEEDED, "CVHHasher", "SCMHasher", "MetaCMHHasher", "DCMHHasher"]
)
def test_shared_constraints_are_checked_in_every_hasher(name):
    # random_state and n_jobs are declared once, in the base, and merged by every hasher.
    from sklearn.utils._param_validation import InvalidParameterError

    import skmetacmh

    cls = getattr(skmetacmh, name)
    X, y, _ = _data()
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter.*Got 0"):
        cls(n_bits=4, n_image_features=6, n_jobs=0).fit(X, y)
    if "random_state" in cls().get_params():
        with pytest.raises(InvalidParameterError, match="'random_state' parameter.*Got 'seed'"):
            cls(n_bits=4, n_image_features=6, random_state="seed").fit(X, y)
    assert name not in _SEEDED or "random_state" in cls().get_params()
