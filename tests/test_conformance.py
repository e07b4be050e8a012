"""Every hasher against scikit-learn's conformance suite and the everyday sklearn workflows.

``parametrize_with_checks`` runs the estimator checks on each hasher configured small enough
to be fast. The checks feed generic data (often only 2-5 columns), so every hasher is built
with ``n_image_features=1``: the first column is the image modality, the rest the text.
"""

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmetacmh
from skmetacmh._bench._measure import peak_traced_bytes
from skmetacmh.metrics import cross_modal_map, make_cross_modal_scorer

from ._helpers import brute_search, cross_modal_queries

# Small, fast configurations of every public hasher. Linear methods whose number of bits is
# bounded by the smaller modality's dimension (CCA directions) get one bit in the checks.
FAST = {
    "MetaCMHHasher": dict(
        n_bits=4, max_epochs=2, batch_size=16, image_hidden=(8,), text_hidden=(8,)
    ),
    "DCMHHasher": dict(n_bits=4, max_epochs=2, batch_size=16, image_hidden=(8,), text_hidden=(8,)),
    "CCAITQHasher": dict(n_bits=1),
    "CVHHasher": dict(n_bits=1),
    "CMFHHasher": dict(n_bits=4, max_iter=5),
    "SCMHasher": dict(n_bits=1),
    "SePHHasher": dict(n_bits=4, n_anchors=10, max_iter=5),
    "DLFHHasher": dict(n_bits=4, max_iter=3, n_anchors=10),
}

HASHER_NAMES = list(FAST)
# The hashers that learn from the features alone: fit(X, y=None).
UNSUPERVISED = ["CCAITQHasher", "CVHHasher", "CMFHHasher"]

# Tiny fits in the checks stop before convergence on purpose, and a one-column image modality
# of random blobs gives codes that rightly warn of a collapse.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::skmetacmh.CodeCollapseWarning"),
]


def make_hasher(name, n_image_features=1, **overrides):
    params = {**FAST[name], "n_image_features": n_image_features, "random_state": 0}
    params.update(overrides)
    cls = getattr(skmetacmh, name)
    accepted = cls().get_params()
    return cls(**{k: v for k, v in params.items() if k in accepted})


# Checks that cannot apply to a two-modality hasher, with the reason. None: every check passes.
EXPECTED_FAILED_CHECKS: dict = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [make_hasher(name) for name in HASHER_NAMES], expected_failed_checks=expected_failed_checks
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------- workflows
@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, n_classes = 240, 6
    y = rng.integers(0, n_classes, n)
    signal = np.eye(n_classes)[y]
    X_img = signal @ rng.standard_normal((n_classes, 80)) + 0.8 * rng.standard_normal((n, 80))
    X_txt = signal @ rng.standard_normal((n_classes, 70)) + 0.8 * rng.standard_normal((n, 70))
    X, n_img = skmetacmh.join_modalities(X_img, X_txt)
    return X, y, n_img


def _workflow_hasher(name, n_img, **kw):
    overrides = dict(n_bits=16)
    if name in ("MetaCMHHasher", "DCMHHasher"):
        overrides.update(max_epochs=3, image_hidden=(32,), text_hidden=(32,))
    return make_hasher(name, n_image_features=n_img, **{**overrides, **kw})


@pytest.mark.parametrize("name", HASHER_NAMES)
def test_grid_search_over_n_bits_with_shared_scorer(name, data):
    X, y, n_img = data
    folds = list(KFold(2).split(X))
    search = GridSearchCV(
        _workflow_hasher(name, n_img),
        {"n_bits": [16, 32, 64]},
        scoring=make_cross_modal_scorer(),
        cv=folds,
    )
    search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    best = search.best_params_["n_bits"]
    assert best == search.cv_results_["params"][int(np.argmax(scores))]["n_bits"]
    # Each fold's score is cross_modal_map of a refit on the other fold: the held-out rows
    # query the fitted training fold.
    for i, (train, test) in enumerate(folds):
        refit = _workflow_hasher(name, n_img, n_bits=best).fit(X[train], y[train])
        expected = cross_modal_map(refit, X[test], y[test])["mean"]
        assert search.cv_results_[f"split{i}_test_score"][search.best_index_] == pytest.approx(
            expected, abs=1e-12
        )
    assert search.best_estimator_.transform(X[:3]).shape == (3, 2 * best)


@pytest.mark.parametrize("name", HASHER_NAMES)
def test_pipeline_with_column_transformer_per_modality(name, data):
    X, y, n_img = data
    per_modality = ColumnTransformer(
        [
            ("image", StandardScaler(), slice(0, n_img)),
            ("text", StandardScaler(), slice(n_img, X.shape[1])),
        ]
    )
    pipe = make_pipeline(per_modality, _workflow_hasher(name, n_img))
    pipe.fit(X[:180], y[:180])
    score = pipe.score(X[180:], y[180:])
    assert 1 / 6 < score <= 1  # better than random ranking on 6 balanced classes
    # The shared scorer sees through the Pipeline: same value as Pipeline.score.
    assert make_cross_modal_scorer()(pipe, X[180:], y[180:]) == pytest.approx(score)
    search = GridSearchCV(
        pipe, {f"{pipe.steps[-1][0]}__n_bits": [8, 16]}, scoring=make_cross_modal_scorer(), cv=2
    ).fit(X[:180], y[:180])
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("name", HASHER_NAMES)
def test_clone_set_params_joblib_and_pandas_output(name, data, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y, n_img = data
    hasher = _workflow_hasher(name, n_img)
    twin = clone(hasher).set_params(n_bits=8)
    assert twin.get_params()["n_bits"] == 8 and hasher.get_params()["n_bits"] == 16

    hasher.fit(X[:180], y[:180])
    path = tmp_path / "hasher.joblib"
    joblib.dump(hasher, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.transform(X[180:]), hasher.transform(X[180:]))

    # Same random_state, same codes, bit for bit.
    again = clone(hasher).fit(X[:180], y[:180])
    np.testing.assert_array_equal(again.transform(X[180:]), hasher.transform(X[180:]))

    frame = clone(hasher).set_output(transform="pandas").fit(X[:180], y[:180]).transform(X[180:])
    assert isinstance(frame, pd.DataFrame) and frame.columns[0] == "image_bit0"


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", HASHER_NAMES)
def test_bad_input_gives_clear_errors_for_every_hasher(name, data):
    X, y, n_img = data
    X, y = X[:120], y[:120]
    hasher = _workflow_hasher(name, n_img)

    for call in (
        lambda: hasher.transform(X),
        lambda: hasher.encode(X[:, :n_img], modality="image"),
        lambda: hasher.score(X, y),
    ):
        with pytest.raises(NotFittedError):
            call()

    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(hasher).fit(bad, y)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clone(hasher).fit(bad, y)
    with pytest.raises(ValueError, match="sample"):
        clone(hasher).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="minimum of 2|2 samples"):
        clone(hasher).fit(X[:1], y[:1])
    if name not in UNSUPERVISED:  # one class: nothing for a supervised hasher to learn
        with pytest.raises(ValueError, match="at least 2 classes"):
            clone(hasher).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="120 rows but y has 119"):
        clone(hasher).fit(X, y[:-1])
    strings = X.astype(object)
    strings[0, 0] = "blue"
    with pytest.raises(ValueError, match="blue|convert"):
        clone(hasher).fit(strings, y)
    for n_bits in (0, -8, 10**6):
        with pytest.raises(ValueError, match="n_bits"):
            clone(hasher).set_params(n_bits=n_bits).fit(X, y)
    for n_image_features in (0, X.shape[1], X.shape[1] + 3):
        with pytest.raises(ValueError, match="n_image_features"):
            clone(hasher).set_params(n_image_features=n_image_features).fit(X, y)
    with pytest.raises(ValueError, match="n_image_features must be set"):
        clone(hasher).set_params(n_image_features=None).fit(X, y)

    fitted = clone(hasher).fit(X, y)
    with pytest.raises(ValueError, match="modality must be one of"):
        fitted.encode(X[:, :n_img], modality="audio")
    with pytest.raises(ValueError, match="expects the 70 text columns"):
        fitted.encode(X[:, :n_img], modality="text")
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, 1:])


@pytest.mark.parametrize("name", HASHER_NAMES)
def test_documented_behaviour_on_odd_but_valid_input(name, data):
    X, y, n_img = data
    hasher = _workflow_hasher(name, n_img).fit(X[:180], y[:180])

    # A query class training never saw is relevant to nothing: excluded, not NaN.
    y_query = y[180:].copy()
    y_query[:5] = 42
    assert hasher.score(X[180:], y_query) == hasher.score(X[185:], y[185:])

    # Sparse input gives the same codes as dense input.
    dense = hasher.transform(X[180:])
    np.testing.assert_array_equal(hasher.transform(sp.csr_matrix(X[180:])), dense)

    # Multi-label y with some unlabelled rows: those items are kept, relevant to nothing.
    Y = np.eye(6, dtype=int)[y]
    Y[:10] = 0
    multi = clone(hasher).fit(X[:180], Y[:180])
    assert multi.multilabel_ and multi.n_unlabeled_ == 10
    from skmetacmh.metrics import mean_average_precision

    q, d, b = multi.transform(X[180:]), multi.database_codes_, multi.n_bits
    expected = np.mean(
        [
            mean_average_precision(q[:, :b], d[:, b:], Y[180:], Y[:180]),
            mean_average_precision(q[:, b:], d[:, :b], Y[180:], Y[:180]),
        ]
    )
    assert multi.score(X[180:], Y[180:]) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", HASHER_NAMES)
@pytest.mark.parametrize("flag", [True, False, np.True_], ids=["True", "False", "np.True_"])
def test_n_bits_refuses_bools_by_one_rule(name, flag, data):
    # True is an int to Python; as a code length it is a mistake, not one bit.
    X, y, n_img = data
    hasher = _workflow_hasher(name, n_img).set_params(n_bits=flag)
    with pytest.raises(
        InvalidParameterError, match=r"'n_bits' parameter .* an int \(not a bool\) from 1 to 4096"
    ):
        hasher.fit(X[:60], y[:60])


# ---------------------------------------------------------------------------- sparse text
BASELINES = ["CCAITQHasher", "CVHHasher", "CMFHHasher", "SCMHasher", "SePHHasher", "DLFHHasher"]
SPARSE_SETTINGS = {
    "CCAITQHasher": dict(n_bits=8),
    "CVHHasher": dict(n_bits=8),
    "CMFHHasher": dict(n_bits=8, max_iter=5),
    "SCMHasher": dict(n_bits=8),
    "SePHHasher": dict(n_bits=8, n_anchors=20, n_samples_codes=200, max_iter=20),
    "DLFHHasher": dict(n_bits=8, max_iter=5),
    "DLFHHasher-kernel": dict(n_bits=8, max_iter=5, hash_function="kernel", n_anchors=20),
}


def _sparse_hasher(key, n_img):
    name = key.split("-")[0]
    return make_hasher(name, n_image_features=n_img, **SPARSE_SETTINGS[key])


def _bag_of_words(n, n_words, n_classes=5, words_per_item=12, seed=0):
    """Dense image features and a CSR word-count text block, both driven by the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(n_classes, size=n)
    image = np.eye(n_classes)[y] @ rng.standard_normal((n_classes, 8))
    image += 0.5 * rng.standard_normal((n, 8))
    topic = n_words // n_classes
    # Half of each item's words come from its class's slice of the vocabulary.
    words = np.where(
        rng.random((n, words_per_item)) < 0.5,
        y[:, None] * topic + rng.integers(topic, size=(n, words_per_item)),
        rng.integers(n_words, size=(n, words_per_item)),
    )
    rows = np.repeat(np.arange(n), words_per_item)
    text = sp.csr_matrix((np.ones(rows.size), (rows, words.ravel())), shape=(n, n_words))
    return image, text, y


@pytest.mark.parametrize("key", list(SPARSE_SETTINGS))
def test_sparse_text_gives_the_codes_of_the_dense_text(key):
    image, text, y = _bag_of_words(400, 150)
    X_sparse = sp.hstack([sp.csr_matrix(image), text], format="csr")
    X_dense = X_sparse.toarray()
    sparse = _sparse_hasher(key, 8).fit(X_sparse[:300], y[:300])
    dense = _sparse_hasher(key, 8).fit(X_dense[:300], y[:300])
    assert sparse._supports_sparse_text
    codes_sparse, codes_dense = sparse.transform(X_sparse[300:]), dense.transform(X_dense[300:])
    if key in ("SePHHasher", "DLFHHasher-kernel"):
        # k-means has its own sparse code path: its k-means++ start breaks the many distance
        # ties of count data differently, so the RBF anchors differ and so do a few bits.
        agreement, map_gap = 0.95, 0.05
    else:
        # The implicit centring only sums in another order: a bit can flip only where its
        # projection is within rounding of zero (none does here).
        agreement, map_gap = 0.999, 1e-9
    assert np.mean(codes_sparse == codes_dense) >= agreement
    assert np.mean(sparse.database_codes_ == dense.database_codes_) >= agreement
    assert (
        abs(sparse.score(X_sparse[300:], y[300:]) - dense.score(X_dense[300:], y[300:])) <= map_gap
    )
    text_codes = sparse.encode(text[300:], modality="text")
    np.testing.assert_array_equal(text_codes, codes_sparse[:, sparse.n_bits :])


@pytest.mark.parametrize("key", list(SPARSE_SETTINGS))
def test_sparse_text_is_never_densified_in_fit_or_encode(key):
    # 40,000 items x 1,500 words: 480 MB dense, 5.8 MB as CSR (12 words per item). The budget,
    # a quarter of the dense block, is far above what the algorithms need besides the block
    # (k-means, RBF features, d_text^2 covariances: at most ~50 MB, measured with the oldest
    # supported numpy/scipy/scikit-learn), and far below one dense copy.
    image, text, y = _bag_of_words(40_000, 1500)
    X = sp.hstack([sp.csr_matrix(image), text], format="csr")
    dense_text_bytes = text.shape[0] * text.shape[1] * 8
    hasher = _sparse_hasher(key, image.shape[1])
    peak, codes = peak_traced_bytes(lambda: hasher.fit(X, y).encode(text, modality="text"))
    assert codes.shape == (text.shape[0], hasher.n_bits)
    assert peak < dense_text_bytes / 4, f"peak {peak / 1e6:.0f} MB"


# ---------------------------------------------------------------------------- unsupervised
@pytest.mark.parametrize("name", HASHER_NAMES)
def test_tags_say_which_hashers_need_y(name, data):
    from sklearn.utils import get_tags

    X, y, n_img = data
    hasher = _workflow_hasher(name, n_img)
    assert get_tags(hasher).target_tags.required is (name not in UNSUPERVISED)
    if name not in UNSUPERVISED:
        with pytest.raises(ValueError, match="requires y to be passed"):
            clone(hasher).fit(X[:120], None)
        with pytest.raises(TypeError, match="y"):
            clone(hasher).fit(X[:120])


@pytest.mark.parametrize("name", UNSUPERVISED)
def test_unsupervised_hashers_fit_without_labels(name, data):
    X, y, n_img = data
    labelled = _workflow_hasher(name, n_img).fit(X[:180], y[:180])
    for unlabelled in (
        _workflow_hasher(name, n_img).fit(X[:180]),
        _workflow_hasher(name, n_img).fit(X[:180], None),
    ):
        # y is never learned from: the same codes, bit for bit, with or without it.
        np.testing.assert_array_equal(unlabelled.database_codes_, labelled.database_codes_)
        np.testing.assert_array_equal(unlabelled.transform(X[180:]), labelled.transform(X[180:]))
        assert unlabelled.database_labels_ is None and unlabelled.classes_ is None
        assert unlabelled.n_unlabeled_ == 180
    assert _workflow_hasher(name, n_img).fit_transform(X[:180]).shape == (180, 32)
    # Constant labels are labels too: one class (every item relevant to every other), or an
    # indicator without a single label (relevant to nothing).
    for constant in (np.zeros(180), np.ones((180, 3)), np.zeros((180, 3))):
        fitted = _workflow_hasher(name, n_img).fit(X[:180], constant)
        np.testing.assert_array_equal(fitted.database_codes_, labelled.database_codes_)
    assert _workflow_hasher(name, n_img).fit(X[:180], np.zeros(180)).score(
        X[180:], np.zeros(60)
    ) == pytest.approx(1.0)


@pytest.mark.parametrize("name", UNSUPERVISED)
def test_an_unlabelled_fit_is_scored_against_a_labelled_database(name, data):
    X, y, n_img = data
    labelled = _workflow_hasher(name, n_img).fit(X[:120], y[:120])
    unlabelled = _workflow_hasher(name, n_img).fit(X[:120])
    for call in (
        lambda: unlabelled.score(X[180:], y[180:]),
        lambda: cross_modal_map(unlabelled, X[180:], y[180:]),
        lambda: make_cross_modal_scorer()(unlabelled, X[180:], y[180:]),
    ):
        with pytest.raises(ValueError, match=r"fitted without y.*X_db=X_db, y_db=y_db"):
            call()
    # Labels at score time only: queries and database bring them, and the classes they hold
    # together decide relevance (a class only one side has is relevant to nothing).
    y_query = y[180:].copy()
    y_query[:4] = 42
    expected = cross_modal_map(labelled, X[180:], y_query, X_db=X[120:180], y_db=y[120:180])
    got = cross_modal_map(unlabelled, X[180:], y_query, X_db=X[120:180], y_db=y[120:180])
    assert got == expected
    Y = np.eye(6, dtype=int)[y]
    Y[180:183] = 0  # unlabelled queries: excluded, as with a labelled fit
    by_indicator = _workflow_hasher(name, n_img).fit(X[:120], Y[:120])
    assert cross_modal_map(
        unlabelled, X[180:], Y[180:], X_db=X[120:180], y_db=Y[120:180]
    ) == cross_modal_map(by_indicator, X[180:], Y[180:], X_db=X[120:180], y_db=Y[120:180])
    with pytest.raises(ValueError, match="indicator matrix, as in"):
        cross_modal_map(unlabelled, X[180:], Y[180:], X_db=X[120:180], y_db=y[120:180])
    with pytest.raises(ValueError, match="X_db has 60 rows but y_db has 59"):
        cross_modal_map(unlabelled, X[180:], y[180:], X_db=X[120:180], y_db=y[120:179])
    with pytest.raises(ValueError, match="fitted without y"):
        unlabelled.labels_to_indicator(y[:5])
    # Retrieval needs no labels at all.
    indices = unlabelled.kneighbors(X[180:, :n_img], modality="image", return_distance=False)
    np.testing.assert_array_equal(
        indices, labelled.kneighbors(X[180:, :n_img], modality="image", return_distance=False)
    )


# ---------------------------------------------------------------------------- fitted state
@pytest.mark.parametrize("name", HASHER_NAMES)
def test_set_params_of_n_image_features_waits_for_the_next_fit(name, data):
    # It used to make transform split X by the new value: raw errors from inside torch/numpy,
    # and encode named the new width while the hash functions expected the fitted one.
    X, y, n_img = data
    hasher = _workflow_hasher(name, n_img).fit(X[:180], y[:180])
    before = hasher.transform(X[180:])
    hasher.set_params(n_image_features=n_img - 10)
    assert hasher.n_image_features_ == n_img
    np.testing.assert_array_equal(hasher.transform(X[180:]), before)
    np.testing.assert_array_equal(hasher.encode(X[180:, :n_img], modality="image"), before[:, :16])
    with pytest.raises(ValueError, match=f"expects the {n_img} image columns seen in fit"):
        hasher.encode(X[180:, : n_img - 10], modality="image")


@pytest.mark.parametrize("name", HASHER_NAMES)
def test_zero_rows_give_zero_codes_for_every_hasher(name, data):
    X, y, n_img = data
    hasher = _workflow_hasher(name, n_img).fit(X[:180], y[:180])
    assert hasher.transform(X[:0]).shape == (0, 32)
    assert hasher.encode(X[:0, :n_img], modality="image").shape == (0, 16)
    assert hasher.encode(sp.csr_matrix(X[:0, n_img:]), modality="text").shape == (0, 16)
    assert hasher.transform(X[:0]).dtype == np.uint8


@pytest.mark.parametrize("n_bits", [3, 16, 70])
@pytest.mark.parametrize("name", HASHER_NAMES)
def test_kneighbors_is_the_brute_force_hamming_ranking(name, n_bits, data):
    X, y, n_img = data
    hasher = _workflow_hasher(name, n_img, n_bits=n_bits).fit(X[:180], y[:180])
    for modality, block, queries, other_db in cross_modal_queries(hasher, X[180:], n_img):
        for k in (1, 10, 180):
            distances, indices = hasher.kneighbors(block, modality=modality, n_neighbors=k)
            want_d, want_i = brute_search(queries, other_db, k, pad=False)
            np.testing.assert_array_equal(distances, want_d)
            np.testing.assert_array_equal(indices, want_i)
    if n_bits == 3:  # 8 codes for 180 items: the order within a distance is all ties
        assert len(np.unique(distances[:, :20])) < 4
