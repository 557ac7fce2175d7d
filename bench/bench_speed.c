/*
 * bench_speed.c - training-step and decoding speed of the C engine on the paper's Pavia
 * University configuration and a small one, against this machine's sgemm peak measured in
 * the same run. bench/speed.sh runs it next to the PyTorch reference and gdal_translate.
 *   bench_speed sgemm [threads]          OpenBLAS sgemm GFLOP/s (2048^3)
 *   bench_speed train pavia|small [threads] [steps]
 *   bench_speed decode pavia|small [threads]
 * Each mode prints one line per figure and its peak RSS.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "../core/model/model.h"

#ifdef HINER_WITH_OPENBLAS
#include <cblas.h>
#endif

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of n timings (sorts them): robust to a preempted run on a shared machine. */
static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* The paper's Pavia University configuration and a small one (the PyTorch reference's
 * settings). */
static int config(const char *name, hiner_params *p, uint32_t *W, uint32_t *H, uint32_t *C)
{
    hiner_params_init(p, HINER_ABI_VERSION);
    if (!strcmp(name, "pavia")) {
        *W = 340, *H = 610, *C = 103;
        p->pad_height = 720, p->pad_width = 360;
        p->n_stages = 4, p->strides[0] = 5, p->strides[1] = 4, p->strides[2] = 3, p->strides[3] = 2;
        p->model_bytes = 1e6;
        return 1;
    }
    if (!strcmp(name, "small")) {
        *W = 100, *H = 100, *C = 200;
        p->pad_height = 120, p->pad_width = 120;
        p->n_stages = 4, p->strides[0] = 5, p->strides[1] = 3, p->strides[2] = 2, p->strides[3] = 2;
        p->model_bytes = 0.05e6;
        return 1;
    }
    return 0;
}

static int cmd_sgemm(int threads)
{
#ifdef HINER_WITH_OPENBLAS
    openblas_set_num_threads(threads);
    const size_t n = 2048;
    float *A = hn_malloc(n * n, 4), *B = hn_malloc(n * n, 4), *C = hn_malloc(n * n, 4);
    hn_rng rng;
    hn_rng_seed(&rng, 1);
    for (size_t i = 0; i < n * n; i++) A[i] = hn_rng_uniform(&rng), B[i] = hn_rng_uniform(&rng);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1, A, (int)n,
                B, (int)n, 0, C, (int)n);
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = hn_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1, A,
                    (int)n, B, (int)n, 0, C, (int)n);
        double t = hn_seconds() - t0;
        if (t < best) best = t;
    }
    printf("sgemm openblas-%s threads %d: %.0f GFLOP/s\n", openblas_get_corename(), threads,
           2.0 * n * n * n / best * 1e-9);
    return 0;
#else
    (void)threads;
    printf("sgemm: built without OpenBLAS\n");
    return 0;
#endif
}

/* Forward MACs the engine runs: padding rows that do not reach the true extent are
 * skipped. */
static double executed_macs(const hiner_plan *pl, const hn_acts *A)
{
    double run = 0.0, hw_w = pl->embed_width;
    run += (double)(A->rows_a[0].y1 - A->rows_a[0].y0) * hw_w * pl->embed_channels * pl->widths[0];
    for (int i = 0; i < pl->n_stages; i++) {
        double s2 = (double)pl->strides[i] * pl->strides[i], k2 = (double)pl->kernels[i] * pl->kernels[i];
        run += (double)(A->rows_y[i].y1 - A->rows_y[i].y0) * hw_w * pl->widths[i] * pl->widths[i + 1] * s2 * k2;
        hw_w *= pl->strides[i];
    }
    run += (double)(A->rows_out.y1 - A->rows_out.y0) * hw_w * pl->widths[pl->n_stages] * 9.0;
    return run;
}

/* One training step on the band at lambda = (s + 2) / C: encoder and decoder forward, the
 * loss, the backward passes, Adam. t gets the times before and after each part (7). */
static void time_step(hn_net *net, hn_acts *A, float *grads, float *m, float *v, hn_adam *adam,
                      const hiner_plan *pl, const float *tgt, uint32_t W, uint32_t H, uint32_t C,
                      int s, double t[7])
{
    const size_t band = (size_t)pl->pad_width * pl->pad_height;
    const size_t off = (size_t)pl->pad_top * pl->pad_width + pl->pad_left;
    t[0] = hn_seconds();
    memset(grads, 0, net->n_params * 4);
    hn_encoder_forward(net, net->params, A, (double)(s + 2) / C, A->emb);
    t[1] = hn_seconds();
    hn_decoder_forward(net, net->params, A, A->emb);
    t[2] = hn_seconds();
    hn_band_loss L;
    loss_forward(&L, A->out + off, pl->pad_width, tgt, NULL, H, W);
    memset(A->dout, 0, band * 4);
    loss_backward(A->dout + off, pl->pad_width, &L, A->out + off, tgt, NULL, H, W, 0.5f, 0.005f, 0.0f);
    t[3] = hn_seconds();
    hn_decoder_backward(net, net->params, grads, A);
    t[4] = hn_seconds();
    hn_encoder_backward(net, net->params, grads, A);
    t[5] = hn_seconds();
    adam_update(adam, net->params, grads, m, v, net->n_params, 1e-4f);
    t[6] = hn_seconds();
}

static int cmd_train(const char *name, int threads, int steps)
{
    hiner_params p;
    uint32_t W, H, C;
    if (!config(name, &p, &W, &H, &C)) return 2;
    hiner_plan pl;
    hn_log lg = {0};
    if (hn_plan_make(&p, W, H, C, &pl, &lg) != HINER_OK) return 1;
    hn_net net;
    hn_net_init(&net, &pl);
    hn_rng rng;
    hn_rng_seed(&rng, 1);
    hn_net_init_weights(&net, &rng);
    hn_pool *pool = threads > 1 ? hn_pool_create(threads) : NULL;
    hn_acts A;
    hn_acts_init(&A, &pl, 1, pool);
    double prof[HINER_MAX_STAGES + 2] = {0};
    float *grads = hn_calloc(net.n_params, 4), *m = hn_calloc(net.n_params, 4),
          *v = hn_calloc(net.n_params, 4);
    const size_t n = (size_t)W * H;
    float *tgt = hn_malloc(n, 4);
    for (size_t i = 0; i < n; i++) tgt[i] = hn_rng_uniform(&rng);
    hn_adam adam;
    adam_init(&adam);
    double t_loss = 0, t_adam = 0, t_enc = 0;
    double *st = hn_malloc((size_t)steps, sizeof(double));
    for (int s = -2; s < steps; s++) {
        if (s == 0) { /* after two warm-up steps */
            memset(prof, 0, sizeof prof);
            A.prof = prof;
            t_loss = t_adam = t_enc = 0;
        }
        double t[7];
        time_step(&net, &A, grads, m, v, &adam, &pl, tgt, W, H, C, s, t);
        if (s >= 0) {
            t_enc += (t[1] - t[0]) + (t[5] - t[4]);
            t_loss += t[3] - t[2];
            t_adam += t[6] - t[5];
            st[s] = t[6] - t[0];
        }
    }
    const double step = median(st, steps); /* the split below is per-step means */
    const double flop = 3.0 * 2.0 * pl.forward_macs; /* forward + two backward products */
    const double run = executed_macs(&pl, &A), flop_run = 3.0 * 2.0 * run;
    printf("train %s %ux%ux%u padded %ux%u widths", name, W, H, C, pl.pad_width, pl.pad_height);
    for (int i = 0; i <= pl.n_stages; i++) printf(" %d", pl.widths[i]);
    printf(" (%.2f GMAC forward) kernels %s threads %d: %.1f ms per step, %.0f GFLOP/s effective "
           "(the model's FLOPs / time), %.0f GFLOP/s executed (%.2f GMAC forward actually run: "
           "padding rows are skipped)\n",
           pl.forward_macs * 1e-9, A.x.k->name, threads, step * 1e3, flop / step * 1e-9,
           flop_run / step * 1e-9, run * 1e-9);
    printf("  split per step: conv0 %.2f ms", prof[0] / steps * 1e3);
    for (int i = 0; i < pl.n_stages; i++) printf(", stage %d %.2f ms", i, prof[1 + i] / steps * 1e3);
    printf(", head %.2f ms, encoder %.2f ms, loss %.2f ms, adam %.2f ms\n",
           prof[1 + pl.n_stages] / steps * 1e3, t_enc / steps * 1e3, t_loss / steps * 1e3,
           t_adam / steps * 1e3);
    printf("  peak RSS %.0f MB\n", peak_rss_mb());
    hn_free(st);
    return 0;
}

static int cmd_decode(const char *name, int threads)
{
    hiner_params p;
    uint32_t W, H, C;
    if (!config(name, &p, &W, &H, &C)) return 2;
    hiner_plan pl;
    hn_log lg = {0};
    if (hn_plan_make(&p, W, H, C, &pl, &lg) != HINER_OK) return 1;
    hiner_model *m = NULL;
    hn_model_alloc(&m, &pl);
    hn_rng rng;
    hn_rng_seed(&rng, 1);
    hn_net_init_weights(&m->net, &rng);
    m->has_encoder = 1;
    for (uint32_t b = 0; b < C; b++) {
        m->lam[b] = (double)b / C;
        m->band_max[b] = 1.0;
    }
    hiner_model_set_threads(m, threads);
    hn_model_compute_embeddings(m);
    float *out = hn_malloc((size_t)W * H, 4);
    hiner_model_decode_band(m, 0, out);
    const int reps = 21;
    double ts[21];
    for (int r = 0; r < reps; r++) {
        double t0 = hn_seconds();
        hiner_model_decode_band(m, (uint32_t)r % C, out);
        ts[r] = hn_seconds() - t0;
    }
    double t = median(ts, reps);
    printf("decode %s threads %d: %.1f ms per band (median of 21; %.0f GFLOP/s), peak RSS %.0f MB\n", name,
           threads, t * 1e3, 2.0 * pl.forward_macs / t * 1e-9, peak_rss_mb());
    hiner_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "sgemm")) return cmd_sgemm(argc > 2 ? atoi(argv[2]) : 2);
    if (argc >= 3 && !strcmp(argv[1], "train"))
        return cmd_train(argv[2], argc > 3 ? atoi(argv[3]) : 2, argc > 4 ? atoi(argv[4]) : 5);
    if (argc >= 3 && !strcmp(argv[1], "decode"))
        return cmd_decode(argv[2], argc > 3 ? atoi(argv[3]) : 2);
    fprintf(stderr, "usage: bench_speed sgemm [threads] | train pavia|small [threads] [steps] "
                    "| decode pavia|small [threads]\n");
    return 2;
}
