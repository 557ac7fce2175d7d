/*
 * test_grad_sens.c - the weight sensitivities that steer the rate fit's bit widths
 * (hn_sensitivity) against measured PSNR changes: a trained tiny model, each tensor
 * perturbed by random signs, the mean per-band PSNR loss measured (central, so the first
 * order cancels) and compared with 10 / ln 10 / C * sum_i F_i d_i^2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/model/model.h"
#include "../check.h"
#include "../synth.h"

enum { W = 24, H = 24, C = 16 };
/* Random perturbations averaged per tensor: a tensor of low-rank curvature (the spectral
 * encoder's) gives single draws far from their mean. */
#define DRAWS 64

/* Mean per-band PSNR of the network against the normalised bands. */
static double mean_psnr(hiner_model *m, const hn_data *d, hn_acts *A)
{
    const hiner_plan *pl = &m->plan;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    double sum = 0;
    for (uint32_t b = 0; b < C; b++) {
        hn_band_loss L;
        hn_encoder_forward(&m->net, m->net.params, A, m->lam[b], A->emb);
        hn_decoder_forward(&m->net, m->net.params, A, A->emb);
        loss_forward(&L, A->out + off, pl->pad_width, d->target + (size_t)b * W * H, NULL, H, W);
        sum += -10.0 * log10(L.mse);
    }
    return sum / C;
}

int main(void)
{
    static double cube_data[C * H * W];
    double wl[C];
    synth_cube(cube_data, W, H, C, wl);
    hiner_cube cube = {W, H, C, HINER_FLOAT64, cube_data, NULL, NULL, 0, 0.0, wl, NULL, NULL};
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.model_bytes = 6000;
    p.min_width = 8;
    p.enc_freqs = 12;
    p.enc_hidden = 32;
    p.embed_channels = 8;
    p.epochs = 150;
    p.lr = 5e-3f;
    hiner_model *m = NULL;
    CHECK(hiner_train(&cube, &p, &m, NULL) == HINER_OK);
    hn_data d;
    CHECK(hn_data_load(&d, &cube, NULL) == HINER_OK);
    hn_net *net = &m->net;
    float *F = malloc(net->n_params * sizeof(float));
    float *w0 = malloc(net->n_params * sizeof(float));
    CHECK(F && w0);
    CHECK(hn_sensitivity(m, &d, 1, 16, 7, F, NULL) == HINER_OK);
    memcpy(w0, net->params, net->n_params * sizeof(float));
    hn_acts A;
    CHECK(hn_acts_init(&A, &m->plan, 0, NULL) == HINER_OK);
    const double base = mean_psnr(m, &d, &A);
    hn_rng rng;
    hn_rng_seed(&rng, 11);
    int checked = 0;
    for (int t = 0; t < net->n_tensors; t++) {
        const hn_tensor *T = &net->t[t];
        if (T->n < 200) continue; /* few weights: too few random signs for a mean */
        /* a perturbation predicted to cost 0.3 dB, of random signs */
        double f = 0;
        for (size_t i = 0; i < T->n; i++) f += F[T->off + i];
        const double eps = sqrt(0.3 * C * log(10.0) / 10.0 / f);
        double loss = 0;
        for (int draw = 0; draw < DRAWS; draw++) {
            hn_rng r2;
            for (int sign = -1; sign <= 1; sign += 2) {
                r2 = rng; /* the same signs, negated */
                for (size_t i = 0; i < T->n; i++)
                    net->params[T->off + i] =
                        w0[T->off + i] + (float)(sign * ((hn_rng_next(&r2) >> 63) ? eps : -eps));
                loss += 0.5 * (base - mean_psnr(m, &d, &A)) / DRAWS;
            }
            rng = r2;
        }
        memcpy(net->params, w0, net->n_params * sizeof(float));
        printf("tensor %2d (%5zu weights): predicted 0.300 dB, measured %.3f dB\n", t, T->n,
               loss);
        CHECK(loss > 0.3 / 1.5 && loss < 0.3 * 1.5);
        checked++;
    }
    CHECK(checked >= 4);
    hn_acts_free(&A);
    hn_data_free(&d);
    hiner_model_free(m);
    free(F);
    free(w0);
    return check_exit();
}
