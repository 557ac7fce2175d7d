/*
 * test_train.c - training through the public API on a tiny synthetic cube: it reaches a
 * stated PSNR in seconds, the same seed and thread count give bit-identical models, a
 * cancel from the progress callback stops it cleanly, NoData is kept out of the loss and
 * comes back as NoData, stored wavelengths decode like their bands, and bad parameters
 * are refused. Plus the size rule's width layouts (no training).
 */
#include <math.h>
#include <string.h>

#include "../check.h"
#include "hiner.h"

enum { W = 24, H = 24, C = 16 };

/* Smooth spectra: three endmembers (Gaussian bumps over wavelength) mixed with smooth
 * spatial abundances, scaled to UInt16 counts. One band at any wavelength `w` (nm). */
static void band_at(uint16_t *out, double w)
{
    double l = (w - 400.0) / 300.0;
    double e0 = exp(-pow((l - 0.2) / 0.25, 2)), e1 = exp(-pow((l - 0.7) / 0.2, 2));
    double e2 = 0.3 + 0.5 * l;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double a0 = 0.5 + 0.5 * sin(0.25 * x + 0.1 * y);
            double a1 = 0.5 + 0.5 * cos(0.2 * y - 0.15 * x);
            double a2 = 1.0 - 0.5 * (a0 + a1);
            out[y * W + x] = (uint16_t)lrint(1000.0 + 8000.0 * (a0 * e0 + a1 * e1 + a2 * e2));
        }
}

static void make_cube(uint16_t *cube, double *wl)
{
    for (int b = 0; b < C; b++) {
        wl[b] = 400.0 + 20.0 * b;
        band_at(cube + b * H * W, wl[b]);
    }
}

static hiner_params tiny_params(void)
{
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.model_bytes = 6000;
    p.min_width = 8;
    p.enc_freqs = 12; /* b^k <= C - 1: no frequency above the band sampling's Nyquist */
    p.enc_hidden = 32;
    p.embed_channels = 8;
    p.epochs = 150;
    p.lr = 5e-3f;
    return p;
}

static double psnr_of(hiner_model *m, const hiner_cube *cube)
{
    double psnr = 0;
    CHECK(hiner_model_psnr(m, cube, &psnr) == HINER_OK);
    return psnr;
}

static int cancel_at_half(double frac, const char *msg, void *user)
{
    (void)msg;
    (*(int *)user)++;
    return frac < 0.5;
}

/* Layers after c0 that sit at the plan's smallest width while the taper (c / 1.2) would
 * have gone below it. */
static int at_floor(const hiner_plan *pl)
{
    int last = pl->widths[pl->n_stages], n = 0;
    for (int i = 1; i <= pl->n_stages; i++)
        n += pl->widths[i] == last && rint(pl->widths[i - 1] / 1.2) < last;
    return n;
}

/* The size rule lowers the width floor until a network fits, and prefers a floor that
 * keeps the taper: at most one layer raised to it (unless the floor is 6 or less). */
static void test_plan_widths(void)
{
    static const struct { unsigned w, h, c; double r; } cases[] = {
        {100, 80, 162, 0.2}, {95, 95, 156, 0.2}, {150, 150, 188, 0.1}, {100, 100, 189, 0.2},
        {100, 100, 189, 0.4}, {160, 192, 224, 0.1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hiner_params p;
        hiner_params_init(&p, HINER_ABI_VERSION);
        p.bpppb = cases[i].r;
        hiner_plan pl;
        CHECK(hiner_plan_compute(&p, cases[i].w, cases[i].h, cases[i].c, &pl) == HINER_OK);
        int floor_w = pl.widths[pl.n_stages];
        printf("plan %ux%ux%u at %.2f bpppb: widths", cases[i].w, cases[i].h, cases[i].c,
               cases[i].r);
        for (int k = 0; k <= pl.n_stages; k++) printf(" %d", pl.widths[k]);
        printf(", %d at the floor\n", at_floor(&pl));
        CHECK_MSG(floor_w <= 6 || at_floor(&pl) <= 1, "%d layers raised to %d", at_floor(&pl),
                  floor_w);
        /* the budget holds the decoder at ~6 bits per weight (HN_BETA) */
        CHECK(pl.decoder_params * 6.0 / 8.0 <
              cases[i].r * cases[i].w * cases[i].h * cases[i].c / 8.0);
        for (int k = 1; k <= pl.n_stages; k++) CHECK(pl.widths[k] <= pl.widths[k - 1]);
    }
}

/* Compute-bound: at 0.4 bpppb on 150 x 150 x 188 the byte-sized network would train for
 * few automatic epochs; the rule sizes fewer weights at more bits, which train more epochs
 * in the effort's budget. Explicit epochs keep the byte-sized network; a higher effort
 * trains longer and needs less of the rule. */
static void test_plan_compute_bound(void)
{
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.bpppb = 0.4;
    hiner_plan a, b, hi;
    CHECK(hiner_plan_compute(&p, 150, 150, 188, &a) == HINER_OK);
    p.effort = HINER_EFFORT_MAX;
    CHECK(hiner_plan_compute(&p, 150, 150, 188, &hi) == HINER_OK);
    p.effort = HINER_EFFORT_DEFAULT;
    p.epochs = 100;
    CHECK(hiner_plan_compute(&p, 150, 150, 188, &b) == HINER_OK);
    printf("150x150x188 at 0.4 bpppb: %llu decoder weights, %d epochs (effort %d); %llu, %d "
           "epochs (effort %d); %llu with epochs given\n", (unsigned long long)a.decoder_params,
           a.epochs, HINER_EFFORT_DEFAULT, (unsigned long long)hi.decoder_params, hi.epochs,
           HINER_EFFORT_MAX, (unsigned long long)b.decoder_params);
    CHECK(b.decoder_params > a.decoder_params * 1.3);
    CHECK(hi.epochs > a.epochs);
    CHECK(hi.decoder_params >= a.decoder_params);
}

/* an explicit floor is kept even where it flattens the layout */
static void test_plan_explicit_floor(void)
{
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.bpppb = 0.2;
    p.min_width = 11;
    hiner_plan pl;
    CHECK(hiner_plan_compute(&p, 100, 80, 162, &pl) == HINER_OK);
    for (int k = 0; k <= pl.n_stages; k++) CHECK(pl.widths[k] >= 11);
    CHECK(at_floor(&pl) >= 2);
}

/* The tiny cube (UInt16 with wavelengths) the training tests share. */
static uint16_t data[C * H * W];
static double wl[C];

/* trains to a stated PSNR, and the training figure tracks the real one; the model, or NULL */
static hiner_model *test_train_psnr(const hiner_cube *cube)
{
    hiner_params p = tiny_params();
    hiner_model *m = NULL;
    hiner_train_report rep;
    CHECK(hiner_train(cube, &p, &m, &rep) == HINER_OK && m);
    if (!m) return NULL;
    hiner_plan pl;
    hiner_model_plan(m, &pl);
    double psnr = psnr_of(m, cube);
    printf("tiny cube %dx%dx%d: plan %ux%u strides %d stages, widths %d..%d, %llu decoder params;"
           " %d epochs in %.2f s, train PSNR %.2f dB, decoded PSNR %.2f dB\n", W, H, C,
           pl.pad_width, pl.pad_height, pl.n_stages, pl.widths[0], pl.widths[pl.n_stages],
           (unsigned long long)pl.decoder_params, rep.epochs_done, rep.seconds, rep.final_psnr,
           psnr);
    CHECK_MSG(psnr > 32.0, "PSNR %.2f dB below the 32 dB floor", psnr);
    CHECK(fabs(rep.final_psnr - psnr) < 3.0);
    return m;
}

/* decoded values are in the source's units and range (within the PSNR's error); band 3
 * decoded into band */
static void test_decoded_units(hiner_model *m, float *band)
{
    CHECK(hiner_model_decode_band(m, 3, band) == HINER_OK);
    double se = 0;
    for (int i = 0; i < W * H; i++) se += pow(band[i] - data[3 * W * H + i], 2);
    printf("band 3 RMSE %.1f counts (range ~8000)\n", sqrt(se / (W * H)));
    CHECK(sqrt(se / (W * H)) < 200.0);
}

/* a stored wavelength decodes exactly as its band (same embedding); one mid-way between two
 * bands is near the analytic cube there; outside the bands, HINER_E_RANGE */
static void test_wavelengths(hiner_model *m, const float *band)
{
    float band2[W * H];
    CHECK(hiner_model_decode_wavelength(m, wl[3], band2) == HINER_OK);
    check_close("wavelength == band", band2, band, W * H, 1e-3, 1e-6);
    float mid[W * H];
    static uint16_t truth[H * W];
    for (int k = 0; k < C - 1; k += 3) {
        double wmid = 0.5 * (wl[k] + wl[k + 1]);
        band_at(truth, wmid);
        CHECK(hiner_model_decode_wavelength(m, wmid, mid) == HINER_OK);
        double e = 0, en = 0;
        for (int i = 0; i < W * H; i++) {
            e += pow(mid[i] - truth[i], 2);
            en += pow(0.5 * ((double)data[k * W * H + i] + data[(k + 1) * W * H + i]) - truth[i], 2);
        }
        printf("wavelength %.0f: RMSE %.1f counts (linear between neighbours %.1f)\n", wmid,
               sqrt(e / (W * H)), sqrt(en / (W * H)));
        /* a loose sanity bound: 3 % of the ~8000-count range */
        CHECK(sqrt(e / (W * H)) < 250.0);
    }
    CHECK(hiner_model_decode_wavelength(m, wl[0] - 10, mid) == HINER_E_RANGE);
    CHECK(hiner_model_decode_wavelength(m, wl[C - 1] + 10, mid) == HINER_E_RANGE);
    CHECK(hiner_model_decode_band(m, C, mid) == HINER_E_RANGE);
}

/* same seed and threads -> bit-identical; other seed -> different; decoding twice is
 * bit-identical */
static void test_determinism(const hiner_cube *cube, hiner_model *m, const float *band)
{
    float band2[W * H];
    hiner_params p = tiny_params();
    hiner_model *m2 = NULL, *m3 = NULL;
    CHECK(hiner_train(cube, &p, &m2, NULL) == HINER_OK);
    CHECK(hiner_model_decode_band(m2, 3, band2) == HINER_OK);
    CHECK_MSG(memcmp(band, band2, sizeof band2) == 0, "same seed gave a different model");
    p.seed = 2;
    CHECK(hiner_train(cube, &p, &m3, NULL) == HINER_OK);
    CHECK(hiner_model_decode_band(m3, 3, band2) == HINER_OK);
    CHECK_MSG(memcmp(band, band2, sizeof band2) != 0, "another seed gave the same model");
    CHECK(hiner_model_decode_band(m, 3, band2) == HINER_OK);
    CHECK(memcmp(band, band2, sizeof band2) == 0);
    hiner_model_free(m2);
    hiner_model_free(m3);
}

/* Sized by bytes, training takes two bands a step: one thread, or two with a band each,
 * give bit-identical models; three (a lane of one thread, a lane of two) train as well.
 * An odd band count ends each epoch on a step of one band. */
static void test_band_pairs(const hiner_cube *cube)
{
    hiner_params p = tiny_params();
    p.model_bytes = 0;
    p.size_bytes = 14000;
    p.epochs = 60;
    hiner_cube odd = *cube;
    odd.bands = C - 1;
    const hiner_cube *cubes[2] = {cube, &odd};
    for (int k = 0; k < 2; k++) {
        hiner_model *m[3] = {NULL, NULL, NULL};
        float b[3][W * H];
        int ok = 1;
        for (int i = 0; i < 3 && ok; i++) {
            p.threads = i + 1;
            CHECK(hiner_train(cubes[k], &p, &m[i], NULL) == HINER_OK);
            ok = m[i] && hiner_model_decode_band(m[i], 5, b[i]) == HINER_OK;
        }
        CHECK(ok);
        if (ok) CHECK_MSG(memcmp(b[0], b[1], sizeof b[0]) == 0, "1 and 2 threads trained apart");
        const double p1 = ok ? psnr_of(m[0], cubes[k]) : 0, p3 = ok ? psnr_of(m[2], cubes[k]) : 0;
        printf("band pairs, %d bands: %.2f dB on 1 and 2 threads, %.2f on 3\n", cubes[k]->bands,
               p1, p3);
        CHECK_MSG(p1 > 30.0 && fabs(p3 - p1) < 1.0, "band pairs: %.2f dB on 1 thread, %.2f on 3",
                  p1, p3);
        for (int i = 0; i < 3; i++) hiner_model_free(m[i]);
    }
}

/* cancel: HINER_E_ABORTED, no model */
static void test_cancel(const hiner_cube *cube)
{
    hiner_params p = tiny_params();
    int calls = 0;
    p.progress = cancel_at_half;
    p.progress_user = &calls;
    hiner_model *mc = (hiner_model *)&calls; /* must be reset to NULL */
    CHECK(hiner_train(cube, &p, &mc, NULL) == HINER_E_ABORTED);
    CHECK(mc == NULL && calls > 0);
}

/* The cube with 40 pixels of each band at the NoData value 65535. */
static hiner_cube with_nodata(hiner_cube cube)
{
    static uint16_t holes[C * H * W];
    memcpy(holes, data, sizeof holes);
    for (int b = 0; b < C; b++)
        for (int i = 0; i < 40; i++) holes[(b * H + 5) * W + i % W + (i / W) * W] = 65535;
    cube.data = holes;
    cube.has_nodata = 1;
    cube.nodata = 65535;
    return cube;
}

/* NoData: pixels equal to the NoData value are left out of the loss and come back as
 * NoData; a huge value there would wreck the band's min-max if it were counted. */
static void test_nodata(const hiner_cube *cube)
{
    float band2[W * H];
    hiner_params p = tiny_params();
    hiner_model *mn = NULL;
    CHECK(hiner_train(cube, &p, &mn, NULL) == HINER_OK);
    if (mn) {
        CHECK(hiner_model_decode_band(mn, 3, band2) == HINER_OK);
        int nod = 0;
        for (int i = 0; i < W * H; i++) nod += band2[i] == 65535.0f;
        CHECK_MSG(nod == 40, "%d NoData pixels decoded, 40 expected", nod);
        double pn = psnr_of(mn, cube);
        printf("with 40 NoData pixels per band: PSNR %.2f dB on the valid ones\n", pn);
        CHECK(pn > 30.0);
        hiner_model_free(mn);
    }
}

/* bad parameters are refused before any work */
static void test_bad_params(hiner_cube cube)
{
    hiner_model *mn = NULL;
    hiner_params p = tiny_params();
    p.epochs = -2; /* -1 means automatic */
    CHECK(hiner_train(&cube, &p, &mn, NULL) == HINER_E_INVALID_ARG);
    p = tiny_params();
    p.lr = NAN;
    CHECK(hiner_params_validate(&p) == HINER_E_INVALID_ARG);
    p = tiny_params();
    p.model_bytes = 10; /* cannot even hold the embeddings */
    CHECK(hiner_train(&cube, &p, &mn, NULL) == HINER_E_BUDGET);
    CHECK(hiner_params_init(&p, HINER_ABI_VERSION + 1) == HINER_E_ABI);
    cube.bands = 0;
    p = tiny_params();
    CHECK(hiner_train(&cube, &p, &mn, NULL) == HINER_E_INVALID_ARG);
}

int main(void)
{
    test_plan_widths();
    test_plan_compute_bound();
    test_plan_explicit_floor();

    make_cube(data, wl);
    hiner_cube cube = {0};
    cube.width = W, cube.height = H, cube.bands = C;
    cube.dtype = HINER_UINT16;
    cube.data = data;
    cube.wavelengths = wl;
    hiner_model *m = test_train_psnr(&cube);
    if (!m) return check_exit();
    float band[W * H];
    test_decoded_units(m, band);
    test_wavelengths(m, band);
    test_determinism(&cube, m, band);
    test_band_pairs(&cube);
    test_cancel(&cube);
    hiner_cube holey = with_nodata(cube);
    test_nodata(&holey);
    test_bad_params(holey);
    hiner_model_free(m);
    return check_exit();
}
