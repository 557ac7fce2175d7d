/*
 * caf.c - SpectralFormer's cross-layer adaptive fusion (its "skipcat"): from the third
 * layer on, the layer input is a learned 1x2 convolution over [current tokens, tokens
 * two layers back], with the tokens as channels, i.e. two N x N token-mixing matrices
 * applied to every sample. One hn_gemm per sample and matrix.
 */
#include "task.h"

void caf_forward(float *out, const float *x, const float *skip, const float *weight,
                 const float *bias, size_t B, size_t N, size_t D)
{
    /* x, skip, out are (B,N,D); weight (2,N,N); bias (N) */
    const float *w0 = weight, *w1 = weight + N * N;
    for (size_t b = 0; b < B; b++) {
        float *o = out + b * N * D;
        hn_gemm(0, 0, N, D, N, 1.0f, w0, N, x + b * N * D, D, 0.0f, o, D);
        hn_gemm(0, 0, N, D, N, 1.0f, w1, N, skip + b * N * D, D, 1.0f, o, D);
        for (size_t t = 0; t < N; t++)
            for (size_t d = 0; d < D; d++) o[t * D + d] += bias[t];
    }
}

void caf_backward(float *dx, float *dskip, float *dweight, float *dbias, const float *dout,
                  const float *x, const float *skip, const float *weight, size_t B, size_t N,
                  size_t D)
{
    const float *w0 = weight, *w1 = weight + N * N;
    float *dw0 = dweight, *dw1 = dweight + N * N;
    for (size_t b = 0; b < B; b++) {
        const float *g = dout + b * N * D;
        /* dW0 += dout x^T, dW1 += dout skip^T (summed over samples and features) */
        hn_gemm(0, 1, N, N, D, 1.0f, g, D, x + b * N * D, D, 1.0f, dw0, N);
        hn_gemm(0, 1, N, N, D, 1.0f, g, D, skip + b * N * D, D, 1.0f, dw1, N);
        /* dx += W0^T dout, dskip += W1^T dout */
        hn_gemm(1, 0, N, D, N, 1.0f, w0, N, g, D, 1.0f, dx + b * N * D, D);
        hn_gemm(1, 0, N, D, N, 1.0f, w1, N, g, D, 1.0f, dskip + b * N * D, D);
        for (size_t t = 0; t < N; t++)
            for (size_t d = 0; d < D; d++) dbias[t] += g[t * D + d];
    }
}
