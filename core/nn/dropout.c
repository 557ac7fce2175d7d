/*
 * dropout.c - inverted dropout (PyTorch nn.Dropout in training mode): each value is kept
 * with probability 1 - p and scaled by 1 / (1 - p). The keep mask comes from an explicit
 * generator and is saved for the backward pass.
 */
#include "nn.h"

void dropout_forward(float *out, uint8_t *mask, const float *inp, size_t N, float p, hn_rng *rng)
{
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < N; i++) {
        mask[i] = hn_rng_uniform(rng) >= p;
        out[i] = mask[i] ? inp[i] * scale : 0.0f;
    }
}

void dropout_backward(float *dinp, const uint8_t *mask, const float *dout, size_t N, float p)
{
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < N; i++) dinp[i] += mask[i] ? dout[i] * scale : 0.0f;
}
