/*
 * rate.h - the rate fit: per-tensor bit widths for the stored tensors so that the file lands
 * on its size target with the least sensitivity-weighted error (quantization: paper Eq. 5).
 */
#ifndef HINER_RATE_H
#define HINER_RATE_H

#include "fileio.h"

/* The bit widths the rate fit chooses from. */
#define HN_QB_LO 3
#define HN_QB_HI 14

/* The stored tensors: the decoder's, then the encoder's or the embedding table. */
typedef struct hn_qset {
    int nt;
    const float *src[HN_MAX_TENSORS];
    float *dst[HN_MAX_TENSORS]; /* where the restored values go */
    size_t rows[HN_MAX_TENSORS], cols[HN_MAX_TENSORS];
    int net_index[HN_MAX_TENSORS]; /* tensor of the net, -1 for the embedding table */
    int bits[HN_MAX_TENSORS];
    int mode[HN_MAX_TENSORS]; /* quantization mode, -1: chosen at each measure */
    hn_qtensor qt[HN_MAX_TENSORS];
    int n_dec;         /* the first n_dec tensors go to DECO */
    hn_buf deco, rest; /* payloads at the last measure */
    int method;
    uint64_t size_of[3]; /* bytes under each method at the last measure (0: not tried) */
    const float *sens[HN_MAX_TENSORS]; /* each weight's sensitivity (hn_sensitivity), or NULL */
    /* per tensor and bit width: sensitivity-weighted squared error, bytes coded alone */
    double D[HN_MAX_TENSORS][HN_QB_HI + 1], R[HN_MAX_TENSORS][HN_QB_HI + 1];
} hn_qset;

/* The stored tensors of m, all at `bits`, each mode chosen at each measure. */
HN_HIDDEN void hn_qset_init(hn_qset *q, hiner_model *m, int store_encoder, int bits);
HN_HIDDEN void hn_qset_clear(hn_qset *q);
/* Quantizes every tensor at its bit width and codes the payloads; *bytes is what they
 * take. method 0 tries both coders and keeps the smaller. */
HN_HIDDEN hiner_status hn_qset_measure(hn_qset *q, int method, uint64_t *bytes);
/* Restores the quantized values into the model (what a reader of the file will see). */
HN_HIDDEN void hn_qset_restore(hn_qset *q);

/* Bit widths so that fixed + payloads lands on the target with the least
 * sensitivity-weighted error (q->sens set): unless `keep`, the widths of a Lagrangian
 * allocation whose estimated size fits; then single steps measured, down where the error
 * per byte saved is least until the file fits, up where it is most while it does.
 * *total is the file's size at the widths chosen. */
HN_HIDDEN hiner_status hn_rate_fit(hn_qset *q, int method, uint64_t fixed, uint64_t target,
                                   int keep, uint64_t *total, const hn_log *lg);

#endif
