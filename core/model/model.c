/*
 * model.c - the hiner_model handle: allocation, decoding a stored band (from its
 * embedding) or any wavelength (through the spectral encoder), restoring the band's units
 * and NoData (as floats, or in double into the source's data type, rounded and clamped),
 * and measuring PSNR against a cube with the project's rules.
 */
#include <math.h>

#include "tiles.h"

hiner_status hn_model_alloc(hiner_model **out, const hiner_plan *pl)
{
    hiner_status st = HINER_OK;
    hiner_model *m = calloc(1, sizeof *m);
    HN_CHECK(!m, HINER_E_NOMEM);
    m->plan = *pl;
    const size_t C = pl->bands;
    const size_t E = hn_embed_size(pl);
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

hiner_status hn_model_compute_embeddings(hiner_model *m)
{
    /* the encoder alone: small buffers, not the decoder's activations (an open for
     * gdalinfo must stay light) */
    const hiner_plan *pl = &m->plan;
    const size_t E = hn_embed_size(pl);
    const size_t L2 = 2 * (size_t)pl->enc_freqs, H1 = (size_t)pl->enc_hidden;
    hn_acts A;
    memset(&A, 0, sizeof A);
    float *buf = hn_malloc(L2 + 2 * H1, sizeof(float));
    HN_CHECK(!buf, HINER_E_NOMEM);
    A.pe = buf;
    A.h1 = buf + L2;
    A.g1 = buf + L2 + H1;
    A.embed_len = E;
    for (uint32_t b = 0; b < pl->bands; b++)
        hn_encoder_forward(&m->net, m->net.params, &A, m->lam[b], m->embed + (size_t)b * E);
    hn_free(buf);
    return HINER_OK;
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
    hn_tileset_free(m->ts);
    free(m);
}

hiner_status hiner_model_plan(const hiner_model *m, hiner_plan *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    *out = m->ts ? m->tile_plan : m->plan;
    return HINER_OK;
}

/* What decoding threads may add to the convolution workspace (docs/robustness.md). */
#define MAX_THREAD_WKSP ((size_t)1 << 30)

/* The convolution workspace (bytes) the decode activations hold for a thread count. */
static size_t conv_wksp_bytes(const hiner_plan *pl, int threads)
{
    return hn_acts_wksp_floats(pl, threads) * sizeof(float);
}

hiner_status hn_model_ready(hiner_model *m)
{
    if (m->acts_ready) return HINER_OK;
    /* Each thread gets its own blocks of the workspace, sized by the widest layer: up to
     * ~800 MB for the widest a file may declare (2^20 output channels). Where threads
     * would add more than MAX_THREAD_WKSP, one thread decodes: a file cannot make the
     * memory grow with the number of CPUs. */
    int threads = m->threads;
    if (threads > 1 &&
        conv_wksp_bytes(&m->plan, threads) - conv_wksp_bytes(&m->plan, 1) > MAX_THREAD_WKSP) {
        hn_logf(&m->log, 1, "decoding with one thread: %d would need %zu MB of workspace",
                threads, conv_wksp_bytes(&m->plan, threads) >> 20);
        threads = 1;
    }
    if (threads > 1 && !m->pool) {
        m->pool = hn_pool_create(threads);
        HN_CHECK(!m->pool, HINER_E_NOMEM);
    }
    HN_FORWARD(hn_acts_init(&m->acts, &m->plan, 0, m->pool));
    m->acts_plan = m->plan;
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
    const hn_fpstate fp = hn_fp_enter();
    hn_decoder_forward(&m->net, m->net.params, &m->acts, emb);
    hn_fp_leave(fp);
    for (uint32_t y = 0; y < pl->height; y++)
        memcpy(out + (size_t)y * pl->width,
               m->acts.out + (size_t)(y + pl->pad_top) * pl->pad_width + pl->pad_left,
               pl->width * sizeof(float));
    return HINER_OK;
}

/* A value restored to the band's units from the decoder's v in [0,1], in double: the
 * float the decoder gives would lose Float64 values beyond float range (to +-inf) and the
 * low digits of Int32/UInt32/Float64 values far from zero (1e9 + 57 as 1e9 + 64). */
static double restore(double mn, double mx, float v)
{
    const double range = mx - mn;
    return isfinite(range) ? mn + (double)v * range : (1.0 - (double)v) * mn + (double)v * mx;
}

/* out = restore(v), invalid pixels (per `valid`, may be NULL) set to NoData. */
static void denormalise(const hiner_model *m, float *out, size_t n, double mn, double mx,
                        const uint8_t *valid)
{
    const float nod = m->has_nodata ? (float)m->nodata : NAN;
    for (size_t i = 0; i < n; i++)
        out[i] = valid && !valid[i] ? nod : (float)restore(mn, mx, out[i]);
}

/* The decoder's plane in [0,1], (H,W), for a stored band (by_wl 0, where = band) or a
 * wavelength through the encoder (by_wl 1), with the range that restores its units (a
 * wavelength's interpolated between the neighbouring bands) and the band whose validity
 * mask applies. */
static hiner_status decode_plane(hiner_model *m, int by_wl, double where, float *out,
                                 double *mn, double *mx, int *plane)
{
    const uint32_t C = m->plan.bands;
    if (!by_wl) {
        HN_CHECK(!(where >= 0 && where < (double)C), HINER_E_RANGE);
        const uint32_t band = (uint32_t)where;
        const size_t E = hn_embed_size(&m->plan);
        HN_FORWARD(hn_model_decode_norm(m, m->embed + band * E, out));
        *mn = m->band_min[band];
        *mx = m->band_max[band];
        *plane = (int)band;
        return HINER_OK;
    }
    const double wl = where;
    HN_CHECK(!m->has_encoder, HINER_E_UNSUPPORTED);
    HN_CHECK(!isfinite(wl), HINER_E_INVALID_ARG);
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
    *mn = m->band_min[below] + t * (m->band_min[above] - m->band_min[below]);
    *mx = m->band_max[below] + t * (m->band_max[above] - m->band_max[below]);
    *plane = t <= 0.5 ? below : above;

    HN_FORWARD(hn_model_ready(m));
    double lam = m->wavelengths ? (wl - m->lam_lo) * m->lam_scale : wl / (double)C;
    const hn_fpstate fp = hn_fp_enter();
    hn_encoder_forward(&m->net, m->net.params, &m->acts, lam, m->acts.emb);
    hn_fp_leave(fp);
    return hn_model_decode_norm(m, m->acts.emb, out);
}

hiner_status hiner_model_decode_band(hiner_model *m, uint32_t band, float *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    HN_CHECK(band >= m->plan.bands, HINER_E_RANGE);
    if (m->ts) return hiner_model_decode_band_as(m, band, HINER_FLOAT32, out);
    double mn, mx;
    int plane;
    HN_FORWARD(decode_plane(m, 0, (double)band, out, &mn, &mx, &plane));
    denormalise(m, out, (size_t)m->plan.width * m->plan.height, mn, mx, hn_model_valid(m, band));
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
    HN_CHECK(m->ts, HINER_E_UNSUPPORTED); /* by tile: hiner_model_decode_tile_as */
    double mn, mx;
    HN_FORWARD(decode_plane(m, 1, wl, out, &mn, &mx, plane));
    denormalise(m, out, (size_t)m->plan.width * m->plan.height, mn, mx,
                hn_model_valid(m, (uint32_t)*plane));
    return HINER_OK;
}

hiner_status hiner_model_psnr(hiner_model *m, const hiner_cube *in, double *psnr)
{
    HN_CHECK(!m || !in || !psnr, HINER_E_INVALID_ARG);
    HN_FORWARD(hn_cube_check(in));
    HN_CHECK(in->width != m->plan.width || in->height != m->plan.height ||
                 in->bands != m->plan.bands, HINER_E_INVALID_ARG);
    hiner_cube view;
    void *owned;
    HN_FORWARD(hn_cube_in_memory(in, &view, &owned));
    const hiner_cube *cube = &view;
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
        double mn, mx;
        hn_band_minmax(ref, valid, n, &mn, &mx);
        if (!(mx > mn)) continue; /* a constant band: out of the mean (DESIGN.md) */
        HN_GOTO_FWD(hiner_model_decode_band(m, b, dec));
        const double range = mx - mn;
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
    hn_free(owned);
    return st;
}

/* Restores the decoder's plane `in` (values in [0,1]) into `type`, rounded and clamped;
 * invalid pixels (valid[i] == 0, valid may be NULL) get the NoData value exactly (a float
 * cannot hold every NoData). */
static void to_type(void *out, const float *in, size_t n, hiner_dtype type, double mn,
                    double mx, const uint8_t *valid, int has_nodata, double nodata)
{
    const double nod =
        has_nodata ? nodata : (type == HINER_FLOAT32 || type == HINER_FLOAT64 ? NAN : 0.0);
#define CONV(T, LO, HI)                                                                      \
    do {                                                                                     \
        T *o = out;                                                                          \
        for (size_t i = 0; i < n; i++) {                                                     \
            double v = valid && !valid[i] ? nod : nearbyint(restore(mn, mx, in[i]));        \
            if (isnan(v)) v = 0.0;                                                           \
            o[i] = (T)(v < (LO) ? (LO) : (v > (HI) ? (HI) : v));                             \
        }                                                                                    \
    } while (0)
    switch (type) {
    case HINER_UINT8: CONV(uint8_t, 0.0, 255.0); break;
    case HINER_INT8: CONV(int8_t, -128.0, 127.0); break;
    case HINER_UINT16: CONV(uint16_t, 0.0, 65535.0); break;
    case HINER_INT16: CONV(int16_t, -32768.0, 32767.0); break;
    case HINER_UINT32: CONV(uint32_t, 0.0, 4294967295.0); break;
    case HINER_INT32: CONV(int32_t, -2147483648.0, 2147483647.0); break;
    case HINER_FLOAT32: {
        float *o = out;
        for (size_t i = 0; i < n; i++)
            o[i] = valid && !valid[i] ? (float)nod : (float)restore(mn, mx, in[i]);
        break;
    }
    case HINER_FLOAT64: {
        double *o = out;
        for (size_t i = 0; i < n; i++) o[i] = valid && !valid[i] ? nod : restore(mn, mx, in[i]);
        break;
    }
    }
#undef CONV
}

static hiner_status decode_window(hiner_model *m, uint32_t x0, uint32_t y0, uint32_t w,
                                  uint32_t h, int by_wl, double where, hiner_dtype type, void *out);

static hiner_status decode_as(hiner_model *m, int by_wl, double where, hiner_dtype type,
                              void *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    HN_CHECK(hiner_dtype_size(type) == 0, HINER_E_INVALID_ARG);
    if (m->ts)
        return decode_window(m, 0, 0, m->plan.width, m->plan.height, by_wl, where, type, out);
    const size_t n = (size_t)m->plan.width * m->plan.height;
    float *tmp = hn_malloc(n, sizeof(float));
    HN_CHECK(!tmp, HINER_E_NOMEM);
    int plane = 0;
    double mn = 0.0, mx = 0.0;
    hiner_status st = decode_plane(m, by_wl, where, tmp, &mn, &mx, &plane);
    if (st == HINER_OK)
        to_type(out, tmp, n, type, mn, mx, hn_model_valid(m, (uint32_t)plane), m->has_nodata,
                m->nodata);
    hn_free(tmp);
    return st;
}

hiner_status hiner_model_decode_band_as(hiner_model *m, uint32_t band, hiner_dtype type,
                                        void *out)
{
    return decode_as(m, 0, (double)band, type, out);
}

hiner_status hiner_model_decode_wavelength_as(hiner_model *m, double wl, hiner_dtype type,
                                              void *out)
{
    return decode_as(m, 1, wl, type, out);
}

/* ---- tiles ---- */

/* Two plans whose decode activations have the same sizes (the window decoded aside). */
static int same_arch(const hiner_plan *a, const hiner_plan *b)
{
    if (a->pad_width != b->pad_width || a->pad_height != b->pad_height ||
        a->n_stages != b->n_stages || a->embed_channels != b->embed_channels ||
        a->embed_height != b->embed_height || a->embed_width != b->embed_width ||
        a->enc_freqs != b->enc_freqs || a->enc_hidden != b->enc_hidden ||
        a->widths[0] != b->widths[0])
        return 0;
    for (int i = 0; i < a->n_stages; i++)
        if (a->strides[i] != b->strides[i] || a->kernels[i] != b->kernels[i] ||
            a->widths[i + 1] != b->widths[i + 1])
            return 0;
    return 1;
}

/* A tile's decode on the scene model's activations and threads, which tiles of one
 * architecture share (a tile model keeps only its weights). */
static hiner_status tile_decode(hiner_model *scene, hiner_model *sub, int by_wl, double where,
                                hiner_dtype type, void *out)
{
    if (scene->acts_ready && !same_arch(&scene->acts_plan, &sub->plan)) {
        hn_acts_free(&scene->acts);
        scene->acts_ready = 0;
    }
    sub->threads = scene->threads;
    sub->pool = scene->pool;
    if (scene->acts_ready) {
        sub->acts = scene->acts;
        sub->acts_ready = 1;
        hn_acts_set_rows(&sub->acts, &sub->plan);
    }
    hiner_status st = decode_as(sub, by_wl, where, type, out);
    if (sub->acts_ready) {
        scene->acts = sub->acts;
        scene->acts_plan = sub->plan;
        scene->acts_ready = 1;
    }
    scene->pool = sub->pool;
    sub->pool = NULL;
    memset(&sub->acts, 0, sizeof sub->acts);
    sub->acts_ready = 0;
    return st;
}

/* An empty tile, or the pixels of a failed one: NoData (NaN for a float type without). */
static void fill_nodata(const hiner_model *m, void *out, size_t n, hiner_dtype type)
{
    float zero = 0.0f;
    const uint8_t valid = 0;
    (void)zero;
    for (size_t i = 0; i < n; i++) /* one sample at a time through to_type's rules */
        to_type((uint8_t *)out + i * hiner_dtype_size(type), &zero, 1, type, 0, 0, &valid,
                m->has_nodata, m->nodata);
}

hiner_status hiner_model_decode_tile_as(hiner_model *m, uint32_t tx, uint32_t ty,
                                        int by_wavelength, double where, hiner_dtype type,
                                        void *out)
{
    HN_CHECK(!m || !out || hiner_dtype_size(type) == 0, HINER_E_INVALID_ARG);
    if (!m->ts) {
        HN_CHECK(tx != 0 || ty != 0, HINER_E_RANGE);
        return decode_as(m, by_wavelength, where, type, out);
    }
    const hn_grid *g = hn_tiles_grid(m);
    HN_CHECK(tx >= g->nx || ty >= g->ny, HINER_E_RANGE);
    const uint32_t t = ty * g->nx + tx;
    if (!by_wavelength) HN_CHECK(!(where >= 0 && where < (double)m->plan.bands), HINER_E_RANGE);
    if (by_wavelength) HN_CHECK(!m->has_encoder, HINER_E_UNSUPPORTED);
    hiner_model *sub;
    HN_FORWARD(hn_tile_get(m, t, &sub));
    if (!sub) {
        const hn_rect k = hn_grid_tile(g, t);
        fill_nodata(m, out, (size_t)k.w * k.h, type);
        return HINER_OK;
    }
    return tile_decode(m, sub, by_wavelength, where, type, out);
}

static hiner_status decode_window(hiner_model *m, uint32_t x0, uint32_t y0, uint32_t w,
                                  uint32_t h, int by_wl, double where, hiner_dtype type, void *out)
{
    const hn_grid *g = hn_tiles_grid(m);
    const size_t es = hiner_dtype_size(type);
    uint8_t *tmp = hn_malloc((size_t)g->tw * g->th, es);
    HN_CHECK(!tmp, HINER_E_NOMEM);
    hiner_status st = HINER_OK;
    for (uint32_t ty = y0 / g->th; ty <= (y0 + h - 1) / g->th; ty++)
        for (uint32_t tx = x0 / g->tw; tx <= (x0 + w - 1) / g->tw; tx++) {
            const hn_rect k = hn_grid_tile(g, ty * g->nx + tx);
            HN_GOTO_FWD(hiner_model_decode_tile_as(m, tx, ty, by_wl, where, type, tmp));
            const uint32_t ax = k.x > x0 ? k.x : x0, ay = k.y > y0 ? k.y : y0;
            const uint32_t bx = k.x + k.w < x0 + w ? k.x + k.w : x0 + w;
            const uint32_t by = k.y + k.h < y0 + h ? k.y + k.h : y0 + h;
            for (uint32_t y = ay; y < by; y++)
                memcpy((uint8_t *)out + ((size_t)(y - y0) * w + (ax - x0)) * es,
                       tmp + ((size_t)(y - k.y) * k.w + (ax - k.x)) * es, (size_t)(bx - ax) * es);
        }
fail:
    hn_free(tmp);
    return st;
}

hiner_status hiner_model_decode_window_as(hiner_model *m, uint32_t x0, uint32_t y0, uint32_t w,
                                          uint32_t h, int by_wavelength, double where,
                                          hiner_dtype type, void *out)
{
    HN_CHECK(!m || !out || hiner_dtype_size(type) == 0 || w == 0 || h == 0, HINER_E_INVALID_ARG);
    HN_CHECK(x0 >= m->plan.width || y0 >= m->plan.height || w > m->plan.width - x0 ||
                 h > m->plan.height - y0, HINER_E_RANGE);
    if (m->ts) return decode_window(m, x0, y0, w, h, by_wavelength, where, type, out);
    const size_t es = hiner_dtype_size(type), W = m->plan.width;
    uint8_t *tmp = hn_malloc(W * m->plan.height, es);
    HN_CHECK(!tmp, HINER_E_NOMEM);
    hiner_status st = decode_as(m, by_wavelength, where, type, tmp);
    for (uint32_t y = 0; st == HINER_OK && y < h; y++)
        memcpy((uint8_t *)out + (size_t)y * w * es, tmp + ((size_t)(y0 + y) * W + x0) * es,
               (size_t)w * es);
    hn_free(tmp);
    return st;
}

hiner_status hiner_model_set_tile_cache(hiner_model *m, size_t bytes)
{
    HN_CHECK(!m, HINER_E_INVALID_ARG);
    if (m->ts) hn_tiles_set_cache(m, bytes);
    return HINER_OK;
}
