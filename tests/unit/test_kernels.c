/*
 * test_kernels.c - every kernel set this CPU runs (scalar, AVX2, AVX-512) against the
 * reference loops: the implicit-GEMM convolution forward, input gradient, weight and bias
 * gradients over shapes that exercise every edge (rows not a multiple of MR, pixels not a
 * multiple of NR, one output channel, kernels 1/3/5, depth beyond one KC block, images
 * narrower than the kernel), on 1 and 2 threads; each in-place micro-kernel variant and the
 * panel packing on their own; and the vectorised GELU. Tolerances:
 * 1e-5 relative to the largest |value| of each output for the products (float sums in a
 * different order), 2e-6 absolute for GELU (the erf approximation's error is 1.5e-7).
 */
#include <math.h>
#include <string.h>

#include "../../core/nn/conv_fast.h"
#include "../check.h"

static hn_rng rng;

static float *rnd(size_t n)
{
    float *p = hn_malloc(n ? n : 1, sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * hn_rng_uniform(&rng) - 1.0f;
    return p;
}

static double maxabs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

static void conv_case(const hn_kernels *k, hn_pool *pool, int T, size_t C, size_t H, size_t W,
                      size_t OC, size_t K)
{
    const size_t ni = C * H * W, no = OC * H * W, nw = OC * C * K * K;
    float *inp = rnd(ni), *w = rnd(nw), *b = rnd(OC), *dout = rnd(no);
    float *o1 = hn_calloc(no, 4), *o2 = hn_calloc(no, 4);
    float *di1 = rnd(ni), *di2 = hn_malloc(ni, 4), *dw1 = rnd(nw), *dw2 = hn_malloc(nw, 4);
    float *db1 = rnd(OC), *db2 = hn_malloc(OC, 4);
    memcpy(di2, di1, ni * 4), memcpy(dw2, dw1, nw * 4), memcpy(db2, db1, OC * 4);
    hn_exec x = {k, pool, hn_calloc(hn_conv_wksp_floats(k, T, C, OC, K, H, W), sizeof(float))};
    hn_conv_forward(&x, o1, inp, w, b, C, H, W, OC, K);
    conv2d_forward_ref(o2, inp, w, b, C, H, W, OC, K);
    hn_conv_backward(&x, di1, 1, dw1, db1, dout, inp, w, C, H, W, OC, K);
    conv2d_backward_ref(di2, dw2, db2, dout, inp, w, C, H, W, OC, K);
    char nm[80];
    snprintf(nm, sizeof nm, "%s T%d %zux%zux%zu->%zu k%zu fwd", k->name, T, C, H, W, OC, K);
    check_close(nm, o1, o2, no, 1e-5 * maxabs(o2, no), 0);
    snprintf(nm, sizeof nm, "%s T%d %zux%zux%zu->%zu k%zu dinp", k->name, T, C, H, W, OC, K);
    check_close(nm, di1, di2, ni, 1e-5 * maxabs(di2, ni), 0);
    snprintf(nm, sizeof nm, "%s T%d %zux%zux%zu->%zu k%zu dw", k->name, T, C, H, W, OC, K);
    check_close(nm, dw1, dw2, nw, 1e-5 * maxabs(dw2, nw), 0);
    snprintf(nm, sizeof nm, "%s T%d %zux%zux%zu->%zu k%zu db", k->name, T, C, H, W, OC, K);
    check_close(nm, db1, db2, OC, 1e-5 * maxabs(db2, OC), 0);
    /* the input gradient overwriting (dinp_acc 0) a buffer of garbage */
    float *di3 = rnd(ni), *di4 = hn_calloc(ni, 4), *dw3 = hn_calloc(nw, 4);
    hn_conv_backward(&x, di3, 0, dw3, NULL, dout, inp, w, C, H, W, OC, K);
    conv2d_backward_ref(di4, dw3, NULL, dout, inp, w, C, H, W, OC, K);
    snprintf(nm, sizeof nm, "%s T%d %zux%zux%zu->%zu k%zu dinp=", k->name, T, C, H, W, OC, K);
    check_close(nm, di3, di4, ni, 1e-5 * maxabs(di4, ni), 0);
    float *all[] = {inp, w, b, dout, o1, o2, di1, di2, dw1, dw2, db1, db2, di3, di4, dw3, x.wksp};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) hn_free(all[i]);
}

static void pack_case(const hn_kernels *k)
{
    const size_t lds = 100, kc = 37; /* two 16-blocks and a tail */
    float *src = rnd((size_t)k->MR * lds), *d1 = hn_malloc(kc * k->MR, 4), *d2 = hn_malloc(kc * k->MR, 4);
    k->pack_t(d1, src, lds, kc);
    for (size_t p = 0; p < kc; p++)
        for (size_t r = 0; r < (size_t)k->MR; r++) d2[p * k->MR + r] = src[r * lds + p];
    char nm[40];
    snprintf(nm, sizeof nm, "%s pack_t", k->name);
    check_close(nm, d1, d2, kc * k->MR, 0, 0);
    hn_free(src), hn_free(d1), hn_free(d2);
}

/* Every in-place-B micro-kernel against plain loops: depths of one, a few and more than
 * a block, C partly valid (mv < MR, nv < NR, a single column), with and without
 * accumulation; C outside the mv x nv corner must stay untouched. */
static void ukr_ind_case(const hn_kernels *k)
{
    const size_t ldc = 80, kcs[] = {1, 7, 197};
    float *C = hn_malloc(HN_MAX_MR * ldc, 4), *R = hn_malloc(HN_MAX_MR * ldc, 4);
    float *base = rnd(4096);
    int32_t offs[197];
    for (size_t i = 0; i < 197; i++) offs[i] = (int32_t)((i * 37) % 3900);
    for (int v = 0; v < HN_IND_VARIANTS && k->ind_mr[v]; v++) {
        const int MR = k->ind_mr[v], NR = k->ind_nr[v];
        const int nvs[] = {NR, NR - 1, k->VL + 1, k->VL, k->VL - 1 > 0 ? k->VL - 1 : 1, 1};
        const int mvs[] = {MR, MR - 1, 1};
        int bad = 0;
        for (size_t ik = 0; ik < 3; ik++)
            for (size_t in = 0; in < 6; in++)
                for (size_t im = 0; im < 3; im++)
                    for (int acc = 0; acc <= 1; acc++) {
                        const size_t kc = kcs[ik];
                        const int nv = nvs[in] < NR ? nvs[in] : NR, mv = mvs[im] > 0 ? mvs[im] : 1;
                        float *A = rnd(kc * (size_t)MR), *C0 = rnd(HN_MAX_MR * ldc);
                        memcpy(C, C0, HN_MAX_MR * ldc * 4), memcpy(R, C0, HN_MAX_MR * ldc * 4);
                        k->ukr_ind[v](kc, A, base, offs, C, ldc, acc, mv, nv);
                        for (int i = 0; i < mv; i++)
                            for (int j = 0; j < nv; j++) {
                                double s = acc ? C0[i * ldc + j] : 0.0;
                                for (size_t p = 0; p < kc; p++)
                                    s += (double)A[p * MR + i] * base[offs[p] + j];
                                R[i * ldc + j] = (float)s;
                            }
                        for (size_t i = 0; i < HN_MAX_MR * ldc; i++)
                            if (!(fabs(C[i] - R[i]) <= 1e-4 * (1.0 + fabs(R[i])))) {
                                if (bad++ < 3)
                                    fprintf(stderr, "  %s ukr_ind %dx%d kc %zu mv %d nv %d acc %d:"
                                            " C[%zu] %g vs %g\n", k->name, MR, NR, kc, mv, nv, acc,
                                            i, C[i], R[i]);
                            }
                        hn_free(A), hn_free(C0);
                    }
        printf("%s ukr_ind %dx%d: %s\n", k->name, MR, NR, bad ? "FAIL" : "ok");
        CHECK(bad == 0);
    }
    hn_free(C), hn_free(R), hn_free(base);
}

/* B panels: n rows valid (the rest zero), depths with a tail. */
static void pack_b_case(const hn_kernels *k)
{
    const size_t lds = 100, kc = 37, NR = (size_t)k->NR;
    float *src = rnd(NR * lds), *d1 = hn_malloc(kc * NR, 4), *d2 = hn_malloc(kc * NR, 4);
    const size_t ns[] = {NR, NR - 1, 1};
    for (size_t i = 0; i < 3; i++) {
        k->pack_b(d1, src, lds, kc, ns[i]);
        for (size_t p = 0; p < kc; p++)
            for (size_t c = 0; c < NR; c++) d2[p * NR + c] = c < ns[i] ? src[c * lds + p] : 0.0f;
        char nm[40];
        snprintf(nm, sizeof nm, "%s pack_b n=%zu", k->name, ns[i]);
        check_close(nm, d1, d2, kc * NR, 0, 0);
    }
    hn_free(src), hn_free(d1), hn_free(d2);
}

static void gelu_case(const hn_kernels *k)
{
    const size_t n = 1003; /* not a multiple of any vector width */
    float *x = hn_malloc(n, 4), *y1 = hn_malloc(n, 4), *y2 = hn_malloc(n, 4);
    float *d1 = hn_malloc(n, 4), *d2 = hn_malloc(n, 4);
    for (size_t i = 0; i < n; i++) {
        x[i] = -9.0f + 18.0f * (float)i / (float)(n - 1); /* across the whole useful range */
        d1[i] = d2[i] = 1.0f + 0.001f * (float)i;
    }
    k->gelu_fwd(y1, x, n);
    hn_kernels_ref.gelu_fwd(y2, x, n);
    k->gelu_bwd(d1, x, n);
    hn_kernels_ref.gelu_bwd(d2, x, n);
    char nm[40];
    snprintf(nm, sizeof nm, "%s gelu fwd", k->name);
    check_close(nm, y1, y2, n, 2e-6, 2e-6);
    snprintf(nm, sizeof nm, "%s gelu bwd", k->name);
    check_close(nm, d1, d2, n, 4e-6, 2e-6);
    hn_free(x), hn_free(y1), hn_free(y2), hn_free(d1), hn_free(d2);
}

int main(void)
{
    hn_rng_seed(&rng, 5);
    const int isas[] = {HN_ISA_REF, HN_ISA_AVX2, HN_ISA_AVX512};
    hn_pool *pool2 = hn_pool_create(2);
    for (size_t i = 0; i < 3; i++) {
        const hn_kernels *k = hn_kernels_get(isas[i]);
        if (!k) {
            printf("kernel set %d not supported by this CPU: skipped\n", isas[i]);
            continue;
        }
        gelu_case(k);
        pack_case(k);
        pack_b_case(k);
        ukr_ind_case(k);
        for (int T = 1; T <= 2; T++) {
            hn_pool *pool = T == 1 ? NULL : pool2;
            conv_case(k, pool, T, 3, 7, 9, 5, 3);     /* tiny, every edge */
            conv_case(k, pool, T, 16, 5, 5, 30, 1);   /* 1x1 on a few pixels */
            conv_case(k, pool, T, 12, 21, 17, 48, 5); /* depth 300: two KC blocks */
            conv_case(k, pool, T, 40, 9, 40, 29, 3);  /* depth 360, odd rows and pixels */
            conv_case(k, pool, T, 24, 33, 19, 1, 3);  /* the head: one output channel */
            conv_case(k, pool, T, 2, 3, 2, 4, 5);     /* image narrower than the kernel */
            conv_case(k, pool, T, 3, 4, 1, 1, 3);     /* head on a one-pixel-wide image */
            conv_case(k, pool, T, 3, 5, 2, 1, 3);     /* head on a two-pixel-wide image */
            conv_case(k, pool, T, 8, 3, 16, 20, 1);   /* 1x1 on whole vectors: no copy */
            conv_case(k, pool, T, 38, 6, 61, 10, 5);  /* 38 rows back: a 4-high tile */
            conv_case(k, pool, T, 5, 4, 50, 46, 3);   /* 46 rows: 6 x 16 or 4 x 24 */
        }
    }
    hn_pool_free(pool2);
    printf("automatic choice on this CPU: %s\n", hn_kernels_get(HN_ISA_AUTO)->name);
    return check_exit();
}
