/*
 * kernels.c - the scalar kernel set (other CPUs, and the reference the tests compare the
 * vectorised sets with) and the run-time choice between scalar, AVX2 and AVX-512.
 */
#include <math.h>
#include <strings.h>

#include "kernels.h"

enum { REF_MR = 4, REF_NR = 8 };

static void ukr_ref(size_t kc, const float *A, const float *B, float *C, size_t ldc, int acc)
{
    float c[REF_MR][REF_NR];
    for (int i = 0; i < REF_MR; i++)
        for (int j = 0; j < REF_NR; j++) c[i][j] = acc ? C[i * ldc + j] : 0.0f;
    for (size_t k = 0; k < kc; k++, A += REF_MR, B += REF_NR)
        for (int i = 0; i < REF_MR; i++)
            for (int j = 0; j < REF_NR; j++) c[i][j] += A[i] * B[j];
    for (int i = 0; i < REF_MR; i++)
        for (int j = 0; j < REF_NR; j++) C[i * ldc + j] = c[i][j];
}

static void ukr_ind_ref(size_t kc, const float *A, const float *base, const int32_t *offs,
                        float *C, size_t ldc, int acc, int mv, int nv)
{
    float c[REF_MR][REF_NR];
    for (int i = 0; i < REF_MR; i++)
        for (int j = 0; j < REF_NR; j++) c[i][j] = acc && i < mv && j < nv ? C[i * ldc + j] : 0.0f;
    for (size_t k = 0; k < kc; k++, A += REF_MR) {
        const float *B = base + offs[k];
        for (int i = 0; i < REF_MR; i++)
            for (int j = 0; j < nv; j++) c[i][j] += A[i] * B[j];
    }
    for (int i = 0; i < mv; i++)
        for (int j = 0; j < nv; j++) C[i * ldc + j] = c[i][j];
}

static void pack_t_ref(float *dst, const float *src, size_t lds, size_t kc)
{
    for (size_t p = 0; p < kc; p++)
        for (size_t r = 0; r < REF_MR; r++) dst[p * REF_MR + r] = src[r * lds + p];
}

static void pack_b_ref(float *dst, const float *src, size_t lds, size_t kc, size_t n)
{
    for (size_t p = 0; p < kc; p++)
        for (size_t c = 0; c < REF_NR; c++) dst[p * REF_NR + c] = c < n ? src[c * lds + p] : 0.0f;
}

static void gelu_fwd_ref(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = 0.5f * in[i] * (1.0f + erff(in[i] * 0.70710678f));
}

static void gelu_bwd_ref(float *d, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float cdf = 0.5f * (1.0f + erff(x * 0.70710678f));
        d[i] *= cdf + x * 0.39894228f * expf(-0.5f * x * x);
    }
}

#include "conv1.inc"

const hn_kernels hn_kernels_ref = {
    .name = "scalar",
    .MR = REF_MR,
    .NR = REF_NR,
    .VL = 1,
    .ukr = ukr_ref,
    .ind_mr = {REF_MR},
    .ind_nr = {REF_NR},
    .ukr_ind = {ukr_ind_ref},
    .gelu_fwd = gelu_fwd_ref,
    .gelu_bwd = gelu_bwd_ref,
    .pack_t = pack_t_ref,
    .pack_b = pack_b_ref,
    .conv1_fwd = conv1_fwd_rows,
    .conv1_bwd_data = conv1_bwd_data_ch,
    .conv1_bwd_weight = conv1_bwd_weight_ch,
};

const hn_kernels *hn_kernels_get(int isa)
{
    int cap = HN_ISA_AVX512;
    const char *env = getenv("HINER_ISA");
    if (env && !strcasecmp(env, "ref")) cap = HN_ISA_REF;
    else if (env && !strcasecmp(env, "avx2")) cap = HN_ISA_AVX2;
#if defined(__x86_64__) || defined(__i386__)
    int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == HN_ISA_AVX512) return has512 ? &hn_kernels_avx512 : NULL;
    if (isa == HN_ISA_AVX2) return has2 ? &hn_kernels_avx2 : NULL;
    if (isa == HN_ISA_REF) return &hn_kernels_ref;
    if (has512 && cap >= HN_ISA_AVX512) return &hn_kernels_avx512;
    if (has2 && cap >= HN_ISA_AVX2) return &hn_kernels_avx2;
    return &hn_kernels_ref;
#else
    (void)cap;
    return isa == HN_ISA_AUTO || isa == HN_ISA_REF ? &hn_kernels_ref : NULL;
#endif
}
