/*
 * conv_fast.h - the fast convolution (implicit GEMM over the run-time kernel set) and the
 * execution context every fast kernel takes: kernel set, thread pool, scratch memory.
 */
#ifndef HINER_CONV_FAST_H
#define HINER_CONV_FAST_H

#include "kernels.h"
#include "nn.h"

typedef struct hn_exec {
    const hn_kernels *k;
    hn_pool *pool;       /* NULL: the calling thread alone */
    float *wksp;         /* scratch, at least hn_conv_wksp_floats() of the largest layer */
} hn_exec;

/* A range of rows [y0, y1). */
typedef struct hn_rows {
    size_t y0, y1;
} hn_rows;

/* Scratch floats a conv (C -> OC channels, K x K, H x W pixels) needs with `threads`. */
HN_HIDDEN size_t hn_conv_wksp_floats(const hn_kernels *k, int threads, size_t C, size_t OC,
                                     size_t K, size_t H, size_t W);
/* As conv2d_forward: out (OC,H,W) = conv(inp (C,H,W), weight (OC,C,K,K)) + bias. */
HN_HIDDEN void hn_conv_forward(const hn_exec *x, float *out, const float *inp,
                               const float *weight, const float *bias, size_t C, size_t H,
                               size_t W, size_t OC, size_t K);
/* As conv2d_backward: dweight and dbias (may be NULL) accumulate; dinp (may be NULL)
 * accumulates when dinp_acc, else it is overwritten (no need to zero it first). */
HN_HIDDEN void hn_conv_backward(const hn_exec *x, float *dinp, int dinp_acc, float *dweight,
                                float *dbias, const float *dout, const float *inp,
                                const float *weight, size_t C, size_t H, size_t W, size_t OC,
                                size_t K);
/* The same on a band of rows: forward computes output rows `rows` only (reading the
 * input rows they need); backward sums the weight gradient over the dout rows `dout_rows`
 * (dout must be zero outside them) and computes dinp on `dinp_rows` only. */
HN_HIDDEN void hn_conv_forward_rows(const hn_exec *x, float *out, const float *inp,
                                    const float *weight, const float *bias, size_t C, size_t H,
                                    size_t W, size_t OC, size_t K, hn_rows rows);
HN_HIDDEN void hn_conv_backward_rows(const hn_exec *x, float *dinp, int dinp_acc,
                                     float *dweight, float *dbias, const float *dout,
                                     const float *inp, const float *weight, size_t C, size_t H,
                                     size_t W, size_t OC, size_t K, hn_rows dout_rows,
                                     hn_rows dinp_rows);
/* a (C, H*S, W*S) = GELU(PixelShuffle(y (C*S*S, H, W))) for input rows `rows` (output
 * rows rows * S), threaded over channels. */
HN_HIDDEN void pixel_shuffle_gelu_forward(const hn_exec *x, float *a, const float *y, size_t C,
                                          size_t H, size_t W, size_t S, hn_rows rows);
/* dy (C*S*S, H, W) = unshuffle(da) * GELU'(y) on rows `rows`; the other rows of dy are set
 * to zero. */
HN_HIDDEN void pixel_shuffle_gelu_backward(const hn_exec *x, float *dy, const float *da,
                                           const float *y, size_t C, size_t H, size_t W,
                                           size_t S, hn_rows rows);

#endif
