/*
 * net.h - the HINER network (net.c, paper Sec. 3.2): its tensors in one parameter slab,
 * the activations of one band, and the encoder's and decoder's forward and backward.
 */
#ifndef HINER_NET_H
#define HINER_NET_H

#include "../nn/conv_fast.h"
#include "plan.h"

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

/* ---- activations and one band's forward/backward ---- */
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
/* The rows that matter for pl's true extent, from it backwards through the receptive
 * fields (activations of one architecture serve windows at any place in the frame). */
HN_HIDDEN void hn_acts_set_rows(hn_acts *A, const hiner_plan *pl);
/* The convolution workspace (floats) hn_acts_init gives a plan and a thread count: the
 * largest over conv0, the stages and the head. */
HN_HIDDEN size_t hn_acts_wksp_floats(const hiner_plan *pl, int threads);

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

#endif /* HINER_NET_H */
