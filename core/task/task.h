/*
 * task.h - downstream classification on (decoded) cubes: the layers only the classifier
 * uses (group-wise spectral embedding, cross-layer adaptive fusion, ASW), the
 * SpectralFormer network over one parameter slab, and its activations.
 * Nothing outside core/ includes this file.
 */
#ifndef HINER_TASK_H
#define HINER_TASK_H

#include "../nn/nn.h"
#include "hiner_classify.h"

/* ---- group-wise spectral embedding (gse.c) ----
 * inp is (B,P,C): P pixels of a patch, C bands per pixel. Token t (T = ceil(C/S) of them)
 * is the G*P values of bands c-G/2 .. c+G/2 around c = t*S + S/2 (zeros beyond the ends),
 * band-major: X[b,t,g*P+p] = inp[b,p,c+g-G/2]; out (B,T,D) = X weight^T + bias, weight
 * (D,G*P). S = 1 is SpectralFormer's one token per band. X (B*T*G*P floats) is saved for
 * the backward pass. */
HN_HIDDEN void gse_forward(float *out, float *X, const float *inp, const float *weight,
                           const float *bias, size_t B, size_t P, size_t C, size_t G, size_t S,
                           size_t T, size_t D);
/* dinp may be NULL; else wksp holds B*T*G*P floats. */
HN_HIDDEN void gse_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *X, const float *weight, size_t B, size_t P, size_t C,
                            size_t G, size_t S, size_t T, size_t D, float *wksp);

/* ---- cross-layer adaptive fusion (caf.c): SpectralFormer's skipcat ----
 * nn.Conv2d(N, N, [1,2]) over the tokens as channels, on cat([x, skip], dim=3):
 * out[b,o,:] = bias[o] + sum_i weight[0,o,i] x[b,i,:] + weight[1,o,i] skip[b,i,:].
 * x, skip, out are (B,N,D); weight is (2,N,N) (PyTorch's (N,N,1,2) with the last axis
 * first); bias (N). */
HN_HIDDEN void caf_forward(float *out, const float *x, const float *skip, const float *weight,
                           const float *bias, size_t B, size_t N, size_t D);
HN_HIDDEN void caf_backward(float *dx, float *dskip, float *dweight, float *dbias,
                            const float *dout, const float *x, const float *skip,
                            const float *weight, size_t B, size_t N, size_t D);

/* ---- adaptive spectral weighting (asw.c) ----
 * Band scales s (C) = 1 + w2 GELU(w1 * 1 + b1) + b2 (a tiny MLP on a constant input,
 * w1, b1 (H), w2 (C,H), b2 (C)); zpre, z (H) saved. */
HN_HIDDEN void asw_scale_forward(float *s, float *zpre, float *z, const float *w1,
                                 const float *b1, const float *w2, const float *b2, size_t C,
                                 size_t H);
HN_HIDDEN void asw_scale_backward(float *dw1, float *db1, float *dw2, float *db2,
                                  const float *ds, const float *zpre, const float *z,
                                  const float *w2, size_t C, size_t H);
/* Per pixel row of inp (R,C): xs = inp * s; h = xs m1^T + c1 (R,M); g = GELU(h);
 * out = xs + g m2^T + c2, m1 (M,C), c1 (M), m2 (C,M), c2 (C). xs, h, g saved. */
HN_HIDDEN void asw_forward(float *out, float *xs, float *h, float *g, const float *inp,
                           const float *s, const float *m1, const float *c1, const float *m2,
                           const float *c2, size_t R, size_t C, size_t M);
/* dinp may be NULL; ds (C) accumulates d/ds. dout is overwritten (it becomes dxs);
 * wksp holds R*M floats. */
HN_HIDDEN void asw_backward(float *dinp, float *ds, float *dm1, float *dc1, float *dm2,
                            float *dc2, float *dout, const float *xs, const float *h,
                            const float *g, const float *inp, const float *s, const float *m1,
                            const float *m2, size_t R, size_t C, size_t M, float *wksp);

/* ---- SpectralFormer (sformer.c) ---- */
typedef struct hn_sf_cfg {
    size_t C;          /* bands */
    size_t K;          /* classes */
    size_t P;          /* patch side (P*P pixels) */
    size_t G;          /* band group */
    size_t S;          /* band stride: a token every S bands */
    size_t T;          /* spectral tokens, ceil(C / S); N = T + 1 with the class token */
    size_t D, depth, NH, MLP;
    float drop;        /* dropout rate while training (SpectralFormer's dropout and
                          emb_dropout sites), 0 = none */
    int caf;
    int asw;
    size_t AH, AM;     /* ASW: scale MLP hidden width, band MLP width */
} hn_sf_cfg;

/* Pointers into a parameter (or gradient) slab, in slab order. */
typedef struct hn_sf_layer {
    float *ln1_w, *ln1_b, *qkv_w, *proj_w, *proj_b, *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w,
        *fc2_b;
    float *caf_w, *caf_b; /* layers 2.. with CAF, else NULL */
} hn_sf_layer;

#define HN_SF_MAX_DEPTH 16

typedef struct hn_sf_params {
    float *as1_w, *as1_b, *as2_w, *as2_b, *am1_w, *am1_b, *am2_w, *am2_b; /* NULL without ASW */
    float *gse_w, *gse_b, *cls, *pos;
    hn_sf_layer L[HN_SF_MAX_DEPTH];
    float *lnf_w, *lnf_b, *head_w, *head_b;
} hn_sf_params;

/* Floats in the slab of cfg (ASW parameters included when cfg->asw); *n_asw gets those
 * of ASW (may be NULL). 0 on overflow. */
HN_HIDDEN size_t hn_sf_count(const hn_sf_cfg *cfg, size_t *n_asw);
HN_HIDDEN void hn_sf_bind(hn_sf_params *t, float *slab, const hn_sf_cfg *cfg);
/* PyTorch's default initialisation (uniform +-1/sqrt(fan_in), LayerNorm 1/0, class token
 * and positions N(0,1)); the last layers of ASW are zero, so ASW starts as the identity. */
HN_HIDDEN void hn_sf_init(const hn_sf_params *t, const hn_sf_cfg *cfg, hn_rng *rng);

/* Activations of up to Bmax samples (one worker's share of a batch). */
typedef struct hn_sf_acts {
    size_t Bmax;
    /* inputs */
    float *inp;       /* (B,P*P,C) normalised patch values, 0 at invalid pixels */
    uint8_t *mask;    /* (B,P*P) valid pixels */
    int32_t *target;  /* (B) class 0..K-1 */
    /* ASW */
    float *ascale, *azpre, *az; /* (C), (AH), (AH) */
    float *axs, *ah, *ag, *ay;  /* (B*PP,C), (B*PP,AM), (B*PP,AM), (B*PP,C) */
    /* embedding and tokens */
    float *X, *E;     /* (B*T,G*PP), (B*T,D) */
    float *lin[HN_SF_MAX_DEPTH + 1]; /* (B,N,D) input of each layer before CAF; [depth] =
                                        the encoder's output */
    float *xl[HN_SF_MAX_DEPTH];      /* (B,N,D) input after CAF (== lin[l] without) */
    float *ln1[HN_SF_MAX_DEPTH], *ln1_m[HN_SF_MAX_DEPTH], *ln1_r[HN_SF_MAX_DEPTH];
    float *qkv[HN_SF_MAX_DEPTH], *att[HN_SF_MAX_DEPTH], *ao[HN_SF_MAX_DEPTH];
    float *xm[HN_SF_MAX_DEPTH];
    float *ln2[HN_SF_MAX_DEPTH], *ln2_m[HN_SF_MAX_DEPTH], *ln2_r[HN_SF_MAX_DEPTH];
    float *fh[HN_SF_MAX_DEPTH], *fg[HN_SF_MAX_DEPTH];
    float *zc, *lnf, *lnf_m, *lnf_r, *logits, *probs; /* (B,D) (B,D) (B) (B) (B,K) (B,K) */
    /* backward scratch */
    float *dlin[HN_SF_MAX_DEPTH + 1];
    float *dx, *dxm, *dln, *dqkv, *dao, *dfh, *dfg, *datt; /* datt (N*N) */
    float *dzc, *dlnf, *dlogits, *dE, *dX, *dy, *dah, *dscale; /* dX (B*T,G*PP) */
    float *dtmp;      /* (B,N,D) */
    /* dropout keep-masks: tokens after the positions, and per layer the attention output,
     * the MLP's hidden layer and its output */
    uint8_t *m_emb, *m_att[HN_SF_MAX_DEPTH], *m_hid[HN_SF_MAX_DEPTH], *m_out[HN_SF_MAX_DEPTH];
    int dropped;      /* the last forward pass applied dropout */
    uint8_t *bytes;   /* the masks' allocation */
    float *slab;      /* one allocation */
    int train;        /* 0: inference only (no backward buffers, activations reused) */
} hn_sf_acts;

HN_HIDDEN hiner_status hn_sf_acts_init(hn_sf_acts *a, const hn_sf_cfg *cfg, size_t Bmax,
                                       int train);
HN_HIDDEN void hn_sf_acts_free(hn_sf_acts *a);

/* Forward pass of B samples (a->inp, a->mask filled): the logits. With rng (training)
 * and cfg->drop > 0, dropout masks are drawn from rng. Returns the sum over valid patch
 * values of (ASW out - in)^2 (0 without ASW). */
HN_HIDDEN double hn_sf_forward(const hn_sf_cfg *cfg, const hn_sf_params *w, hn_sf_acts *a,
                               size_t B, hn_rng *rng);
/* Backward of ce_scale * sum_b CE_b + rec_scale * sum (ASW out - in)^2 into g (which
 * accumulates). Needs the forward pass just before, with a->target set and a->probs
 * from crossentropy_forward. */
HN_HIDDEN void hn_sf_backward(const hn_sf_cfg *cfg, const hn_sf_params *w,
                              const hn_sf_params *g, hn_sf_acts *a, size_t B, float ce_scale,
                              float rec_scale);

#endif /* HINER_TASK_H */
