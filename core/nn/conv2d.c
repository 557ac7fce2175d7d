/*
 * conv2d.c - 2-D convolution, stride 1, same padding (K odd), with bias: the decoder's
 * workhorse. The fast path lowers a band of output rows at a time to a matrix (im2col)
 * and multiplies through hn_gemm; the _ref versions are direct loops kept for tests.
 */
#include "nn.h"

/* Columns of the lowered matrix per chunk: bounds the workspace to about 2M floats. */
#define CONV_CHUNK_FLOATS ((size_t)2 << 20)

static size_t chunk_rows(size_t C, size_t H, size_t W, size_t K)
{
    size_t per_row = C * K * K * W;
    size_t rows = per_row ? CONV_CHUNK_FLOATS / per_row : H;
    if (rows < 1) rows = 1;
    if (rows > H) rows = H;
    return rows;
}

size_t conv2d_wksp_floats(size_t C, size_t H, size_t W, size_t K)
{
    if (K == 1) return 0;
    /* col and dcol, each (C*K*K, rows*W) */
    return 2 * C * K * K * chunk_rows(C, H, W, K) * W;
}

/* col (C*K*K, (r1-r0)*W) = the K x K neighbourhoods of output rows [r0, r1). */
static void im2col(float *col, const float *inp, size_t C, size_t H, size_t W, size_t K,
                   size_t r0, size_t r1)
{
    const ptrdiff_t P = (ptrdiff_t)K / 2;
    const size_t n = (r1 - r0) * W;
    for (size_t c = 0; c < C; c++) {
        for (size_t ky = 0; ky < K; ky++) {
            for (size_t kx = 0; kx < K; kx++) {
                float *dst = col + ((c * K + ky) * K + kx) * n;
                ptrdiff_t dx = (ptrdiff_t)kx - P;
                size_t x0 = dx < 0 ? (size_t)(-dx) : 0;          /* first valid x */
                size_t x1 = dx > 0 ? W - (size_t)dx : W;        /* one past last valid x */
                if (x1 > W || x0 >= W) x0 = x1 = 0;             /* kernel wider than image */
                for (size_t y = r0; y < r1; y++, dst += W) {
                    ptrdiff_t iy = (ptrdiff_t)y + (ptrdiff_t)ky - P;
                    if (iy < 0 || iy >= (ptrdiff_t)H || x0 >= x1) {
                        memset(dst, 0, W * sizeof(float));
                        continue;
                    }
                    const float *src = inp + (c * H + (size_t)iy) * W;
                    for (size_t x = 0; x < x0; x++) dst[x] = 0.0f;
                    memcpy(dst + x0, src + (ptrdiff_t)x0 + dx, (x1 - x0) * sizeof(float));
                    for (size_t x = x1; x < W; x++) dst[x] = 0.0f;
                }
            }
        }
    }
}

/* dinp += scatter of dcol (C*K*K, (r1-r0)*W), the adjoint of im2col. */
static void col2im_add(float *dinp, const float *dcol, size_t C, size_t H, size_t W, size_t K,
                       size_t r0, size_t r1)
{
    const ptrdiff_t P = (ptrdiff_t)K / 2;
    const size_t n = (r1 - r0) * W;
    for (size_t c = 0; c < C; c++) {
        for (size_t ky = 0; ky < K; ky++) {
            for (size_t kx = 0; kx < K; kx++) {
                const float *src = dcol + ((c * K + ky) * K + kx) * n;
                ptrdiff_t dx = (ptrdiff_t)kx - P;
                size_t x0 = dx < 0 ? (size_t)(-dx) : 0;
                size_t x1 = dx > 0 ? W - (size_t)dx : W;
                if (x1 > W || x0 >= W) continue;
                for (size_t y = r0; y < r1; y++, src += W) {
                    ptrdiff_t iy = (ptrdiff_t)y + (ptrdiff_t)ky - P;
                    if (iy < 0 || iy >= (ptrdiff_t)H) continue;
                    /* dst[x] is dinp's pixel x + dx of row iy */
                    float *row = dinp + (c * H + (size_t)iy) * W;
                    for (size_t x = x0; x < x1; x++) row[(size_t)((ptrdiff_t)x + dx)] += src[x];
                }
            }
        }
    }
}

void conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                    size_t C, size_t H, size_t W, size_t OC, size_t K, float *wksp)
{
    const size_t HW = H * W, CKK = C * K * K;
    if (K == 1) {
        hn_gemm(0, 0, OC, HW, C, 1.0f, weight, C, inp, HW, 0.0f, out, HW);
    } else {
        size_t rows = chunk_rows(C, H, W, K);
        for (size_t r0 = 0; r0 < H; r0 += rows) {
            size_t r1 = r0 + rows < H ? r0 + rows : H;
            size_t n = (r1 - r0) * W;
            im2col(wksp, inp, C, H, W, K, r0, r1);
            hn_gemm(0, 0, OC, n, CKK, 1.0f, weight, CKK, wksp, n, 0.0f, out + r0 * W, HW);
        }
    }
    if (bias) {
        for (size_t oc = 0; oc < OC; oc++) {
            float b = bias[oc];
            float *o = out + oc * HW;
            for (size_t i = 0; i < HW; i++) o[i] += b;
        }
    }
}

void conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                     const float *inp, const float *weight, size_t C, size_t H, size_t W,
                     size_t OC, size_t K, float *wksp)
{
    const size_t HW = H * W, CKK = C * K * K;
    /* dbias[oc] = sum over pixels of dout[oc] */
    if (dbias) {
        for (size_t oc = 0; oc < OC; oc++) {
            const float *d = dout + oc * HW;
            double s = 0.0;
            for (size_t i = 0; i < HW; i++) s += d[i];
            dbias[oc] += (float)s;
        }
    }
    if (K == 1) {
        /* dweight (OC,C) += dout (OC,HW) x inp^T (HW,C); dinp (C,HW) += weight^T x dout */
        hn_gemm(0, 1, OC, C, HW, 1.0f, dout, HW, inp, HW, 1.0f, dweight, C);
        if (dinp) hn_gemm(1, 0, C, HW, OC, 1.0f, weight, C, dout, HW, 1.0f, dinp, HW);
        return;
    }
    size_t rows = chunk_rows(C, H, W, K);
    float *col = wksp;
    float *dcol = wksp + CKK * rows * W;
    for (size_t r0 = 0; r0 < H; r0 += rows) {
        size_t r1 = r0 + rows < H ? r0 + rows : H;
        size_t n = (r1 - r0) * W;
        im2col(col, inp, C, H, W, K, r0, r1);
        /* dweight (OC,CKK) += dout_chunk (OC,n) x col^T (n,CKK) */
        hn_gemm(0, 1, OC, CKK, n, 1.0f, dout + r0 * W, HW, col, n, 1.0f, dweight, CKK);
        if (dinp) {
            /* dcol (CKK,n) = weight^T (CKK,OC) x dout_chunk (OC,n), then scatter */
            hn_gemm(1, 0, CKK, n, OC, 1.0f, weight, CKK, dout + r0 * W, HW, 0.0f, dcol, n);
            col2im_add(dinp, dcol, C, H, W, K, r0, r1);
        }
    }
}

void conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                        size_t C, size_t H, size_t W, size_t OC, size_t K)
{
    const ptrdiff_t P = (ptrdiff_t)K / 2;
    for (size_t oc = 0; oc < OC; oc++) {
        for (size_t y = 0; y < H; y++) {
            for (size_t x = 0; x < W; x++) {
                double acc = bias ? bias[oc] : 0.0;
                for (size_t c = 0; c < C; c++) {
                    for (size_t ky = 0; ky < K; ky++) {
                        ptrdiff_t iy = (ptrdiff_t)y + (ptrdiff_t)ky - P;
                        if (iy < 0 || iy >= (ptrdiff_t)H) continue;
                        for (size_t kx = 0; kx < K; kx++) {
                            ptrdiff_t ix = (ptrdiff_t)x + (ptrdiff_t)kx - P;
                            if (ix < 0 || ix >= (ptrdiff_t)W) continue;
                            acc += (double)inp[(c * H + (size_t)iy) * W + (size_t)ix] *
                                   weight[((oc * C + c) * K + ky) * K + kx];
                        }
                    }
                }
                out[(oc * H + y) * W + x] = (float)acc;
            }
        }
    }
}

void conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, size_t C, size_t H, size_t W,
                         size_t OC, size_t K)
{
    /* Gather form with double sums, so the reference is far more exact than the fast path. */
    const ptrdiff_t P = (ptrdiff_t)K / 2;
    for (size_t oc = 0; oc < OC; oc++) {
        const float *d = dout + oc * H * W;
        if (dbias) {
            double s = 0;
            for (size_t i = 0; i < H * W; i++) s += d[i];
            dbias[oc] += (float)s;
        }
        for (size_t c = 0; c < C; c++)
            for (size_t ky = 0; ky < K; ky++)
                for (size_t kx = 0; kx < K; kx++) {
                    double s = 0;
                    for (size_t y = 0; y < H; y++) {
                        ptrdiff_t iy = (ptrdiff_t)y + (ptrdiff_t)ky - P;
                        if (iy < 0 || iy >= (ptrdiff_t)H) continue;
                        for (size_t x = 0; x < W; x++) {
                            ptrdiff_t ix = (ptrdiff_t)x + (ptrdiff_t)kx - P;
                            if (ix < 0 || ix >= (ptrdiff_t)W) continue;
                            s += (double)d[y * W + x] * inp[(c * H + (size_t)iy) * W + (size_t)ix];
                        }
                    }
                    dweight[((oc * C + c) * K + ky) * K + kx] += (float)s;
                }
    }
    if (!dinp) return;
    for (size_t c = 0; c < C; c++)
        for (size_t iy = 0; iy < H; iy++)
            for (size_t ix = 0; ix < W; ix++) {
                double s = 0;
                for (size_t oc = 0; oc < OC; oc++)
                    for (size_t ky = 0; ky < K; ky++) {
                        ptrdiff_t y = (ptrdiff_t)iy - (ptrdiff_t)ky + P;
                        if (y < 0 || y >= (ptrdiff_t)H) continue;
                        for (size_t kx = 0; kx < K; kx++) {
                            ptrdiff_t x = (ptrdiff_t)ix - (ptrdiff_t)kx + P;
                            if (x < 0 || x >= (ptrdiff_t)W) continue;
                            s += (double)dout[(oc * H + (size_t)y) * W + (size_t)x] *
                                 weight[((oc * C + c) * K + ky) * K + kx];
                        }
                    }
                dinp[(c * H + iy) * W + ix] += (float)s;
            }
}
