/*
 * train.c - encoding is training (paper Sec. 3.2, Eq. 1 and 4): Adam over two bands per
 * step (one with the paper's settings), bands shuffled each epoch with a seeded generator,
 * loss w_l1 * L1 + w_cam * CAM on the true extent (valid pixels only), warm-up + cosine
 * learning rate, progress and per-epoch loss/PSNR through the caller's callbacks. With
 * per-tensor bit widths it runs quantization-aware: forward and backward through
 * fake-quantized weights, updates to the float weights (straight-through estimator).
 */
#include <math.h>

#include "../codec/quant.h"
#include "model.h"
#include "train.h"

/* One band's forward and backward: its activations, threads and gradient. */
typedef struct lane {
    hn_acts A;
    hn_pool *pool; /* its threads, or NULL for one */
    float *grads;
    uint32_t band;
    hn_band_loss L;
} lane;

typedef struct trainer {
    hiner_model *m;
    const hn_data *d;
    const hn_train_cfg *cfg;
    lane ln[HN_BAND_BATCH];
    int batch;          /* bands per optimizer step: 1 or HN_BAND_BATCH */
    hn_pool *lanes;     /* the lanes side by side (two threads or more), or NULL: one after
                           the other on lane 0's activations */
    const float *w;     /* the weights of the current step */
    float *adam_m, *adam_v;
    float *wq;       /* fake-quantized weights (QAT), or NULL */
    hn_adam adam;
    uint32_t *order; /* band order of the current epoch */
} trainer;

static void trainer_free(trainer *t)
{
    for (int i = 0; i < HN_BAND_BATCH; i++) {
        hn_acts_free(&t->ln[i].A);
        hn_pool_free(t->ln[i].pool);
        hn_free(t->ln[i].grads);
    }
    hn_pool_free(t->lanes);
    hn_free(t->adam_m);
    hn_free(t->adam_v);
    hn_free(t->wq);
    hn_free(t->order);
}

static hiner_status lane_init(lane *l, const hiner_plan *pl, int threads, size_t n_params,
                              int acts)
{
    if (threads > 1 && !(l->pool = hn_pool_create(threads))) return HINER_E_NOMEM;
    if (acts) HN_FORWARD(hn_acts_init(&l->A, pl, 1, l->pool));
    l->grads = hn_calloc(n_params, sizeof(float));
    return l->grads ? HINER_OK : HINER_E_NOMEM;
}

/* The parts every pass over the bands needs: activations for training, gradients. With a
 * batch of two, two threads or more and bands of up to HN_LANE_PIXELS, each band of a pair
 * gets half the threads and its own activations; a lane that runs on one thread computes
 * what it would alone, so one thread and two give the same weights. Larger bands' layers
 * split well across threads, and a second set of activations would cost more memory. */
static hiner_status trainer_init(trainer *t, hiner_model *m, const hn_data *d, int threads,
                                 int batch)
{
    memset(t, 0, sizeof *t);
    t->m = m;
    t->d = d;
    t->batch = batch == HN_BAND_BATCH ? HN_BAND_BATCH : 1;
    const size_t n = m->net.n_params;
    const uint64_t pixels = (uint64_t)m->plan.pad_width * m->plan.pad_height;
    if (t->batch > 1 && threads >= HN_BAND_BATCH && pixels <= HN_LANE_PIXELS) {
        if (!(t->lanes = hn_pool_create(HN_BAND_BATCH))) return HINER_E_NOMEM;
        for (int i = 0; i < HN_BAND_BATCH; i++) {
            const int share = (threads + i) / HN_BAND_BATCH; /* the first lane gets the fewer */
            HN_FORWARD(lane_init(&t->ln[i], &m->plan, share, n, 1));
        }
        return HINER_OK;
    }
    HN_FORWARD(lane_init(&t->ln[0], &m->plan, threads, n, 1));
    for (int i = 1; i < t->batch; i++) HN_FORWARD(lane_init(&t->ln[i], &m->plan, 1, n, 0));
    return HINER_OK;
}

/* The weights the forward pass sees: the float master, or its fake-quantized copy. */
static const float *forward_weights(trainer *t, const hn_train_cfg *cfg)
{
    hn_net *net = &t->m->net;
    if (!t->wq) return net->params;
    for (int i = 0; i < net->n_tensors; i++) {
        const hn_tensor *T = &net->t[i];
        const float *w = net->params + T->off;
        float *o = t->wq + T->off;
        if (cfg->qat_bits[i] > 0) {
            size_t rows = T->shape[0], cols = T->n / rows;
            hn_fake_quant(o, w, rows, cols, cfg->qat_bits[i], cfg->qat_mode[i]);
        } else {
            memcpy(o, w, T->n * sizeof(float));
        }
    }
    return t->wq;
}

/* Band b through the network with weights w on activations A: its loss in L, A->dout
 * cleared. */
static void band_forward(trainer *t, hn_acts *A, const float *w, uint32_t b, hn_band_loss *L)
{
    hiner_model *m = t->m;
    const hiner_plan *pl = &m->plan;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    hn_encoder_forward(&m->net, w, A, m->lam[b], A->emb);
    hn_decoder_forward(&m->net, w, A, A->emb);
    loss_forward(L, A->out + off, pl->pad_width, t->d->target + (size_t)b * pl->width * pl->height,
                 hn_model_valid(m, b), pl->height, pl->width);
    memset(A->dout, 0, (size_t)pl->pad_height * pl->pad_width * sizeof(float));
}

/* grads = the gradient of the A->dout set after band_forward. */
static void band_backward(trainer *t, hn_acts *A, const float *w, float *grads)
{
    hn_net *net = &t->m->net;
    memset(grads, 0, net->n_params * sizeof(float));
    hn_decoder_backward(net, w, grads, A);
    hn_encoder_backward(net, w, grads, A);
}

/* Band b's loss in L and its gradient in grads, on activations A. */
static void band_gradient(trainer *t, hn_acts *A, uint32_t b, hn_band_loss *L, float *grads)
{
    const hiner_plan *pl = &t->m->plan;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    const hn_train_cfg *cfg = t->cfg;
    band_forward(t, A, t->w, b, L);
    loss_backward(A->dout + off, pl->pad_width, L, A->out + off,
                  t->d->target + (size_t)b * pl->width * pl->height, hn_model_valid(t->m, b),
                  pl->height, pl->width, cfg->w_l1, cfg->w_cam, cfg->w_l2);
    band_backward(t, A, t->w, grads);
}

static void lane_task(void *ctx, size_t i, int thread)
{
    (void)thread;
    trainer *t = ctx;
    lane *l = &t->ln[i];
    band_gradient(t, &l->A, l->band, &l->L, l->grads);
}

/* One optimizer step on the n bands of `bands` (n <= batch): the mean of their gradients,
 * summed in band order whichever way they ran; their losses in t->ln[i].L. */
static void train_step(trainer *t, const uint32_t *bands, int n, float lr)
{
    hn_net *net = &t->m->net;
    t->w = forward_weights(t, t->cfg);
    for (int i = 0; i < n; i++) t->ln[i].band = bands[i];
    if (t->lanes && n == HN_BAND_BATCH)
        hn_pool_run(t->lanes, (size_t)n, lane_task, t);
    else
        for (int i = 0; i < n; i++)
            band_gradient(t, &t->ln[0].A, bands[i], &t->ln[i].L, t->ln[i].grads);
    float *g = t->ln[0].grads;
    for (int k = 1; k < n; k++) {
        const float *gk = t->ln[k].grads, scale = k + 1 == n ? 1.0f / (float)n : 1.0f;
        for (size_t i = 0; i < net->n_params; i++) g[i] = (g[i] + gk[i]) * scale;
    }
    adam_update(&t->adam, net->params, g, t->adam_m, t->adam_v, net->n_params, lr);
}

hiner_status hn_train(hiner_model *m, const hn_data *d, const hn_train_cfg *cfg,
                      hiner_train_report *rep)
{
    hiner_status st = HINER_OK;
    const hn_log *lg = &cfg->log;
    const hiner_plan *pl = &m->plan;
    const uint32_t C = pl->bands;
    trainer t;
    const hn_fpstate fp = hn_fp_enter();
    HN_GOTO_FWD(trainer_init(&t, m, d, cfg->threads, cfg->batch));
    t.cfg = cfg;
    t.adam_m = hn_calloc(m->net.n_params, sizeof(float));
    t.adam_v = hn_calloc(m->net.n_params, sizeof(float));
    t.order = hn_malloc(C, sizeof(uint32_t));
    HN_GOTO_IF(!t.adam_m || !t.adam_v || !t.order, HINER_E_NOMEM);
    if (cfg->qat_bits) {
        t.wq = hn_calloc(m->net.n_params, sizeof(float));
        HN_GOTO_IF(!t.wq, HINER_E_NOMEM);
    }
    adam_init(&t.adam);
    hn_rng rng;
    hn_rng_seed(&rng, cfg->seed ^ 0x5eedba5eULL);

    const uint64_t total = (uint64_t)cfg->epochs * C;
    const float lr = cfg->lr * sqrtf((float)t.batch); /* Adam's square-root rule for batches */
    const char *what = cfg->what ? cfg->what : "training";
    uint64_t step = 0;
    double t0 = hn_seconds(), ep_loss = 0, ep_psnr = 0;
    char msg[128];
    for (int e = 0; e < cfg->epochs; e++) {
        for (uint32_t b = 0; b < C; b++) t.order[b] = b;
        for (uint32_t b = C; b > 1; b--) { /* Fisher-Yates */
            uint32_t j = hn_rng_below(&rng, b);
            uint32_t tmp = t.order[b - 1];
            t.order[b - 1] = t.order[j];
            t.order[j] = tmp;
        }
        double sum_loss = 0, sum_psnr = 0;
        uint32_t counted = 0;
        for (uint32_t i = 0; i < C; i += (uint32_t)t.batch) {
            const int n = C - i < (uint32_t)t.batch ? (int)(C - i) : t.batch;
            train_step(&t, t.order + i, n, lr_schedule(step, total, lr, cfg->warmup));
            for (int k = 0; k < n; k++) {
                const hn_band_loss *L = &t.ln[k].L;
                if (!L->n) continue;
                sum_loss += cfg->w_l1 * L->l1 + cfg->w_cam * L->cam + cfg->w_l2 * L->mse;
                sum_psnr += -10.0 * log10(L->mse > 1e-12 ? L->mse : 1e-12);
                counted++;
            }
            step += (uint64_t)n;
            if (cfg->progress) {
                double f = cfg->progress_lo + (cfg->progress_hi - cfg->progress_lo) *
                                                  (double)step / (double)total;
                snprintf(msg, sizeof msg, "%s, epoch %d/%d", what, e + 1, cfg->epochs);
                if (!cfg->progress(f, msg, cfg->progress_user)) {
                    hn_logf(lg, 1, "%s cancelled at epoch %d", what, e + 1);
                    HN_GOTO_IF(1, HINER_E_ABORTED);
                }
            }
        }
        ep_loss = counted ? sum_loss / counted : 0;
        ep_psnr = counted ? sum_psnr / counted : 0;
        int level = (e + 1 == cfg->epochs || (e + 1) % 10 == 0) ? 2 : 3;
        hn_logf(lg, level, "%s epoch %d/%d loss %.5f psnr %.2f dB lr %.2e %.1f s", what, e + 1,
                cfg->epochs, ep_loss, ep_psnr,
                (double)lr_schedule(step, total, lr, cfg->warmup), hn_seconds() - t0);
    }
    if (rep) {
        rep->epochs_done = cfg->epochs;
        rep->final_loss = ep_loss;
        rep->final_psnr = ep_psnr;
        rep->seconds = hn_seconds() - t0;
        rep->steps = step;
    }
fail:
    trainer_free(&t);
    hn_fp_leave(fp);
    return st;
}

void hn_cfg_from_params(hn_train_cfg *cfg, const hiner_params *p)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = p->epochs;
    cfg->lr = p->lr;
    cfg->warmup = p->warmup;
    cfg->w_l1 = p->w_l1;
    cfg->w_cam = p->w_cam;
    cfg->w_l2 = p->w_l2;
    cfg->seed = p->seed;
    cfg->threads = p->threads;
    cfg->batch = p->model_bytes > 0 ? 1 : HN_BAND_BATCH; /* the paper: one band a step */
    cfg->progress = p->progress;
    cfg->progress_user = p->progress_user;
    cfg->progress_lo = 0.0;
    cfg->progress_hi = 1.0;
    cfg->log.fn = p->log;
    cfg->log.user = p->log_user;
}

hiner_status hiner_train(const hiner_cube *cube, const hiner_params *p, hiner_model **out,
                         hiner_train_report *report)
{
    HN_CHECK(!cube || !p || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    HN_FORWARD(hiner_params_validate(p));
    HN_FORWARD(hn_cube_check(cube));
    const hn_log lg = {p->log, p->log_user};
    hiner_status st = HINER_OK;
    hiner_plan plan;
    HN_FORWARD(hn_plan_make(p, cube->width, cube->height, cube->bands, &plan, &lg));
    hn_data d;
    HN_FORWARD(hn_data_load(&d, cube, &lg));
    hiner_model *m = NULL;
    HN_GOTO_FWD(hn_model_alloc(&m, &plan));
    m->log = lg;
    HN_GOTO_FWD(hn_model_take_data(m, &d));
    hn_rng rng;
    hn_rng_seed(&rng, p->seed);
    hn_net_init_weights(&m->net, &rng);
    hn_log_plan(&lg, &plan);
    hn_train_cfg cfg;
    hn_cfg_from_params(&cfg, p);
    cfg.epochs = hn_epochs_for(p, &plan);
    HN_GOTO_FWD(hn_train(m, &d, &cfg, report));
    HN_GOTO_FWD(hn_model_compute_embeddings(m));
    m->has_encoder = 1;
    hn_data_free(&d);
    *out = m;
    return HINER_OK;
fail:
    hn_data_free(&d);
    hiner_model_free(m);
    return st;
}

hiner_status hn_sensitivity(hiner_model *m, const hn_data *d, int threads, int probes,
                            uint64_t seed, float *F, float *F_embed)
{
    const hiner_plan *pl = &m->plan;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    const size_t E = hn_embed_size(pl);
    hiner_status st = HINER_OK;
    trainer t;
    const hn_fpstate fp = hn_fp_enter();
    HN_GOTO_FWD(trainer_init(&t, m, d, threads, 1));
    hn_acts *A = &t.ln[0].A;
    hn_rng rng;
    hn_rng_seed(&rng, seed ^ 0xf15e7ULL);
    memset(F, 0, m->net.n_params * sizeof(float));
    if (F_embed) memset(F_embed, 0, pl->bands * E * sizeof(float));
    for (uint32_t b = 0; b < pl->bands; b++) {
        const uint8_t *vb = hn_model_valid(m, b);
        hn_band_loss L;
        band_forward(&t, A, m->net.params, b, &L);
        if (!L.n) continue;
        /* random signs v per pixel: E[(J^T v)_i^2] = sum over pixels of (dy/dw_i)^2 */
        const double s2 = 1.0 / ((double)L.n * (L.mse > 1e-12 ? L.mse : 1e-12) * probes);
        const float s = (float)sqrt(s2);
        for (int k = 0; k < probes; k++) {
            for (uint32_t y = 0; y < pl->height; y++)
                for (uint32_t x = 0; x < pl->width; x++)
                    if (!vb || vb[(size_t)y * pl->width + x])
                        A->dout[off + (size_t)y * pl->pad_width + x] =
                            (hn_rng_next(&rng) >> 63) ? s : -s;
            band_backward(&t, A, m->net.params, t.ln[0].grads);
            const float *g = t.ln[0].grads;
            for (size_t i = 0; i < m->net.n_params; i++) F[i] += g[i] * g[i];
            if (F_embed)
                for (size_t j = 0; j < E; j++) F_embed[b * E + j] += A->demb[j] * A->demb[j];
        }
    }
fail:
    trainer_free(&t);
    hn_fp_leave(fp);
    return st;
}
