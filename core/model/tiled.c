/*
 * tiled.c - the tiled encoder (docs/format.md, "Tiles"). A statistics pass reads the
 * scene tile by tile (each band's range over the scene, each tile's valid samples and
 * detail); the head of the file (INFO, the tile index reserved, BAND and the metadata)
 * is written; then worker threads train the tiles, one network each on one thread, on
 * windows read through the cube, and the tiles are written in tile order as they finish;
 * END! closes the file and the index is filled in. Memory is bounded by the tiles in
 * flight; the file depends on the source, the params and the seed, not on the number of
 * threads nor on the order in which tiles finish.
 */
#include <math.h>
#include <pthread.h>

#include "../codec/container.h"
#include "tiles.h"

/* ---- the grid ---- */

static uint32_t tile_side(uint32_t side, int want)
{
    if (want <= 0) /* automatic: a side up to a quarter more than the tile stays whole */
        return side <= (uint32_t)HINER_TILE_AUTO * 5 / 4 ? side : (uint32_t)HINER_TILE_AUTO;
    return (uint32_t)want < side ? (uint32_t)want : side;
}

hiner_status hn_grid_make(hn_grid *g, uint32_t W, uint32_t H, int tw, int th, int margin)
{
    memset(g, 0, sizeof *g);
    HN_CHECK(W == 0 || H == 0, HINER_E_INVALID_ARG);
    g->W = W;
    g->H = H;
    g->tw = tile_side(W, tw);
    g->th = tile_side(H, th);
    g->nx = (W + g->tw - 1) / g->tw;
    g->ny = (H + g->th - 1) / g->th;
    HN_CHECK((uint64_t)g->nx * g->ny > HN_MAX_TILES, HINER_E_LIMIT);
    g->margin = hn_grid_count(g) == 1 ? 0 : margin < 0 ? HN_TILE_MARGIN_AUTO : (uint32_t)margin;
    return HINER_OK;
}

hn_rect hn_grid_tile(const hn_grid *g, uint32_t t)
{
    hn_rect r;
    r.x = (t % g->nx) * g->tw;
    r.y = (t / g->nx) * g->th;
    r.w = g->W - r.x < g->tw ? g->W - r.x : g->tw;
    r.h = g->H - r.y < g->th ? g->H - r.y : g->th;
    return r;
}

hn_rect hn_grid_region(const hn_grid *g, uint32_t t)
{
    const hn_rect k = hn_grid_tile(g, t);
    const uint32_t m = g->margin;
    const uint32_t x0 = k.x > m ? k.x - m : 0, y0 = k.y > m ? k.y - m : 0;
    const uint32_t x1 = g->W - (k.x + k.w) > m ? k.x + k.w + m : g->W;
    const uint32_t y1 = g->H - (k.y + k.h) > m ? k.y + k.h + m : g->H;
    hn_rect r = {x0, y0, x1 - x0, y1 - y0};
    return r;
}

int hn_buf_write_at(void *user, uint64_t offset, const void *data, size_t n)
{
    hn_buf *b = user;
    if (offset > b->n) return 1; /* no holes: the encoder writes in order */
    if (offset == b->n) {
        hn_buf_put(b, data, n);
        return b->err;
    }
    const size_t keep = (size_t)offset + n <= b->n ? 0 : (size_t)offset + n - b->n;
    if (keep) hn_buf_put(b, (const uint8_t *)data + (n - keep), keep);
    if (b->err) return 1;
    memcpy(b->p + offset, data, n - keep);
    return 0;
}

/* ---- the encoder's state ---- */

typedef struct tiled {
    const hiner_params *p;
    hiner_params pt;          /* p with the tiles' epochs (no compute-bound resizing) */
    const hiner_cube *cube;
    const hiner_meta *meta;
    hn_grid g;
    uint32_t C, n;
    size_t es;
    pthread_mutex_t mu;       /* state, output, progress */
    pthread_mutex_t rmu;      /* the cube's reader */
    pthread_mutex_t lmu;      /* the caller's log */
    hn_log user_lg, lg;       /* the caller's log, and the same serialised */
    uint8_t *whole;           /* the cube read through read_band, or NULL */
    /* statistics */
    double *bmin, *bmax;      /* (C) over the scene */
    uint64_t *nvalid;         /* per tile: valid samples of the tile */
    float *grad;              /* (n, C): squared differences of valid neighbours */
    uint64_t *pairs;          /* per tile: the neighbour pairs summed */
    int any_invalid;
    uint32_t next_stat;
    /* the head and the budgets */
    hn_data scene;            /* ranges, wavelengths, NoData: no pixels */
    hn_fixed f;
    uint64_t target, head, tidx_at;
    uint64_t *budget;
    int epochs;               /* of a tile trained from scratch */
    int warm_epochs;          /* of a tile that starts from the prior */
    /* full tiles near the mean budget share one architecture (std, when have_std); the
     * first of them trained (prior) starts the others */
    hiner_plan std;
    int have_std;
    uint8_t *use_std;
    uint32_t prior;
    float *prior_w;           /* its weights after training, once it is done */
    pthread_cond_t prior_cv;
    /* output, in tile order */
    const hn_out *out;
    uint64_t pos;
    uint64_t *off;
    uint32_t *len;
    hn_buf *pending;
    uint8_t *finished;
    uint32_t next_write, next_tile, done;
    int next_worker;
    /* progress, failure, report */
    int workers;
    double *wfrac;
    double plo;
    int stop;
    hiner_status st;
    double seconds, psnr_f, psnr_q, weight;
    uint64_t steps;
    hiner_plan plan0;
    int have_plan0, qat, method, max_bits, min_bits;
    uint64_t huff, arith;
    hiner_bits bits;
} tiled;

static void locked_log(int level, const char *msg, void *user)
{
    tiled *T = user;
    pthread_mutex_lock(&T->lmu);
    T->user_lg.fn(level, msg, T->user_lg.user);
    pthread_mutex_unlock(&T->lmu);
}

/* Sets the first failure; the other workers stop at their next step. */
static void fail_with(tiled *T, hiner_status st)
{
    pthread_mutex_lock(&T->mu);
    if (T->st == HINER_OK) T->st = st;
    T->stop = 1;
    pthread_cond_broadcast(&T->prior_cv);
    pthread_mutex_unlock(&T->mu);
}

/* ---- reading windows ---- */

/* The cube held in memory when it reads band by band: every tile needs every band. */
static hiner_status load_whole(tiled *T)
{
    const hiner_cube *c = T->cube;
    size_t band, total;
    HN_CHECK(!hn_mul_size((size_t)c->width * c->height, T->es, &band), HINER_E_LIMIT);
    HN_CHECK(!hn_mul_size(band, c->bands, &total), HINER_E_LIMIT);
    T->whole = hn_malloc(total, 1);
    HN_CHECK(!T->whole, HINER_E_NOMEM);
    for (uint32_t b = 0; b < c->bands; b++)
        HN_CHECK(c->read_band(c->read_user, b, T->whole + (size_t)b * band) != 0, HINER_E_IO);
    return HINER_OK;
}

/* Window r of every band into out (C, r.h, r.w) in the cube's type. */
static hiner_status read_window(tiled *T, hn_rect r, uint8_t *out)
{
    const hiner_cube *c = T->cube;
    const uint8_t *src = c->data ? c->data : T->whole;
    if (src) {
        const size_t row = (size_t)r.w * T->es;
        for (uint32_t b = 0; b < T->C; b++)
            for (uint32_t y = 0; y < r.h; y++)
                memcpy(out + ((size_t)b * r.h + y) * row,
                       src + (((size_t)b * c->height + r.y + y) * c->width + r.x) * T->es, row);
        return HINER_OK;
    }
    pthread_mutex_lock(&T->rmu);
    const int rc = c->read_window(c->window_user, r.x, r.y, r.w, r.h, out);
    pthread_mutex_unlock(&T->rmu);
    if (rc != 0) {
        hn_logf(&T->lg, 0, "reading the window %u,%u %ux%u of the source failed", r.x, r.y, r.w,
                r.h);
        return HINER_E_IO;
    }
    return HINER_OK;
}

/* ---- the statistics pass ---- */

typedef struct stat_ws {
    uint8_t *raw;
    double *v;
    uint8_t *ok;
    double *mn, *mx;
} stat_ws;

static void stat_ws_free(stat_ws *w)
{
    hn_free(w->raw);
    hn_free(w->v);
    hn_free(w->ok);
    hn_free(w->mn);
    hn_free(w->mx);
}

/* Tile t: valid samples, each band's range, squared differences of valid neighbours. */
static hiner_status stat_tile(tiled *T, uint32_t t, stat_ws *w)
{
    const hn_rect r = hn_grid_tile(&T->g, t);
    const size_t np = (size_t)r.w * r.h;
    HN_FORWARD(read_window(T, r, w->raw));
    uint64_t nv = 0, pairs = 0;
    for (uint32_t b = 0; b < T->C; b++) {
        const size_t k = hn_samples_read(w->raw + (size_t)b * np * T->es, T->cube->dtype, np,
                                         T->cube->has_nodata, T->cube->nodata, w->v, w->ok);
        nv += k;
        double lo, hi, g = 0;
        hn_band_minmax(w->v, w->ok, np, &lo, &hi);
        if (k) {
            w->mn[b] = fmin(w->mn[b], lo);
            w->mx[b] = fmax(w->mx[b], hi);
        }
        for (uint32_t y = 0; y < r.h; y++)
            for (uint32_t x = 0; x < r.w; x++) {
                const size_t i = (size_t)y * r.w + x;
                if (!w->ok[i]) continue;
                if (x + 1 < r.w && w->ok[i + 1]) {
                    const double d = w->v[i + 1] - w->v[i];
                    g += d * d;
                    pairs++;
                }
                if (y + 1 < r.h && w->ok[i + r.w]) {
                    const double d = w->v[i + r.w] - w->v[i];
                    g += d * d;
                    pairs++;
                }
            }
        T->grad[(size_t)t * T->C + b] = (float)g;
    }
    T->nvalid[t] = nv;
    T->pairs[t] = pairs;
    return HINER_OK;
}

static void *stat_worker(void *arg)
{
    tiled *T = arg;
    stat_ws w;
    memset(&w, 0, sizeof w);
    const size_t np = (size_t)T->g.tw * T->g.th;
    w.raw = hn_malloc(np * T->C, T->es);
    w.v = hn_malloc(np, sizeof(double));
    w.ok = hn_malloc(np, 1);
    w.mn = hn_malloc(T->C, sizeof(double));
    w.mx = hn_malloc(T->C, sizeof(double));
    if (!w.raw || !w.v || !w.ok || !w.mn || !w.mx) {
        fail_with(T, HINER_E_NOMEM);
        stat_ws_free(&w);
        return NULL;
    }
    for (uint32_t b = 0; b < T->C; b++) w.mn[b] = INFINITY, w.mx[b] = -INFINITY;
    for (;;) {
        pthread_mutex_lock(&T->mu);
        const uint32_t t = T->stop ? T->n : T->next_stat++;
        pthread_mutex_unlock(&T->mu);
        if (t >= T->n) break;
        hiner_status st = stat_tile(T, t, &w);
        if (st != HINER_OK) {
            fail_with(T, st);
            break;
        }
    }
    pthread_mutex_lock(&T->mu);
    for (uint32_t b = 0; b < T->C; b++) {
        T->bmin[b] = fmin(T->bmin[b], w.mn[b]);
        T->bmax[b] = fmax(T->bmax[b], w.mx[b]);
    }
    pthread_mutex_unlock(&T->mu);
    stat_ws_free(&w);
    return NULL;
}

/* Runs fn on `workers` threads (the calling one among them). */
static hiner_status run_workers(tiled *T, void *(*fn)(void *))
{
    pthread_t tid[256];
    int started = 0;
    for (int i = 1; i < T->workers; i++) {
        if (pthread_create(&tid[started], NULL, fn, T) != 0) break;
        started++;
    }
    fn(T);
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
    return T->st;
}

static hiner_status stats_pass(tiled *T)
{
    const uint32_t C = T->C;
    T->bmin = hn_malloc(C, sizeof(double));
    T->bmax = hn_malloc(C, sizeof(double));
    T->nvalid = hn_calloc(T->n, sizeof(uint64_t));
    T->pairs = hn_calloc(T->n, sizeof(uint64_t));
    T->grad = hn_calloc((size_t)T->n * C, sizeof(float));
    HN_CHECK(!T->bmin || !T->bmax || !T->nvalid || !T->pairs || !T->grad, HINER_E_NOMEM);
    for (uint32_t b = 0; b < C; b++) T->bmin[b] = INFINITY, T->bmax[b] = -INFINITY;
    HN_FORWARD(run_workers(T, stat_worker));
    uint64_t all = 0;
    for (uint32_t t = 0; t < T->n; t++) all += T->nvalid[t];
    if (all == 0) {
        hn_logf(&T->lg, 0, "every pixel of the cube is NoData or NaN: nothing to encode");
        return HINER_E_NODATA;
    }
    T->any_invalid = all < (uint64_t)T->g.W * T->g.H * C;
    for (uint32_t b = 0; b < C; b++)
        if (T->bmin[b] > T->bmax[b]) T->bmin[b] = T->bmax[b] = 0.0; /* no valid sample */
    return HINER_OK;
}

/* ---- the head of the file and the budgets ---- */

static hiner_status scene_data(tiled *T)
{
    hn_data *d = &T->scene;
    const hiner_cube *c = T->cube;
    memset(d, 0, sizeof *d);
    d->W = c->width;
    d->H = c->height;
    d->C = c->bands;
    d->dtype = c->dtype;
    d->has_nodata = c->has_nodata;
    d->nodata = c->nodata;
    d->band_min = T->bmin;
    d->band_max = T->bmax;
    T->bmin = T->bmax = NULL;
    return hn_data_wavelengths(d, c, &T->lg);
}

/* Header, INFO, the index (zeros), BAND, WAVE, GEO, META, TRNG: written now, at 0. */
static hiner_status write_head(tiled *T)
{
    hn_fixed *f = &T->f;
    hiner_status st = hn_fixed_build(f, &T->scene, T->meta);
    if (st == HINER_E_LIMIT)
        hn_logf(&T->lg, 0, "the metadata is beyond what a reader accepts (docs/format.md); "
                           "nothing was trained or written");
    HN_FORWARD(st);
    hn_buf_free(&f->info);
    hn_pl_info_grid(&f->info, &T->scene, T->any_invalid, f->has_wave, T->p->store_encoder,
                    T->n, T->g.tw, T->g.th);
    char trng[640];
    hiner_params one = *T->p; /* each tile trains on one thread, whatever `threads` says */
    one.threads = 1;
    hn_training_text(trng, sizeof trng, &one, T->epochs, T->qat, NAN, NAN,
                     T->p->entropy ? T->p->entropy : HN_ENTROPY_ARITH);
    const size_t k = strlen(trng);
    snprintf(trng + k, sizeof trng - k, "tiles=%ux%u\ntile=%ux%u\nmargin=%u\n", T->g.nx, T->g.ny,
             T->g.tw, T->g.th, T->g.margin);
    HN_FORWARD(hn_pl_text(&f->trng, trng));
    hn_buf head, tidx;
    hn_buf_init(&head);
    hn_buf_init(&tidx);
    hn_pl_tidx(&tidx, T->g.nx, T->g.ny, NULL, NULL);
    hn_file_header_minor(&head, 2);
    hn_chunk_put(&head, "INFO", 1, f->info.p, f->info.n);
    T->tidx_at = head.n;
    hn_chunk_put(&head, "TIDX", 1, tidx.p, tidx.n);
    hn_chunk_put(&head, "BAND", 1, f->band.p, f->band.n);
    if (f->has_wave) hn_chunk_put(&head, "WAVE", 1, f->wave.p, f->wave.n);
    if (f->has_geo) hn_chunk_put(&head, "GEO ", 0, f->geo.p, f->geo.n);
    if (f->has_meta) hn_chunk_put(&head, "META", 0, f->meta.p, f->meta.n);
    hn_chunk_put(&head, "TRNG", 0, f->trng.p, f->trng.n);
    st = head.err || tidx.err ? HINER_E_NOMEM : HINER_OK;
    if (st == HINER_OK && T->out->write_at(T->out->user, 0, head.p, head.n) != 0) st = HINER_E_IO;
    T->head = T->pos = head.n;
    T->bits.metadata = f->band.n + f->wave.n + f->geo.n + f->meta.n + f->trng.n;
    T->bits.header = head.n - T->bits.metadata;
    hn_buf_free(&head);
    hn_buf_free(&tidx);
    return st;
}

/* Bytes of a tile but for its payloads: framing, ARCH (for the deepest network), TMSK. */
static uint64_t tile_overhead(uint64_t tmsk)
{
    return 3 * HN_CHUNK_OVERHEAD + (tmsk ? HN_CHUNK_OVERHEAD + tmsk : 0) + hn_arch_bound();
}

/* The architecture the full tiles share, sized for their mean budget on the frame of an
 * inner tile's window; a full tile whose budget is within [1/2, 2] of that mean uses it.
 * The prior is the one with the most valid samples, nearest the centre. */
static hiner_status choose_std(tiled *T)
{
    const hn_grid *g = &T->g;
    double sum = 0;
    uint32_t full = 0;
    for (uint32_t t = 0; t < T->n; t++) {
        const hn_rect k = hn_grid_tile(g, t);
        if (k.w == g->tw && k.h == g->th && T->nvalid[t]) sum += (double)T->budget[t], full++;
    }
    T->use_std = hn_calloc(T->n, 1);
    HN_CHECK(!T->use_std, HINER_E_NOMEM);
    if (full < 2 || T->warm_epochs == T->epochs) return HINER_OK;
    const double mean = sum / full;
    const uint32_t fw = g->tw + 2 * g->margin < g->W ? g->tw + 2 * g->margin : g->W;
    const uint32_t fh = g->th + 2 * g->margin < g->H ? g->th + 2 * g->margin : g->H;
    const uint64_t bound = tile_overhead(T->any_invalid ? (uint64_t)(0.05 * g->tw * g->th) : 0);
    if (mean <= (double)bound ||
        hn_plan_for_rate(&T->pt, fw, fh, T->C, mean - (double)bound, &T->std, NULL) != HINER_OK ||
        hn_plan_readable(&T->std, NULL) != HINER_OK)
        return HINER_OK; /* each tile plans its own */
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
    return HINER_OK;
}

/* Bytes a tile cannot go below: its chunks' framing, ARCH and mask, and the smallest
 * network, with room for the rate fit. */
static double tile_floor(const tiled *T, uint32_t t)
{
    const hn_rect r = hn_grid_region(&T->g, t), k = hn_grid_tile(&T->g, t);
    const double mask = T->any_invalid ? 0.05 * (double)k.w * k.h : 0.0; /* about */
    return 1.25 * hn_plan_min_bytes(&T->pt, r.w, r.h, T->C) + 4 * HN_CHUNK_OVERHEAD +
           (double)hn_arch_bound() + mask;
}

/* Each tile's bytes: in proportion to its valid samples, and at least its floor (the
 * rest shared by the others). */
static hiner_status set_budgets(tiled *T)
{
    const uint64_t end = HN_CHUNK_OVERHEAD;
    if (T->target <= T->head + end) {
        hn_logf(&T->lg, 0, "the metadata and the tile index alone take %llu bytes: a target of "
                "%llu bytes cannot hold a network", (unsigned long long)(T->head + end),
                (unsigned long long)T->target);
        return HINER_E_BUDGET;
    }
    const double room = (double)(T->target - T->head - end);
    double sum = 0;
    for (uint32_t t = 0; t < T->n; t++) sum += (double)T->nvalid[t];
    T->budget = hn_calloc(T->n, sizeof(uint64_t));
    double *fl = hn_malloc(T->n, sizeof(double));
    uint8_t *at_floor = hn_calloc(T->n, 1);
    hiner_status st = HINER_OK;
    HN_GOTO_IF(!T->budget || !fl || !at_floor, HINER_E_NOMEM);
    double need = 0;
    for (uint32_t t = 0; t < T->n; t++) {
        fl[t] = T->nvalid[t] ? tile_floor(T, t) : 0.0;
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
    /* tiles whose share is below their floor get the floor; the others share what is left */
    for (int changed = 1; changed;) {
        changed = 0;
        double left = room, share = 0;
        for (uint32_t t = 0; t < T->n; t++) {
            if (at_floor[t]) left -= fl[t];
            else share += (double)T->nvalid[t];
        }
        for (uint32_t t = 0; t < T->n; t++) {
            if (at_floor[t] || !T->nvalid[t]) continue;
            const double b = left * (double)T->nvalid[t] / share;
            if (b < fl[t]) at_floor[t] = 1, changed = 1;
            T->budget[t] = (uint64_t)floor(b);
        }
    }
    for (uint32_t t = 0; t < T->n; t++)
        if (at_floor[t]) T->budget[t] = (uint64_t)ceil(fl[t]);
    (void)sum;
    HN_GOTO_FWD(choose_std(T));
fail:
    hn_free(fl);
    hn_free(at_floor);
    return st;
}

/* ---- one tile ---- */

typedef struct tile_ctx {
    tiled *T;
    int worker;
    uint32_t tile;
} tile_ctx;

static int tile_progress(double frac, const char *msg, void *user)
{
    (void)msg;
    tile_ctx *c = user;
    tiled *T = c->T;
    pthread_mutex_lock(&T->mu);
    T->wfrac[c->worker] = frac;
    int go = !T->stop;
    if (go && T->p->progress) {
        double sum = T->done;
        for (int i = 0; i < T->workers; i++) sum += T->wfrac[i];
        char m[96];
        snprintf(m, sizeof m, "tile %u of %u", T->done + 1, T->n);
        if (!T->p->progress(T->plo + (1.0 - T->plo) * sum / T->n, m, T->p->progress_user)) {
            T->stop = 1;
            if (T->st == HINER_OK) T->st = HINER_E_ABORTED;
            pthread_cond_broadcast(&T->prior_cv);
            go = 0;
        }
    }
    pthread_mutex_unlock(&T->mu);
    return go;
}

/* The training data of region r (raw samples in `raw`): normalised with the scene's
 * ranges, as hn_data_load normalises a whole cube. */
static hiner_status region_data(tiled *T, hn_rect r, const uint8_t *raw, hn_data *d)
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

/* Blocks until the prior tile is trained; a failure anywhere (which sets T->st first)
 * stops the wait. */
static hiner_status wait_prior(tiled *T)
{
    pthread_mutex_lock(&T->mu);
    while (!T->prior_w && !T->stop) pthread_cond_wait(&T->prior_cv, &T->mu);
    const int ok = T->prior_w != NULL;
    pthread_mutex_unlock(&T->mu);
    return ok ? HINER_OK : HINER_E_ABORTED;
}

/* The prior's trained weights, for the tiles waiting on them. */
static void publish_prior(tiled *T, float *w)
{
    pthread_mutex_lock(&T->mu);
    T->prior_w = w;
    pthread_cond_broadcast(&T->prior_cv);
    pthread_mutex_unlock(&T->mu);
}

/* Plans the tile's network for its budget, trains it and codes it into run. */
static hiner_status encode_tile(tiled *T, tile_ctx *ctx, hn_buf *run)
{
    const uint32_t t = ctx->tile;
    const hn_rect k = hn_grid_tile(&T->g, t), r = hn_grid_region(&T->g, t);
    if (T->nvalid[t] == 0) return HINER_OK; /* an empty tile: no chunks */
    hiner_status st = HINER_OK;
    hn_encoder e;
    memset(&e, 0, sizeof e);
    hn_buf tmsk;
    hn_buf_init(&tmsk);
    uint8_t *raw = hn_malloc((size_t)r.w * r.h * T->C, T->es);
    HN_GOTO_IF(!raw, HINER_E_NOMEM);
    HN_GOTO_FWD(read_window(T, r, raw));
    HN_GOTO_FWD(region_data(T, r, raw, &e.d));
    hn_free(raw);
    raw = NULL;
    HN_GOTO_FWD(tile_mask(&e.d, r, k, t, &tmsk));
    e.p = &T->pt;
    e.lg = T->lg;
    e.tile_mode = 1;
    e.threads = 1;
    e.progress = tile_progress;
    e.progress_user = ctx;
    e.progress_hi = 1.0;
    e.f.no_trng = 1;
    e.samples = (double)r.w * r.h * T->C;
    e.target = T->budget[t];
    const uint64_t framing = 3 * HN_CHUNK_OVERHEAD + (tmsk.n ? HN_CHUNK_OVERHEAD + tmsk.n : 0);
    const uint64_t bound = tile_overhead(tmsk.n);
    if (e.target <= bound) {
        hn_logf(&T->lg, 0, "tile %u: %llu bytes cannot hold a network", t,
                (unsigned long long)e.target);
        HN_GOTO_IF(1, HINER_E_BUDGET);
    }
    e.epochs = T->epochs;
    if (T->use_std[t]) { /* the shared architecture, the window centred in its frame */
        e.plan = T->std;
        e.plan.width = r.w;
        e.plan.height = r.h;
        e.plan.pad_left = (e.plan.pad_width - r.w) / 2;
        e.plan.pad_top = (e.plan.pad_height - r.h) / 2;
        if (t != T->prior) {
            HN_GOTO_FWD(wait_prior(T));
            e.init = T->prior_w;
            e.epochs = T->warm_epochs;
        }
    } else {
        st = hn_plan_for_rate(&T->pt, r.w, r.h, T->C, (double)(e.target - bound), &e.plan,
                              &T->lg);
        if (st == HINER_E_BUDGET)
            hn_logf(&T->lg, 0, "tile %u (%ux%u): %llu bytes are below its smallest network", t,
                    k.w, k.h, (unsigned long long)e.target);
        HN_GOTO_FWD(st);
    }
    HN_GOTO_FWD(hn_plan_readable(&e.plan, &T->lg));
    {
        hn_buf arch;
        hn_buf_init(&arch);
        hn_pl_arch(&arch, &e.plan, 0, 0, 0);
        e.fixed = framing + arch.n;
        hn_buf_free(&arch);
    }
    e.keep_trained = t == T->prior && T->use_std[t];
    st = hn_encode_network(&e);
    if (st == HINER_OK && e.trained) {
        publish_prior(T, e.trained);
        e.trained = NULL;
    }
    HN_GOTO_FWD(st);
    HN_GOTO_FWD(tile_run(&e, r, k, t, &tmsk, run));
    pthread_mutex_lock(&T->mu); /* the report */
    const double w = (double)T->nvalid[t];
    T->seconds += e.tr.seconds;
    T->steps += e.tr.steps;
    T->psnr_f += w * e.psnr_float;
    T->psnr_q += w * e.psnr_q;
    T->weight += w;
    if (!T->have_plan0) T->plan0 = e.plan, T->have_plan0 = 1;
    T->qat = e.qat;
    T->method = e.q.method;
    T->huff += e.q.size_of[HN_ENTROPY_HUFFMAN];
    T->arith += e.q.size_of[HN_ENTROPY_ARITH];
    for (int i = 0; i < e.q.nt; i++) {
        T->max_bits = e.q.bits[i] > T->max_bits ? e.q.bits[i] : T->max_bits;
        T->min_bits = e.q.bits[i] < T->min_bits ? e.q.bits[i] : T->min_bits;
    }
    T->bits.header += 3 * HN_CHUNK_OVERHEAD + (tmsk.n ? HN_CHUNK_OVERHEAD : 0);
    T->bits.metadata += tmsk.n;
    T->bits.decoder += e.fixed - framing + e.q.deco.n;
    if (e.p->store_encoder)
        T->bits.encoder += e.q.rest.n;
    else
        T->bits.embeddings += e.q.rest.n;
    pthread_mutex_unlock(&T->mu);
fail:
    hn_free(raw);
    hn_free(e.trained);
    hn_buf_free(&tmsk);
    hn_encoder_clear(&e);
    hn_data_free(&e.d);
    return st;
}

/* Tile runs to the output in tile order (under T->mu). */
static hiner_status emit(tiled *T, uint32_t t, hn_buf *run)
{
    T->pending[t] = *run;
    T->finished[t] = 1;
    while (T->next_write < T->n && T->finished[T->next_write]) {
        const uint32_t k = T->next_write;
        hn_buf *b = &T->pending[k];
        if (b->n) {
            HN_CHECK(b->n > UINT32_MAX, HINER_E_LIMIT);
            if (T->out->write_at(T->out->user, T->pos, b->p, b->n) != 0) {
                hn_logf(&T->lg, 0, "writing tile %u failed", k);
                return HINER_E_IO;
            }
            T->off[k] = T->pos;
            T->len[k] = (uint32_t)b->n;
            T->pos += b->n;
        }
        hn_buf_free(b);
        T->next_write++;
    }
    return HINER_OK;
}

static void *tile_worker(void *arg)
{
    tiled *T = arg;
    pthread_mutex_lock(&T->mu);
    const int worker = T->next_worker++;
    pthread_mutex_unlock(&T->mu);
    for (;;) {
        pthread_mutex_lock(&T->mu);
        /* the prior first, then the tiles in order */
        const uint32_t q = T->stop ? T->n : T->next_tile++;
        uint32_t t = q;
        if (T->have_std && q < T->n) t = q == 0 ? T->prior : (q <= T->prior ? q - 1 : q);
        T->wfrac[worker] = 0;
        pthread_mutex_unlock(&T->mu);
        if (q >= T->n) break;
        tile_ctx ctx = {T, worker, t};
        hn_buf run;
        hn_buf_init(&run);
        hiner_status st = encode_tile(T, &ctx, &run);
        pthread_mutex_lock(&T->mu);
        if (st == HINER_OK) st = emit(T, t, &run);
        else hn_buf_free(&run);
        if (st != HINER_OK) {
            if (T->st == HINER_OK) T->st = st;
            T->stop = 1;
            pthread_cond_broadcast(&T->prior_cv);
        }
        T->done++;
        T->wfrac[worker] = 0;
        pthread_mutex_unlock(&T->mu);
    }
    return NULL;
}

/* END!, then the index in its reserved place. */
static hiner_status finish(tiled *T, uint64_t *size)
{
    hn_buf b;
    hn_buf_init(&b);
    hn_chunk_put(&b, "END!", 1, NULL, 0);
    hiner_status st = b.err ? HINER_E_NOMEM : HINER_OK;
    if (st == HINER_OK && T->out->write_at(T->out->user, T->pos, b.p, b.n) != 0) st = HINER_E_IO;
    *size = T->pos + b.n;
    b.n = 0;
    hn_buf tidx;
    hn_buf_init(&tidx);
    hn_pl_tidx(&tidx, T->g.nx, T->g.ny, T->off, T->len);
    hn_chunk_put(&b, "TIDX", 1, tidx.p, tidx.n);
    if (st == HINER_OK && (b.err || tidx.err)) st = HINER_E_NOMEM;
    if (st == HINER_OK && T->out->write_at(T->out->user, T->tidx_at, b.p, b.n) != 0)
        st = HINER_E_IO;
    hn_buf_free(&b);
    hn_buf_free(&tidx);
    return st;
}

static void fill_report(const tiled *T, uint64_t size, hiner_encode_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->train.epochs_done = T->epochs;
    rep->train.seconds = T->seconds;
    rep->train.steps = T->steps;
    rep->train.final_psnr = T->weight > 0 ? T->psnr_f / T->weight : NAN;
    rep->plan = T->plan0;
    rep->bits = T->bits;
    rep->bits.header += HN_CHUNK_OVERHEAD; /* END! */
    rep->bits.total = size;
    rep->bpppb = (double)size * 8.0 / ((double)T->g.W * T->g.H * T->C);
    rep->target_bytes = T->target;
    rep->psnr_float = rep->train.final_psnr;
    rep->psnr_quantized = T->p->evaluate && T->weight > 0 ? T->psnr_q / T->weight : NAN;
    rep->entropy = T->method;
    rep->qat_epochs = T->qat;
    rep->huffman_bytes = T->huff;
    rep->arith_bytes = T->arith;
    rep->max_bits = T->max_bits;
    rep->min_bits = T->min_bits;
}

static void tiled_free(tiled *T)
{
    hn_free(T->whole);
    hn_free(T->bmin);
    hn_free(T->bmax);
    hn_free(T->nvalid);
    hn_free(T->grad);
    hn_free(T->pairs);
    hn_data_free(&T->scene);
    hn_fixed_free(&T->f);
    hn_free(T->budget);
    hn_free(T->off);
    hn_free(T->len);
    if (T->pending)
        for (uint32_t t = 0; t < T->n; t++) hn_buf_free(&T->pending[t]);
    hn_free(T->pending);
    hn_free(T->finished);
    hn_free(T->wfrac);
    hn_free(T->use_std);
    hn_free(T->prior_w);
    pthread_cond_destroy(&T->prior_cv);
    pthread_mutex_destroy(&T->mu);
    pthread_mutex_destroy(&T->rmu);
    pthread_mutex_destroy(&T->lmu);
}

static void no_log(int level, const char *msg, void *user)
{
    (void)level, (void)msg, (void)user;
}

hiner_status hn_encode_tiled(const hiner_cube *cube, const hiner_meta *meta, const hiner_params *p,
                             const hn_grid *g, const hn_out *out, uint64_t *size,
                             hiner_encode_report *rep)
{
    tiled T;
    memset(&T, 0, sizeof T);
    pthread_mutex_init(&T.mu, NULL);
    pthread_mutex_init(&T.rmu, NULL);
    pthread_mutex_init(&T.lmu, NULL);
    pthread_cond_init(&T.prior_cv, NULL);
    hiner_status st = HINER_OK;
    T.p = p;
    T.cube = cube;
    T.meta = meta;
    T.g = *g;
    T.C = cube->bands;
    T.n = hn_grid_count(g);
    T.es = hiner_dtype_size(cube->dtype);
    T.out = out;
    T.user_lg = (hn_log){p->log ? p->log : no_log, p->log_user};
    T.lg = (hn_log){locked_log, &T};
    T.min_bits = 99;
    const int threads = p->threads > 0 ? p->threads : 1;
    T.workers = threads < (int)T.n ? threads : (int)T.n;
    T.target = p->size_bytes ? p->size_bytes
                             : (uint64_t)llround(p->bpppb * (double)g->W * g->H * T.C / 8.0);
    T.epochs = p->epochs >= 0 ? p->epochs : HN_TILE_EPOCHS;
    T.warm_epochs = (int)lround(T.epochs * HN_WARM_SHARE);
    if (T.warm_epochs < 1) T.warm_epochs = T.epochs;
    T.pt = *p;
    T.pt.epochs = T.epochs;
    T.qat = p->qat_epochs >= 0 ? p->qat_epochs : HN_AUTO_QAT(T.epochs);
    HN_GOTO_IF(p->model_bytes > 0, HINER_E_INVALID_ARG); /* the paper's sizing is per network */
    hn_logf(&T.lg, 2, "tiles: %ux%u of %ux%u (margin %u), %d at a time, %d epochs each", g->nx,
            g->ny, g->tw, g->th, g->margin, T.workers, T.epochs);
    if (!cube->data && !cube->read_window) HN_GOTO_FWD(load_whole(&T));
    HN_GOTO_FWD(stats_pass(&T));
    if (p->progress && !p->progress(0.02, "statistics", p->progress_user))
        HN_GOTO_IF(1, HINER_E_ABORTED);
    T.plo = 0.02;
    HN_GOTO_FWD(scene_data(&T));
    HN_GOTO_FWD(write_head(&T));
    HN_GOTO_FWD(set_budgets(&T));
    T.off = hn_calloc(T.n, sizeof(uint64_t));
    T.len = hn_calloc(T.n, sizeof(uint32_t));
    T.pending = hn_calloc(T.n, sizeof(hn_buf));
    T.finished = hn_calloc(T.n, 1);
    T.wfrac = hn_calloc((size_t)T.workers, sizeof(double));
    HN_GOTO_IF(!T.off || !T.len || !T.pending || !T.finished || !T.wfrac, HINER_E_NOMEM);
    HN_GOTO_FWD(run_workers(&T, tile_worker));
    HN_GOTO_FWD(finish(&T, size));
    if (rep) fill_report(&T, *size, rep);
    hn_logf(&T.lg, 2, "%llu bytes, %.4f bpppb (target %llu bytes)", (unsigned long long)*size,
            (double)*size * 8.0 / ((double)g->W * g->H * T.C), (unsigned long long)T.target);
fail:
    tiled_free(&T);
    return st;
}

hiner_status hn_encode_out(const hiner_cube *cube, const hiner_meta *meta, const hiner_params *p,
                           const hn_out *out, uint64_t *size, hiner_encode_report *rep)
{
    HN_CHECK(!cube || !p || !out, HINER_E_INVALID_ARG);
    HN_FORWARD(hiner_params_validate(p));
    HN_FORWARD(hn_cube_check(cube));
    hn_grid g;
    hiner_status st = hn_grid_make(&g, cube->width, cube->height, p->tile_width, p->tile_height,
                                   p->tile_margin);
    if (st == HINER_E_LIMIT) {
        const hn_log lg = {p->log, p->log_user};
        hn_logf(&lg, 0, "%ux%u pixels in tiles of %dx%d are more than %llu tiles: use larger tiles",
                cube->width, cube->height, p->tile_width, p->tile_height,
                (unsigned long long)HN_MAX_TILES);
    }
    HN_FORWARD(st);
    if (hn_grid_count(&g) > 1) {
        if (p->progress && !p->progress(0.0, "statistics", p->progress_user)) return HINER_E_ABORTED;
        HN_FORWARD(hn_encode_tiled(cube, meta, p, &g, out, size, rep));
        if (p->progress && !p->progress(1.0, "done", p->progress_user)) return HINER_E_ABORTED;
        return HINER_OK;
    }
    hn_buf file;
    hn_buf_init(&file);
    st = hn_encode_to_buf(cube, meta, p, &file, rep);
    if (st == HINER_OK && out->write_at(out->user, 0, file.p, file.n) != 0) st = HINER_E_IO;
    *size = file.n;
    hn_buf_free(&file);
    return st;
}
