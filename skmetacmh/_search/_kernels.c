/*
 * The compiled search engine of skmetacmh (optional): the Python entry points of the one C
 * extension, skmetacmh._search._kernels. Exact Hamming top-k, radius search and average
 * precision by reading every code (the loops in _scan.c), and exact multi-index hashing (the
 * loops in _mih.c). This file only parses arguments, checks every buffer against the sizes
 * given (one check_len) and releases the GIL around the loops; skmetacmh/_search/
 * _compiled_engine.py is the Python file that calls it.
 *
 * Codes are rows of ``n_words`` little-endian uint64 words (the layout of
 * skmetacmh._search._packing.pack_codes). Every result is sorted by (distance, database index),
 * the package-wide ranking rule, and is what the pure numpy engine in
 * skmetacmh._search._numpy_engine returns. The module uses only the CPython C API and the
 * buffer protocol (no numpy headers).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_kernels.h"

/* ------------------------------------------------------------------ scan wrappers */
/* Every wrapper checks the sizes first (every buffer length is computed from them), then that
 * each buffer holds exactly the bytes those sizes imply, and only then runs its loop. */
static int check_len(Py_buffer *b, Py_ssize_t expected, const char *what)
{
    if (b->len != expected) {
        PyErr_Format(PyExc_ValueError, "%s: buffer holds %zd bytes, expected %zd", what, b->len,
                     expected);
        return -1;
    }
    return 0;
}

/* The database and query codes: n rows of n_words uint64 words each. */
static int check_codes(Py_buffer *db, Py_ssize_t n_db, Py_buffer *q, Py_ssize_t n_q,
                       Py_ssize_t n_words)
{
    return check_len(db, n_db * n_words * 8, "database") || check_len(q, n_q * n_words * 8, "queries");
}

static int invalid_sizes(const char *function)
{
    PyErr_Format(PyExc_ValueError, "%s: invalid sizes", function);
    return -1;
}

/* Release the buffers; return None, or NULL with the error set (status -1: already set,
 * 1: the loop ran out of memory). */
static PyObject *finish(Py_buffer *buffers, int n, int status)
{
    for (int i = 0; i < n; i++) PyBuffer_Release(&buffers[i]);
    if (status == 1) return PyErr_NoMemory();
    if (status != 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_knn(PyObject *self, PyObject *args)
{
    enum { Q, DB, OUT_D, OUT_I, N_BUF };
    Py_buffer b[N_BUF];
    Py_ssize_t n_db, n_q, n_words, n_bits, k;
    int status = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ny*nnnnw*w*", &b[Q], &n_q, &b[DB], &n_db, &n_words, &n_bits, &k,
                          &b[OUT_D], &b[OUT_I]))
        return NULL;
    if (n_words < 1 || n_bits < 1 || k < 1 || n_db < 0 || n_q < 0 || n_bits > 64 * n_words ||
        n_bits > INT32_MAX)
        invalid_sizes("knn");
    else if (!check_codes(&b[DB], n_db, &b[Q], n_q, n_words) &&
             !check_len(&b[OUT_D], n_q * k * 4, "distances") &&
             !check_len(&b[OUT_I], n_q * k * 8, "indices")) {
        Py_BEGIN_ALLOW_THREADS
        status = knn_body((const uint64_t *)b[Q].buf, n_q, (const uint64_t *)b[DB].buf, n_db,
                          n_words, n_bits, k, (int32_t *)b[OUT_D].buf, (int64_t *)b[OUT_I].buf)
                     ? 1
                     : 0;
        Py_END_ALLOW_THREADS
    }
    return finish(b, N_BUF, status);
}

/* range_count (fill == 0) and range_fill (fill == 1): the two passes of the radius search. */
static PyObject *range_pass(PyObject *args, int fill)
{
    enum { Q, DB, CURSOR, OUT_D, OUT_I, N_BUF };
    Py_buffer b[N_BUF];
    Py_ssize_t n_db, n_q, n_words, radius;
    int status = -1, n_buf = fill ? N_BUF : OUT_D;
    const char *name = fill ? "range_fill" : "range_count";
    int parsed = fill ? PyArg_ParseTuple(args, "y*ny*nnnw*w*w*", &b[Q], &n_q, &b[DB], &n_db,
                                         &n_words, &radius, &b[CURSOR], &b[OUT_D], &b[OUT_I])
                      : PyArg_ParseTuple(args, "y*ny*nnnw*", &b[Q], &n_q, &b[DB], &n_db,
                                         &n_words, &radius, &b[CURSOR]);
    if (!parsed) return NULL;
    if (n_words < 1 || radius < 0 || n_db < 0 || n_q < 0 || radius > INT32_MAX)
        invalid_sizes(name);
    else if (!check_codes(&b[DB], n_db, &b[Q], n_q, n_words) &&
             !check_len(&b[CURSOR], n_q * (radius + 1) * 8, fill ? "cursor" : "histogram") &&
             (!fill || !check_len(&b[OUT_D], (b[OUT_I].len / 8) * 4, "distances"))) {
        const Py_ssize_t n_out = fill ? b[OUT_I].len / 8 : 0;
        if (!fill) memset(b[CURSOR].buf, 0, (size_t)b[CURSOR].len);
        Py_BEGIN_ALLOW_THREADS
        range_body((const uint64_t *)b[Q].buf, n_q, (const uint64_t *)b[DB].buf, n_db, n_words,
                   radius, (int64_t *)b[CURSOR].buf, fill ? (int32_t *)b[OUT_D].buf : NULL,
                   fill ? (int64_t *)b[OUT_I].buf : NULL, n_out);
        Py_END_ALLOW_THREADS
        status = 0;
    }
    return finish(b, n_buf, status);
}

static PyObject *py_range_count(PyObject *self, PyObject *args)
{
    (void)self;
    return range_pass(args, 0);
}

static PyObject *py_range_fill(PyObject *self, PyObject *args)
{
    (void)self;
    return range_pass(args, 1);
}

static PyObject *py_average_precision(PyObject *self, PyObject *args)
{
    enum { Q, DB, Q_LAB, DB_LAB, OUT_AP, OUT_NREL, N_BUF };
    Py_buffer b[N_BUF];
    Py_ssize_t n_q, n_db, n_words, n_bits, label_words, top_k;
    int status = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ny*nnny*y*nnw*w*", &b[Q], &n_q, &b[DB], &n_db, &n_words, &n_bits,
                          &b[Q_LAB], &b[DB_LAB], &label_words, &top_k, &b[OUT_AP], &b[OUT_NREL]))
        return NULL;
    /* Labels: int64 class ids (label_words == 0) or label_words uint64 words per item. */
    const Py_ssize_t lw = label_words > 0 ? label_words : 1;
    if (n_words < 1 || n_bits < 1 || n_bits > 64 * n_words || n_bits > INT32_MAX / 2 || n_q < 0 ||
        n_db < 0 || (uint64_t)n_db > UINT32_MAX || label_words < 0 || top_k < 0)
        invalid_sizes("average_precision");
    else if (!check_codes(&b[DB], n_db, &b[Q], n_q, n_words) &&
             !check_len(&b[Q_LAB], n_q * lw * 8, "query labels") &&
             !check_len(&b[DB_LAB], n_db * lw * 8, "database labels") &&
             !check_len(&b[OUT_AP], n_q * 8, "ap") && !check_len(&b[OUT_NREL], n_q * 8, "n_relevant")) {
        Py_BEGIN_ALLOW_THREADS
        status = ap_body((const uint64_t *)b[Q].buf, n_q, (const uint64_t *)b[DB].buf, n_db, n_words,
                         n_bits, b[Q_LAB].buf, b[DB_LAB].buf, label_words, top_k,
                         (double *)b[OUT_AP].buf, (int64_t *)b[OUT_NREL].buf)
                     ? 1
                     : 0;
        Py_END_ALLOW_THREADS
    }
    return finish(b, N_BUF, status);
}

/* ------------------------------------------------------------------ MIH wrappers */
/* Checks every size and every table descriptor, so that no lookup can leave the buffers. */
static int setup_tables(tables_t *t, Py_buffer *meta, Py_ssize_t m, Py_buffer *offsets,
                        Py_buffer *keys, Py_buffer *ids, Py_buffer *codes, int copies,
                        Py_ssize_t width,
                        Py_ssize_t n, Py_ssize_t n_words, Py_ssize_t n_bits, Py_buffer *sub_masks,
                        Py_ssize_t budget, Py_buffer *costs)
{
    if (m < 1 || n < 1 || n_words < 1 || n_bits < 1 || n_bits > 64 * n_words ||
        (width != 4 && width != 8) || budget < 0) {
        PyErr_SetString(PyExc_ValueError, "mih: invalid sizes");
        return -1;
    }
    /* The work costs, defined once, in _mih.py: a direct probe, the factor of a sparse one, a
     * candidate read by id (in units of a verified copied candidate). */
    if (check_len(costs, 3 * 8, "costs")) return -1;
    const int64_t *cost = (const int64_t *)costs->buf;
    if (cost[0] < 0 || cost[1] < 0 || cost[2] < 0) {
        PyErr_SetString(PyExc_ValueError, "mih: negative costs");
        return -1;
    }
    if (check_len(meta, m * META_COLS * 8, "meta") || check_len(ids, m * n * width, "ids") ||
        check_len(codes, (copies ? m : 1) * n * n_words * 8, "codes") ||
        check_len(sub_masks, m * n_words * 8, "substring masks"))
        return -1;
    if (offsets->len % width || keys->len % 8) {
        PyErr_SetString(PyExc_ValueError, "mih: offsets or keys buffer of a partial length");
        return -1;
    }
    const int64_t n_offsets = offsets->len / width, n_keys = keys->len / 8;
    const int64_t *mt = (const int64_t *)meta->buf;
    int64_t last_step = 0, end = 0;
    for (int64_t j = 0; j < m; j++, mt += META_COLS) {
        const int64_t start = mt[0], length = mt[1], direct = mt[2], off = mt[3], kb = mt[4];
        const int64_t nk = mt[5];
        if (start != end || length < 1 || length > 64 || (direct != 0 && direct != 1) || off < 0 ||
            kb < 0 || nk < 0 || (direct && length > 40) ||
            off + (direct ? ((int64_t)1 << length) : nk) + 1 > n_offsets ||
            (!direct && kb + nk > n_keys)) {
            PyErr_Format(PyExc_ValueError, "mih: invalid descriptor of table %lld", (long long)j);
            return -1;
        }
        end = start + length;
        if (length * m + j > last_step) last_step = length * m + j;
    }
    if (end != n_bits) {
        PyErr_SetString(PyExc_ValueError, "mih: the substrings do not cover n_bits");
        return -1;
    }
    t->meta = (const int64_t *)meta->buf;
    t->m = m;
    t->offsets = offsets->buf;
    t->keys = (const uint64_t *)keys->buf;
    t->ids = ids->buf;
    t->codes = (const uint64_t *)codes->buf;
    t->copies = copies;
    t->width = (int)width;
    t->n = n;
    t->n_words = n_words;
    t->n_bits = n_bits;
    t->sub_masks = (const uint64_t *)sub_masks->buf;
    t->budget = budget;
    t->probe_cost = cost[0];
    t->sparse_probe_factor = cost[1];
    t->by_id_verify_cost = cost[2];
    t->last_step = last_step;
    return 0;
}

/* The buffers both entry points borrow from Python: the tables and the queries. */
typedef struct {
    Py_buffer meta, offsets, keys, ids, codes, sub_masks, queries, costs;
} mih_buffers_t;

static void release_buffers(mih_buffers_t *b)
{
    PyBuffer_Release(&b->meta);
    PyBuffer_Release(&b->offsets);
    PyBuffer_Release(&b->keys);
    PyBuffer_Release(&b->ids);
    PyBuffer_Release(&b->codes);
    PyBuffer_Release(&b->sub_masks);
    PyBuffer_Release(&b->queries);
    PyBuffer_Release(&b->costs);
}

static PyObject *py_mih_knn(PyObject *self, PyObject *args)
{
    mih_buffers_t b;
    Py_buffer od, oi, status;
    Py_ssize_t m, width, n, n_words, n_bits, n_q, k, budget;
    int copies;
    tables_t t;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ny*ny*y*y*y*pnnnny*nny*w*w*w*", &b.queries, &n_q, &b.meta, &m, &b.offsets,
                          &b.keys, &b.ids, &b.codes, &copies, &width, &n, &n_words, &n_bits, &b.sub_masks, &k,
                          &budget, &b.costs, &od, &oi, &status))
        return NULL;
    PyObject *result = NULL;
    int64_t *hd = NULL, *hid = NULL;
    uint64_t *qkeys = NULL;
    if (setup_tables(&t, &b.meta, m, &b.offsets, &b.keys, &b.ids, &b.codes, copies, width, n, n_words, n_bits,
                     &b.sub_masks, budget, &b.costs))
        goto done;
    if (k < 1 || k > n || n_q < 0) {
        PyErr_SetString(PyExc_ValueError, "mih knn: k must be in [1, n] and n_query >= 0");
        goto done;
    }
    if (check_len(&b.queries, n_q * n_words * 8, "queries") || check_len(&od, n_q * k * 4, "distances") ||
        check_len(&oi, n_q * k * 8, "indices") || check_len(&status, n_q, "status"))
        goto done;
    hd = (int64_t *)malloc((size_t)k * sizeof(int64_t));
    hid = (int64_t *)malloc((size_t)k * sizeof(int64_t));
    qkeys = (uint64_t *)malloc((size_t)m * sizeof(uint64_t));
    if (hd == NULL || hid == NULL || qkeys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int corrupt;
    Py_BEGIN_ALLOW_THREADS
    corrupt = mih_knn_all(&t, (const uint64_t *)b.queries.buf, n_q, k, (int32_t *)od.buf,
                          (int64_t *)oi.buf, (int8_t *)status.buf, hd, hid, qkeys);
    Py_END_ALLOW_THREADS
    if (corrupt) {
        PyErr_SetString(PyExc_ValueError, "mih knn: table offsets or ids out of range");
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(hd);
    free(hid);
    free(qkeys);
    release_buffers(&b);
    PyBuffer_Release(&od);
    PyBuffer_Release(&oi);
    PyBuffer_Release(&status);
    return result;
}

/* mih_range_count (fill == 0) and mih_range_fill (fill == 1): the two passes of the MIH
 * radius search, into the caller's buffers as range_count / range_fill. */
static PyObject *mih_range_pass(PyObject *args, int fill)
{
    mih_buffers_t b;
    Py_buffer first, out_d = {0}, out_i = {0}; /* counts or lims; the results (filling) */
    Py_buffer status = {0};                   /* counting only */
    Py_ssize_t m, width, n, n_words, n_bits, n_q, radius, budget;
    int copies;
    tables_t t;
    const char *name = fill ? "mih range fill" : "mih range count";
    int parsed = fill ? PyArg_ParseTuple(args, "y*ny*ny*y*y*y*pnnnny*nny*y*w*w*", &b.queries, &n_q, &b.meta,
                                         &m, &b.offsets, &b.keys, &b.ids, &b.codes, &copies, &width, &n,
                                         &n_words, &n_bits, &b.sub_masks, &radius, &budget, &b.costs, &first,
                                         &out_d, &out_i)
                      : PyArg_ParseTuple(args, "y*ny*ny*y*y*y*pnnnny*nny*w*w*", &b.queries, &n_q, &b.meta,
                                         &m, &b.offsets, &b.keys, &b.ids, &b.codes, &copies, &width, &n,
                                         &n_words, &n_bits, &b.sub_masks, &radius, &budget, &b.costs, &first,
                                         &status);
    if (!parsed) return NULL;
    PyObject *result = NULL;
    pairs_t scratch = {NULL, 0, 0};
    uint64_t *qkeys = NULL;
    if (setup_tables(&t, &b.meta, m, &b.offsets, &b.keys, &b.ids, &b.codes, copies, width, n, n_words, n_bits,
                     &b.sub_masks, budget, &b.costs))
        goto done;
    if (radius < 0 || n_q < 0) {
        PyErr_Format(PyExc_ValueError, "%s: radius and n_query must be >= 0", name);
        goto done;
    }
    if (check_len(&b.queries, n_q * n_words * 8, "queries") ||
        check_len(&first, (n_q + fill) * 8, fill ? "lims" : "counts") ||
        (!fill && check_len(&status, n_q, "status")))
        goto done;
    const int64_t *lims = fill ? (const int64_t *)first.buf : NULL;
    if (fill) { /* every query's slice must lie inside the result buffers */
        int bad = lims[0] != 0;
        for (Py_ssize_t i = 0; i < n_q && !bad; i++) bad = lims[i + 1] < lims[i];
        if (bad || check_len(&out_d, lims[n_q] * 4, "distances") ||
            check_len(&out_i, lims[n_q] * 8, "indices")) {
            if (bad) PyErr_Format(PyExc_ValueError, "%s: lims must start at 0 and not decrease", name);
            goto done;
        }
    }
    qkeys = (uint64_t *)malloc((size_t)m * sizeof(uint64_t));
    if (qkeys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = mih_range_all(&t, (const uint64_t *)b.queries.buf, n_q, radius,
                       fill ? NULL : (int8_t *)status.buf, fill ? NULL : (int64_t *)first.buf, lims,
                       fill ? (int32_t *)out_d.buf : NULL, fill ? (int64_t *)out_i.buf : NULL, &scratch,
                       qkeys);
    Py_END_ALLOW_THREADS
    if (rc == -1)
        PyErr_Format(PyExc_ValueError, "%s: table offsets or ids out of range", name);
    else if (rc == -2)
        PyErr_NoMemory();
    else if (rc == -3)
        PyErr_Format(PyExc_ValueError, "%s: the counts in lims differ from the counting pass", name);
    else {
        result = Py_None;
        Py_INCREF(result);
    }
done:
    free(scratch.items);
    free(qkeys);
    release_buffers(&b);
    PyBuffer_Release(&first);
    if (fill) {
        PyBuffer_Release(&out_d);
        PyBuffer_Release(&out_i);
    } else {
        PyBuffer_Release(&status);
    }
    return result;
}

static PyObject *py_mih_range_count(PyObject *self, PyObject *args)
{
    (void)self;
    return mih_range_pass(args, 0);
}

static PyObject *py_mih_range_fill(PyObject *self, PyObject *args)
{
    (void)self;
    return mih_range_pass(args, 1);
}

static PyMethodDef methods[] = {
    {"knn", py_knn, METH_VARARGS,
     "knn(queries, n_query, db, n_db, n_words, n_bits, k, out_dist, out_idx): exact top-k."},
    {"range_count", py_range_count, METH_VARARGS,
     "range_count(queries, n_query, db, n_db, n_words, radius, hist): distance histograms."},
    {"range_fill", py_range_fill, METH_VARARGS,
     "range_fill(queries, n_query, db, n_db, n_words, radius, cursor, out_dist, out_idx)."},
    {"average_precision", py_average_precision, METH_VARARGS,
     "average_precision(queries, n_query, db, n_db, n_words, n_bits, query_labels, db_labels, "
     "label_words, top_k, out_ap, out_n_relevant): per-query AP of the stable ranking."},
    {"mih_knn", py_mih_knn, METH_VARARGS, "mih_knn(queries, n_query, meta, m, offsets, keys, ids, "
     "codes, copies, width, n, n_words, n_bits, sub_masks, k, budget, costs, out_dist, "
     "out_idx, status): exact MIH top-k."},
    {"mih_range_count", py_mih_range_count, METH_VARARGS, "mih_range_count(queries, n_query, meta, "
     "m, offsets, keys, ids, codes, copies, width, n, n_words, n_bits, sub_masks, radius, "
     "budget, costs, out_counts, out_status): MIH radius search, first pass (counts)."},
    {"mih_range_fill", py_mih_range_fill, METH_VARARGS, "mih_range_fill(queries, n_query, meta, m, "
     "offsets, keys, ids, codes, copies, width, n, n_words, n_bits, sub_masks, radius, budget, "
     "costs, lims, out_dist, out_idx): second pass, results sorted per query from lims."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "Compiled Hamming top-k, radius search and average precision (optional; see "
    "skmetacmh._search).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&moduledef); }
