/*
 * hiner_classify.h - pixel classification of (decoded) HINER cubes: SpectralFormer with
 * ASW and ISI. The public header of libhiner_classify, a library over hiner.h: link it
 * before libhiner (pkg-config hiner-classify). Conventions as in hiner.h.
 */
#ifndef HINER_CLASSIFY_H
#define HINER_CLASSIFY_H

#include "hiner.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The classifier is SpectralFormer (Hong et al., TGRS 2022) in its patch-wise form with
 * cross-layer adaptive fusion: every band is a token made of the patch x patch
 * neighbourhood of `band_group` adjacent bands (group-wise spectral embedding), plus a
 * class token; a pre-norm transformer, and a linear head on the class token. On decoded
 * cubes two additions of the HINER paper (Sec. 3.3) help:
 *   ASW  Adaptive Spectral Weighting: a per-pixel module in front of the classifier,
 *        x * (1 + s) followed by a residual band MLP (1x1 convolutions C -> C/r -> C,
 *        GELU), with s produced by a tiny MLP; trained with the classifier on
 *        L_C + asw_beta * L_R, L_R the mean squared change it makes to its input.
 *   ISI  Implicit Spectral Interpolation: training also draws samples from cubes decoded
 *        at every band's wavelength plus U(-eta, eta) band spacings
 *        (hiner_model_decode_jittered); no ground truth is involved.
 * Cubes are given as floats in any units: each band is min-max normalised with the range
 * of the training cube's valid pixels (the range is kept in the classifier). */
#define HINER_CLASS_MAX 255

typedef struct hiner_classifier hiner_classifier;

/* Model and training settings. Fill with hiner_classify_params_init(), then change. */
typedef struct hiner_classify_params {
    uint32_t abi_version; /* set by hiner_classify_params_init(); do not change */

    /* --- the model: SpectralFormer (its published settings but the patch, the band
     *     groups and the stride, chosen by measurement) --- */
    int patch;            /* side of the spatial patch around a pixel, odd, default 3 */
    int band_group;       /* adjacent bands in a band's token, odd, default 5 */
    int dim;              /* token width, default 64 */
    int depth;            /* transformer layers, default 5 */
    int heads;            /* attention heads (dividing dim), default 4 */
    int mlp_dim;          /* hidden width of the transformer's MLP, default 8 */
    int caf;              /* 1 (default): cross-layer adaptive fusion; 0: plain encoder */
    float dropout;        /* dropout rate while training, at SpectralFormer's places (the
                             tokens, the attention output, the MLP's hidden layer and
                             output), default 0.1 */

    /* --- ASW --- */
    int asw;              /* 1: adaptive spectral weighting in front; default 0 */
    float asw_beta;       /* weight of L_R against the cross-entropy, default 2.5 */
    int asw_hidden;       /* hidden width of the MLP producing the band scales, default 16 */
    int asw_reduce;       /* band MLP width C / asw_reduce, default 4 */

    /* --- training: Adam with weight decay, step decay of the rate --- */
    int epochs;           /* passes over the training pixels, default 60 */
    int batch;            /* pixels per step, default 64 */
    float lr;             /* default 5e-4 */
    float weight_decay;   /* L2 as torch.optim.Adam's weight_decay, default 5e-3 */
    float lr_gamma;       /* the rate is multiplied by lr_gamma every epochs/10 epochs,
                             default 0.9 */
    float isi_clean;      /* with augmented cubes: probability that a sample is taken from
                             the main cube, default 0.5 */
    float isi_until;      /* with augmented cubes: fraction of the epochs that draw from
                             them; the rest train on the main cube only, default 0.7 */
    uint64_t seed;        /* initialisation, shuffling and cube draws, default 1. ASW's
                             weights and the cube draws have streams of their own: with
                             or without them, a seed starts the classifier from the same
                             weights and shuffles the pixels alike */
    int threads;          /* worker threads, default 1 (0 means 1). Results are
                             deterministic for a given seed and thread count. */

    /* --- callbacks (of hiner_classifier_train) --- */
    hiner_progress_fn progress;
    void *progress_user;
    hiner_log_fn log;
    void *log_user;

    /* --- appended fields (the layout above is unchanged) --- */
    int band_stride;      /* a token every band_stride bands (ceil(bands / band_stride)
                             tokens, each of band_group bands around its band): fewer
                             tokens, less work per pixel; default 4 (1: a token per
                             band, as the paper's SpectralFormer) */
    int augment;          /* 1: each training patch is flipped and rotated at random (one of
                             the 8 symmetries of the square), default 0 */
    uint64_t reserved[15]; /* zero */
} hiner_classify_params;

/* Fills p with defaults. Pass HINER_ABI_VERSION; a mismatch returns HINER_E_ABI. */
HINER_API hiner_status hiner_classify_params_init(hiner_classify_params *p, int abi_version);
/* Checks every field's range; HINER_E_INVALID_ARG, with the detail sent to p->log. */
HINER_API hiner_status hiner_classify_params_validate(const hiner_classify_params *p);

/* What a classifier is trained on. Only pixels with a nonzero label are used: pass the
 * training labels only (keep the test pixels at 0). */
typedef struct hiner_classify_data {
    uint32_t width, height, bands;
    const float *cube;           /* (bands,height,width) samples, row-major, any units */
    const uint8_t *valid;        /* (height,width): nonzero where the pixel is valid (not
                                    NoData); NULL = every pixel. Invalid pixels read as 0
                                    after normalisation; invalid labelled pixels are an
                                    error. */
    const uint8_t *labels;       /* (height,width): class 1..n_classes, 0 = not trained on */
    int n_classes;               /* 2..HINER_CLASS_MAX; 0 = the largest label */
    uint32_t n_augment;          /* ISI: extra cubes of the same shape, units and validity */
    const float *const *augment; /* n_augment pointers to (bands,height,width) floats */
} hiner_classify_data;

typedef struct hiner_classify_report {
    int epochs_done;
    uint64_t steps;              /* optimizer steps */
    uint32_t train_pixels;       /* labelled pixels trained on */
    double seconds;              /* wall time of the training loop */
    double final_loss;           /* mean cross-entropy over the last epoch */
    double final_recon;          /* mean L_R over the last epoch (ASW), else 0 */
    double train_accuracy;       /* over the last epoch's steps, as trained */
    uint64_t classifier_params;  /* SpectralFormer parameters */
    uint64_t asw_params;         /* ASW parameters (0 without) */
} hiner_classify_report;

/* Trains a classifier. On success *out owns it (hiner_classifier_free). report may be NULL.
 * HINER_E_INVALID_ARG for inconsistent data (a label above n_classes, a class with no
 * training pixel, a labelled invalid pixel, fewer than two classes).
 * Thread-safety: reentrant; uses p->threads worker threads, each running its own matrix
 * products: with p->threads > 1 let OpenBLAS run one thread (openblas_set_num_threads(1)
 * or OPENBLAS_NUM_THREADS=1 in the application; hiner-classify does so), as the library
 * leaves that process-wide setting alone. Results do not depend on it. */
HINER_API hiner_status hiner_classifier_train(const hiner_classify_params *p,
                                              const hiner_classify_data *d,
                                              hiner_classifier **out,
                                              hiner_classify_report *report);

/* Training data as patches, for scenes read window by window (hiner-classify on a tiled
 * file of any size): one patch x patch neighbourhood per training pixel, centred on it,
 * mirrored at the image's edges as the cube path does (index -1 reads 0, -2 reads 1, ...,
 * W reads W - 1). The band ranges are given, as the patches do not show the whole scene;
 * with the cube's range of valid pixels, patches cut from a cube train exactly as the
 * cube does. */
typedef struct hiner_classify_patches {
    uint32_t n, bands, patch;    /* patch: hiner_classify_params.patch */
    const float *values;         /* (n, patch*patch, bands): pixel-major, row by row, any
                                    units */
    const uint8_t *valid;        /* (n, patch*patch): nonzero where the pixel is valid in every
                                    band; NULL = all. The centre must be valid. */
    const uint8_t *labels;       /* (n): class 1..n_classes of the centre */
    int n_classes;               /* 2..HINER_CLASS_MAX; 0 = the largest label */
    const float *band_min;       /* (bands): the range each band is normalised with */
    const float *band_max;
    uint32_t n_augment;          /* ISI: patches of the same pixels from jittered cubes */
    const float *const *augment; /* n_augment pointers to arrays laid out as values */
} hiner_classify_patches;

/* As hiner_classifier_train, from patches. */
HINER_API hiner_status hiner_classifier_train_patches(const hiner_classify_params *p,
                                                      const hiner_classify_patches *d,
                                                      hiner_classifier **out,
                                                      hiner_classify_report *report);

/* The classifier's shape: bands, classes and patch side (any pointer may be NULL). */
HINER_API hiner_status hiner_classifier_info(const hiner_classifier *c, uint32_t *bands,
                                             int *n_classes, int *patch);

/* Classifies the valid pixels of a cube with the classifier's band count (the width and
 * height may differ from training): out (height,width) gets the class 1..n_classes, and
 * 0 at invalid pixels. cube and valid as in hiner_classify_data; the classifier's
 * normalisation (and ASW) apply. which (height,width), when not NULL, picks the pixels to
 * classify (the others get 0; their values still fill their neighbours' patches): a
 * pixel's class depends on its patch only, not on which other pixels are classified.
 * progress may be NULL; returning 0 from it aborts (HINER_E_ABORTED). Uses the
 * classifier's thread count. Not thread-safe on one classifier. */
HINER_API hiner_status hiner_classifier_predict(hiner_classifier *c, uint32_t width,
                                                uint32_t height, const float *cube,
                                                const uint8_t *valid, const uint8_t *which,
                                                uint8_t *out, hiner_progress_fn progress,
                                                void *progress_user);

HINER_API void hiner_classifier_free(hiner_classifier *c);

/* Accuracy of a prediction. */
typedef struct hiner_class_scores {
    uint64_t n;          /* pixels scored: truth != 0 */
    uint64_t correct;
    double oa;           /* overall accuracy: correct / n */
    double aa;           /* average accuracy: mean over classes with pixels of their recall */
    double kappa;        /* Cohen's kappa from the confusion matrix */
} hiner_class_scores;

/* Scores pred against truth over the n pixels with truth != 0 (classes 1..n_classes;
 * a prediction outside 1..n_classes counts as wrong). confusion, if not NULL, gets the
 * n_classes x n_classes counts, row = true class - 1, column = predicted class - 1
 * (wrong predictions outside the classes are in no cell); per_class, if not NULL, gets
 * each class's accuracy (NaN for a class with no pixel). */
HINER_API hiner_status hiner_classify_score(const uint8_t *truth, const uint8_t *pred, size_t n,
                                            int n_classes, uint64_t *confusion,
                                            double *per_class, hiner_class_scores *out);

/* Splits labelled pixels into training and test sets: train and test (n) get the label
 * of the pixels drawn for each (0 elsewhere). Per class, `per_class` pixels are drawn at
 * random (seeded) when per_class > 0, else round(fraction * count), at least 1; every
 * class keeps at least one test pixel. HINER_E_INVALID_ARG when a class 1..n_classes has
 * fewer pixels than it needs (per_class + 1, or 2), with the class in the log. */
HINER_API hiner_status hiner_classify_split(const uint8_t *labels, size_t n, int n_classes,
                                            uint32_t per_class, double fraction,
                                            uint64_t seed, uint8_t *train, uint8_t *test,
                                            hiner_log_fn log, void *log_user);

/* ISI: decodes every stored band b at wavelength w_b + u_b, u_b ~ U(-eta, eta) * the
 * local band spacing: the distance to the nearer of b's two neighbours along the
 * wavelength axis. Bands without a range (constant, or all NoData, as bad bands filled
 * with one value) are no neighbours: the jitter goes towards the live side only, and a
 * band without a live neighbour, or without a range itself, is decoded unjittered.
 * Wavelengths as hiner_model_decode_wavelength (band positions when the file has none).
 * out gets (bands,height,width) floats in the source's units; NoData pixels get the
 * NoData value. Draws are seeded: the same seed gives the same cube.
 * HINER_E_UNSUPPORTED when the file carries no spectral encoder. */
HINER_API hiner_status hiner_model_decode_jittered(hiner_model *m, double eta, uint64_t seed,
                                                   float *out);
/* The wavelengths hiner_model_decode_jittered decodes, (bands) into wl, without decoding:
 * a window of such a cube is hiner_model_decode_window_as(..., 1, wl[b], ...) band by band
 * (tiled files: decode_jittered reads every tile). */
HINER_API hiner_status hiner_model_jitter_wavelengths(const hiner_model *m, double eta,
                                                      uint64_t seed, double *wl);

#ifdef __cplusplus
}
#endif
#endif /* HINER_CLASSIFY_H */
