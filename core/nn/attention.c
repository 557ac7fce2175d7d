/*
 * attention.c - the core of multi-head self-attention (Vaswani et al.; the einsum form of
 * SpectralFormer's Attention): per sample and head, P = softmax(Q K^T / sqrt(HS)), O = P V.
 * The q/k/v and output projections are linear layers (linear.c) around it. Every product
 * is one hn_gemm per (sample, head) on strided views of the packed qkv tensor; the
 * probabilities are saved for the backward pass.
 */
#include <math.h>
#include <string.h>

#include "nn.h"

/* e^x for x <= 0 (softmax arguments after the row maximum is subtracted): 2^j * 2^f with
 * j = round(x log2 e), |f| <= 1/2 and a degree-6 Taylor polynomial; relative error below
 * 1e-6 for x > -20 (float rounding of x log2 e dominates), x below -87 gives e^-87.
 * Written with bit operations only (no compare, no float-to-int conversion) so that a
 * plain loop of it vectorizes under the default -ftrapping-math, unlike libm's expf. */
static inline float exp_nonpos(float x)
{
    uint32_t xb;
    memcpy(&xb, &x, 4);
    xb = xb > 0xC2AE0000u ? 0xC2AE0000u : xb; /* negative floats order by their bits: x >= -87 */
    memcpy(&x, &xb, 4);
    const float t = x * 1.44269504088896341f;
    const float m = t + 12582912.0f; /* 1.5 * 2^23: m's low mantissa bits hold round(t) */
    const float f = (t - (m - 12582912.0f)) * 0.693147180559945309f;
    float p = 1.0f / 720.0f;
    p = p * f + 1.0f / 120.0f;
    p = p * f + 1.0f / 24.0f;
    p = p * f + 1.0f / 6.0f;
    p = p * f + 0.5f;
    p = p * f + 1.0f;
    p = p * f + 1.0f;
    uint32_t mb;
    memcpy(&mb, &m, 4);
    const uint32_t bits = (mb - 0x4B400000u + 127u) << 23; /* 2^round(t) */
    float s;
    memcpy(&s, &bits, 4);
    return p * s;
}

/* The two softmax loops are a fifth of a training step; on x86-64 GCC also compiles them
 * for AVX2 and picks at load time (function multi-versioning). Without FMA contraction
 * (-std=c11 implies -ffp-contract=off) both versions give the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HN_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define HN_AVX2_CLONE
#endif

/* rows of length N in place: softmax. The max and the sum run over 8 lanes so that the
 * loops vectorize (with a fixed order, so results do not depend on the vector width). */
HN_AVX2_CLONE static void softmax_rows(float *x, size_t R, size_t N)
{
    const size_t N8 = N & ~(size_t)7;
    for (size_t r = 0; r < R; r++) {
        float *row = x + r * N;
        float m8[8], s8[8];
        for (size_t l = 0; l < 8; l++) m8[l] = -INFINITY, s8[l] = 0.0f;
        for (size_t i = 0; i < N8; i += 8)
            for (size_t l = 0; l < 8; l++) m8[l] = row[i + l] > m8[l] ? row[i + l] : m8[l];
        float mx = -INFINITY;
        for (size_t l = 0; l < 8; l++) mx = m8[l] > mx ? m8[l] : mx;
        for (size_t i = N8; i < N; i++) mx = row[i] > mx ? row[i] : mx;
        for (size_t i = 0; i < N; i++) row[i] = exp_nonpos(row[i] - mx);
        for (size_t i = 0; i < N8; i += 8)
            for (size_t l = 0; l < 8; l++) s8[l] += row[i + l];
        float sum = 0.0f;
        for (size_t l = 0; l < 8; l++) sum += s8[l];
        for (size_t i = N8; i < N; i++) sum += row[i];
        const float inv = 1.0f / sum;
        for (size_t i = 0; i < N; i++) row[i] *= inv;
    }
}

/* dS = P (dP - rowsum(P dP)), rows of length N, in place in dp */
HN_AVX2_CLONE static void softmax_rows_backward(float *dp, const float *p, size_t R, size_t N)
{
    const size_t N8 = N & ~(size_t)7;
    for (size_t i = 0; i < R; i++) {
        const float *pr = p + i * N;
        float *dr = dp + i * N;
        float s8[8] = {0};
        for (size_t j = 0; j < N8; j += 8)
            for (size_t l = 0; l < 8; l++) s8[l] += pr[j + l] * dr[j + l];
        float s = 0.0f;
        for (size_t l = 0; l < 8; l++) s += s8[l];
        for (size_t j = N8; j < N; j++) s += pr[j] * dr[j];
        for (size_t j = 0; j < N; j++) dr[j] = pr[j] * (dr[j] - s);
    }
}

void attention_forward(float *out, float *att, const float *qkv, size_t B, size_t N,
                       size_t NH, size_t HS)
{
    /* qkv is (B,N,3*NH*HS) = [q | k | v], head h in columns h*HS..; out (B,N,NH*HS);
     * att (B,NH,N,N) */
    const size_t D = NH * HS, D3 = 3 * D;
    const float scale = 1.0f / sqrtf((float)HS);
    for (size_t b = 0; b < B; b++) {
        const float *x = qkv + b * N * D3;
        for (size_t h = 0; h < NH; h++) {
            const float *q = x + h * HS, *k = x + D + h * HS, *v = x + 2 * D + h * HS;
            float *p = att + (b * NH + h) * N * N;
            hn_gemm(0, 1, N, N, HS, scale, q, D3, k, D3, 0.0f, p, N); /* S = Q K^T / sqrt */
            softmax_rows(p, N, N);
            hn_gemm(0, 0, N, HS, N, 1.0f, p, N, v, D3, 0.0f, out + b * N * D + h * HS, D);
        }
    }
}

void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                        size_t B, size_t N, size_t NH, size_t HS, float *wksp)
{
    /* wksp holds N*N floats */
    const size_t D = NH * HS, D3 = 3 * D;
    const float scale = 1.0f / sqrtf((float)HS);
    float *dp = wksp;
    for (size_t b = 0; b < B; b++) {
        const float *x = qkv + b * N * D3;
        float *dx = dqkv + b * N * D3;
        const float *dob = dout + b * N * D;
        for (size_t h = 0; h < NH; h++) {
            const float *q = x + h * HS, *k = x + D + h * HS, *v = x + 2 * D + h * HS;
            float *dq = dx + h * HS, *dk = dx + D + h * HS, *dv = dx + 2 * D + h * HS;
            const float *p = att + (b * NH + h) * N * N;
            const float *dO = dob + h * HS;
            /* dP = dO V^T; dV += P^T dO */
            hn_gemm(0, 1, N, N, HS, 1.0f, dO, D, v, D3, 0.0f, dp, N);
            hn_gemm(1, 0, N, HS, N, 1.0f, p, N, dO, D, 1.0f, dv, D3);
            softmax_rows_backward(dp, p, N, N); /* dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik) */
            /* S = scale Q K^T: dQ += scale dS K; dK += scale dS^T Q */
            hn_gemm(0, 0, N, HS, N, scale, dp, N, k, D3, 1.0f, dq, D3);
            hn_gemm(1, 0, N, HS, N, scale, dp, N, q, D3, 1.0f, dk, D3);
        }
    }
}
