/*
 * layernorm.c - LayerNorm over the last axis (PyTorch nn.LayerNorm(D), eps 1e-5, biased
 * variance), for the transformer of the classifier (core/task/). The mean and 1/std of
 * each row are saved for the backward pass, as in llm.c.
 */
#include <math.h>

#include "nn.h"

#define LN_EPS 1e-5f

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, size_t R, size_t D)
{
    /* inp, out are (R,D); weight, bias (D); mean, rstd (R) */
    for (size_t r = 0; r < R; r++) {
        const float *x = inp + r * D;
        float *y = out + r * D;
        float m = 0.0f;
        for (size_t i = 0; i < D; i++) m += x[i];
        m /= (float)D;
        float v = 0.0f;
        for (size_t i = 0; i < D; i++) {
            float d = x[i] - m;
            v += d * d;
        }
        v /= (float)D;
        float s = 1.0f / sqrtf(v + LN_EPS);
        for (size_t i = 0; i < D; i++) y[i] = (x[i] - m) * s * weight[i] + bias[i];
        mean[r] = m;
        rstd[r] = s;
    }
}

void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const float *mean,
                        const float *rstd, size_t R, size_t D)
{
    for (size_t r = 0; r < R; r++) {
        const float *x = inp + r * D, *dy = dout + r * D;
        float *dx = dinp + r * D;
        const float m = mean[r], s = rstd[r];
        /* with xhat = (x - m) s and g = dy * weight:
         * dx = s (g - mean(g) - xhat mean(g xhat)) */
        float gm = 0.0f, gxm = 0.0f;
        for (size_t i = 0; i < D; i++) {
            float xh = (x[i] - m) * s;
            float g = dy[i] * weight[i];
            gm += g;
            gxm += g * xh;
            dweight[i] += dy[i] * xh;
            dbias[i] += dy[i];
        }
        gm /= (float)D;
        gxm /= (float)D;
        for (size_t i = 0; i < D; i++) {
            float xh = (x[i] - m) * s;
            dx[i] += s * (dy[i] * weight[i] - gm - xh * gxm);
        }
    }
}
