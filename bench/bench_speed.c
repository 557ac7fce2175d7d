/*
 * bench_speed.c - training-step and decoding speed of the C engine on the paper's Pavia
 * University configuration and a small one, against this machine's sgemm peak measured in
 * the same run. bench/speed.sh runs it next to the PyTorch reference and gdal_translate.
 *   bench_speed sgemm [threads]          OpenBLAS sgemm GFLOP/s (2048^3); its kernels follow
 *                                        OPENBLAS_CORETYPE (Haswell: AVX2, SkylakeX: AVX-512)
 *   bench_speed train pavia|small [threads] [steps]
 *   bench_speed decode pavia|small [threads]
 *   bench_speed kernels                  each micro-kernel of each set this CPU runs, one
 *                                        thread, operands in L1 (checked, then timed)
 * Each mode prints one line per figure and its peak RSS; train and decode name the kernel
 * set they ran (HINER_ISA=ref|avx2|avx512 caps the automatic choice).
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

/* The kernel set in use and the best this CPU offers, e.g. "avx2 (CPU: avx512, HINER_ISA=avx2)". */
static const char *isa_desc(const hn_kernels *k)
{
    static char buf[96];
    const hn_kernels *best = hn_kernels_get(HN_ISA_AVX512);
    if (!best) best = hn_kernels_get(HN_ISA_AVX2);
    if (!best) best = &hn_kernels_ref;
    const char *env = getenv("HINER_ISA");
    snprintf(buf, sizeof buf, "%s (CPU: %s%s%s)", k->name, best->name,
             env ? ", HINER_ISA=" : "", env ? env : "");
    return buf;
}

/* Which of our kernel sets an OpenBLAS core type's sgemm is the reference for. */
static const char *blas_isa(const char *core)
{
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *const avx2[] = {"Haswell", "Zen"};
    for (size_t i = 0; i < sizeof avx512 / sizeof *avx512; i++)
        if (strstr(core, avx512[i])) return "AVX-512 kernels: the reference for avx512";
    for (size_t i = 0; i < sizeof avx2 / sizeof *avx2; i++)
        if (strstr(core, avx2[i])) return "AVX2 kernels: the reference for avx2";
    return "kernels of this core type";
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
    printf("sgemm openblas-%s (%s) 2048^3 threads %d: %.0f GFLOP/s\n", openblas_get_corename(),
           blas_isa(openblas_get_corename()), threads, 2.0 * n * n * n / best * 1e-9);
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
           pl.forward_macs * 1e-9, isa_desc(A.x.k), threads, step * 1e3, flop / step * 1e-9,
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
    printf("decode %s kernels %s threads %d: %.1f ms per band (median of 21; %.0f GFLOP/s), "
           "peak RSS %.0f MB\n",
           name, isa_desc(hn_kernels_get(HN_ISA_AUTO)), threads, t * 1e3,
           2.0 * pl.forward_macs / t * 1e-9, peak_rss_mb());
    hiner_model_free(m);
    return 0;
}

/* One micro-kernel call on fixed operands: the packed ukr (v < 0) or in-place variant v. */
typedef struct ukr_call {
    const hn_kernels *k;
    int v;
    const float *A, *B, *base;
    const int32_t *offs;
    float *C;
    size_t kc, ldc;
} ukr_call;

static void ukr_run(const ukr_call *c)
{
    if (c->v < 0) c->k->ukr(c->kc, c->A, c->B, c->C, c->ldc, 1);
    else
        c->k->ukr_ind[c->v](c->kc, c->A, c->base, c->offs, c->C, c->ldc, 1, c->k->ind_mr[c->v],
                            c->k->ind_nr[c->v]);
}

/* Seconds per call: the best of 15 timings of `reps` calls. */
static double ukr_time(const ukr_call *c, int reps)
{
    double best = 1e9;
    for (int r = 0; r < 15; r++) {
        double t0 = hn_seconds();
        for (int i = 0; i < reps; i++) ukr_run(c);
        double t = hn_seconds() - t0;
        if (t < best) best = t;
    }
    return best / reps;
}

/* Largest relative difference of an mv x nv tile C (row stride ldc) from the plain sum
 * C0 (acc) + A (kc x MR) x B rows. */
static double tile_err(const float *C, const float *C0, const float *A, const float *const *Brow,
                       size_t kc, int MR, int mv, int nv, size_t ldc)
{
    double worst = 0.0;
    for (int i = 0; i < mv; i++)
        for (int j = 0; j < nv; j++) {
            double s = C0[i * ldc + j];
            for (size_t p = 0; p < kc; p++) s += (double)A[p * MR + i] * Brow[p][j];
            worst = fmax(worst, fabs(C[i * ldc + j] - s) / (1.0 + fabs(s)));
        }
    return worst;
}

/* Each micro-kernel of each set this CPU runs on operands in L1 (one thread): the packed
 * one of the weight gradient and every in-place tile of the forward and input gradient. */
static int cmd_kernels(void)
{
    const int isas[] = {HN_ISA_AVX2, HN_ISA_AVX512}, reps = 2000;
    const size_t kc = 192, ldc = 64;
    float *A = hn_malloc(kc * HN_MAX_MR, 4), *B = hn_malloc(kc * HN_MAX_NR, 4);
    float *base = hn_malloc(4096, 4), *C = hn_malloc(HN_MAX_MR * ldc, 4);
    float *C0 = hn_calloc(HN_MAX_MR * ldc, 4);
    int32_t offs[192];
    const float *rows[192];
    hn_rng rng;
    hn_rng_seed(&rng, 1);
    for (size_t i = 0; i < kc * HN_MAX_MR; i++) A[i] = hn_rng_uniform(&rng) - 0.5f;
    for (size_t i = 0; i < kc * HN_MAX_NR; i++) B[i] = hn_rng_uniform(&rng) - 0.5f;
    for (size_t i = 0; i < 4096; i++) base[i] = hn_rng_uniform(&rng) - 0.5f;
    for (size_t p = 0; p < kc; p++) offs[p] = (int32_t)((p * 37) % 3900); /* 15 KB of B rows */
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
        const hn_kernels *k = hn_kernels_get(isas[i]);
        if (!k) {
            printf("kernels %s: not run by this CPU\n", isas[i] == HN_ISA_AVX2 ? "avx2" : "avx512");
            continue;
        }
        for (int v = -1; v < HN_IND_VARIANTS && (v < 0 || k->ind_mr[v]); v++) {
            const int mr = v < 0 ? k->MR : k->ind_mr[v], nr = v < 0 ? k->NR : k->ind_nr[v];
            for (size_t p = 0; p < kc; p++) rows[p] = v < 0 ? B + p * (size_t)nr : base + offs[p];
            ukr_call c = {k, v, A, B, base, offs, C, kc, ldc};
            memset(C, 0, HN_MAX_MR * ldc * 4);
            ukr_run(&c);
            const double err = tile_err(C, C0, A, rows, kc, mr, mr, nr, ldc);
            const double t = ukr_time(&c, reps);
            printf("kernels %s %s %dx%d: %.1f GFLOP/s (max rel. error %.1e)\n", k->name,
                   v < 0 ? "ukr (packed, weight gradient)" : "ukr_ind (in place, forward/dinp)",
                   mr, nr, 2.0 * (double)kc * mr * nr / t * 1e-9, err);
        }
    }
    hn_free(A), hn_free(B), hn_free(base), hn_free(C), hn_free(C0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "kernels")) return cmd_kernels();
    if (argc >= 2 && !strcmp(argv[1], "sgemm")) return cmd_sgemm(argc > 2 ? atoi(argv[2]) : 2);
    if (argc >= 3 && !strcmp(argv[1], "train"))
        return cmd_train(argv[2], argc > 3 ? atoi(argv[3]) : 2, argc > 4 ? atoi(argv[4]) : 5);
    if (argc >= 3 && !strcmp(argv[1], "decode"))
        return cmd_decode(argv[2], argc > 3 ? atoi(argv[3]) : 2);
    fprintf(stderr, "usage: bench_speed sgemm [threads] | train pavia|small [threads] [steps] "
                    "| decode pavia|small [threads] | kernels\n");
    return 2;
}
