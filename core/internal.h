/*
 * internal.h - private macros and helpers shared by core/: status checks, logging,
 * overflow-checked allocation, little-endian I/O, the random generator.
 * Nothing outside core/ includes this file.
 */
#ifndef HINER_INTERNAL_H
#define HINER_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hiner.h"

#if defined(__GNUC__)
#define HN_HIDDEN __attribute__((visibility("hidden")))
#define HN_UNUSED __attribute__((unused))
#define HN_LIKELY(x) __builtin_expect(!!(x), 1)
#define HN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HN_HIDDEN
#define HN_UNUSED
#define HN_LIKELY(x) (x)
#define HN_UNLIKELY(x) (x)
#define HN_PRINTF(a, b)
#endif

#define HN_PI 3.14159265358979323846

/* ---- logging: a sink from the params, may be empty ---- */
typedef struct hn_log {
    hiner_log_fn fn;
    void *user;
} hn_log;

HN_HIDDEN void hn_logf(const hn_log *lg, int level, const char *fmt, ...) HN_PRINTF(3, 4);

/* ---- status helpers (zstd's RETURN_ERROR_IF / FORWARD_IF_ERROR) ---- */
#ifdef HINER_DEBUG
#define HN_TRACE_(st) fprintf(stderr, "hiner: %s:%d: %s\n", __FILE__, __LINE__, hiner_status_str(st))
#else
#define HN_TRACE_(st) ((void)0)
#endif

/* Parameter validation: when cond fails, the message goes to the log (level 0) and the
 * function returns HINER_E_INVALID_ARG. */
#define HN_CHECK_ARG(lg, cond, ...)                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            hn_logf((lg), 0, __VA_ARGS__);                                                   \
            return HINER_E_INVALID_ARG;                                                      \
        }                                                                                    \
    } while (0)

/* Return `st` from the current function when cond holds. */
#define HN_CHECK(cond, st)                                                                   \
    do {                                                                                     \
        if (HN_UNLIKELY(cond)) {                                                             \
            HN_TRACE_(st);                                                                   \
            return (st);                                                                     \
        }                                                                                    \
    } while (0)

/* Pass a callee's error up. */
#define HN_FORWARD(expr)                                                                     \
    do {                                                                                     \
        hiner_status hn_st_ = (expr);                                                        \
        if (HN_UNLIKELY(hn_st_ != HINER_OK)) {                                               \
            HN_TRACE_(hn_st_);                                                               \
            return hn_st_;                                                                   \
        }                                                                                    \
    } while (0)

/* Inside functions with a single `fail:` cleanup label and a `hiner_status st`. */
#define HN_GOTO_IF(cond, s)                                                                  \
    do {                                                                                     \
        if (HN_UNLIKELY(cond)) {                                                             \
            st = (s);                                                                        \
            HN_TRACE_(st);                                                                   \
            goto fail;                                                                       \
        }                                                                                    \
    } while (0)
#define HN_GOTO_FWD(expr)                                                                    \
    do {                                                                                     \
        st = (expr);                                                                         \
        if (HN_UNLIKELY(st != HINER_OK)) {                                                   \
            HN_TRACE_(st);                                                                   \
            goto fail;                                                                       \
        }                                                                                    \
    } while (0)

/* Internal invariants only, never for input checking. */
#ifdef HINER_DEBUG
#define HN_ASSERT(c)                                                                         \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "hiner: assertion %s failed at %s:%d\n", #c, __FILE__, __LINE__); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)
#else
#define HN_ASSERT(c) ((void)0)
#endif

/* ---- overflow-checked sizes and allocation ---- */
/* Largest single allocation core makes (4 GiB); larger requests fail as HINER_E_NOMEM. */
#define HN_MAX_ALLOC ((size_t)1 << 32)

/* *out = a * b; returns 0 on overflow or when beyond HN_MAX_ALLOC. */
static inline int hn_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > HN_MAX_ALLOC / a) return 0;
    *out = a * b;
    return 1;
}

/* Zeroed, 64-byte aligned allocation of n * size bytes; NULL on overflow or failure. */
HN_HIDDEN void *hn_calloc(size_t n, size_t size);
/* Uninitialised, 64-byte aligned. */
HN_HIDDEN void *hn_malloc(size_t n, size_t size);
HN_HIDDEN void hn_free(void *p);

/* ---- little-endian I/O ---- */
static inline void hn_write_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void hn_write_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void hn_write_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t hn_read_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t hn_read_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t hn_read_le64(const uint8_t *p)
{
    return (uint64_t)hn_read_le32(p) | ((uint64_t)hn_read_le32(p + 4) << 32);
}

/* ---- random numbers: splitmix64 seeding a xoshiro256** state (explicit state) ---- */
typedef struct hn_rng {
    uint64_t s[4];
} hn_rng;

HN_HIDDEN void hn_rng_seed(hn_rng *r, uint64_t seed);
HN_HIDDEN uint64_t hn_rng_next(hn_rng *r);
/* Uniform in [0,1) with 24 random bits (exact in float). */
HN_HIDDEN float hn_rng_uniform(hn_rng *r);
/* Uniform integer in [0, n). */
HN_HIDDEN uint32_t hn_rng_below(hn_rng *r, uint32_t n);
/* Standard normal (Box-Muller). */
HN_HIDDEN float hn_rng_normal(hn_rng *r);

/* ---- clock ---- */
HN_HIDDEN double hn_seconds(void);

#endif /* HINER_INTERNAL_H */
