/*
 * util.c - small shared services for core/: logging through the user's sink, aligned
 * allocation with overflow checks, the seeded random generator, a monotonic clock.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <time.h>

#include "internal.h"

void hn_logf(const hn_log *lg, int level, const char *fmt, ...)
{
    if (!lg || !lg->fn) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lg->fn(level, buf, lg->user);
}

void *hn_malloc(size_t n, size_t size)
{
    size_t bytes;
    if (!hn_mul_size(n, size, &bytes)) return NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) & ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}

void *hn_calloc(size_t n, size_t size)
{
    void *p = hn_malloc(n, size);
    if (p) memset(p, 0, n * size);
    return p;
}

void hn_free(void *p)
{
    free(p);
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void hn_rng_seed(hn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t hn_rng_next(hn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float hn_rng_uniform(hn_rng *r)
{
    return (float)(hn_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

uint32_t hn_rng_below(hn_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift; the tiny bias is irrelevant for shuffling bands. */
    return (uint32_t)(((hn_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

float hn_rng_normal(hn_rng *r)
{
    double u1 = ((hn_rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (hn_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

double hn_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
