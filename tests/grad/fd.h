/*
 * fd.h - the finite-difference probe the gradient tests share: seeded random arrays and
 * fd_check, which compares an analytic gradient with central differences of a scalar
 * f = sum r_i out_i and fails when the probed slope is too small to test anything.
 * Include after ../check.h and a core header (hn_rng, hn_malloc).
 */
#ifndef HINER_TEST_FD_H
#define HINER_TEST_FD_H

#include <math.h>

static hn_rng rng;

static float *rnd(size_t n, float scale)
{
    float *p = hn_malloc(n ? n : 1, sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (2.0f * hn_rng_uniform(&rng) - 1.0f) * scale;
    return p;
}
static float *zeros(size_t n)
{
    return hn_calloc(n ? n : 1, sizeof(float));
}
static double dotd(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* ---- finite differences over a parameter array ----
 * fwd(ctx) returns f; the probe perturbs p[i] by +-eps for up to max_probe entries spread
 * over the array and compares with the analytic gradient g[i]. */
typedef double (*fwd_fn)(void *ctx);

static void fd_check(const char *what, fwd_fn f, void *ctx, float *p, const float *g, size_t n,
                     float eps, double atol, double rtol, size_t max_probe)
{
    size_t step = n > max_probe ? n / max_probe : 1;
    size_t m = 0;
    float num[512] = {0}, ana[512] = {0};
    for (size_t i = 0; i < n && m < 512; i += step, m++) {
        float keep = p[i];
        p[i] = keep + eps;
        double fp = f(ctx);
        p[i] = keep - eps;
        double fm = f(ctx);
        p[i] = keep;
        num[m] = (float)((fp - fm) / (2.0 * eps));
        ana[m] = g[i];
    }
    check_close(what, ana, num, m, atol, rtol);
    /* a vanishing gradient would pass trivially: require a slope well above the tolerance */
    double mx = 0;
    for (size_t i = 0; i < m; i++) mx = fmax(mx, fabs(num[i]));
    CHECK_MSG(mx > 10 * atol, "%s: gradient too small to test (max %g)", what, mx);
}

#endif
