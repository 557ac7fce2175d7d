/*
 * synth.h - synthetic hyperspectral cubes for tests: three endmembers (Gaussian bumps and
 * a slope over wavelength) mixed with smooth spatial abundances, plus a sharp-edged field,
 * so that spectra are smooth and bands correlated like real scenes. Values in [0, 1].
 */
#ifndef HINER_TEST_SYNTH_H
#define HINER_TEST_SYNTH_H

#include <math.h>

/* Reflectance-like value of pixel (x, y) at wavelength w (nm, 400..1000). */
static inline double synth_value(int x, int y, double w)
{
    double l = (w - 400.0) / 600.0;
    double e0 = exp(-pow((l - 0.2) / 0.2, 2)), e1 = exp(-pow((l - 0.7) / 0.15, 2));
    double e2 = 0.2 + 0.6 * l;
    double a0 = 0.5 + 0.5 * sin(0.25 * x + 0.1 * y);
    double a1 = 0.5 + 0.5 * cos(0.2 * y - 0.15 * x);
    double field = ((x / 6 + y / 5) % 3 == 0) ? 0.3 : 0.0;
    double a2 = 1.0 - 0.5 * (a0 + a1);
    return (a0 * e0 + a1 * e1 + a2 * e2) * 0.8 + field * e2;
}

/* Band-sequential cube (C, H, W) in [0, 1] at wavelengths 400 + 600 b / (C - 1). */
static inline void synth_cube(double *out, int W, int H, int C, double *wl)
{
    for (int b = 0; b < C; b++) {
        double w = 400.0 + 600.0 * b / (C > 1 ? C - 1 : 1);
        if (wl) wl[b] = w;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) out[((size_t)b * H + y) * W + x] = synth_value(x, y, w);
    }
}

#endif
