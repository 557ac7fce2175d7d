/*
 * linear.c - fully connected layer, out = inp x weight^T + bias (PyTorch nn.Linear), for
 * the spectral encoder's MLP. Products go through hn_gemm.
 */
#include "nn.h"

void linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                    size_t B, size_t IN, size_t OUT)
{
    /* inp is (B,IN), weight is (OUT,IN), out is (B,OUT) */
    hn_gemm(0, 1, B, OUT, IN, 1.0f, inp, IN, weight, IN, 0.0f, out, OUT);
    if (bias)
        for (size_t b = 0; b < B; b++)
            for (size_t o = 0; o < OUT; o++) out[b * OUT + o] += bias[o];
}

void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                     const float *inp, const float *weight, size_t B, size_t IN, size_t OUT)
{
    /* dweight (OUT,IN) += dout^T (OUT,B) x inp (B,IN) */
    hn_gemm(1, 0, OUT, IN, B, 1.0f, dout, OUT, inp, IN, 1.0f, dweight, IN);
    if (dbias)
        for (size_t b = 0; b < B; b++)
            for (size_t o = 0; o < OUT; o++) dbias[o] += dout[b * OUT + o];
    /* dinp (B,IN) += dout (B,OUT) x weight (OUT,IN) */
    if (dinp) hn_gemm(0, 0, B, IN, OUT, 1.0f, dout, OUT, weight, IN, 1.0f, dinp, IN);
}
