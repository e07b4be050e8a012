"""Loaders for the cross-modal hashing benchmarks: MIRFlickr-25K, NUS-WIDE and MS-COCO.

The files are not downloadable from one official place; the community passes around ``.mat``
files in three layouts, all read here (MATLAB v5 and v7.3/HDF5 alike):

* **single file** -- images (``IAll``) or image features (``XAll``), tags ``YAll`` and labels
  ``LAll`` in one file, as DCMH (Jiang & Li, CVPR 2017) distributes them;
* **three files** -- ``<name>-iall.mat``, ``<name>-yall.mat`` and ``<name>-lall.mat`` holding
  ``IAll``, ``YAll`` and ``LAll``, as DJSRH (Su et al., ICCV 2019) and AGAH (Gu et al., ICMR
  2019) use;
* **pre-split** -- ``I_tr, T_tr, L_tr`` (training), ``I_te, T_te, L_te`` (queries) and
  ``I_db, T_db, L_db`` (retrieval database) in one file, as the common MATLAB toolbox uses.
  Two other namings of the same idea are read too: LtCMH's ``I_te``/``I_tr``/``I_tra``
  (queries, database, training) and MetaCMH's ``test_x``/``retrieval_x``/``train_x`` (with
  ``_y`` for text and ``_L`` for labels).

Also read: the keys ``image``, ``text``, ``label`` of the MetaCMH authors' NUS-WIDE-81 file, and
DJSRH's archive layout with each of the three files in its own subfolder.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from .._docstring import Substitution
from .._labels import check_labels
from ._mat import (
    UnreadableMatFileError,
    item_axes,
    mat_shapes,
    non_numeric_variables,
    read_mat,
)

__all__ = [
    "load_mirflickr25k",
    "load_nuswide",
    "load_mscoco",
    "MIRFLICKR25K_LABELS",
    "NUSWIDE81_LABELS",
    "MSCOCO_LABELS",
]

ROLES = ("image", "text", "labels")

# Variable names by role, most usual first. ``image``/``text``/``label`` are the names of the
# MetaCMH authors' NUS-WIDE-81 file.
_KEYS = {
    "image": ("IAll", "XAll", "images", "image", "I_all", "X_all"),
    "text": ("YAll", "TAll", "tags", "text", "texts", "T_all", "Y_all"),
    "labels": ("LAll", "labels", "label", "L_all"),
}
PARTS = ("query", "database", "train")
# Pre-split naming schemes, {part: {role: variable}}, tried in this order.
_PRE_SPLIT_SCHEMES = {
    # LtCMH / long-tailed files of the MetaCMH authors' group: I_tr is the retrieval set there.
    "ltcmh": {"query": "te", "database": "tr", "train": "tra"},
    # the common MATLAB toolbox
    "toolbox": {"query": "te", "database": "db", "train": "tr"},
}
_PRE_SPLIT_SCHEMES = {
    name: {
        part: {role: f"{prefix}_{suffix}" for role, prefix in zip(ROLES, "ITL")}
        for part, suffix in scheme.items()
    }
    for name, scheme in _PRE_SPLIT_SCHEMES.items()
}
# MetaCMH's splitted NUS-WIDE file: train_x, train_y, train_L, test_*, retrieval_*.
_PRE_SPLIT_SCHEMES["metacmh"] = {
    part: {role: f"{stem}_{suffix}" for role, suffix in zip(ROLES, "xyL")}
    for part, stem in (("query", "test"), ("database", "retrieval"), ("train", "train"))
}
_EXTENSIONS = (".mat", ".h5", ".hdf5")
_TRIPLE = re.compile(r"^(?P<stem>.+?)[-_](?P<part>iall|xall|yall|lall)$", re.IGNORECASE)
_TRIPLE_ROLE = {"iall": "image", "xall": "image", "yall": "text", "lall": "labels"}

#: The 24 MIRFlickr-25K concepts in the alphabetical order of the annotation files, the column
#: order of ``LAll`` in the DCMH file.
MIRFLICKR25K_LABELS = (
    "animals baby bird car clouds dog female flower food indoor lake male night people "
    "plant_life portrait river sea sky structures sunset transport tree water"
).split()

#: The 81 NUS-WIDE concepts in the order of ``Concepts81.txt`` (alphabetical).
NUSWIDE81_LABELS = (
    "airport animal beach bear birds boats book bridge buildings cars castle cat cityscape "
    "clouds computer coral cow dancing dog earthquake elk fire fish flags flowers food fox "
    "frost garden glacier grass harbor horses house lake leaf map military moon mountain "
    "nighttime ocean person plane plants police protest railroad rainbow reflection road rocks "
    "running sand sign sky snow soccer sports statue street sun sunset surf swimmers tattoo "
    "temple tiger tower town toy train tree valley vehicle water waterfall wedding whales "
    "window zebra"
).split()

#: The 80 MS-COCO object categories in category-id order.
MSCOCO_LABELS = [
    name.replace("_", " ")
    for name in (
        "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant "
        "stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe "
        "backpack umbrella handbag tie suitcase frisbee skis snowboard sports_ball kite "
        "baseball_bat baseball_glove skateboard surfboard tennis_racket bottle wine_glass cup "
        "fork knife spoon bowl banana apple sandwich orange broccoli carrot hot_dog pizza donut "
        "cake chair couch potted_plant bed dining_table toilet tv laptop mouse remote keyboard "
        "cell_phone microwave oven toaster sink refrigerator book clock vase scissors "
        "teddy_bear hair_drier toothbrush"
    ).split()
]

_LAYOUT_HELP = (
    "one .mat file holding IAll or XAll (images or image features), YAll (tags) and LAll "
    "(labels); or the three files <name>-iall.mat, <name>-yall.mat, <name>-lall.mat; or one "
    "pre-split file holding I_tr, T_tr, L_tr, I_te, T_te, L_te, I_db, T_db, L_db"
)


@dataclass
class _Source:
    """Where each array of one dataset lives: ``key -> (file, variable)`` and its shape.

    ``key`` is a role (``"image"``, ``"text"``, ``"labels"``) or, for the pre-split layout, a
    ``(part, role)`` pair.
    """

    layout: str
    variables: dict
    shapes: dict
    files: list = field(default_factory=list)

    def n_labels(self) -> int:
        """Number of label columns (1 for a vector of class indices)."""
        part = ("database",) if self.layout == "pre-split" else ()
        keys = [(*part, role) if part else role for role in ROLES]
        shapes = {key: self.shapes[key] for key in keys}
        _, axes = item_axes(shapes, where=", ".join(str(f) for f in self.files))
        label_shape = list(shapes[keys[2]])
        del label_shape[axes[keys[2]]]
        return int(np.prod(label_shape)) if label_shape else 1


def _pick(shapes: dict, candidates, path, role):
    for name in candidates:
        if name in shapes:
            return name
    not_numbers = non_numeric_variables(path)
    for name in candidates:
        if name in not_numbers:
            raise ValueError(
                f"{path} has the {role} variable {name!r}, but it holds {not_numbers[name]} "
                f"data, not numbers: the {role} variable must be a numeric, logical or sparse "
                "array."
            )
    raise ValueError(
        f"{path} does not have the {role} variable: expected one of {list(candidates)}; "
        f"the variables found are {sorted(shapes)}. Expected layouts: {_LAYOUT_HELP}."
    )


def _inspect_file(path: Path, image_key) -> _Source:
    """Describe a single-file or pre-split file from its variables' names and shapes."""
    shapes = mat_shapes(path)
    for scheme in _PRE_SPLIT_SCHEMES.values():
        pre_split = {(part, role): name for part in PARTS for role, name in scheme[part].items()}
        if all(name in shapes for name in pre_split.values()):
            return _Source(
                "pre-split",
                {key: (path, name) for key, name in pre_split.items()},
                {key: shapes[name] for key, name in pre_split.items()},
                [path],
            )
    names = {
        role: _pick(
            shapes, (image_key,) if role == "image" and image_key else _KEYS[role], path, role
        )  # fmt: skip
        for role in ROLES
    }
    return _Source(
        "single-file",
        {role: (path, name) for role, name in names.items()},
        {role: shapes[name] for role, name in names.items()},
        [path],
    )


def _inspect_triple(files: dict, image_key) -> _Source:
    """Describe a three-file set; ``files`` maps each role to its file."""
    variables, shapes = {}, {}
    for role, path in files.items():
        found = mat_shapes(path)
        candidates = (image_key,) if role == "image" and image_key else _KEYS[role]
        if len(found) == 1 and not any(name in found for name in candidates):
            name = next(iter(found))  # the only array in a one-variable file
        else:
            name = _pick(found, candidates, path, role)
        variables[role], shapes[role] = (path, name), found[name]
    return _Source("three-files", variables, shapes, [files[role] for role in ROLES])


def _mat_files(*folders: Path) -> list:
    """The .mat/.h5 files in ``folders`` and their direct subfolders (DJSRH's archive keeps
    ``IAll/``, ``YAll/`` and ``LAll/`` subfolders)."""
    found = set()
    for folder in folders:
        for entry in folder.iterdir():
            try:
                paths = list(entry.iterdir()) if entry.is_dir() else [entry]
            except OSError:  # an unreadable subfolder holds nothing for us
                continue
            found.update(p for p in paths if p.suffix.lower() in _EXTENSIONS and p.is_file())
    return sorted(found)


def _triple_groups(files, image_key) -> dict:
    """``{stem: {role: file}}`` for the ``<stem>-iall/-yall/-lall`` files among ``files``."""
    preferred_image = (image_key or "IAll").lower()
    groups: dict = {}
    for path in files:
        match = _TRIPLE.match(path.stem)
        if match is None:
            continue
        part = match["part"].lower()
        role = _TRIPLE_ROLE[part]
        group = groups.setdefault(match["stem"], {})
        # Both -iall and -xall present: keep the one image_key names (IAll by default).
        if role != "image" or role not in group or part == preferred_image:
            group[role] = path
    return groups


def _candidate_sources(folder: Path, image_key):
    """Every dataset found in ``folder``: ``(name, source or error)`` pairs."""
    found = []
    files = _mat_files(folder)
    for stem, group in _triple_groups(files, image_key).items():
        missing = [role for role in ROLES if role not in group]
        if missing:
            found.append((stem, FileNotFoundError(f"{stem}: no file for {missing}")))
            continue
        try:
            source = _inspect_triple(group, image_key)
            source.n_labels()  # arrays that share no item count are unusable
            found.append((stem, source))
        except (ValueError, OSError) as exc:
            found.append((stem, exc))
    for path in files:
        if _TRIPLE.match(path.stem):
            continue
        try:
            source = _inspect_file(path, image_key)
            source.n_labels()
            found.append((path.name, source))
        except (ValueError, OSError) as exc:
            found.append((path.name, exc))
    return found


def _resolve(path, dataset: str, name_hints, n_concepts, image_key) -> _Source:
    """Find the files of ``dataset`` at ``path`` (a file or a folder) and describe them."""
    path = Path(os.fspath(path)).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"No {dataset} data at {path}. Expected a file or a folder with {_LAYOUT_HELP}."
        )
    if path.is_file():
        return _resolve_file(path, n_concepts, image_key)
    return _resolve_folder(path, dataset, name_hints, n_concepts, image_key)


def _resolve_file(path: Path, n_concepts, image_key) -> _Source:
    """A single file, or the three-file set one file of it belongs to."""
    match = _TRIPLE.match(path.stem)
    if match:  # one file of a three-file set: take its siblings
        group = _triple_groups(_mat_files(path.parent), image_key).get(match["stem"], {})
        if len(group) < len(ROLES):  # DJSRH keeps each file in its own subfolder
            nearby = _mat_files(path.parent.parent)
            group = _triple_groups(nearby, image_key).get(match["stem"], {})
        missing = [role for role in ROLES if role not in group]
        if missing:
            raise FileNotFoundError(
                f"{path} belongs to a three-file set, but the files for {missing} are "
                f"missing from {path.parent}: expected {match['stem']}-iall.mat (or "
                f"-xall.mat), {match['stem']}-yall.mat and {match['stem']}-lall.mat."
            )
        source = _inspect_triple(group, image_key)
    else:
        source = _inspect_file(path, image_key)
    if n_concepts is not None and source.n_labels() != n_concepts:
        raise ValueError(
            f"{path} has {source.n_labels()} label columns, but n_concepts={n_concepts}."
        )
    return source


def _resolve_folder(path: Path, dataset: str, name_hints, n_concepts, image_key) -> _Source:
    """The one dataset in a folder: named after ``name_hints`` if any is, of ``n_concepts``."""
    found = _candidate_sources(path, image_key)
    usable = [(name, src) for name, src in found if isinstance(src, _Source)]
    named = [(n, s) for n, s in usable if any(h in n.lower().replace("-", "") for h in name_hints)]
    candidates = named or usable
    if n_concepts is not None:
        candidates = [(n, s) for n, s in candidates if s.n_labels() == n_concepts]
    if len(candidates) == 1:
        broken = [(name, exc) for name, exc in found if isinstance(exc, UnreadableMatFileError)]
        for name, exc in broken:  # say so: an interrupted download should not go unnoticed
            warnings.warn(
                f"Skipped {name} in {path}, which cannot be read: {exc}",
                UserWarning,
                stacklevel=5,
            )
        return candidates[0][1]
    report = "; ".join(
        f"{name} ({src.layout}, {src.n_labels()} labels)"
        if isinstance(src, _Source)
        else f"{name} (unusable: {src})"
        for name, src in found
    )
    wanted = f" with {n_concepts} label columns" if n_concepts is not None else ""
    if not candidates:
        raise FileNotFoundError(
            f"No {dataset} data{wanted} in {path}. Expected {_LAYOUT_HELP}. "
            f"Found: {report or 'no .mat/.h5 file'}."
        )
    raise ValueError(
        f"{path} holds several candidate {dataset} datasets{wanted}: {report}. Pass the file "
        "itself as path" + (", or choose n_concepts." if n_concepts is None else ".")
    )


def _channels_last(images: np.ndarray) -> np.ndarray:
    """Move a colour axis (size 1 or 3) to the end of an items-first image array."""
    if images.ndim == 4 and images.shape[-1] not in (1, 3):
        colour = [axis for axis in (1, 2) if images.shape[axis] in (1, 3)]
        if colour:
            images = np.moveaxis(images, colour[0], -1)
    return images


def _labels_items_first(labels, path) -> np.ndarray:
    """Labels in the package's one label form (see ``skmetacmh._labels.check_labels``)."""
    # check_labels refuses fractions ("continuous"), so float class indices are whole numbers.
    labels, multilabel = check_labels(labels, name=f"the label variable in {path}")
    return labels if multilabel else labels.astype(np.int64)


def _items_first(array, axis, role, path, dtype, flatten_images):
    """Put the items on the first axis and give each role its dtype."""
    if sp.issparse(array):
        array = (array.T if axis == 1 else array).tocsr()
        return _labels_items_first(array, path) if role == "labels" else array.astype(dtype)
    array = np.moveaxis(np.asarray(array), axis, 0)
    if role == "labels":
        return _labels_items_first(array, path)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim >= 3:
        array = _channels_last(array)
        if not flatten_images:
            return np.ascontiguousarray(array)
        array = array.reshape(array.shape[0], -1)
    return np.ascontiguousarray(array, dtype=dtype)


def _read_oriented(source: _Source, keys, dtype, flatten_images) -> dict:
    """Load ``keys`` of ``source`` (all describing the same items), items first."""
    by_file: dict = {}
    for key in keys:
        file, name = source.variables[key]
        by_file.setdefault(file, []).append(name)
    raw = {}
    for file, names in by_file.items():
        raw[file] = read_mat(file, names)
    arrays = {key: raw[source.variables[key][0]][source.variables[key][1]] for key in keys}
    where = ", ".join(sorted({str(source.variables[key][0]) for key in keys}))
    _, axes = item_axes({key: arrays[key].shape for key in keys}, where=where)
    return {
        key: _items_first(
            arrays[key],
            axes[key],
            key[-1] if isinstance(key, tuple) else key,
            source.variables[key][0],
            dtype,
            flatten_images,
        )
        for key in keys
    }


def _row_keys(*arrays):
    """One digest per row, over the rows of all ``arrays`` (dense or CSR).

    Digests rather than the rows' bytes, so that raw images (150 kB a row) are not copied.
    """

    def rows(a):
        if sp.issparse(a):
            for i in range(a.shape[0]):
                lo, hi = a.indptr[i], a.indptr[i + 1]
                yield a.indices[lo:hi].tobytes() + a.data[lo:hi].tobytes()
        else:
            for row in a:
                yield np.ascontiguousarray(row).data

    keys = []
    for parts in zip(*(rows(a) for a in arrays)):
        digest = hashlib.blake2b(digest_size=16)
        for part in parts:
            digest.update(part)
        keys.append(digest.digest())
    return keys


def _stack(blocks):
    if any(sp.issparse(b) for b in blocks):
        return sp.vstack(blocks, format="csr")
    return np.concatenate(blocks, axis=0)


def _assemble_pre_split(source: _Source, dtype, flatten_images) -> Bunch:
    """Queries, then the database, then any training items found in neither.

    Training sets are normally drawn from the database, so each training item is looked up
    (by exact equality of its image, text and label rows) among the database items, then the
    queries; ``split.train`` points at the rows found, and only the items found nowhere are
    appended. A training item found among the queries means the file's split lets queries into
    training (as the public MetaCMH NUS-WIDE split does): a warning says so.
    """
    blocks = {}
    for part in PARTS:
        arrays = _read_oriented(source, [(part, r) for r in ROLES], dtype, flatten_images)
        blocks[part] = [arrays[(part, role)] for role in ROLES]
    n_query, n_db, n_train = (blocks[part][0].shape[0] for part in PARTS)
    where: dict = {}
    for offset, part in ((n_query, "database"), (0, "query")):  # the database wins ties
        for i, key in enumerate(_row_keys(*blocks[part])):
            where.setdefault(key, offset + i)
    located = np.array(
        [where.get(key, -1) for key in _row_keys(*blocks["train"])], dtype=np.int64
    ).reshape(-1)
    missing = np.flatnonzero(located < 0)
    located[missing] = n_query + n_db + np.arange(missing.size)
    kept = [blocks["query"], blocks["database"], [b[missing] for b in blocks["train"]]]
    image, text, labels = (_stack([part[r] for part in kept]) for r in range(len(ROLES)))
    split = Bunch(
        query=np.arange(n_query),
        database=np.arange(n_query, n_query + n_db),
        train=located,
    )
    n_leaked = int(np.sum(located < n_query))
    if n_leaked:
        warnings.warn(
            f"{n_leaked} of the {n_train} training items of the split stored in "
            f"{source.files[0]} are also queries: queries leak into training. For a clean "
            "protocol, draw a new split with skmetacmh.datasets.split_query_database.",
            UserWarning,
            stacklevel=4,
        )
    return Bunch(
        image=image,
        text=text,
        labels=labels,
        split=split,
        train_in_database=bool(np.all((located >= n_query) & (located < n_query + n_db))),
    )


def _load(path, dataset, name_hints, label_names, n_concepts, image_key, dtype, flatten_images):
    source = _resolve(path, dataset, name_hints, n_concepts, image_key)
    if source.layout == "pre-split":
        bunch = _assemble_pre_split(source, dtype, flatten_images)
    else:
        arrays = _read_oriented(source, list(ROLES), dtype, flatten_images)
        bunch = Bunch(**arrays, split=None)
    labels = bunch.labels
    n_labels = labels.shape[1] if labels.ndim == 2 else None
    image_is_raw = bunch.image.ndim > 2
    split_text = (
        f"predefined split: {len(bunch.split.query)} queries, {len(bunch.split.database)} "
        f"database items, {len(bunch.split.train)} training items"
        if bunch.split is not None
        else "no predefined split (use split_query_database)"
    )
    bunch.update(
        label_names=list(label_names) if label_names and n_labels == len(label_names) else None,
        layout=source.layout,
        files=[str(f) for f in source.files],
        image_is_raw=image_is_raw,
        DESCR=(
            f"{dataset}: {labels.shape[0]} items, image "
            f"{'raw pixels ' if image_is_raw else 'features '}{bunch.image.shape[1:]}, text "
            f"{bunch.text.shape[1]} dims, {n_labels or 'single-label'} labels; {source.layout} "
            f"layout from {', '.join(str(f) for f in source.files)}; {split_text}."
        ),
    )
    return bunch


_COMMON_DOC = """
    image_key : str, default=None
        Variable (or, for the three-file layout, file suffix) holding the image modality, to
        choose between raw images and features when a file has both: ``"XAll"`` picks the
        features. By default ``IAll`` is taken before ``XAll``.
    dtype : numpy dtype, default=np.float32
        Type of the feature arrays. Raw images keep their stored type (usually uint8).
    flatten_images : bool, default=False
        Raw images (4-D in the file) are returned as ``(n_items, height, width, channels)``
        arrays by default, ready for a CNN feature extractor, because no hasher here should
        learn from 150,528 raw pixel columns; ``True`` flattens them into feature rows.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``image``: ndarray of shape (n_items, n_features), or raw images of shape
          (n_items, height, width, channels) (then ``image_is_raw`` is True).
        - ``text``: ndarray or CSR matrix of shape (n_items, n_text_features) (tags).
        - ``labels``: uint8 {0,1} ndarray of shape (n_items, n_labels) (or int64 classes of
          shape (n_items,) when the file holds a vector of class indices).
        - ``label_names``: list of str, or None when the column order is not known.
        - ``split``: None, or for the pre-split layout a Bunch of index arrays ``query``,
          ``database`` and ``train`` into the rows above. Rows are queries, then database
          items, then the training items found in neither: each training item is looked up
          among the database items, then the queries (by equal rows), so nothing is stored
          twice. ``train_in_database`` says whether all were database items; a training
          item found among the queries gives a warning (the split leaks queries).
        - ``layout``: ``"single-file"``, ``"three-files"`` or ``"pre-split"``.
        - ``files``, ``image_is_raw``, ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When nothing usable is at ``path``; the message names the layouts expected.
    ValueError
        When a file lacks a variable (the message lists the variables found), when the arrays
        do not describe the same number of items, or when a folder holds several candidates.
    ImportError
        For a v7.3 (HDF5) file when h5py is not installed.
"""

_LAYOUTS_DOC = """
    The three layouts the community shares are all read, from MATLAB v5 and v7.3 (HDF5) files:
    one file with ``IAll``/``XAll``, ``YAll``, ``LAll`` (DCMH; also ``images``, ``image``,
    ``text``, ``label``); three files ``*-iall.mat``, ``*-yall.mat``, ``*-lall.mat`` (DJSRH,
    AGAH; in one folder or in subfolders); or a pre-split file with ``I_tr, T_tr, L_tr, I_te,
    T_te, L_te, I_db, T_db, L_db`` (or LtCMH's ``I_te``/``I_tr``/``I_tra``, or MetaCMH's
    ``test_x``/``retrieval_x``/``train_x`` names). Whether items are rows or columns is detected
    from the item count the arrays share, so MATLAB's column-major storage in v7.3 files and
    files written from Python both load the same way.
"""

_LOADERS = {
    "load_mirflickr25k": "MIRFlickr-25K",
    "load_nuswide": "NUS-WIDE",
    "load_mscoco": "MS-COCO",
}


def _shared_doc(loader: str) -> Substitution:
    """The loaders' shared sections, put into ``loader``'s docstring by a decorator.

    ``{shared}`` stands for the common parameters, Returns and Raises, a See Also of the other
    loaders and the split, and the Notes on layouts. A decorator rather than editing ``__doc__``
    at import: under ``python -OO`` docstrings are None and are left alone.
    """
    others = "\n".join(
        f"    {name} : {title}, from the same file layouts."
        for name, title in _LOADERS.items()
        if name != loader
    )
    see_also = (
        "See Also\n    --------\n"
        + others
        + "\n    split_query_database : Query / database / training split of the loaded items."
    )
    notes = "Notes\n    -----\n    " + _LAYOUTS_DOC.strip("\n").lstrip()
    return Substitution(
        shared=_COMMON_DOC.strip("\n").lstrip() + "\n\n    " + see_also + "\n\n    " + notes
    )


@_shared_doc("load_mirflickr25k")
def load_mirflickr25k(
    path, *, image_key: str | None = None, dtype=np.float32, flatten_images: bool = False
) -> Bunch:
    """Load MIRFlickr-25K (Huiskes & Lew, 2008), as cross-modal hashing papers share it.

    Usually 20,015 image-tag pairs with at least 20 tags, 1,386-dimensional bag-of-words tags
    and 24 concepts (multi-label).

    Parameters
    ----------
    path : str or path-like
        A file, or the folder that holds the files (a folder with several datasets is searched
        for names containing "flickr" or "mir").
    {shared}

    ``label_names`` is :data:`MIRFLICKR25K_LABELS` (alphabetical order of the annotation
    files) whenever the file has 24 label columns.

    Examples
    --------
    >>> from skmetacmh.datasets import load_mirflickr25k
    >>> data = load_mirflickr25k("~/data/mirflickr")  # doctest: +SKIP
    >>> data.image.shape, data.text.shape, data.labels.shape  # doctest: +SKIP
    ((20015, 4096), (20015, 1386), (20015, 24))
    """
    return _load(path, "MIRFlickr-25K", ("flickr", "mir"), MIRFLICKR25K_LABELS, None,
                 image_key, dtype, flatten_images)  # fmt: skip


@_shared_doc("load_nuswide")
def load_nuswide(
    path,
    *,
    n_concepts: int | None = None,
    image_key: str | None = None,
    dtype=np.float32,
    flatten_images: bool = False,
) -> Bunch:
    """Load NUS-WIDE (Chua et al., CIVR 2009) in its 10-, 21- or 81-concept versions.

    Flickr images with their user tags as bag-of-words text and concept labels (multi-label);
    the hashing literature uses subsets restricted to the 10 or 21 most frequent concepts as
    well as the full 81.

    Parameters
    ----------
    path : str or path-like
        A file, or the folder that holds the files (searched for names containing "nus").
    n_concepts : int, default=None
        The version wanted: 10, 21 or 81 concepts (label columns). In a folder holding several
        versions it picks the one with that many label columns; for a file it is checked.
        None accepts whatever version is found, if only one is.
    {shared}

    ``label_names`` is :data:`NUSWIDE81_LABELS` for the 81-concept version; the 10- and
    21-concept files do not agree on a column order, so it is None for them.

    Examples
    --------
    >>> from skmetacmh.datasets import load_nuswide
    >>> data = load_nuswide("~/data/nus-wide", n_concepts=21)  # doctest: +SKIP
    >>> data.labels.shape[1]  # doctest: +SKIP
    21
    """
    if n_concepts is not None and (
        isinstance(n_concepts, bool) or not isinstance(n_concepts, (int, np.integer))
        or n_concepts < 1
    ):  # fmt: skip
        raise ValueError(f"n_concepts must be None or a positive int (10, 21, 81); got "
                         f"{n_concepts!r}.")  # fmt: skip
    return _load(path, "NUS-WIDE", ("nus",), NUSWIDE81_LABELS, n_concepts, image_key, dtype,
                 flatten_images)  # fmt: skip


@_shared_doc("load_mscoco")
def load_mscoco(
    path, *, image_key: str | None = None, dtype=np.float32, flatten_images: bool = False
) -> Bunch:
    """Load MS-COCO (Lin et al., ECCV 2014) image-caption pairs with their 80 object labels.

    The text of an item is its captions as a bag-of-words vector, its labels the object
    categories present in the image (multi-label), as the shared hashing features provide them.

    Parameters
    ----------
    path : str or path-like
        A file, or the folder that holds the files (searched for names containing "coco").
    {shared}

    ``label_names`` is :data:`MSCOCO_LABELS` (category-id order) when there are 80 columns.

    Examples
    --------
    >>> from skmetacmh.datasets import load_mscoco
    >>> data = load_mscoco("~/data/coco")  # doctest: +SKIP
    >>> data.labels.shape[1]  # doctest: +SKIP
    80
    """
    return _load(path, "MS-COCO", ("coco",), MSCOCO_LABELS, None, image_key, dtype,
                 flatten_images)  # fmt: skip
