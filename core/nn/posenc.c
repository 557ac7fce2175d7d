/*
 * posenc.c - the sinusoidal positional encoding of a normalised wavelength (paper Eq. 3,
 * NeRF): P(l) = (sin(b^k pi l))_k, (cos(b^k pi l))_k, k = 0..L-1. It has no parameters and
 * no backward (wavelengths are inputs, not learned). Computed in double: b^79 pi l is
 * ~1e8, where float rounding alone would change the feature.
 */
#include <math.h>

#include "nn.h"

void posenc_forward(float *out, double lambda, size_t L, double base)
{
    double f = HN_PI;
    for (size_t k = 0; k < L; k++, f *= base) {
        double a = f * lambda;
        out[k] = (float)sin(a);
        out[L + k] = (float)cos(a);
    }
}
