/*
 * xent.c - softmax cross-entropy for classification (PyTorch nn.CrossEntropyLoss on
 * logits). The forward pass keeps the probabilities; the gradient with respect to the
 * logits is then (p - onehot) times the caller's scale (1 / batch for a mean).
 */
#include <math.h>

#include "nn.h"

double crossentropy_forward(float *probs, const float *logits, const int32_t *targets,
                            size_t B, size_t K)
{
    /* logits, probs are (B,K); targets (B) in [0,K); returns the summed -log p_target */
    double loss = 0.0;
    for (size_t b = 0; b < B; b++) {
        const float *z = logits + b * K;
        float *p = probs + b * K;
        float mx = z[0];
        for (size_t k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
        double sum = 0.0;
        for (size_t k = 0; k < K; k++) {
            p[k] = expf(z[k] - mx);
            sum += p[k];
        }
        for (size_t k = 0; k < K; k++) p[k] = (float)(p[k] / sum);
        /* -log p_t = log sum - (z_t - max), without the rounding of log(p_t) */
        loss += log(sum) - (double)(z[targets[b]] - mx);
    }
    return loss;
}

void crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                           size_t B, size_t K, float scale)
{
    /* d(scale * sum_b -log p_b,t)/dz_bk = scale (p_bk - [k == t_b]) */
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < K; k++)
            dlogits[b * K + k] += scale * (probs[b * K + k] - (k == (size_t)targets[b] ? 1.0f : 0.0f));
}
