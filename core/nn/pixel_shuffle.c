/*
 * pixel_shuffle.c - PixelShuffle(S), PyTorch semantics: moves S*S channel groups into an
 * S x S spatial block. The decoder's upsampling; a pure permutation, so backward is the
 * inverse permutation.
 */
#include "nn.h"

void pixel_shuffle_forward(float *out, const float *inp, size_t C, size_t H, size_t W, size_t S)
{
    /* inp is (C*S*S,H,W), out is (C,H*S,W*S) */
    const size_t OW = W * S;
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < S; i++) {
            for (size_t j = 0; j < S; j++) {
                const float *src = inp + ((c * S + i) * S + j) * H * W;
                float *dst = out + c * H * S * OW + i * OW + j;
                for (size_t y = 0; y < H; y++) {
                    const float *s = src + y * W;
                    float *d = dst + y * S * OW;
                    for (size_t x = 0; x < W; x++) d[x * S] = s[x];
                }
            }
        }
    }
}

void pixel_shuffle_backward(float *dinp, const float *dout, size_t C, size_t H, size_t W,
                            size_t S)
{
    const size_t OW = W * S;
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < S; i++) {
            for (size_t j = 0; j < S; j++) {
                float *dst = dinp + ((c * S + i) * S + j) * H * W;
                const float *src = dout + c * H * S * OW + i * OW + j;
                for (size_t y = 0; y < H; y++) {
                    float *d = dst + y * W;
                    const float *s = src + y * S * OW;
                    for (size_t x = 0; x < W; x++) d[x] += s[x * S];
                }
            }
        }
    }
}

/* ---- fused with GELU, threaded over channels (the decoder's hot element-wise pass) ---- */

#include "conv_fast.h"

#define PS_CHUNK 256

typedef struct psg_job {
    const hn_kernels *k;
    float *a;        /* (C, H*S, W*S) activations */
    float *dy;       /* (C*S*S, H, W) backward output */
    const float *y;  /* (C*S*S, H, W) conv output (pre-activation, unshuffled) */
    const float *da; /* (C, H*S, W*S) gradient of the activations */
    size_t C, H, W, S;
    int threads;
    size_t y0, y1;
} psg_job;

/* o[x * S + jj] = b[jj][x] for jj < S: one output row from S source rows (a store group
 * the compiler vectorises for a constant S) */
static inline void interleave(float *restrict o, float (*restrict b)[PS_CHUNK], size_t n,
                              size_t S)
{
    for (size_t x = 0; x < n; x++)
        for (size_t jj = 0; jj < S; jj++) o[x * S + jj] = b[jj][x];
}

/* d[jj][x] = s[x * S + jj] for jj < S: one row into S */
static inline void deinterleave(float *const *restrict d, const float *restrict s, size_t n,
                                size_t S)
{
    for (size_t x = 0; x < n; x++)
        for (size_t jj = 0; jj < S; jj++) d[jj][x] = s[x * S + jj];
}

/* Output row y * S + i of channel c: GELU of the S source rows (c, i, jj) at row y. Strides
 * 2, 3 and 4 write whole rows; others one source row at a time with a strided store. */
static void psg_fwd_row(const psg_job *j, size_t c, size_t i, size_t y)
{
    const size_t S = j->S, H = j->H, W = j->W, OW = W * S;
    const float *src = j->y + (c * S + i) * S * H * W + y * W; /* planes (c, i, 0..S-1) */
    float *o = j->a + c * H * S * OW + (y * S + i) * OW;
    float buf[4][PS_CHUNK];
    for (size_t x0 = 0; x0 < W; x0 += PS_CHUNK) {
        const size_t n = W - x0 < PS_CHUNK ? W - x0 : PS_CHUNK;
        if (S >= 2 && S <= 4) {
            for (size_t jj = 0; jj < S; jj++) j->k->gelu_fwd(buf[jj], src + jj * H * W + x0, n);
            if (S == 2) interleave(o + x0 * S, buf, n, 2);
            else if (S == 3) interleave(o + x0 * S, buf, n, 3);
            else interleave(o + x0 * S, buf, n, 4);
            continue;
        }
        for (size_t jj = 0; jj < S; jj++) {
            j->k->gelu_fwd(buf[0], src + jj * H * W + x0, n);
            for (size_t x = 0; x < n; x++) o[(x0 + x) * S + jj] = buf[0][x];
        }
    }
}

static void psg_fwd_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const psg_job *j = ctx;
    for (size_t c = j->C * t / (size_t)j->threads; c < j->C * (t + 1) / (size_t)j->threads; c++)
        for (size_t i = 0; i < j->S; i++)
            for (size_t y = j->y0; y < j->y1; y++) psg_fwd_row(j, c, i, y);
}

static void psg_bwd_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const psg_job *j = ctx;
    const size_t S = j->S, H = j->H, W = j->W, OW = W * S;
    for (size_t c = j->C * t / (size_t)j->threads; c < j->C * (t + 1) / (size_t)j->threads; c++)
        for (size_t i = 0; i < S; i++) {
            const size_t plane0 = (c * S + i) * S * H * W; /* planes (c, i, 0..S-1) */
            /* rows without gradient are zero: the conv backward reads around them */
            for (size_t jj = 0; jj < S; jj++) {
                memset(j->dy + plane0 + jj * H * W, 0, j->y0 * W * sizeof(float));
                memset(j->dy + plane0 + jj * H * W + j->y1 * W, 0,
                       (H - j->y1) * W * sizeof(float));
            }
            for (size_t y = j->y0; y < j->y1; y++) {
                const float *s = j->da + c * H * S * OW + (y * S + i) * OW;
                if (S >= 2 && S <= 4) { /* one pass over the row, as in the forward */
                    float *d[4];
                    for (size_t jj = 0; jj < S; jj++) d[jj] = j->dy + plane0 + jj * H * W + y * W;
                    if (S == 2) deinterleave(d, s, W, 2);
                    else if (S == 3) deinterleave(d, s, W, 3);
                    else deinterleave(d, s, W, 4);
                } else {
                    for (size_t jj = 0; jj < S; jj++) {
                        float *d = j->dy + plane0 + jj * H * W + y * W;
                        for (size_t x = 0; x < W; x++) d[x] = s[x * S + jj];
                    }
                }
                for (size_t jj = 0; jj < S; jj++)
                    j->k->gelu_bwd(j->dy + plane0 + jj * H * W + y * W,
                                   j->y + plane0 + jj * H * W + y * W, W);
            }
        }
}

void pixel_shuffle_gelu_forward(const hn_exec *x, float *a, const float *y, size_t C, size_t H,
                                size_t W, size_t S, hn_rows rows)
{
    psg_job j = {x->k, a, NULL, y, NULL, C, H, W, S, x->pool ? hn_pool_threads(x->pool) : 1,
                 rows.y0, rows.y1 < H ? rows.y1 : H};
    if ((size_t)j.threads > C) j.threads = (int)C;
    hn_pool_run(x->pool, (size_t)j.threads, psg_fwd_task, &j);
}

void pixel_shuffle_gelu_backward(const hn_exec *x, float *dy, const float *da, const float *y,
                                 size_t C, size_t H, size_t W, size_t S, hn_rows rows)
{
    psg_job j = {x->k, NULL, dy, y, da, C, H, W, S, x->pool ? hn_pool_threads(x->pool) : 1,
                 rows.y0, rows.y1 < H ? rows.y1 : H};
    if ((size_t)j.threads > C) j.threads = (int)C;
    hn_pool_run(x->pool, (size_t)j.threads, psg_bwd_task, &j);
}
