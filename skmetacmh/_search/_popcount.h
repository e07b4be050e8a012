/*
 * The one popcount of the compiled search engine, and the Hamming distance of packed codes,
 * shared by the scan (_scan.c) and multi-index hashing (_mih.c).
 *
 * Popcount: setup.py compiles with -mpopcnt on x86-64 (every x86-64 CPU of the last 15 years
 * has the instruction), so there is no runtime dispatch; other compilers and CPUs use their own
 * builtin.
 */
#ifndef SKMETACMH_POPCOUNT_H
#define SKMETACMH_POPCOUNT_H

#include <stdint.h>

#if defined(_MSC_VER)
#include <intrin.h>
#define HK_INLINE static __forceinline
static __forceinline uint32_t popcount64(uint64_t x) { return (uint32_t)__popcnt64(x); }
#else
#if defined(__GNUC__)
#define HK_INLINE static inline __attribute__((always_inline))
#else
#define HK_INLINE static inline
#endif
static inline uint32_t popcount64(uint64_t x) { return (uint32_t)__builtin_popcountll(x); }
#endif

HK_INLINE uint32_t hk_distance(const uint64_t *q, const uint64_t *row, int64_t n_words)
{
    uint32_t d = 0;
    for (int64_t w = 0; w < n_words; w++) d += popcount64(q[w] ^ row[w]);
    return d;
}

#endif /* SKMETACMH_POPCOUNT_H */
