"""Catalogue: items beyond the training set, encoded once, searched across modalities."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skmetacmh import CCAITQHasher, SCMHasher
from skmetacmh.catalogue import FORMAT_VERSION, Catalogue

from ._helpers import brute_search


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((4, 12))
    y = rng.integers(0, 4, 400)
    X = centres[y] + 0.8 * rng.standard_normal((400, 12))
    return X, y


@pytest.fixture(scope="module")
def hasher(data):
    X, y = data
    # Few bits: many ties, so the tie order is exercised.
    return SCMHasher(n_bits=6, n_image_features=7).fit(X[:120], y[:120])


@pytest.mark.parametrize("modality", ["image", "text"])
def test_kneighbors_equals_brute_force_across_modalities(data, hasher, modality):
    X, _ = data
    catalogue = Catalogue(hasher).add(X)
    other = "text" if modality == "image" else "image"
    cols = slice(0, 7) if modality == "image" else slice(7, None)
    other_cols = slice(7, None) if modality == "image" else slice(0, 7)
    q = hasher.encode(X[:25, cols], modality=modality)
    db = hasher.encode(X[:, other_cols], modality=other)
    want_d, want_i = brute_search(q, db, 40, pad=False)
    d, i = catalogue.kneighbors(X[:25, cols], modality=modality, n_neighbors=40)
    np.testing.assert_array_equal(d, want_d)
    np.testing.assert_array_equal(i, want_i)
    assert catalogue.kneighbors(X[:3, cols], modality=modality, return_distance=False).shape == (
        3,
        10,
    )


def test_user_ids_are_returned_across_adds(data, hasher):
    X, _ = data
    names = np.array([f"item{i:03d}" for i in range(400)], dtype=object)
    catalogue = Catalogue(hasher).add(X[:150], ids=names[:150]).add(X[150:], ids=names[150:])
    plain = Catalogue(hasher).add(X)
    _, positions = plain.kneighbors(X[:5, 7:], modality="text", n_neighbors=12)
    _, ids = catalogue.kneighbors(X[:5, 7:], modality="text", n_neighbors=12)
    np.testing.assert_array_equal(ids, names[positions].astype(str))
    assert catalogue.ntotal == len(catalogue) == 400


def test_bad_ids_and_queries_are_refused(data, hasher):
    X, _ = data
    with pytest.raises(ValueError, match="unique"):
        Catalogue(hasher).add(X[:4], ids=[1, 2, 2, 3])
    catalogue = Catalogue(hasher).add(X[:4], ids=[1, 2, 3, 4])
    with pytest.raises(ValueError, match="unique"):
        catalogue.add(X[4:6], ids=[4, 5])
    with pytest.raises(TypeError, match="one kind"):
        catalogue.add(X[4:6], ids=["a", "b"])
    with pytest.raises(ValueError, match="every add"):
        catalogue.add(X[4:6])
    with pytest.raises(ValueError, match="one entry per item"):
        catalogue.add(X[4:6], ids=[7])
    with pytest.raises(TypeError, match="integers or strings"):
        Catalogue(hasher).add(X[:2], ids=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"n_neighbors must be an int in \[1, ntotal=4\]; got 5"):
        catalogue.kneighbors(X[:1, :7], modality="image", n_neighbors=5)
    with pytest.raises(ValueError, match="n_neighbors"):
        catalogue.kneighbors(X[:1, :7], modality="image", n_neighbors=True)
    with pytest.raises(ValueError, match="empty"):
        Catalogue(hasher).kneighbors(X[:1, :7], modality="image")
    with pytest.raises(ValueError, match="modality"):
        catalogue.kneighbors(X[:1, :7], modality="audio")
    with pytest.raises(TypeError, match="fitted skmetacmh hasher"):
        Catalogue(StandardScaler().fit(X))
    with pytest.raises(ValueError, match="method"):
        Catalogue(hasher, method="tree")


def _caption_frame(rng, n):
    words = np.array([f"w{i}" for i in range(60)])
    y = rng.integers(0, 3, n)
    image = rng.standard_normal((n, 5)) + 2.0 * y[:, None]
    captions = [" ".join(rng.choice(words[20 * c : 20 * c + 20], 4)) for c in y]
    frame = pd.DataFrame(image, columns=[f"f{i}" for i in range(5)])
    frame["caption"] = captions
    return frame, y


def test_pipeline_catalogue_takes_a_raw_caption(tmp_path):
    rng = np.random.default_rng(1)
    frame, y = _caption_frame(rng, 300)
    pre = ColumnTransformer(
        [
            ("image", StandardScaler(), [f"f{i}" for i in range(5)]),
            ("text", TfidfVectorizer(), "caption"),
        ]
    )
    pipeline = Pipeline([("pre", pre), ("hasher", SCMHasher(n_bits=8, n_image_features=5))])
    pipeline.fit(frame[:150], y[:150])
    catalogue = Catalogue(pipeline).add(frame, ids=np.arange(1000, 1300))
    hasher = pipeline.named_steps["hasher"]
    fitted = pipeline.named_steps["pre"]
    # By hand: the text transformer alone, then the hasher's text function.
    text_block = fitted.named_transformers_["text"].transform(frame["caption"][:3])
    want = hasher.encode(text_block, modality="text")
    captions = list(frame["caption"][:3])
    np.testing.assert_array_equal(catalogue.encode_queries(captions, "text"), want)
    np.testing.assert_array_equal(catalogue.encode_queries(frame[["caption"]][:3], "text"), want)
    np.testing.assert_array_equal(catalogue.encode_queries(frame["caption"][0], "text"), want[:1])
    image_block = fitted.named_transformers_["image"].transform(frame.iloc[:3, :5])
    np.testing.assert_array_equal(
        catalogue.encode_queries(frame.iloc[:3], "image"),
        hasher.encode(image_block, modality="image"),
    )
    # The catalogue's image codes are the pipeline's: the ranking is the brute-force one.
    db = pipeline.transform(frame)[:, :8]
    want_d, want_i = brute_search(want, db, 10, pad=False)
    d, ids = catalogue.kneighbors(list(frame["caption"][:3]), modality="text")
    np.testing.assert_array_equal(d, want_d)
    np.testing.assert_array_equal(ids, want_i + 1000)


def test_preprocessing_that_cannot_be_split_is_refused(data):
    X, y = data
    whole = make_pipeline(StandardScaler(), SCMHasher(n_bits=4, n_image_features=7)).fit(X, y)
    catalogue = Catalogue(whole).add(X[:20])  # adding goes through the whole pipeline
    with pytest.raises(ValueError, match="one ColumnTransformer"):
        catalogue.kneighbors(X[:2, :7], modality="image")
    straddle = ColumnTransformer([("both", StandardScaler(), slice(0, 12))])
    across = Pipeline([("pre", straddle), ("h", SCMHasher(n_bits=4, n_image_features=7))])
    across.fit(X, y)
    with pytest.raises(ValueError, match="across the image/text boundary"):
        Catalogue(across).add(X[:20]).kneighbors(X[:2], modality="image")


def test_dask_input_matches_numpy(data, hasher):
    da = pytest.importorskip("dask.array")
    X, _ = data
    X_dask = da.from_array(X, chunks=(90, -1))
    lazy = Catalogue(hasher).add(X_dask)
    eager = Catalogue(hasher).add(X)
    for modality, cols in (("image", slice(0, 7)), ("text", slice(7, None))):
        for a, b in zip(
            lazy.kneighbors(X[:10, cols], modality=modality, n_neighbors=30),
            eager.kneighbors(X[:10, cols], modality=modality, n_neighbors=30),
        ):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="dask client takes dask arrays"):
        Catalogue(hasher, client=object()).add(X)


def test_unsupervised_hasher_catalogue(data):
    X, y = data
    hasher = CCAITQHasher(n_bits=4, n_image_features=7, random_state=0).fit(X[:100], y[:100])
    catalogue = Catalogue(hasher).add(X)
    d, i = catalogue.kneighbors(X[:4, 7:], modality="text", n_neighbors=5)
    assert d.shape == i.shape == (4, 5)
    assert (np.diff(d, axis=1) >= 0).all()


@pytest.mark.parametrize("mmap_mode", [None, "r"])
def test_save_and_load_answer_identically(tmp_path, data, hasher, mmap_mode):
    X, _ = data
    names = [f"n{i}" for i in range(400)]
    catalogue = Catalogue(hasher).add(X, ids=names)
    catalogue.save(tmp_path / "cat")
    loaded = Catalogue.load(tmp_path / "cat", mmap_mode=mmap_mode)
    assert loaded.ntotal == 400
    for modality, cols in (("image", slice(0, 7)), ("text", slice(7, None))):
        for a, b in zip(
            loaded.kneighbors(X[:10, cols], modality=modality, n_neighbors=25),
            catalogue.kneighbors(X[:10, cols], modality=modality, n_neighbors=25),
        ):
            np.testing.assert_array_equal(a, b)


def test_load_refuses_newer_or_foreign_folders(tmp_path, data, hasher):
    X, _ = data
    Catalogue(hasher).add(X[:50]).save(tmp_path / "cat")
    header = tmp_path / "cat" / "catalogue.json"
    content = json.loads(header.read_text())
    content["version"] = FORMAT_VERSION + 1
    header.write_text(json.dumps(content))
    with pytest.raises(ValueError, match="format version"):
        Catalogue.load(tmp_path / "cat")
    with pytest.raises(FileNotFoundError, match="no catalogue.json"):
        Catalogue.load(tmp_path)
