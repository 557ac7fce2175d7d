/*
 * tanh.c - the decoder's output activation, tanh(x) * 0.5 + 0.5, mapping to (0,1) where
 * the normalised bands live. Backward uses the saved output: tanh = 2 * out - 1.
 */
#include <math.h>

#include "nn.h"

void tanh_out_forward(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) out[i] = tanhf(inp[i]) * 0.5f + 0.5f;
}

void tanh_out_backward(float *dinp, const float *out, const float *dout, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        float t = 2.0f * out[i] - 1.0f;
        dinp[i] += dout[i] * 0.5f * (1.0f - t * t);
    }
}
