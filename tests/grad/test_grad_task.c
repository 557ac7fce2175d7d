/*
 * test_grad_task.c - the classifier's layers against central finite
 * differences: linear over a batch of tokens, LayerNorm, the attention core and a whole
 * MHSA block, softmax cross-entropy, dropout, the CAF 1x2 token convolution, the
 * group-wise spectral embedding, ASW, and the whole SpectralFormer (CAF + ASW, invalid
 * pixels, with and without dropout) end to end. The probed scalar is f = sum_i r_i out_i with a fixed random r (d f/d out = r),
 * or the training loss itself. Forward passes are also checked against explicit loops
 * written from the PyTorch definitions. Tolerances are stated per check: linear maps
 * are exact up to float rounding; nonlinear ones use eps 1e-3 (error O(eps^2)).
 * Every probe also asserts that the slope is well above its tolerance, so a zero
 * gradient cannot pass.
 */
#include <math.h>
#include <string.h>

#include "../../core/task/task.h"
#include "../check.h"

#include "fd.h"

/* ---- linear over a batch of tokens (B*N rows), as the transformer uses it ---- */
typedef struct {
    float *x, *w, *b, *y, *r;
    size_t R, IN, OUT;
} lin_ctx;

static double lin_f(void *vc)
{
    lin_ctx *c = vc;
    linear_forward(c->y, c->x, c->w, c->b, c->R, c->IN, c->OUT);
    return dotd(c->y, c->r, c->R * c->OUT);
}

static void test_linear_batch(void)
{
    lin_ctx c = {0};
    c.R = 4 * 9, c.IN = 16, c.OUT = 12; /* 4 samples x 9 tokens */
    c.x = rnd(c.R * c.IN, 1), c.w = rnd(c.OUT * c.IN, 0.5f), c.b = rnd(c.OUT, 0.5f);
    c.y = zeros(c.R * c.OUT), c.r = rnd(c.R * c.OUT, 1);
    float *gx = zeros(c.R * c.IN), *gw = zeros(c.OUT * c.IN), *gb = zeros(c.OUT);
    linear_backward(gx, gw, gb, c.r, c.x, c.w, c.R, c.IN, c.OUT);
    fd_check("linear(B*N) fd dinp", lin_f, &c, c.x, gx, c.R * c.IN, 1e-2f, 2e-3, 2e-3, 200);
    fd_check("linear(B*N) fd dweight", lin_f, &c, c.w, gw, c.OUT * c.IN, 1e-2f, 2e-3, 2e-3, 200);
    fd_check("linear(B*N) fd dbias", lin_f, &c, c.b, gb, c.OUT, 1e-2f, 2e-3, 2e-3, 200);
    hn_free(c.x), hn_free(c.w), hn_free(c.b), hn_free(c.y), hn_free(c.r);
    hn_free(gx), hn_free(gw), hn_free(gb);
}

/* ---- LayerNorm ---- */
typedef struct {
    float *x, *w, *b, *y, *mean, *rstd, *r;
    size_t R, D;
} ln_ctx;

static double ln_f(void *vc)
{
    ln_ctx *c = vc;
    layernorm_forward(c->y, c->mean, c->rstd, c->x, c->w, c->b, c->R, c->D);
    return dotd(c->y, c->r, c->R * c->D);
}

static void test_layernorm(void)
{
    ln_ctx c = {0};
    c.R = 7, c.D = 24;
    c.x = rnd(c.R * c.D, 2.0f), c.w = rnd(c.D, 1.0f), c.b = rnd(c.D, 1.0f);
    for (size_t i = 0; i < c.R * c.D; i++) c.x[i] += (float)(i % 3); /* nonzero means */
    c.y = zeros(c.R * c.D), c.mean = zeros(c.R), c.rstd = zeros(c.R), c.r = rnd(c.R * c.D, 1);
    ln_f(&c);
    /* forward against the definition (biased variance, eps 1e-5) */
    float *ref = zeros(c.R * c.D);
    for (size_t r = 0; r < c.R; r++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < c.D; i++) m += c.x[r * c.D + i];
        m /= c.D;
        for (size_t i = 0; i < c.D; i++) v += (c.x[r * c.D + i] - m) * (c.x[r * c.D + i] - m);
        v /= c.D;
        for (size_t i = 0; i < c.D; i++)
            ref[r * c.D + i] = (float)((c.x[r * c.D + i] - m) / sqrt(v + 1e-5) * c.w[i] + c.b[i]);
    }
    check_close("layernorm fwd", c.y, ref, c.R * c.D, 1e-5, 1e-5);
    float *gx = rnd(c.R * c.D, 0.1f), *gw = zeros(c.D), *gb = zeros(c.D);
    float *gx0 = zeros(c.R * c.D);
    memcpy(gx0, gx, c.R * c.D * sizeof(float));
    layernorm_backward(gx, gw, gb, c.r, c.x, c.w, c.mean, c.rstd, c.R, c.D);
    for (size_t i = 0; i < c.R * c.D; i++) gx[i] -= gx0[i]; /* it accumulated */
    fd_check("layernorm fd dinp", ln_f, &c, c.x, gx, c.R * c.D, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("layernorm fd dweight", ln_f, &c, c.w, gw, c.D, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("layernorm fd dbias", ln_f, &c, c.b, gb, c.D, 1e-3f, 1e-3, 5e-3, 200);
    float *all[] = {c.x, c.w, c.b, c.y, c.mean, c.rstd, c.r, ref, gx, gw, gb, gx0};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) hn_free(all[i]);
}

/* ---- attention core, and a whole MHSA block x + proj(attn(qkv(LN(x)))) ---- */
typedef struct {
    float *qkv, *out, *att, *r;
    size_t B, N, NH, HS;
    /* block */
    float *x, *lnw, *lnb, *ln, *mean, *rstd, *wqkv, *wp, *bp, *y;
} att_ctx;

static double att_f(void *vc)
{
    att_ctx *c = vc;
    attention_forward(c->out, c->att, c->qkv, c->B, c->N, c->NH, c->HS);
    return dotd(c->out, c->r, c->B * c->N * c->NH * c->HS);
}

static double mhsa_f(void *vc)
{
    att_ctx *c = vc;
    const size_t D = c->NH * c->HS, R = c->B * c->N;
    layernorm_forward(c->ln, c->mean, c->rstd, c->x, c->lnw, c->lnb, R, D);
    linear_forward(c->qkv, c->ln, c->wqkv, NULL, R, D, 3 * D);
    attention_forward(c->out, c->att, c->qkv, c->B, c->N, c->NH, c->HS);
    linear_forward(c->y, c->out, c->wp, c->bp, R, D, D);
    for (size_t i = 0; i < R * D; i++) c->y[i] += c->x[i];
    return dotd(c->y, c->r, R * D);
}

static void test_attention(void)
{
    att_ctx c = {0};
    c.B = 2, c.N = 6, c.NH = 2, c.HS = 4;
    const size_t D = c.NH * c.HS, R = c.B * c.N;
    c.qkv = rnd(R * 3 * D, 1.5f), c.out = zeros(R * D), c.att = zeros(c.B * c.NH * c.N * c.N);
    c.r = rnd(R * D, 1.0f);
    att_f(&c);
    /* forward against softmax(Q K^T / sqrt(HS)) V written out per element */
    float *ref = zeros(R * D);
    for (size_t b = 0; b < c.B; b++)
        for (size_t h = 0; h < c.NH; h++)
            for (size_t i = 0; i < c.N; i++) {
                double s[16], mx = -1e30, sum = 0;
                for (size_t j = 0; j < c.N; j++) {
                    double d = 0;
                    for (size_t k = 0; k < c.HS; k++)
                        d += (double)c.qkv[(b * c.N + i) * 3 * D + h * c.HS + k] *
                             c.qkv[(b * c.N + j) * 3 * D + D + h * c.HS + k];
                    s[j] = d / sqrt((double)c.HS);
                    mx = fmax(mx, s[j]);
                }
                for (size_t j = 0; j < c.N; j++) sum += (s[j] = exp(s[j] - mx));
                for (size_t k = 0; k < c.HS; k++) {
                    double o = 0;
                    for (size_t j = 0; j < c.N; j++)
                        o += s[j] / sum * c.qkv[(b * c.N + j) * 3 * D + 2 * D + h * c.HS + k];
                    ref[(b * c.N + i) * D + h * c.HS + k] = (float)o;
                }
            }
    check_close("attention fwd", c.out, ref, R * D, 2e-6, 2e-6);
    float *g = zeros(R * 3 * D), *wk = zeros(c.N * c.N);
    attention_backward(g, c.r, c.qkv, c.att, c.B, c.N, c.NH, c.HS, wk);
    fd_check("attention fd dqkv", att_f, &c, c.qkv, g, R * 3 * D, 1e-3f, 1e-3, 5e-3, 300);

    /* the block, every parameter */
    c.x = rnd(R * D, 1.0f), c.lnw = rnd(D, 1.0f), c.lnb = rnd(D, 0.5f);
    c.ln = zeros(R * D), c.mean = zeros(R), c.rstd = zeros(R);
    c.wqkv = rnd(3 * D * D, 0.7f), c.wp = rnd(D * D, 0.5f), c.bp = rnd(D, 0.5f), c.y = zeros(R * D);
    mhsa_f(&c);
    float *gx = zeros(R * D), *glw = zeros(D), *glb = zeros(D), *gq = zeros(3 * D * D);
    float *gp = zeros(D * D), *gbp = zeros(D), *dout = zeros(R * D), *dqkv = zeros(R * 3 * D);
    float *dln = zeros(R * D);
    memcpy(gx, c.r, R * D * sizeof(float)); /* residual */
    linear_backward(dout, gp, gbp, c.r, c.out, c.wp, R, D, D);
    attention_backward(dqkv, dout, c.qkv, c.att, c.B, c.N, c.NH, c.HS, wk);
    linear_backward(dln, gq, NULL, dqkv, c.ln, c.wqkv, R, D, 3 * D);
    layernorm_backward(gx, glw, glb, dln, c.x, c.lnw, c.mean, c.rstd, R, D);
    fd_check("mhsa fd dx", mhsa_f, &c, c.x, gx, R * D, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("mhsa fd dln_w", mhsa_f, &c, c.lnw, glw, D, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("mhsa fd dln_b", mhsa_f, &c, c.lnb, glb, D, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("mhsa fd dqkv_w", mhsa_f, &c, c.wqkv, gq, 3 * D * D, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("mhsa fd dproj_w", mhsa_f, &c, c.wp, gp, D * D, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("mhsa fd dproj_b", mhsa_f, &c, c.bp, gbp, D, 1e-3f, 1e-3, 5e-3, 200);
    float *all[] = {c.qkv, c.out, c.att, c.r, ref, g, wk, c.x, c.lnw, c.lnb, c.ln, c.mean,
                    c.rstd, c.wqkv, c.wp, c.bp, c.y, gx, glw, glb, gq, gp, gbp, dout, dqkv, dln};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) hn_free(all[i]);
}

/* ---- softmax cross-entropy ---- */
typedef struct {
    float *z, *p;
    int32_t *t;
    size_t B, K;
} ce_ctx;

static double ce_f(void *vc)
{
    ce_ctx *c = vc;
    return crossentropy_forward(c->p, c->z, c->t, c->B, c->K) / (double)c->B;
}

static void test_crossentropy(void)
{
    ce_ctx c = {0};
    c.B = 5, c.K = 4;
    c.z = rnd(c.B * c.K, 3.0f), c.p = zeros(c.B * c.K);
    int32_t t[5] = {0, 3, 1, 2, 3};
    c.t = t;
    double f = ce_f(&c);
    double ref = 0;
    for (size_t b = 0; b < c.B; b++) {
        double s = 0;
        for (size_t k = 0; k < c.K; k++) s += exp(c.z[b * c.K + k]);
        ref += -log(exp(c.z[b * c.K + t[b]]) / s);
    }
    CHECK_MSG(fabs(f - ref / c.B) < 1e-6, "cross-entropy %g vs %g", f, ref / c.B);
    float *g = zeros(c.B * c.K);
    crossentropy_backward(g, c.p, c.t, c.B, c.K, 1.0f / (float)c.B);
    fd_check("crossentropy fd dlogits", ce_f, &c, c.z, g, c.B * c.K, 1e-3f, 2e-4, 5e-3, 100);
    hn_free(c.z), hn_free(c.p), hn_free(g);
}

/* ---- dropout: the same mask at every evaluation, so f is linear in the input ---- */
typedef struct {
    float *x, *y, *r;
    uint8_t *mask;
    size_t n;
    float p;
    hn_rng rng;
} drop_ctx;

static double drop_f(void *vc)
{
    drop_ctx *c = vc;
    hn_rng r = c->rng;
    dropout_forward(c->y, c->mask, c->x, c->n, c->p, &r);
    return dotd(c->y, c->r, c->n);
}

static void test_dropout(void)
{
    drop_ctx c = {0};
    c.n = 4000, c.p = 0.25f;
    c.x = rnd(c.n, 1), c.y = zeros(c.n), c.r = rnd(c.n, 1), c.mask = malloc(c.n);
    hn_rng_seed(&c.rng, 5);
    drop_f(&c);
    size_t kept = 0;
    int bad = 0;
    for (size_t i = 0; i < c.n; i++) {
        kept += c.mask[i];
        bad += c.y[i] != (c.mask[i] ? c.x[i] * (1.0f / 0.75f) : 0.0f);
    }
    /* 3000 expected, binomial sd 27 */
    CHECK_MSG(bad == 0 && kept > 2880 && kept < 3120, "dropout: %d bad values, %zu kept", bad,
              kept);
    float *g = zeros(c.n);
    dropout_backward(g, c.mask, c.r, c.n, c.p);
    fd_check("dropout fd dinp", drop_f, &c, c.x, g, c.n, 1e-2f, 2e-3, 2e-3, 300);
    hn_free(c.x), hn_free(c.y), hn_free(c.r), hn_free(g), free(c.mask);
}

/* ---- CAF: Conv2d(N, N, [1,2]) over cat([x, skip], dim=3) ---- */
typedef struct {
    float *x, *s, *w, *b, *y, *r;
    size_t B, N, D;
} caf_ctx;

static double caf_f(void *vc)
{
    caf_ctx *c = vc;
    caf_forward(c->y, c->x, c->s, c->w, c->b, c->B, c->N, c->D);
    return dotd(c->y, c->r, c->B * c->N * c->D);
}

static void test_caf(void)
{
    caf_ctx c = {0};
    c.B = 3, c.N = 7, c.D = 5;
    const size_t n = c.B * c.N * c.D;
    c.x = rnd(n, 1), c.s = rnd(n, 1), c.w = rnd(2 * c.N * c.N, 0.5f), c.b = rnd(c.N, 0.5f);
    c.y = zeros(n), c.r = rnd(n, 1);
    caf_f(&c);
    /* PyTorch's conv: in (B, N, D, 2), weight (N, N, 1, 2) = our w[k][o][i] */
    float *ref = zeros(n);
    for (size_t b = 0; b < c.B; b++)
        for (size_t o = 0; o < c.N; o++)
            for (size_t d = 0; d < c.D; d++) {
                double a = c.b[o];
                for (size_t i = 0; i < c.N; i++)
                    a += (double)c.w[o * c.N + i] * c.x[(b * c.N + i) * c.D + d] +
                         (double)c.w[c.N * c.N + o * c.N + i] * c.s[(b * c.N + i) * c.D + d];
                ref[(b * c.N + o) * c.D + d] = (float)a;
            }
    check_close("caf fwd", c.y, ref, n, 1e-5, 1e-5);
    float *gx = zeros(n), *gs = zeros(n), *gw = zeros(2 * c.N * c.N), *gb = zeros(c.N);
    caf_backward(gx, gs, gw, gb, c.r, c.x, c.s, c.w, c.B, c.N, c.D);
    fd_check("caf fd dx", caf_f, &c, c.x, gx, n, 1e-2f, 2e-3, 2e-3, 200);
    fd_check("caf fd dskip", caf_f, &c, c.s, gs, n, 1e-2f, 2e-3, 2e-3, 200);
    fd_check("caf fd dweight", caf_f, &c, c.w, gw, 2 * c.N * c.N, 1e-2f, 2e-3, 2e-3, 200);
    fd_check("caf fd dbias", caf_f, &c, c.b, gb, c.N, 1e-2f, 2e-3, 2e-3, 200);
    float *all[] = {c.x, c.s, c.w, c.b, c.y, c.r, ref, gx, gs, gw, gb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) hn_free(all[i]);
}

/* ---- group-wise spectral embedding ---- */
typedef struct {
    float *x, *X, *w, *b, *y, *r;
    size_t B, P, C, G, S, T, D;
} gse_ctx;

static double gse_f(void *vc)
{
    gse_ctx *c = vc;
    gse_forward(c->y, c->X, c->x, c->w, c->b, c->B, c->P, c->C, c->G, c->S, c->T, c->D);
    return dotd(c->y, c->r, c->B * c->T * c->D);
}

/* Token t = Linear(the patches of bands t*S + S/2 - G/2 .. + G/2), zeros beyond the ends:
 * S = 1 is a token per band; S = 3 with G = 5 a token every third band (8 bands, 3 tokens,
 * the last group cut by the end). */
static void test_gse(size_t S, size_t G, size_t C)
{
    gse_ctx c = {0};
    c.B = 2, c.P = 9, c.C = C, c.G = G, c.S = S, c.T = (C + S - 1) / S, c.D = 5;
    printf("gse, stride %zu, group %zu, %zu bands:\n", S, G, C);
    const size_t GP = c.G * c.P, ni = c.B * c.P * c.C, no = c.B * c.T * c.D;
    c.x = rnd(ni, 1), c.X = zeros(c.B * c.T * GP), c.w = rnd(c.D * GP, 0.5f), c.b = rnd(c.D, 0.5f);
    c.y = zeros(no), c.r = rnd(no, 1);
    gse_f(&c);
    float *ref = zeros(no);
    for (size_t b = 0; b < c.B; b++)
        for (size_t t = 0; t < c.T; t++)
            for (size_t o = 0; o < c.D; o++) {
                double a = c.b[o];
                for (size_t g = 0; g < c.G; g++) {
                    long band = (long)(t * S + S / 2) + (long)g - (long)(G / 2);
                    if (band < 0 || band >= (long)c.C) continue;
                    for (size_t p = 0; p < c.P; p++)
                        a += (double)c.w[o * GP + g * c.P + p] * c.x[(b * c.P + p) * c.C + band];
                }
                ref[(b * c.T + t) * c.D + o] = (float)a;
            }
    check_close("gse fwd", c.y, ref, no, 1e-5, 1e-5);
    float *gx = zeros(ni), *gw = zeros(c.D * GP), *gb = zeros(c.D), *wk = zeros(c.B * c.T * GP);
    gse_backward(gx, gw, gb, c.r, c.X, c.w, c.B, c.P, c.C, c.G, c.S, c.T, c.D, wk);
    fd_check("gse fd dinp", gse_f, &c, c.x, gx, ni, 1e-2f, 2e-3, 2e-3, 200);
    fd_check("gse fd dweight", gse_f, &c, c.w, gw, c.D * GP, 1e-2f, 2e-3, 2e-3, 200);
    fd_check("gse fd dbias", gse_f, &c, c.b, gb, c.D, 1e-2f, 2e-3, 2e-3, 200);
    /* without the input gradient (no ASW in front) the weight gradients are the same */
    float *gw2 = zeros(c.D * GP), *gb2 = zeros(c.D);
    gse_backward(NULL, gw2, gb2, c.r, c.X, c.w, c.B, c.P, c.C, c.G, c.S, c.T, c.D, NULL);
    check_close("gse dweight without dinp", gw2, gw, c.D * GP, 0, 0);
    float *all[] = {c.x, c.X, c.w, c.b, c.y, c.r, ref, gx, gw, gb, wk, gw2, gb2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) hn_free(all[i]);
}

/* ---- ASW: scale MLP and band MLP together ---- */
typedef struct {
    float *x, *w1, *b1, *w2, *b2, *m1, *c1, *m2, *c2;
    float *s, *zp, *z, *xs, *h, *g, *y, *r;
    size_t R, C, H, M;
} asw_ctx;

static double asw_f(void *vc)
{
    asw_ctx *c = vc;
    asw_scale_forward(c->s, c->zp, c->z, c->w1, c->b1, c->w2, c->b2, c->C, c->H);
    asw_forward(c->y, c->xs, c->h, c->g, c->x, c->s, c->m1, c->c1, c->m2, c->c2, c->R, c->C,
                c->M);
    return dotd(c->y, c->r, c->R * c->C);
}

static void test_asw(void)
{
    asw_ctx c = {0};
    c.R = 10, c.C = 12, c.H = 5, c.M = 3;
    const size_t R = c.R, C = c.C, H = c.H, M = c.M;
    c.x = rnd(R * C, 1), c.w1 = rnd(H, 1), c.b1 = rnd(H, 1), c.w2 = rnd(C * H, 0.5f);
    c.b2 = rnd(C, 0.3f), c.m1 = rnd(M * C, 0.5f), c.c1 = rnd(M, 0.5f), c.m2 = rnd(C * M, 0.5f);
    c.c2 = rnd(C, 0.5f);
    c.s = zeros(C), c.zp = zeros(H), c.z = zeros(H), c.xs = zeros(R * C), c.h = zeros(R * M);
    c.g = zeros(R * M), c.y = zeros(R * C), c.r = rnd(R * C, 1);
    asw_f(&c);
    /* forward against the definition, one pixel: y = xs + m2 GELU(m1 xs + c1) + c2 */
    {
        double err = 0;
        for (size_t k = 0; k < C; k++) {
            double sk = 1.0 + c.b2[k];
            for (size_t j = 0; j < H; j++) {
                double zp = c.w1[j] + c.b1[j];
                sk += c.w2[k * H + j] * 0.5 * zp * (1.0 + erf(zp / sqrt(2.0)));
            }
            err = fmax(err, fabs(sk - c.s[k]));
        }
        const size_t r = 3;
        for (size_t k = 0; k < C; k++) {
            double o = c.c2[k] + c.x[r * C + k] * c.s[k];
            for (size_t m = 0; m < M; m++) {
                double hm = c.c1[m];
                for (size_t i = 0; i < C; i++) hm += c.m1[m * C + i] * c.x[r * C + i] * c.s[i];
                o += c.m2[k * M + m] * 0.5 * hm * (1.0 + erf(hm / sqrt(2.0)));
            }
            err = fmax(err, fabs(o - c.y[r * C + k]));
        }
        CHECK_MSG(err < 1e-5, "asw forward differs from its definition by %g", err);
        printf("%-28s max diff %.3g\n", "asw fwd", err);
    }
    float *gx = zeros(R * C), *ds = zeros(C), *gm1 = zeros(M * C), *gc1 = zeros(M);
    float *gm2 = zeros(C * M), *gc2 = zeros(C), *gw1 = zeros(H), *gb1 = zeros(H);
    float *gw2 = zeros(C * H), *gb2 = zeros(C), *dout = zeros(R * C), *wk = zeros(R * M);
    memcpy(dout, c.r, R * C * sizeof(float));
    asw_backward(gx, ds, gm1, gc1, gm2, gc2, dout, c.xs, c.h, c.g, c.x, c.s, c.m1, c.m2, R, C,
                 M, wk);
    asw_scale_backward(gw1, gb1, gw2, gb2, ds, c.zp, c.z, c.w2, C, H);
    fd_check("asw fd dinp", asw_f, &c, c.x, gx, R * C, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dm1", asw_f, &c, c.m1, gm1, M * C, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dc1", asw_f, &c, c.c1, gc1, M, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dm2", asw_f, &c, c.m2, gm2, C * M, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dc2", asw_f, &c, c.c2, gc2, C, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dscale_w1", asw_f, &c, c.w1, gw1, H, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dscale_b1", asw_f, &c, c.b1, gb1, H, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dscale_w2", asw_f, &c, c.w2, gw2, C * H, 1e-3f, 1e-3, 5e-3, 200);
    fd_check("asw fd dscale_b2", asw_f, &c, c.b2, gb2, C, 1e-3f, 1e-3, 5e-3, 200);
    float *all[] = {c.x,  c.w1, c.b1, c.w2, c.b2, c.m1, c.m2, c.c1, c.c2, c.s, c.zp, c.z,
                    c.xs, c.h,  c.g,  c.y,  c.r,  gx,   ds,   gm1,  gc1,  gm2, gc2,  gw1,
                    gb1,  gw2,  gb2,  dout, wk};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) hn_free(all[i]);
}

/* ---- the whole SpectralFormer with CAF and ASW: loss = CE / B + beta L_R ---- */
typedef struct {
    hn_sf_cfg cfg;
    hn_sf_params w, g;
    float *params, *grads;
    hn_sf_acts a;
    size_t B;
    float ce_scale, rec_scale;
    hn_rng drop_rng; /* the same dropout masks at every evaluation */
} net_ctx;

static double net_f(void *vc)
{
    net_ctx *c = vc;
    hn_rng r = c->drop_rng;
    double rec = hn_sf_forward(&c->cfg, &c->w, &c->a, c->B, &r);
    double ce = crossentropy_forward(c->a.probs, c->a.logits, c->a.target, c->B, c->cfg.K);
    return c->ce_scale * ce + c->rec_scale * rec;
}

static void test_network(float drop, size_t stride)
{
    net_ctx c = {0};
    hn_sf_cfg *k = &c.cfg;
    k->C = 7, k->K = 3, k->P = 3, k->G = 3, k->D = 8, k->depth = 4, k->NH = 2, k->MLP = 4;
    k->S = stride, k->T = (k->C + stride - 1) / stride;
    k->caf = 1, k->asw = 1, k->AH = 4, k->AM = 3, k->drop = drop;
    hn_rng_seed(&c.drop_rng, 99);
    printf("network, dropout %.1f, band stride %zu:\n", (double)drop, stride);
    const size_t N = k->T + 1;
    c.B = 3;
    size_t n_asw, n = hn_sf_count(k, &n_asw);
    c.params = zeros(n), c.grads = zeros(n);
    hn_sf_bind(&c.w, c.params, k);
    hn_sf_bind(&c.g, c.grads, k);
    hn_sf_init(&c.w, k, &rng);
    /* ASW's last layers start at zero: move them so every path carries a gradient; and
     * the positions at a smaller scale so the class token's softmax is not saturated */
    for (size_t i = 0; i < k->C * k->AH; i++) c.w.as2_w[i] = 0.3f * (2 * hn_rng_uniform(&rng) - 1);
    for (size_t i = 0; i < k->C * k->AM; i++) c.w.am2_w[i] = 0.3f * (2 * hn_rng_uniform(&rng) - 1);
    for (size_t i = 0; i < N * k->D; i++) c.w.pos[i] *= 0.3f;
    CHECK(hn_sf_acts_init(&c.a, k, c.B, 1) == HINER_OK);
    const size_t PP = k->P * k->P;
    for (size_t i = 0; i < c.B * PP * k->C; i++) c.a.inp[i] = hn_rng_uniform(&rng);
    for (size_t i = 0; i < c.B * PP; i++) c.a.mask[i] = (i % 4) != 1; /* some invalid pixels */
    for (size_t i = 0; i < c.B * PP; i++)
        if (!c.a.mask[i]) memset(c.a.inp + i * k->C, 0, k->C * sizeof(float));
    for (size_t b = 0; b < c.B; b++) c.a.target[b] = (int32_t)(b % k->K);
    c.ce_scale = 1.0f / (float)c.B;
    c.rec_scale = 2.5f / (float)(c.B * PP * k->C);
    net_f(&c);
    hn_sf_backward(k, &c.w, &c.g, &c.a, c.B, c.ce_scale, c.rec_scale);
    /* every tensor of the slab, by name */
    struct {
        const char *name;
        float *p, *g;
        size_t n;
    } t[] = {
        {"net fd asw scale w1", c.w.as1_w, c.g.as1_w, k->AH},
        {"net fd asw scale w2", c.w.as2_w, c.g.as2_w, k->C * k->AH},
        {"net fd asw mlp m1", c.w.am1_w, c.g.am1_w, k->AM * k->C},
        {"net fd asw mlp m2", c.w.am2_w, c.g.am2_w, k->C * k->AM},
        {"net fd gse weight", c.w.gse_w, c.g.gse_w, k->D * k->G * PP},
        {"net fd class token", c.w.cls, c.g.cls, k->D},
        {"net fd positions", c.w.pos, c.g.pos, N * k->D},
        {"net fd L0 ln1", c.w.L[0].ln1_w, c.g.L[0].ln1_w, k->D},
        {"net fd L0 qkv", c.w.L[0].qkv_w, c.g.L[0].qkv_w, 3 * k->D * k->D},
        {"net fd L1 proj", c.w.L[1].proj_w, c.g.L[1].proj_w, k->D * k->D},
        {"net fd L1 fc1", c.w.L[1].fc1_w, c.g.L[1].fc1_w, k->MLP * k->D},
        {"net fd L2 caf weight", c.w.L[2].caf_w, c.g.L[2].caf_w, 2 * N * N},
        {"net fd L3 caf weight", c.w.L[3].caf_w, c.g.L[3].caf_w, 2 * N * N},
        {"net fd L3 fc2", c.w.L[3].fc2_w, c.g.L[3].fc2_w, k->D * k->MLP},
        {"net fd L3 ln2 bias", c.w.L[3].ln2_b, c.g.L[3].ln2_b, k->D},
        {"net fd final ln", c.w.lnf_w, c.g.lnf_w, k->D},
        {"net fd head", c.w.head_w, c.g.head_w, k->K * k->D},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        fd_check(t[i].name, net_f, &c, t[i].p, t[i].g, t[i].n, 1e-3f, 2e-4, 2e-2, 60);
    /* a CAF bias adds the same value to every feature of a token, which the next
     * LayerNorm removes (and the residual path reaches only LayerNorms): its gradient is
     * zero up to rounding, in the reference model too (checked in the CAF test alone) */
    double gb = 0;
    for (size_t i = 0; i < N; i++) gb = fmax(gb, fabs(c.g.L[3].caf_b[i]));
    CHECK_MSG(gb < 1e-5, "CAF bias gradient %g, expected 0 (LayerNorm invariance)", gb);
    hn_sf_acts_free(&c.a);
    hn_free(c.params), hn_free(c.grads);
}

int main(void)
{
    hn_rng_seed(&rng, 7);
    test_linear_batch();
    test_layernorm();
    test_attention();
    test_crossentropy();
    test_dropout();
    test_caf();
    test_gse(1, 3, 6);
    test_gse(3, 5, 8);
    test_asw();
    test_network(0.0f, 1);
    test_network(0.2f, 1); /* dropout at the embedding, attention output, MLP hidden and output */
    test_network(0.0f, 2); /* a token every second band: 4 tokens of 7 bands */
    return check_exit();
}
