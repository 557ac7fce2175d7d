/*
 * tiler.c - a tiled encode in parts (docs/format.md, "Tiles"; hiner.h, "Tiled encodes in
 * parts"): each tile's statistics, the plan they make (the scene's ranges, each tile's
 * budget, the shared architecture and the prior tile), each tile encoded on its own from
 * its window's pixels, and the head of the file. The threaded encoder (tiled.c) and a
 * distributed one (python/hiner/dask.py) run the same functions, so they write the same
 * bytes. No function here reads a source or keeps a pixel: the caller brings the windows.
 */
#include <math.h>

#include "../codec/container.h"
#include "tiles.h"

#define STATS_MAGIC 0x54534e48u  /* "HNST" */
#define TILER_MAGIC 0x50544e48u  /* "HNTP" */

struct hiner_tiler {
    hiner_params p;  /* the caller's, callbacks cleared in a loaded tiler */
    hiner_params pt; /* the tiles': epochs fixed (no compute-bound resizing), one thread */
    hn_log lg;
    hn_grid g;
    uint32_t C, n;
    hiner_dtype dtype;
    size_t es;
    int has_nodata;
    double nodata;
    /* statistics, tile by tile */
    double *bmin, *bmax;
    uint64_t *nvalid, *pairs;
    float *grad;     /* (n, C) */
    uint8_t *have;   /* the tile's statistics arrived */
    int any_invalid;
    int planned;
    /* the plan */
    hn_data scene;   /* ranges, wavelengths, NoData: no pixels */
    hn_fixed f;      /* the head's payloads (the planning side only) */
    int has_head;
    uint64_t target, head;
    uint64_t *budget;

    hiner_plan std;
    int have_std;
    uint8_t *use_std;
    uint32_t prior;
};

static void no_log(int level, const char *msg, void *user)
{
    (void)level, (void)msg, (void)user;
}

void hiner_tiler_free(hiner_tiler *T)
{
    if (!T) return;
    hn_free(T->bmin);
    hn_free(T->bmax);
    hn_free(T->nvalid);
    hn_free(T->pairs);
    hn_free(T->grad);
    hn_free(T->have);
    hn_data_free(&T->scene);
    hn_fixed_free(&T->f);
    hn_free(T->budget);
    hn_free(T->use_std);
    free(T);
}

static hiner_status tiler_alloc(hiner_tiler *T)
{
    const uint32_t C = T->C, n = T->n;
    T->bmin = hn_malloc(C, sizeof(double));
    T->bmax = hn_malloc(C, sizeof(double));
    T->nvalid = hn_calloc(n, sizeof(uint64_t));
    T->pairs = hn_calloc(n, sizeof(uint64_t));
    T->grad = hn_calloc((size_t)n * C, sizeof(float));
    T->have = hn_calloc(n, 1);
    T->budget = hn_calloc(n, sizeof(uint64_t));
    T->use_std = hn_calloc(n, 1);
    HN_CHECK(!T->bmin || !T->bmax || !T->nvalid || !T->pairs || !T->grad || !T->have ||
                 !T->budget || !T->use_std, HINER_E_NOMEM);
    for (uint32_t b = 0; b < C; b++) T->bmin[b] = INFINITY, T->bmax[b] = -INFINITY;
    return HINER_OK;
}

/* The params every tile trains with: one thread each. */
static void tiler_params(hiner_tiler *T, const hiner_params *p)
{
    T->p = *p;
    T->lg = (hn_log){p->log ? p->log : no_log, p->log_user};
    T->pt = *p;
    T->pt.threads = 1;
}

/* A tile's epochs: the effort's budget for its pixels (the margin it trains on is not
 * counted), or the params' epochs; HN_WARM_SHARE of them for a tile that starts from the
 * prior. */
static int tile_epochs(const hiner_tiler *T, hn_rect k, const hiner_plan *pl, int warm)
{
    int e = hn_epochs_pixels(&T->p, pl, (double)k.w * k.h);
    if (warm) {
        e = (int)lround(e * HN_WARM_SHARE);
        if (e < 1) e = 1;
    }
    return e;
}

hiner_status hn_tiler_new(const hiner_cube *cube, const hiner_params *p, const hn_grid *g,
                          hiner_tiler **out)
{
    *out = NULL;
    HN_CHECK(p->model_bytes > 0, HINER_E_INVALID_ARG); /* the paper's sizing is per network */
    hiner_tiler *T = calloc(1, sizeof *T);
    HN_CHECK(!T, HINER_E_NOMEM);
    tiler_params(T, p);
    T->g = *g;
    T->C = cube->bands;
    T->n = hn_grid_count(g);
    T->dtype = cube->dtype;
    T->es = hiner_dtype_size(cube->dtype);
    T->has_nodata = cube->has_nodata;
    T->nodata = cube->nodata;
    T->target = p->size_bytes ? p->size_bytes
                              : (uint64_t)llround(p->bpppb * (double)g->W * g->H * T->C / 8.0);
    hn_data *d = &T->scene;
    d->W = cube->width, d->H = cube->height, d->C = cube->bands;
    d->dtype = cube->dtype;
    d->has_nodata = cube->has_nodata;
    d->nodata = cube->nodata;
    hiner_status st = tiler_alloc(T);
    if (st == HINER_OK) st = hn_data_wavelengths(d, cube, &T->lg);
    if (st != HINER_OK) {
        hiner_tiler_free(T);
        return st;
    }
    *out = T;
    return HINER_OK;
}

const hn_grid *hn_tiler_grid(const hiner_tiler *T)
{
    return &T->g;
}

/* ---- statistics ---- */

hiner_status hn_tiler_stats(const hiner_tiler *T, uint32_t t, const void *raw, hn_tstats *s)
{
    const hn_rect r = hn_grid_tile(&T->g, t);
    const size_t np = (size_t)r.w * r.h;
    double *v = hn_malloc(np, sizeof(double));
    uint8_t *ok = hn_malloc(np, 1);
    if (!v || !ok) {
        hn_free(v);
        hn_free(ok);
        return HINER_E_NOMEM;
    }
    s->nvalid = s->pairs = 0;
    for (uint32_t b = 0; b < T->C; b++) {
        const size_t k = hn_samples_read((const uint8_t *)raw + (size_t)b * np * T->es, T->dtype,
                                         np, T->has_nodata, T->nodata, v, ok);
        s->nvalid += k;
        double g = 0;
        hn_band_minmax(v, ok, np, &s->mn[b], &s->mx[b]);
        if (!k) s->mn[b] = INFINITY, s->mx[b] = -INFINITY;
        for (uint32_t y = 0; y < r.h; y++)
            for (uint32_t x = 0; x < r.w; x++) {
                const size_t i = (size_t)y * r.w + x;
                if (!ok[i]) continue;
                if (x + 1 < r.w && ok[i + 1]) {
                    const double d = v[i + 1] - v[i];
                    g += d * d;
                    s->pairs++;
                }
                if (y + 1 < r.h && ok[i + r.w]) {
                    const double d = v[i + r.w] - v[i];
                    g += d * d;
                    s->pairs++;
                }
            }
        s->grad[b] = (float)g;
    }
    hn_free(v);
    hn_free(ok);
    return HINER_OK;
}

hiner_status hn_tiler_merge(hiner_tiler *T, uint32_t t, const hn_tstats *s)
{
    HN_CHECK(t >= T->n || T->planned, HINER_E_INVALID_ARG);
    HN_CHECK(T->have[t], HINER_E_INVALID_ARG); /* a tile's statistics count once */
    T->have[t] = 1;
    T->nvalid[t] = s->nvalid;
    T->pairs[t] = s->pairs;
    for (uint32_t b = 0; b < T->C; b++) {
        T->bmin[b] = fmin(T->bmin[b], s->mn[b]);
        T->bmax[b] = fmax(T->bmax[b], s->mx[b]);
        T->grad[(size_t)t * T->C + b] = s->grad[b];
    }
    return HINER_OK;
}

/* ---- the plan ---- */

/* Bytes of a tile but for its payloads: framing, ARCH (for the deepest network), TMSK. */
static uint64_t tile_overhead(uint64_t tmsk)
{
    return 3 * HN_CHUNK_OVERHEAD + (tmsk ? HN_CHUNK_OVERHEAD + tmsk : 0) + hn_arch_bound();
}

double hn_tile_floor(const hiner_params *pt, const hn_grid *g, uint32_t t, uint32_t C,
                     int any_invalid)
{
    const hn_rect r = hn_grid_region(g, t), k = hn_grid_tile(g, t);
    const double mask = any_invalid ? 0.05 * (double)k.w * k.h : 0.0; /* about */
    return 1.25 * hn_plan_min_bytes(pt, r.w, r.h, C) + 4 * HN_CHUNK_OVERHEAD +
           (double)hn_arch_bound() + mask;
}

/* Each tile's share of the bytes: its valid samples times its detail (the mean squared
 * difference of neighbouring valid pixels, each band normalised by its range over the
 * scene) relative to the scene's, to the power HN_DETAIL_EXP and within [1/4, 4]: under
 * an error that falls as a power of the rate, equal marginal returns give busy tiles
 * more bits per sample (docs/benchmarks.md, "Tiles"). */
static void tile_weights(const hiner_tiler *T, double *wt)
{
    double logsum = 0, n = 0;
    for (uint32_t t = 0; t < T->n; t++) {
        wt[t] = 0;
        if (!T->nvalid[t] || !T->pairs[t]) continue;
        double d = 0;
        for (uint32_t b = 0; b < T->C; b++) {
            const double r = T->scene.band_max[b] - T->scene.band_min[b];
            if (r > 0) d += (double)T->grad[(size_t)t * T->C + b] / (r * r);
        }
        wt[t] = d / (double)T->pairs[t] + 1e-12;
        logsum += (double)T->nvalid[t] * log(wt[t]);
        n += (double)T->nvalid[t];
    }
    const double mean = n > 0 ? exp(logsum / n) : 1.0;
    for (uint32_t t = 0; t < T->n; t++) {
        double f = wt[t] > 0 ? pow(wt[t] / mean, HN_DETAIL_EXP) : 1.0;
        f = f < 0.25 ? 0.25 : f > 4.0 ? 4.0 : f;
        wt[t] = (double)T->nvalid[t] * f;
    }
}

/* Each tile's bytes: its weight's share, and at least its floor (the rest shared by the
 * others); BUDGET when the floors alone are more than the target leaves. */
static hiner_status set_budgets(hiner_tiler *T)
{
    const uint64_t end = HN_CHUNK_OVERHEAD;
    if (T->target <= T->head + end) {
        hn_logf(&T->lg, 0, "the metadata and the tile index alone take %llu bytes: a target of "
                "%llu bytes cannot hold a network", (unsigned long long)(T->head + end),
                (unsigned long long)T->target);
        return HINER_E_BUDGET;
    }
    const double room = (double)(T->target - T->head - end);
    double *fl = hn_malloc(T->n, sizeof(double));
    double *wt = hn_malloc(T->n, sizeof(double));
    uint8_t *at_floor = hn_calloc(T->n, 1);
    hiner_status st = HINER_OK;
    HN_GOTO_IF(!fl || !wt || !at_floor, HINER_E_NOMEM);
    tile_weights(T, wt);
    double need = 0;
    for (uint32_t t = 0; t < T->n; t++) {
        fl[t] = T->nvalid[t] ? hn_tile_floor(&T->pt, &T->g, t, T->C, T->any_invalid) : 0.0;
        need += fl[t];
    }
    if (need > room) {
        const double bpppb = (need + T->head + end) * 8.0 / ((double)T->g.W * T->g.H * T->C);
        hn_logf(&T->lg, 0, "%u tiles of %ux%u need at least %.0f bytes (%.4f bpppb) for their "
                "smallest networks: a target of %llu bytes cannot hold them; ask for more, or "
                "larger tiles", T->n, T->g.tw, T->g.th, need + T->head + end, bpppb,
                (unsigned long long)T->target);
        HN_GOTO_IF(1, HINER_E_BUDGET);
    }
    for (int changed = 1; changed;) {
        changed = 0;
        double left = room, share = 0;
        for (uint32_t t = 0; t < T->n; t++) {
            if (at_floor[t]) left -= fl[t];
            else share += wt[t];
        }
        for (uint32_t t = 0; t < T->n; t++) {
            if (at_floor[t] || !T->nvalid[t]) continue;
            const double b = left * wt[t] / share;
            if (b < fl[t]) at_floor[t] = 1, changed = 1;
            T->budget[t] = (uint64_t)floor(b);
        }
    }
    for (uint32_t t = 0; t < T->n; t++)
        if (at_floor[t]) T->budget[t] = (uint64_t)ceil(fl[t]);
fail:
    hn_free(fl);
    hn_free(wt);
    hn_free(at_floor);
    return st;
}

/* The architecture the full tiles share, sized for their mean budget on the frame of an
 * inner tile's window; a full tile whose budget is within [1/2, 2] of that mean uses it.
 * The prior is the one with the most valid samples, nearest the centre. */
static void choose_std(hiner_tiler *T)
{
    const hn_grid *g = &T->g;
    double sum = 0;
    uint32_t full = 0;
    T->have_std = 0;
    memset(T->use_std, 0, T->n);
    for (uint32_t t = 0; t < T->n; t++) {
        const hn_rect k = hn_grid_tile(g, t);
        if (k.w == g->tw && k.h == g->th && T->nvalid[t]) sum += (double)T->budget[t], full++;
    }
    if (full < 2 || HN_WARM_SHARE >= 1.0) return;
    const double mean = sum / full;
    const uint32_t fw = g->tw + 2 * g->margin < g->W ? g->tw + 2 * g->margin : g->W;
    const uint32_t fh = g->th + 2 * g->margin < g->H ? g->th + 2 * g->margin : g->H;
    const uint64_t bound = tile_overhead(T->any_invalid ? (uint64_t)(0.05 * g->tw * g->th) : 0);
    if (mean <= (double)bound ||
        hn_plan_for_rate(&T->pt, fw, fh, T->C, mean - (double)bound, &T->std, NULL) != HINER_OK ||
        hn_plan_readable(&T->std, NULL) != HINER_OK)
        return; /* each tile plans its own */
    T->have_std = 1;
    double best = -1;
    const double cx = 0.5 * g->W, cy = 0.5 * g->H;
    for (uint32_t t = 0; t < T->n; t++) {
        const hn_rect k = hn_grid_tile(g, t);
        const double b = (double)T->budget[t];
        T->use_std[t] = k.w == g->tw && k.h == g->th && T->nvalid[t] && b >= 0.5 * mean &&
                        b <= 2.0 * mean;
        if (!T->use_std[t]) continue;
        const double dx = k.x + 0.5 * k.w - cx, dy = k.y + 0.5 * k.h - cy;
        const double score = (double)T->nvalid[t] - 1e-6 * (dx * dx + dy * dy);
        if (score > best) best = score, T->prior = t;
    }
}

/* The training record of a tiled file: the settings, the grid, no figures (it is written
 * before any tile is trained). */
static hiner_status tiled_trng(const hiner_tiler *T, hn_buf *out)
{
    char trng[640];
    hiner_params one = T->p; /* each tile trains on one thread, whatever `threads` says */
    one.threads = 1;
    hn_training_text(trng, sizeof trng, &one, T->p.epochs, T->p.qat_epochs, NAN, NAN,
                     T->p.entropy ? T->p.entropy : HN_ENTROPY_ARITH);
    const size_t k = strlen(trng);
    snprintf(trng + k, sizeof trng - k, "tiles=%ux%u\ntile=%ux%u\nmargin=%u\n", T->g.nx, T->g.ny,
             T->g.tw, T->g.th, T->g.margin);
    return hn_pl_text(out, trng);
}

/* The head's payloads and size (the TIDX of the final size). */
static hiner_status head_payloads(hiner_tiler *T, const hiner_meta *meta)
{
    hn_fixed *f = &T->f;
    hiner_status st = hn_fixed_build(f, &T->scene, meta);
    if (st == HINER_E_LIMIT)
        hn_logf(&T->lg, 0, "the metadata is beyond what a reader accepts (docs/format.md); "
                           "nothing was trained or written");
    HN_FORWARD(st);
    hn_buf_free(&f->info);
    hn_pl_info_grid(&f->info, &T->scene, T->any_invalid, f->has_wave, T->p.store_encoder, T->n,
                    T->g.tw, T->g.th);
    HN_FORWARD(tiled_trng(T, &f->trng));
    HN_CHECK(f->info.err, HINER_E_NOMEM);
    T->has_head = 1;
    T->head = HN_HEADER_BYTES + 3 * HN_CHUNK_OVERHEAD + f->info.n + (8 + 12 * (uint64_t)T->n) +
              f->band.n + f->trng.n;
    if (f->has_wave) T->head += HN_CHUNK_OVERHEAD + f->wave.n;
    if (f->has_geo) T->head += HN_CHUNK_OVERHEAD + f->geo.n;
    if (f->has_meta) T->head += HN_CHUNK_OVERHEAD + f->meta.n;
    T->head += HN_CHUNK_OVERHEAD; /* TRNG */
    return HINER_OK;
}

hiner_status hn_tiler_min_bytes(hiner_tiler *T, const double *mn, const double *mx,
                                int any_invalid, const hiner_meta *meta, double *bytes)
{
    T->scene.band_min = hn_malloc(T->C, sizeof(double));
    T->scene.band_max = hn_malloc(T->C, sizeof(double));
    HN_CHECK(!T->scene.band_min || !T->scene.band_max, HINER_E_NOMEM);
    memcpy(T->scene.band_min, mn, T->C * sizeof(double));
    memcpy(T->scene.band_max, mx, T->C * sizeof(double));
    T->any_invalid = any_invalid;
    HN_FORWARD(head_payloads(T, meta));
    *bytes = (double)(T->head + HN_CHUNK_OVERHEAD); /* and END! */
    return HINER_OK;
}

const hiner_params *hn_tiler_tile_params(const hiner_tiler *T)
{
    return &T->pt;
}

hiner_status hn_tiler_plan(hiner_tiler *T, const hiner_meta *meta)
{
    HN_CHECK(T->planned, HINER_E_INVALID_ARG);
    uint64_t all = 0;
    for (uint32_t t = 0; t < T->n; t++) {
        HN_CHECK(!T->have[t], HINER_E_INVALID_ARG); /* every tile's statistics first */
        all += T->nvalid[t];
    }
    if (all == 0) {
        hn_logf(&T->lg, 0, "every pixel of the cube is NoData or NaN: nothing to encode");
        return HINER_E_NODATA;
    }
    T->any_invalid = all < (uint64_t)T->g.W * T->g.H * T->C;
    for (uint32_t b = 0; b < T->C; b++)
        if (T->bmin[b] > T->bmax[b]) T->bmin[b] = T->bmax[b] = 0.0; /* no valid sample */
    hn_free(T->scene.band_min);
    hn_free(T->scene.band_max);
    T->scene.band_min = T->bmin;
    T->scene.band_max = T->bmax;
    T->bmin = T->bmax = NULL;
    HN_FORWARD(head_payloads(T, meta));
    HN_FORWARD(set_budgets(T));
    choose_std(T);
    T->planned = 1;
    return HINER_OK;
}

hiner_status hn_tiler_head(const hiner_tiler *T, const uint64_t *off, const uint32_t *len,
                           hn_buf *out)
{
    HN_CHECK(!T->has_head, HINER_E_INVALID_ARG);
    const hn_fixed *f = &T->f;
    hn_buf tidx;
    hn_buf_init(&tidx);
    hn_pl_tidx(&tidx, T->g.nx, T->g.ny, off, len);
    hn_file_header_minor(out, 2);
    hn_chunk_put(out, "INFO", 1, f->info.p, f->info.n);
    hn_chunk_put(out, "TIDX", 1, tidx.p, tidx.n);
    hn_chunk_put(out, "BAND", 1, f->band.p, f->band.n);
    if (f->has_wave) hn_chunk_put(out, "WAVE", 1, f->wave.p, f->wave.n);
    if (f->has_geo) hn_chunk_put(out, "GEO ", 0, f->geo.p, f->geo.n);
    if (f->has_meta) hn_chunk_put(out, "META", 0, f->meta.p, f->meta.n);
    hn_chunk_put(out, "TRNG", 0, f->trng.p, f->trng.n);
    const int err = tidx.err || out->err;
    hn_buf_free(&tidx);
    HN_CHECK(err, HINER_E_NOMEM);
    HN_CHECK(out->n != T->head, HINER_E_GENERIC);
    return HINER_OK;
}

void hn_tiler_head_bits(const hiner_tiler *T, hiner_bits *bits)
{
    const hn_fixed *f = &T->f;
    bits->metadata = f->band.n + f->wave.n + f->geo.n + f->meta.n + f->trng.n;
    bits->header = T->head - bits->metadata + HN_CHUNK_OVERHEAD; /* END! too */
}

uint32_t hn_tiler_prior(const hiner_tiler *T)
{
    return T->have_std ? T->prior : UINT32_MAX;
}

/* ---- one tile ---- */

/* The training data of region r (raw samples): normalised with the scene's ranges, as
 * hn_data_load normalises a whole cube. */
static hiner_status region_data(const hiner_tiler *T, hn_rect r, const uint8_t *raw, hn_data *d)
{
    const uint32_t C = T->C;
    const size_t np = (size_t)r.w * r.h;
    memset(d, 0, sizeof *d);
    hiner_status st = HINER_OK;
    double *v = hn_malloc(np, sizeof(double));
    d->W = r.w, d->H = r.h, d->C = C;
    d->dtype = T->scene.dtype;
    d->has_nodata = T->scene.has_nodata;
    d->nodata = T->scene.nodata;
    d->target = hn_malloc(np * C, sizeof(float));
    d->valid = hn_malloc(np * C, 1);
    d->band_min = hn_malloc(C, sizeof(double));
    d->band_max = hn_malloc(C, sizeof(double));
    d->lam = hn_malloc(C, sizeof(double));
    const double *wl = T->scene.wavelengths;
    if (wl) d->wavelengths = hn_malloc(C, sizeof(double));
    HN_GOTO_IF(!v || !d->target || !d->valid || !d->band_min || !d->band_max || !d->lam ||
               (wl && !d->wavelengths), HINER_E_NOMEM);
    memcpy(d->band_min, T->scene.band_min, C * sizeof(double));
    memcpy(d->band_max, T->scene.band_max, C * sizeof(double));
    memcpy(d->lam, T->scene.lam, C * sizeof(double));
    if (wl) memcpy(d->wavelengths, wl, C * sizeof(double));
    d->lam_lo = T->scene.lam_lo;
    d->lam_scale = T->scene.lam_scale;
    size_t all = 0;
    for (uint32_t b = 0; b < C; b++) {
        uint8_t *vb = d->valid + (size_t)b * np;
        all += hn_samples_read(raw + (size_t)b * np * T->es, d->dtype, np, d->has_nodata,
                               d->nodata, v, vb);
        const double mn = d->band_min[b], mx = d->band_max[b];
        const double inv = mx > mn ? 1.0 / (mx - mn) : 0.0;
        float *dst = d->target + (size_t)b * np;
        for (size_t i = 0; i < np; i++) dst[i] = vb[i] ? (float)((v[i] - mn) * inv) : 0.0f;
        if (b > 0 && !d->mask_per_band && memcmp(vb, d->valid, np) != 0) d->mask_per_band = 1;
    }
    if (all == np * C) {
        hn_free(d->valid);
        d->valid = NULL;
    }
    hn_free(v);
    return HINER_OK;
fail:
    hn_free(v);
    hn_data_free(d);
    return st;
}

/* The tile's window of the region's mask, as TMSK codes it; no chunk when every pixel of
 * the tile is valid. */
static hiner_status tile_mask(const hn_data *d, hn_rect r, hn_rect k, uint32_t t, hn_buf *out)
{
    if (!d->valid) return HINER_OK;
    const uint32_t P = d->mask_per_band ? d->C : 1;
    const size_t np = (size_t)k.w * k.h;
    uint8_t *m = hn_malloc(np * P, 1);
    HN_CHECK(!m, HINER_E_NOMEM);
    size_t valid = 0;
    int per_band = 0;
    for (uint32_t b = 0; b < P; b++)
        for (uint32_t y = 0; y < k.h; y++) {
            const uint8_t *src = d->valid + ((size_t)b * r.h + (k.y - r.y) + y) * r.w + (k.x - r.x);
            uint8_t *dst = m + ((size_t)b * k.h + y) * k.w;
            memcpy(dst, src, k.w);
            for (uint32_t x = 0; x < k.w; x++) valid += dst[x];
        }
    for (uint32_t b = 1; b < P && !per_band; b++) per_band = memcmp(m, m + b * np, np) != 0;
    hiner_status st = HINER_OK;
    if (valid != np * P) st = hn_pl_tmsk(out, t, m, k.w, k.h, per_band, d->C);
    hn_free(m);
    return st;
}

/* The chunks of tile t: ARCH at the tile's place, TMSK, DECO and ENCO or EMBD. */
static hiner_status tile_run(const hn_encoder *e, hn_rect r, hn_rect k, uint32_t t,
                             const hn_buf *tmsk, hn_buf *run)
{
    hiner_plan pl = e->plan; /* the network's frame, with the tile's window in it */
    pl.pad_left = e->plan.pad_left + (k.x - r.x);
    pl.pad_top = e->plan.pad_top + (k.y - r.y);
    pl.width = k.w;
    pl.height = k.h;
    const hiner_model *m = e->m;
    hn_buf arch;
    hn_buf_init(&arch);
    hn_pl_arch_tile(&arch, &pl, t, k.x, k.y, m->wavelengths ? 1 : 0, m->lam_lo, m->lam_scale);
    hn_write_le32(e->q.deco.p, t); /* the payloads were coded for tile 0: tile:u32 comes first */
    hn_write_le32(e->q.rest.p, t);
    hn_chunk_put(run, "ARCH", 1, arch.p, arch.n);
    if (tmsk->n) hn_chunk_put(run, "TMSK", 1, tmsk->p, tmsk->n);
    hn_chunk_put(run, "DECO", 1, e->q.deco.p, e->q.deco.n);
    hn_chunk_put(run, e->p->store_encoder ? "ENCO" : "EMBD", 1, e->q.rest.p, e->q.rest.n);
    const int err = arch.err || run->err;
    hn_buf_free(&arch);
    return err ? HINER_E_NOMEM : HINER_OK;
}

/* What a tile's encode reports. */
static void tile_report(const hn_encoder *e, const hn_buf *tmsk, uint64_t framing,
                        hn_tile_result *res)
{
    res->plan = e->plan;
    res->plan.epochs = e->epochs;
    res->seconds = e->tr.seconds;
    res->steps = e->tr.steps;
    res->psnr_float = e->psnr_float;
    res->psnr_q = e->psnr_q;
    res->qat = e->qat;
    res->method = e->q.method;
    res->huff = e->q.size_of[HN_ENTROPY_HUFFMAN];
    res->arith = e->q.size_of[HN_ENTROPY_ARITH];
    res->min_bits = 99;
    res->max_bits = 0;
    for (int i = 0; i < e->q.nt; i++) {
        res->max_bits = e->q.bits[i] > res->max_bits ? e->q.bits[i] : res->max_bits;
        res->min_bits = e->q.bits[i] < res->min_bits ? e->q.bits[i] : res->min_bits;
    }
    memset(&res->bits, 0, sizeof res->bits);
    res->bits.header = 3 * HN_CHUNK_OVERHEAD + (tmsk->n ? HN_CHUNK_OVERHEAD : 0);
    res->bits.metadata = tmsk->n;
    res->bits.decoder = e->fixed - framing + e->q.deco.n;
    if (e->p->store_encoder)
        res->bits.encoder = e->q.rest.n;
    else
        res->bits.embeddings = e->q.rest.n;
}

hiner_status hn_tiler_encode(const hiner_tiler *T, uint32_t t, const void *raw, const float *prior,
                             const hn_tile_job *job, hn_buf *run, float **trained,
                             hn_tile_result *res)
{
    HN_CHECK(!T->planned || t >= T->n, HINER_E_INVALID_ARG);
    if (trained) *trained = NULL;
    memset(res, 0, sizeof *res);
    if (T->nvalid[t] == 0) return HINER_OK; /* an empty tile: no chunks */
    HN_CHECK(T->use_std[t] && t != T->prior && !prior, HINER_E_INVALID_ARG);
    const hn_rect k = hn_grid_tile(&T->g, t), r = hn_grid_region(&T->g, t);
    const hn_log lg = job->log.fn ? job->log : T->lg;
    hiner_status st = HINER_OK;
    hn_encoder e;
    memset(&e, 0, sizeof e);
    hn_buf tmsk;
    hn_buf_init(&tmsk);
    HN_GOTO_FWD(region_data(T, r, raw, &e.d));
    HN_GOTO_FWD(tile_mask(&e.d, r, k, t, &tmsk));
    e.p = &T->pt;
    e.lg = lg;
    e.tile_mode = 1;
    e.threads = 1;
    e.progress = job->progress;
    e.progress_user = job->progress_user;
    e.progress_hi = 1.0;
    e.f.no_trng = 1;
    e.samples = (double)r.w * r.h * T->C;
    e.target = T->budget[t];
    const uint64_t framing = 3 * HN_CHUNK_OVERHEAD + (tmsk.n ? HN_CHUNK_OVERHEAD + tmsk.n : 0);
    const uint64_t bound = tile_overhead(tmsk.n);
    if (e.target <= bound) {
        hn_logf(&lg, 0, "tile %u: %llu bytes cannot hold a network", t,
                (unsigned long long)e.target);
        HN_GOTO_IF(1, HINER_E_BUDGET);
    }
    if (T->use_std[t]) { /* the shared architecture, the window centred in its frame */
        e.plan = T->std;
        e.plan.width = r.w;
        e.plan.height = r.h;
        e.plan.pad_left = (e.plan.pad_width - r.w) / 2;
        e.plan.pad_top = (e.plan.pad_height - r.h) / 2;
        if (t != T->prior) e.init = prior;
        e.keep_trained = t == T->prior && trained;
    } else {
        st = hn_plan_for_rate(&T->pt, r.w, r.h, T->C, (double)(e.target - bound), &e.plan, &lg);
        if (st == HINER_E_BUDGET)
            hn_logf(&lg, 0, "tile %u (%ux%u): %llu bytes are below its smallest network", t, k.w,
                    k.h, (unsigned long long)e.target);
        HN_GOTO_FWD(st);
    }
    HN_GOTO_FWD(hn_plan_readable(&e.plan, &lg));
    e.epochs = tile_epochs(T, k, &e.plan, e.init != NULL);
    {
        hn_buf arch;
        hn_buf_init(&arch);
        hn_pl_arch(&arch, &e.plan, 0, 0, 0);
        e.fixed = framing + arch.n;
        hn_buf_free(&arch);
    }
    HN_GOTO_FWD(hn_encode_network(&e));
    HN_GOTO_FWD(tile_run(&e, r, k, t, &tmsk, run));
    tile_report(&e, &tmsk, framing, res);
    if (trained) {
        *trained = e.trained;
        e.trained = NULL;
    }
fail:
    hn_free(e.trained);
    hn_buf_free(&tmsk);
    hn_encoder_clear(&e);
    hn_data_free(&e.d);
    return st;
}

size_t hn_tiler_prior_floats(const hiner_tiler *T)
{
    if (!T->have_std) return 0;
    hn_net net;
    if (hn_net_init(&net, &T->std) != HINER_OK) return 0;
    const size_t n = net.n_params;
    hn_net_free(&net);
    return n;
}

int hn_tiler_tile_empty(const hiner_tiler *T, uint32_t t)
{
    return T->nvalid[t] == 0;
}

/* ---- the public API: tiled encodes in parts ---- */

hiner_status hiner_tiler_create(const hiner_cube *cube, const hiner_params *p, hiner_tiler **out)
{
    HN_CHECK(!cube || !p || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    HN_FORWARD(hiner_params_validate(p));
    HN_CHECK(cube->width == 0 || cube->height == 0 || cube->bands == 0, HINER_E_INVALID_ARG);
    HN_CHECK(hiner_dtype_size(cube->dtype) == 0, HINER_E_INVALID_ARG);
    HN_CHECK(cube->width > INT32_MAX || cube->height > INT32_MAX || cube->bands > 65535,
             HINER_E_LIMIT);
    hn_grid g;
    HN_FORWARD(hn_grid_make(&g, cube->width, cube->height, p->tile_width, p->tile_height,
                            p->tile_margin));
    return hn_tiler_new(cube, p, &g, out);
}

uint32_t hiner_tiler_count(const hiner_tiler *T)
{
    return T ? T->n : 0;
}

hiner_status hiner_tiler_window(const hiner_tiler *T, uint32_t tile, uint32_t rect[4],
                                uint32_t train[4])
{
    HN_CHECK(!T || tile >= T->n, HINER_E_INVALID_ARG);
    const hn_rect k = hn_grid_tile(&T->g, tile), r = hn_grid_region(&T->g, tile);
    if (rect) rect[0] = k.x, rect[1] = k.y, rect[2] = k.w, rect[3] = k.h;
    if (train) train[0] = r.x, train[1] = r.y, train[2] = r.w, train[3] = r.h;
    return HINER_OK;
}

/* A tile's statistics as bytes: magic, tile, bands, valid samples, pairs, then per band
 * min, max (f64) and the squared differences (f32). */
hiner_status hiner_tiler_stats(const hiner_tiler *T, uint32_t tile, const void *pixels,
                               void **blob, size_t *size)
{
    HN_CHECK(!T || !pixels || !blob || !size || tile >= T->n, HINER_E_INVALID_ARG);
    *blob = NULL;
    *size = 0;
    hn_tstats s;
    s.mn = hn_malloc(T->C, sizeof(double));
    s.mx = hn_malloc(T->C, sizeof(double));
    s.grad = hn_malloc(T->C, sizeof(float));
    hiner_status st = !s.mn || !s.mx || !s.grad ? HINER_E_NOMEM : HINER_OK;
    if (st == HINER_OK) st = hn_tiler_stats(T, tile, pixels, &s);
    hn_buf b;
    hn_buf_init(&b);
    if (st == HINER_OK) {
        hn_buf_u32(&b, STATS_MAGIC);
        hn_buf_u32(&b, tile);
        hn_buf_u32(&b, T->C);
        hn_buf_u64(&b, s.nvalid);
        hn_buf_u64(&b, s.pairs);
        for (uint32_t k = 0; k < T->C; k++) {
            hn_buf_f64(&b, s.mn[k]);
            hn_buf_f64(&b, s.mx[k]);
            hn_buf_f32(&b, s.grad[k]);
        }
        if (b.err) st = HINER_E_NOMEM;
    }
    hn_free(s.mn);
    hn_free(s.mx);
    hn_free(s.grad);
    if (st != HINER_OK) {
        hn_buf_free(&b);
        return st;
    }
    *blob = b.p;
    *size = b.n;
    return HINER_OK;
}

hiner_status hiner_tiler_add_stats(hiner_tiler *T, const void *blob, size_t size)
{
    HN_CHECK(!T || !blob, HINER_E_INVALID_ARG);
    hn_rd r;
    hn_rd_init(&r, blob, size);
    const uint32_t magic = hn_rd_u32(&r), tile = hn_rd_u32(&r), C = hn_rd_u32(&r);
    HN_CHECK(r.overrun || magic != STATS_MAGIC || C != T->C || tile >= T->n ||
                 size != 28 + 20 * (size_t)C, HINER_E_CORRUPT);
    hn_tstats s;
    s.nvalid = hn_rd_u64(&r);
    s.pairs = hn_rd_u64(&r);
    s.mn = hn_malloc(C, sizeof(double));
    s.mx = hn_malloc(C, sizeof(double));
    s.grad = hn_malloc(C, sizeof(float));
    hiner_status st = !s.mn || !s.mx || !s.grad ? HINER_E_NOMEM : HINER_OK;
    for (uint32_t k = 0; st == HINER_OK && k < C; k++) {
        s.mn[k] = hn_rd_f64(&r);
        s.mx[k] = hn_rd_f64(&r);
        s.grad[k] = hn_rd_f32(&r);
    }
    if (st == HINER_OK) st = hn_tiler_merge(T, tile, &s);
    hn_free(s.mn);
    hn_free(s.mx);
    hn_free(s.grad);
    return st;
}

hiner_status hiner_tiler_plan(hiner_tiler *T, const hiner_meta *meta)
{
    HN_CHECK(!T, HINER_E_INVALID_ARG);
    return hn_tiler_plan(T, meta);
}

/* The planned tiler as bytes, for the machines that encode tiles: everything a tile's
 * encode reads (params, grid, type, NoData, ranges, wavelengths, budgets, the shared
 * architecture); not the head, which only the writer needs. */
hiner_status hiner_tiler_save(const hiner_tiler *T, void **blob, size_t *size)
{
    HN_CHECK(!T || !blob || !size || !T->planned, HINER_E_INVALID_ARG);
    hn_buf b;
    hn_buf_init(&b);
    hiner_params p = T->p;
    p.progress = NULL, p.progress_user = NULL, p.log = NULL, p.log_user = NULL;
    hn_buf_u32(&b, TILER_MAGIC);
    hn_buf_u32(&b, HINER_VERSION_NUMBER);
    hn_buf_u32(&b, (uint32_t)sizeof p);
    hn_buf_put(&b, &p, sizeof p);
    const hn_grid *g = &T->g;
    const uint32_t gv[7] = {g->W, g->H, g->tw, g->th, g->nx, g->ny, g->margin};
    for (int i = 0; i < 7; i++) hn_buf_u32(&b, gv[i]);
    hn_buf_u32(&b, T->C);
    hn_buf_u8(&b, (uint8_t)T->dtype);
    hn_buf_u8(&b, (uint8_t)T->has_nodata);
    hn_buf_f64(&b, T->nodata);
    hn_buf_u8(&b, (uint8_t)T->any_invalid);
    hn_buf_u8(&b, T->scene.wavelengths != NULL);
    hn_buf_f64(&b, T->scene.lam_lo);
    hn_buf_f64(&b, T->scene.lam_scale);
    for (uint32_t k = 0; k < T->C; k++) {
        hn_buf_f64(&b, T->scene.band_min[k]);
        hn_buf_f64(&b, T->scene.band_max[k]);
        hn_buf_f64(&b, T->scene.lam[k]);
        hn_buf_f64(&b, T->scene.wavelengths ? T->scene.wavelengths[k] : 0.0);
    }
    for (uint32_t t = 0; t < T->n; t++) {
        hn_buf_u64(&b, T->nvalid[t]);
        hn_buf_u64(&b, T->budget[t]);
        hn_buf_u8(&b, T->use_std[t]);
    }
    hn_buf_u8(&b, (uint8_t)T->have_std);
    hn_buf_u32(&b, T->prior);
    hn_buf_put(&b, &T->std, sizeof T->std);
    if (b.err) {
        hn_buf_free(&b);
        return HINER_E_NOMEM;
    }
    *blob = b.p;
    *size = b.n;
    return HINER_OK;
}

hiner_status hiner_tiler_load(const void *blob, size_t size, hiner_tiler **out)
{
    HN_CHECK(!blob || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    hn_rd r;
    hn_rd_init(&r, blob, size);
    HN_CHECK(hn_rd_u32(&r) != TILER_MAGIC, HINER_E_CORRUPT);
    HN_CHECK(hn_rd_u32(&r) != HINER_VERSION_NUMBER, HINER_E_VERSION); /* the same library */
    HN_CHECK(hn_rd_u32(&r) != sizeof(hiner_params), HINER_E_ABI);
    hiner_params p;
    HN_CHECK(!hn_rd_get(&r, &p, sizeof p), HINER_E_CORRUPT);
    HN_FORWARD(hiner_params_validate(&p));
    uint32_t gv[7];
    for (int i = 0; i < 7; i++) gv[i] = hn_rd_u32(&r);
    hiner_cube c;
    memset(&c, 0, sizeof c);
    c.width = gv[0], c.height = gv[1];
    c.bands = hn_rd_u32(&r);
    c.dtype = (hiner_dtype)hn_rd_u8(&r);
    c.has_nodata = hn_rd_u8(&r);
    c.nodata = hn_rd_f64(&r);
    HN_CHECK(r.overrun || c.bands == 0 || c.bands > 65535 || hiner_dtype_size(c.dtype) == 0,
             HINER_E_CORRUPT);
    hn_grid g;
    HN_FORWARD(hn_grid_make(&g, gv[0], gv[1], (int)gv[2], (int)gv[3], (int)gv[6]));
    HN_CHECK(g.nx != gv[4] || g.ny != gv[5] || g.margin != gv[6], HINER_E_CORRUPT);
    hiner_tiler *T;
    HN_FORWARD(hn_tiler_new(&c, &p, &g, &T));
    hiner_status st = HINER_OK;
    T->any_invalid = hn_rd_u8(&r);
    const int has_wl = hn_rd_u8(&r);
    hn_data *d = &T->scene;
    d->lam_lo = hn_rd_f64(&r);
    d->lam_scale = hn_rd_f64(&r);
    d->band_min = hn_malloc(T->C, sizeof(double));
    d->band_max = hn_malloc(T->C, sizeof(double));
    if (has_wl && !d->wavelengths) d->wavelengths = hn_malloc(T->C, sizeof(double));
    HN_GOTO_IF(!d->band_min || !d->band_max || (has_wl && !d->wavelengths), HINER_E_NOMEM);
    for (uint32_t k = 0; k < T->C; k++) {
        d->band_min[k] = hn_rd_f64(&r);
        d->band_max[k] = hn_rd_f64(&r);
        d->lam[k] = hn_rd_f64(&r);
        const double w = hn_rd_f64(&r);
        if (has_wl) d->wavelengths[k] = w;
    }
    if (!has_wl && d->wavelengths) {
        hn_free(d->wavelengths);
        d->wavelengths = NULL;
    }
    for (uint32_t t = 0; t < T->n; t++) {
        T->nvalid[t] = hn_rd_u64(&r);
        T->budget[t] = hn_rd_u64(&r);
        T->use_std[t] = hn_rd_u8(&r);
    }
    T->have_std = hn_rd_u8(&r);
    T->prior = hn_rd_u32(&r);
    HN_GOTO_IF(!hn_rd_get(&r, &T->std, sizeof T->std), HINER_E_CORRUPT);
    HN_GOTO_IF(r.overrun || hn_rd_left(&r) != 0 || (T->have_std && T->prior >= T->n),
               HINER_E_CORRUPT);
    T->planned = 1;
    *out = T;
    return HINER_OK;
fail:
    hiner_tiler_free(T);
    return st;
}

hiner_status hiner_tiler_set_callbacks(hiner_tiler *T, hiner_progress_fn progress,
                                       void *progress_user, hiner_log_fn log, void *log_user)
{
    HN_CHECK(!T, HINER_E_INVALID_ARG);
    T->p.progress = progress;
    T->p.progress_user = progress_user;
    T->p.log = log;
    T->p.log_user = log_user;
    T->lg = (hn_log){log ? log : no_log, log_user};
    return HINER_OK;
}

int64_t hiner_tiler_prior(const hiner_tiler *T)
{
    return T && T->planned && T->have_std ? (int64_t)T->prior : -1;
}

hiner_status hiner_tiler_encode(const hiner_tiler *T, uint32_t tile, const void *pixels,
                                const void *prior, size_t prior_size, void **run,
                                size_t *run_size, void **trained, size_t *trained_size)
{
    HN_CHECK(!T || !pixels || !run || !run_size || !T->planned || tile >= T->n,
             HINER_E_INVALID_ARG);
    *run = NULL;
    *run_size = 0;
    if (trained) *trained = NULL;
    if (trained_size) *trained_size = 0;
    const size_t nw = hn_tiler_prior_floats(T);
    HN_CHECK(prior && prior_size != nw * sizeof(float), HINER_E_INVALID_ARG);
    hn_tile_job job = {T->p.progress, T->p.progress_user, {T->p.log, T->p.log_user}};
    hn_buf b;
    hn_buf_init(&b);
    float *w = NULL;
    hn_tile_result res;
    hiner_status st = hn_tiler_encode(T, tile, pixels, prior, &job, &b,
                                      trained && tile == T->prior ? &w : NULL, &res);
    if (st != HINER_OK) {
        hn_buf_free(&b);
        return st;
    }
    *run = b.p;
    *run_size = b.n;
    if (trained && w) {
        *trained = w;
        if (trained_size) *trained_size = nw * sizeof(float);
    }
    return HINER_OK;
}

hiner_status hiner_tiler_head(const hiner_tiler *T, const uint64_t *run_sizes, void **head,
                              size_t *size)
{
    HN_CHECK(!T || !run_sizes || !head || !size || !T->planned || !T->has_head,
             HINER_E_INVALID_ARG);
    *head = NULL;
    *size = 0;
    uint64_t *off = hn_malloc(T->n, sizeof(uint64_t));
    uint32_t *len = hn_malloc(T->n, sizeof(uint32_t));
    hiner_status st = !off || !len ? HINER_E_NOMEM : HINER_OK;
    uint64_t pos = T->head;
    for (uint32_t t = 0; st == HINER_OK && t < T->n; t++) {
        if (run_sizes[t] > UINT32_MAX) st = HINER_E_LIMIT;
        off[t] = run_sizes[t] ? pos : 0;
        len[t] = (uint32_t)run_sizes[t];
        pos += run_sizes[t];
    }
    hn_buf b;
    hn_buf_init(&b);
    if (st == HINER_OK) st = hn_tiler_head(T, off, len, &b);
    hn_free(off);
    hn_free(len);
    if (st != HINER_OK) {
        hn_buf_free(&b);
        return st;
    }
    *head = b.p;
    *size = b.n;
    return HINER_OK;
}

hiner_status hiner_tiler_tail(void **tail, size_t *size)
{
    HN_CHECK(!tail || !size, HINER_E_INVALID_ARG);
    hn_buf b;
    hn_buf_init(&b);
    hn_chunk_put(&b, "END!", 1, NULL, 0);
    if (b.err) {
        hn_buf_free(&b);
        return HINER_E_NOMEM;
    }
    *tail = b.p;
    *size = b.n;
    return HINER_OK;
}
