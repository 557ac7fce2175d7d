/*
 * gelu.c - GELU in its exact form, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (Hendrycks &
 * Gimpel), as PyTorch's nn.GELU() default. Derivative: Phi(x) + x phi(x).
 */
#include <math.h>

#include "nn.h"

#define INV_SQRT2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f

void gelu_forward(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + erff(x * INV_SQRT2));
    }
}

static inline float gelu_grad(float x)
{
    float cdf = 0.5f * (1.0f + erff(x * INV_SQRT2));
    float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
    return cdf + x * pdf;
}

void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N)
{
    for (size_t i = 0; i < N; i++) dinp[i] += dout[i] * gelu_grad(inp[i]);
}

void gelu_backward_inplace(float *d, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) d[i] *= gelu_grad(inp[i]);
}
