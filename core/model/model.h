/*
 * model.h - HINER itself (paper Sec. 3.2): the architecture plan, the network (spectral
 * encoder PE + MLP, convolutional decoder) with its parameter slab, forward and backward
 * of one band, and the hiner_model handle the public API hands out.
 */
#ifndef HINER_MODEL_H
#define HINER_MODEL_H

#include "../nn/conv_fast.h"

/* ---- plan.c ---- */
/* The architecture for a cube: strides and padding from H x W, widths from the budget. */
HN_HIDDEN hiner_status hn_plan_make(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C,
                                    hiner_plan *out, const hn_log *lg);
/* Bits per weight a network is sized for when quant_bits is b, before it is trained (the
 * rate fit then picks each tensor's width). b - 2: the rate fit gives the bits where the
 * PSNR needs them, so a larger network pays (hydice_urban_162 at 0.1 bpppb, automatic
 * epochs: 38.88 dB sized at b - 2, 38.55 at b - 3; b - 1 gave 38.11 with the former
 * fit). */
#define HN_BETA(b) ((double)(b) - 2.0)
/* Epochs when the params leave them automatic: a deterministic compute budget. A step is
 * modelled as HN_STEP_FIXED seconds plus forward + backward multiply-adds at HN_STEP_MACS
 * per second, fitted to steps measured with 2 threads on this machine (0.70 ms for a
 * 10.5 MMAC decoder, 1.0 ms at 18 MMAC, 1.4 ms at 28 MMAC, ~7 ms at 192 MMAC); the budget
 * is HN_TRAIN_BUDGET seconds of such steps. Small networks train long, large ones within
 * the time. */
#define HN_TRAIN_BUDGET 420.0
#define HN_STEP_FIXED 0.4e-3
#define HN_STEP_MACS 0.9e11
#define HN_EPOCHS_MIN 50
#define HN_EPOCHS_MAX 3000
HN_HIDDEN int hn_auto_epochs(const hiner_plan *pl);
/* A network the budget trains fewer than HN_EPOCHS_LARGE epochs gets up to
 * HN_TRAIN_BUDGET_LARGE seconds to come near them: abu_beach1_188 at 0.4 bpppb (134k
 * weights) trained 222 epochs to 55.54 dB, 280 to 56.16; sized for 6 bits per weight
 * (164k weights), 268 epochs gave 56.34 in 7.3 minutes (the step model counts 540 s:
 * it overestimates steps of large networks by about a third). The size rules
 * (hn_plan_for_rate) count with hn_auto_epochs, not this. */
#define HN_EPOCHS_LARGE 320
#define HN_TRAIN_BUDGET_LARGE 600.0
/* The params' epochs, resolving automatic (-1) for a plan. */
HN_HIDDEN int hn_epochs_for(const hiner_params *p, const hiner_plan *pl);
/* Quantization-aware fine-tuning epochs when the params leave it automatic. */
#define HN_AUTO_QAT(epochs) ((epochs) >= 20 ? (epochs) / 20 : 0)
/* Compact spectral encoder defaults of the file format. */
#define HN_AUTO_ENC_HIDDEN 64
/* The stored encoder's share of the budget its hidden width is chosen for. 20 % left the
 * decoder short: at 14 %, sandiego_189 at 0.1 bpppb gets hidden 24 instead of 32 and a
 * decoder of c0 10 instead of 9: 43.32 dB instead of 42.45 at equal epochs; hydice_urban_162
 * at 0.2, hidden 32 instead of 48: 42.64 instead of 42.18 (docs/benchmarks.md). */
#define HN_ENC_SHARE 0.14
HN_HIDDEN int hn_auto_enc_freqs(uint32_t C, float base);
/* Expected bytes of the stored tensors of a plan at beta bits per value. */
HN_HIDDEN double hn_plan_est_bytes(const hiner_plan *pl, int store_encoder, double beta);
/* The largest network whose stored tensors fit `bytes`, adapting the width floor. */
HN_HIDDEN hiner_status hn_plan_for_bytes(const hiner_params *p, uint32_t W, uint32_t H,
                                         uint32_t C, double bytes, double beta, hiner_plan *pl,
                                         const hn_log *lg);
/* The network for a rate: hn_plan_for_bytes at HN_BETA(quant_bits), or, where training
 * would be compute-bound, at more bits per weight. */
HN_HIDDEN hiner_status hn_plan_for_rate(const hiner_params *p, uint32_t W, uint32_t H,
                                        uint32_t C, double bytes, hiner_plan *pl,
                                        const hn_log *lg);
/* Automatic epochs below which a network counts as compute-bound, and the most bits per
 * weight added to train a smaller one longer. abu_beach1_188 (150 x 150) at 0.4 bpppb:
 * 207k weights got 145 epochs and 55.02 dB, below its 55.11 at 0.2 bpppb. */
#define HN_EPOCHS_WANT 200
#define HN_EXTRA_BITS 4
/* Widths c_1..c_n from c0 (c_{i+1} = max(rint(c_i / reduce), floor)); fills plan->widths
 * and the parameter counts. */
HN_HIDDEN void hn_plan_set_width(hiner_plan *pl, int c0, float reduce, int floor_width);
/* Parameter counts and MACs of a plan whose widths are set. */
HN_HIDDEN void hn_plan_finish(hiner_plan *pl);
HN_HIDDEN uint64_t hn_plan_decoder_params(const hiner_plan *pl);
HN_HIDDEN uint64_t hn_plan_encoder_params(const hiner_plan *pl);
/* The format's limits (docs/format.md): floats of one decoder activation, weights of one
 * network (and values of its embeddings). */
#define HN_MAX_ACT ((uint64_t)1 << 26)
#define HN_MAX_PARAMS ((uint64_t)1 << 24)
/* Floats of the padded output frame and of the largest activation (a conv output before
 * PixelShuffle) of a plan whose strides are set; stops counting once the frame passes
 * HN_MAX_ACT, so a hostile plan cannot overflow. */
HN_HIDDEN void hn_plan_act_floats(const hiner_plan *pl, uint64_t *frame, uint64_t *largest);
/* HINER_OK when a reader would accept a file of this plan (HN_MAX_ACT, HN_MAX_PARAMS);
 * else HINER_E_LIMIT, with the reason logged. The encoder asks before training, so that
 * no file is written that cannot be read back. */
HN_HIDDEN hiner_status hn_plan_readable(const hiner_plan *pl, const hn_log *lg);
/* One info line describing a plan. */
HN_HIDDEN void hn_log_plan(const hn_log *lg, const hiner_plan *pl);

/* ---- net.c: parameters ---- */
enum {
    HN_T_ENC_W1 = 0, /* (hidden, 2L) */
    HN_T_ENC_B1,     /* (hidden) */
    HN_T_ENC_W2,     /* (E, hidden), E = embed_channels * h * w */
    HN_T_ENC_B2,     /* (E) */
    HN_T_CONV0_W,    /* (c0, embed_channels, 1, 1) */
    HN_T_CONV0_B,    /* (c0) */
    HN_T_STAGE0_W    /* stage i: W at HN_T_STAGE0_W + 2i, (c_{i+1} s^2, c_i, k, k); bias next */
};
#define HN_T_HEAD_W(n_stages) (HN_T_STAGE0_W + 2 * (n_stages))
#define HN_T_HEAD_B(n_stages) (HN_T_STAGE0_W + 2 * (n_stages) + 1)
#define HN_MAX_TENSORS (HN_T_STAGE0_W + 2 * HINER_MAX_STAGES + 2)

typedef struct hn_tensor {
    char name[24];
    size_t off, n;      /* within the slab */
    int ndim;
    uint32_t shape[4];
    size_t fan_in;      /* for initialisation */
    int is_encoder;     /* part of the spectral encoder (not needed to decode stored bands) */
} hn_tensor;

typedef struct hn_net {
    hiner_plan plan;
    int n_tensors;
    hn_tensor t[HN_MAX_TENSORS];
    size_t n_params;    /* whole slab */
    size_t n_encoder;   /* encoder tensors come first: slab[0, n_encoder) */
    float *params;
} hn_net;

/* Lays out the tensors for the plan and allocates the slab (zeroed). */
HN_HIDDEN hiner_status hn_net_init(hn_net *net, const hiner_plan *pl);
HN_HIDDEN void hn_net_free(hn_net *net);
/* PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases. */
HN_HIDDEN void hn_net_init_weights(hn_net *net, hn_rng *rng);
static inline float *hn_tensor_ptr(const hn_net *net, float *slab, int i)
{
    return slab + net->t[i].off;
}

/* ---- net.c: activations and one band's forward/backward ---- */
typedef struct hn_acts {
    int training;       /* keep every activation for backward */
    size_t embed_len;   /* E */
    float *pe, *h1, *g1, *emb;            /* encoder */
    float *z0;                            /* conv0 output (pre-GELU) */
    float *ys[HINER_MAX_STAGES];          /* stage i's conv output, before PixelShuffle and
                                             GELU (kept for GELU's backward) */
    float *a[HINER_MAX_STAGES + 1];       /* GELU outputs: the input of stage i */
    float *y;                             /* temporary of the largest activation size */
    float *o;                             /* head output before tanh */
    float *out;                           /* decoded band in [0,1], (PH, PW) */
    float *d0, *d1;                       /* gradient ping-pong buffers */
    float *dout;                          /* d loss / d out, (PH, PW) */
    float *demb, *dg1;
    float *wksp;                          /* conv workspace */
    hn_exec x;                            /* kernels, threads, workspace of the fast paths */
    /* Rows that matter (the true extent and what it depends on; the rest is padding):
     * rows_a[i] of stage i's input, rows_y[i] of its conv output, rows_out of the band. */
    hn_rows rows_a[HINER_MAX_STAGES + 1], rows_y[HINER_MAX_STAGES], rows_out;
    double *prof;                         /* NULL, or seconds per layer (benchmarks):
                                             [0] conv0, [1+i] stage i, [1+n] head, each
                                             forward + backward */
    void *block;                          /* one allocation behind every pointer */
} hn_acts;

/* pool may be NULL (one thread); it is used, not owned. */
HN_HIDDEN hiner_status hn_acts_init(hn_acts *A, const hiner_plan *pl, int training,
                                    hn_pool *pool);
HN_HIDDEN void hn_acts_free(hn_acts *A);

/* emb (E) = encoder(lambda): PE, Linear, GELU, Linear. */
HN_HIDDEN void hn_encoder_forward(const hn_net *net, const float *params, hn_acts *A,
                                  double lambda, float *emb);
/* grads += d/dparams given A->demb (uses the activations of the last forward). */
HN_HIDDEN void hn_encoder_backward(const hn_net *net, const float *params, float *grads,
                                   hn_acts *A);
/* A->out (PH,PW) = decoder(emb). */
HN_HIDDEN void hn_decoder_forward(const hn_net *net, const float *params, hn_acts *A,
                                  const float *emb);
/* grads += d/dparams and A->demb = d/demb, given A->dout; needs a training forward. */
HN_HIDDEN void hn_decoder_backward(const hn_net *net, const float *params, float *grads,
                                   hn_acts *A);

/* ---- cube.c ---- */
HN_HIDDEN hiner_status hn_cube_check(const hiner_cube *cube);
/* Band b as doubles into out (H*W) with valid[i] = 0 for NoData/NaN/inf; tmp holds one
 * band of the native type when the cube reads through its callback. */
HN_HIDDEN hiner_status hn_cube_read_band(const hiner_cube *cube, uint32_t b, void *tmp,
                                         double *out, uint8_t *valid, size_t *n_valid);
/* Min and max over valid samples (both 0 when none is valid). */
HN_HIDDEN void hn_band_minmax(const double *v, const uint8_t *valid, size_t n, double *mn,
                              double *mx);

/* ---- cube.c: the training data ---- */
typedef struct hn_data {
    uint32_t W, H, C;
    hiner_dtype dtype;
    float *target;        /* (C,H,W) bands normalised to [0,1] by their own min and max */
    uint8_t *valid;       /* (C,H,W) or NULL when every pixel is valid */
    int mask_per_band;    /* the mask differs between bands */
    double *band_min, *band_max;
    double *wavelengths;  /* (C) or NULL: bands addressed by index */
    double lam_lo, lam_scale;
    double *lam;          /* (C) normalised wavelengths */
    int has_nodata;
    double nodata;
} hn_data;

/* Reads and normalises the cube (docs: DESIGN.md "The method"). HINER_E_NODATA when no
 * pixel is valid. */
HN_HIDDEN hiner_status hn_data_load(hn_data *d, const hiner_cube *cube, const hn_log *lg);
HN_HIDDEN void hn_data_free(hn_data *d);
/* Normalised wavelength of `wl` (a wavelength, or a band position without wavelengths). */
HN_HIDDEN double hn_lambda_of(double wl, int has_wl, double lo, double scale);

/* ---- train.c ---- */
typedef struct hn_train_cfg {
    int epochs;
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

/* ---- meta.c: metadata besides the network ---- */
struct hn_buf;
struct hn_rd;
typedef struct hn_meta_store hn_meta_store;
HN_HIDDEN hn_meta_store *hn_meta_store_new(uint32_t bands);
HN_HIDDEN void hn_meta_store_free(hn_meta_store *s);
HN_HIDDEN const hiner_meta *hn_meta_store_view(hn_meta_store *s);
HN_HIDDEN void hn_geo_serialize(struct hn_buf *b, const hiner_meta *m);
HN_HIDDEN int hn_geo_empty(const hiner_meta *m);
HN_HIDDEN hiner_status hn_geo_parse(struct hn_rd *r, hn_meta_store *s);
HN_HIDDEN void hn_metarec_serialize(struct hn_buf *b, const hiner_meta *m, uint32_t bands);
HN_HIDDEN hiner_status hn_metarec_parse(struct hn_rd *r, hn_meta_store *s);
HN_HIDDEN void hn_wave_serialize(struct hn_buf *b, const char *units, const double *wl,
                                 const double *fwhm, uint32_t bands);
/* Fills wl (bands) and the store's units and FWHM. */
HN_HIDDEN hiner_status hn_wave_parse(struct hn_rd *r, hn_meta_store *s, double *wl);

/* ---- the public handle ---- */
struct hiner_model {
    hiner_plan plan;
    hn_net net;
    hn_acts acts;        /* decode-mode activations, allocated on first decode */
    int acts_ready;
    int threads;         /* decoding threads (hiner_model_set_threads) */
    hn_pool *pool;       /* their pool, created with the activations */
    int has_encoder;     /* the encoder tensors hold trained values */
    float *embed;        /* (C, E) stored-band embeddings */
    double *band_min, *band_max;
    double *wavelengths; /* (C) or NULL */
    double lam_lo, lam_scale; /* normalised lambda = (wl - lam_lo) * lam_scale */
    double *lam;         /* (C) normalised wavelength per stored band */
    int has_nodata;
    double nodata;
    uint8_t *valid;      /* (P,H,W) validity, P = C or 1; NULL when every pixel is valid */
    int mask_per_band;   /* P == C */
    hiner_dtype dtype;   /* of the source */
    hn_log log;
    /* what a file said (zero for a trained model) */
    int format_major, format_minor, entropy, quant_bits;
    hiner_bits bits;
    hn_meta_store *meta;        /* owned copy of the metadata, or NULL */
    char *training;             /* "key=value\n" lines, or NULL */
};

/* Moves the normalisation, wavelengths and mask of d into m (d keeps its target). */
HN_HIDDEN hiner_status hn_model_take_data(hiner_model *m, hn_data *d);
/* Values of one band's embedding: E = embed_channels * embed_height * embed_width. */
static inline size_t hn_embed_size(const hiner_plan *pl)
{
    return (size_t)pl->embed_channels * pl->embed_height * pl->embed_width;
}
/* Band b's validity plane, or NULL. */
static inline const uint8_t *hn_model_valid(const hiner_model *m, uint32_t b)
{
    if (!m->valid) return NULL;
    return m->valid + (m->mask_per_band ? (size_t)b : 0) * m->plan.width * m->plan.height;
}
/* Fills m->embed from the encoder at each band's wavelength. */
HN_HIDDEN hiner_status hn_model_compute_embeddings(hiner_model *m);
/* Creates the decode activations (and thread pool) on first use. */
HN_HIDDEN hiner_status hn_model_ready(hiner_model *m);
/* hiner_model_decode_wavelength, also naming the band whose validity mask applies. */
HN_HIDDEN hiner_status hn_model_decode_wavelength_plane(hiner_model *m, double wl, float *out,
                                                        int *plane);
/* Allocates the tables of a model for a plan (no weights). */
HN_HIDDEN hiner_status hn_model_alloc(hiner_model **out, const hiner_plan *pl);
/* The decoder output for band b's embedding, cropped and in [0,1]: (H,W) floats. */
HN_HIDDEN hiner_status hn_model_decode_norm(hiner_model *m, const float *emb, float *out);

#endif /* HINER_MODEL_H */
