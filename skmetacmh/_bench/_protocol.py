"""One benchmark run under the leak-free long-tail protocol, scored by ``skmetacmh.metrics``.

Per seed:

1. **queries**: ``n_query`` items of every class (balanced, so every class weighs the same in
   mAP), drawn with :func:`skmetacmh.datasets.split_query_database`;
2. **database**: every non-query item;
3. **training set**: a long-tailed subset of the database (``train_imbalance_factor`` of
   :func:`~skmetacmh.datasets.split_query_database`, which calls
   :func:`skmetacmh.datasets.make_long_tailed`; imbalance factor = largest / smallest class
   size), so no query is ever seen in training; classes of equal size are ranked in a random
   order per seed (``shuffle_classes``), so each seed makes other classes rare;
4. each modality block is standardised by a scaler fitted on the training set only;
5. the hasher is fitted on the training set; queries of one modality search the database codes
   of the other; head, medium and tail classes are thirds by training frequency
   (:func:`skmetacmh.datasets.frequency_groups`).

For multi-label data the head, medium and tail scores come in two forms
(:func:`skmetacmh.metrics.map_by_frequency_group`): ``head``/``medium``/``tail`` are lenient (a
query of the group, relevant = shares any label), ``*_strict`` are strict (a query once per
class of the group it carries, relevant = carries that class). For single-label data they
agree.

With ``learned_codes`` in the protocol, a hasher that learns training codes
(``training_codes_``: DLFH, SePH, DCMH, MetaCMH) is scored a second time under its authors'
protocol: the database is the training set, represented by the learned codes instead of the
hash functions' codes, relevance from the training labels; the queries are the same. Its
numbers carry the prefix ``learned_``; a hasher without learned codes gets ``None`` for them
(n/a), never a number of another protocol.

The standard balanced protocol of the hashing papers (``query="random"``, ``n_query`` random
queries, ``n_train`` random training items from the database, ``imbalance_factor=None``) runs
through the same code.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from skmetacmh import metrics
from skmetacmh._labels import GROUP_NAMES, as_label_indicator

from ._registry import make_hasher

__all__ = [
    "split_long_tailed",
    "make_scaler",
    "run_once",
    "learned_database_codes",
    "DIRECTIONS",
    "GROUP_NAMES",
    "LEARNED_KEYS",
]

#: The two retrieval directions, named (query modality)_to_(database modality).
DIRECTIONS = ("image_to_text", "text_to_image")

#: The numbers of the learned-codes protocol, each ``"learned_" + key`` in a run.
LEARNED_KEYS = (
    "image_to_text",
    "text_to_image",
    "mean",
    *GROUP_NAMES,
    *(f"{g}_strict" for g in GROUP_NAMES),
)


def split_long_tailed(y, protocol: dict, random_state: int):
    """Index arrays ``query``, ``database`` and ``train`` (inside the database) for one seed.

    ``protocol`` holds ``query`` ("per_class" or "random"), ``n_query`` (per class, or in
    total), ``imbalance_factor`` (None: no long tail), ``n_train`` (None: all it can),
    ``shuffle_classes`` and, for the few-shot tail setting, ``tail_shots`` (None: off; an int
    ``k``: every tail class gets exactly ``k`` training items, see :func:`_few_shot_tail`).
    The long tail ranks classes by size; classes of equal size are ranked by class value, or,
    with ``shuffle_classes``, in a random order drawn from the seed, so that on a balanced
    dataset each seed makes other classes rare.
    """
    from skmetacmh.datasets import split_query_database

    y = np.asarray(y)
    ranked = y
    if protocol.get("shuffle_classes"):
        rng = np.random.default_rng(random_state)
        if y.ndim == 2:
            ranked = y[:, rng.permutation(y.shape[1])]
        else:
            classes, codes = np.unique(y, return_inverse=True)
            ranked = rng.permutation(len(classes))[codes]
    split = split_query_database(
        ranked,
        protocol["n_query"],
        protocol.get("n_train"),
        query=protocol.get("query", "per_class"),
        train_imbalance_factor=protocol.get("imbalance_factor"),
        random_state=random_state,
    )
    if protocol.get("tail_shots") is not None:
        split.train = _few_shot_tail(ranked, split, int(protocol["tail_shots"]), random_state)
    return split


def _few_shot_tail(y, split, shots: int, random_state: int) -> np.ndarray:
    """The training set with each tail class cut (or filled up) to exactly ``shots`` items.

    The tail is the rarest third of the classes in the long-tailed training set
    (:func:`skmetacmh.datasets.frequency_groups`); its ``shots`` items are drawn from the
    class's database items (the training set is inside the database, so no query is used),
    from a stream of its own seeded by the seed. Single-label data only: in multi-label data
    an item's labels cannot be cut one at a time.
    """
    from skmetacmh.datasets import frequency_groups

    if y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(
            "tail_shots needs single-label data (1-D classes): a multi-label item cannot give "
            f"its tail label exactly k items without its other labels; got labels of shape "
            f"{y.shape}."
        )
    if shots < 1:
        raise ValueError(f"tail_shots must be a positive int; got {shots}.")
    y = y.ravel()
    rng = np.random.default_rng([int(random_state), 12])
    tail = frequency_groups(y[split.train])["tail"]
    keep = split.train[~np.isin(y[split.train], tail)]
    drawn = []
    for c in tail:
        pool = split.database[y[split.database] == c]
        if len(pool) < shots:
            raise ValueError(
                f"tail_shots={shots}: tail class {c!r} has only {len(pool)} database items."
            )
        drawn.append(rng.choice(pool, size=shots, replace=False))
    return np.sort(np.concatenate([keep, *drawn])).astype(np.int64)


def make_scaler(n_image_features: int) -> ColumnTransformer:
    """A standard scaler per modality block, keeping ``[image | text]`` column order."""
    return ColumnTransformer(
        [
            ("image", StandardScaler(), slice(0, n_image_features)),
            ("text", StandardScaler(), slice(n_image_features, None)),
        ]
    )


def _mean_pair(a, b):
    """Mean of the two directions, or the one present when the other is undefined."""
    values = [v for v in (a, b) if v is not None]
    return float(np.mean(values)) if values else None


def run_once(
    data: Bunch,
    hasher_class,
    params: dict,
    n_bits: int,
    seed: int,
    *,
    protocol: dict,
    keep_hasher: bool = False,
):
    """Fit one hasher on one seed's split and return every number the report needs.

    The hasher is ``hasher_class(**params)`` with the run's ``n_bits``, the image block's width
    and ``random_state=seed`` (when it has that parameter). With ``keep_hasher`` the fitted
    hasher is returned too, under ``"hasher"`` (the rest of the dict stays JSON-ready).

    Returns
    -------
    dict
        JSON-ready: mAP per direction and their mean, head/medium/tail mAP, lenient and
        strict (per direction and mean), whether the labels are multi-label, fit seconds,
        encode throughput, split sizes, per-class mAP with training counts, precision-recall
        curves per direction, and with ``protocol["learned_codes"]`` the ``learned_*``
        numbers of the authors' protocol (``None`` for a hasher without learned codes).
    """
    y = data.y
    split = split_long_tailed(y, protocol, seed)
    n_img = data.X_image.shape[1]
    X_train, X_query, X_db = _scaled_blocks(data, split, n_img)
    y_train, y_query, y_db = (y[split[k]] for k in ("train", "query", "database"))

    hasher = make_hasher(hasher_class, params, n_bits, n_img, seed)
    start = time.perf_counter()
    hasher.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    db_codes = _codes(hasher, X_db, n_img)
    encode_seconds = time.perf_counter() - start
    query_codes = _codes(hasher, X_query, n_img)

    result = _score_directions(query_codes, db_codes, y_query, y_db, y_train)
    classes, counts, per_class_mean = _per_class_summary(y, y_train, result["per_class"])
    numbers = {
        **_summary(result),
        "groups_by_direction": result["groups"],
        "groups_by_direction_strict": result["groups_strict"],
        "multilabel": bool(np.ndim(y) == 2 and y.shape[1] > 1),
        "fit_seconds": fit_seconds,
        "encode_items_per_second": len(split.database) / max(encode_seconds, 1e-9),
        "n_train": int(len(split.train)),
        "n_query": int(len(split.query)),
        "n_database": int(len(split.database)),
        "classes": [_json_scalar(c) for c in classes],
        "train_counts": counts.tolist(),
        "per_class_map": per_class_mean,
        "pr": result["pr"],
    }
    if protocol.get("learned_codes"):
        numbers.update(_learned_protocol(hasher, query_codes, y_query, y_train, n_bits))
    if keep_hasher:
        numbers["hasher"] = hasher
    return numbers


def _summary(result: dict) -> dict:
    """Both directions' mAP, their mean, and the group scores as means over directions."""
    maps = result["map"]
    return {
        "image_to_text": maps["image_to_text"],
        "text_to_image": maps["text_to_image"],
        "mean": _mean_pair(maps["image_to_text"], maps["text_to_image"]),
        **{g: _mean_pair(*(result["groups"][d][g] for d in DIRECTIONS)) for g in GROUP_NAMES},
        **{
            f"{g}_strict": _mean_pair(*(result["groups_strict"][d][g] for d in DIRECTIONS))
            for g in GROUP_NAMES
        },
    }


def learned_database_codes(hasher, n_train: int, n_bits: int):
    """The learned training codes by modality, or None for a hasher that learns none.

    ``training_codes_`` is the contract of every hasher that learns codes: uint8 0/1 of shape
    ``(n_train, 2 * n_bits)``, image bits then text bits. Anything else is an error naming the
    hasher, not a score of malformed codes.
    """
    codes = getattr(hasher, "training_codes_", None)
    if codes is None:
        return None
    codes = np.asarray(codes)
    name = type(hasher).__name__
    if codes.shape != (n_train, 2 * n_bits):
        raise ValueError(
            f"{name}.training_codes_ must have shape (n_train, 2 * n_bits) = "
            f"{(n_train, 2 * n_bits)}; got {codes.shape}."
        )
    if codes.dtype != np.uint8 or codes.max(initial=0) > 1:
        raise ValueError(
            f"{name}.training_codes_ must be uint8 0/1 bits; got dtype {codes.dtype} with "
            f"values up to {codes.max(initial=0)}."
        )
    return {"image": codes[:, :n_bits], "text": codes[:, n_bits:]}


def _learned_protocol(hasher, query_codes, y_query, y_train, n_bits: int) -> dict:
    """The authors' protocol: the same queries against the learned codes of the training set."""
    db_codes = learned_database_codes(hasher, len(y_train), n_bits)
    if db_codes is None:
        return {f"learned_{key}": None for key in LEARNED_KEYS}
    result = _score_directions(query_codes, db_codes, y_query, y_train, y_train, extras=False)
    summary = _summary(result)
    return {f"learned_{key}": summary[key] for key in LEARNED_KEYS}


def _scaled_blocks(data: Bunch, split: Bunch, n_img: int):
    """Train, query and database rows of ``[image | text]``, scaled with training statistics."""
    X = np.hstack([data.X_image, data.X_text])
    scaler = make_scaler(n_img).fit(X[split.train])
    return tuple(scaler.transform(X[split[k]]) for k in ("train", "query", "database"))


def _codes(hasher, X, n_img: int) -> dict:
    """Each modality's codes of the rows of ``X``, by modality name."""
    blocks = (("image", slice(0, n_img)), ("text", slice(n_img, None)))
    return {m: np.asarray(hasher.encode(X[:, cols], modality=m)) for m, cols in blocks}


def _score_directions(query_codes, db_codes, y_query, y_db, y_train, *, extras=True) -> dict:
    """mAP, head/medium/tail mAP (lenient and strict), per-class mAP and the PR curve.

    ``extras=False`` leaves out the per-class mAP and the PR curve.
    """
    pairs = {
        "image_to_text": (query_codes["image"], db_codes["text"]),
        "text_to_image": (query_codes["text"], db_codes["image"]),
    }
    result = {"map": {}, "groups": {}, "groups_strict": {}, "per_class": {}, "pr": {}}
    for direction, (q, d) in pairs.items():
        result["map"][direction] = metrics.mean_average_precision(q, d, y_query, y_db)
        for key, relevance in (("groups", "lenient"), ("groups_strict", "strict")):
            grouped = metrics.map_by_frequency_group(
                q, d, y_query, y_db, y_train, relevance=relevance
            )
            result[key][direction] = {g: grouped.map.get(g) for g in GROUP_NAMES}
        if not extras:
            continue
        per_class = metrics.map_per_class(q, d, y_query, y_db)
        result["per_class"][direction] = dict(
            zip(np.asarray(per_class.classes).tolist(), per_class.map.tolist())
        )
        precision, recall, _ = metrics.precision_recall_curve(q, d, y_query, y_db)
        result["pr"][direction] = {"precision": precision.tolist(), "recall": recall.tolist()}
    return result


def _per_class_summary(y, y_train, per_class: dict):
    """Every class of the dataset, its training count and its mAP averaged over directions.

    Classes of the whole dataset, so that a class absent from training is reported with 0.
    """
    classes = as_label_indicator(y)[1]
    counts = as_label_indicator(y_train, classes=classes)[0].sum(axis=0, dtype=np.int64)
    classes = classes.tolist()
    means = [_mean_pair(*(per_class[d].get(c) for d in DIRECTIONS)) for c in classes]
    return classes, counts, means


def _json_scalar(value):
    return value.item() if hasattr(value, "item") else value
