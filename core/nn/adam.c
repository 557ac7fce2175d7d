/*
 * adam.c - Adam (Kingma & Ba) exactly as torch.optim.Adam with its defaults
 * (betas 0.9/0.999, eps 1e-8, bias correction), over one flat parameter slab, and the
 * learning-rate schedule of the reference: linear warm-up from 0.1 x lr, then cosine to 0.
 */
#include <math.h>

#include "nn.h"

void adam_init(hn_adam *a)
{
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->weight_decay = 0.0f;
    a->t = 0;
}

void adam_update(hn_adam *a, float *params, const float *grads, float *m, float *v, size_t n,
                 float lr)
{
    a->t++;
    const float b1 = a->beta1, b2 = a->beta2, wd = a->weight_decay;
    const double bc1 = 1.0 - pow(b1, (double)a->t);
    const double bc2 = 1.0 - pow(b2, (double)a->t);
    const float step = (float)(lr / bc1);
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] + wd * params[i]; /* L2 penalty as torch's weight_decay */
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        float denom = sqrtf(v[i]) * inv_sqrt_bc2 + a->eps;
        params[i] -= step * m[i] / denom;
    }
}

float lr_schedule(uint64_t step, uint64_t total, float base, float warmup)
{
    if (total == 0) return base;
    double e = (double)step / (double)total;
    if (warmup > 0 && e < warmup) return (float)(base * (0.1 + 0.9 * e / warmup));
    double r = warmup < 1 ? (e - warmup) / (1.0 - warmup) : 1.0;
    return (float)(base * 0.5 * (1.0 + cos(HN_PI * r)));
}
