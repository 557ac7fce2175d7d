/*
 * quant.c - uniform weight quantization (paper Eq. 5): q = round((w - min) / scale) in
 * [0, 2^b), with min and scale stored as float16 per tensor (mode 0) or per row (mode 1),
 * or symmetric rows whose steps sit on a grid below one float16 step per tensor (mode 2,
 * a byte per row). The writer takes the mode of least squared error at equal bytes. Below
 * 8 bits the range may be clipped (the ends clamped) when that lowers the squared error.
 * min is rounded down and scale up to float16, so the chosen range stays inside the coded
 * one.
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

/* ---- mode 2: symmetric rows on a shared logarithmic grid of scales ----
 * Row r restores w = (q - 2^(bits-1)) * S * 2^(-k_r / 16): one float16 S per tensor and a
 * byte k_r per row. The fractions 2^(-j/16) are exact float constants so every platform
 * restores the same values. */
static const float grid16[16] = {
    0x1.000000p+0f, 0x1.ea4afap-1f, 0x1.d5818ep-1f, 0x1.c199bep-1f, 0x1.ae89fap-1f,
    0x1.9c4918p-1f, 0x1.8ace54p-1f, 0x1.7a1148p-1f, 0x1.6a09e6p-1f, 0x1.5ab07ep-1f,
    0x1.4bfdaep-1f, 0x1.3dea64p-1f, 0x1.306fe0p-1f, 0x1.2387a6p-1f, 0x1.172b84p-1f,
    0x1.0b5586p-1f};

static float grid_scale(float S, unsigned k)
{
    return ldexpf(S * grid16[k & 15], -(int)(k >> 4));
}

/* The step a row of values needs at `bits` so that its extremes are representable. */
static float row_need(const float *w, size_t n, int bits)
{
    const float z = (float)(1u << (bits - 1));
    float need = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = w[i] > 0.0f ? w[i] / (z - 1.0f) : -w[i] / z;
        if (a > need) need = a;
    }
    return need;
}

/* w's level at step sc, in [-z, z - 1]. */
static inline int sym_level(float w, float sc, int z)
{
    float v = sc > 0.0f ? nearbyintf(w / sc) : 0.0f;
    if (v < (float)-z) v = (float)-z;
    if (v > (float)(z - 1)) v = (float)(z - 1);
    return (int)v;
}

/* Quantizes one row at step S 2^(-k/16) with the k (of the grid steps at or above `need`
 * shrunk by the clipping candidates) of least squared error; q and out may be NULL. */
static double row_mode2(const float *w, size_t n, int bits, float S, uint16_t *q, float *out,
                        uint16_t *k_out)
{
    const int z = 1 << (bits - 1);
    double best = INFINITY;
    unsigned best_k = 255;
    const float need0 = row_need(w, n, bits);
    for (size_t c = 0; c < N_CLIP; c++) {
        if (c > 0 && bits >= 8) break; /* as in best_range */
        float need = need0 * (1.0f - 2.0f * clip_frac[c]);
        unsigned k = 0;
        if (S > 0.0f && need > 0.0f) {
            double e = -16.0 * log2((double)need / S);
            k = e <= 0.0 ? 0 : (e >= 255.0 ? 255 : (unsigned)e);
            while (k > 0 && grid_scale(S, k) < need) k--;
            while (k < 255 && grid_scale(S, k + 1) >= need) k++;
        } else {
            k = 255;
        }
        const float sc = grid_scale(S, k);
        double err = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)((float)sym_level(w[i], sc, z) * sc) - w[i];
            err += d * d;
        }
        if (err < best) best = err, best_k = k;
        if (need <= 0.0f) break;
    }
    const float sc = grid_scale(S, best_k);
    for (size_t i = 0; i < n && (q || out); i++) {
        const int v = sym_level(w[i], sc, z);
        if (q) q[i] = (uint16_t)(v + z);
        if (out) out[i] = (float)v * sc;
    }
    *k_out = (uint16_t)best_k;
    return best;
}

/* The tensor's float16 S: the largest row step, rounded up. */
static uint16_t mode2_base(const float *w, size_t rows, size_t cols, int bits)
{
    float need = 0.0f;
    for (size_t r = 0; r < rows; r++) need = fmaxf(need, row_need(w + r * cols, cols, bits));
    return need > 0.0f ? hn_f32_to_f16_dir(need, +1) : 0;
}

size_t hn_qtensor_side_bytes(int mode, size_t rows)
{
    return mode == 0 ? 4 : (mode == 1 ? 4 * rows : 2 + rows);
}

/* Entries of the side array: float16 pairs (modes 0, 1), or S and a grid index a row. */
static size_t side_count(int mode, size_t rows)
{
    return mode == 0 ? 2 : (mode == 1 ? 2 * rows : 1 + rows);
}

hiner_status hn_quantize(hn_qtensor *qt, const float *w, size_t rows, size_t cols, int bits,
                         int mode, double *sq_err)
{
    HN_CHECK(bits < 1 || bits > 16 || mode < -1 || mode > 2 || rows == 0 ||
                 (mode == 2 && bits < 2), HINER_E_INVALID_ARG);
    size_t n;
    HN_CHECK(!hn_mul_size(rows, cols, &n), HINER_E_LIMIT);
    for (size_t i = 0; i < n; i++)
        HN_CHECK(!isfinite(w[i]) || fabsf(w[i]) > 60000.0f, HINER_E_INVALID_ARG);
    memset(qt, 0, sizeof *qt);
    const uint32_t levels = (1u << bits) - 1;
    uint16_t *qs[3] = {NULL, NULL, NULL}, *ss[3] = {NULL, NULL, NULL};
    double err[3] = {INFINITY, INFINITY, INFINITY};
    hiner_status st = HINER_OK;
    for (int m = 0; m < 3; m++) {
        if (mode >= 0 ? m != mode : (m == 2 && bits < 2)) continue;
        qs[m] = hn_malloc(n, sizeof(uint16_t));
        ss[m] = hn_malloc(side_count(m, rows), sizeof(uint16_t));
        if (!qs[m] || !ss[m]) {
            st = HINER_E_NOMEM;
            goto done;
        }
        if (m == 0) {
            err[0] = quant_group(qs[0], ss[0], w, n, levels);
        } else if (m == 1) {
            err[1] = 0.0;
            for (size_t r = 0; r < rows; r++)
                err[1] += quant_group(qs[1] + r * cols, ss[1] + 2 * r, w + r * cols, cols, levels);
        } else {
            ss[2][0] = mode2_base(w, rows, cols, bits);
            const float S = hn_f16_to_f32(ss[2][0]);
            err[2] = 0.0;
            for (size_t r = 0; r < rows; r++)
                err[2] += row_mode2(w + r * cols, cols, bits, S, qs[2] + r * cols, NULL,
                                    ss[2] + 1 + r);
        }
    }
    /* mode -1: the least squared error at equal bytes. Side information of s bytes could
     * buy 8 s / n bits more per value, each bit a quarter of the squared error. Squared
     * error alone would always pick per-row ranges, whose side information can cost more
     * than the values (a bias of n rows of one value carries 4 n bytes of it). */
    int use = mode >= 0 ? mode : 0;
    double best = INFINITY;
    for (int m = 0; m < 3 && mode < 0; m++) {
        double cost = err[m] * pow(4.0, 8.0 * (double)hn_qtensor_side_bytes(m, rows) / (double)n);
        if (qs[m] && cost < best) best = cost, use = m;
    }
    qt->bits = bits;
    qt->mode = use;
    qt->rows = rows;
    qt->cols = cols;
    qt->q = qs[use];
    qt->side = ss[use];
    qs[use] = ss[use] = NULL;
    if (sq_err) *sq_err = err[use];
done:
    for (int m = 0; m < 3; m++) hn_free(qs[m]), hn_free(ss[m]);
    return st;
}

void hn_dequantize(float *w, const hn_qtensor *qt)
{
    if (qt->mode == 2) {
        const int z = 1 << (qt->bits - 1);
        const float S = hn_f16_to_f32(qt->side[0]);
        for (size_t r = 0; r < qt->rows; r++) {
            const float sc = grid_scale(S, qt->side[1 + r]);
            const uint16_t *q = qt->q + r * qt->cols;
            float *o = w + r * qt->cols;
            for (size_t i = 0; i < qt->cols; i++) o[i] = (float)((int)q[i] - z) * sc;
        }
        return;
    }
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
    return side_count(qt->mode, qt->rows);
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
    if (mode == 2) {
        const float S = hn_f16_to_f32(mode2_base(w, rows, cols, bits));
        uint16_t k;
        for (size_t r = 0; r < rows; r++)
            row_mode2(w + r * cols, cols, bits, S, NULL, out + r * cols, &k);
        return;
    }
    for (size_t r = 0; r < rows; r++) fake_group(out + r * cols, w + r * cols, cols, levels);
}
