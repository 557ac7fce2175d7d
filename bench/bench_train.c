/*
 * bench_train.c - trains HINER on a GDAL-readable cube with explicit settings and prints
 * the plan, the time and the unquantized PSNR (true extent), for side-by-side runs with
 * ../shared/bench/hiner_torch.py. --torch-loss trains as the reference does, with the
 * loss over the whole padded frame (the padding filled with each band's minimum, i.e. 0
 * after normalisation) instead of the true extent only; PSNR is on the true extent either
 * way. Example (the PyTorch reference's San Diego settings):
 *   bench_train --tif ../shared/data/sandiego_189.tif --pad 120,120 --strides 5,3,2,2 \
 *               --embed 2,2 --model-bytes 47250 --epochs 100 --threads 2
 */
#include <gdal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hiner.h"

static int parse_ints(const char *s, int *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        out[n++] = (int)strtol(s, (char **)&s, 10);
        if (*s == ',') s++;
    }
    return n;
}

static void log_fn(int level, const char *msg, void *user)
{
    (void)user;
    if (level <= 2) printf("  %s\n", msg);
    fflush(stdout);
}

/* The command line into p, *tif, *torch_loss; 0, or the exit status on a bad one. */
static int parse_args(int argc, char **argv, hiner_params *p, const char **tif, int *torch_loss)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        int xy[2];
        if (!strcmp(a, "--tif")) *tif = v, i++;
        else if (!strcmp(a, "--strides")) p->n_stages = parse_ints(v, p->strides, HINER_MAX_STAGES), i++;
        else if (!strcmp(a, "--pad")) parse_ints(v, xy, 2), p->pad_height = xy[0], p->pad_width = xy[1], i++;
        else if (!strcmp(a, "--embed")) parse_ints(v, xy, 2), p->embed_height = xy[0], p->embed_width = xy[1], i++;
        else if (!strcmp(a, "--model-bytes")) p->model_bytes = atof(v), i++;
        else if (!strcmp(a, "--bpppb")) p->bpppb = atof(v), i++;
        else if (!strcmp(a, "--epochs")) p->epochs = atoi(v), i++;
        else if (!strcmp(a, "--threads")) p->threads = atoi(v), i++;
        else if (!strcmp(a, "--seed")) p->seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--torch-loss")) *torch_loss = 1;
        else if (!strcmp(a, "--lr")) p->lr = (float)atof(v), i++;
        else if (!strcmp(a, "--enc-freqs")) p->enc_freqs = atoi(v), i++;
        else if (!strcmp(a, "--enc-hidden")) p->enc_hidden = atoi(v), i++;
        else {
            fprintf(stderr, "unknown argument %s\n", a);
            return 2;
        }
    }
    if (!*tif) {
        fprintf(stderr, "usage: %s --tif cube.tif [--strides 5,3,2,2 --pad 120,120 --embed 2,2 "
                "--model-bytes N | --bpppb X] [--epochs N --threads N --seed N]\n", argv[0]);
        return 2;
    }
    return 0;
}

/* The whole cube as Float32 (C,H,W) into *cube and *c, with band 1's NoData; 0, or the exit
 * status. */
static int load_cube(const char *tif, hiner_cube *c, float **out)
{
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(tif, GA_ReadOnly);
    if (!ds) {
        fprintf(stderr, "cannot open %s (skipping)\n", tif);
        return 77;
    }
    int W = GDALGetRasterXSize(ds), H = GDALGetRasterYSize(ds), C = GDALGetRasterCount(ds);
    float *cube = malloc((size_t)W * H * C * sizeof(float));
    int bands[4096];
    for (int b = 0; b < C && b < 4096; b++) bands[b] = b + 1;
    if (GDALDatasetRasterIO(ds, GF_Read, 0, 0, W, H, cube, W, H, GDT_Float32, C, bands, 0, 0, 0)
        != CE_None) {
        fprintf(stderr, "read failed\n");
        return 1;
    }
    int has_nd = 0;
    double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(ds, 1), &has_nd);
    GDALClose(ds);
    memset(c, 0, sizeof *c);
    c->width = (uint32_t)W, c->height = (uint32_t)H, c->bands = (uint32_t)C;
    c->dtype = HINER_FLOAT32;
    c->data = cube;
    c->has_nodata = has_nd;
    c->nodata = nd;
    *out = cube;
    return 0;
}

/* The PyTorch reference's frame: (C,PH,PW), the cube centred at (top, left), the padding
 * filled with each band's minimum. */
static float *pad_frame(const float *cube, int W, int H, int C, int PH, int PW, int top,
                        int left)
{
    float *padded = malloc((size_t)PH * PW * C * sizeof(float));
    for (int b = 0; b < C; b++) {
        const float *src = cube + (size_t)b * W * H;
        float mn = src[0];
        for (int i = 1; i < W * H; i++) mn = fminf(mn, src[i]);
        float *dst = padded + (size_t)b * PW * PH;
        for (int i = 0; i < PW * PH; i++) dst[i] = mn;
        for (int y = 0; y < H; y++) memcpy(dst + (size_t)(y + top) * PW + left, src + (size_t)y * W, W * sizeof(float));
    }
    return padded;
}

/* Decodes the padded frame, crops it, and returns the mean over bands of the PSNR on the
 * true extent (each band's own min-max range). */
static double psnr_cropped(hiner_model *m, const hiner_cube *tc, const float *cube, int W, int H,
                           int C, int top, int left)
{
    float *band = malloc((size_t)tc->width * tc->height * sizeof(float));
    double sum = 0;
    for (int b = 0; b < C; b++) {
        hiner_model_decode_band(m, (uint32_t)b, band);
        const float *ref = cube + (size_t)b * W * H;
        float mn = ref[0], mx = ref[0];
        for (int i = 1; i < W * H; i++) mn = fminf(mn, ref[i]), mx = fmaxf(mx, ref[i]);
        double range = fmax(mx - mn, 1e-12), se = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double d = (band[(size_t)(y + top) * tc->width + x + left] - ref[y * W + x]) / range;
                se += d * d;
            }
        sum += -10 * log10(fmax(se / (W * H), 1e-12));
    }
    free(band);
    return sum / C;
}

static void print_plan(const hiner_model *m)
{
    hiner_plan pl;
    hiner_model_plan(m, &pl);
    printf("plan: padded %ux%u strides", pl.pad_height, pl.pad_width);
    for (int i = 0; i < pl.n_stages; i++) printf(" %d", pl.strides[i]);
    printf(", embedding %dx%d, widths", pl.embed_height, pl.embed_width);
    for (int i = 0; i <= pl.n_stages; i++) printf(" %d", pl.widths[i]);
    printf(", decoder params %llu\n", (unsigned long long)pl.decoder_params);
}

int main(int argc, char **argv)
{
    const char *tif = NULL;
    int torch_loss = 0;
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.threads = 2;
    p.lr = 1e-3f; /* the paper's and the reference's */
    int bad = parse_args(argc, argv, &p, &tif, &torch_loss);
    if (bad) return bad;
    hiner_cube c;
    float *cube = NULL;
    if ((bad = load_cube(tif, &c, &cube))) return bad;
    const int W = (int)c.width, H = (int)c.height, C = (int)c.bands;
    hiner_cube tc = c; /* what is trained on */
    float *padded = NULL;
    int top = 0, left = 0;
    if (torch_loss) {
        if (!p.pad_height || !p.pad_width) {
            fprintf(stderr, "--torch-loss needs --pad\n");
            return 2;
        }
        int PH = p.pad_height, PW = p.pad_width;
        top = (PH - H) / 2, left = (PW - W) / 2;
        padded = pad_frame(cube, W, H, C, PH, PW, top, left);
        tc.width = (uint32_t)PW, tc.height = (uint32_t)PH, tc.data = padded;
    }
    p.log = log_fn;
    hiner_model *m = NULL;
    hiner_train_report rep;
    printf("%s %dx%dx%d, %d epochs, %d threads%s\n", tif, W, H, C, p.epochs, p.threads,
           torch_loss ? ", loss over the padded frame (as the PyTorch reference)" : "");
    int st = hiner_train(&tc, &p, &m, &rep);
    if (st != HINER_OK) {
        fprintf(stderr, "training failed: %s\n", hiner_status_str(st));
        return 1;
    }
    double psnr = 0;
    if (!torch_loss) hiner_model_psnr(m, &c, &psnr);
    else psnr = psnr_cropped(m, &tc, cube, W, H, C, top, left);
    print_plan(m);
    printf("hiner: %d epochs in %.1f s (%.2f ms per step), PSNR (unquantized, true extent) %.2f dB\n",
           rep.epochs_done, rep.seconds, 1e3 * rep.seconds / (double)rep.steps, psnr);
    hiner_model_free(m);
    free(cube);
    free(padded);
    return 0;
}
