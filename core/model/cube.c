/*
 * cube.c - reading the caller's cube: one band at a time in its native type (from memory or
 * through the read callback), converted to double with a validity mask (NoData, NaN and
 * infinities are invalid), and min-max normalisation per band.
 */
#include <math.h>

#include "model.h"

hiner_status hn_cube_check(const hiner_cube *cube)
{
    HN_CHECK(!cube, HINER_E_INVALID_ARG);
    HN_CHECK(cube->width == 0 || cube->height == 0 || cube->bands == 0, HINER_E_INVALID_ARG);
    HN_CHECK(hiner_dtype_size(cube->dtype) == 0, HINER_E_INVALID_ARG);
    HN_CHECK(!cube->data && !cube->read_band, HINER_E_INVALID_ARG);
    HN_CHECK(cube->width > 65535 || cube->height > 65535 || cube->bands > 65535, HINER_E_LIMIT);
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
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        double v = sample_at(src, cube->dtype, i);
        int ok = isfinite(v) && !(cube->has_nodata && v == cube->nodata);
        out[i] = v;
        valid[i] = (uint8_t)ok;
        nv += (size_t)ok;
    }
    *n_valid = nv;
    return HINER_OK;
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
