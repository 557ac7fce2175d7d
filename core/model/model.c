/*
 * model.c - the hiner_model handle: allocation, decoding a stored band (from its
 * embedding) or any wavelength (through the spectral encoder), restoring the band's units
 * and NoData, and measuring PSNR against a cube with the project's rules.
 */
#include <math.h>

#include "model.h"

hiner_status hn_model_alloc(hiner_model **out, const hiner_plan *pl)
{
    hiner_status st = HINER_OK;
    hiner_model *m = calloc(1, sizeof *m);
    HN_CHECK(!m, HINER_E_NOMEM);
    m->plan = *pl;
    const size_t C = pl->bands;
    const size_t E = (size_t)pl->embed_channels * pl->embed_height * pl->embed_width;
    HN_GOTO_FWD(hn_net_init(&m->net, pl));
    m->embed = hn_calloc(C, E * sizeof(float));
    m->band_min = hn_calloc(C, sizeof(double));
    m->band_max = hn_calloc(C, sizeof(double));
    m->lam = hn_calloc(C, sizeof(double));
    HN_GOTO_IF(!m->embed || !m->band_min || !m->band_max || !m->lam, HINER_E_NOMEM);
    m->lam_scale = 1.0;
    m->threads = 1;
    *out = m;
    return HINER_OK;
fail:
    hiner_model_free(m);
    return st;
}

hiner_status hn_model_take_data(hiner_model *m, hn_data *d)
{
    HN_CHECK(d->W != m->plan.width || d->H != m->plan.height || d->C != m->plan.bands,
             HINER_E_GENERIC);
#define MOVE(dst, src)                                                                       \
    do {                                                                                     \
        hn_free(dst);                                                                        \
        (dst) = (src);                                                                       \
        (src) = NULL;                                                                        \
    } while (0)
    MOVE(m->band_min, d->band_min);
    MOVE(m->band_max, d->band_max);
    MOVE(m->lam, d->lam);
    MOVE(m->wavelengths, d->wavelengths);
    MOVE(m->valid, d->valid);
#undef MOVE
    m->mask_per_band = d->mask_per_band;
    if (m->valid && !m->mask_per_band) { /* one plane serves every band */
        uint8_t *one = hn_malloc((size_t)d->W * d->H, 1);
        HN_CHECK(!one, HINER_E_NOMEM);
        memcpy(one, m->valid, (size_t)d->W * d->H);
        hn_free(m->valid);
        m->valid = one;
    }
    m->lam_lo = d->lam_lo;
    m->lam_scale = d->lam_scale;
    m->has_nodata = d->has_nodata;
    m->nodata = d->nodata;
    m->dtype = d->dtype;
    return HINER_OK;
}

void hn_log_plan(const hn_log *lg, const hiner_plan *pl)
{
    char s[160] = "";
    size_t k = 0;
    for (int i = 0; i < pl->n_stages && k < sizeof s - 8; i++)
        k += (size_t)snprintf(s + k, sizeof s - k, "%s%d", i ? "," : "", pl->strides[i]);
    hn_logf(lg, 2, "plan: %ux%u padded to %ux%u, strides %s, widths %d..%d, embedding %dx%dx%d, "
            "encoder %dx%d, decoder %llu + encoder %llu (+ %llu embedding) parameters, "
            "%.1f MMAC per band", pl->width, pl->height, pl->pad_width, pl->pad_height, s,
            pl->widths[0], pl->widths[pl->n_stages], pl->embed_channels, pl->embed_height,
            pl->embed_width, 2 * pl->enc_freqs, pl->enc_hidden,
            (unsigned long long)pl->decoder_params, (unsigned long long)pl->encoder_params,
            (unsigned long long)pl->embedding_params, pl->forward_macs * 1e-6);
}

void hiner_model_free(hiner_model *m)
{
    if (!m) return;
    hn_net_free(&m->net);
    hn_acts_free(&m->acts);
    hn_pool_free(m->pool);
    hn_free(m->embed);
    hn_free(m->band_min);
    hn_free(m->band_max);
    hn_free(m->lam);
    hn_free(m->wavelengths);
    hn_free(m->valid);
    hn_meta_store_free(m->meta);
    hn_free(m->training);
    free(m);
}

hiner_status hiner_model_plan(const hiner_model *m, hiner_plan *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    *out = m->plan;
    return HINER_OK;
}

hiner_status hn_model_ready(hiner_model *m)
{
    if (m->acts_ready) return HINER_OK;
    if (m->threads > 1 && !m->pool) {
        m->pool = hn_pool_create(m->threads);
        HN_CHECK(!m->pool, HINER_E_NOMEM);
    }
    HN_FORWARD(hn_acts_init(&m->acts, &m->plan, 0, m->pool));
    m->acts_ready = 1;
    return HINER_OK;
}

hiner_status hiner_model_set_threads(hiner_model *m, int threads)
{
    HN_CHECK(!m || threads < 0 || threads > 256, HINER_E_INVALID_ARG);
    if (threads == 0) threads = 1;
    if (threads == m->threads) return HINER_OK;
    hn_acts_free(&m->acts);
    m->acts_ready = 0;
    hn_pool_free(m->pool);
    m->pool = NULL;
    m->threads = threads;
    return HINER_OK;
}

hiner_status hn_model_decode_norm(hiner_model *m, const float *emb, float *out)
{
    HN_FORWARD(hn_model_ready(m));
    const hiner_plan *pl = &m->plan;
    hn_decoder_forward(&m->net, m->net.params, &m->acts, emb);
    for (uint32_t y = 0; y < pl->height; y++)
        memcpy(out + (size_t)y * pl->width,
               m->acts.out + (size_t)(y + pl->pad_top) * pl->pad_width + pl->pad_left,
               pl->width * sizeof(float));
    return HINER_OK;
}

/* out = mn + v * (mx - mn), invalid pixels (per `valid`, may be NULL) set to NoData. */
static void denormalise(const hiner_model *m, float *out, size_t n, double mn, double mx,
                        const uint8_t *valid)
{
    const double range = mx - mn;
    const float nod = m->has_nodata ? (float)m->nodata : NAN;
    for (size_t i = 0; i < n; i++)
        out[i] = valid && !valid[i] ? nod : (float)(mn + (double)out[i] * range);
}

hiner_status hiner_model_decode_band(hiner_model *m, uint32_t band, float *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    HN_CHECK(band >= m->plan.bands, HINER_E_RANGE);
    const size_t E = (size_t)m->plan.embed_channels * m->plan.embed_height * m->plan.embed_width;
    const size_t n = (size_t)m->plan.width * m->plan.height;
    HN_FORWARD(hn_model_decode_norm(m, m->embed + band * E, out));
    denormalise(m, out, n, m->band_min[band], m->band_max[band], hn_model_valid(m, band));
    return HINER_OK;
}

hiner_status hiner_model_decode_wavelength(hiner_model *m, double wl, float *out)
{
    int plane;
    return hn_model_decode_wavelength_plane(m, wl, out, &plane);
}

hiner_status hn_model_decode_wavelength_plane(hiner_model *m, double wl, float *out, int *plane)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    HN_CHECK(!m->has_encoder, HINER_E_UNSUPPORTED);
    HN_CHECK(!isfinite(wl), HINER_E_INVALID_ARG);
    const uint32_t C = m->plan.bands;
    /* positions of the stored bands on the wavelength axis (band index without wavelengths) */
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t b = 0; b < C; b++) {
        double x = m->wavelengths ? m->wavelengths[b] : (double)b;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
    }
    double tol = 1e-9 * (fabs(lo) + fabs(hi) + 1.0);
    HN_CHECK(wl < lo - tol || wl > hi + tol, HINER_E_RANGE);
    /* neighbours below and above for the value range and the validity mask */
    int below = -1, above = -1;
    double xb = -INFINITY, xa = INFINITY;
    for (uint32_t b = 0; b < C; b++) {
        double x = m->wavelengths ? m->wavelengths[b] : (double)b;
        if (x <= wl && x > xb) { xb = x; below = (int)b; }
        if (x >= wl && x < xa) { xa = x; above = (int)b; }
    }
    if (below < 0) below = above;
    if (above < 0) above = below;
    double t = (above != below && xa > xb) ? (wl - xb) / (xa - xb) : 0.0;
    double mn = m->band_min[below] + t * (m->band_min[above] - m->band_min[below]);
    double mx = m->band_max[below] + t * (m->band_max[above] - m->band_max[below]);
    int nearest = t <= 0.5 ? below : above;
    *plane = nearest;

    HN_FORWARD(hn_model_ready(m));
    double lam = m->wavelengths ? (wl - m->lam_lo) * m->lam_scale : wl / (double)C;
    hn_encoder_forward(&m->net, m->net.params, &m->acts, lam, m->acts.emb);
    HN_FORWARD(hn_model_decode_norm(m, m->acts.emb, out));
    const size_t n = (size_t)m->plan.width * m->plan.height;
    denormalise(m, out, n, mn, mx, hn_model_valid(m, (uint32_t)nearest));
    return HINER_OK;
}

hiner_status hiner_model_psnr(hiner_model *m, const hiner_cube *cube, double *psnr)
{
    HN_CHECK(!m || !cube || !psnr, HINER_E_INVALID_ARG);
    HN_FORWARD(hn_cube_check(cube));
    HN_CHECK(cube->width != m->plan.width || cube->height != m->plan.height ||
                 cube->bands != m->plan.bands, HINER_E_INVALID_ARG);
    hiner_status st = HINER_OK;
    const size_t n = (size_t)cube->width * cube->height;
    double *ref = hn_malloc(n, sizeof(double));
    float *dec = hn_malloc(n, sizeof(float));
    uint8_t *valid = hn_malloc(n, 1);
    void *tmp = cube->data ? NULL : hn_malloc(n, hiner_dtype_size(cube->dtype));
    HN_GOTO_IF(!ref || !dec || !valid || (!cube->data && !tmp), HINER_E_NOMEM);
    double sum = 0.0;
    uint32_t counted = 0;
    for (uint32_t b = 0; b < cube->bands; b++) {
        size_t nv;
        HN_GOTO_FWD(hn_cube_read_band(cube, b, tmp, ref, valid, &nv));
        if (nv == 0) continue;
        HN_GOTO_FWD(hiner_model_decode_band(m, b, dec));
        double mn, mx;
        hn_band_minmax(ref, valid, n, &mn, &mx);
        double range = mx - mn > 1e-12 ? mx - mn : 1e-12;
        double se = 0.0;
        for (size_t i = 0; i < n; i++) {
            if (!valid[i]) continue;
            double d = ((double)dec[i] - ref[i]) / range;
            se += d * d;
        }
        double mse = se / (double)nv;
        sum += -10.0 * log10(mse > 1e-12 ? mse : 1e-12);
        counted++;
    }
    HN_GOTO_IF(counted == 0, HINER_E_NODATA);
    *psnr = sum / counted;
fail:
    hn_free(ref);
    hn_free(dec);
    hn_free(valid);
    hn_free(tmp);
    return st;
}
