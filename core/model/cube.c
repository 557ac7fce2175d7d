/*
 * cube.c - reading the caller's cube: one band at a time in its native type (from memory or
 * through the read callback), converted to double with a validity mask (NoData, NaN and
 * infinities are invalid), and min-max normalisation per band.
 */
#include <math.h>

#include "cube.h"

hiner_status hn_cube_check(const hiner_cube *cube)
{
    HN_CHECK(!cube, HINER_E_INVALID_ARG);
    HN_CHECK(cube->width == 0 || cube->height == 0 || cube->bands == 0, HINER_E_INVALID_ARG);
    HN_CHECK(hiner_dtype_size(cube->dtype) == 0, HINER_E_INVALID_ARG);
    HN_CHECK(!cube->data && !cube->read_band && !cube->read_window, HINER_E_INVALID_ARG);
    HN_CHECK(cube->width > INT32_MAX || cube->height > INT32_MAX || cube->bands > 65535,
             HINER_E_LIMIT);
    if (cube->wavelengths)
        for (uint32_t b = 0; b < cube->bands; b++)
            HN_CHECK(!isfinite(cube->wavelengths[b]), HINER_E_INVALID_ARG);
    return HINER_OK;
}

static double sample_at(const void *p, hiner_dtype t, size_t i)
{
    switch (t) {
    case HINER_UINT8: return ((const uint8_t *)p)[i];
    case HINER_INT8: return ((const int8_t *)p)[i];
    case HINER_UINT16: return ((const uint16_t *)p)[i];
    case HINER_INT16: return ((const int16_t *)p)[i];
    case HINER_UINT32: return ((const uint32_t *)p)[i];
    case HINER_INT32: return ((const int32_t *)p)[i];
    case HINER_FLOAT32: return ((const float *)p)[i];
    case HINER_FLOAT64: return ((const double *)p)[i];
    }
    return NAN;
}

hiner_status hn_cube_read_band(const hiner_cube *cube, uint32_t b, void *tmp, double *out,
                               uint8_t *valid, size_t *n_valid)
{
    const size_t n = (size_t)cube->width * cube->height;
    const size_t es = hiner_dtype_size(cube->dtype);
    const void *src;
    if (cube->data) {
        src = (const uint8_t *)cube->data + (size_t)b * n * es;
    } else {
        HN_CHECK(cube->read_band(cube->read_user, b, tmp) != 0, HINER_E_IO);
        src = tmp;
    }
    *n_valid = hn_samples_read(src, cube->dtype, n, cube->has_nodata, cube->nodata, out, valid);
    return HINER_OK;
}

size_t hn_samples_read(const void *src, hiner_dtype t, size_t n, int has_nodata, double nodata,
                       double *out, uint8_t *valid)
{
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        double v = sample_at(src, t, i);
        int ok = isfinite(v) && !(has_nodata && v == nodata);
        out[i] = v;
        valid[i] = (uint8_t)ok;
        nv += (size_t)ok;
    }
    return nv;
}

void hn_band_minmax(const double *v, const uint8_t *valid, size_t n, double *mn, double *mx)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!valid[i]) continue;
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    if (lo > hi) lo = hi = 0.0; /* no valid pixel */
    *mn = lo;
    *mx = hi;
}

double hn_lambda_of(double wl, int has_wl, double lo, double scale)
{
    return has_wl ? (wl - lo) * scale : wl * scale;
}

void hn_data_free(hn_data *d)
{
    if (!d) return;
    hn_free(d->target);
    hn_free(d->valid);
    hn_free(d->band_min);
    hn_free(d->band_max);
    hn_free(d->wavelengths);
    hn_free(d->lam);
    memset(d, 0, sizeof *d);
}

hiner_status hn_data_wavelengths(hn_data *d, const hiner_cube *cube, const hn_log *lg)
{
    const uint32_t C = cube->bands;
    int use = cube->wavelengths != NULL && C > 1;
    double lo = INFINITY, hi = -INFINITY;
    if (use) {
        for (uint32_t b = 0; b < C; b++) {
            lo = fmin(lo, cube->wavelengths[b]);
            hi = fmax(hi, cube->wavelengths[b]);
        }
        /* repeated wavelengths would give two bands one embedding */
        double *s = hn_malloc(C, sizeof(double));
        HN_CHECK(!s, HINER_E_NOMEM);
        memcpy(s, cube->wavelengths, C * sizeof(double));
        for (uint32_t i = 1; i < C; i++) /* insertion sort: C is small */
            for (uint32_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
                double t = s[j];
                s[j] = s[j - 1];
                s[j - 1] = t;
            }
        for (uint32_t i = 1; i < C && use; i++)
            if (s[i] == s[i - 1]) use = 0;
        hn_free(s);
        if (!use) hn_logf(lg, 1, "wavelengths repeat; bands are addressed by index instead");
    }
    d->lam = hn_malloc(C, sizeof(double));
    HN_CHECK(!d->lam, HINER_E_NOMEM);
    if (use) {
        d->wavelengths = hn_malloc(C, sizeof(double));
        HN_CHECK(!d->wavelengths, HINER_E_NOMEM);
        memcpy(d->wavelengths, cube->wavelengths, C * sizeof(double));
        d->lam_lo = lo;
        d->lam_scale = 1.0 / (hi - lo);
    } else {
        d->lam_lo = 0.0;
        d->lam_scale = 1.0 / C;
    }
    for (uint32_t b = 0; b < C; b++)
        d->lam[b] = hn_lambda_of(use ? d->wavelengths[b] : (double)b, use, d->lam_lo,
                                 d->lam_scale);
    return HINER_OK;
}

static hiner_status data_load(hn_data *d, const hiner_cube *cube, const hn_log *lg);

hiner_status hn_cube_in_memory(const hiner_cube *in, hiner_cube *view, void **owned)
{
    *view = *in;
    *owned = NULL;
    if (in->data || !in->read_window) return HINER_OK;
    size_t n;
    HN_CHECK(!hn_mul_size((size_t)in->width * in->height, in->bands, &n), HINER_E_LIMIT);
    *owned = hn_malloc(n, hiner_dtype_size(in->dtype));
    HN_CHECK(!*owned, HINER_E_NOMEM);
    if (in->read_window(in->window_user, 0, 0, in->width, in->height, *owned) != 0) {
        hn_free(*owned);
        *owned = NULL;
        return HINER_E_IO;
    }
    view->data = *owned;
    return HINER_OK;
}

hiner_status hn_data_load(hn_data *d, const hiner_cube *in, const hn_log *lg)
{
    memset(d, 0, sizeof *d);
    HN_FORWARD(hn_cube_check(in));
    hiner_cube view;
    void *owned;
    HN_FORWARD(hn_cube_in_memory(in, &view, &owned));
    hiner_status st = data_load(d, &view, lg);
    hn_free(owned);
    return st;
}

static hiner_status data_load(hn_data *d, const hiner_cube *cube, const hn_log *lg)
{
    hiner_status st = HINER_OK;
    const size_t n = (size_t)cube->width * cube->height, C = cube->bands;
    size_t total;
    HN_CHECK(!hn_mul_size(n, C, &total), HINER_E_LIMIT);
    d->W = cube->width, d->H = cube->height, d->C = cube->bands;
    d->dtype = cube->dtype;
    d->has_nodata = cube->has_nodata;
    d->nodata = cube->nodata;
    double *v = hn_malloc(n, sizeof(double));
    void *tmp = cube->data ? NULL : hn_malloc(n, hiner_dtype_size(cube->dtype));
    d->target = hn_malloc(total, sizeof(float));
    d->valid = hn_malloc(total, 1);
    d->band_min = hn_malloc(C, sizeof(double));
    d->band_max = hn_malloc(C, sizeof(double));
    HN_GOTO_IF(!v || (!cube->data && !tmp) || !d->target || !d->valid || !d->band_min ||
               !d->band_max, HINER_E_NOMEM);
    HN_GOTO_FWD(hn_data_wavelengths(d, cube, lg));
    size_t all_valid = 0;
    for (uint32_t b = 0; b < C; b++) {
        size_t nv;
        uint8_t *vb = d->valid + (size_t)b * n;
        HN_GOTO_FWD(hn_cube_read_band(cube, b, tmp, v, vb, &nv));
        all_valid += nv;
        double mn, mx;
        hn_band_minmax(v, vb, n, &mn, &mx);
        d->band_min[b] = mn;
        d->band_max[b] = mx;
        double inv = mx > mn ? 1.0 / (mx - mn) : 0.0;
        float *dst = d->target + (size_t)b * n;
        for (size_t i = 0; i < n; i++) dst[i] = vb[i] ? (float)((v[i] - mn) * inv) : 0.0f;
        if (b > 0 && !d->mask_per_band && memcmp(vb, d->valid, n) != 0) d->mask_per_band = 1;
    }
    if (all_valid == 0) {
        hn_logf(lg, 0, "every pixel of the cube is NoData or NaN: nothing to encode");
        HN_GOTO_IF(1, HINER_E_NODATA);
    }
    if (all_valid == total) {
        hn_free(d->valid);
        d->valid = NULL;
    }
    hn_free(v);
    hn_free(tmp);
    return HINER_OK;
fail:
    hn_free(v);
    hn_free(tmp);
    hn_data_free(d);
    return st;
}
