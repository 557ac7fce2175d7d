/*
 * net.c - the HINER network for one band: spectral encoder E = MLP o PE (paper Eq. 2-3)
 * producing a (embed_channels, h, w) embedding, and decoder D: 1x1 conv + GELU, then per
 * stage conv k x k -> PixelShuffle(s) -> GELU, then a 3x3 head and tanh * 0.5 + 0.5.
 * Parameters live in one slab (encoder tensors first); grads and Adam state mirror it.
 */
#include <math.h>

#include "net.h"

static void add_tensor(hn_net *net, const char *name, int is_enc, size_t fan_in, int ndim,
                       uint32_t d0, uint32_t d1, uint32_t d2, uint32_t d3)
{
    hn_tensor *t = &net->t[net->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->shape[2] = d2;
    t->shape[3] = d3;
    t->n = d0;
    for (int i = 1; i < ndim; i++) t->n *= t->shape[i];
    t->off = net->n_params;
    t->fan_in = fan_in;
    t->is_encoder = is_enc;
    /* keep every tensor 16-float aligned so kernels may use aligned loads */
    net->n_params += (t->n + 15) & ~(size_t)15;
}

hiner_status hn_net_init(hn_net *net, const hiner_plan *pl)
{
    memset(net, 0, sizeof *net);
    net->plan = *pl;
    const uint32_t L2 = 2u * (uint32_t)pl->enc_freqs, H1 = (uint32_t)pl->enc_hidden;
    const uint32_t E = (uint32_t)hn_embed_size(pl);
    add_tensor(net, "enc.fc1.w", 1, L2, 2, H1, L2, 0, 0);
    add_tensor(net, "enc.fc1.b", 1, L2, 1, H1, 0, 0, 0);
    add_tensor(net, "enc.fc2.w", 1, H1, 2, E, H1, 0, 0);
    add_tensor(net, "enc.fc2.b", 1, H1, 1, E, 0, 0, 0);
    net->n_encoder = net->n_params;
    uint32_t ec = (uint32_t)pl->embed_channels, c0 = (uint32_t)pl->widths[0];
    add_tensor(net, "dec.conv0.w", 0, ec, 4, c0, ec, 1, 1);
    add_tensor(net, "dec.conv0.b", 0, ec, 1, c0, 0, 0, 0);
    for (int i = 0; i < pl->n_stages; i++) {
        uint32_t ci = (uint32_t)pl->widths[i], s = (uint32_t)pl->strides[i];
        uint32_t k = (uint32_t)pl->kernels[i], oc = (uint32_t)pl->widths[i + 1] * s * s;
        char nm[24];
        snprintf(nm, sizeof nm, "dec.s%d.w", i);
        add_tensor(net, nm, 0, (size_t)ci * k * k, 4, oc, ci, k, k);
        snprintf(nm, sizeof nm, "dec.s%d.b", i);
        add_tensor(net, nm, 0, (size_t)ci * k * k, 1, oc, 0, 0, 0);
    }
    uint32_t cn = (uint32_t)pl->widths[pl->n_stages];
    add_tensor(net, "dec.head.w", 0, (size_t)cn * 9, 4, 1, cn, 3, 3);
    add_tensor(net, "dec.head.b", 0, (size_t)cn * 9, 1, 1, 0, 0, 0);
    net->params = hn_calloc(net->n_params, sizeof(float));
    HN_CHECK(!net->params, HINER_E_NOMEM);
    return HINER_OK;
}

void hn_net_free(hn_net *net)
{
    if (!net) return;
    hn_free(net->params);
    net->params = NULL;
}

void hn_net_init_weights(hn_net *net, hn_rng *rng)
{
    for (int i = 0; i < net->n_tensors; i++) {
        const hn_tensor *t = &net->t[i];
        float bound = t->fan_in ? 1.0f / sqrtf((float)t->fan_in) : 0.0f;
        float *w = net->params + t->off;
        for (size_t j = 0; j < t->n; j++) w[j] = (2.0f * hn_rng_uniform(rng) - 1.0f) * bound;
    }
}

/* ---- activations ---- */

static size_t stage_out_len(const hiner_plan *pl, int i) /* z[i] / a[i] length */
{
    size_t hw = (size_t)pl->embed_height * pl->embed_width;
    for (int j = 0; j < i; j++) hw *= (size_t)pl->strides[j] * pl->strides[j];
    return (size_t)pl->widths[i] * hw;
}

static size_t stage_hw(const hiner_plan *pl, int i, size_t *h, size_t *w)
{
    size_t hh = (size_t)pl->embed_height, ww = (size_t)pl->embed_width;
    for (int j = 0; j < i; j++) {
        hh *= (size_t)pl->strides[j];
        ww *= (size_t)pl->strides[j];
    }
    *h = hh;
    *w = ww;
    return hh * ww;
}

size_t hn_acts_wksp_floats(const hiner_plan *pl, int threads)
{
    const hn_kernels *k = hn_kernels_get(HN_ISA_AUTO);
    const int n = pl->n_stages;
    size_t wk = hn_conv_wksp_floats(k, threads, (size_t)pl->embed_channels, (size_t)pl->widths[0],
                                    1, (size_t)pl->embed_height, (size_t)pl->embed_width);
    for (int i = 0; i <= n; i++) {
        size_t need, sh, sw;
        stage_hw(pl, i, &sh, &sw);
        if (i < n)
            need = hn_conv_wksp_floats(k, threads, (size_t)pl->widths[i],
                                       (size_t)pl->widths[i + 1] * pl->strides[i] * pl->strides[i],
                                       (size_t)pl->kernels[i], sh, sw);
        else
            need = hn_conv_wksp_floats(k, threads, (size_t)pl->widths[n], 1, 3, sh, sw);
        if (need > wk) wk = need;
    }
    return wk;
}

/* Floats of the largest activation: the band, or a stage's input. */
static size_t max_act_len(const hiner_plan *pl)
{
    size_t maxlen = (size_t)pl->pad_height * pl->pad_width;
    for (int i = 0; i <= pl->n_stages; i++) {
        size_t len = stage_out_len(pl, i);
        if (len > maxlen) maxlen = len;
    }
    return maxlen;
}

void hn_acts_set_rows(hn_acts *A, const hiner_plan *pl)
{
    const int n = pl->n_stages;
    size_t hh[HINER_MAX_STAGES + 1];
    hh[0] = (size_t)pl->embed_height;
    for (int i = 0; i < n; i++) hh[i + 1] = hh[i] * (size_t)pl->strides[i];
    A->rows_out.y0 = pl->pad_top;
    A->rows_out.y1 = (size_t)pl->pad_top + pl->height;
    hn_rows r = A->rows_out; /* the head reads one row more each side */
    r.y0 = r.y0 > 0 ? r.y0 - 1 : 0;
    r.y1 = r.y1 + 1 < hh[n] ? r.y1 + 1 : hh[n];
    A->rows_a[n] = r;
    for (int i = n - 1; i >= 0; i--) {
        const size_t s = (size_t)pl->strides[i], P = (size_t)pl->kernels[i] / 2;
        hn_rows y = {A->rows_a[i + 1].y0 / s, (A->rows_a[i + 1].y1 + s - 1) / s};
        if (y.y1 > hh[i]) y.y1 = hh[i];
        A->rows_y[i] = y;
        A->rows_a[i + 1].y0 = y.y0 * s; /* PixelShuffle produces whole groups of rows */
        A->rows_a[i + 1].y1 = y.y1 * s;
        hn_rows a = {y.y0 > P ? y.y0 - P : 0, y.y1 + P < hh[i] ? y.y1 + P : hh[i]};
        A->rows_a[i] = a;
    }
}

hiner_status hn_acts_init(hn_acts *A, const hiner_plan *pl, int training, hn_pool *pool)
{
    memset(A, 0, sizeof *A);
    A->training = training;
    const size_t L2 = 2 * (size_t)pl->enc_freqs, H1 = (size_t)pl->enc_hidden;
    const size_t E = hn_embed_size(pl);
    const size_t band = (size_t)pl->pad_height * pl->pad_width;
    const int n = pl->n_stages;
    const size_t maxlen = max_act_len(pl);
    const size_t wk = hn_acts_wksp_floats(pl, hn_pool_threads(pool));
    /* offsets, in floats, each rounded to 16 */
#define RND(x) (((x) + 15) & ~(size_t)15)
    size_t total = RND(L2) + 2 * RND(H1) + RND(E) + RND(maxlen) /* y */ + RND(band) /* o */ +
                   RND(band) /* out */ + RND(wk);
    if (training) {
        for (int i = 0; i <= n; i++) total += 2 * RND(stage_out_len(pl, i)); /* ys, a (z0) */
        total += 2 * RND(maxlen) + RND(band) + RND(E) + RND(H1);
    } else {
        total += RND(maxlen); /* one buffer shared by z0 and every a[i] */
    }
    float *blk = hn_malloc(total, sizeof(float));
    HN_CHECK(!blk, HINER_E_NOMEM);
    memset(blk, 0, total * sizeof(float));
    A->block = blk;
    float *p = blk;
#define TAKE(ptr, len)                                                                       \
    do {                                                                                     \
        (ptr) = p;                                                                           \
        p += RND(len);                                                                       \
    } while (0)
    TAKE(A->pe, L2);
    TAKE(A->h1, H1);
    TAKE(A->g1, H1);
    TAKE(A->emb, E);
    TAKE(A->y, maxlen);
    TAKE(A->o, band);
    TAKE(A->out, band);
    TAKE(A->wksp, wk);
    if (training) {
        TAKE(A->z0, stage_out_len(pl, 0));
        for (int i = 0; i <= n; i++) {
            if (i < n) TAKE(A->ys[i], stage_out_len(pl, i + 1));
            TAKE(A->a[i], stage_out_len(pl, i));
        }
        TAKE(A->d0, maxlen);
        TAKE(A->d1, maxlen);
        TAKE(A->dout, band);
        TAKE(A->demb, E);
        TAKE(A->dg1, H1);
    } else {
        float *shared;
        TAKE(shared, maxlen);
        A->z0 = shared;
        for (int i = 0; i <= n; i++) {
            A->a[i] = shared;
            if (i < n) A->ys[i] = A->y;
        }
    }
#undef TAKE
#undef RND
    hn_acts_set_rows(A, pl);
    A->embed_len = E;
    A->x.k = hn_kernels_get(HN_ISA_AUTO);
    A->x.pool = pool;
    A->x.wksp = A->wksp;
    return HINER_OK;
}

void hn_acts_free(hn_acts *A)
{
    if (!A) return;
    hn_free(A->block);
    memset(A, 0, sizeof *A);
}

/* ---- encoder ---- */

void hn_encoder_forward(const hn_net *net, const float *params, hn_acts *A, double lambda,
                        float *emb)
{
    const hiner_plan *pl = &net->plan;
    const size_t L2 = 2 * (size_t)pl->enc_freqs, H1 = (size_t)pl->enc_hidden;
    const size_t E = A->embed_len;
    posenc_forward(A->pe, lambda, (size_t)pl->enc_freqs, pl->enc_base);
    linear_forward(A->h1, A->pe, params + net->t[HN_T_ENC_W1].off,
                   params + net->t[HN_T_ENC_B1].off, 1, L2, H1);
    gelu_forward(A->g1, A->h1, H1);
    linear_forward(emb, A->g1, params + net->t[HN_T_ENC_W2].off,
                   params + net->t[HN_T_ENC_B2].off, 1, H1, E);
}

void hn_encoder_backward(const hn_net *net, const float *params, float *grads, hn_acts *A)
{
    const hiner_plan *pl = &net->plan;
    const size_t L2 = 2 * (size_t)pl->enc_freqs, H1 = (size_t)pl->enc_hidden;
    const size_t E = A->embed_len;
    memset(A->dg1, 0, H1 * sizeof(float));
    /* fc2: demb -> dW2, db2, dg1 */
    linear_backward(A->dg1, grads + net->t[HN_T_ENC_W2].off, grads + net->t[HN_T_ENC_B2].off,
                    A->demb, A->g1, params + net->t[HN_T_ENC_W2].off, 1, H1, E);
    /* GELU, then fc1 (no gradient to the positional encoding) */
    gelu_backward_inplace(A->dg1, A->h1, H1);
    linear_backward(NULL, grads + net->t[HN_T_ENC_W1].off, grads + net->t[HN_T_ENC_B1].off,
                    A->dg1, A->pe, params + net->t[HN_T_ENC_W1].off, 1, L2, H1);
}

/* ---- element-wise work split over the pool ---- */

typedef struct ew_job {
    const hn_kernels *k;
    float *a;
    const float *b;
    size_t n, chunk;
    int bwd;
} ew_job;

static void ew_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const ew_job *j = ctx;
    size_t lo = t * j->chunk, hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
    if (lo >= hi) return;
    if (j->bwd) j->k->gelu_bwd(j->a + lo, j->b + lo, hi - lo);
    else j->k->gelu_fwd(j->a + lo, j->b + lo, hi - lo);
}

static void par_ew(const hn_exec *x, float *a, const float *b, size_t n, int bwd)
{
    const size_t T = (size_t)hn_pool_threads(x->pool);
    ew_job j = {x->k, a, b, n, ((n + T - 1) / T + 15) & ~(size_t)15, bwd};
    if (T == 1 || n < 4096) {
        j.chunk = n;
        ew_task(&j, 0, 0);
        return;
    }
    hn_pool_run(x->pool, T, ew_task, &j);
}

static void par_gelu_fwd(const hn_exec *x, float *out, const float *in, size_t n)
{
    par_ew(x, out, in, n, 0);
}

static void par_gelu_bwd(const hn_exec *x, float *d, const float *in, size_t n)
{
    par_ew(x, d, in, n, 1);
}

/* ---- decoder ---- */

/* Adds the time since t0 to layer `slot` of the profile, when profiling. */
#define PROF(slot)                                                                           \
    do {                                                                                     \
        if (A->prof) {                                                                       \
            double t1_ = hn_seconds();                                                       \
            A->prof[slot] += t1_ - t0;                                                       \
            t0 = t1_;                                                                        \
        }                                                                                    \
    } while (0)

void hn_decoder_forward(const hn_net *net, const float *params, hn_acts *A, const float *emb)
{
    const hiner_plan *pl = &net->plan;
    const int n = pl->n_stages;
    size_t h, w;
    size_t hw = stage_hw(pl, 0, &h, &w);
    if (A->training && emb != A->emb) memcpy(A->emb, emb, A->embed_len * sizeof(float));
    /* 1x1 conv from the embedding, GELU */
    double t0 = A->prof ? hn_seconds() : 0;
    hn_conv_forward_rows(&A->x, A->z0, emb, params + net->t[HN_T_CONV0_W].off,
                         params + net->t[HN_T_CONV0_B].off, (size_t)pl->embed_channels, h, w,
                         (size_t)pl->widths[0], 1, A->rows_a[0]);
    par_gelu_fwd(&A->x, A->a[0], A->z0, (size_t)pl->widths[0] * hw);
    PROF(0);
    for (int i = 0; i < n; i++) {
        const size_t s = (size_t)pl->strides[i], k = (size_t)pl->kernels[i];
        const size_t cin = (size_t)pl->widths[i], cout = (size_t)pl->widths[i + 1];
        hn_conv_forward_rows(&A->x, A->ys[i], A->a[i],
                             params + net->t[HN_T_STAGE0_W + 2 * i].off,
                             params + net->t[HN_T_STAGE0_W + 2 * i + 1].off, cin, h, w,
                             cout * s * s, k, A->rows_y[i]);
        pixel_shuffle_gelu_forward(&A->x, A->a[i + 1], A->ys[i], cout, h, w, s, A->rows_y[i]);
        h *= s;
        w *= s;
        PROF(1 + i);
    }
    hn_conv_forward_rows(&A->x, A->o, A->a[n], params + net->t[HN_T_HEAD_W(n)].off,
                         params + net->t[HN_T_HEAD_B(n)].off, (size_t)pl->widths[n], h, w, 1, 3,
                         A->rows_out);
    tanh_out_forward(A->out, A->o, h * w);
    PROF(1 + n);
}

void hn_decoder_backward(const hn_net *net, const float *params, float *grads, hn_acts *A)
{
    const hiner_plan *pl = &net->plan;
    const int n = pl->n_stages;
    size_t h, w;
    stage_hw(pl, n, &h, &w);
    const size_t band = h * w;
    double t0 = A->prof ? hn_seconds() : 0;
    /* tanh output: d o = dout * 0.5 (1 - t^2), into y (free now) */
    float *dO = A->y;
    memset(dO, 0, band * sizeof(float));
    tanh_out_backward(dO, A->out, A->dout, band);
    /* head conv: da_n into d0 (overwritten) */
    float *da = A->d0, *dy = A->d1;
    hn_conv_backward_rows(&A->x, da, 0, grads + net->t[HN_T_HEAD_W(n)].off,
                          grads + net->t[HN_T_HEAD_B(n)].off, dO, A->a[n],
                          params + net->t[HN_T_HEAD_W(n)].off, (size_t)pl->widths[n], h, w, 1,
                          3, A->rows_out, A->rows_a[n]);
    PROF(1 + n);
    for (int i = n - 1; i >= 0; i--) {
        const size_t s = (size_t)pl->strides[i], k = (size_t)pl->kernels[i];
        const size_t cin = (size_t)pl->widths[i], cout = (size_t)pl->widths[i + 1];
        h /= s;
        w /= s;
        /* GELU and PixelShuffle in one pass: dy = unshuffle(da) * GELU'(ys) */
        pixel_shuffle_gelu_backward(&A->x, dy, da, A->ys[i], cout, h, w, s, A->rows_y[i]);
        /* conv: weights, bias, and the input gradient into da (overwritten) */
        hn_conv_backward_rows(&A->x, da, 0, grads + net->t[HN_T_STAGE0_W + 2 * i].off,
                              grads + net->t[HN_T_STAGE0_W + 2 * i + 1].off, dy, A->a[i],
                              params + net->t[HN_T_STAGE0_W + 2 * i].off, cin, h, w,
                              cout * s * s, k, A->rows_y[i], A->rows_a[i]);
        PROF(1 + i);
    }
    /* GELU after conv0, then conv0 back to the embedding */
    par_gelu_bwd(&A->x, da, A->z0, (size_t)pl->widths[0] * h * w);
    /* da is only meaningful on rows_a[0]: zero elsewhere before it is summed */
    for (size_t c = 0; c < (size_t)pl->widths[0]; c++) {
        memset(da + c * h * w, 0, A->rows_a[0].y0 * w * sizeof(float));
        memset(da + (c * h + A->rows_a[0].y1) * w, 0, (h - A->rows_a[0].y1) * w * sizeof(float));
    }
    hn_conv_backward(&A->x, A->demb, 0, grads + net->t[HN_T_CONV0_W].off,
                     grads + net->t[HN_T_CONV0_B].off, da, A->emb,
                     params + net->t[HN_T_CONV0_W].off, (size_t)pl->embed_channels, h, w,
                     (size_t)pl->widths[0], 1);
    PROF(0);
}
