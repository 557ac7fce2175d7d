/*
 * asw.c - Adaptive Spectral Weighting (HINER paper, Sec. 3.3, Eq. 8): a per-pixel module
 * in front of the classifier that re-weights the bands of a decoded cube, x * s with s
 * from a tiny MLP (on a constant input, as the authors' ScalingNet), then adds a band
 * MLP (1x1 convolutions C -> M -> C with GELU) as a residual. Trained with the
 * classifier on L_C + beta * L_R (the reconstruction term lives in sformer.c).
 */
#include <string.h>

#include "task.h"

void asw_scale_forward(float *s, float *zpre, float *z, const float *w1, const float *b1,
                       const float *w2, const float *b2, size_t C, size_t H)
{
    /* zpre = w1 * 1 + b1 (H); z = GELU(zpre); s = 1 + w2 z + b2 (C), w2 is (C,H) */
    for (size_t j = 0; j < H; j++) zpre[j] = w1[j] + b1[j];
    gelu_forward(z, zpre, H);
    for (size_t c = 0; c < C; c++) {
        float acc = 1.0f + b2[c];
        for (size_t j = 0; j < H; j++) acc += w2[c * H + j] * z[j];
        s[c] = acc;
    }
}

void asw_scale_backward(float *dw1, float *db1, float *dw2, float *db2, const float *ds,
                        const float *zpre, const float *z, const float *w2, size_t C, size_t H)
{
    float dz[256];
    for (size_t j0 = 0; j0 < H; j0 += 256) { /* H is small; chunk to stay on the stack */
        const size_t n = H - j0 < 256 ? H - j0 : 256;
        memset(dz, 0, n * sizeof(float));
        for (size_t c = 0; c < C; c++)
            for (size_t j = 0; j < n; j++) dz[j] += w2[c * H + j0 + j] * ds[c];
        float dzp[256];
        memset(dzp, 0, n * sizeof(float));
        gelu_backward(dzp, zpre + j0, dz, n);
        /* zpre = w1 * 1 + b1 */
        for (size_t j = 0; j < n; j++) {
            dw1[j0 + j] += dzp[j];
            db1[j0 + j] += dzp[j];
        }
    }
    for (size_t c = 0; c < C; c++) {
        db2[c] += ds[c];
        for (size_t j = 0; j < H; j++) dw2[c * H + j] += ds[c] * z[j];
    }
}

void asw_forward(float *out, float *xs, float *h, float *g, const float *inp, const float *s,
                 const float *m1, const float *c1, const float *m2, const float *c2, size_t R,
                 size_t C, size_t M)
{
    /* inp, xs, out are (R,C); h, g (R,M); m1 (M,C), m2 (C,M) */
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < C; c++) xs[r * C + c] = inp[r * C + c] * s[c];
    linear_forward(h, xs, m1, c1, R, C, M);
    gelu_forward(g, h, R * M);
    linear_forward(out, g, m2, c2, R, M, C);
    for (size_t i = 0; i < R * C; i++) out[i] += xs[i];
}

void asw_backward(float *dinp, float *ds, float *dm1, float *dc1, float *dm2, float *dc2,
                  float *dout, const float *xs, const float *h, const float *g,
                  const float *inp, const float *s, const float *m1, const float *m2, size_t R,
                  size_t C, size_t M, float *wksp)
{
    /* out = xs + MLP(xs): dxs = dout + MLP'^T dout, accumulated in place in dout */
    float *dg = wksp;
    memset(dg, 0, R * M * sizeof(float));
    linear_backward(dg, dm2, dc2, dout, g, m2, R, M, C);
    gelu_backward_inplace(dg, h, R * M);
    linear_backward(dout, dm1, dc1, dg, xs, m1, R, C, M);
    /* xs = inp * s */
    for (size_t r = 0; r < R; r++) {
        const float *d = dout + r * C, *x = inp + r * C;
        for (size_t c = 0; c < C; c++) ds[c] += d[c] * x[c];
        if (dinp)
            for (size_t c = 0; c < C; c++) dinp[r * C + c] += d[c] * s[c];
    }
}
