/*
 * pixel_shuffle.c - PixelShuffle(S), PyTorch semantics: moves S*S channel groups into an
 * S x S spatial block. The decoder's upsampling; a pure permutation, so backward is the
 * inverse permutation.
 */
#include "nn.h"

void pixel_shuffle_forward(float *out, const float *inp, size_t C, size_t H, size_t W, size_t S)
{
    /* inp is (C*S*S,H,W), out is (C,H*S,W*S) */
    const size_t OW = W * S;
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < S; i++) {
            for (size_t j = 0; j < S; j++) {
                const float *src = inp + ((c * S + i) * S + j) * H * W;
                float *dst = out + c * H * S * OW + i * OW + j;
                for (size_t y = 0; y < H; y++) {
                    const float *s = src + y * W;
                    float *d = dst + y * S * OW;
                    for (size_t x = 0; x < W; x++) d[x * S] = s[x];
                }
            }
        }
    }
}

void pixel_shuffle_backward(float *dinp, const float *dout, size_t C, size_t H, size_t W,
                            size_t S)
{
    const size_t OW = W * S;
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < S; i++) {
            for (size_t j = 0; j < S; j++) {
                float *dst = dinp + ((c * S + i) * S + j) * H * W;
                const float *src = dout + c * H * S * OW + i * OW + j;
                for (size_t y = 0; y < H; y++) {
                    float *d = dst + y * W;
                    const float *s = src + y * S * OW;
                    for (size_t x = 0; x < W; x++) d[x] += s[x * S];
                }
            }
        }
    }
}
