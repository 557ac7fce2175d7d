/*
 * f16.c - IEEE 754 binary16 conversion for the quantizer's stored min and scale (paper:
 * float16 side information). Directed rounding lets the quantizer pick a min at or below
 * the tensor's minimum and a scale at or above the needed one.
 */
#include <math.h>

#include "codec.h"

float hn_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    int exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    float v;
    if (exp == 0) v = ldexpf((float)man, -24);               /* zero or subnormal */
    else if (exp == 31) v = man ? NAN : INFINITY;
    else v = ldexpf((float)(man | 0x400), exp - 25);
    uint32_t u;
    memcpy(&u, &v, 4);
    u |= sign;
    memcpy(&v, &u, 4);
    return v;
}

/* Nearest-even conversion by exact arithmetic: binary16 values are k * 2^e with 11-bit k. */
uint16_t hn_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    float a = fabsf(f);
    if (isnan(f)) return (uint16_t)(sign | 0x7e00);
    if (a >= 65520.0f) return (uint16_t)(sign | 0x7c00); /* rounds to inf */
    if (a < ldexpf(1.0f, -14)) {                         /* subnormal range: step 2^-24 */
        float q = nearbyintf(a * 16777216.0f);           /* a / 2^-24, ties to even */
        return (uint16_t)(sign | (uint16_t)q);           /* q == 1024 is the smallest normal */
    }
    int e;
    frexpf(a, &e);                                      /* a = m * 2^e, m in [0.5, 1) */
    float q = nearbyintf(ldexpf(a, 11 - e));             /* 11 significant bits, ties even */
    if (q >= 2048.0f) {
        q = 1024.0f;
        e++;
    }
    int biased = e - 1 + 15;
    if (biased >= 31) return (uint16_t)(sign | 0x7c00);
    return (uint16_t)(sign | (uint16_t)(biased << 10) | ((uint16_t)q & 0x3ff));
}

static uint16_t f16_next_up(uint16_t h) /* next representable value toward +inf */
{
    if ((h & 0x7fff) == 0) return 0x0001;               /* +-0 -> smallest positive */
    if (h & 0x8000) return (uint16_t)(h - 1);           /* negative: magnitude shrinks */
    return (uint16_t)(h + 1);
}

static uint16_t f16_next_down(uint16_t h)
{
    if ((h & 0x7fff) == 0) return 0x8001;
    if (h & 0x8000) return (uint16_t)(h + 1);
    return (uint16_t)(h - 1);
}

uint16_t hn_f32_to_f16_dir(float f, int dir)
{
    uint16_t h = hn_f32_to_f16(f);
    if (isnan(f) || isinf(f)) return h;
    float back = hn_f16_to_f32(h);
    if (dir > 0 && back < f) h = f16_next_up(h);
    if (dir < 0 && back > f) h = f16_next_down(h);
    return h;
}
