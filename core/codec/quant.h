/*
 * quant.h - quantized tensors: integers plus side information: float16 (min, scale) per
 * tensor or per row, or a float16 step per tensor and a byte per row (docs/format.md,
 * "quantized tensors").
 */
#ifndef HINER_QUANT_H
#define HINER_QUANT_H

#include "codec.h"

typedef struct hn_qtensor {
    int bits;          /* 1..16 */
    int mode;          /* 0 per tensor, 1 per row, 2 per row on a shared grid */
    size_t rows, cols; /* first dimension, product of the others */
    uint16_t *q;       /* rows * cols integers in [0, 2^bits) */
    uint16_t *side;    /* float16 (min, scale): 1 pair (mode 0) or `rows` pairs (mode 1);
                        * mode 2: float16 S, then `rows` grid indices k (0..255) */
} hn_qtensor;

/* Quantizes w (rows, cols). mode: 0 per tensor, 1 per row, 2 per row on a shared grid
 * (bits >= 2), -1 the one with the least squared error at equal bytes (side information
 * counted as the bits per value it could buy). *sq_err (may be NULL) gets the squared
 * error. Values must be finite and within float16 range (HINER_E_INVALID_ARG otherwise). */
HN_HIDDEN hiner_status hn_quantize(hn_qtensor *qt, const float *w, size_t rows, size_t cols,
                                   int bits, int mode, double *sq_err);
/* w (rows, cols) restored: min + q * scale, or (q - 2^(bits-1)) * S * 2^(-k/16) (mode 2),
 * in float. */
HN_HIDDEN void hn_dequantize(float *w, const hn_qtensor *qt);
/* out (rows, cols) = w quantized and restored with the given bits and mode, without
 * allocating: the forward pass of quantization-aware training. out may alias w. */
HN_HIDDEN void hn_fake_quant(float *out, const float *w, size_t rows, size_t cols, int bits,
                             int mode);
/* Entries of qt->side, and the bytes the side information of a mode takes in a file. */
HN_HIDDEN size_t hn_qtensor_side_count(const hn_qtensor *qt);
HN_HIDDEN size_t hn_qtensor_side_bytes(int mode, size_t rows);
HN_HIDDEN void hn_qtensor_free(hn_qtensor *qt);

#endif
