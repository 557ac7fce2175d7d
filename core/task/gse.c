/*
 * gse.c - SpectralFormer's group-wise spectral embedding: each band becomes a token made
 * of the flattened patches of its group of adjacent bands, projected linearly. The
 * reference code wraps the group around the ends of the spectrum; we pad with zeros (a
 * band at the blue end has no neighbour in the SWIR).
 */
#include <string.h>

#include "task.h"

void gse_forward(float *out, float *X, const float *inp, const float *weight, const float *bias,
                 size_t B, size_t P, size_t C, size_t G, size_t D)
{
    /* inp is (B,P,C), X (B,C,G*P), weight (D,G*P), out (B,C,D) */
    const size_t GP = G * P, half = G / 2;
    for (size_t b = 0; b < B; b++) {
        const float *x = inp + b * P * C;
        for (size_t c = 0; c < C; c++) {
            float *row = X + (b * C + c) * GP;
            for (size_t g = 0; g < G; g++) {
                float *dst = row + g * P;
                if (c + g < half || c + g - half >= C) {
                    memset(dst, 0, P * sizeof(float));
                    continue;
                }
                const size_t cc = c + g - half;
                for (size_t p = 0; p < P; p++) dst[p] = x[p * C + cc];
            }
        }
    }
    linear_forward(out, X, weight, bias, B * C, GP, D);
}

void gse_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *X,
                  const float *weight, size_t B, size_t P, size_t C, size_t G, size_t D,
                  float *wksp)
{
    const size_t GP = G * P, half = G / 2;
    /* dweight += dout^T X, dbias += sum dout; dX = dout weight (into wksp) */
    if (dinp) memset(wksp, 0, B * C * GP * sizeof(float));
    linear_backward(dinp ? wksp : NULL, dweight, dbias, dout, X, weight, B * C, GP, D);
    if (!dinp) return;
    /* scatter: X[b,c,g*P+p] = inp[b,p,c+g-half] */
    for (size_t b = 0; b < B; b++) {
        float *dx = dinp + b * P * C;
        for (size_t c = 0; c < C; c++) {
            const float *row = wksp + (b * C + c) * GP;
            for (size_t g = 0; g < G; g++) {
                if (c + g < half || c + g - half >= C) continue;
                const size_t cc = c + g - half;
                for (size_t p = 0; p < P; p++) dx[p * C + cc] += row[g * P + p];
            }
        }
    }
}
