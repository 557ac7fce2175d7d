/*
 * kern_avx512.c - AVX-512 kernels (this file is compiled with -mavx512f/dq/bw/vl): a
 * 14 x 32 GEMM micro-kernel (28 zmm accumulators, A broadcast from memory, two B vectors
 * per k) and GELU with a vectorised erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7)
 * and exp (Cody-Waite reduction, degree-6 polynomial).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "kernels.h"

enum { MR = 14, NR = 32 };

static void ukr_avx512(size_t kc, const float *A, const float *B, float *C, size_t ldc, int acc)
{
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61;
    __m512 c70, c71, c80, c81, c90, c91, ca0, ca1, cb0, cb1, cc0, cc1, cd0, cd1;
#define LD(r, a0, a1)                                                                        \
    a0 = acc ? _mm512_loadu_ps(C + (r) * ldc) : _mm512_setzero_ps();                         \
    a1 = acc ? _mm512_loadu_ps(C + (r) * ldc + 16) : _mm512_setzero_ps()
    LD(0, c00, c01); LD(1, c10, c11); LD(2, c20, c21); LD(3, c30, c31); LD(4, c40, c41);
    LD(5, c50, c51); LD(6, c60, c61); LD(7, c70, c71); LD(8, c80, c81); LD(9, c90, c91);
    LD(10, ca0, ca1); LD(11, cb0, cb1); LD(12, cc0, cc1); LD(13, cd0, cd1);
#undef LD
    for (size_t k = 0; k < kc; k++, A += MR, B += NR) {
        const __m512 b0 = _mm512_load_ps(B), b1 = _mm512_load_ps(B + 16);
        _mm_prefetch((const char *)(B + 8 * NR), _MM_HINT_T0);
#define FMA(r, a0, a1)                                                                       \
    do {                                                                                     \
        const __m512 a = _mm512_set1_ps(A[r]);                                               \
        a0 = _mm512_fmadd_ps(a, b0, a0);                                                     \
        a1 = _mm512_fmadd_ps(a, b1, a1);                                                     \
    } while (0)
        FMA(0, c00, c01); FMA(1, c10, c11); FMA(2, c20, c21); FMA(3, c30, c31);
        FMA(4, c40, c41); FMA(5, c50, c51); FMA(6, c60, c61); FMA(7, c70, c71);
        FMA(8, c80, c81); FMA(9, c90, c91); FMA(10, ca0, ca1); FMA(11, cb0, cb1);
        FMA(12, cc0, cc1); FMA(13, cd0, cd1);
#undef FMA
    }
#define ST(r, a0, a1)                                                                        \
    _mm512_storeu_ps(C + (r) * ldc, a0);                                                     \
    _mm512_storeu_ps(C + (r) * ldc + 16, a1)
    ST(0, c00, c01); ST(1, c10, c11); ST(2, c20, c21); ST(3, c30, c31); ST(4, c40, c41);
    ST(5, c50, c51); ST(6, c60, c61); ST(7, c70, c71); ST(8, c80, c81); ST(9, c90, c91);
    ST(10, ca0, ca1); ST(11, cb0, cb1); ST(12, cc0, cc1); ST(13, cd0, cd1);
#undef ST
}

/* One C tile of R rows x V (1 or 2) vectors of 16 columns, B rows read in place (base +
 * offs[k]) with the columns past nv masked off; rows past mv are computed (A is zero
 * there) but not loaded or stored. Inlined with constant R and V, so the accumulators are
 * an array the compiler keeps in registers. */
static inline __attribute__((always_inline)) void
ind_tile(size_t kc, const float *A, const float *base, const int32_t *offs, float *C,
         size_t ldc, int acc, int mv, int nv, const int R, const int V)
{
    const __mmask16 m0 = nv >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nv) - 1);
    const __mmask16 m1 = nv >= 32 ? (__mmask16)0xffff
                         : (nv > 16 ? (__mmask16)((1u << (nv - 16)) - 1) : (__mmask16)0);
    __m512 c0[16], c1[16];
    _Pragma("GCC unroll 16") for (int r = 0; r < R; r++) {
        c0[r] = acc && r < mv ? _mm512_maskz_loadu_ps(m0, C + r * ldc) : _mm512_setzero_ps();
        if (V > 1)
            c1[r] = acc && r < mv ? _mm512_maskz_loadu_ps(m1, C + r * ldc + 16)
                                  : _mm512_setzero_ps();
    }
    for (size_t k = 0; k < kc; k++, A += R) {
        const float *B = base + offs[k];
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, B);
        const __m512 b1 = V > 1 ? _mm512_maskz_loadu_ps(m1, B + 16) : _mm512_setzero_ps();
        _Pragma("GCC unroll 16") for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(A[r]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            if (V > 1) c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
    _Pragma("GCC unroll 16") for (int r = 0; r < R; r++) {
        if (r < mv) {
            _mm512_mask_storeu_ps(C + r * ldc, m0, c0[r]);
            if (V > 1) _mm512_mask_storeu_ps(C + r * ldc + 16, m1, c1[r]);
        }
    }
}

/* The in-place-B product for a given MR (12, 13 or 14 rows) x 32 columns; a tile of at
 * most 16 valid columns (the right edge, or a narrow image) runs one vector. */
#define UKR_IND(NAME, R)                                                                     \
    static void NAME(size_t kc, const float *A, const float *base, const int32_t *offs,      \
                     float *C, size_t ldc, int acc, int mv, int nv)                          \
    {                                                                                        \
        if (nv > 16) ind_tile(kc, A, base, offs, C, ldc, acc, mv, nv, R, 2);                 \
        else ind_tile(kc, A, base, offs, C, ldc, acc, mv, nv, R, 1);                         \
    }

UKR_IND(ukr_ind_avx512_14, 14)
UKR_IND(ukr_ind_avx512_13, 13)
UKR_IND(ukr_ind_avx512_12, 12)

/* In-register transpose of 16 rows of 16 floats (r[i] becomes column i). */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 16; i += 8)
        for (int j = 0; j < 4; j++) {
            t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], _MM_SHUFFLE(2, 0, 2, 0));
            t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], _MM_SHUFFLE(3, 1, 3, 1));
        }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], _MM_SHUFFLE(2, 0, 2, 0));
        r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], _MM_SHUFFLE(3, 1, 3, 1));
    }
}

/* 14 rows of kc floats into a (kc x 14) panel: 16 x 16 blocks through registers, each
 * column written with a 14-lane masked store. */
static void pack_t_avx512(float *dst, const float *src, size_t lds, size_t kc)
{
    size_t p = 0;
    for (; p + 16 <= kc; p += 16) {
        __m512 r[16];
        for (int i = 0; i < MR; i++) r[i] = _mm512_loadu_ps(src + (size_t)i * lds + p);
        r[14] = r[15] = _mm512_setzero_ps();
        transpose16(r);
        /* after the transpose, r[j] holds column j's 16 rows in the order produced by the
         * shuffle network: lanes are rows 0..15 */
        for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(dst + (p + (size_t)j) * MR, 0x3fff, r[j]);
    }
    for (; p < kc; p++)
        for (int i = 0; i < MR; i++) dst[p * MR + (size_t)i] = src[(size_t)i * lds + p];
}

/* n <= NR rows into a (kc x NR) panel, zero rows past n: 16 x 16 blocks per half. */
static void pack_b_avx512(float *dst, const float *src, size_t lds, size_t kc, size_t n)
{
    size_t p = 0;
    for (; p + 16 <= kc; p += 16)
        for (size_t h = 0; h < NR; h += 16) {
            __m512 r[16];
            for (size_t i = 0; i < 16; i++)
                r[i] = h + i < n ? _mm512_loadu_ps(src + (h + i) * lds + p) : _mm512_setzero_ps();
            transpose16(r);
            for (size_t j = 0; j < 16; j++) _mm512_store_ps(dst + (p + j) * NR + h, r[j]);
        }
    for (; p < kc; p++)
        for (size_t c = 0; c < NR; c++) dst[p * NR + c] = c < n ? src[c * lds + p] : 0.0f;
}

/* exp(x) for x <= 0 (the GELU arguments); scalef keeps underflow exact (to 0). */
static inline __m512 exp_neg(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(-103.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* erf(u) given u and exp(-u^2) (shared with the GELU derivative). */
static inline __m512 erf_with(__m512 u, __m512 e)
{
    const __m512 sign = _mm512_and_ps(u, _mm512_set1_ps(-0.0f));
    const __m512 a = _mm512_andnot_ps(_mm512_set1_ps(-0.0f), u);
    /* t = 1 / (1 + p |u|): a 14-bit estimate refined by one Newton step (~1e-8 error) */
    const __m512 den = _mm512_fmadd_ps(a, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f));
    __m512 t = _mm512_rcp14_ps(den);
    t = _mm512_mul_ps(t, _mm512_fnmadd_ps(den, t, _mm512_set1_ps(2.0f)));
    __m512 p = _mm512_set1_ps(1.061405429f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    p = _mm512_mul_ps(p, t);
    const __m512 y = _mm512_fnmadd_ps(p, e, _mm512_set1_ps(1.0f));
    return _mm512_or_ps(y, sign);
}

static void gelu_fwd_avx512(float *out, const float *in, size_t n)
{
    size_t i = 0;
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 x = _mm512_maskz_loadu_ps(m, in + i);
        const __m512 u = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678f));
        const __m512 e = exp_neg(_mm512_mul_ps(_mm512_mul_ps(u, u), _mm512_set1_ps(-1.0f)));
        const __m512 cdf = _mm512_mul_ps(_mm512_set1_ps(0.5f),
                                         _mm512_add_ps(_mm512_set1_ps(1.0f), erf_with(u, e)));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(x, cdf));
    }
}

static void gelu_bwd_avx512(float *d, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 x = _mm512_maskz_loadu_ps(m, in + i);
        const __m512 u = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678f));
        const __m512 e = exp_neg(_mm512_mul_ps(_mm512_mul_ps(u, u), _mm512_set1_ps(-1.0f)));
        const __m512 cdf = _mm512_mul_ps(_mm512_set1_ps(0.5f),
                                         _mm512_add_ps(_mm512_set1_ps(1.0f), erf_with(u, e)));
        const __m512 g = _mm512_fmadd_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.39894228f)), e, cdf);
        _mm512_mask_storeu_ps(d + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, d + i), g));
    }
}

#include "conv1.inc"

const hn_kernels hn_kernels_avx512 = {
    .name = "avx512",
    .MR = MR,
    .NR = NR,
    .VL = 16,
    .ukr = ukr_avx512,
    .ind_mr = {14, 13, 12},
    .ind_nr = {32, 32, 32},
    .ukr_ind = {ukr_ind_avx512_14, ukr_ind_avx512_13, ukr_ind_avx512_12},
    .gelu_fwd = gelu_fwd_avx512,
    .gelu_bwd = gelu_bwd_avx512,
    .pack_t = pack_t_avx512,
    .pack_b = pack_b_avx512,
    .conv1_fwd = conv1_fwd_rows,
    .conv1_bwd_data = conv1_bwd_data_ch,
    .conv1_bwd_weight = conv1_bwd_weight_ch,
};
#endif
