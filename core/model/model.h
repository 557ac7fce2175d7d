/*
 * model.h - HINER itself (paper Sec. 3.2): the architecture plan, the network (spectral
 * encoder PE + MLP, convolutional decoder) with its parameter slab, forward and backward
 * of one band, and the hiner_model handle the public API hands out.
 */
#ifndef HINER_MODEL_H
#define HINER_MODEL_H

#include "../nn/nn.h"

/* ---- plan.c ---- */
/* The architecture for a cube: strides and padding from H x W, widths from the budget. */
HN_HIDDEN hiner_status hn_plan_make(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C,
                                    hiner_plan *out, const hn_log *lg);
/* Widths c_1..c_n from c0 (c_{i+1} = max(rint(c_i / reduce), floor)); fills plan->widths
 * and the parameter counts. */
HN_HIDDEN void hn_plan_set_width(hiner_plan *pl, int c0, float reduce, int floor_width);
HN_HIDDEN uint64_t hn_plan_decoder_params(const hiner_plan *pl);
HN_HIDDEN uint64_t hn_plan_encoder_params(const hiner_plan *pl);

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
    char name[16];
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
    float *z[HINER_MAX_STAGES + 1];       /* pre-GELU of stage inputs: z[0] after conv0 */
    float *a[HINER_MAX_STAGES + 1];       /* GELU outputs */
    float *y;                             /* conv output before PixelShuffle (temp) */
    float *o;                             /* head output before tanh */
    float *out;                           /* decoded band in [0,1], (PH, PW) */
    float *d0, *d1;                       /* gradient ping-pong buffers */
    float *dout;                          /* d loss / d out, (PH, PW) */
    float *demb, *dg1;
    float *wksp;                          /* conv workspace */
    void *block;                          /* one allocation behind every pointer */
} hn_acts;

HN_HIDDEN hiner_status hn_acts_init(hn_acts *A, const hiner_plan *pl, int training);
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

/* ---- the public handle ---- */
struct hiner_model {
    hiner_plan plan;
    hn_net net;
    hn_acts acts;        /* decode-mode activations, allocated on first decode */
    int acts_ready;
    int has_encoder;     /* the encoder tensors hold trained values */
    float *embed;        /* (C, E) stored-band embeddings */
    double *band_min, *band_max;
    double *wavelengths; /* (C) or NULL */
    double lam_lo, lam_scale; /* normalised lambda = (wl - lam_lo) * lam_scale */
    double *lam;         /* (C) normalised wavelength per stored band */
    int has_nodata;
    double nodata;
    uint8_t *valid;      /* (C,H,W) validity, NULL when every pixel is valid */
    hn_log log;
};

/* Allocates the tables of a model for a plan (no weights). */
HN_HIDDEN hiner_status hn_model_alloc(hiner_model **out, const hiner_plan *pl);
/* The decoder output for band b's embedding, cropped and in [0,1]: (H,W) floats. */
HN_HIDDEN hiner_status hn_model_decode_norm(hiner_model *m, const float *emb, float *out);

#endif /* HINER_MODEL_H */
