"""Catalogue: a collection beyond the training set, hashed once, searched across modalities.

A fitted hasher's ``kneighbors`` searches the training set it stored as its database. A real
catalogue is larger than the labelled part a hasher learns from, and it outlives one process.
:class:`Catalogue` takes a fitted hasher (or a fitted ``Pipeline`` ending in one), encodes the
catalogue's two modalities once, keeps one Hamming index per modality, and answers a query of
one modality with the ids of the catalogue items whose *other* modality is nearest: a caption
finds images, an image finds captions.

It is an object of its own rather than a hasher method because its state (the indexes, the
user's ids, a dask client, a folder on disk) has nothing to do with learning: the hasher stays
a small estimator that clones and pickles cheaply, and one hasher can serve several
catalogues. Nothing is learned, so there is no ``fit``: items are added, as to a faiss index.
"""

from __future__ import annotations

import json
from numbers import Integral
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from ._base import BaseCrossModalHasher
from ._index_contract import check_n_neighbors
from ._modalities import check_modality
from .index import HammingIndex

__all__ = ["Catalogue"]

#: On-disk format version written by :meth:`Catalogue.save`; :meth:`Catalogue.load` refuses a
#: newer one.
FORMAT_VERSION = 1
_HEADER = "catalogue.json"
_OTHER = {"image": "text", "text": "image"}


def _split_model(model):
    """``(preprocessing or None, hasher)`` of a fitted hasher or Pipeline ending in one."""
    if isinstance(model, Pipeline):
        hasher = model.steps[-1][1]
        preprocessing = model[:-1] if len(model.steps) > 1 else None
    else:
        hasher, preprocessing = model, None
    if not isinstance(hasher, BaseCrossModalHasher):
        raise TypeError(
            "model must be a fitted skmetacmh hasher or a Pipeline whose last step is one; got "
            f"{type(hasher).__name__}."
        )
    check_is_fitted(hasher)
    return preprocessing, hasher


def _modality_transformers(preprocessing, n_image_features: int, modality: str) -> list:
    """The fitted (transformer, columns) pairs of a ColumnTransformer that feed one modality.

    A single-modality query cannot go through the whole preprocessing (it has no columns of the
    other modality), but a ColumnTransformer whose transformers each write inside one block can
    be split: ``output_indices_`` says where each one's output lands.
    """
    steps = list(preprocessing.named_steps.values())
    if len(steps) != 1 or not isinstance(steps[0], ColumnTransformer):
        names = [type(step).__name__ for step in steps]
        raise ValueError(
            "kneighbors with queries of one modality needs the steps before the hasher to be "
            f"one ColumnTransformer, whose transformers each feed one modality; got {names}. "
            "Preprocess the queries yourself and build the Catalogue on the bare hasher."
        )
    ct = steps[0]
    chosen = []
    for name, transformer, columns in ct.transformers_:
        out = ct.output_indices_[name]
        if transformer == "drop" or out.stop == out.start:
            continue
        if out.stop <= n_image_features:
            side = "image"
        elif out.start >= n_image_features:
            side = "text"
        else:
            raise ValueError(
                f"ColumnTransformer step {name!r} writes columns {out.start}..{out.stop - 1}, "
                f"across the image/text boundary at n_image_features={n_image_features}; each "
                "transformer must feed one modality."
            )
        if side == modality:
            chosen.append((out.start, transformer, columns))
    if not chosen:
        raise ValueError(f"no step of the ColumnTransformer feeds the {modality} modality.")
    chosen.sort(key=lambda entry: entry[0])  # the order of the block's columns
    return [(transformer, columns) for _, transformer, columns in chosen]


def _select(X, columns, single: bool):
    if callable(columns):
        columns = columns(X)
    if single and isinstance(columns, (str, Integral)) and not hasattr(X, "iloc"):
        # A raw query (a list of captions) for the one transformer of this modality that was
        # fitted on a single column: it is that column already.
        return X
    return _safe_indexing(X, columns, axis=1)


def _stack(parts):
    if any(sp.issparse(part) for part in parts):
        return sp.hstack([sp.csr_matrix(part) for part in parts], format="csr")
    return np.hstack([np.asarray(part) for part in parts])


def _check_ids(ids, n: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.shape[0] != n:
        raise ValueError(f"ids must be 1-D with one entry per item ({n}); got shape {ids.shape}.")
    if ids.dtype == object:
        # Strings from pandas come as objects; a fixed-width unicode array saves and
        # memory-maps without pickle.
        if not all(isinstance(i, str) for i in ids):
            raise TypeError("ids must be all integers or all strings.")
        ids = ids.astype(str)
    if ids.dtype.kind not in "iuU":
        raise TypeError(f"ids must be integers or strings; got dtype {ids.dtype}.")
    return ids


class Catalogue:
    """A catalogue of items hashed once and searched across modalities, with the user's ids.

    Items are encoded once, when added: both modalities, through the model's ``transform``.
    Each modality's codes go into a Hamming index of their own, so that a query of one
    modality is answered from the other's index, with the ids the user gave the items.

    Parameters
    ----------
    model : fitted hasher or fitted Pipeline
        Any fitted hasher of the package, or a ``Pipeline`` whose last step is one. Items
        passed to :meth:`add` go through ``model.transform`` (so a Pipeline's preprocessing
        applies). Queries of one modality need that modality's preprocessing only: with a
        Pipeline, its steps before the hasher must be one ``ColumnTransformer`` whose
        transformers each feed one modality (the usual image scaler + text vectoriser).
    method : {"auto", "scan", "mih"}, default="auto"
        Search of the indexes (see :class:`~skmetacmh.index.HammingIndex`); exact whatever it
        is.
    client : distributed.Client or None, default=None
        With a client, :meth:`add` takes dask arrays and the codes live in
        :class:`~skmetacmh.distributed.DistributedHammingIndex` shards on its workers; without
        one, the codes are held in memory (dask input is still encoded block by block, so the
        features never have to fit in memory at once).

    Attributes
    ----------
    hasher : BaseCrossModalHasher
        The hasher at the end of ``model``.
    n_bits : int
        Code length of the hasher.
    ntotal : int
        Items added so far.
    ids : ndarray of shape (ntotal,)
        The id of each item, in the order added (``0 .. ntotal - 1`` when :meth:`add` was given
        none).

    See Also
    --------
    skmetacmh.BaseCrossModalHasher.kneighbors : The same search over the training set.
    skmetacmh.index.HammingIndex : One modality's index.

    Notes
    -----
    Distances are Hamming distances between the query's code and the items' codes of the other
    modality; ties are broken by the order in which items were added, as in every search of
    the package. :meth:`save` writes a folder: ``catalogue.json`` (format version, code length,
    item count, kind of index), ``image/`` and ``text/`` (the two indexes, written by
    :meth:`HammingIndex.save <skmetacmh.index.HammingIndex.save>`), ``ids.npy`` and
    ``model.joblib`` (the model, pickled by joblib: load catalogues only from sources you
    trust, as with any pickle).

    Examples
    --------
    >>> import numpy as np
    >>> from skmetacmh import CCAITQHasher
    >>> from skmetacmh.catalogue import Catalogue
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 10))
    >>> hasher = CCAITQHasher(n_bits=4, n_image_features=6, random_state=0).fit(X[:100])
    >>> catalogue = Catalogue(hasher).add(X, ids=[f"item{i}" for i in range(300)])
    >>> distances, ids = catalogue.kneighbors(X[:2, 6:], modality="text", n_neighbors=3)
    >>> ids.shape, ids.dtype.kind
    ((2, 3), 'U')
    """

    def __init__(self, model, *, method: str = "auto", client=None):
        self._preprocessing, self.hasher = _split_model(model)
        self.model = model
        self.n_bits = int(self.hasher.n_bits)
        HammingIndex(self.n_bits, method=method)  # validates method
        self.method = method
        self.client = client
        self._indexes = self._new_indexes()
        self._ids: list = []
        self._user_ids: bool | None = None
        self._ntotal = 0

    def _new_indexes(self) -> dict:
        if self.client is None:
            return {m: HammingIndex(self.n_bits, method=self.method) for m in _OTHER}
        from .distributed import DistributedHammingIndex

        return {
            m: DistributedHammingIndex(self.n_bits, client=self.client, method=self.method)
            for m in _OTHER
        }

    @property
    def ntotal(self) -> int:
        """Number of items added."""
        return self._ntotal

    def __len__(self) -> int:
        return self._ntotal

    @property
    def ids(self) -> np.ndarray:
        """The items' ids, in the order they were added."""
        if not self._ids:
            return np.arange(0)
        return self._ids[0] if len(self._ids) == 1 else np.concatenate(self._ids)

    def __repr__(self) -> str:
        kind = "distributed" if self.client is not None else "in memory"
        return (
            f"Catalogue({type(self.hasher).__name__}, n_bits={self.n_bits}, "
            f"ntotal={self._ntotal}, {kind})"
        )

    # ------------------------------------------------------------------ adding
    def add(self, X, ids=None) -> Catalogue:
        """Encode items (both modalities) once and index them.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or dask array of shape (n_items, ...)
            What ``model.transform`` takes: ``[image block | text block]`` for a bare hasher,
            the raw columns for a Pipeline. A dask array (bare hasher only) is encoded block
            by block with :func:`~skmetacmh.distributed.transform_dask`.
        ids : array-like of shape (n_items,) or None, default=None
            The user's ids of these items, integers or strings, unique in the catalogue.
            ``None`` numbers them on from ``ntotal``. Either every call passes ids or none
            does.

        Returns
        -------
        self : Catalogue
            The catalogue, for chaining.
        """
        image_codes, text_codes, n = self._encode_items(X)
        if n == 0:
            raise ValueError("add() got 0 items; a catalogue needs at least one.")
        user_ids = ids is not None
        if self._user_ids is not None and user_ids != self._user_ids:
            raise ValueError(
                "ids must be passed to every add() or to none: "
                f"{'earlier calls passed ids' if self._user_ids else 'earlier calls did not'}."
            )
        ids = (
            _check_ids(ids, n)
            if user_ids
            else np.arange(self._ntotal, self._ntotal + n, dtype=np.int64)
        )
        if user_ids:
            self._check_unique(ids)
        self._indexes["image"].add(image_codes)
        self._indexes["text"].add(text_codes)
        # One array, so that every search indexes it without concatenating the adds again.
        self._ids = [np.concatenate([*self._ids, ids]) if self._ids else ids]
        self._user_ids = user_ids
        self._ntotal += n
        return self

    def _check_unique(self, ids: np.ndarray) -> None:
        previous = self.ids
        if previous.size and previous.dtype.kind != ids.dtype.kind:
            raise TypeError(
                f"ids of this add() are of kind {ids.dtype.kind!r}, earlier ones "
                f"{previous.dtype.kind!r}; use one kind (integers or strings) throughout."
            )
        everything = np.concatenate([previous, ids]) if previous.size else ids
        values, counts = np.unique(everything, return_counts=True)
        if (counts > 1).any():
            raise ValueError(
                f"ids must be unique in the catalogue; {values[counts > 1][:5].tolist()} "
                "appear more than once."
            )

    def _encode_items(self, X):
        b = self.n_bits
        if _is_dask(X):
            if self._preprocessing is not None:
                raise TypeError(
                    "dask input needs a bare hasher (the Pipeline's preprocessing would run on "
                    "the client); preprocess the dask array first, e.g. with dask-ml."
                )
            from .distributed import transform_dask

            codes = transform_dask(self.hasher, X)
            if self.client is not None:
                return codes[:, :b], codes[:, b:], int(codes.shape[0])
            # No cluster: compute one block of rows at a time, so only codes accumulate.
            blocks = [np.asarray(block.compute()) for block in codes.to_delayed().ravel()]
            codes = np.vstack(blocks) if blocks else np.zeros((0, 2 * b), np.uint8)
        else:
            if self.client is not None:
                raise TypeError(
                    "a Catalogue with a dask client takes dask arrays in add(); got "
                    f"{type(X).__name__}. Wrap it: dask.array.from_array(X, chunks=...)."
                )
            codes = self.model.transform(X)
        return codes[:, :b], codes[:, b:], int(codes.shape[0])

    # ------------------------------------------------------------------ searching
    def encode_queries(self, X, modality: str) -> np.ndarray:
        """Encode queries of one modality, through that modality's preprocessing.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, list of str or str
            The queries' columns of that modality: the modality's block for a bare hasher;
            for a Pipeline, the raw columns its ColumnTransformer sends to that modality (a
            DataFrame, or for a modality fed by one transformer of one column, such as a
            caption vectoriser, a list of values or a single string).
        modality : {"image", "text"}
            Which modality the queries are.

        Returns
        -------
        codes : ndarray of shape (n_queries, n_bits), dtype uint8
            Their bits.
        """
        modality = check_modality(modality)
        if isinstance(X, str):
            X = [X]
        if self._preprocessing is None:
            return self.hasher.encode(X, modality=modality)
        pairs = _modality_transformers(self._preprocessing, self.hasher.n_image_features, modality)
        parts = []
        for transformer, columns in pairs:
            selected = _select(X, columns, single=len(pairs) == 1)
            if transformer != "passthrough":
                selected = transformer.transform(selected)
            parts.append(selected)
        return self.hasher.encode(_stack(parts), modality=modality)

    def kneighbors(self, X, *, modality: str, n_neighbors: int = 10, return_distance: bool = True):
        """Find the catalogue items whose other modality is nearest to each query.

        Parameters
        ----------
        X : see :meth:`encode_queries`
            Queries of one modality.
        modality : {"image", "text"}
            The queries' modality; they are searched against the items' codes of the other
            one (a text query finds images).
        n_neighbors : int, default=10
            Items per query, at most ``ntotal``.
        return_distance : bool, default=True
            Whether to return the distances too.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors), dtype int32
            Hamming distances, ascending; only when ``return_distance``.
        ids : ndarray of shape (n_queries, n_neighbors)
            The items' ids (the user's, if :meth:`add` was given them), ties by the order
            added.
        """
        modality = check_modality(modality)
        if self._ntotal == 0:
            raise ValueError("the catalogue is empty; add() items before searching it.")
        n_neighbors = check_n_neighbors(n_neighbors, self._ntotal, f"in [1, ntotal={self._ntotal}]")
        codes = self.encode_queries(X, modality)
        distances, positions = self._indexes[_OTHER[modality]].search(codes, n_neighbors)
        ids = self.ids[positions]
        return (distances, ids) if return_distance else ids

    # ------------------------------------------------------------------ disk
    def save(self, path) -> None:
        """Write the catalogue to a folder (created; an existing catalogue there is replaced).

        Parameters
        ----------
        path : str or path-like
            The folder. Its layout is in the class Notes.
        """
        import joblib

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for modality, index in self._indexes.items():
            index.save(path / modality)
        np.save(path / "ids.npy", self.ids, allow_pickle=False)
        joblib.dump(self.model, path / "model.joblib")
        header = {
            "format": "skmetacmh.Catalogue",
            "version": FORMAT_VERSION,
            "n_bits": self.n_bits,
            "ntotal": self._ntotal,
            "user_ids": bool(self._user_ids),
            "method": self.method,
            "distributed": self.client is not None,
        }
        (path / _HEADER).write_text(json.dumps(header, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path, *, mmap_mode: str | None = None, client=None) -> Catalogue:
        """Read a catalogue written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The folder :meth:`save` wrote.
        mmap_mode : {None, "r"}, default=None
            ``"r"`` memory-maps the codes and ids instead of reading them (in-memory
            catalogues only).
        client : distributed.Client or None, default=None
            For a catalogue saved from a distributed one: the cluster whose workers get the
            shards back (``None``: the default client).

        Returns
        -------
        catalogue : Catalogue
            Answers exactly as the saved one did.
        """
        import joblib

        path = Path(path)
        header_file = path / _HEADER
        if not header_file.is_file():
            raise FileNotFoundError(f"{path} holds no {_HEADER}; is it a saved Catalogue?")
        header = json.loads(header_file.read_text(encoding="utf-8"))
        if header.get("format") != "skmetacmh.Catalogue":
            raise ValueError(f"{header_file} is not a skmetacmh Catalogue header.")
        version = header.get("version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"{path} was written in Catalogue format version {version!r}; this skmetacmh "
                f"reads versions up to {FORMAT_VERSION}. Upgrade skmetacmh to load it."
            )
        model = joblib.load(path / "model.joblib")
        distributed = bool(header["distributed"])
        catalogue = cls(model, method=header["method"], client=client if distributed else None)
        if distributed:
            from .distributed import DistributedHammingIndex

            catalogue._indexes = {
                m: DistributedHammingIndex.load(path / m, client=client) for m in _OTHER
            }
            # None meant the default client; the catalogue keeps the one its indexes found.
            catalogue.client = catalogue._indexes["image"]._client()
        else:
            catalogue._indexes = {
                m: HammingIndex.load(path / m, mmap_mode=mmap_mode) for m in _OTHER
            }
        ids = np.load(path / "ids.npy", mmap_mode=mmap_mode, allow_pickle=False)
        if ids.shape != (header["ntotal"],) or any(
            len(index) != header["ntotal"] for index in catalogue._indexes.values()
        ):
            raise ValueError(f"{path} is inconsistent: its ids and indexes differ in length.")
        catalogue._ids = [ids] if ids.size else []
        catalogue._user_ids = bool(header["user_ids"]) if ids.size else None
        catalogue._ntotal = int(header["ntotal"])
        return catalogue


def _is_dask(X) -> bool:
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is optional
        return False
    return isinstance(X, da.Array)
