/*
 * nn.h - the neural engine: float32 kernels with forward and backward side by side
 * (one layer per file), the one matrix-product entry point, Adam and the schedule,
 * and a small fixed thread pool. Tensors are plain float arrays in (C,H,W) order.
 *
 * Conventions (llm.c): outputs first, then saved activations, inputs, weights, dims.
 * Backward passes accumulate (+=) into their gradient outputs; callers zero them.
 */
#ifndef HINER_NN_H
#define HINER_NN_H

#include "../internal.h"

/* ---- thread pool (pool.c) ---- */
typedef struct hn_pool hn_pool;
/* fn(ctx, task, thread): run tasks [0, n) split over the pool's threads. */
typedef void (*hn_task_fn)(void *ctx, size_t task, int thread);
HN_HIDDEN hn_pool *hn_pool_create(int threads);
HN_HIDDEN void hn_pool_free(hn_pool *p);
HN_HIDDEN int hn_pool_threads(const hn_pool *p);
/* Runs fn for every task; task t always goes to thread t % threads (deterministic). */
HN_HIDDEN void hn_pool_run(hn_pool *p, size_t n_tasks, hn_task_fn fn, void *ctx);
/* Subnormal floats flushed to zero (x86 FTZ + DAZ) on this thread while the engine computes:
 * late in training tiny gradients and Adam moments go subnormal, and each operation on one
 * then costs about a hundred cycles. Enter returns the caller's state for leave to restore;
 * the pool's workers run with it on. */
typedef unsigned hn_fpstate;
HN_HIDDEN hn_fpstate hn_fp_enter(void);
HN_HIDDEN void hn_fp_leave(hn_fpstate s);

/* ---- matrix product (gemm.c) ----
 * C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C, row-major, op = transpose when
 * the flag is set (A is then stored (K,M), B stored (N,K)). beta == 0 ignores C's values.
 * hn_gemm uses OpenBLAS when built with it, else the reference loop. */
HN_HIDDEN void hn_gemm(int transA, int transB, size_t M, size_t N, size_t K, float alpha,
                       const float *A, size_t lda, const float *B, size_t ldb, float beta,
                       float *C, size_t ldc);
HN_HIDDEN void hn_gemm_ref(int transA, int transB, size_t M, size_t N, size_t K, float alpha,
                           const float *A, size_t lda, const float *B, size_t ldb, float beta,
                           float *C, size_t ldc);
/* Name of the backend, for logs and benches. */
HN_HIDDEN const char *hn_gemm_backend(void);

/* ---- conv2d (conv2d.c): stride 1, same padding (K odd), bias ----
 * inp is (C,H,W), weight is (OC,C,K,K), bias is (OC), out is (OC,H,W). */
/* Floats of workspace conv2d_forward/backward need. */
HN_HIDDEN size_t conv2d_wksp_floats(size_t C, size_t H, size_t W, size_t K);
HN_HIDDEN void conv2d_forward(float *out, const float *inp, const float *weight,
                              const float *bias, size_t C, size_t H, size_t W, size_t OC,
                              size_t K, float *wksp);
/* dinp may be NULL (no input gradient wanted). */
HN_HIDDEN void conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, size_t C, size_t H,
                               size_t W, size_t OC, size_t K, float *wksp);
HN_HIDDEN void conv2d_forward_ref(float *out, const float *inp, const float *weight,
                                  const float *bias, size_t C, size_t H, size_t W, size_t OC,
                                  size_t K);
HN_HIDDEN void conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                                   const float *inp, const float *weight, size_t C, size_t H,
                                   size_t W, size_t OC, size_t K);

/* ---- PixelShuffle (pixel_shuffle.c), PyTorch semantics ----
 * inp is (C*S*S,H,W), out is (C,H*S,W*S): out[c, y*S+i, x*S+j] = inp[c*S*S + i*S + j, y, x]. */
HN_HIDDEN void pixel_shuffle_forward(float *out, const float *inp, size_t C, size_t H, size_t W,
                                     size_t S);
/* dinp (C*S*S,H,W) += unshuffle(dout (C,H*S,W*S)). */
HN_HIDDEN void pixel_shuffle_backward(float *dinp, const float *dout, size_t C, size_t H,
                                      size_t W, size_t S);

/* ---- GELU, exact erf form (gelu.c): out = x * Phi(x) ---- */
HN_HIDDEN void gelu_forward(float *out, const float *inp, size_t N);
/* dinp += dout * GELU'(inp). dinp may alias dout (then it is overwritten, not added). */
HN_HIDDEN void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N);
HN_HIDDEN void gelu_backward_inplace(float *d, const float *inp, size_t N);

/* ---- tanh output (tanh.c): out = tanh(x) * 0.5 + 0.5 ---- */
HN_HIDDEN void tanh_out_forward(float *out, const float *inp, size_t N);
/* dinp += dout * 0.5 * (1 - tanh(x)^2), from the saved output. */
HN_HIDDEN void tanh_out_backward(float *dinp, const float *out, const float *dout, size_t N);

/* ---- Linear (linear.c): inp is (B,IN), weight is (OUT,IN), bias (OUT), out (B,OUT) ---- */
HN_HIDDEN void linear_forward(float *out, const float *inp, const float *weight,
                              const float *bias, size_t B, size_t IN, size_t OUT);
/* dinp may be NULL. */
HN_HIDDEN void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, size_t B, size_t IN,
                               size_t OUT);

/* ---- sinusoidal positional encoding (posenc.c) ----
 * out (2L) = (sin(b^0 pi l) .. sin(b^{L-1} pi l), cos(b^0 pi l) .. cos(b^{L-1} pi l)),
 * computed in double so that it does not depend on float rounding of b^k pi l. */
HN_HIDDEN void posenc_forward(float *out, double lambda, size_t L, double base);

/* ---- band losses (loss.c) ----
 * pred points at the first true-extent pixel of a (.., pstride) decoded band, target
 * and mask are (H,W); mask may be NULL (all valid), else nonzero marks valid pixels. */
typedef struct hn_band_loss {
    double l1;      /* mean |p - g| over valid pixels */
    double cam;     /* angle between p and g in degrees (0 when g is all zero) */
    double mse;     /* mean (p - g)^2 */
    double dot, pp, gg;
    size_t n;       /* valid pixels */
} hn_band_loss;
HN_HIDDEN void loss_forward(hn_band_loss *L, const float *pred, size_t pstride,
                            const float *target, const uint8_t *mask, size_t H, size_t W);
/* dpred += d(w_l1 * L1 + w_cam * CAM + w_l2 * MSE)/dpred, over the true extent. */
HN_HIDDEN void loss_backward(float *dpred, size_t pstride, const hn_band_loss *L,
                             const float *pred, const float *target, const uint8_t *mask,
                             size_t H, size_t W, float w_l1, float w_cam, float w_l2);

/* ---- Adam (adam.c), PyTorch's update with bias correction, no weight decay ---- */
typedef struct hn_adam {
    float beta1, beta2, eps, weight_decay;
    uint64_t t; /* steps taken */
} hn_adam;
HN_HIDDEN void adam_init(hn_adam *a);
/* One step over a flat slab of n parameters. */
HN_HIDDEN void adam_update(hn_adam *a, float *params, const float *grads, float *m, float *v,
                           size_t n, float lr);
/* Warm-up from 0.1 * base over the first `warmup` fraction of steps, then cosine to 0. */
HN_HIDDEN float lr_schedule(uint64_t step, uint64_t total, float base, float warmup);

/* ---- LayerNorm over the last axis (layernorm.c), PyTorch semantics, eps 1e-5 ----
 * inp, out are (R,D); weight, bias (D); mean, rstd (R) are saved for the backward. */
HN_HIDDEN void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                                 const float *weight, const float *bias, size_t R, size_t D);
HN_HIDDEN void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                  const float *inp, const float *weight, const float *mean,
                                  const float *rstd, size_t R, size_t D);

/* ---- multi-head self-attention core (attention.c): O = softmax(Q K^T / sqrt(HS)) V ----
 * qkv is (B,N,3*NH*HS) packed [q | k | v] with head h in columns h*HS.. of each part
 * (PyTorch's chunk(3) then 'b n (h d) -> b h n d'); out is (B,N,NH*HS); att (B,NH,N,N)
 * holds the probabilities for the backward pass. */
HN_HIDDEN void attention_forward(float *out, float *att, const float *qkv, size_t B, size_t N,
                                 size_t NH, size_t HS);
/* dqkv (B,N,3*NH*HS) += ...; wksp holds N*N floats. */
HN_HIDDEN void attention_backward(float *dqkv, const float *dout, const float *qkv,
                                  const float *att, size_t B, size_t N, size_t NH, size_t HS,
                                  float *wksp);

/* ---- softmax cross-entropy (xent.c) ----
 * logits, probs are (B,K), targets (B) in [0,K). Returns sum_b -log p_b[target]. */
HN_HIDDEN double crossentropy_forward(float *probs, const float *logits, const int32_t *targets,
                                      size_t B, size_t K);
/* dlogits += scale * (probs - onehot(targets)). */
HN_HIDDEN void crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                                     size_t B, size_t K, float scale);

/* ---- inverted dropout (dropout.c), PyTorch's training mode ----
 * out = inp * mask / (1 - p), mask[i] = 1 with probability 1 - p (from rng, saved);
 * out may alias inp. */
HN_HIDDEN void dropout_forward(float *out, uint8_t *mask, const float *inp, size_t N, float p,
                               hn_rng *rng);
/* dinp += dout * mask / (1 - p). */
HN_HIDDEN void dropout_backward(float *dinp, const uint8_t *mask, const float *dout, size_t N,
                                float p);

#endif /* HINER_NN_H */
