/*
 * kernels.h - the CPU-specific inner loops, chosen once at run time: the GEMM micro-kernel
 * that every convolution's implicit GEMM feeds (C[MR x NR] += A-panel x B-panel), and the
 * vectorised element-wise functions (GELU and its derivative). A scalar version is kept
 * for other CPUs and as the tests' reference; AVX2 and AVX-512 versions live in files
 * compiled with those instruction sets. The tables are constant: no mutable global state.
 */
#ifndef HINER_KERNELS_H
#define HINER_KERNELS_H

#include "../internal.h"

/* Largest register tile of any kernel set (buffers are sized by these). */
#define HN_MAX_MR 16
#define HN_MAX_NR 32
#define HN_IND_VARIANTS 3

typedef struct hn_kernels {
    const char *name;
    int MR, NR; /* register tile: MR rows (broadcast from A) x NR columns (vectors of B) */
    int VL;     /* floats per vector */
    /* C[MR x NR] (row stride ldc) = (acc ? C : 0) + sum over k < kc of A[k][0..MR) x
     * B[k][0..NR); A is a packed panel (kc x MR), B a packed panel (kc x NR), both
     * 64-byte aligned. Always a full tile: the caller handles edges. */
    void (*ukr)(size_t kc, const float *A, const float *B, float *C, size_t ldc, int acc);
    /* The same product with B read in place: row k of B is base + offs[k]; only the
     * first nv columns (nv <= ind_nr) are stored, and the first mv rows of C exist. B
     * rows may be read up to nv rounded up to whole vectors of VL floats. Variants of
     * several tile shapes (ind_mr[i] x ind_nr[i], 0 = unused), so a layer can pick the
     * one that wastes the least. */
    int ind_mr[HN_IND_VARIANTS];
    int ind_nr[HN_IND_VARIANTS];
    void (*ukr_ind[HN_IND_VARIANTS])(size_t kc, const float *A, const float *base,
                                     const int32_t *offs, float *C, size_t ldc, int acc, int mv,
                                     int nv);
    /* out = GELU(in), exact erf form (to float accuracy) */
    void (*gelu_fwd)(float *out, const float *in, size_t n);
    /* d *= GELU'(in) */
    void (*gelu_bwd)(float *d, const float *in, size_t n);
    /* dst[p * MR + r] = src[r * lds + p] for r < MR, p < kc: MR rows into one A panel */
    void (*pack_t)(float *dst, const float *src, size_t lds, size_t kc);
    /* dst[p * NR + c] = c < n ? src[c * lds + p] : 0 for c < NR, p < kc: n <= NR rows into
     * one B panel */
    void (*pack_b)(float *dst, const float *src, size_t lds, size_t kc, size_t n);
    /* the 3x3 one-output-channel convolution (conv1.inc), by rows or channels; the input
     * gradient accumulates into dinp when acc, else overwrites it */
    void (*conv1_fwd)(float *out, const float *inp, const float *w, float bias, size_t C,
                      size_t H, size_t W, size_t y0, size_t y1);
    void (*conv1_bwd_data)(float *dinp, const float *dout, const float *w, size_t H, size_t W,
                           size_t c0, size_t c1, size_t y0, size_t y1, int acc);
    void (*conv1_bwd_weight)(float *dw, const float *dout, const float *inp, size_t H,
                             size_t W, size_t c0, size_t c1, size_t y0, size_t y1);
} hn_kernels;

enum { HN_ISA_AUTO = 0, HN_ISA_REF = 1, HN_ISA_AVX2 = 2, HN_ISA_AVX512 = 3 };

/* The fastest kernel set this CPU runs (isa = HN_ISA_AUTO), or a given one if the CPU
 * supports it (NULL otherwise). The environment variable HINER_ISA (ref, avx2, avx512)
 * caps the automatic choice, for tests and benchmarks. */
HN_HIDDEN const hn_kernels *hn_kernels_get(int isa);

HN_HIDDEN extern const hn_kernels hn_kernels_ref;
#if defined(__x86_64__) || defined(__i386__)
HN_HIDDEN extern const hn_kernels hn_kernels_avx2;
HN_HIDDEN extern const hn_kernels hn_kernels_avx512;
#endif

#endif
