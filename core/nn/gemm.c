/*
 * gemm.c - the one matrix-product entry point of the engine. Every layer's product goes
 * through hn_gemm: OpenBLAS's sgemm when built with HINER_WITH_OPENBLAS, otherwise the
 * reference loop below, which the tests also use to check the fast path. OpenBLAS's own
 * thread count is process-wide and belongs to the application: the library never sets it
 * (sgemm partitions the output among its threads, so the results do not depend on it).
 */
#include "nn.h"

#ifdef HINER_WITH_OPENBLAS
#include <cblas.h>
#endif

void hn_gemm_ref(int transA, int transB, size_t M, size_t N, size_t K, float alpha,
                 const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                 size_t ldc)
{
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            double acc = 0.0;
            for (size_t k = 0; k < K; k++) {
                float a = transA ? A[k * lda + i] : A[i * lda + k];
                float b = transB ? B[j * ldb + k] : B[k * ldb + j];
                acc += (double)a * b;
            }
            float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
            C[i * ldc + j] = (float)(alpha * acc) + prev;
        }
    }
}

void hn_gemm(int transA, int transB, size_t M, size_t N, size_t K, float alpha, const float *A,
             size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0) return;
    if (K == 0) {
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
#ifdef HINER_WITH_OPENBLAS
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, alpha, A,
                (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
#else
    hn_gemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

const char *hn_gemm_backend(void)
{
#ifdef HINER_WITH_OPENBLAS
    return "openblas";
#else
    return "reference";
#endif
}
