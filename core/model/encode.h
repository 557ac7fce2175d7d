/*
 * encode.h - the encoder's pipeline (encode.c): a cube and its metadata to a finished
 * .hiner file in memory, and the network stages (train, sensitivities, rate fit,
 * fine-tune, restore) that a file of one tile and each tile of a tiled file (tiled.c) run.
 */
#ifndef HINER_ENCODE_H
#define HINER_ENCODE_H

#include "assemble.h"
#include "fileio.h"
#include "rate.h"

/* The encoder's state from stage to stage. */
typedef struct hn_encoder {
    const hiner_params *p;
    hn_log lg;
    hn_data d;  /* the normalised cube (of a tile: its training window) */
    hn_fixed f; /* the file's parts that do not depend on the weights */
    hiner_plan plan;
    hiner_model *m;
    float *sens, *sens_embed; /* per weight of the net and per value of the embedding table */
    hn_qset q;                /* the stored tensors */
    hn_train_cfg cfg;
    hiner_train_report tr;
    char trng[512];  /* the training record's text */
    double samples;  /* W * H * C */
    int paper;       /* sized by model_bytes, stored at quant_bits: no rate fit */
    int epochs, qat; /* epochs of training and of fine-tuning */
    uint64_t target; /* the file's size target in bytes (0 when paper) */
    uint64_t fixed;  /* bytes of the file but for the stored tensors' payloads */
    uint64_t total;  /* the file's size at the widths chosen */
    double psnr_float, psnr_q;
    hiner_bits bits;
    /* a tile of a tiled file: the caller has set plan, epochs, target and fixed (the
     * tile's bytes but for its payloads); training runs on `threads` threads with these
     * callbacks; `init`, when set, is the weight slab training starts from */
    int tile_mode;
    int threads;
    hiner_progress_fn progress;
    void *progress_user;
    double progress_lo, progress_hi;
    const float *init;
    int keep_trained; /* keep a copy of the weights as trained (before fine-tuning) */
    float *trained;   /* that copy, the caller's to free */
} hn_encoder;

/* The whole file into `file` (initialised by the caller, who frees it on any status); rep,
 * when not NULL, gets what the encoder did. */
HN_HIDDEN hiner_status hn_encode_to_buf(const hiner_cube *cube, const hiner_meta *meta,
                                        const hiner_params *p, hn_buf *file,
                                        hiner_encode_report *rep);
/* The network stages on e->d and e->plan: train, sensitivities, rate fit to e->target,
 * fine-tune, restore. The quantized payloads are then in e->q. */
HN_HIDDEN hiner_status hn_encode_network(hn_encoder *e);
/* The ARCH payload's size for the largest depth, which a plan is sized against. */
HN_HIDDEN size_t hn_arch_bound(void);
/* Frees what the stages allocated (not e->d). */
HN_HIDDEN void hn_encoder_clear(hn_encoder *e);

#endif
