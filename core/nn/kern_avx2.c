/*
 * kern_avx2.c - AVX2 + FMA kernels (compiled with -mavx2 -mfma) for 16 ymm registers: a
 * 6 x 16 packed GEMM micro-kernel and in-place-B tiles of 6 x 16, 4 x 24 and 5 x 16 (12
 * or 10 accumulators, B vectors and one broadcast), 8 x 8 in-register transposes for the
 * panel packing, and GELU with the same erf and exp approximations as the AVX-512 set.
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

/* One C tile of R rows x V vectors of 8 columns, B rows read in place (base + offs[k]);
 * B rows hold whole vectors (conv_fast.c pads them), so only C is masked to the first nv
 * columns when not full. Rows past mv are computed (A is zero there) but not loaded or
 * stored. Inlined with constant R, V, full so the accumulators live in registers. */
static inline __attribute__((always_inline)) void
ind_tile(size_t kc, const float *A, const float *base, const int32_t *offs, float *C,
         size_t ldc, int acc, int mv, int nv, const int R, const int V, const int full)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m[4];
    _Pragma("GCC unroll 4") for (int v = 0; v < V; v++)
        m[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(nv - 8 * v), lane);
    __m256 c[8][4];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int v = 0; v < V; v++) {
            if (acc && r < mv)
                c[r][v] = full ? _mm256_loadu_ps(C + r * ldc + 8 * v)
                               : _mm256_maskload_ps(C + r * ldc + 8 * v, m[v]);
            else
                c[r][v] = _mm256_setzero_ps();
        }
    for (size_t k = 0; k < kc; k++, A += R) {
        const float *B = base + offs[k];
        __m256 b[4];
        _Pragma("GCC unroll 4") for (int v = 0; v < V; v++)
            b[v] = _mm256_loadu_ps(B + 8 * v);
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(A + r);
            _Pragma("GCC unroll 4") for (int v = 0; v < V; v++)
                c[r][v] = _mm256_fmadd_ps(a, b[v], c[r][v]);
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        if (r < mv)
            _Pragma("GCC unroll 4") for (int v = 0; v < V; v++) {
                if (full) _mm256_storeu_ps(C + r * ldc + 8 * v, c[r][v]);
                else _mm256_maskstore_ps(C + r * ldc + 8 * v, m[v], c[r][v]);
            }
}

/* The in-place-B product for R rows x 8V columns: whole tiles unmasked, the right edge
 * with as few vectors as its nv columns need. */
#define UKR_IND(NAME, R, V)                                                                  \
    static void NAME(size_t kc, const float *A, const float *base, const int32_t *offs,      \
                     float *C, size_t ldc, int acc, int mv, int nv)                          \
    {                                                                                        \
        if (nv == 8 * (V)) ind_tile(kc, A, base, offs, C, ldc, acc, mv, nv, R, V, 1);        \
        else if (nv <= 8) ind_tile(kc, A, base, offs, C, ldc, acc, mv, nv, R, 1, 0);         \
        else if (nv <= 16) ind_tile(kc, A, base, offs, C, ldc, acc, mv, nv, R, 2, 0);        \
        else ind_tile(kc, A, base, offs, C, ldc, acc, mv, nv, R, V, 0);                      \
    }

UKR_IND(ukr_ind_6x16, 6, 2)
UKR_IND(ukr_ind_4x24, 4, 3)
UKR_IND(ukr_ind_5x16, 5, 2)

/* In-register transpose of 8 rows of 8 floats (r[i] becomes column i). */
static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* MR rows into a (kc x MR) panel: 8 x 8 blocks through registers, each column written
 * with an MR-lane masked store. */
static void pack_t_avx2(float *dst, const float *src, size_t lds, size_t kc)
{
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(MR),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    size_t p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++)
            r[i] = i < MR ? _mm256_loadu_ps(src + (size_t)i * lds + p) : _mm256_setzero_ps();
        transpose8(r);
        for (int j = 0; j < 8; j++) _mm256_maskstore_ps(dst + (p + (size_t)j) * MR, m, r[j]);
    }
    for (; p < kc; p++)
        for (size_t i = 0; i < MR; i++) dst[p * MR + i] = src[i * lds + p];
}

/* n <= NR rows into a (kc x NR) panel, zero rows past n: 8 x 8 blocks per half. */
static void pack_b_avx2(float *dst, const float *src, size_t lds, size_t kc, size_t n)
{
    size_t p = 0;
    for (; p + 8 <= kc; p += 8)
        for (size_t h = 0; h < NR; h += 8) {
            __m256 r[8];
            for (size_t i = 0; i < 8; i++)
                r[i] = h + i < n ? _mm256_loadu_ps(src + (h + i) * lds + p) : _mm256_setzero_ps();
            transpose8(r);
            for (size_t j = 0; j < 8; j++) _mm256_store_ps(dst + (p + j) * NR + h, r[j]);
        }
    for (; p < kc; p++)
        for (size_t c = 0; c < NR; c++) dst[p * NR + c] = c < n ? src[c * lds + p] : 0.0f;
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
    /* t = 1 / (1 + p |u|): a 12-bit estimate refined by one Newton step (a division is
     * several times slower) */
    const __m256 den = _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f));
    __m256 t = _mm256_rcp_ps(den);
    t = _mm256_mul_ps(t, _mm256_fnmadd_ps(den, t, _mm256_set1_ps(2.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    return _mm256_or_ps(_mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f)), sign);
}

/* Phi(x) and, for the derivative, exp(-x^2 / 2) */
static inline __m256 gelu_cdf8(__m256 x, __m256 *e)
{
    const __m256 u = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678f));
    *e = exp_neg8(_mm256_mul_ps(_mm256_mul_ps(u, u), _mm256_set1_ps(-1.0f)));
    return _mm256_mul_ps(_mm256_set1_ps(0.5f), _mm256_add_ps(_mm256_set1_ps(1.0f), erf_with8(u, *e)));
}

static inline __m256i tail_mask8(size_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static void gelu_fwd_avx2(float *out, const float *in, size_t n)
{
    size_t i = 0;
    __m256 e;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(in + i);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(x, gelu_cdf8(x, &e)));
    }
    if (i < n) { /* the tail through masks: lanes past n are zeros, not stored */
        const __m256i m = tail_mask8(n - i);
        const __m256 x = _mm256_maskload_ps(in + i, m);
        _mm256_maskstore_ps(out + i, m, _mm256_mul_ps(x, gelu_cdf8(x, &e)));
    }
}

static inline __m256 gelu_grad8(__m256 x)
{
    __m256 e;
    const __m256 cdf = gelu_cdf8(x, &e);
    return _mm256_fmadd_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.39894228f)), e, cdf);
}

static void gelu_bwd_avx2(float *d, const float *in, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = gelu_grad8(_mm256_loadu_ps(in + i));
        _mm256_storeu_ps(d + i, _mm256_mul_ps(_mm256_loadu_ps(d + i), g));
    }
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        const __m256 g = gelu_grad8(_mm256_maskload_ps(in + i, m));
        _mm256_maskstore_ps(d + i, m, _mm256_mul_ps(_mm256_maskload_ps(d + i, m), g));
    }
}

#include "conv1.inc"

const hn_kernels hn_kernels_avx2 = {
    .name = "avx2",
    .MR = MR,
    .NR = NR,
    .VL = 8,
    .ukr = ukr_avx2,
    .ind_mr = {6, 4, 5},
    .ind_nr = {16, 24, 16},
    .ukr_ind = {ukr_ind_6x16, ukr_ind_4x24, ukr_ind_5x16},
    .gelu_fwd = gelu_fwd_avx2,
    .gelu_bwd = gelu_bwd_avx2,
    .pack_t = pack_t_avx2,
    .pack_b = pack_b_avx2,
    .conv1_fwd = conv1_fwd_rows,
    .conv1_bwd_data = conv1_bwd_data_ch,
    .conv1_bwd_weight = conv1_bwd_weight_ch,
};
#endif
