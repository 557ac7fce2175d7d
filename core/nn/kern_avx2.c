/*
 * kern_avx2.c - AVX2 + FMA kernels (compiled with -mavx2 -mfma): a 6 x 16 GEMM
 * micro-kernel (12 ymm accumulators) and GELU with the same erf and exp approximations
 * as the AVX-512 set.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "kernels.h"

enum { MR = 6, NR = 16 };

static void ukr_avx2(size_t kc, const float *A, const float *B, float *C, size_t ldc, int acc)
{
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
#define LD(r, a0, a1)                                                                        \
    a0 = acc ? _mm256_loadu_ps(C + (r) * ldc) : _mm256_setzero_ps();                         \
    a1 = acc ? _mm256_loadu_ps(C + (r) * ldc + 8) : _mm256_setzero_ps()
    LD(0, c00, c01); LD(1, c10, c11); LD(2, c20, c21); LD(3, c30, c31); LD(4, c40, c41);
    LD(5, c50, c51);
#undef LD
    for (size_t k = 0; k < kc; k++, A += MR, B += NR) {
        const __m256 b0 = _mm256_load_ps(B), b1 = _mm256_load_ps(B + 8);
#define FMA(r, a0, a1)                                                                       \
    do {                                                                                     \
        const __m256 a = _mm256_broadcast_ss(A + (r));                                       \
        a0 = _mm256_fmadd_ps(a, b0, a0);                                                     \
        a1 = _mm256_fmadd_ps(a, b1, a1);                                                     \
    } while (0)
        FMA(0, c00, c01); FMA(1, c10, c11); FMA(2, c20, c21); FMA(3, c30, c31);
        FMA(4, c40, c41); FMA(5, c50, c51);
#undef FMA
    }
#define ST(r, a0, a1)                                                                        \
    _mm256_storeu_ps(C + (r) * ldc, a0);                                                     \
    _mm256_storeu_ps(C + (r) * ldc + 8, a1)
    ST(0, c00, c01); ST(1, c10, c11); ST(2, c20, c21); ST(3, c30, c31); ST(4, c40, c41);
    ST(5, c50, c51);
#undef ST
}

static void ukr_ind_avx2(size_t kc, const float *A, const float *base, const int32_t *offs,
                         float *C, size_t ldc, int acc, int mv, int nv)
{
    /* lane masks for the nv valid columns of the two 8-float halves */
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nv), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nv - 8), lane);
    __m256 c[MR][2];
    for (int r = 0; r < MR; r++) {
        c[r][0] = acc && r < mv ? _mm256_maskload_ps(C + r * ldc, m0) : _mm256_setzero_ps();
        c[r][1] = acc && r < mv ? _mm256_maskload_ps(C + r * ldc + 8, m1) : _mm256_setzero_ps();
    }
    for (size_t k = 0; k < kc; k++, A += MR) {
        const float *B = base + offs[k];
        const __m256 b0 = _mm256_maskload_ps(B, m0), b1 = _mm256_maskload_ps(B + 8, m1);
        for (int r = 0; r < MR; r++) {
            const __m256 a = _mm256_broadcast_ss(A + r);
            c[r][0] = _mm256_fmadd_ps(a, b0, c[r][0]);
            c[r][1] = _mm256_fmadd_ps(a, b1, c[r][1]);
        }
    }
    for (int r = 0; r < mv; r++) {
        _mm256_maskstore_ps(C + r * ldc, m0, c[r][0]);
        _mm256_maskstore_ps(C + r * ldc + 8, m1, c[r][1]);
    }
}

static void pack_t_avx2(float *dst, const float *src, size_t lds, size_t kc)
{
    for (size_t p = 0; p < kc; p++)
        for (size_t r = 0; r < MR; r++) dst[p * MR + r] = src[r * lds + p];
}

static inline __m256 exp_neg8(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n through the exponent field; n >= -126 after the clamp above */
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 erf_with8(__m256 u, __m256 e)
{
    const __m256 sign = _mm256_and_ps(u, _mm256_set1_ps(-0.0f));
    const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), u);
    const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                                   _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    return _mm256_or_ps(_mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f)), sign);
}

static void gelu_fwd_avx2(float *out, const float *in, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(in + i);
        const __m256 u = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678f));
        const __m256 e = exp_neg8(_mm256_mul_ps(_mm256_mul_ps(u, u), _mm256_set1_ps(-1.0f)));
        const __m256 cdf = _mm256_mul_ps(_mm256_set1_ps(0.5f),
                                         _mm256_add_ps(_mm256_set1_ps(1.0f), erf_with8(u, e)));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(x, cdf));
    }
    if (i < n) hn_kernels_ref.gelu_fwd(out + i, in + i, n - i);
}

static void gelu_bwd_avx2(float *d, const float *in, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(in + i);
        const __m256 u = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678f));
        const __m256 e = exp_neg8(_mm256_mul_ps(_mm256_mul_ps(u, u), _mm256_set1_ps(-1.0f)));
        const __m256 cdf = _mm256_mul_ps(_mm256_set1_ps(0.5f),
                                         _mm256_add_ps(_mm256_set1_ps(1.0f), erf_with8(u, e)));
        const __m256 g = _mm256_fmadd_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.39894228f)), e, cdf);
        _mm256_storeu_ps(d + i, _mm256_mul_ps(_mm256_loadu_ps(d + i), g));
    }
    if (i < n) hn_kernels_ref.gelu_bwd(d + i, in + i, n - i);
}

#include "conv1.inc"

const hn_kernels hn_kernels_avx2 = {"avx2",         MR,             NR,
                                    ukr_avx2,       {MR, 0, 0},     {ukr_ind_avx2, NULL, NULL},
                                    gelu_fwd_avx2,  gelu_bwd_avx2,
                                    pack_t_avx2,    conv1_fwd_rows, conv1_bwd_data_ch,
                                    conv1_bwd_weight_ch};
#endif
