/*
 * classifier.c - training and running the SpectralFormer classifier (sformer.c): per-band
 * normalisation, patches around the pixels (mirrored at the image edges, zeros at invalid
 * pixels; training cuts those of its pixels once, from a cube or given by the caller),
 * mini-batches split over the worker threads (each worker owns a slice of the batch and
 * its own gradient slab, summed in a fixed order: deterministic for a seed and thread
 * count), Adam with weight decay and SpectralFormer's step decay, ISI draws, random
 * symmetries of the patches, and the mean of the weights over the last epochs as the
 * classifier kept.
 */
#include <math.h>
#include <string.h>

#include "task.h"

/* The classifier kept is the running mean of the weights after every step of the last
 * HN_CLS_AVERAGE of the epochs (stochastic weight averaging), not the last step's: with few
 * training pixels the last step's weights swing with the order of the last batches. */
#define HN_CLS_AVERAGE 0.3

struct hiner_classifier {
    hn_sf_cfg cfg;
    size_t n_params, n_asw;
    float *params;
    hn_sf_params w;
    float *band_lo, *band_scale; /* normalisation: (x - lo) * scale */
    hiner_classify_params p;
};

/* ---- data: normalised cubes in (H,W,C) order, so a pixel's spectrum is contiguous ---- */
static int pixel_valid(const float *cube, const uint8_t *valid, size_t i, size_t C, size_t HW)
{
    if (valid && !valid[i]) return 0;
    for (size_t c = 0; c < C; c++)
        if (!isfinite(cube[c * HW + i])) return 0;
    return 1;
}

/* Range of each band over valid pixels. */
static void band_range(float *lo, float *scale, const float *cube, const uint8_t *ok, size_t C,
                       size_t HW)
{
    for (size_t c = 0; c < C; c++) {
        const float *x = cube + c * HW;
        float mn = INFINITY, mx = -INFINITY;
        for (size_t i = 0; i < HW; i++) {
            if (!ok[i]) continue;
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
        }
        if (!(mn <= mx)) mn = 0.0f, mx = 1.0f;
        lo[c] = mn;
        scale[c] = mx - mn > 1e-20f ? 1.0f / (mx - mn) : 1.0f;
    }
}

/* out (HW,C) = (cube (C,HW) - lo) * scale; 0 where !ok. */
static void normalise(float *out, const float *cube, const uint8_t *ok, const float *lo,
                      const float *scale, size_t C, size_t HW)
{
    for (size_t i = 0; i < HW; i++) {
        float *o = out + i * C;
        if (!ok[i]) {
            memset(o, 0, C * sizeof(float));
            continue;
        }
        for (size_t c = 0; c < C; c++) {
            float v = (cube[c * HW + i] - lo[c]) * scale[c];
            o[c] = isfinite(v) ? v : 0.0f;
        }
    }
}

/* Symmetric reflection of an index into [0, n) (SpectralFormer's mirror_hsi). */
static size_t reflect(ptrdiff_t i, size_t n)
{
    const ptrdiff_t N = (ptrdiff_t)n;
    while (i < 0 || i >= N) {
        if (i < 0) i = -i - 1;
        if (i >= N) i = 2 * N - i - 1;
    }
    return (size_t)i;
}

/* Patch of pixel `pix` of a normalised (HW,C) cube into inp (PP,C) and mask (PP). */
static void gather(float *inp, uint8_t *mask, const float *norm, const uint8_t *ok, size_t pix,
                   size_t W, size_t H, size_t C, size_t P)
{
    const ptrdiff_t y0 = (ptrdiff_t)(pix / W), x0 = (ptrdiff_t)(pix % W), r = (ptrdiff_t)P / 2;
    size_t k = 0;
    for (ptrdiff_t dy = -r; dy <= r; dy++) {
        const size_t y = reflect(y0 + dy, H);
        for (ptrdiff_t dx = -r; dx <= r; dx++, k++) {
            const size_t i = y * W + reflect(x0 + dx, W);
            memcpy(inp + k * C, norm + i * C, C * sizeof(float));
            mask[k] = ok[i];
        }
    }
}

/* A stored patch (PP,C) and its mask into inp and mask, seen through symmetry `orient` of
 * the square (bit 0: mirror x, bit 1: mirror y, bit 2: transpose; 0 = as it is). */
static void gather_patch(float *inp, uint8_t *mask, const float *patch, const uint8_t *pmask,
                         size_t C, size_t P, unsigned orient)
{
    const ptrdiff_t r = (ptrdiff_t)P / 2;
    size_t k = 0;
    for (ptrdiff_t oy = -r; oy <= r; oy++)
        for (ptrdiff_t ox = -r; ox <= r; ox++, k++) {
            ptrdiff_t dy = orient & 4 ? ox : oy, dx = orient & 4 ? oy : ox;
            if (orient & 1) dx = -dx;
            if (orient & 2) dy = -dy;
            const size_t i = (size_t)((dy + r) * (ptrdiff_t)P + dx + r);
            memcpy(inp + k * C, patch + i * C, C * sizeof(float));
            mask[k] = pmask[i];
        }
}

static void cfg_from_params(hn_sf_cfg *c, const hiner_classify_params *p, size_t C, size_t K)
{
    memset(c, 0, sizeof *c);
    c->C = C;
    c->K = K;
    c->P = (size_t)p->patch;
    c->G = (size_t)p->band_group;
    c->S = (size_t)p->band_stride;
    c->T = (C + c->S - 1) / c->S;
    c->D = (size_t)p->dim;
    c->depth = (size_t)p->depth;
    c->NH = (size_t)p->heads;
    c->MLP = (size_t)p->mlp_dim;
    c->drop = p->dropout;
    c->caf = p->caf;
    c->asw = p->asw;
    c->AH = (size_t)p->asw_hidden;
    c->AM = C / (size_t)p->asw_reduce > 0 ? C / (size_t)p->asw_reduce : 1;
}

/* ---- one step over a batch, split over the workers ---- */
typedef struct worker {
    hn_sf_acts a;
    float *grad;
    hn_sf_params g;
    size_t first, count; /* slice of the batch */
    double ce, rec;
    size_t correct;
} worker;

/* A batch: training samples (stored patches, their cube, symmetry and class) or, for
 * inference, pixels of a normalised cube. */
typedef struct step_job {
    const hiner_classifier *c;
    worker *wk;
    /* training */
    const float *const *patches; /* (n_train,PP,C) normalised, per cube: [0] the image */
    const uint8_t *pmask;        /* (n_train,PP) */
    const uint32_t *sample;      /* batch: training sample index */
    const uint8_t *cube_of;      /* batch: cube index */
    const uint8_t *orient;       /* batch: patch symmetry */
    const int32_t *target;       /* batch: class 0..K-1; NULL for inference */
    float ce_scale, rec_scale;
    uint64_t drop_seed;          /* dropout draws of this step */
    /* inference */
    const float *norm;           /* (HW,C) */
    const uint8_t *ok;
    const uint32_t *pix;         /* batch pixels */
    size_t W, H;
    uint8_t *pred;               /* class 1..K per batch pixel */
} step_job;

static void step_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    step_job *j = ctx;
    worker *w = &j->wk[t];
    const hn_sf_cfg *cfg = &j->c->cfg;
    const size_t C = cfg->C, PP = cfg->P * cfg->P, B = w->count;
    w->ce = w->rec = 0.0;
    w->correct = 0;
    if (B == 0) return;
    for (size_t i = 0; i < B; i++) {
        const size_t s = w->first + i;
        if (j->target) {
            const size_t n = j->sample[s];
            gather_patch(w->a.inp + i * PP * C, w->a.mask + i * PP,
                         j->patches[j->cube_of[s]] + n * PP * C, j->pmask + n * PP, C, cfg->P,
                         j->orient[s]);
            w->a.target[i] = j->target[s];
        } else {
            gather(w->a.inp + i * PP * C, w->a.mask + i * PP, j->norm, j->ok, j->pix[s], j->W,
                   j->H, C, cfg->P);
            w->a.target[i] = 0;
        }
    }
    hn_rng rng; /* dropout: one stream per step and worker */
    hn_rng_seed(&rng, j->drop_seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1)));
    w->rec = hn_sf_forward(cfg, &j->c->w, &w->a, B, j->target ? &rng : NULL);
    for (size_t i = 0; i < B; i++) {
        const float *z = w->a.logits + i * cfg->K;
        size_t best = 0;
        for (size_t k = 1; k < cfg->K; k++)
            if (z[k] > z[best]) best = k;
        if (j->pred) j->pred[w->first + i] = (uint8_t)(best + 1);
        w->correct += j->target && (int32_t)best == j->target[w->first + i];
    }
    if (!j->target) return;
    w->ce = crossentropy_forward(w->a.probs, w->a.logits, w->a.target, B, cfg->K);
    memset(w->grad, 0, j->c->n_params * sizeof(float));
    hn_sf_backward(cfg, &j->c->w, &w->g, &w->a, B, j->ce_scale, j->rec_scale);
}

static void split_batch(worker *wk, int T, size_t B)
{
    for (int t = 0; t < T; t++) {
        wk[t].first = B * (size_t)t / (size_t)T;
        wk[t].count = B * (size_t)(t + 1) / (size_t)T - wk[t].first;
    }
}

static hiner_classifier *classifier_new(const hiner_classify_params *p, size_t C, size_t K)
{
    hiner_classifier *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->p = *p;
    c->p.progress = NULL; /* the caller's pointers are not kept */
    c->p.progress_user = NULL;
    c->p.log = NULL;
    c->p.log_user = NULL;
    cfg_from_params(&c->cfg, p, C, K);
    c->n_params = hn_sf_count(&c->cfg, &c->n_asw);
    c->params = hn_calloc(c->n_params, sizeof(float));
    c->band_lo = hn_malloc(C, sizeof(float));
    c->band_scale = hn_malloc(C, sizeof(float));
    if (!c->params || !c->band_lo || !c->band_scale) {
        hiner_classifier_free(c);
        return NULL;
    }
    hn_sf_bind(&c->w, c->params, &c->cfg);
    return c;
}

void hiner_classifier_free(hiner_classifier *c)
{
    if (!c) return;
    hn_free(c->params);
    hn_free(c->band_lo);
    hn_free(c->band_scale);
    free(c);
}

hiner_status hiner_classifier_info(const hiner_classifier *c, uint32_t *bands, int *n_classes,
                                   int *patch)
{
    HN_CHECK(!c, HINER_E_INVALID_ARG);
    if (bands) *bands = (uint32_t)c->cfg.C;
    if (n_classes) *n_classes = (int)c->cfg.K;
    if (patch) *patch = (int)c->cfg.P;
    return HINER_OK;
}

/* ---- training: the state of one run, then its steps in order ---- */
typedef struct trainer {
    const hiner_classify_params *p;
    hn_log lg;
    size_t C, PP;
    int K, T;
    uint32_t n_cubes;     /* the image and its ISI copies */
    hiner_classifier *c;
    size_t n_train;
    float *patches[65];   /* (n_train,PP,C) normalised: [0] the image, then the ISI copies */
    uint8_t *pmask;       /* (n_train,PP) */
    size_t *pvalid;       /* valid pixels of each patch */
    int32_t *train_tgt;   /* class 0..K-1 of each training sample */
    uint32_t *order;      /* this epoch's shuffle of the training samples */
    uint32_t *bsample;    /* the batch: samples, classes, cube index (0 = image), symmetry */
    int32_t *btgt;
    uint8_t *bcube, *borient;
    float *adam_m, *adam_v, *avg;
    hn_adam adam;
    worker *wk;
    hn_pool *pool;
    hn_rng rng, isi_rng;  /* ISI's draws apart, so shuffles and dropout match a run without */
    hn_rng aug_rng;       /* the patches' symmetries, apart too */
    int isi_epochs, avg_from;
    uint64_t steps, n_avg;
    double t0, ep_ce, ep_rec, ep_acc; /* ep_*: the last epoch's loss, L_R, accuracy */
} trainer;

/* Sums over one epoch's steps. */
typedef struct epoch_sums {
    double ce, rec;
    size_t correct, n_rec;
} epoch_sums;

/* The classifier for K classes, its initial weights and the training samples' buffers
 * (filled by the caller, then normalised by finish_samples). */
static hiner_status setup_model(trainer *tr, int K, size_t n_train, uint32_t n_augment)
{
    const hiner_classify_params *p = tr->p;
    HN_CHECK_ARG(&tr->lg, K >= 2 && K <= HINER_CLASS_MAX, "%d classes: at least 2 are needed",
                 K);
    tr->K = K;
    tr->n_train = n_train;
    tr->n_cubes = 1 + n_augment;
    tr->PP = (size_t)p->patch * (size_t)p->patch;
    tr->c = classifier_new(p, tr->C, (size_t)K);
    HN_CHECK(!tr->c, HINER_E_NOMEM);
    size_t n_vals;
    HN_CHECK(!hn_mul_size(n_train ? n_train : 1, tr->PP * tr->C, &n_vals), HINER_E_LIMIT);
    for (uint32_t k = 0; k < tr->n_cubes; k++)
        HN_CHECK(!(tr->patches[k] = hn_malloc(n_vals, sizeof(float))), HINER_E_NOMEM);
    tr->pmask = hn_calloc(n_vals / tr->C, 1);
    tr->pvalid = hn_calloc(n_train ? n_train : 1, sizeof(size_t));
    tr->train_tgt = hn_malloc(n_train ? n_train : 1, sizeof(int32_t));
    HN_CHECK(!tr->pmask || !tr->pvalid || !tr->train_tgt, HINER_E_NOMEM);
    hn_rng_seed(&tr->rng, p->seed);
    hn_rng_seed(&tr->isi_rng, p->seed ^ 0x495349ULL);
    hn_rng_seed(&tr->aug_rng, p->seed ^ 0x415547ULL);
    hn_sf_init(&tr->c->w, &tr->c->cfg, &tr->rng);
    return HINER_OK;
}

/* Every class has a sample; the valid pixels of each patch; the log line. */
static hiner_status finish_samples(trainer *tr)
{
    uint32_t per_class[HINER_CLASS_MAX] = {0};
    for (size_t n = 0; n < tr->n_train; n++) {
        per_class[tr->train_tgt[n]]++;
        size_t v = 0;
        for (size_t i = 0; i < tr->PP; i++) v += tr->pmask[n * tr->PP + i] != 0;
        tr->pvalid[n] = v;
    }
    for (int k = 0; k < tr->K; k++)
        HN_CHECK_ARG(&tr->lg, per_class[k] != 0, "class %d has no training pixel", k + 1);
    const hiner_classifier *c = tr->c;
    hn_logf(&tr->lg, 2, "classifier: %zu parameters (ASW %zu), %zu training pixels, %d classes, "
            "%u augmented cubes", c->n_params - c->n_asw, c->n_asw, tr->n_train, tr->K,
            tr->n_cubes - 1);
    return HINER_OK;
}

/* From a cube: validity, the classes, the band ranges, and every labelled pixel's patch
 * in the image and its ISI copies (each labelled pixel must be valid). */
static hiner_status samples_from_cube(trainer *tr, const hiner_classify_data *d)
{
    const size_t W = d->width, H = d->height, C = tr->C, HW = W * H;
    hiner_status st = HINER_OK;
    uint8_t *ok = hn_malloc(HW, 1);
    float *norm = NULL;
    HN_CHECK(!ok, HINER_E_NOMEM);
    int K = d->n_classes;
    size_t n_train = 0;
    for (size_t i = 0; i < HW; i++) {
        ok[i] = (uint8_t)pixel_valid(d->cube, d->valid, i, C, HW);
        if (d->labels[i]) n_train++;
        if (d->n_classes == 0 && d->labels[i] > K) K = d->labels[i];
    }
    HN_GOTO_FWD(setup_model(tr, K, n_train, d->n_augment));
    band_range(tr->c->band_lo, tr->c->band_scale, d->cube, ok, C, HW);
    n_train = 0;
    for (size_t i = 0; i < HW; i++) {
        const int l = d->labels[i];
        if (!l) continue;
        if (l > K) {
            hn_logf(&tr->lg, 0, "label %d at pixel %zu, %zu is above the %d classes", l, i % W,
                    i / W, K);
            HN_GOTO_IF(1, HINER_E_INVALID_ARG);
        }
        if (!ok[i]) {
            hn_logf(&tr->lg, 0, "labelled pixel %zu, %zu is NoData in the image", i % W, i / W);
            HN_GOTO_IF(1, HINER_E_INVALID_ARG);
        }
        tr->train_tgt[n_train++] = l - 1;
    }
    norm = hn_malloc(HW * C, sizeof(float));
    HN_GOTO_IF(!norm, HINER_E_NOMEM);
    for (uint32_t k = 0; k < tr->n_cubes; k++) {
        const float *src = k == 0 ? d->cube : d->augment[k - 1];
        HN_GOTO_IF(!src, HINER_E_INVALID_ARG);
        normalise(norm, src, ok, tr->c->band_lo, tr->c->band_scale, C, HW);
        size_t n = 0;
        for (size_t i = 0; i < HW; i++) {
            if (!d->labels[i]) continue;
            gather(tr->patches[k] + n * tr->PP * C, tr->pmask + n * tr->PP, norm, ok, i, W, H,
                   C, (size_t)tr->p->patch);
            n++;
        }
    }
    HN_GOTO_FWD(finish_samples(tr));
fail:
    hn_free(ok);
    hn_free(norm);
    return st;
}

/* From the caller's patches: their classes, the given band ranges, the patches normalised. */
static hiner_status samples_from_patches(trainer *tr, const hiner_classify_patches *d)
{
    const size_t C = tr->C, n = d->n;
    int K = d->n_classes;
    for (size_t i = 0; i < n && d->n_classes == 0; i++)
        if (d->labels[i] > K) K = d->labels[i];
    HN_FORWARD(setup_model(tr, K, n, d->n_augment));
    hiner_classifier *c = tr->c;
    for (size_t b = 0; b < C; b++) {
        const float lo = d->band_min[b], hi = d->band_max[b];
        HN_CHECK_ARG(&tr->lg, isfinite(lo) && isfinite(hi) && lo <= hi,
                     "band %zu: range %g .. %g", b + 1, (double)lo, (double)hi);
        c->band_lo[b] = lo;
        c->band_scale[b] = hi - lo > 1e-20f ? 1.0f / (hi - lo) : 1.0f;
    }
    const size_t PP = tr->PP, centre = PP / 2;
    for (size_t s = 0; s < n; s++) {
        const int l = d->labels[s];
        HN_CHECK_ARG(&tr->lg, l >= 1 && l <= K, "patch %zu: label %d is not a class 1..%d", s,
                     l, K);
        tr->train_tgt[s] = l - 1;
        for (size_t i = 0; i < PP; i++) {
            const float *x = d->values + (s * PP + i) * C;
            int v = !d->valid || d->valid[s * PP + i];
            for (size_t b = 0; b < C && v; b++) v = isfinite(x[b]);
            tr->pmask[s * PP + i] = (uint8_t)v;
        }
        HN_CHECK_ARG(&tr->lg, tr->pmask[s * PP + centre], "patch %zu: its centre is NoData", s);
    }
    for (uint32_t k = 0; k < tr->n_cubes; k++) {
        const float *src = k == 0 ? d->values : d->augment[k - 1];
        HN_CHECK(!src, HINER_E_INVALID_ARG);
        float *dst = tr->patches[k];
        for (size_t i = 0; i < n * PP; i++) {
            const int v = tr->pmask[i];
            for (size_t b = 0; b < C; b++) {
                const float y = (src[i * C + b] - c->band_lo[b]) * c->band_scale[b];
                dst[i * C + b] = v && isfinite(y) ? y : 0.0f;
            }
        }
    }
    return finish_samples(tr);
}

/* Workers with their activations and gradient slabs, the pool, Adam's moments, the weight
 * average and the batch buffers. */
static hiner_status setup_workers(trainer *tr)
{
    const hiner_classifier *c = tr->c;
    const size_t batch = (size_t)tr->p->batch, Bt = (batch + (size_t)tr->T - 1) / (size_t)tr->T;
    tr->wk = calloc((size_t)tr->T, sizeof *tr->wk);
    HN_CHECK(!tr->wk, HINER_E_NOMEM);
    for (int t = 0; t < tr->T; t++) {
        HN_FORWARD(hn_sf_acts_init(&tr->wk[t].a, &c->cfg, Bt, 1));
        tr->wk[t].grad = hn_calloc(c->n_params, sizeof(float));
        HN_CHECK(!tr->wk[t].grad, HINER_E_NOMEM);
        hn_sf_bind(&tr->wk[t].g, tr->wk[t].grad, &c->cfg);
    }
    if (tr->T > 1) HN_CHECK(!(tr->pool = hn_pool_create(tr->T)), HINER_E_NOMEM);
    tr->adam_m = hn_calloc(c->n_params, sizeof(float));
    tr->adam_v = hn_calloc(c->n_params, sizeof(float));
    tr->avg = hn_calloc(c->n_params, sizeof(float));
    tr->order = hn_malloc(tr->n_train, sizeof(uint32_t));
    tr->bsample = hn_malloc(batch, sizeof(uint32_t));
    tr->btgt = hn_malloc(batch, sizeof(int32_t));
    tr->bcube = hn_calloc(batch, 1);
    tr->borient = hn_calloc(batch, 1);
    HN_CHECK(!tr->adam_m || !tr->adam_v || !tr->avg || !tr->order || !tr->bsample ||
                 !tr->btgt || !tr->bcube || !tr->borient,
             HINER_E_NOMEM);
    adam_init(&tr->adam);
    tr->adam.weight_decay = tr->p->weight_decay;
    return HINER_OK;
}

/* One step on the training samples order[s0 .. s0+B): the batch (with its ISI draws and
 * symmetries), the workers' forward and backward passes, their gradients summed in a
 * fixed order, one Adam step and, in the last epochs, the running mean of the weights. */
static void train_step(trainer *tr, int e, size_t s0, size_t B, float lr, epoch_sums *sum)
{
    hiner_classifier *c = tr->c;
    const hiner_classify_params *p = tr->p;
    size_t n_valid = 0;
    for (size_t i = 0; i < B; i++) {
        const uint32_t n = tr->order[s0 + i];
        tr->bsample[i] = n;
        tr->btgt[i] = tr->train_tgt[n];
        tr->bcube[i] = 0;
        if (e < tr->isi_epochs && hn_rng_uniform(&tr->isi_rng) >= p->isi_clean)
            tr->bcube[i] = (uint8_t)(1 + hn_rng_below(&tr->isi_rng, tr->n_cubes - 1));
        tr->borient[i] = p->augment ? (uint8_t)hn_rng_below(&tr->aug_rng, 8) : 0;
        n_valid += tr->pvalid[n];
    }
    split_batch(tr->wk, tr->T, B);
    step_job j = {.c = c, .wk = tr->wk, .patches = (const float *const *)tr->patches,
                  .pmask = tr->pmask, .sample = tr->bsample, .cube_of = tr->bcube,
                  .orient = tr->borient, .target = tr->btgt, .ce_scale = 1.0f / (float)B,
                  .drop_seed = hn_rng_next(&tr->rng)};
    if (c->cfg.asw && n_valid) j.rec_scale = p->asw_beta / ((float)n_valid * (float)tr->C);
    hn_pool_run(tr->pool, (size_t)tr->T, step_task, &j);
    float *g0 = tr->wk[0].grad;
    for (int t = 1; t < tr->T; t++) {
        const float *gt = tr->wk[t].grad;
        for (size_t i = 0; i < c->n_params; i++) g0[i] += gt[i];
    }
    adam_update(&tr->adam, c->params, g0, tr->adam_m, tr->adam_v, c->n_params, lr);
    if (e >= tr->avg_from) {
        const float r = 1.0f / (float)++tr->n_avg;
        for (size_t i = 0; i < c->n_params; i++) tr->avg[i] += (c->params[i] - tr->avg[i]) * r;
    }
    for (int t = 0; t < tr->T; t++) {
        sum->ce += tr->wk[t].ce;
        sum->rec += tr->wk[t].rec;
        sum->correct += tr->wk[t].correct;
    }
    sum->n_rec += n_valid;
    tr->steps++;
}

static void shuffle(uint32_t *order, size_t n, hn_rng *rng)
{
    for (uint32_t i = (uint32_t)n; i > 1; i--) { /* Fisher-Yates */
        uint32_t j = hn_rng_below(rng, i);
        uint32_t tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
}

/* Epoch e: a new shuffle, its steps, then the epoch's scores to the log and progress. */
static hiner_status train_epoch(trainer *tr, int e)
{
    const hiner_classify_params *p = tr->p;
    const int step_epochs = p->epochs / 10 > 0 ? p->epochs / 10 : 1; /* StepLR(epochs // 10) */
    const float lr = p->lr * powf(p->lr_gamma, (float)(e / step_epochs));
    const size_t batch = (size_t)p->batch, n_train = tr->n_train;
    shuffle(tr->order, n_train, &tr->rng);
    epoch_sums sum = {0.0, 0.0, 0, 0};
    for (size_t s0 = 0; s0 < n_train; s0 += batch)
        train_step(tr, e, s0, n_train - s0 < batch ? n_train - s0 : batch, lr, &sum);
    tr->ep_ce = sum.ce / (double)n_train;
    tr->ep_rec = sum.n_rec ? sum.rec / ((double)sum.n_rec * (double)tr->C) : 0.0;
    tr->ep_acc = (double)sum.correct / (double)n_train;
    HN_CHECK(!isfinite(tr->ep_ce), HINER_E_GENERIC);
    hn_logf(&tr->lg, 3, "epoch %d/%d: loss %.4f, accuracy %.4f, L_R %.3g, lr %.3g, %.1f s",
            e + 1, p->epochs, tr->ep_ce, tr->ep_acc, tr->ep_rec, (double)lr,
            hn_seconds() - tr->t0);
    if (p->progress) {
        char msg[96];
        snprintf(msg, sizeof msg, "epoch %d/%d loss %.4f accuracy %.3f", e + 1, p->epochs,
                 tr->ep_ce, tr->ep_acc);
        HN_CHECK(!p->progress((double)(e + 1) / p->epochs, msg, p->progress_user),
                 HINER_E_ABORTED);
    }
    return HINER_OK;
}

static void fill_report(hiner_classify_report *report, const trainer *tr)
{
    const hiner_classifier *c = tr->c;
    memset(report, 0, sizeof *report);
    report->epochs_done = tr->p->epochs;
    report->steps = tr->steps;
    report->train_pixels = (uint32_t)tr->n_train;
    report->seconds = hn_seconds() - tr->t0;
    report->final_loss = tr->ep_ce;
    report->final_recon = c->cfg.asw ? tr->ep_rec : 0.0;
    report->train_accuracy = tr->ep_acc;
    report->classifier_params = c->n_params - c->n_asw;
    report->asw_params = c->n_asw;
}

static void trainer_free(trainer *tr)
{
    if (tr->wk)
        for (int t = 0; t < tr->T; t++) {
            hn_sf_acts_free(&tr->wk[t].a);
            hn_free(tr->wk[t].grad);
        }
    free(tr->wk);
    hn_pool_free(tr->pool);
    for (size_t k = 0; k < sizeof tr->patches / sizeof *tr->patches; k++)
        hn_free(tr->patches[k]);
    hn_free(tr->pmask);
    hn_free(tr->pvalid);
    hn_free(tr->train_tgt);
    hn_free(tr->order);
    hn_free(tr->bsample);
    hn_free(tr->btgt);
    hn_free(tr->bcube);
    hn_free(tr->borient);
    hn_free(tr->adam_m);
    hn_free(tr->adam_v);
    hn_free(tr->avg);
    hiner_classifier_free(tr->c);
}

/* The training loop over the samples, then the averaged weights into the classifier. */
static hiner_status run_training(trainer *tr, hiner_classifier **out,
                                 hiner_classify_report *report)
{
    const hiner_classify_params *p = tr->p;
    HN_FORWARD(setup_workers(tr));
    tr->isi_epochs = tr->n_cubes > 1 ? (int)ceil((double)p->isi_until * p->epochs) : 0;
    tr->avg_from = p->epochs - (int)ceil(HN_CLS_AVERAGE * p->epochs);
    tr->t0 = hn_seconds();
    for (uint32_t i = 0; i < tr->n_train; i++) tr->order[i] = i;
    const hn_fpstate fp = hn_fp_enter();
    hiner_status st = HINER_OK;
    for (int e = 0; e < p->epochs && st == HINER_OK; e++) st = train_epoch(tr, e);
    hn_fp_leave(fp);
    HN_FORWARD(st);
    if (tr->n_avg) memcpy(tr->c->params, tr->avg, tr->c->n_params * sizeof(float));
    if (report) fill_report(report, tr);
    *out = tr->c;
    tr->c = NULL;
    return HINER_OK;
}

static void trainer_init(trainer *tr, const hiner_classify_params *p, size_t C)
{
    memset(tr, 0, sizeof *tr);
    tr->p = p;
    tr->lg = (hn_log){p->log, p->log_user};
    tr->C = C;
    tr->T = p->threads > 1 ? p->threads : 1;
}

hiner_status hiner_classifier_train(const hiner_classify_params *p, const hiner_classify_data *d,
                                    hiner_classifier **out, hiner_classify_report *report)
{
    HN_CHECK(!p || !d || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    HN_FORWARD(hiner_classify_params_validate(p));
    HN_CHECK(!d->cube || !d->labels || d->width == 0 || d->height == 0 || d->bands == 0,
             HINER_E_INVALID_ARG);
    HN_CHECK(d->n_augment > 0 && !d->augment, HINER_E_INVALID_ARG);
    HN_CHECK(d->n_augment > 64, HINER_E_INVALID_ARG);
    size_t HW, HWC;
    HN_CHECK(!hn_mul_size(d->width, d->height, &HW) || !hn_mul_size(HW, d->bands, &HWC) ||
                 HW > UINT32_MAX,
             HINER_E_LIMIT);
    trainer tr;
    trainer_init(&tr, p, d->bands);
    hiner_status st = HINER_OK;
    HN_GOTO_FWD(samples_from_cube(&tr, d));
    HN_GOTO_FWD(run_training(&tr, out, report));
fail:
    trainer_free(&tr);
    return st;
}

hiner_status hiner_classifier_train_patches(const hiner_classify_params *p,
                                            const hiner_classify_patches *d,
                                            hiner_classifier **out, hiner_classify_report *report)
{
    HN_CHECK(!p || !d || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    HN_FORWARD(hiner_classify_params_validate(p));
    HN_CHECK(!d->values || !d->labels || !d->band_min || !d->band_max || d->n == 0 ||
                 d->bands == 0 || d->n > UINT32_MAX,
             HINER_E_INVALID_ARG);
    HN_CHECK(d->patch != (uint32_t)p->patch, HINER_E_INVALID_ARG);
    HN_CHECK(d->n_augment > 0 && !d->augment, HINER_E_INVALID_ARG);
    HN_CHECK(d->n_augment > 64, HINER_E_INVALID_ARG);
    trainer tr;
    trainer_init(&tr, p, d->bands);
    hiner_status st = HINER_OK;
    HN_GOTO_FWD(samples_from_patches(&tr, d));
    HN_GOTO_FWD(run_training(&tr, out, report));
fail:
    trainer_free(&tr);
    return st;
}

hiner_status hiner_classifier_predict(hiner_classifier *c, uint32_t width, uint32_t height,
                                      const float *cube, const uint8_t *valid,
                                      const uint8_t *which, uint8_t *out,
                                      hiner_progress_fn progress, void *progress_user)
{
    HN_CHECK(!c || !cube || !out || width == 0 || height == 0, HINER_E_INVALID_ARG);
    const size_t W = width, H = height, C = c->cfg.C;
    size_t HW, HWC;
    HN_CHECK(!hn_mul_size(W, H, &HW) || !hn_mul_size(HW, C, &HWC) || HW > UINT32_MAX,
             HINER_E_LIMIT);
    const int T = c->p.threads > 1 ? c->p.threads : 1;
    hiner_status st = HINER_OK;
    uint8_t *ok = hn_malloc(HW, 1);
    float *norm = hn_malloc(HWC, sizeof(float));
    const size_t Bt = 32, chunk = Bt * (size_t)T;
    uint32_t *pix = hn_malloc(chunk, sizeof(uint32_t));
    uint8_t *pred = hn_malloc(chunk, 1);
    worker *wk = calloc((size_t)T, sizeof *wk);
    hn_pool *pool = NULL;
    const hn_fpstate fp = hn_fp_enter();
    HN_GOTO_IF(!ok || !norm || !pix || !pred || !wk, HINER_E_NOMEM);
    for (int t = 0; t < T; t++) HN_GOTO_FWD(hn_sf_acts_init(&wk[t].a, &c->cfg, Bt, 0));
    if (T > 1) HN_GOTO_IF(!(pool = hn_pool_create(T)), HINER_E_NOMEM);
    size_t n_valid = 0;
    for (size_t i = 0; i < HW; i++) {
        ok[i] = (uint8_t)pixel_valid(cube, valid, i, C, HW);
        n_valid += ok[i] && (!which || which[i]);
    }
    normalise(norm, cube, ok, c->band_lo, c->band_scale, C, HW);
    memset(out, 0, HW);
    size_t done = 0, next_report = 0;
    for (size_t i = 0; i < HW;) {
        size_t B = 0;
        for (; i < HW && B < chunk; i++)
            if (ok[i] && (!which || which[i])) pix[B++] = (uint32_t)i;
        if (B == 0) break;
        split_batch(wk, T, B);
        step_job j = {.c = c, .wk = wk, .norm = norm, .ok = ok, .pix = pix, .pred = pred,
                      .W = W, .H = H};
        hn_pool_run(pool, (size_t)T, step_task, &j);
        for (size_t k = 0; k < B; k++) out[pix[k]] = pred[k];
        done += B;
        if (progress && (done >= next_report || done == n_valid)) {
            next_report = done + n_valid / 100 + 1;
            HN_GOTO_IF(!progress((double)done / (double)n_valid, "classifying", progress_user),
                       HINER_E_ABORTED);
        }
    }
fail:
    if (wk)
        for (int t = 0; t < T; t++) hn_sf_acts_free(&wk[t].a);
    free(wk);
    hn_pool_free(pool);
    hn_free(ok);
    hn_free(norm);
    hn_free(pix);
    hn_free(pred);
    hn_fp_leave(fp);
    return st;
}
