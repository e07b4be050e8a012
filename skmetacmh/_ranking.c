/*
 * Average precision of Hamming ranking in one pass per query, without sorting.
 *
 * Hamming distances take only n_bits + 1 values, so the stable ranking (distance, then
 * database index) is a counting sort: after a histogram of the distances, walking the
 * database in index order hands out ranks bucket by bucket. Precision at a relevant item
 * needs only its rank and how many relevant items precede it, which a second histogram
 * (of relevant items) gives the same way. Work and memory are O(n_db) per query.
 *
 * The optional pure-numpy path in skmetacmh/metrics.py computes the same quantity with a
 * stable argsort; the tests check that both agree.
 *
 * Arguments are C-contiguous buffers (numpy arrays) passed through the buffer protocol,
 * so the module needs no numpy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int popcount64(uint64_t x) { return __builtin_popcountll(x); }

/* average_precision(q_codes, db_codes, n_words, n_bits,
 *                   q_labels, db_labels, label_words, top_k, ap_out, n_relevant_out)
 *
 * q_codes: uint64 (n_query, n_words); db_codes: uint64 (n_db, n_words).
 * label_words == 0: labels are int64 class ids, relevant iff equal and >= 0.
 * label_words  > 0: labels are uint64 (n, label_words) bit sets, relevant iff they intersect.
 * top_k == 0 ranks the whole database.
 * ap_out: float64 (n_query,); n_relevant_out: int64 (n_query,).
 */
static PyObject *average_precision(PyObject *self, PyObject *args) {
    Py_buffer qb, db, qlb, dlb, apb, nrb;
    Py_ssize_t n_words, n_bits, label_words, top_k;
    if (!PyArg_ParseTuple(args, "y*y*nny*y*nnw*w*", &qb, &db, &n_words, &n_bits, &qlb, &dlb,
                          &label_words, &top_k, &apb, &nrb))
        return NULL;

    PyObject *result = NULL;
    const Py_ssize_t n_query = qb.len / (Py_ssize_t)(8 * n_words);
    const Py_ssize_t n_db = db.len / (Py_ssize_t)(8 * n_words);
    const Py_ssize_t lw = label_words > 0 ? label_words : 1;
    if (n_words <= 0 || n_bits <= 0 || n_bits > 64 * n_words || apb.len < 8 * n_query ||
        nrb.len < 8 * n_query || qlb.len < 8 * n_query * lw || dlb.len < 8 * n_db * lw) {
        PyErr_SetString(PyExc_ValueError, "_ranking.average_precision: inconsistent buffers");
        goto done;
    }

    const uint64_t *q = (const uint64_t *)qb.buf, *d = (const uint64_t *)db.buf;
    const uint64_t *ql = (const uint64_t *)qlb.buf, *dl = (const uint64_t *)dlb.buf;
    const int64_t *qc = (const int64_t *)qlb.buf, *dc = (const int64_t *)dlb.buf;
    double *ap = (double *)apb.buf;
    int64_t *n_relevant = (int64_t *)nrb.buf;
    const Py_ssize_t n_values = n_bits + 1;

    /* key = distance * 2 + relevant, one per database item */
    uint32_t *key = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(n_db > 0 ? n_db : 1));
    int64_t *offset = (int64_t *)calloc((size_t)n_values, sizeof(int64_t));
    int64_t *rel_offset = (int64_t *)calloc((size_t)n_values, sizeof(int64_t));
    if (!key || !offset || !rel_offset) {
        free(key); free(offset); free(rel_offset);
        PyErr_NoMemory();
        goto done;
    }

    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n_query; i++) {
        const uint64_t *qi = q + i * n_words;
        memset(offset, 0, sizeof(int64_t) * (size_t)n_values);
        memset(rel_offset, 0, sizeof(int64_t) * (size_t)n_values);
        int64_t total_relevant = 0;
        for (Py_ssize_t j = 0; j < n_db; j++) {
            const uint64_t *dj = d + j * n_words;
            int dist = 0;
            for (Py_ssize_t w = 0; w < n_words; w++) dist += popcount64(qi[w] ^ dj[w]);
            int rel = 0;
            if (label_words == 0) {
                rel = qc[i] >= 0 && qc[i] == dc[j];
            } else {
                const uint64_t *a = ql + i * label_words, *b = dl + j * label_words;
                for (Py_ssize_t w = 0; w < label_words && !rel; w++) rel = (a[w] & b[w]) != 0;
            }
            key[j] = ((uint32_t)dist << 1) | (uint32_t)rel;
            offset[dist]++;
            rel_offset[dist] += rel;
            total_relevant += rel;
        }
        /* histograms -> number of items (relevant items) ranked before each bucket */
        int64_t seen = 0, rel_seen = 0;
        for (Py_ssize_t v = 0; v < n_values; v++) {
            int64_t c = offset[v], r = rel_offset[v];
            offset[v] = seen;
            rel_offset[v] = rel_seen;
            seen += c;
            rel_seen += r;
        }
        double precision_sum = 0.0;
        int64_t hits = 0;
        for (Py_ssize_t j = 0; j < n_db; j++) {
            const uint32_t dist = key[j] >> 1;
            const int64_t rank = offset[dist]++; /* 0-based */
            if (key[j] & 1u) {
                const int64_t hit = rel_offset[dist]++; /* relevant items ranked before */
                if (top_k == 0 || rank < top_k) {
                    precision_sum += (double)(hit + 1) / (double)(rank + 1);
                    hits++;
                }
            }
        }
        n_relevant[i] = total_relevant;
        ap[i] = hits > 0 ? precision_sum / (double)hits : 0.0;
    }
    Py_END_ALLOW_THREADS

    free(key);
    free(offset);
    free(rel_offset);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&qb);
    PyBuffer_Release(&db);
    PyBuffer_Release(&qlb);
    PyBuffer_Release(&dlb);
    PyBuffer_Release(&apb);
    PyBuffer_Release(&nrb);
    return result;
}

static PyMethodDef methods[] = {
    {"average_precision", average_precision, METH_VARARGS,
     "Per-query average precision of stable Hamming ranking (counting sort, O(n_db))."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ranking",
                                    "Compiled ranking kernels for skmetacmh.metrics.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__ranking(void) { return PyModule_Create(&module); }
