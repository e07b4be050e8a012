/*
 * The loops of the compiled search engine, as _kernels.c (argument parsing and buffer checks,
 * the only file that touches Python) calls them: the scan in _scan.c, multi-index hashing in
 * _mih.c. They run without the GIL; a status of -1 means memory ran out (scan) or the tables
 * are corrupt (MIH), -2 that memory ran out (MIH).
 */
#ifndef SKMETACMH_KERNELS_H
#define SKMETACMH_KERNELS_H

#include <stdint.h>

/* ------------------------------------------------------------------ scan (_scan.c) */
int knn_body(const uint64_t *queries, int64_t n_query, const uint64_t *db, int64_t n_db,
             int64_t n_words, int64_t n_bits, int64_t k, int32_t *out_d, int64_t *out_i);
void range_body(const uint64_t *queries, int64_t n_query, const uint64_t *db, int64_t n_db,
                int64_t n_words, int64_t radius, int64_t *cursor, int32_t *out_d, int64_t *out_i,
                int64_t n_out);
int ap_body(const uint64_t *q, int64_t n_query, const uint64_t *db, int64_t n_db,
            int64_t n_words, int64_t n_bits, const void *q_labels, const void *db_labels,
            int64_t label_words, int64_t top_k, double *ap, int64_t *n_relevant);

/* ------------------------------------------------------------------ MIH (_mih.c) */
#define META_COLS 6

/* The tables as _mih.py's _Tables lays them out (see _mih.c), checked by setup_tables. */
typedef struct {
    const int64_t *meta;
    int64_t m;
    const void *offsets;
    const uint64_t *keys;
    const void *ids;
    const uint64_t *codes;
    int copies;
    int width;
    int64_t n, n_words, n_bits;
    const uint64_t *sub_masks;
    int64_t budget;
    int64_t probe_cost, sparse_probe_factor, by_id_verify_cost; /* _mih.py's COSTS */
    int64_t last_step;
} tables_t;

typedef struct {
    int64_t d, id;
} pair_t;

typedef struct {
    pair_t *items;
    int64_t len, cap;
} pairs_t;

/* k-NN of every query: heap_d, heap_id hold k entries, qkeys m; 0, or -1 (corrupt tables). */
int mih_knn_all(const tables_t *t, const uint64_t *queries, int64_t n_q, int64_t k,
                int32_t *out_d, int64_t *out_i, int8_t *status, int64_t *heap_d,
                int64_t *heap_id, uint64_t *qkeys);
/* Radius search of every query in two passes: lims == NULL counts (counts, status), else the
 * results, sorted by (distance, id), fill out_d/out_i from lims[i]; `scratch` holds one query's
 * results. 0, -1 (corrupt tables), -2 (no memory) or -3 (a count differs from lims). */
int mih_range_all(const tables_t *t, const uint64_t *queries, int64_t n_q, int64_t radius,
                  int8_t *status, int64_t *counts, const int64_t *lims, int32_t *out_d,
                  int64_t *out_i, pairs_t *scratch, uint64_t *qkeys);

#endif /* SKMETACMH_KERNELS_H */
