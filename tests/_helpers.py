"""Test helpers shared by several test modules (test modules import from here, never from
each other): brute-force references for the Hamming searches, codes with many ties, and
two-view data, from a label signal or from latent class centres."""

import numpy as np


# --------------------------------------------------------------------------- search references
def brute_distances(queries, db):
    """Full distance matrix straight from the 0/1 bits, independent of any packing."""
    queries = np.asarray(queries, dtype=np.int64)
    db = np.asarray(db, dtype=np.int64)
    return (queries[:, None, :] != db[None, :, :]).sum(axis=2)


def brute_search(queries, db, k, pad=True):
    """An engine's answer, ``k`` columns padded with -1; ``pad=False``: the index's, at most
    ``len(db)`` columns. Ties are broken by the smaller id."""
    dist = brute_distances(queries, db)
    width = k if pad else min(k, len(db))
    out_d = np.full((len(queries), width), -1, dtype=np.int64)
    out_i = np.full((len(queries), width), -1, dtype=np.int64)
    ids = np.arange(len(db))
    for q in range(len(queries)):
        order = np.lexsort((ids, dist[q]))[:k]
        out_d[q, : len(order)] = dist[q, order]
        out_i[q, : len(order)] = order
    return out_d, out_i


def brute_range(queries, db, radius):
    """Per query, ``(distances, ids)`` of every code within ``radius``, by distance then id."""
    dist = brute_distances(queries, db)
    ids = np.arange(len(db))
    results = []
    for q in range(len(queries)):
        within = ids[dist[q] <= radius]
        order = within[np.lexsort((within, dist[q, within]))]
        results.append((dist[q, order], order))
    return results


def cross_modal_queries(hasher, X_queries, n_img):
    """Both directions of a fitted hasher's retrieval: ``(modality, query block, encoded
    queries, the other modality's database codes)``, image queries first."""
    n_bits = hasher.database_codes_.shape[1] // 2
    image_db, text_db = hasher.database_codes_[:, :n_bits], hasher.database_codes_[:, n_bits:]
    for modality, block, other_db in (
        ("image", X_queries[:, :n_img], text_db),
        ("text", X_queries[:, n_img:], image_db),
    ):
        yield modality, block, hasher.encode(block, modality=modality), other_db


def tied_codes(rng, n, n_bits, n_distinct=None, p_one=0.1):
    """Codes drawn from a small pool of sparse patterns: many duplicates, many equal distances."""
    n_distinct = n_distinct or max(2, n // 8)
    pool = (rng.random((n_distinct, n_bits)) < p_one).astype(np.uint8)
    return pool[rng.integers(0, n_distinct, size=n)]


def assert_same(result, expected):
    """Two search results (tuples of arrays) are equal part by part, and have as many parts."""
    assert len(result) == len(expected), (len(result), len(expected))
    for got, want in zip(result, expected):
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- two-view data
def make_two_view_data(signal, n_image_features, n_text_features, *, noise, rng):
    """Two noisy linear views of a label signal, image columns first.

    ``signal`` is ``(n, n_classes)`` (a class indicator, or any label matrix); each view is
    ``signal @ W + noise * E`` with its own Gaussian ``W`` and ``E``, drawn from ``rng`` in
    the order image ``W``, image ``E``, text ``W``, text ``E``. Returns the ``(n,
    n_image_features + n_text_features)`` float array.
    """
    signal = np.asarray(signal, dtype=float)
    n, n_classes = signal.shape
    views = []
    for width in (n_image_features, n_text_features):
        weights = rng.standard_normal((n_classes, width))
        views.append(signal @ weights + noise * rng.standard_normal((n, width)))
    return np.hstack(views)


# The widths of make_problem's two views.
N_IMG, N_TXT = 10, 8


def make_problem(n=240, n_classes=4, noise=1.5, multilabel=False, seed=0):
    """Two noisy linear views of class centres; labels 1-D or an indicator matrix."""
    rng = np.random.default_rng(seed)
    if multilabel:
        Y = (rng.random((n, n_classes)) < 0.1).astype(int)
        Y[np.arange(n), rng.integers(n_classes, size=n)] = 1
        centres = Y @ rng.normal(size=(n_classes, 6))
        y = Y
    else:
        y = rng.integers(n_classes, size=n)
        centres = rng.normal(size=(n_classes, 6))[y]
    img = centres @ rng.normal(size=(6, N_IMG)) + noise * rng.normal(size=(n, N_IMG))
    txt = centres @ rng.normal(size=(6, N_TXT)) + noise * rng.normal(size=(n, N_TXT))
    return np.hstack([img, txt]), y


def one_hot(y):
    """The ``(n, n_classes)`` uint8 indicator of 1-D labels, classes in sorted order."""
    return (y[:, None] == np.unique(y)[None, :]).astype(np.uint8)
