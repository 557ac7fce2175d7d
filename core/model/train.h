/*
 * train.h - training a model's network on a cube (train.c, paper Eq. 1 and 4), with or
 * without fake quantization, and each weight's sensitivity for the rate fit.
 */
#ifndef HINER_TRAIN_H
#define HINER_TRAIN_H

#include "cube.h"

/* Bands per optimizer step (the mean of their gradients), save for the paper's settings
 * and tiles (one); with two threads or more each band of a pair runs on its own thread. */
#define HN_BAND_BATCH 2
/* The largest band (padded pixels) whose pair runs side by side. */
#define HN_LANE_PIXELS (256 * 256)

typedef struct hn_train_cfg {
    int epochs;
    int batch; /* bands per step: 1 or HN_BAND_BATCH */
    float lr, warmup, w_l1, w_cam, w_l2;
    uint64_t seed;
    int threads;
    /* quantization-aware training: per tensor bits (0 = not quantized) and mode (0/1) of
     * the fake quantization applied in every forward pass; NULL for plain training */
    const int *qat_bits, *qat_mode;
    hiner_progress_fn progress;
    void *progress_user;
    double progress_lo, progress_hi; /* the span of the caller's progress this run covers */
    const char *what;                /* "training", "fine-tuning" */
    hn_log log;
} hn_train_cfg;

/* Trains m's network on d (weights must be initialised). */
HN_HIDDEN hiner_status hn_train(hiner_model *m, const hn_data *d, const hn_train_cfg *cfg,
                                hiner_train_report *rep);
/* F (n_params) = each weight's sensitivity: the diagonal of the sum over bands of
 * J_b^T J_b / (n_b MSE_b), J_b the Jacobian of band b's n_b valid pixels, estimated with
 * `probes` random-sign probes per band (unbiased; their noise falls as 1 / sqrt(probes x
 * bands)). A perturbation d of the weights lowers the mean per-band PSNR by about
 * 10 / ln 10 / C * sum_i F_i d_i^2. F_embed (bands x embedding size, or NULL) gets the
 * same for each band's embedding. */
HN_HIDDEN hiner_status hn_sensitivity(hiner_model *m, const hn_data *d, int threads,
                                      int probes, uint64_t seed, float *F, float *F_embed);
/* The training settings of the params (progress over [0, 1]). */
HN_HIDDEN void hn_cfg_from_params(hn_train_cfg *cfg, const hiner_params *p);

#endif /* HINER_TRAIN_H */
