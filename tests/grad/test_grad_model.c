/*
 * test_grad_model.c - the whole model's gradient (spectral encoder, decoder with padding,
 * loss with a NoData mask) against central finite differences on a tiny configuration,
 * for every parameter.
 */
#include <math.h>
#include <string.h>

#include "../../core/model/model.h"
#include "../check.h"

/* Probe step: large enough that float rounding in the forward pass (~1e-7 relative) stays
 * far below 1 % of the slopes, small enough that the O(eps^2) truncation does too. */
#define EPS 1e-2f

typedef struct {
    hn_net net;
    hn_acts A;
    const float *tgt;
    const uint8_t *mask;
    double lambda;
    float wl1, wcam;
} ctx;

static double loss_of(ctx *c, hn_band_loss *L)
{
    const hiner_plan *pl = &c->net.plan;
    size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    hn_encoder_forward(&c->net, c->net.params, &c->A, c->lambda, c->A.emb);
    hn_decoder_forward(&c->net, c->net.params, &c->A, c->A.emb);
    loss_forward(L, c->A.out + off, pl->pad_width, c->tgt, c->mask, pl->height, pl->width);
    return c->wl1 * L->l1 + c->wcam * L->cam;
}

/* The tiny model: a 5x4x3 cube padded to 6x6 on both axes, weights scaled up so every
 * layer carries a testable slope, a target and a NoData mask. */
static void setup(ctx *c, hiner_plan *pl, float tgt[20], uint8_t mask[20])
{
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.n_stages = 2;
    p.strides[0] = 2;
    p.strides[1] = 3;
    p.embed_channels = 4;
    p.enc_freqs = 3;
    p.enc_hidden = 6;
    p.min_width = 3;
    p.model_bytes = 900;
    hn_log lg = {0};
    CHECK(hn_plan_make(&p, 5, 4, 3, pl, &lg) == HINER_OK);
    /* 5x4 image padded to 6x6 (embedding 1x1, strides 2*3): padding on both axes */
    CHECK(pl->pad_width == 6 && pl->pad_height == 6 && pl->embed_height == 1);
    memset(c, 0, sizeof *c);
    CHECK(hn_net_init(&c->net, pl) == HINER_OK);
    hn_rng rng;
    hn_rng_seed(&rng, 7);
    hn_net_init_weights(&c->net, &rng);
    /* weights larger than PyTorch's default so every layer carries a testable slope */
    for (size_t i = 0; i < c->net.n_params; i++) c->net.params[i] *= 2.5f;
    CHECK(hn_acts_init(&c->A, pl, 1, NULL) == HINER_OK);
    for (int i = 0; i < 20; i++) {
        tgt[i] = hn_rng_uniform(&rng);
        mask[i] = i % 7 != 3;
    }
    c->tgt = tgt;
    c->mask = mask;
    c->lambda = 0.37;
}

/* Backpropagation's gradient of the loss into g (n_params floats). */
static void analytic_grad(ctx *c, const hiner_plan *pl, float *g)
{
    hn_band_loss L;
    loss_of(c, &L);
    size_t band = (size_t)pl->pad_height * pl->pad_width;
    size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    memset(c->A.dout, 0, band * sizeof(float));
    loss_backward(c->A.dout + off, pl->pad_width, &L, c->A.out + off, c->tgt, c->mask,
                  pl->height, pl->width, c->wl1, c->wcam, 0.0f);
    hn_decoder_backward(&c->net, c->net.params, g, &c->A);
    hn_encoder_backward(&c->net, c->net.params, g, &c->A);
}

/* Central differences for every parameter of every tensor into num. */
static void numeric_grad(ctx *c, float *num)
{
    hn_band_loss L;
    const float eps = EPS;
    for (int t = 0; t < c->net.n_tensors; t++) {
        const hn_tensor *T = &c->net.t[t];
        for (size_t j = 0; j < T->n; j++) {
            float *w = c->net.params + T->off + j;
            float keep = *w;
            *w = keep + eps;
            double fp = loss_of(c, &L);
            *w = keep - eps;
            double fm = loss_of(c, &L);
            *w = keep;
            num[T->off + j] = (float)((fp - fm) / (2.0 * eps));
        }
    }
}

static void run(const char *what, float wl1, float wcam, double rel)
{
    ctx c;
    hiner_plan pl;
    float tgt[20];
    uint8_t mask[20];
    setup(&c, &pl, tgt, mask);
    c.wl1 = wl1;
    c.wcam = wcam;
    const size_t np = c.net.n_params;
    float *g = hn_calloc(np, sizeof(float)), *num = hn_calloc(np, sizeof(float));
    analytic_grad(&c, &pl, g);
    numeric_grad(&c, num);
    /* Per tensor: |analytic - numeric| <= rel * max|numeric| of that tensor, and that max
     * must stand well above float noise (~1e-5 here) so the check can fail. */
    printf("%s: %zu parameters in %d tensors\n", what, np, c.net.n_tensors);
    for (int t = 0; t < c.net.n_tensors; t++) {
        const hn_tensor *T = &c.net.t[t];
        char nm[48];
        double mx = 0;
        for (size_t j = 0; j < T->n; j++) mx = fmax(mx, fabs(num[T->off + j]));
        snprintf(nm, sizeof nm, "  %s", T->name);
        check_close(nm, g + T->off, num + T->off, T->n, rel * mx, 0.0);
        CHECK_MSG(mx > 1e-3, "%s: gradient too small to test (max %g)", T->name, mx);
    }
    hn_free(g);
    hn_free(num);
    hn_acts_free(&c.A);
    hn_net_free(&c.net);
}

int main(void)
{
    /* Loss weights scale the gradient linearly; larger ones lift it above float noise.
     * CAM alone is smooth. With L1 a probe of +-1e-3 could straddle a kink |p - g| = 0;
     * the random data here keeps |p - g| well above it. Tolerance: 1 % of each tensor's
     * largest slope. */
    run("model, CAM only", 0.0f, 0.2f, 1e-2);
    run("model, L1 + CAM", 1.0f, 0.2f, 1e-2);
    return check_exit();
}
