/*
 * isi.c - Implicit Spectral Interpolation (HINER paper, Sec. 3.3, Eq. 9): a cube decoded
 * at every band's wavelength plus a uniform jitter of a fraction of the band spacing,
 * through the stored spectral encoder. Classifier training draws samples from such cubes
 * as augmentation; no ground truth is involved.
 */
#include <math.h>

#include "../internal.h"

hiner_status hiner_model_decode_jittered(hiner_model *m, double eta, uint64_t seed, float *out)
{
    HN_CHECK(!m || !out || !(eta >= 0.0 && eta <= 10.0), HINER_E_INVALID_ARG);
    hiner_info in;
    HN_FORWARD(hiner_model_info(m, &in));
    HN_CHECK(!in.has_encoder, HINER_E_UNSUPPORTED);
    const uint32_t C = in.bands;
    const size_t HW = (size_t)in.width * in.height;
    const double *wl = hiner_model_wavelengths(m);
#define POS(b) (wl ? wl[b] : (double)(b))
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t b = 0; b < C; b++) {
        lo = fmin(lo, POS(b));
        hi = fmax(hi, POS(b));
    }
    /* the overall direction of the band order, and its mean step as a fallback */
    const double dir = C > 1 && POS(C - 1) < POS(0) ? -1.0 : 1.0;
    const double mean_step = C > 1 ? (hi - lo) / (double)(C - 1) : 1.0;
    hn_rng rng;
    hn_rng_seed(&rng, seed ^ 0x151ULL);
    for (uint32_t b = 0; b < C; b++) {
        /* local spacing: steps to the neighbours along the band order, except a step back
         * (e.g. from the last VNIR band to the first SWIR band of EnMAP) */
        double sum = 0.0;
        int n = 0;
        if (b > 0 && (POS(b) - POS(b - 1)) * dir > 0) sum += (POS(b) - POS(b - 1)) * dir, n++;
        if (b + 1 < C && (POS(b + 1) - POS(b)) * dir > 0) sum += (POS(b + 1) - POS(b)) * dir, n++;
        const double spacing = n ? sum / n : (mean_step > 0 ? mean_step : 1.0);
        const double u = (double)(hn_rng_next(&rng) >> 11) * (1.0 / 9007199254740992.0);
        double w = POS(b) + (2.0 * u - 1.0) * eta * spacing;
        w = fmin(fmax(w, lo), hi);
        HN_FORWARD(hiner_model_decode_wavelength(m, w, out + (size_t)b * HW));
    }
#undef POS
    return HINER_OK;
}
