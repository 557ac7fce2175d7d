/*
 * train.c - encoding is training (paper Sec. 3.2, Eq. 1 and 4): Adam over one band per
 * step, bands shuffled each epoch with a seeded generator, loss w_l1 * L1 + w_cam * CAM
 * on the true extent (valid pixels only), warm-up + cosine learning rate, progress and
 * per-epoch loss/PSNR through the caller's callbacks. With per-tensor bit widths it runs
 * quantization-aware: forward and backward through fake-quantized weights, updates to the
 * float weights (straight-through estimator).
 */
#include <math.h>

#include "../codec/quant.h"
#include "model.h"
#include "train.h"

typedef struct trainer {
    hiner_model *m;
    hn_pool *pool;
    const hn_data *d;
    hn_acts A;
    float *grads, *adam_m, *adam_v;
    float *wq;       /* fake-quantized weights (QAT), or NULL */
    hn_adam adam;
    uint32_t *order; /* band order of the current epoch */
    float w_l1, w_cam, w_l2;
} trainer;

static void trainer_free(trainer *t)
{
    hn_acts_free(&t->A);
    hn_pool_free(t->pool);
    hn_free(t->grads);
    hn_free(t->adam_m);
    hn_free(t->adam_v);
    hn_free(t->wq);
    hn_free(t->order);
}

/* The parts every pass over the bands needs: activations for training, gradients. */
static hiner_status trainer_init(trainer *t, hiner_model *m, const hn_data *d, int threads)
{
    memset(t, 0, sizeof *t);
    t->m = m;
    t->d = d;
    if (threads > 1 && !(t->pool = hn_pool_create(threads))) return HINER_E_NOMEM;
    HN_FORWARD(hn_acts_init(&t->A, &m->plan, 1, t->pool));
    t->grads = hn_calloc(m->net.n_params, sizeof(float));
    return t->grads ? HINER_OK : HINER_E_NOMEM;
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

/* Band b through the network with weights w: its loss in L, A->dout cleared. */
static void band_forward(trainer *t, const float *w, uint32_t b, hn_band_loss *L)
{
    hiner_model *m = t->m;
    const hiner_plan *pl = &m->plan;
    hn_acts *A = &t->A;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    hn_encoder_forward(&m->net, w, A, m->lam[b], A->emb);
    hn_decoder_forward(&m->net, w, A, A->emb);
    loss_forward(L, A->out + off, pl->pad_width, t->d->target + (size_t)b * pl->width * pl->height,
                 hn_model_valid(m, b), pl->height, pl->width);
    memset(A->dout, 0, (size_t)pl->pad_height * pl->pad_width * sizeof(float));
}

/* t->grads = the gradient of the A->dout set after band_forward. */
static void band_backward(trainer *t, const float *w)
{
    hn_net *net = &t->m->net;
    memset(t->grads, 0, net->n_params * sizeof(float));
    hn_decoder_backward(net, w, t->grads, &t->A);
    hn_encoder_backward(net, w, t->grads, &t->A);
}

/* One optimizer step on band b: forward, loss, backward, Adam. */
static void train_step(trainer *t, const hn_train_cfg *cfg, uint32_t b, float lr, hn_band_loss *L)
{
    hiner_model *m = t->m;
    const hiner_plan *pl = &m->plan;
    hn_acts *A = &t->A;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    const float *w = forward_weights(t, cfg);

    band_forward(t, w, b, L);
    loss_backward(A->dout + off, pl->pad_width, L, A->out + off,
                  t->d->target + (size_t)b * pl->width * pl->height, hn_model_valid(m, b),
                  pl->height, pl->width, t->w_l1, t->w_cam, t->w_l2);
    band_backward(t, w);
    adam_update(&t->adam, m->net.params, t->grads, t->adam_m, t->adam_v, m->net.n_params, lr);
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
    HN_GOTO_FWD(trainer_init(&t, m, d, cfg->threads));
    t.adam_m = hn_calloc(m->net.n_params, sizeof(float));
    t.adam_v = hn_calloc(m->net.n_params, sizeof(float));
    t.order = hn_malloc(C, sizeof(uint32_t));
    HN_GOTO_IF(!t.adam_m || !t.adam_v || !t.order, HINER_E_NOMEM);
    if (cfg->qat_bits) {
        t.wq = hn_calloc(m->net.n_params, sizeof(float));
        HN_GOTO_IF(!t.wq, HINER_E_NOMEM);
    }
    adam_init(&t.adam);
    t.w_l1 = cfg->w_l1;
    t.w_cam = cfg->w_cam;
    t.w_l2 = cfg->w_l2;
    hn_rng rng;
    hn_rng_seed(&rng, cfg->seed ^ 0x5eedba5eULL);

    const uint64_t total = (uint64_t)cfg->epochs * C;
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
        for (uint32_t i = 0; i < C; i++, step++) {
            hn_band_loss L;
            float lr = lr_schedule(step, total, cfg->lr, cfg->warmup);
            train_step(&t, cfg, t.order[i], lr, &L);
            if (L.n) {
                sum_loss += cfg->w_l1 * L.l1 + cfg->w_cam * L.cam + cfg->w_l2 * L.mse;
                sum_psnr += -10.0 * log10(L.mse > 1e-12 ? L.mse : 1e-12);
                counted++;
            }
            if (cfg->progress) {
                double f = cfg->progress_lo + (cfg->progress_hi - cfg->progress_lo) *
                                                  (double)(step + 1) / (double)total;
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
                (double)lr_schedule(step, total, cfg->lr, cfg->warmup), hn_seconds() - t0);
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
    HN_GOTO_FWD(trainer_init(&t, m, d, threads));
    hn_acts *A = &t.A;
    hn_rng rng;
    hn_rng_seed(&rng, seed ^ 0xf15e7ULL);
    memset(F, 0, m->net.n_params * sizeof(float));
    if (F_embed) memset(F_embed, 0, pl->bands * E * sizeof(float));
    for (uint32_t b = 0; b < pl->bands; b++) {
        const uint8_t *vb = hn_model_valid(m, b);
        hn_band_loss L;
        band_forward(&t, m->net.params, b, &L);
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
            band_backward(&t, m->net.params);
            for (size_t i = 0; i < m->net.n_params; i++) F[i] += t.grads[i] * t.grads[i];
            if (F_embed)
                for (size_t j = 0; j < E; j++) F_embed[b * E + j] += A->demb[j] * A->demb[j];
        }
    }
fail:
    trainer_free(&t);
    hn_fp_leave(fp);
    return st;
}
