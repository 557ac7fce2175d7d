/*
 * train.c - encoding is training (paper Sec. 3.2, Eq. 1 and 4): Adam over one band per
 * step, bands shuffled each epoch with a seeded generator, loss w_l1 * L1 + w_cam * CAM
 * on the true extent (valid pixels only), warm-up + cosine learning rate, progress and
 * per-epoch loss/PSNR through the caller's callbacks.
 */
#include <math.h>

#include "model.h"

typedef struct trainer {
    hiner_model *m;
    hn_acts A;
    float *grads, *adam_m, *adam_v;
    hn_adam adam;
    float *target;   /* (C,H,W) bands normalised to [0,1] */
    uint8_t *valid;  /* (C,H,W) or NULL when every pixel is valid */
    uint32_t *order; /* band order of the current epoch */
    float w_l1, w_cam;
} trainer;

static void trainer_free(trainer *t)
{
    hn_acts_free(&t->A);
    hn_free(t->grads);
    hn_free(t->adam_m);
    hn_free(t->adam_v);
    hn_free(t->target);
    hn_free(t->order);
    /* t->valid belongs to the model */
}

/* Reads the cube: per-band min and max over valid pixels, the normalised bands, the
 * validity mask (kept only if some pixel is invalid). */
static hiner_status load_cube(trainer *t, const hiner_cube *cube, const hn_log *lg)
{
    hiner_status st = HINER_OK;
    hiner_model *m = t->m;
    const size_t n = (size_t)cube->width * cube->height, C = cube->bands;
    size_t total;
    HN_CHECK(!hn_mul_size(n, C, &total), HINER_E_LIMIT);
    double *v = hn_malloc(n, sizeof(double));
    void *tmp = cube->data ? NULL : hn_malloc(n, hiner_dtype_size(cube->dtype));
    t->target = hn_malloc(total, sizeof(float));
    uint8_t *valid = hn_malloc(total, 1);
    HN_GOTO_IF(!v || (!cube->data && !tmp) || !t->target || !valid, HINER_E_NOMEM);
    size_t all_valid = 0;
    for (uint32_t b = 0; b < C; b++) {
        size_t nv;
        uint8_t *vb = valid + (size_t)b * n;
        HN_GOTO_FWD(hn_cube_read_band(cube, b, tmp, v, vb, &nv));
        all_valid += nv;
        double mn, mx;
        hn_band_minmax(v, vb, n, &mn, &mx);
        m->band_min[b] = mn;
        m->band_max[b] = mx;
        double inv = mx > mn ? 1.0 / (mx - mn) : 0.0;
        float *dst = t->target + (size_t)b * n;
        for (size_t i = 0; i < n; i++) dst[i] = vb[i] ? (float)((v[i] - mn) * inv) : 0.0f;
    }
    if (all_valid == 0) {
        hn_logf(lg, 0, "every pixel of the cube is NoData or NaN: nothing to encode");
        st = HINER_E_NODATA;
        goto fail;
    }
    if (all_valid == total) {
        hn_free(valid);
        valid = NULL;
    }
    m->valid = valid;
    t->valid = valid;
    valid = NULL;
fail:
    hn_free(v);
    hn_free(tmp);
    hn_free(valid);
    return st;
}

/* Normalised wavelength of each band: real wavelengths mapped to [0,1] when they are
 * given and distinct, else band index / C (the reference's choice). */
static hiner_status set_wavelengths(hiner_model *m, const hiner_cube *cube, const hn_log *lg)
{
    const uint32_t C = cube->bands;
    int use = cube->wavelengths != NULL;
    double lo = INFINITY, hi = -INFINITY;
    if (use) {
        for (uint32_t b = 0; b < C; b++) {
            if (cube->wavelengths[b] < lo) lo = cube->wavelengths[b];
            if (cube->wavelengths[b] > hi) hi = cube->wavelengths[b];
            for (uint32_t j = 0; j < b && use; j++)
                if (cube->wavelengths[j] == cube->wavelengths[b]) use = 0;
        }
        if (!use)
            hn_logf(lg, 1, "wavelengths repeat; bands are addressed by index instead");
    }
    if (use && C > 1) {
        m->wavelengths = hn_malloc(C, sizeof(double));
        HN_CHECK(!m->wavelengths, HINER_E_NOMEM);
        memcpy(m->wavelengths, cube->wavelengths, C * sizeof(double));
        m->lam_lo = lo;
        m->lam_scale = 1.0 / (hi - lo);
        for (uint32_t b = 0; b < C; b++)
            m->lam[b] = (cube->wavelengths[b] - lo) * m->lam_scale;
    } else {
        m->lam_lo = 0.0;
        m->lam_scale = 1.0 / C;
        for (uint32_t b = 0; b < C; b++) m->lam[b] = (double)b / C;
    }
    return HINER_OK;
}

/* One optimizer step on band b: forward, loss, backward, Adam. */
static void train_step(trainer *t, uint32_t b, float lr, hn_band_loss *L)
{
    hiner_model *m = t->m;
    const hiner_plan *pl = &m->plan;
    hn_acts *A = &t->A;
    const size_t n = (size_t)pl->width * pl->height;
    const size_t band = (size_t)pl->pad_height * pl->pad_width;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    const float *tgt = t->target + (size_t)b * n;
    const uint8_t *vb = t->valid ? t->valid + (size_t)b * n : NULL;

    memset(t->grads, 0, m->net.n_params * sizeof(float));
    hn_encoder_forward(&m->net, m->net.params, A, m->lam[b], A->emb);
    hn_decoder_forward(&m->net, m->net.params, A, A->emb);
    loss_forward(L, A->out + off, pl->pad_width, tgt, vb, pl->height, pl->width);
    memset(A->dout, 0, band * sizeof(float));
    loss_backward(A->dout + off, pl->pad_width, L, A->out + off, tgt, vb, pl->height, pl->width,
                  t->w_l1, t->w_cam);
    hn_decoder_backward(&m->net, m->net.params, t->grads, A);
    hn_encoder_backward(&m->net, m->net.params, t->grads, A);
    adam_update(&t->adam, m->net.params, t->grads, t->adam_m, t->adam_v, m->net.n_params, lr);
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

    trainer t;
    memset(&t, 0, sizeof t);
    HN_FORWARD(hn_model_alloc(&t.m, &plan));
    hiner_model *m = t.m;
    m->log = lg;
    m->has_nodata = cube->has_nodata;
    m->nodata = cube->nodata;
    const uint32_t C = cube->bands;
    HN_GOTO_FWD(set_wavelengths(m, cube, &lg));
    HN_GOTO_FWD(load_cube(&t, cube, &lg));

    hn_rng rng;
    hn_rng_seed(&rng, p->seed);
    hn_net_init_weights(&m->net, &rng);
    HN_GOTO_FWD(hn_acts_init(&t.A, &plan, 1));
    t.grads = hn_calloc(m->net.n_params, sizeof(float));
    t.adam_m = hn_calloc(m->net.n_params, sizeof(float));
    t.adam_v = hn_calloc(m->net.n_params, sizeof(float));
    t.order = hn_malloc(C, sizeof(uint32_t));
    HN_GOTO_IF(!t.grads || !t.adam_m || !t.adam_v || !t.order, HINER_E_NOMEM);
    adam_init(&t.adam);
    t.w_l1 = p->w_l1;
    t.w_cam = p->w_cam;
    int threads = p->threads > 0 ? p->threads : 1;
    hn_gemm_set_threads(threads);

    hn_logf(&lg, 2, "plan: %ux%u padded to %ux%u, %d stages, widths %d..%d, embedding %dx%dx%d, "
            "decoder %llu + embeddings %llu + encoder %llu parameters, %.1f MMAC per band",
            plan.width, plan.height, plan.pad_width, plan.pad_height, plan.n_stages,
            plan.widths[0], plan.widths[plan.n_stages], plan.embed_channels, plan.embed_height,
            plan.embed_width, (unsigned long long)plan.decoder_params,
            (unsigned long long)plan.embedding_params, (unsigned long long)plan.encoder_params,
            plan.forward_macs * 1e-6);

    const uint64_t total = (uint64_t)p->epochs * C;
    uint64_t step = 0;
    double t0 = hn_seconds(), ep_loss = 0, ep_psnr = 0;
    char msg[128];
    for (int e = 0; e < p->epochs; e++) {
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
            float lr = lr_schedule(step, total, p->lr, p->warmup);
            train_step(&t, t.order[i], lr, &L);
            if (L.n) {
                sum_loss += p->w_l1 * L.l1 + p->w_cam * L.cam;
                sum_psnr += -10.0 * log10(L.mse > 1e-12 ? L.mse : 1e-12);
                counted++;
            }
            if (p->progress) {
                snprintf(msg, sizeof msg, "epoch %d/%d", e + 1, p->epochs);
                if (!p->progress((double)(step + 1) / (double)total, msg, p->progress_user)) {
                    hn_logf(&lg, 1, "training cancelled at epoch %d", e + 1);
                    st = HINER_E_ABORTED;
                    goto fail;
                }
            }
        }
        ep_loss = counted ? sum_loss / counted : 0;
        ep_psnr = counted ? sum_psnr / counted : 0;
        int level = (e + 1 == p->epochs || (e + 1) % 10 == 0) ? 2 : 3;
        hn_logf(&lg, level, "epoch %d/%d loss %.5f psnr %.2f dB lr %.2e %.1f s", e + 1, p->epochs,
                ep_loss, ep_psnr, (double)lr_schedule(step, total, p->lr, p->warmup),
                hn_seconds() - t0);
    }
    /* the stored bands' embeddings: the encoder at each band's wavelength */
    const size_t E = t.A.embed_len;
    for (uint32_t b = 0; b < C; b++)
        hn_encoder_forward(&m->net, m->net.params, &t.A, m->lam[b], m->embed + (size_t)b * E);
    m->has_encoder = 1;
    if (report) {
        report->epochs_done = p->epochs;
        report->final_loss = ep_loss;
        report->final_psnr = ep_psnr;
        report->seconds = hn_seconds() - t0;
        report->steps = step;
    }
    trainer_free(&t);
    *out = m;
    return HINER_OK;
fail:
    trainer_free(&t);
    hiner_model_free(t.m);
    return st;
}
