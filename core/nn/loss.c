/*
 * loss.c - the per-band reconstruction loss of HINER (paper Eq. 4): w_l1 * L1 + w_cam * CAM,
 * plus an optional w_l2 * MSE (the PSNR's own error, not in the paper), where CAM, the Content Angle Mapper, is the angle in degrees between the flattened
 * decoded band and the original. Only the true extent counts (never the padding), and
 * within it only valid pixels (NoData and NaN masked out). Sums are in double.
 */
#include <math.h>

#include "nn.h"

/* The arccos argument is clamped like the reference (1 - 1e-7) so the slope stays finite. */
#define COS_CLAMP (1.0 - 1e-7)

void loss_forward(hn_band_loss *L, const float *pred, size_t pstride, const float *target,
                  const uint8_t *mask, size_t H, size_t W)
{
    double l1 = 0, se = 0, dot = 0, pp = 0, gg = 0;
    size_t n = 0;
    for (size_t y = 0; y < H; y++) {
        const float *p = pred + y * pstride;
        const float *g = target + y * W;
        const uint8_t *m = mask ? mask + y * W : NULL;
        for (size_t x = 0; x < W; x++) {
            if (m && !m[x]) continue;
            double d = (double)p[x] - g[x];
            l1 += fabs(d);
            se += d * d;
            dot += (double)p[x] * g[x];
            pp += (double)p[x] * p[x];
            gg += (double)g[x] * g[x];
            n++;
        }
    }
    L->n = n;
    L->dot = dot;
    L->pp = pp;
    L->gg = gg;
    L->l1 = n ? l1 / (double)n : 0.0;
    L->mse = n ? se / (double)n : 0.0;
    L->cam = 0.0;
    if (pp > 0 && gg > 0) {
        double c = dot / sqrt(pp * gg);
        if (c > COS_CLAMP) c = COS_CLAMP;
        if (c < -COS_CLAMP) c = -COS_CLAMP;
        L->cam = acos(c) * (180.0 / HN_PI);
    }
}

void loss_backward(float *dpred, size_t pstride, const hn_band_loss *L, const float *pred,
                   const float *target, const uint8_t *mask, size_t H, size_t W, float w_l1,
                   float w_cam, float w_l2)
{
    if (L->n == 0) return;
    const double kl1 = (double)w_l1 / (double)L->n;
    const double kl2 = 2.0 * (double)w_l2 / (double)L->n; /* d mean (p - g)^2 / dp */
    /* CAM: d theta/dp_i = -(180/pi) / sqrt(1 - c^2) * (g_i / (|p||g|) - c p_i / |p|^2) */
    double ka = 0, kb = 0;
    if (w_cam != 0.0f && L->pp > 0 && L->gg > 0) {
        double norm = sqrt(L->pp * L->gg);
        double c = L->dot / norm;
        if (c < COS_CLAMP && c > -COS_CLAMP) {
            double s = -(double)w_cam * (180.0 / HN_PI) / sqrt(1.0 - c * c);
            ka = s / norm;
            kb = -s * c / L->pp;
        }
    }
    for (size_t y = 0; y < H; y++) {
        const float *p = pred + y * pstride;
        const float *g = target + y * W;
        const uint8_t *m = mask ? mask + y * W : NULL;
        float *dp = dpred + y * pstride;
        for (size_t x = 0; x < W; x++) {
            if (m && !m[x]) continue;
            double d = (double)p[x] - g[x];
            double sgn = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
            dp[x] += (float)(kl1 * sgn + kl2 * d + ka * g[x] + kb * p[x]);
        }
    }
}
