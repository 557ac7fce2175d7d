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

/* ---- the threaded encoder: the tiler's parts on worker threads ---- */

typedef struct tiled {
    const hiner_params *p;
    const hiner_cube *cube;
    hiner_tiler *T;
    hn_grid g;
    uint32_t C, n;
    size_t es;
    pthread_mutex_t mu;       /* state, output, progress */
    pthread_mutex_t rmu;      /* the cube's reader */
    pthread_mutex_t lmu;      /* the caller's log */
    pthread_cond_t prior_cv;
    hn_log user_lg, lg;       /* the caller's log, and the same serialised */
    uint8_t *whole;           /* the cube read through read_band, or NULL */
    uint32_t next_stat, stats_done;
    uint32_t prior;
    float *prior_w;           /* the prior's weights once it is trained */
    /* output, in tile order */
    const hn_out *out;
    uint64_t pos, head;
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
    hiner_encode_report rep;
    double weight, psnr_f, psnr_q;
    int have_plan0;
} tiled;

static void locked_log(int level, const char *msg, void *user)
{
    tiled *T = user;
    pthread_mutex_lock(&T->lmu);
    T->user_lg.fn(level, msg, T->user_lg.user);
    pthread_mutex_unlock(&T->lmu);
}

/* Sets the first failure (under T->mu); the other workers stop at their next step. */
static void failed(tiled *T, hiner_status st)
{
    if (T->st == HINER_OK) T->st = st;
    T->stop = 1;
    pthread_cond_broadcast(&T->prior_cv);
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

/* ---- the statistics pass ---- */

static void *stat_worker(void *arg)
{
    tiled *T = arg;
    const size_t np = (size_t)T->g.tw * T->g.th;
    uint8_t *raw = hn_malloc(np * T->C, T->es);
    hn_tstats s = {0, 0, hn_malloc(T->C, sizeof(double)), hn_malloc(T->C, sizeof(double)),
                   hn_malloc(T->C, sizeof(float))};
    hiner_status st = !raw || !s.mn || !s.mx || !s.grad ? HINER_E_NOMEM : HINER_OK;
    while (st == HINER_OK) {
        pthread_mutex_lock(&T->mu);
        const uint32_t t = T->stop ? T->n : T->next_stat++;
        pthread_mutex_unlock(&T->mu);
        if (t >= T->n) break;
        st = read_window(T, hn_grid_tile(&T->g, t), raw);
        if (st == HINER_OK) st = hn_tiler_stats(T->T, t, raw, &s);
        pthread_mutex_lock(&T->mu);
        if (st == HINER_OK) st = hn_tiler_merge(T->T, t, &s);
        if (st == HINER_OK && T->p->progress &&
            !T->p->progress(T->plo * (double)++T->stats_done / T->n, "statistics",
                            T->p->progress_user))
            st = HINER_E_ABORTED;
        pthread_mutex_unlock(&T->mu);
    }
    pthread_mutex_lock(&T->mu);
    if (st != HINER_OK) failed(T, st);
    pthread_mutex_unlock(&T->mu);
    hn_free(raw);
    hn_free(s.mn);
    hn_free(s.mx);
    hn_free(s.grad);
    return NULL;
}

/* ---- the tiles ---- */

typedef struct tile_ctx {
    tiled *T;
    int worker;
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
            failed(T, HINER_E_ABORTED);
            go = 0;
        }
    }
    pthread_mutex_unlock(&T->mu);
    return go;
}

/* Blocks until the prior tile is trained; a failure anywhere stops the wait. */
static hiner_status wait_prior(tiled *T)
{
    pthread_mutex_lock(&T->mu);
    while (!T->prior_w && !T->stop) pthread_cond_wait(&T->prior_cv, &T->mu);
    const int ok = T->prior_w != NULL;
    pthread_mutex_unlock(&T->mu);
    return ok ? HINER_OK : HINER_E_ABORTED;
}

/* Tile t: its window read, then the tiler's encode. */
static hiner_status encode_tile(tiled *T, uint32_t t, tile_ctx *ctx, hn_buf *run)
{
    if (hn_tiler_tile_empty(T->T, t)) return HINER_OK;
    const hn_rect r = hn_grid_region(&T->g, t);
    uint8_t *raw = hn_malloc((size_t)r.w * r.h * T->C, T->es);
    HN_CHECK(!raw, HINER_E_NOMEM);
    hiner_status st = read_window(T, r, raw);
    const int is_prior = t == T->prior;
    const float *prior = NULL;
    if (st == HINER_OK && !is_prior && T->prior != UINT32_MAX) {
        st = wait_prior(T);
        prior = T->prior_w;
    }
    float *trained = NULL;
    hn_tile_result res;
    const hn_tile_job job = {tile_progress, ctx, T->lg};
    if (st == HINER_OK)
        st = hn_tiler_encode(T->T, t, raw, prior, &job, run, is_prior ? &trained : NULL, &res);
    hn_free(raw);
    pthread_mutex_lock(&T->mu);
    if (st == HINER_OK && is_prior) {
        T->prior_w = trained;
        pthread_cond_broadcast(&T->prior_cv);
    }
    if (st == HINER_OK) { /* the report */
        hiner_encode_report *rep = &T->rep;
        const double w = res.steps ? 1.0 : 0.0;
        rep->train.seconds += res.seconds;
        rep->train.steps += res.steps;
        T->psnr_f += w * res.psnr_float;
        T->psnr_q += w * res.psnr_q;
        T->weight += w;
        if (!T->have_plan0 && res.steps) rep->plan = res.plan, T->have_plan0 = 1;
        rep->qat_epochs = res.qat;
        rep->entropy = res.method;
        rep->huffman_bytes += res.huff;
        rep->arith_bytes += res.arith;
        if (res.steps) {
            rep->max_bits = res.max_bits > rep->max_bits ? res.max_bits : rep->max_bits;
            rep->min_bits = res.min_bits < rep->min_bits ? res.min_bits : rep->min_bits;
        }
        rep->bits.header += res.bits.header;
        rep->bits.metadata += res.bits.metadata;
        rep->bits.decoder += res.bits.decoder;
        rep->bits.encoder += res.bits.encoder;
        rep->bits.embeddings += res.bits.embeddings;
    }
    pthread_mutex_unlock(&T->mu);
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
    tile_ctx ctx = {T, T->next_worker++};
    pthread_mutex_unlock(&T->mu);
    for (;;) {
        pthread_mutex_lock(&T->mu);
        /* the prior first, then the tiles in order */
        const uint32_t q = T->stop ? T->n : T->next_tile++;
        uint32_t t = q;
        if (T->prior != UINT32_MAX && q < T->n) t = q == 0 ? T->prior : (q <= T->prior ? q - 1 : q);
        T->wfrac[ctx.worker] = 0;
        pthread_mutex_unlock(&T->mu);
        if (q >= T->n) break;
        hn_buf run;
        hn_buf_init(&run);
        hiner_status st = encode_tile(T, t, &ctx, &run);
        pthread_mutex_lock(&T->mu);
        if (st == HINER_OK) st = emit(T, t, &run);
        else hn_buf_free(&run);
        if (st != HINER_OK) failed(T, st);
        T->done++;
        T->wfrac[ctx.worker] = 0;
        pthread_mutex_unlock(&T->mu);
    }
    return NULL;
}

/* The head with a reserved index, at 0. */
static hiner_status write_head(tiled *T)
{
    hn_buf head;
    hn_buf_init(&head);
    hiner_status st = hn_tiler_head(T->T, NULL, NULL, &head);
    if (st == HINER_OK && T->out->write_at(T->out->user, 0, head.p, head.n) != 0) st = HINER_E_IO;
    T->head = T->pos = head.n;
    hn_buf_free(&head);
    return st;
}

/* END!, then the head again with its index filled in. */
static hiner_status finish(tiled *T, uint64_t *size)
{
    hn_buf b;
    hn_buf_init(&b);
    hn_chunk_put(&b, "END!", 1, NULL, 0);
    hiner_status st = b.err ? HINER_E_NOMEM : HINER_OK;
    if (st == HINER_OK && T->out->write_at(T->out->user, T->pos, b.p, b.n) != 0) st = HINER_E_IO;
    *size = T->pos + b.n;
    b.n = 0;
    if (st == HINER_OK) st = hn_tiler_head(T->T, T->off, T->len, &b);
    if (st == HINER_OK && T->out->write_at(T->out->user, 0, b.p, b.n) != 0) st = HINER_E_IO;
    hn_buf_free(&b);
    return st;
}

static void tiled_free(tiled *T)
{
    hiner_tiler_free(T->T);
    hn_free(T->whole);
    hn_free(T->prior_w);
    hn_free(T->off);
    hn_free(T->len);
    if (T->pending)
        for (uint32_t t = 0; t < T->n; t++) hn_buf_free(&T->pending[t]);
    hn_free(T->pending);
    hn_free(T->finished);
    hn_free(T->wfrac);
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
    T.g = *g;
    T.C = cube->bands;
    T.n = hn_grid_count(g);
    T.es = hiner_dtype_size(cube->dtype);
    T.out = out;
    T.user_lg = (hn_log){p->log ? p->log : no_log, p->log_user};
    T.lg = (hn_log){locked_log, &T};
    T.rep.min_bits = 99;
    const int threads = p->threads > 0 ? p->threads : 1;
    T.workers = threads < (int)T.n ? threads : (int)T.n;
    hiner_params pl = *p; /* the tiler logs through the serialised log */
    pl.log = locked_log;
    pl.log_user = &T;
    HN_GOTO_FWD(hn_tiler_new(cube, &pl, g, &T.T));
    hn_logf(&T.lg, 2, "tiles: %ux%u of %ux%u (margin %u), %d at a time", g->nx, g->ny, g->tw,
            g->th, g->margin, T.workers);
    if (!cube->data && !cube->read_window) HN_GOTO_FWD(load_whole(&T));
    T.plo = 0.02; /* the statistics' share of the progress */
    HN_GOTO_FWD(run_workers(&T, stat_worker));
    HN_GOTO_FWD(hn_tiler_plan(T.T, meta));
    T.prior = hn_tiler_prior(T.T);
    HN_GOTO_FWD(write_head(&T));
    T.off = hn_calloc(T.n, sizeof(uint64_t));
    T.len = hn_calloc(T.n, sizeof(uint32_t));
    T.pending = hn_calloc(T.n, sizeof(hn_buf));
    T.finished = hn_calloc(T.n, 1);
    T.wfrac = hn_calloc((size_t)T.workers, sizeof(double));
    HN_GOTO_IF(!T.off || !T.len || !T.pending || !T.finished || !T.wfrac, HINER_E_NOMEM);
    HN_GOTO_FWD(run_workers(&T, tile_worker));
    HN_GOTO_FWD(finish(&T, size));
    if (rep) {
        *rep = T.rep;
        hiner_bits hb;
        hn_tiler_head_bits(T.T, &hb);
        rep->bits.header += hb.header;
        rep->bits.metadata += hb.metadata;
        rep->bits.total = *size;
        rep->bpppb = (double)*size * 8.0 / ((double)g->W * g->H * T.C);
        rep->target_bytes = p->size_bytes ? p->size_bytes
                                          : (uint64_t)llround(p->bpppb * (double)g->W * g->H *
                                                              T.C / 8.0);
        rep->train.epochs_done = rep->plan.epochs;
        rep->train.final_psnr = rep->psnr_float = T.weight > 0 ? T.psnr_f / T.weight : NAN;
        rep->psnr_quantized = p->evaluate && T.weight > 0 ? T.psnr_q / T.weight : NAN;
    }
    hn_logf(&T.lg, 2, "%llu bytes, %.4f bpppb", (unsigned long long)*size,
            (double)*size * 8.0 / ((double)g->W * g->H * T.C));
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
