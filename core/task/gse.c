/*
 * gse.c - SpectralFormer's group-wise spectral embedding: each token is made of the
 * flattened patches of a group of adjacent bands, projected linearly. With a band stride
 * S > 1 a token stands for every S-th band (its group centred there), so a cube of C bands
 * gives ceil(C / S) tokens. The reference code wraps the group around the ends of the
 * spectrum; we pad with zeros (a band at the blue end has no neighbour in the SWIR).
 */
#include <string.h>

#include "task.h"

/* The band of group member g of token t, or -1 beyond the spectrum's ends. */
static ptrdiff_t group_band(size_t t, size_t g, size_t S, size_t G, size_t C)
{
    const ptrdiff_t b = (ptrdiff_t)(t * S + S / 2 + g) - (ptrdiff_t)(G / 2);
    return b >= 0 && b < (ptrdiff_t)C ? b : -1;
}

void gse_forward(float *out, float *X, const float *inp, const float *weight, const float *bias,
                 size_t B, size_t P, size_t C, size_t G, size_t S, size_t T, size_t D)
{
    /* inp is (B,P,C), X (B,T,G*P), weight (D,G*P), out (B,T,D) */
    const size_t GP = G * P;
    for (size_t b = 0; b < B; b++) {
        const float *x = inp + b * P * C;
        for (size_t t = 0; t < T; t++) {
            float *row = X + (b * T + t) * GP;
            for (size_t g = 0; g < G; g++) {
                float *dst = row + g * P;
                const ptrdiff_t cc = group_band(t, g, S, G, C);
                if (cc < 0) {
                    memset(dst, 0, P * sizeof(float));
                    continue;
                }
                for (size_t p = 0; p < P; p++) dst[p] = x[p * C + (size_t)cc];
            }
        }
    }
    linear_forward(out, X, weight, bias, B * T, GP, D);
}

void gse_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *X,
                  const float *weight, size_t B, size_t P, size_t C, size_t G, size_t S, size_t T,
                  size_t D, float *wksp)
{
    const size_t GP = G * P;
    /* dweight += dout^T X, dbias += sum dout; dX = dout weight (into wksp) */
    if (dinp) memset(wksp, 0, B * T * GP * sizeof(float));
    linear_backward(dinp ? wksp : NULL, dweight, dbias, dout, X, weight, B * T, GP, D);
    if (!dinp) return;
    /* scatter: X[b,t,g*P+p] = inp[b,p,group_band(t,g)] */
    for (size_t b = 0; b < B; b++) {
        float *dx = dinp + b * P * C;
        for (size_t t = 0; t < T; t++) {
            const float *row = wksp + (b * T + t) * GP;
            for (size_t g = 0; g < G; g++) {
                const ptrdiff_t cc = group_band(t, g, S, G, C);
                if (cc < 0) continue;
                for (size_t p = 0; p < P; p++) dx[p * C + (size_t)cc] += row[g * P + p];
            }
        }
    }
}
