/*
 * isi.c - Implicit Spectral Interpolation (HINER paper, Sec. 3.3, Eq. 9): a cube decoded
 * at every band's wavelength plus a uniform jitter of a fraction of the band spacing,
 * through the stored spectral encoder. Classifier training draws samples from such cubes
 * as augmentation; no ground truth is involved.
 */
#include <math.h>
#include <stdlib.h>

#include "../internal.h"
#include "hiner_classify.h"

/* A band with no range (constant, or without a valid pixel: EnMAP's water-vapour bands
 * hold one fill value) is no neighbour to interpolate towards: between a live band and
 * such a band the decoder's range and content run to the fill value, and training on such
 * cubes draws the classifier towards its smallest class. */
static int live(const hiner_model *m, int b)
{
    double mn, mx;
    return b >= 0 && hiner_model_band_range(m, (uint32_t)b, &mn, &mx) == HINER_OK && mx > mn;
}

hiner_status hiner_model_jitter_wavelengths(const hiner_model *m, double eta, uint64_t seed,
                                            double *out)
{
    HN_CHECK(!m || !out || !(eta >= 0.0 && eta <= 10.0), HINER_E_INVALID_ARG);
    hiner_info in;
    HN_FORWARD(hiner_model_info(m, &in));
    HN_CHECK(!in.has_encoder, HINER_E_UNSUPPORTED);
    const uint32_t C = in.bands;
    const double *wl = hiner_model_wavelengths(m);
#define POS(b) (wl ? wl[b] : (double)(b))
    hn_rng rng;
    hn_rng_seed(&rng, seed ^ 0x151ULL);
    for (uint32_t b = 0; b < C; b++) {
        /* the nearest stored band on each side along the wavelength axis (EnMAP's two
         * detectors overlap, so not necessarily b - 1 and b + 1) */
        int below = -1, above = -1;
        for (uint32_t k = 0; k < C; k++) {
            if (POS(k) < POS(b) && (below < 0 || POS(k) > POS(below))) below = (int)k;
            if (POS(k) > POS(b) && (above < 0 || POS(k) < POS(above))) above = (int)k;
        }
        /* the spacing is the distance to the nearer live neighbour (at the edge of a gap
         * in the wavelengths, the regular side); the jitter goes towards live ones only */
        const int self = live(m, (int)b);
        const int ok_below = self && live(m, below), ok_above = self && live(m, above);
        const double d_below = ok_below ? POS(b) - POS(below) : INFINITY;
        const double d_above = ok_above ? POS(above) - POS(b) : INFINITY;
        const double spacing = fmin(d_below, d_above);
        double u = 2.0 * ((double)(hn_rng_next(&rng) >> 11) * (1.0 / 9007199254740992.0)) - 1.0;
        if ((u > 0 && !ok_above) || (u < 0 && !ok_below)) u = -u;
        out[b] = isfinite(spacing) ? POS(b) + u * eta * spacing : POS(b);
    }
#undef POS
    return HINER_OK;
}

hiner_status hiner_model_decode_jittered(hiner_model *m, double eta, uint64_t seed, float *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    hiner_info in;
    HN_FORWARD(hiner_model_info(m, &in));
    const size_t HW = (size_t)in.width * in.height;
    double *wl = hn_malloc(in.bands ? in.bands : 1, sizeof(double));
    HN_CHECK(!wl, HINER_E_NOMEM);
    hiner_status st = hiner_model_jitter_wavelengths(m, eta, seed, wl);
    for (uint32_t b = 0; st == HINER_OK && b < in.bands; b++)
        st = hiner_model_decode_wavelength_as(m, wl[b], HINER_FLOAT32, out + (size_t)b * HW);
    hn_free(wl);
    return st;
}
