/*
 * Exact multi-index hashing (MIH): the probe/verify loop of the compiled engine.
 *
 * One of the sources of the package's one C extension: _kernels.c parses the arguments, checks
 * the tables (setup_tables) and calls mih_knn_all and mih_range_all, the loops here.
 *
 * Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with Multi-Index Hashing" (CVPR 2012;
 * TPAMI 2014). The tables are built by skmetacmh/_search/_mih.py (class _Tables), which
 * documents the search; this file runs the same search as its numpy path and returns the same results:
 *
 *   step t probes table j = t % m with every key at exactly rho = t / m bits from the query's
 *   substring j; an item is counted only at its first step min_i(m * d_i + i) (no "seen" set);
 *   after step t every item at distance <= t has been seen, so the k-NN search stops once k
 *   items at distance <= t are held. A max-heap keyed by (distance, id) holds the k best.
 *
 * Table layout (flat arrays, one block per table j; "width" is 4 (uint32) or 8 (int64)):
 *   meta[6 * j + ...] = start bit, length, direct (0/1), offsets base, keys base, distinct keys
 *   direct:  bucket(key) = offsets[base + key] .. offsets[base + key + 1]
 *   sparse:  key found by binary search in keys[keys base ...], then offsets[base + rank] ..
 *   ids[j * n + p]: items in (substring, id) order; their codes are either copied beside them,
 *   codes[(j * n + p) * n_words + w] ("copies", contiguous buckets, for one-word codes), or read
 *   from the database, codes[ids[j * n + p] * n_words + w] (m times less memory).
 *
 * A query whose work (probes and verified candidates, priced by _mih.py's COSTS) passes the
 * budget stops and is flagged in `status`; the caller answers it with the linear scan. Nothing
 * here touches a Python object: _kernels.c releases the GIL around these loops.
 */
#include <stdint.h>
#include <stdlib.h>

#include "_kernels.h"
#include "_popcount.h"

#define MIH_POPCOUNT64(x) ((int64_t)popcount64(x))
#if defined(_MSC_VER)
#define MIH_INLINE static __inline
#define MIH_PREFETCH(p) ((void)(p))
#else
#define MIH_INLINE static inline
#define MIH_PREFETCH(p) __builtin_prefetch(p)
#endif

/* Keys probed together: their table entries and buckets are prefetched as a batch, so that the
 * random memory accesses of independent probes overlap instead of queueing one by one. */
#define PROBE_BATCH 16

MIH_INLINE int64_t read_index(const void *base, int width, int64_t i)
{
    return width == 4 ? (int64_t)((const uint32_t *)base)[i] : ((const int64_t *)base)[i];
}

MIH_INLINE uint64_t substring_key(const uint64_t *code, int64_t start, int64_t length)
{
    const int64_t word = start >> 6, off = start & 63;
    uint64_t key = code[word] >> off;
    if (off + length > 64) key |= code[word + 1] << (64 - off);
    if (length < 64) key &= (((uint64_t)1) << length) - 1;
    return key;
}

/* Bucket of `key` in table j: 1 and [lo, hi) when present, 0 when absent, -1 when corrupt. */
MIH_INLINE int bucket(const tables_t *t, int64_t j, uint64_t key, int64_t *lo, int64_t *hi)
{
    const int64_t *mt = t->meta + META_COLS * j;
    int64_t pos;
    if (mt[2]) {
        pos = mt[3] + (int64_t)key;
    } else {
        const uint64_t *ks = t->keys + mt[4];
        int64_t a = 0, b = mt[5];
        while (a < b) {
            const int64_t mid = a + (b - a) / 2;
            if (ks[mid] < key)
                a = mid + 1;
            else
                b = mid;
        }
        if (a == mt[5] || ks[a] != key) return 0;
        pos = mt[3] + a;
    }
    *lo = read_index(t->offsets, t->width, pos);
    *hi = read_index(t->offsets, t->width, pos + 1);
    if (*lo < 0 || *lo > *hi || *hi > t->n) return -1;
    return *lo < *hi;
}

MIH_INLINE int64_t distance(const uint64_t *a, const uint64_t *b, int64_t n_words)
{
    int64_t d = 0;
    for (int64_t w = 0; w < n_words; w++) d += MIH_POPCOUNT64(a[w] ^ b[w]);
    return d;
}

/* Is step (j, rho) the first to reach this code? False when a table i probed earlier (i < j at
 * radius rho, or i > j at radius rho - 1) already holds it within its radius. */
MIH_INLINE int first_reached(const tables_t *t, const uint64_t *c, const uint64_t *q, int64_t j,
                             int64_t rho)
{
    for (int64_t i = 0; i < t->m; i++) {
        if (i == j) continue;
        const uint64_t *mask = t->sub_masks + i * t->n_words;
        int64_t d = 0;
        for (int64_t w = 0; w < t->n_words; w++) d += MIH_POPCOUNT64((c[w] ^ q[w]) & mask[w]);
        if (d < rho || (i < j && d == rho)) return 0;
    }
    return 1;
}

/* Next mask of the same weight in `length` bits (Gosper's hack); 0 when there is none. */
MIH_INLINE int next_mask(uint64_t *mask, int64_t length)
{
    const uint64_t x = *mask;
    const uint64_t low = x & (~x + 1);
    const uint64_t r = x + low;
    if (x == 0 || r == 0) return 0; /* weight 0, or the last 64-bit combination */
    const uint64_t next = (((r ^ x) >> 2) / low) | r;
    if (length < 64 && (next >> length)) return 0;
    *mask = next;
    return 1;
}

MIH_INLINE uint64_t first_mask(int64_t rho)
{
    return rho == 0 ? 0 : rho >= 64 ? ~(uint64_t)0 : ((((uint64_t)1) << rho) - 1);
}

/* The code of bucket item p: its copy in the table, or its row in the database (then the code
 * a few items ahead is prefetched, since those rows are scattered); NULL for an invalid id. */
MIH_INLINE const uint64_t *code_at(const tables_t *t, const uint64_t *codes, int64_t id_base,
                                   int64_t p, int64_t hi)
{
    if (t->copies) return codes + p * t->n_words;
    if (p + 4 < hi) MIH_PREFETCH(codes + read_index(t->ids, t->width, id_base + p + 4) * t->n_words);
    const int64_t id = read_index(t->ids, t->width, id_base + p);
    if (id < 0 || id >= t->n) return NULL; /* corrupt ids: never read outside the database */
    return codes + id * t->n_words;
}

/* Prefetch a whole bucket (up to 32 cache lines) while the previous one is verified. */
MIH_INLINE void prefetch_bucket(const uint64_t *codes, int64_t lo, int64_t hi, int64_t nw)
{
    const char *first = (const char *)(codes + lo * nw), *end = (const char *)(codes + hi * nw);
    if (end - first > 32 * 64) end = first + 32 * 64;
    for (const char *line = first + 64; line < end; line += 64) MIH_PREFETCH(line);
}

/* The next batch of up to PROBE_BATCH keys of table j at the current radius: their buckets
 * in lo/hi (empty when absent). Returns the batch size, -1 when the tables are corrupt; *more
 * says whether masks remain. */
static int probe_batch(const tables_t *t, int64_t j, int64_t length, uint64_t qkey, uint64_t *mask,
                       int *more, int64_t *lo, int64_t *hi)
{
    uint64_t keys[PROBE_BATCH];
    int nb = 0;
    while (nb < PROBE_BATCH && *more) {
        keys[nb++] = qkey ^ *mask;
        *more = next_mask(mask, length);
    }
    const int64_t *mt = t->meta + META_COLS * j;
    if (mt[2]) {
        const char *base = (const char *)t->offsets + mt[3] * t->width;
        for (int b = 0; b < nb; b++) MIH_PREFETCH(base + (int64_t)keys[b] * t->width);
    }
    const uint64_t *codes = t->codes + j * t->n * t->n_words;
    for (int b = 0; b < nb; b++) {
        const int found = bucket(t, j, keys[b], lo + b, hi + b);
        if (found < 0) return -1;
        if (!found)
            lo[b] = hi[b] = 0;
        else if (t->copies)
            MIH_PREFETCH(codes + lo[b] * t->n_words);
        else
            MIH_PREFETCH((const char *)t->ids + (j * t->n + lo[b]) * t->width);
    }
    return nb;
}

/* ------------------------------------------------------------------ k-NN */
typedef struct {
    int64_t *d, *id;
    int64_t size, k;
} heap_t; /* max-heap by (distance, id): the root is the worst of the k best */

MIH_INLINE int before(int64_t d1, int64_t i1, int64_t d2, int64_t i2)
{
    return d1 < d2 || (d1 == d2 && i1 < i2);
}

static void heap_sift_down(heap_t *h, int64_t pos)
{
    const int64_t d = h->d[pos], id = h->id[pos];
    for (;;) {
        int64_t child = 2 * pos + 1;
        if (child >= h->size) break;
        if (child + 1 < h->size && before(h->d[child], h->id[child], h->d[child + 1], h->id[child + 1]))
            child++;
        if (!before(d, id, h->d[child], h->id[child])) break;
        h->d[pos] = h->d[child];
        h->id[pos] = h->id[child];
        pos = child;
    }
    h->d[pos] = d;
    h->id[pos] = id;
}

static void heap_offer(heap_t *h, int64_t d, int64_t id)
{
    if (h->size < h->k) {
        int64_t pos = h->size++;
        while (pos > 0) {
            const int64_t parent = (pos - 1) / 2;
            if (!before(h->d[parent], h->id[parent], d, id)) break;
            h->d[pos] = h->d[parent];
            h->id[pos] = h->id[parent];
            pos = parent;
        }
        h->d[pos] = d;
        h->id[pos] = id;
    } else {
        h->d[0] = d;
        h->id[0] = id;
        heap_sift_down(h, 0);
    }
}

/* A candidate at distance d <= the heap's worst: add it when it beats the worst by (distance,
 * id) and this is its first step. Returns whether the heap is full (its root is the bound). */
MIH_INLINE int offer(const tables_t *t, heap_t *h, const uint64_t *c, const uint64_t *q, int64_t d,
                     int64_t slot, int64_t j, int64_t rho)
{
    const int64_t id = read_index(t->ids, t->width, slot);
    if (h->size == h->k && !before(d, id, h->d[0], h->id[0])) return 1;
    if (first_reached(t, c, q, j, rho)) heap_offer(h, d, id);
    return h->size == h->k;
}

/* 0: done; 1: over budget; -1: corrupt tables. */
/* ------------------------------------------------------------------ the probe schedule */
/* What probe step `step` = rho * m + j reads: table j, every key at rho bits from the query's. */
typedef struct {
    int64_t j, rho, length, id_base, probe_cost;
    const uint64_t *codes; /* table j's copies of the codes, or the database (read by id) */
} step_t;

/* Fill `s` for one step; 0 when rho exceeds the substring's length (nothing to probe). */
MIH_INLINE int step_at(const tables_t *t, int64_t step, step_t *s)
{
    s->j = step % t->m;
    s->rho = step / t->m;
    s->length = t->meta[META_COLS * s->j + 1];
    if (s->rho > s->length) return 0;
    s->codes = t->copies ? t->codes + s->j * t->n * t->n_words : t->codes;
    s->id_base = s->j * t->n;
    s->probe_cost = t->probe_cost * (t->meta[META_COLS * s->j + 2] ? 1 : t->sparse_probe_factor);
    return 1;
}

MIH_INLINE void query_keys(const tables_t *t, const uint64_t *q, uint64_t *qkeys)
{
    for (int64_t j = 0; j < t->m; j++)
        qkeys[j] = substring_key(q, t->meta[META_COLS * j], t->meta[META_COLS * j + 1]);
}

/* The next batch of buckets of a step, its probes charged to `cost`. Returns the number of
 * buckets, -1 on a corrupt table, or -2 when the query's budget is spent. */
MIH_INLINE int probe_step(const tables_t *t, const step_t *s, const uint64_t *qkeys,
                          uint64_t *mask, int *more, int64_t *cost, int64_t *lo, int64_t *hi)
{
    const int nb = probe_batch(t, s->j, s->length, qkeys[s->j], mask, more, lo, hi);
    if (nb < 0) return -1;
    *cost += nb * s->probe_cost;
    return *cost > t->budget ? -2 : nb;
}

/* Charge the verification of bucket [lo, hi) to `cost`; whether the budget is then spent. */
MIH_INLINE int over_budget(const tables_t *t, int64_t *cost, int64_t lo, int64_t hi)
{
    *cost += (hi - lo) * (t->copies ? 1 : t->by_id_verify_cost);
    return *cost > t->budget;
}

static int knn_one(const tables_t *t, const uint64_t *q, uint64_t *qkeys, heap_t *h)
{
    const int64_t nw = t->n_words;
    int64_t cost = 0;
    h->size = 0;
    query_keys(t, q, qkeys);
    for (int64_t step = 0; step <= t->last_step; step++) {
        step_t s;
        if (step_at(t, step, &s)) {
            const uint64_t *codes = s.codes;
            const int64_t id_base = s.id_base, j = s.j, rho = s.rho;
            uint64_t mask = first_mask(rho);
            int more = 1;
            while (more) {
                int64_t lo[PROBE_BATCH], hi[PROBE_BATCH];
                const int nb = probe_step(t, &s, qkeys, &mask, &more, &cost, lo, hi);
                if (nb < 0) return nb == -1 ? -1 : 1;
                for (int b = 0; b < nb; b++) {
                    if (over_budget(t, &cost, lo[b], hi[b])) return 1;
                    if (b + 1 < nb && t->copies) prefetch_bucket(codes, lo[b + 1], hi[b + 1], nw);
                    /* `worst` caches the heap root's distance (everything passes until the heap
                     * is full), so the common case, a far candidate, is one compare. */
                    int64_t worst = h->size == h->k ? h->d[0] : INT64_MAX;
                    if (t->copies && nw == 1) { /* the common case, in a tight loop */
                        const uint64_t q0 = q[0];
                        for (int64_t p = lo[b]; p < hi[b]; p++) {
                            const int64_t d = MIH_POPCOUNT64(codes[p] ^ q0);
                            if (d <= worst && offer(t, h, codes + p, q, d, id_base + p, j, rho))
                                worst = h->d[0];
                        }
                        continue;
                    }
                    for (int64_t p = lo[b]; p < hi[b]; p++) {
                        const uint64_t *c = code_at(t, codes, id_base, p, hi[b]);
                        if (c == NULL) return -1;
                        const int64_t d = nw == 1 ? MIH_POPCOUNT64(c[0] ^ q[0]) : distance(c, q, nw);
                        if (d <= worst && offer(t, h, c, q, d, id_base + p, j, rho)) worst = h->d[0];
                    }
                }
            }
        }
        if (h->size == h->k && h->d[0] <= step) break;
    }
    return 0;
}

/* ------------------------------------------------------------------ range */
static int pair_cmp(const void *a, const void *b)
{
    const pair_t *x = (const pair_t *)a, *y = (const pair_t *)b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int pairs_push(pairs_t *v, int64_t d, int64_t id)
{
    if (v->len == v->cap) {
        const int64_t cap = v->cap ? 2 * v->cap : 1024;
        pair_t *grown = (pair_t *)realloc(v->items, (size_t)cap * sizeof(pair_t));
        if (grown == NULL) return -1;
        v->items = grown;
        v->cap = cap;
    }
    v->items[v->len].d = d;
    v->items[v->len].id = id;
    v->len++;
    return 0;
}

/* Appends the query's results to `out` (unsorted). 0: done; 1: over budget; -1: corrupt
 * tables; -2: out of memory. */
static int range_one(const tables_t *t, const uint64_t *q, uint64_t *qkeys, int64_t radius,
                     pairs_t *out)
{
    const int64_t nw = t->n_words;
    const int64_t start_len = out->len;
    const int64_t last = radius < t->last_step ? radius : t->last_step;
    int64_t cost = 0;
    query_keys(t, q, qkeys);
    for (int64_t step = 0; step <= last; step++) {
        step_t s;
        if (!step_at(t, step, &s)) continue;
        uint64_t mask = first_mask(s.rho);
        int more = 1;
        while (more) {
            int64_t lo[PROBE_BATCH], hi[PROBE_BATCH];
            const int nb = probe_step(t, &s, qkeys, &mask, &more, &cost, lo, hi);
            if (nb == -1) return -1;
            if (nb < 0) goto over;
            for (int b = 0; b < nb; b++) {
                if (over_budget(t, &cost, lo[b], hi[b])) goto over;
                for (int64_t p = lo[b]; p < hi[b]; p++) {
                    const uint64_t *c = code_at(t, s.codes, s.id_base, p, hi[b]);
                    if (c == NULL) return -1;
                    const int64_t d = distance(c, q, nw);
                    if (d > radius || !first_reached(t, c, q, s.j, s.rho)) continue;
                    if (pairs_push(out, d, read_index(t->ids, t->width, s.id_base + p))) return -2;
                }
            }
        }
    }
    return 0;
over:
    out->len = start_len;
    return 1;
}

/* ------------------------------------------------------------------ every query */
int mih_knn_all(const tables_t *t, const uint64_t *queries, int64_t n_q, int64_t k,
                int32_t *out_d, int64_t *out_i, int8_t *status, int64_t *heap_d,
                int64_t *heap_id, uint64_t *qkeys)
{
    heap_t h = {heap_d, heap_id, 0, k};
    for (int64_t i = 0; i < n_q; i++) {
        const int rc = knn_one(t, queries + i * t->n_words, qkeys, &h);
        status[i] = rc == 1;
        if (rc < 0) return -1;
        int32_t *row_d = out_d + i * k;
        int64_t *row_i = out_i + i * k;
        for (int64_t r = k - 1; r >= 0; r--) { /* pop the worst first: ascending order */
            if (rc != 0 || r >= h.size) {
                row_d[r] = -1;
                row_i[r] = -1;
                continue;
            }
            row_d[r] = (int32_t)h.d[0];
            row_i[r] = h.id[0];
            h.size--;
            h.d[0] = h.d[h.size];
            h.id[0] = h.id[h.size];
            heap_sift_down(&h, 0);
        }
    }
    return 0;
}

/* One pass of the two-pass radius search (the convention of range_count / range_fill): every
 * query's results are gathered in `scratch` (reused, one query at a time). Counting pass
 * (lims == NULL): counts[i] and status[i]. Filling pass: query i's results, sorted by
 * (distance, id), are written to out_d/out_i from lims[i]; they must number exactly
 * lims[i + 1] - lims[i], else -3 (the passes disagree). */
int mih_range_all(const tables_t *t, const uint64_t *queries, int64_t n_q, int64_t radius,
                  int8_t *status, int64_t *counts, const int64_t *lims, int32_t *out_d,
                  int64_t *out_i, pairs_t *scratch, uint64_t *qkeys)
{
    for (int64_t i = 0; i < n_q; i++) {
        scratch->len = 0;
        const int rc = range_one(t, queries + i * t->n_words, qkeys, radius, scratch);
        if (rc < 0) return rc;
        if (lims == NULL) {
            status[i] = rc == 1;
            counts[i] = scratch->len;
            continue;
        }
        if (lims[i + 1] - lims[i] != scratch->len) return -3;
        qsort(scratch->items, (size_t)scratch->len, sizeof(pair_t), pair_cmp);
        for (int64_t r = 0; r < scratch->len; r++) {
            out_d[lims[i] + r] = (int32_t)scratch->items[r].d;
            out_i[lims[i] + r] = scratch->items[r].id;
        }
    }
    return 0;
}
