/*
 * The scan of the compiled search engine: exact Hamming top-k, radius search and average
 * precision over packed binary codes, reading every database code (the loops; _kernels.c
 * parses the arguments and checks the buffers).
 *
 * Codes are rows of ``n_words`` little-endian uint64 words (the layout of
 * skmetacmh._search._packing.pack_codes). Every result is sorted by (distance, database index),
 * the package-wide ranking rule, and is what the pure numpy engine in
 * skmetacmh._search._numpy_engine returns.
 *
 * Why it is fast: a Hamming distance takes only n_bits + 1 values, so the k-th smallest distance
 * can be tracked with a histogram instead of a heap. While scanning, each query keeps a threshold
 * T (the smallest t with at least k seen items at distance <= t); T only goes down. An item is
 * kept only when its distance is <= T, which after the first few thousand items is rare, so the
 * inner loop is XOR, popcount, compare. The kept items are appended in index order, so a final
 * counting sort by distance yields the exact (distance, index) order with no comparison sort.
 * Queries are processed in blocks against cache-sized chunks of the database, so each chunk is
 * read from memory once per block of queries rather than once per query. Average precision uses
 * the same counting sort over the whole database (O(n_db) per query, no sorting).
 *
 * The loops run without the GIL and touch no Python object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_kernels.h"
#include "_popcount.h"

#define QUERY_BLOCK 32
#define CHUNK_BYTES (128 * 1024)

/* ------------------------------------------------------------------ per-query top-k state */
typedef struct {
    uint32_t threshold;  /* current T: the k-th smallest distance seen so far (n_bits before) */
    int64_t limit;       /* accept an item iff its distance <= limit (T, or T - 1 once full) */
    int64_t n_le;        /* number of kept items with distance <= T */
    int64_t *hist;       /* hist[d] = kept items at distance d (exact for d <= T) */
    int64_t *cand_idx;   /* kept items, in index order */
    uint32_t *cand_dist;
    int64_t len, cap;
    int failed;
} topk_state;

static int topk_reserve(topk_state *s, int64_t cap)
{
    int64_t *ni = (int64_t *)realloc(s->cand_idx, (size_t)cap * sizeof(int64_t));
    if (ni == NULL) return -1;
    s->cand_idx = ni;
    uint32_t *nd = (uint32_t *)realloc(s->cand_dist, (size_t)cap * sizeof(uint32_t));
    if (nd == NULL) return -1;
    s->cand_dist = nd;
    s->cap = cap;
    return 0;
}

/* Drop kept items that can no longer make the top-k, and grow the buffer if still crowded. */
static int topk_compact(topk_state *s)
{
    int64_t w = 0;
    for (int64_t r = 0; r < s->len; r++) {
        if (s->cand_dist[r] <= s->threshold) {
            s->cand_idx[w] = s->cand_idx[r];
            s->cand_dist[w] = s->cand_dist[r];
            w++;
        }
    }
    s->len = w;
    if (w * 2 > s->cap) return topk_reserve(s, s->cap * 2);
    return 0;
}

/* Rare path: keep item i (distance d <= limit) and lower T while at least k items lie below it.
 * Once k items at distance <= T are kept, a later item at distance T cannot enter the top-k
 * (every kept one has a smaller index), hence limit = T - 1: hist[d] stays exact for d < T and
 * the kept items at distance T are the first ones in index order, which is all the final
 * selection needs. */
static void topk_push(topk_state *s, int64_t i, uint32_t d, int64_t k)
{
    if (s->failed) return;
    if (s->len == s->cap && topk_compact(s) != 0) {
        s->failed = 1;
        return;
    }
    s->cand_idx[s->len] = i;
    s->cand_dist[s->len] = d;
    s->len++;
    s->hist[d]++;
    s->n_le++;
    while (s->n_le - s->hist[s->threshold] >= k) {
        s->n_le -= s->hist[s->threshold];
        s->threshold--;
    }
    s->limit = s->n_le >= k ? (int64_t)s->threshold - 1 : (int64_t)s->threshold;
}

/* Scan rows [start, stop) of the database for one query. Called with a constant n_words for
 * the common code lengths, so that the word loop unrolls and the query stays in registers.
 * Four rows are compared at a time against the acceptance limit, with a single branch. */
HK_INLINE void topk_scan_words(const uint64_t *db, const uint64_t *q, const int64_t n_words,
                               int64_t start, int64_t stop, int64_t k, topk_state *s)
{
    int64_t t = s->limit;
    int64_t i = start;
    for (; i + 4 <= stop; i += 4) {
        const uint64_t *row = db + n_words * i;
        uint32_t d0 = hk_distance(q, row, n_words);
        uint32_t d1 = hk_distance(q, row + n_words, n_words);
        uint32_t d2 = hk_distance(q, row + 2 * n_words, n_words);
        uint32_t d3 = hk_distance(q, row + 3 * n_words, n_words);
        uint32_t lo01 = d0 < d1 ? d0 : d1;
        uint32_t lo23 = d2 < d3 ? d2 : d3;
        if ((int64_t)(lo01 < lo23 ? lo01 : lo23) <= t) {
            if ((int64_t)d0 <= s->limit) topk_push(s, i, d0, k);
            if ((int64_t)d1 <= s->limit) topk_push(s, i + 1, d1, k);
            if ((int64_t)d2 <= s->limit) topk_push(s, i + 2, d2, k);
            if ((int64_t)d3 <= s->limit) topk_push(s, i + 3, d3, k);
            t = s->limit;
        }
    }
    for (; i < stop; i++) {
        uint32_t d = hk_distance(q, db + n_words * i, n_words);
        if ((int64_t)d <= s->limit) topk_push(s, i, d, k);
    }
}

HK_INLINE void topk_scan(const uint64_t *db, const uint64_t *q, int64_t n_words, int64_t start,
                         int64_t stop, int64_t k, topk_state *s)
{
    switch (n_words) {
    case 1: topk_scan_words(db, q, 1, start, stop, k, s); break;
    case 2: topk_scan_words(db, q, 2, start, stop, k, s); break;
    case 3: topk_scan_words(db, q, 3, start, stop, k, s); break;
    case 4: topk_scan_words(db, q, 4, start, stop, k, s); break;
    default: topk_scan_words(db, q, n_words, start, stop, k, s);
    }
}

/* Write the exact top-k of one query, sorted by (distance, index), padding with -1. */
static void topk_emit(topk_state *s, int64_t k, int32_t *out_d, int64_t *out_i, int64_t *offset)
{
    const uint32_t t = s->threshold;
    const int64_t take = s->n_le < k ? s->n_le : k;
    int64_t pos = 0;
    for (uint32_t d = 0; d <= t; d++) {
        offset[d] = pos;
        pos += s->hist[d];
    }
    /* Items at the boundary distance T fill the remaining slots in index order. */
    const int64_t boundary_end = take;
    for (int64_t r = 0; r < s->len; r++) {
        uint32_t d = s->cand_dist[r];
        if (d > t) continue;
        int64_t p = offset[d];
        if (d == t && p >= boundary_end) continue;
        offset[d] = p + 1;
        out_d[p] = (int32_t)d;
        out_i[p] = s->cand_idx[r];
    }
    for (int64_t p = take; p < k; p++) {
        out_d[p] = -1;
        out_i[p] = -1;
    }
}

static int64_t chunk_rows(int64_t n_words)
{
    int64_t rows = CHUNK_BYTES / (8 * n_words);
    return rows < 64 ? 64 : rows;
}

/* Returns 0 on success, -1 when memory ran out. */
int knn_body(const uint64_t *queries, int64_t n_query, const uint64_t *db, int64_t n_db,
                       int64_t n_words, int64_t n_bits, int64_t k, int32_t *out_d, int64_t *out_i)
{
    const int64_t n_hist = n_bits + 1;
    const int64_t rows = chunk_rows(n_words);
    int64_t init_cap = 2 * k + 1024;
    if (init_cap > n_db + 1) init_cap = n_db + 1;
    topk_state st[QUERY_BLOCK];
    int64_t *hist = (int64_t *)malloc((size_t)(QUERY_BLOCK * n_hist + n_hist) * sizeof(int64_t));
    if (hist == NULL) return -1;
    int64_t *offset = hist + QUERY_BLOCK * n_hist;
    int status = 0;
    memset(st, 0, sizeof(st));
    /* Fewer queries per block when k is huge, so that the kept candidates (up to about 2k per
     * query) stay within a few hundred MB whatever k is. */
    int64_t qblock = ((int64_t)1 << 22) / k;
    if (qblock < 1) qblock = 1;
    if (qblock > QUERY_BLOCK) qblock = QUERY_BLOCK;
    for (int64_t q0 = 0; q0 < n_query && status == 0; q0 += qblock) {
        const int64_t qb = (n_query - q0) < qblock ? (n_query - q0) : qblock;
        memset(hist, 0, (size_t)(QUERY_BLOCK * n_hist) * sizeof(int64_t));
        for (int64_t j = 0; j < qb; j++) {
            st[j].threshold = (uint32_t)n_bits;
            st[j].limit = n_bits;
            st[j].n_le = 0;
            st[j].hist = hist + j * n_hist;
            st[j].len = 0;
            st[j].failed = 0;
            if (st[j].cap < init_cap && topk_reserve(&st[j], init_cap) != 0) status = -1;
        }
        if (status != 0) break;
        for (int64_t c0 = 0; c0 < n_db; c0 += rows) {
            const int64_t c1 = (c0 + rows) < n_db ? (c0 + rows) : n_db;
            for (int64_t j = 0; j < qb; j++)
                topk_scan(db, queries + (q0 + j) * n_words, n_words, c0, c1, k, &st[j]);
        }
        for (int64_t j = 0; j < qb; j++) {
            if (st[j].failed) {
                status = -1;
                break;
            }
            topk_emit(&st[j], k, out_d + (q0 + j) * k, out_i + (q0 + j) * k, offset);
        }
    }
    for (int j = 0; j < QUERY_BLOCK; j++) {
        free(st[j].cand_idx);
        free(st[j].cand_dist);
    }
    free(hist);
    return status;
}

/* ------------------------------------------------------------------ radius search */
/* One pass of the two-pass radius search: every item at distance d <= r takes slot cursor[d]++.
 * Pass 1 (out_d == NULL) starts the cursors at zero, so they end as the distance histogram;
 * pass 2 starts them at the counting-sort offsets and scatters (distance, index). */
HK_INLINE void range_rows(const uint64_t *db, const uint64_t *q, const int64_t n_words,
                          int64_t start, int64_t stop, uint32_t r, int64_t *cursor, int32_t *out_d,
                          int64_t *out_i, int64_t n_out)
{
    for (int64_t i = start; i < stop; i++) {
        uint32_t d = hk_distance(q, db + n_words * i, n_words);
        if (d <= r) {
            int64_t p = cursor[d]++;
            if (out_d == NULL || p < 0 || p >= n_out) continue; /* bad cursors: the caller checks */
            out_d[p] = (int32_t)d;
            out_i[p] = i;
        }
    }
}

void range_body(const uint64_t *queries, int64_t n_query, const uint64_t *db, int64_t n_db,
                       int64_t n_words, int64_t radius, int64_t *cursor, int32_t *out_d,
                       int64_t *out_i, int64_t n_out)
{
    const int64_t rows = chunk_rows(n_words);
    const uint32_t r = (uint32_t)radius;
    for (int64_t q0 = 0; q0 < n_query; q0 += QUERY_BLOCK) {
        const int64_t qb = (n_query - q0) < QUERY_BLOCK ? (n_query - q0) : QUERY_BLOCK;
        for (int64_t c0 = 0; c0 < n_db; c0 += rows) {
            const int64_t c1 = (c0 + rows) < n_db ? (c0 + rows) : n_db;
            for (int64_t j = 0; j < qb; j++) {
                const uint64_t *q = queries + (q0 + j) * n_words;
                int64_t *c = cursor + (q0 + j) * (radius + 1);
                switch (n_words) {
                case 1: range_rows(db, q, 1, c0, c1, r, c, out_d, out_i, n_out); break;
                case 2: range_rows(db, q, 2, c0, c1, r, c, out_d, out_i, n_out); break;
                case 4: range_rows(db, q, 4, c0, c1, r, c, out_d, out_i, n_out); break;
                default: range_rows(db, q, n_words, c0, c1, r, c, out_d, out_i, n_out);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------ average precision */
/* Per-query AP of the stable Hamming ranking (distance, then database index), by counting sort.
 *
 * One pass over the database per query. Each item gets its distance d and its relevance, and one
 * counter per distance counts, in index order, the items (low 32 bits) and the relevant items
 * (high 32 bits) seen so far at that distance: one load, one add and one store per item. Every
 * item is written to the end of a list with d and that counter before its increment (its place
 * among the items, and among the relevant items, of its bucket), and the end moves on only for
 * a relevant item: the others are overwritten, so the loop has no data-dependent branch. After
 * the pass, the bucket sizes summed in distance order give the items (relevant items) ranked
 * before each bucket, so a relevant item's rank, and the relevant items ranked above it, are
 * one addition each. The list is in index order, the order in which the precision terms have
 * always been summed (and in which the top-k route and the numpy engine sum them), so the value
 * is the same to the last bit. Against ranking every item in a second pass, this reads each
 * item once and revisits only the relevant ones: ``python benchmarks/bench_metrics.py``.
 *
 * label_words == 0: labels are int64 class ids, relevant iff equal; label_words > 0: labels are
 * (n, label_words) uint64 bit sets, relevant iff they intersect. top_k == 0 ranks everything.
 * The 32-bit halves of the counter need n_db <= UINT32_MAX, which the wrapper checks. */
#define AP_LOW32 ((uint64_t)0xffffffffu)
#define AP_QUERY_BLOCK 4

HK_INLINE uint64_t ap_relevant(const int64_t *qc, const int64_t *dc, const uint64_t *ql,
                               const uint64_t *dl, const int64_t label_words, int64_t j)
{
    if (label_words == 0) return qc[0] == dc[j];
    if (label_words == 1) return (ql[0] & dl[j]) != 0;
    uint64_t any = 0;
    for (int64_t w = 0; w < label_words; w++) any |= ql[w] & dl[j * label_words + w];
    return any != 0;
}

/* Where one query's pass writes: its counters and its list of relevant items. */
typedef struct {
    uint64_t *bucket;   /* n_bits + 1 counters: items (low 32 bits), relevant items (high) */
    uint32_t *rel_dist; /* n_db + 1 slots: the last one takes the overwritten non-relevant item */
    uint64_t *rel_place;
    int64_t n_rel;
} ap_lists;

/* The pass over the database for `nq` queries at once, which share each item's loads and run
 * independent counter updates side by side. Called with constant nq, n_words and label_words
 * for the common cases, so that every inner loop unrolls. */
HK_INLINE void ap_scan(const uint64_t *q, const uint64_t *db, int64_t n_db, const int64_t nq,
                       const int64_t n_words, const int64_t *qc, const int64_t *dc,
                       const uint64_t *ql, const uint64_t *dl, const int64_t label_words,
                       ap_lists *out)
{
    /* Local copies of the pointers: the stores through them cannot then alias them. */
    int64_t n_rel[AP_QUERY_BLOCK] = {0};
    uint64_t *bucket[AP_QUERY_BLOCK], *rel_place[AP_QUERY_BLOCK];
    uint32_t *rel_dist[AP_QUERY_BLOCK];
    for (int64_t b = 0; b < nq; b++) {
        bucket[b] = out[b].bucket;
        rel_dist[b] = out[b].rel_dist;
        rel_place[b] = out[b].rel_place;
    }
    for (int64_t j = 0; j < n_db; j++) {
        for (int64_t b = 0; b < nq; b++) {
            const uint32_t d = hk_distance(q + b * n_words, db + j * n_words, n_words);
            const uint64_t rel = ap_relevant(qc + b, dc, ql + b * label_words, dl, label_words, j);
            const uint64_t place = bucket[b][d];
            bucket[b][d] = place + 1 + (rel << 32);
            rel_dist[b][n_rel[b]] = d;
            rel_place[b][n_rel[b]] = place;
            n_rel[b] += (int64_t)rel;
        }
    }
    for (int64_t b = 0; b < nq; b++) out[b].n_rel = n_rel[b];
}

#define AP_SCAN(NQ, NW, LW) ap_scan(q, db, n_db, NQ, NW, qc, dc, ql, dl, LW, out)

static void ap_scan_any(const uint64_t *q, const uint64_t *db, int64_t n_db, int64_t nq,
                        int64_t n_words, const int64_t *qc, const int64_t *dc, const uint64_t *ql,
                        const uint64_t *dl, int64_t label_words, ap_lists *out)
{
    if (nq != AP_QUERY_BLOCK) {
        AP_SCAN(nq, n_words, label_words);
        return;
    }
    switch (n_words * 4 + (label_words < 2 ? label_words : 2)) {
    case 4 + 0: AP_SCAN(AP_QUERY_BLOCK, 1, 0); break;
    case 4 + 1: AP_SCAN(AP_QUERY_BLOCK, 1, 1); break;
    case 8 + 0: AP_SCAN(AP_QUERY_BLOCK, 2, 0); break;
    case 8 + 1: AP_SCAN(AP_QUERY_BLOCK, 2, 1); break;
    case 16 + 0: AP_SCAN(AP_QUERY_BLOCK, 4, 0); break;
    case 16 + 1: AP_SCAN(AP_QUERY_BLOCK, 4, 1); break;
    default: AP_SCAN(AP_QUERY_BLOCK, n_words, label_words);
    }
}

/* AP of one query from its pass. */
static double ap_from_lists(const ap_lists *s, int64_t n_values, int64_t top_k, int64_t *start)
{
    int64_t *rel_start = start + n_values;
    /* bucket sizes -> items (relevant items) ranked before each bucket */
    int64_t seen = 0, rel_seen = 0;
    for (int64_t v = 0; v < n_values; v++) {
        start[v] = seen;
        rel_start[v] = rel_seen;
        seen += (int64_t)(s->bucket[v] & AP_LOW32);
        rel_seen += (int64_t)(s->bucket[v] >> 32);
    }
    double precision_sum = 0.0;
    int64_t hits = 0;
    for (int64_t m = 0; m < s->n_rel; m++) {
        const uint32_t d = s->rel_dist[m];
        const int64_t rank = start[d] + (int64_t)(s->rel_place[m] & AP_LOW32); /* 0-based */
        if (top_k != 0 && rank >= top_k) continue;
        const int64_t above = rel_start[d] + (int64_t)(s->rel_place[m] >> 32);
        precision_sum += (double)(above + 1) / (double)(rank + 1);
        hits++;
    }
    return hits > 0 ? precision_sum / (double)hits : 0.0;
}

/* Returns 0, or -1 when memory ran out. */
int ap_body(const uint64_t *q, int64_t n_query, const uint64_t *db, int64_t n_db,
                   int64_t n_words, int64_t n_bits, const void *q_labels, const void *db_labels,
                   int64_t label_words, int64_t top_k, double *ap, int64_t *n_relevant)
{
    const int64_t n_values = n_bits + 1, list = n_db + 1;
    const int64_t lw = label_words > 0 ? label_words : 1;
    uint64_t *bucket = (uint64_t *)malloc(sizeof(uint64_t) * AP_QUERY_BLOCK * (size_t)n_values);
    int64_t *start = (int64_t *)malloc(sizeof(int64_t) * 2 * (size_t)n_values);
    uint32_t *rel_dist = (uint32_t *)malloc(sizeof(uint32_t) * AP_QUERY_BLOCK * (size_t)list);
    uint64_t *rel_place = (uint64_t *)malloc(sizeof(uint64_t) * AP_QUERY_BLOCK * (size_t)list);
    int status = 0;
    ap_lists out[AP_QUERY_BLOCK];
    if (!bucket || !start || !rel_dist || !rel_place) {
        status = -1;
        n_query = 0;
    }
    for (int64_t b = 0; b < AP_QUERY_BLOCK; b++) {
        out[b].bucket = bucket + b * n_values;
        out[b].rel_dist = rel_dist + b * list;
        out[b].rel_place = rel_place + b * list;
    }
    for (int64_t i0 = 0; i0 < n_query; i0 += AP_QUERY_BLOCK) {
        const int64_t nq = n_query - i0 < AP_QUERY_BLOCK ? n_query - i0 : AP_QUERY_BLOCK;
        memset(bucket, 0, sizeof(uint64_t) * AP_QUERY_BLOCK * (size_t)n_values);
        ap_scan_any(q + i0 * n_words, db, n_db, nq, n_words, (const int64_t *)q_labels + i0,
                    (const int64_t *)db_labels, (const uint64_t *)q_labels + i0 * lw,
                    (const uint64_t *)db_labels, label_words, out);
        for (int64_t b = 0; b < nq; b++) {
            n_relevant[i0 + b] = out[b].n_rel;
            ap[i0 + b] = ap_from_lists(&out[b], n_values, top_k, start);
        }
    }
    free(bucket);
    free(start);
    free(rel_dist);
    free(rel_place);
    return status;
}
