/*
 * quant.c - uniform weight quantization (paper Eq. 5): q = round((w - min) / scale) in
 * [0, 2^b), with min and scale stored as float16 per tensor or per row (first dimension),
 * whichever gives the lower squared error. Below 8 bits the range may be clipped (the
 * ends clamped) when that lowers the squared error. min is rounded down and scale up to
 * float16, so the chosen range stays inside the coded one.
 */
#include <math.h>

#include "quant.h"

void hn_qtensor_free(hn_qtensor *qt)
{
    if (!qt) return;
    hn_free(qt->q);
    hn_free(qt->side);
    memset(qt, 0, sizeof *qt);
}

/* The (min, scale) of a group as float16 for a range [lo, hi], min rounded down and scale
 * up so that the range is covered. */
static void range_f16(float lo, float hi, uint32_t levels, uint16_t *hmin, uint16_t *hscale,
                      float *fmin, float *fscale)
{
    *hmin = hn_f32_to_f16_dir(lo, -1);
    *fmin = hn_f16_to_f32(*hmin);
    float need = (hi - *fmin) / (float)levels;
    *hscale = need > 0.0f ? hn_f32_to_f16_dir(need, +1) : 0;
    *fscale = hn_f16_to_f32(*hscale);
}

static inline float quant_value(float w, float fmin, float fscale, uint32_t levels)
{
    float v = fscale > 0.0f ? nearbyintf((w - fmin) / fscale) : 0.0f;
    if (v < 0.0f) v = 0.0f;
    if (v > (float)levels) v = (float)levels;
    return v;
}

/* Clipping candidates: the range shrunk by these fractions at each end. With few levels a
 * slightly narrower range (outliers clamped) has a lower squared error than min-max. */
static const float clip_frac[] = {0.0f, 0.01f, 0.02f, 0.04f, 0.07f, 0.1f};
#define N_CLIP (sizeof clip_frac / sizeof *clip_frac)

/* The range of least squared error for a group (tries the clipping candidates). */
static void best_range(const float *w, size_t n, uint32_t levels, uint16_t *hmin,
                       uint16_t *hscale, float *fmin, float *fscale)
{
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        mn = fminf(mn, w[i]);
        mx = fmaxf(mx, w[i]);
    }
    if (n == 0) mn = mx = 0.0f;
    double best = INFINITY;
    for (size_t c = 0; c < N_CLIP; c++) {
        /* at 8 bits and more, clipping rarely helps: keep the exact range */
        if (c > 0 && levels >= 255) break;
        const float cut = clip_frac[c] * (mx - mn);
        uint16_t h0, h1;
        float f0, f1;
        range_f16(mn + cut, mx - cut, levels, &h0, &h1, &f0, &f1);
        double err = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)(f0 + quant_value(w[i], f0, f1, levels) * f1) - w[i];
            err += d * d;
        }
        if (err < best) {
            best = err;
            *hmin = h0, *hscale = h1, *fmin = f0, *fscale = f1;
        }
    }
}

/* Quantizes one group of n values at `levels` = 2^bits - 1; returns the squared error. */
static double quant_group(uint16_t *q, uint16_t *side, const float *w, size_t n, uint32_t levels)
{
    uint16_t hmin, hscale;
    float fmin, fscale;
    best_range(w, n, levels, &hmin, &hscale, &fmin, &fscale);
    side[0] = hmin;
    side[1] = hscale;
    double err = 0.0;
    for (size_t i = 0; i < n; i++) {
        q[i] = (uint16_t)quant_value(w[i], fmin, fscale, levels);
        double d = (double)(fmin + (float)q[i] * fscale) - w[i];
        err += d * d;
    }
    return err;
}

hiner_status hn_quantize(hn_qtensor *qt, const float *w, size_t rows, size_t cols, int bits,
                         int mode, double *sq_err)
{
    HN_CHECK(bits < 1 || bits > 16 || mode < -1 || mode > 1 || rows == 0, HINER_E_INVALID_ARG);
    size_t n;
    HN_CHECK(!hn_mul_size(rows, cols, &n), HINER_E_LIMIT);
    for (size_t i = 0; i < n; i++)
        HN_CHECK(!isfinite(w[i]) || fabsf(w[i]) > 60000.0f, HINER_E_INVALID_ARG);
    memset(qt, 0, sizeof *qt);
    const uint32_t levels = (1u << bits) - 1;
    uint16_t *q0 = hn_malloc(n, sizeof(uint16_t)), *q1 = hn_malloc(n, sizeof(uint16_t));
    uint16_t *s0 = hn_malloc(2, sizeof(uint16_t)), *s1 = hn_malloc(2 * rows, sizeof(uint16_t));
    if (!q0 || !q1 || !s0 || !s1) {
        hn_free(q0), hn_free(q1), hn_free(s0), hn_free(s1);
        return HINER_E_NOMEM;
    }
    double e0 = INFINITY, e1 = INFINITY;
    if (mode != 1) e0 = quant_group(q0, s0, w, n, levels);
    if (mode != 0) {
        e1 = 0.0;
        for (size_t r = 0; r < rows; r++)
            e1 += quant_group(q1 + r * cols, s1 + 2 * r, w + r * cols, cols, levels);
    }
    int use1 = e1 < e0;
    qt->bits = bits;
    qt->mode = use1;
    qt->rows = rows;
    qt->cols = cols;
    qt->q = use1 ? q1 : q0;
    qt->side = use1 ? s1 : s0;
    hn_free(use1 ? q0 : q1);
    hn_free(use1 ? s0 : s1);
    if (sq_err) *sq_err = use1 ? e1 : e0;
    return HINER_OK;
}

void hn_dequantize(float *w, const hn_qtensor *qt)
{
    for (size_t r = 0; r < qt->rows; r++) {
        const uint16_t *s = qt->mode ? qt->side + 2 * r : qt->side;
        float fmin = hn_f16_to_f32(s[0]), fscale = hn_f16_to_f32(s[1]);
        const uint16_t *q = qt->q + r * qt->cols;
        float *o = w + r * qt->cols;
        for (size_t i = 0; i < qt->cols; i++) o[i] = fmin + (float)q[i] * fscale;
    }
}

size_t hn_qtensor_side_count(const hn_qtensor *qt)
{
    return qt->mode ? 2 * qt->rows : 2;
}

/* One group's fake quantization: the values as they would decode. */
static void fake_group(float *out, const float *w, size_t n, uint32_t levels)
{
    uint16_t hmin, hscale;
    float fmin, fscale;
    best_range(w, n, levels, &hmin, &hscale, &fmin, &fscale);
    for (size_t i = 0; i < n; i++) out[i] = fmin + quant_value(w[i], fmin, fscale, levels) * fscale;
}

void hn_fake_quant(float *out, const float *w, size_t rows, size_t cols, int bits, int mode)
{
    const uint32_t levels = (1u << bits) - 1;
    if (mode == 0) {
        fake_group(out, w, rows * cols, levels);
        return;
    }
    for (size_t r = 0; r < rows; r++) fake_group(out + r * cols, w + r * cols, cols, levels);
}
