/*
 * quant.h - quantized tensors: integers plus float16 (min, scale) side information per
 * tensor or per row (docs/format.md, "quantized tensors").
 */
#ifndef HINER_QUANT_H
#define HINER_QUANT_H

#include "codec.h"

typedef struct hn_qtensor {
    int bits;          /* 1..16 */
    int mode;          /* 0 per tensor, 1 per row */
    size_t rows, cols; /* first dimension, product of the others */
    uint16_t *q;       /* rows * cols integers in [0, 2^bits) */
    uint16_t *side;    /* float16 (min, scale): 1 pair (mode 0) or `rows` pairs (mode 1) */
} hn_qtensor;

/* Quantizes w (rows, cols). mode: 0 per tensor, 1 per row, -1 the one with the lower
 * squared error (returned in *sq_err, may be NULL). Values must be finite and within
 * float16 range (HINER_E_INVALID_ARG otherwise). */
HN_HIDDEN hiner_status hn_quantize(hn_qtensor *qt, const float *w, size_t rows, size_t cols,
                                   int bits, int mode, double *sq_err);
/* w (rows, cols) = min + q * scale, in float. */
HN_HIDDEN void hn_dequantize(float *w, const hn_qtensor *qt);
/* out (rows, cols) = w quantized and restored with the given bits and mode (0/1), without
 * allocating: the forward pass of quantization-aware training. out may alias w. */
HN_HIDDEN void hn_fake_quant(float *out, const float *w, size_t rows, size_t cols, int bits,
                             int mode);
HN_HIDDEN size_t hn_qtensor_side_count(const hn_qtensor *qt);
HN_HIDDEN void hn_qtensor_free(hn_qtensor *qt);

#endif
