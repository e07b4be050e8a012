"""What fit sees and produces: feature scale refused up front, collapsed codes warned about.

Every hasher goes through the same two checks in ``BaseCrossModalHasher.fit``
(``skmetacmh/_fit_checks.py``), so each test runs over all eight.
"""

import warnings

import numpy as np
import pytest

import skmetacmh
from skmetacmh import CodeCollapseWarning
from skmetacmh._fit_checks import MAX_ABS_FEATURE
from skmetacmh._search._popcount import _bitwise_count_table

# Small, fast configurations; the deep hashers train a few epochs only.
FAST = {
    "MetaCMHHasher": dict(max_epochs=3, batch_size=32, image_hidden=(16,), text_hidden=(16,)),
    "DCMHHasher": dict(max_epochs=3, batch_size=32, image_hidden=(16,), text_hidden=(16,)),
    "CCAITQHasher": {},
    "CVHHasher": {},
    "CMFHHasher": dict(max_iter=10),
    "SCMHasher": {},
    "SePHHasher": dict(n_anchors=20, max_iter=10),
    "DLFHHasher": dict(max_iter=5, n_anchors=20),
}
N_BITS, N_IMAGE, N_TEXT = 8, 12, 10


def make_hasher(name):
    hasher = getattr(skmetacmh, name)(n_bits=N_BITS, n_image_features=N_IMAGE, **FAST[name])
    if "random_state" in hasher.get_params():  # SCM and CVH are deterministic
        hasher.set_params(random_state=0)
    return hasher


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, n_classes = 150, 5
    y = rng.integers(0, n_classes, n)
    signal = np.eye(n_classes)[y]
    X_img = signal @ rng.standard_normal((n_classes, N_IMAGE)) + 0.5 * rng.standard_normal(
        (n, N_IMAGE)
    )
    X_txt = signal @ rng.standard_normal((n_classes, N_TEXT)) + 0.5 * rng.standard_normal(
        (n, N_TEXT)
    )
    return np.hstack([X_img, X_txt]), y


def _fit_quietly(hasher, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits
        warnings.simplefilter("error", CodeCollapseWarning)
        return hasher.fit(X, y)


@pytest.mark.parametrize("name", list(FAST))
@pytest.mark.parametrize(
    "scale, dtype",
    [(1e30, np.float64), (1e30, np.float32), (1e200, np.float64)],  # 1e200: squares overflow
)
def test_huge_features_are_refused_with_a_message_saying_what_to_do(
    data, name, scale, dtype, capfd
):
    X, y = data
    X_big = X.astype(dtype)
    X_big[:, N_IMAGE + 3] *= dtype(scale)  # one text column only
    with pytest.raises(ValueError) as info:
        make_hasher(name).fit(X_big, y)
    message = str(info.value)
    assert f"{name}.fit: the text block of X has values up to" in message
    assert "(column 3 of that block)" in message and "StandardScaler" in message
    assert "learning rate" not in message and "LinAlgError" not in message
    # Refused before any hasher ran: nothing from LAPACK on stderr.
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("name", list(FAST))
def test_large_but_reasonable_features_still_fit(data, name):
    X, y = data
    hasher = _fit_quietly(make_hasher(name), X * (MAX_ABS_FEATURE / np.abs(X).max() / 10), y)
    assert hasher.database_codes_.shape == (X.shape[0], 2 * N_BITS)


@pytest.mark.parametrize("name", list(FAST))
def test_informative_features_give_no_collapse_warning(data, name):
    X, y = data
    hasher = _fit_quietly(make_hasher(name), X, y)
    codes = hasher.database_codes_
    assert len(np.unique(codes, axis=0)) > 2


def _collapsing_inputs(X):
    constant = np.ones_like(X)
    identical = np.tile(X[:1], (X.shape[0], 1))
    tiny = X * 1e-300
    return {"constant features": constant, "identical rows": identical, "1e-300 scale": tiny}


@pytest.mark.parametrize("name", list(FAST))
@pytest.mark.parametrize("case", ["constant features", "identical rows", "1e-300 scale"])
def test_collapsed_codes_give_a_typed_warning(data, name, case):
    X, y = data
    X_bad = _collapsing_inputs(X)[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning and friends on degenerate data
        warnings.simplefilter("always", CodeCollapseWarning)
        with pytest.warns(CodeCollapseWarning, match=rf"{name}: the \w+ codes of the 150") as rec:
            make_hasher(name).fit(X_bad, y)
    messages = " ".join(str(w.message) for w in rec if w.category is CodeCollapseWarning)
    assert "bits are the same for every item" in messages
    if case == "identical rows":
        assert "every feature of this block is constant" in messages
    if case == "1e-300 scale" and name not in ("SCMHasher", "CVHHasher"):
        assert "vanishing scale" in messages and "StandardScaler" in messages


def test_collapse_warning_points_at_the_callers_line(data):
    X, y = data
    with pytest.warns(CodeCollapseWarning) as rec:
        skmetacmh.CCAITQHasher(n_bits=N_BITS, n_image_features=N_IMAGE).fit(np.ones_like(X), y)
    assert rec[0].filename == __file__
    # Without y, and through a supervised hasher: however many frames stand between.
    with pytest.warns(CodeCollapseWarning) as rec:
        skmetacmh.CVHHasher(n_bits=N_BITS, n_image_features=N_IMAGE).fit(np.ones_like(X))
    assert rec[0].filename == __file__
    with pytest.warns(CodeCollapseWarning) as rec:
        skmetacmh.SCMHasher(n_bits=N_BITS, n_image_features=N_IMAGE).fit(np.ones_like(X), y)
    assert rec[0].filename == __file__


def test_too_few_items_are_not_judged():
    rng = np.random.default_rng(0)
    X, y = np.ones((6, 4)), rng.integers(0, 2, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CodeCollapseWarning)
        skmetacmh.CCAITQHasher(n_bits=1, n_image_features=2).fit(X, y)


def test_code_collapse_warning_is_public_and_a_user_warning():
    assert issubclass(skmetacmh.CodeCollapseWarning, UserWarning)
    assert "CodeCollapseWarning" in skmetacmh.__all__


def test_popcount_fallback_matches_bitwise_count():
    """The numpy < 2 path of skmetacmh._search._popcount gives exactly np.bitwise_count's counts."""
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**64, size=(37, 5), dtype=np.uint64)
    words[0] = [0, 2**64 - 1, 1, 2**63, 0x5555555555555555]
    expected = np.array([[bin(int(w)).count("1") for w in row] for row in words])
    np.testing.assert_array_equal(_bitwise_count_table(words), expected)
    if hasattr(np, "bitwise_count"):
        np.testing.assert_array_equal(_bitwise_count_table(words), np.bitwise_count(words))
    out = np.empty(words.shape, dtype=np.uint16)
    assert _bitwise_count_table(words, out=out) is out
    np.testing.assert_array_equal(out, expected)
