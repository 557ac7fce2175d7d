/*
 * test_grad_layers.c - every layer's backward against central finite differences, and the
 * fast kernels against the _ref loops. The scalar probed is f = sum_i r_i * out_i with a
 * fixed random r, so d f / d out = r. Tolerances are stated per check: linear layers are
 * exact up to float rounding (small eps error), nonlinear ones use eps = 1e-3 (O(eps^2)).
 */
#include <math.h>
#include <string.h>

#include "../../core/nn/nn.h"
#include "../check.h"

#include "fd.h"

/* ---- conv2d ---- */
typedef struct {
    float *out, *inp, *w, *b, *r;
    size_t C, H, W, OC, K;
    float *wksp;
} conv_ctx;

static double conv_f(void *vc)
{
    conv_ctx *c = vc;
    conv2d_forward(c->out, c->inp, c->w, c->b, c->C, c->H, c->W, c->OC, c->K, c->wksp);
    return dotd(c->out, c->r, c->OC * c->H * c->W);
}

/* tol: fast vs reference; float sums over H*W pixels (dweight) need it to grow with H*W. */
static void test_conv(size_t C, size_t H, size_t W, size_t OC, size_t K, double tol)
{
    char name[64];
    conv_ctx c = {0};
    c.C = C, c.H = H, c.W = W, c.OC = OC, c.K = K;
    size_t ni = C * H * W, no = OC * H * W, nw = OC * C * K * K;
    c.inp = rnd(ni, 1.0f);
    c.w = rnd(nw, 0.5f);
    c.b = rnd(OC, 0.5f);
    c.r = rnd(no, 1.0f);
    c.out = zeros(no);
    c.wksp = zeros(conv2d_wksp_floats(C, H, W, K));
    float *ref = zeros(no);
    /* forward: fast vs reference */
    conv2d_forward(c.out, c.inp, c.w, c.b, C, H, W, OC, K, c.wksp);
    conv2d_forward_ref(ref, c.inp, c.w, c.b, C, H, W, OC, K);
    snprintf(name, sizeof name, "conv%zu fwd %zux%zux%zu", K, C, H, W);
    check_close(name, c.out, ref, no, 1e-5, 1e-5);
    /* backward: fast vs reference, both accumulating onto a nonzero start */
    float *di = rnd(ni, 0.1f), *dw = rnd(nw, 0.1f), *db = rnd(OC, 0.1f);
    float *di2 = zeros(ni), *dw2 = zeros(nw), *db2 = zeros(OC);
    memcpy(di2, di, ni * sizeof(float));
    memcpy(dw2, dw, nw * sizeof(float));
    memcpy(db2, db, OC * sizeof(float));
    conv2d_backward(di, dw, db, c.r, c.inp, c.w, C, H, W, OC, K, c.wksp);
    conv2d_backward_ref(di2, dw2, db2, c.r, c.inp, c.w, C, H, W, OC, K);
    snprintf(name, sizeof name, "conv%zu bwd dinp", K);
    check_close(name, di, di2, ni, tol, tol);
    snprintf(name, sizeof name, "conv%zu bwd dweight", K);
    check_close(name, dw, dw2, nw, tol, tol);
    snprintf(name, sizeof name, "conv%zu bwd dbias", K);
    check_close(name, db, db2, OC, tol, tol);
    /* finite differences (f is linear in each argument: eps error is rounding only) */
    float *gi = zeros(ni), *gw = zeros(nw), *gb = zeros(OC);
    conv2d_backward(gi, gw, gb, c.r, c.inp, c.w, C, H, W, OC, K, c.wksp);
    snprintf(name, sizeof name, "conv%zu fd dinp", K);
    fd_check(name, conv_f, &c, c.inp, gi, ni, 1e-2f, 2e-3, 2e-3, 200);
    snprintf(name, sizeof name, "conv%zu fd dweight", K);
    fd_check(name, conv_f, &c, c.w, gw, nw, 1e-2f, 2e-3, 2e-3, 200);
    snprintf(name, sizeof name, "conv%zu fd dbias", K);
    fd_check(name, conv_f, &c, c.b, gb, OC, 1e-2f, 2e-3, 2e-3, 200);
    float *all[] = {c.inp, c.w, c.b, c.r, c.out, c.wksp, ref, di, dw, db, di2, dw2, db2, gi, gw, gb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) hn_free(all[i]);
}

/* ---- pixel shuffle: explicit index formula and adjointness ---- */
static void test_pixel_shuffle(void)
{
    const size_t C = 3, H = 4, W = 5, S = 3;
    size_t n = C * S * S * H * W;
    float *x = rnd(n, 1.0f), *y = zeros(n), *g = rnd(n, 1.0f), *dx = zeros(n);
    pixel_shuffle_forward(y, x, C, H, W, S);
    int bad = 0;
    for (size_t c = 0; c < C; c++)
        for (size_t i = 0; i < S; i++)
            for (size_t j = 0; j < S; j++)
                for (size_t h = 0; h < H; h++)
                    for (size_t w = 0; w < W; w++) {
                        float a = y[(c * H * S + h * S + i) * W * S + w * S + j];
                        float b = x[((c * S * S + i * S + j) * H + h) * W + w];
                        bad += a != b;
                    }
    CHECK_MSG(bad == 0, "%d misplaced values", bad);
    pixel_shuffle_backward(dx, g, C, H, W, S);
    double lhs = dotd(y, g, n), rhs = dotd(x, dx, n);
    CHECK_MSG(fabs(lhs - rhs) < 1e-9 * (fabs(lhs) + 1), "<PS x, g> %.12g != <x, PS^T g> %.12g",
              lhs, rhs);
    printf("%-28s exact permutation, adjoint ok\n", "pixel_shuffle");
    hn_free(x), hn_free(y), hn_free(g), hn_free(dx);
}

/* ---- elementwise: GELU and tanh output ---- */
typedef struct {
    float *x, *y, *r;
    size_t n;
    int which;
} ew_ctx;

static double ew_f(void *vc)
{
    ew_ctx *c = vc;
    if (c->which == 0) gelu_forward(c->y, c->x, c->n);
    else tanh_out_forward(c->y, c->x, c->n);
    return dotd(c->y, c->r, c->n);
}

static void test_elementwise(void)
{
    /* exact values: GELU(1) = 0.8413447, GELU(-1) = -0.1586553, GELU(0) = 0 */
    float xs[3] = {1.0f, -1.0f, 0.0f}, ys[3];
    gelu_forward(ys, xs, 3);
    CHECK_MSG(fabsf(ys[0] - 0.8413447f) < 1e-6f && fabsf(ys[1] + 0.1586553f) < 1e-6f &&
                  ys[2] == 0.0f, "gelu values %g %g %g", ys[0], ys[1], ys[2]);
    for (int which = 0; which < 2; which++) {
        ew_ctx c = {rnd(300, 3.0f), zeros(300), rnd(300, 1.0f), 300, which};
        float *g = zeros(300);
        ew_f(&c);
        if (which == 0) gelu_backward(g, c.x, c.r, c.n);
        else tanh_out_backward(g, c.y, c.r, c.n);
        fd_check(which == 0 ? "gelu fd" : "tanh_out fd", ew_f, &c, c.x, g, c.n, 1e-3f, 1e-3,
                 5e-3, 300);
        if (which == 0) { /* in-place variant equals the accumulating one from zero */
            float *g2 = zeros(300);
            memcpy(g2, c.r, 300 * sizeof(float));
            gelu_backward_inplace(g2, c.x, 300);
            check_close("gelu inplace", g2, g, 300, 0, 0);
            hn_free(g2);
        }
        hn_free(c.x), hn_free(c.y), hn_free(c.r), hn_free(g);
    }
}

/* ---- linear ---- */
typedef struct {
    float *x, *w, *b, *y, *r;
    size_t B, IN, OUT;
} lin_ctx;

static double lin_f(void *vc)
{
    lin_ctx *c = vc;
    linear_forward(c->y, c->x, c->w, c->b, c->B, c->IN, c->OUT);
    return dotd(c->y, c->r, c->B * c->OUT);
}

static void test_linear(void)
{
    lin_ctx c = {0};
    c.B = 3, c.IN = 17, c.OUT = 11;
    c.x = rnd(c.B * c.IN, 1), c.w = rnd(c.OUT * c.IN, 0.5f), c.b = rnd(c.OUT, 0.5f);
    c.y = zeros(c.B * c.OUT), c.r = rnd(c.B * c.OUT, 1);
    lin_f(&c);
    /* forward against an explicit loop */
    float ref[33];
    for (size_t b = 0; b < c.B; b++)
        for (size_t o = 0; o < c.OUT; o++) {
            double s = c.b[o];
            for (size_t i = 0; i < c.IN; i++) s += (double)c.x[b * c.IN + i] * c.w[o * c.IN + i];
            ref[b * c.OUT + o] = (float)s;
        }
    check_close("linear fwd", c.y, ref, c.B * c.OUT, 1e-5, 1e-5);
    float *gx = zeros(c.B * c.IN), *gw = zeros(c.OUT * c.IN), *gb = zeros(c.OUT);
    linear_backward(gx, gw, gb, c.r, c.x, c.w, c.B, c.IN, c.OUT);
    fd_check("linear fd dinp", lin_f, &c, c.x, gx, c.B * c.IN, 1e-2f, 1e-3, 1e-3, 200);
    fd_check("linear fd dweight", lin_f, &c, c.w, gw, c.OUT * c.IN, 1e-2f, 1e-3, 1e-3, 200);
    fd_check("linear fd dbias", lin_f, &c, c.b, gb, c.OUT, 1e-2f, 1e-3, 1e-3, 200);
    hn_free(c.x), hn_free(c.w), hn_free(c.b), hn_free(c.y), hn_free(c.r);
    hn_free(gx), hn_free(gw), hn_free(gb);
}

/* ---- loss: L1 + CAM over a region with a mask ---- */
typedef struct {
    float *pred, *tgt;
    uint8_t *mask;
    size_t H, W, stride;
    float wl1, wcam, wl2;
} loss_ctx;

static double loss_f(void *vc)
{
    loss_ctx *c = vc;
    hn_band_loss L;
    loss_forward(&L, c->pred, c->stride, c->tgt, c->mask, c->H, c->W);
    return c->wl1 * L.l1 + c->wcam * L.cam + c->wl2 * L.mse;
}

static void test_loss(void)
{
    loss_ctx c = {0};
    c.H = 6, c.W = 7, c.stride = 9; /* pred rows are wider than the true extent (padding) */
    size_t np = c.H * c.stride;
    c.pred = rnd(np, 1.0f);
    c.tgt = rnd(c.H * c.W, 1.0f);
    for (size_t i = 0; i < np; i++) c.pred[i] = 0.5f + 0.4f * c.pred[i];
    for (size_t i = 0; i < c.H * c.W; i++) c.tgt[i] = 0.5f + 0.4f * c.tgt[i];
    c.mask = malloc(c.H * c.W);
    for (size_t i = 0; i < c.H * c.W; i++) c.mask[i] = (i % 5) != 0;
    /* forward against explicit formulas */
    hn_band_loss L;
    loss_forward(&L, c.pred, c.stride, c.tgt, c.mask, c.H, c.W);
    double l1 = 0, dot = 0, pp = 0, gg = 0;
    size_t n = 0;
    for (size_t y = 0; y < c.H; y++)
        for (size_t x = 0; x < c.W; x++) {
            if (!c.mask[y * c.W + x]) continue;
            double p = c.pred[y * c.stride + x], g = c.tgt[y * c.W + x];
            l1 += fabs(p - g), dot += p * g, pp += p * p, gg += g * g, n++;
        }
    double cam = acos(dot / sqrt(pp * gg)) * 180.0 / 3.14159265358979323846;
    CHECK_MSG(n == L.n && fabs(l1 / n - L.l1) < 1e-12 && fabs(cam - L.cam) < 1e-9,
              "loss forward l1 %g/%g cam %g/%g", L.l1, l1 / n, L.cam, cam);
    for (int which = 0; which < 4; which++) {
        c.wl1 = which == 1 || which == 3 ? 0.0f : 0.5f;
        c.wcam = which == 0 || which == 3 ? 0.0f : 0.005f;
        c.wl2 = which == 3 ? 1.0f : 0.0f;
        float *g = zeros(np);
        loss_forward(&L, c.pred, c.stride, c.tgt, c.mask, c.H, c.W);
        loss_backward(g, c.stride, &L, c.pred, c.tgt, c.mask, c.H, c.W, c.wl1, c.wcam, c.wl2);
        /* outside the true extent and at masked pixels the gradient is exactly zero */
        int leak = 0;
        for (size_t y = 0; y < c.H; y++)
            for (size_t x = 0; x < c.stride; x++)
                if ((x >= c.W || !c.mask[y * c.W + x]) && g[y * c.stride + x] != 0.0f) leak++;
        CHECK_MSG(leak == 0, "%d gradients outside the valid extent", leak);
        const char *nm[] = {"loss L1 fd", "loss CAM fd", "loss L1+CAM fd", "loss MSE fd"};
        /* eps 1e-4: smaller than any |p - g| here, so L1 has no kink inside the probe */
        fd_check(nm[which], loss_f, &c, c.pred, g, np, 1e-4f, 2e-4, 1e-2, 400);
        hn_free(g);
    }
    /* an all-zero target has no angle: CAM is 0 with no gradient, and no NaN */
    memset(c.tgt, 0, c.H * c.W * sizeof(float));
    loss_forward(&L, c.pred, c.stride, c.tgt, NULL, c.H, c.W);
    float *g = zeros(np);
    loss_backward(g, c.stride, &L, c.pred, c.tgt, NULL, c.H, c.W, 0.0f, 1.0f, 0.0f);
    CHECK(L.cam == 0.0 && !isnan(g[0]) && g[0] == 0.0f);
    hn_free(g), hn_free(c.pred), hn_free(c.tgt), free(c.mask);
}

/* ---- gemm: transposes and beta against the reference ---- */
static void test_gemm(void)
{
    const size_t M = 37, N = 29, K = 53;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            float *A = rnd(M * K, 1), *B = rnd(K * N, 1), *C1 = rnd(M * N, 1), *C2 = zeros(M * N);
            memcpy(C2, C1, M * N * sizeof(float));
            size_t lda = ta ? M : K, ldb = tb ? K : N;
            hn_gemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C1, N);
            hn_gemm_ref(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C2, N);
            char nm[32];
            snprintf(nm, sizeof nm, "gemm %s ta=%d tb=%d", hn_gemm_backend(), ta, tb);
            check_close(nm, C1, C2, M * N, 1e-4, 1e-4);
            hn_free(A), hn_free(B), hn_free(C1), hn_free(C2);
        }
}

/* ---- positional encoding, Adam and the schedule ---- */
static void test_posenc_adam_schedule(void)
{
    float pe[8];
    posenc_forward(pe, 0.3, 4, 1.25);
    double f = 3.14159265358979323846;
    for (int k = 0; k < 4; k++, f *= 1.25) {
        CHECK(fabsf(pe[k] - (float)sin(f * 0.3)) < 1e-7f);
        CHECK(fabsf(pe[4 + k] - (float)cos(f * 0.3)) < 1e-7f);
    }
    /* Adam, two steps on one parameter, against the formulas of Kingma & Ba (torch) */
    hn_adam a;
    adam_init(&a);
    float p = 1.0f, m = 0, v = 0, g = 0.5f;
    adam_update(&a, &p, &g, &m, &v, 1, 0.1f);
    /* step 1: m = 0.05, v = 0.00025, mhat = 0.5, vhat = 0.25 -> p = 1 - 0.1 * 0.5/(0.5+1e-8) */
    CHECK_MSG(fabsf(p - 0.9f) < 1e-6f, "adam step 1: %.8f", p);
    g = -1.0f;
    adam_update(&a, &p, &g, &m, &v, 1, 0.1f);
    double m2 = 0.9 * 0.05 + 0.1 * -1.0, v2 = 0.999 * 0.00025 + 0.001 * 1.0;
    double mh = m2 / (1 - 0.81), vh = v2 / (1 - 0.999 * 0.999);
    double p2 = 0.9 - 0.1 * mh / (sqrt(vh) + 1e-8);
    CHECK_MSG(fabs(p - p2) < 1e-6, "adam step 2: %.8f vs %.8f", p, p2);
    /* schedule: 0.1 lr at 0, lr at the end of warm-up, lr/2 half-way through the cosine */
    CHECK(fabsf(lr_schedule(0, 1000, 1e-3f, 0.1f) - 1e-4f) < 1e-9f);
    CHECK(fabsf(lr_schedule(100, 1000, 1e-3f, 0.1f) - 1e-3f) < 1e-9f);
    CHECK(fabsf(lr_schedule(550, 1000, 1e-3f, 0.1f) - 5e-4f) < 1e-8f);
    CHECK(lr_schedule(1000, 1000, 1e-3f, 0.1f) < 1e-10f);
    printf("%-28s ok\n", "posenc, adam, schedule");
}

int main(void)
{
    hn_rng_seed(&rng, 42);
    test_gemm();
    test_conv(3, 7, 6, 4, 1, 1e-5);
    test_conv(3, 7, 6, 4, 3, 1e-5);
    test_conv(2, 5, 8, 3, 5, 1e-5);
    test_conv(2, 3, 2, 3, 5, 1e-5);       /* kernel wider than the image */
    test_conv(16, 40, 300, 8, 5, 3e-3);   /* several row chunks; float sums of 12000 terms */
    test_pixel_shuffle();
    test_elementwise();
    test_linear();
    test_loss();
    test_posenc_adam_schedule();
    return check_exit();
}
