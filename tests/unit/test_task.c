/*
 * test_task.c - classification through the public API: the scores (OA, AA,
 * kappa, confusion) against hand-computed values, the seeded train / test split, a small
 * SpectralFormer (CAF, with and without ASW and augmented cubes, a token every second
 * band, random symmetries of the patches) learning an easy synthetic scene, bit-identical
 * results for a seed and thread count, training from patches cut by the caller equal to
 * training from the cube, invalid pixels left unclassified, bad input refused, and ISI's
 * jittered decoding of a trained model (whole cubes and band by band at the wavelengths
 * it reports).
 */
#include <math.h>
#include <string.h>

#include "../check.h"
#include "hiner_classify.h"

enum { W = 18, H = 16, C = 10, K = 3 };

/* Three classes in vertical stripes with distinct smooth spectra, noise, and a NoData
 * pixel. cls (H,W) gets the class of every pixel. */
static void make_scene(float *cube, uint8_t *valid, uint8_t *cls, unsigned seed)
{
    unsigned s = seed;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int k = x < 6 ? 1 : x < 12 ? 2 : 3;
            cls[y * W + x] = (uint8_t)k;
            valid[y * W + x] = !(x == 5 && y == 7);
            for (int b = 0; b < C; b++) {
                s = s * 1103515245u + 12345u;
                double noise = ((s >> 8) & 0xffff) / 65535.0 - 0.5;
                double l = (double)b / (C - 1);
                double v = k == 1 ? 0.3 + 0.4 * l : k == 2 ? 0.7 - 0.3 * l : 0.5 + 0.2 * sin(6 * l);
                cube[(size_t)b * H * W + y * W + x] = (float)(1000.0 * (v + 0.08 * noise));
            }
        }
}

static void test_scores(void)
{
    /* truth 1 1 1 2 2 3 (and one unlabelled), predictions 1 2 1 2 2 1 */
    const uint8_t truth[7] = {1, 1, 1, 2, 2, 3, 0}, pred[7] = {1, 2, 1, 2, 2, 1, 3};
    uint64_t cm[9];
    double pc[3];
    hiner_class_scores s;
    CHECK(hiner_classify_score(truth, pred, 7, 3, cm, pc, &s) == HINER_OK);
    const uint64_t want[9] = {2, 1, 0, 0, 2, 0, 1, 0, 0};
    CHECK(memcmp(cm, want, sizeof want) == 0);
    /* OA = 4/6; AA = (2/3 + 1 + 0) / 3; p_e = (3*3 + 2*3 + 1*0) / 36 */
    double oa = 4.0 / 6, aa = (2.0 / 3 + 1.0 + 0.0) / 3, pe = 15.0 / 36;
    CHECK_MSG(s.n == 6 && s.correct == 4 && fabs(s.oa - oa) < 1e-12 && fabs(s.aa - aa) < 1e-12,
              "n %llu correct %llu oa %g aa %g", (unsigned long long)s.n,
              (unsigned long long)s.correct, s.oa, s.aa);
    CHECK_MSG(fabs(s.kappa - (oa - pe) / (1 - pe)) < 1e-12, "kappa %g vs %g", s.kappa,
              (oa - pe) / (1 - pe));
    CHECK(fabs(pc[0] - 2.0 / 3) < 1e-12 && pc[1] == 1.0 && pc[2] == 0.0);
    /* perfect agreement: kappa 1; a label above the classes is refused */
    CHECK(hiner_classify_score(truth, truth, 7, 3, NULL, NULL, &s) == HINER_OK && s.kappa == 1.0);
    CHECK(hiner_classify_score(truth, pred, 7, 2, NULL, NULL, &s) == HINER_E_INVALID_ARG);
    printf("%-28s ok\n", "scores");
}

static void test_split(const uint8_t *cls)
{
    const size_t n = (size_t)W * H;
    uint8_t tr[W * H], te[W * H], tr2[W * H], te2[W * H];
    CHECK(hiner_classify_split(cls, n, K, 5, 0, 3, tr, te, NULL, NULL) == HINER_OK);
    size_t per[K + 1] = {0};
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        per[tr[i]]++;
        bad += (tr[i] && te[i]) || (tr[i] | te[i]) != cls[i]; /* disjoint, covering */
    }
    CHECK_MSG(bad == 0 && per[1] == 5 && per[2] == 5 && per[3] == 5, "split: %d bad, %zu %zu %zu",
              bad, per[1], per[2], per[3]);
    CHECK(hiner_classify_split(cls, n, K, 5, 0, 3, tr2, te2, NULL, NULL) == HINER_OK);
    CHECK(memcmp(tr, tr2, n) == 0 && memcmp(te, te2, n) == 0);
    CHECK(hiner_classify_split(cls, n, K, 5, 0, 4, tr2, te2, NULL, NULL) == HINER_OK);
    CHECK(memcmp(tr, tr2, n) != 0); /* another seed, another draw */
    /* a fraction: round(0.25 * 96) = 24 of each stripe */
    CHECK(hiner_classify_split(cls, n, K, 0, 0.25, 1, tr, te, NULL, NULL) == HINER_OK);
    memset(per, 0, sizeof per);
    for (size_t i = 0; i < n; i++) per[tr[i]]++;
    CHECK(per[1] == 24 && per[2] == 24 && per[3] == 24);
    /* a class too small for the request */
    CHECK(hiner_classify_split(cls, n, K, 96, 0, 1, tr, te, NULL, NULL) == HINER_E_INVALID_ARG);
    CHECK(hiner_classify_split(cls, n, K, 0, 1.5, 1, tr, te, NULL, NULL) == HINER_E_INVALID_ARG);
    printf("%-28s ok\n", "split");
}

static hiner_classify_params small_params(void)
{
    hiner_classify_params p;
    hiner_classify_params_init(&p, HINER_ABI_VERSION);
    p.patch = 3;
    p.dim = 16;
    p.depth = 3; /* the third layer has CAF */
    p.heads = 2;
    p.epochs = 25;
    p.batch = 16;
    p.lr = 3e-3f;
    p.threads = 2;
    p.seed = 5;
    return p;
}

static double test_accuracy(hiner_classifier *c, const float *cube, const uint8_t *valid,
                            const uint8_t *test, uint8_t *map)
{
    CHECK(hiner_classifier_predict(c, W, H, cube, valid, NULL, map, NULL, NULL) == HINER_OK);
    /* classifying only the test pixels gives them the same classes, and 0 elsewhere */
    const size_t n = (size_t)W * H;
    uint8_t *only = malloc(n);
    CHECK(only != NULL);
    if (only) {
        CHECK(hiner_classifier_predict(c, W, H, cube, valid, test, only, NULL, NULL) == HINER_OK);
        size_t same = 0, zero = 0, nt = 0;
        for (size_t i = 0; i < n; i++) {
            if (test[i]) nt++, same += only[i] == map[i];
            else zero += only[i] == 0;
        }
        CHECK(nt > 0 && same == nt && zero == n - nt);
        free(only);
    }
    hiner_class_scores s;
    CHECK(hiner_classify_score(test, map, (size_t)W * H, K, NULL, NULL, &s) == HINER_OK);
    return s.oa;
}

static void test_train(const float *cube, const uint8_t *valid, const uint8_t *cls)
{
    const size_t n = (size_t)W * H;
    uint8_t tr[W * H], te[W * H], map[W * H], map2[W * H];
    /* the NoData pixel is not labelled */
    uint8_t lab[W * H];
    memcpy(lab, cls, n);
    for (size_t i = 0; i < n; i++)
        if (!valid[i]) lab[i] = 0;
    CHECK(hiner_classify_split(lab, n, K, 8, 0, 1, tr, te, NULL, NULL) == HINER_OK);
    hiner_classify_data d = {W, H, C, cube, valid, tr, K, 0, NULL};
    hiner_classify_params p = small_params();
    for (int variant = 0; variant < 3; variant++) {
        /* 0: plain, 1: ASW, 2: ASW and two augmented cubes (the cube, scaled slightly) */
        float *aug[2] = {NULL, NULL};
        p.asw = variant >= 1;
        d.n_augment = 0;
        d.augment = NULL;
        if (variant == 2) {
            for (int k = 0; k < 2; k++) {
                aug[k] = malloc(n * C * sizeof(float));
                for (size_t i = 0; i < n * C; i++) aug[k][i] = cube[i] * (k ? 1.01f : 0.99f);
            }
            d.n_augment = 2;
            d.augment = (const float *const *)aug;
        }
        hiner_classifier *c1 = NULL, *c2 = NULL;
        hiner_classify_report r1, r2;
        CHECK(hiner_classifier_train(&p, &d, &c1, &r1) == HINER_OK);
        CHECK(hiner_classifier_train(&p, &d, &c2, &r2) == HINER_OK);
        if (!c1 || !c2) return;
        double oa = test_accuracy(c1, cube, valid, te, map);
        test_accuracy(c2, cube, valid, te, map2);
        printf("variant %d: %llu + %llu parameters, loss %.4f, train acc %.3f, test OA %.4f\n",
               variant, (unsigned long long)r1.classifier_params,
               (unsigned long long)r1.asw_params, r1.final_loss, r1.train_accuracy, oa);
        CHECK_MSG(oa > 0.9, "variant %d: test OA %.3f on an easy scene", variant, oa);
        CHECK_MSG(r1.final_loss == r2.final_loss && memcmp(map, map2, n) == 0,
                  "variant %d: same seed and threads differ (loss %.9g vs %.9g)", variant,
                  r1.final_loss, r2.final_loss);
        CHECK(map[7 * W + 5] == 0); /* the NoData pixel */
        CHECK((r1.asw_params > 0) == (variant >= 1));
        CHECK(r1.train_pixels == 3 * 8 && r1.steps == (uint64_t)p.epochs * 2);
        hiner_classifier_free(c1);
        hiner_classifier_free(c2);
        free(aug[0]);
        free(aug[1]);
    }
    /* one thread trains too (a different, equally deterministic summation order) */
    p.threads = 1;
    p.asw = 0;
    d.n_augment = 0;
    hiner_classifier *c = NULL;
    CHECK(hiner_classifier_train(&p, &d, &c, NULL) == HINER_OK);
    CHECK(c && test_accuracy(c, cube, valid, te, map) > 0.9);
    hiner_classifier_free(c);

    /* refused: a class with no training pixel, a labelled NoData pixel, bad params */
    uint8_t bad[W * H];
    memcpy(bad, tr, n);
    for (size_t i = 0; i < n; i++)
        if (bad[i] == 2) bad[i] = 0;
    d.labels = bad;
    CHECK(hiner_classifier_train(&p, &d, &c, NULL) == HINER_E_INVALID_ARG && c == NULL);
    memcpy(bad, tr, n);
    bad[7 * W + 5] = 1;
    CHECK(hiner_classifier_train(&p, &d, &c, NULL) == HINER_E_INVALID_ARG);
    d.labels = tr;
    p.heads = 3; /* does not divide dim 16 */
    CHECK(hiner_classifier_train(&p, &d, &c, NULL) == HINER_E_INVALID_ARG);
    p = small_params();
    p.patch = 4;
    CHECK(hiner_classify_params_validate(&p) == HINER_E_INVALID_ARG);
    CHECK(hiner_classify_params_init(&p, HINER_ABI_VERSION + 1) == HINER_E_ABI);
}

/* Patches cut from the cube (mirrored at the edges, pixel-major) with the cube's band
 * ranges train the same classifier as the cube: the same maps, bit for bit, with and
 * without ISI's cubes; with the settings that change the network or its training (a
 * token every second band, random symmetries) the scene is learnt too. */
static int reflect_i(int i, int n)
{
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
}

static void cut_patches(float *vals, uint8_t *pv, const float *cube, const uint8_t *valid,
                        const uint8_t *tr, int P)
{
    size_t s = 0;
    const int r = P / 2;
    for (int i = 0; i < W * H; i++) {
        if (!tr[i]) continue;
        int q = 0;
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++, q++) {
                const int j = reflect_i(i / W + dy, H) * W + reflect_i(i % W + dx, W);
                for (int b = 0; b < C; b++)
                    vals[(s * P * P + q) * C + b] = cube[(size_t)b * W * H + j];
                pv[s * P * P + q] = valid[j];
            }
        s++;
    }
}

static void test_patches(const float *cube, const uint8_t *valid, const uint8_t *cls)
{
    const size_t n = (size_t)W * H;
    uint8_t lab[W * H], tr[W * H], te[W * H], map1[W * H], map2[W * H];
    memcpy(lab, cls, n);
    for (size_t i = 0; i < n; i++)
        if (!valid[i]) lab[i] = 0;
    CHECK(hiner_classify_split(lab, n, K, 8, 0, 2, tr, te, NULL, NULL) == HINER_OK);
    hiner_classify_params p = small_params();
    const int P = p.patch, NT = 3 * 8;
    float lo[C], hi[C];
    for (int b = 0; b < C; b++) {
        lo[b] = INFINITY, hi[b] = -INFINITY;
        for (size_t i = 0; i < n; i++)
            if (valid[i]) {
                lo[b] = fminf(lo[b], cube[b * n + i]);
                hi[b] = fmaxf(hi[b], cube[b * n + i]);
            }
    }
    float *aug = malloc(n * C * sizeof(float));
    float *vals = malloc((size_t)NT * P * P * C * sizeof(float));
    float *avals = malloc((size_t)NT * P * P * C * sizeof(float));
    uint8_t pv[NT * 3 * 3], plab[NT];
    for (size_t i = 0; i < n * C; i++) aug[i] = cube[i] * 1.02f;
    cut_patches(vals, pv, cube, valid, tr, P);
    cut_patches(avals, pv, aug, valid, tr, P);
    for (size_t i = 0, s = 0; i < n; i++)
        if (tr[i]) plab[s++] = tr[i];
    const float *augs[1] = {aug}, *apatch[1] = {avals};
    for (int isi = 0; isi < 2; isi++) {
        hiner_classify_data d = {W, H, C, cube, valid, tr, K, (uint32_t)isi, augs};
        hiner_classify_patches pd = {NT, C, (uint32_t)P, vals, pv, plab, K, lo, hi,
                                     (uint32_t)isi, apatch};
        hiner_classifier *c1 = NULL, *c2 = NULL;
        hiner_classify_report r1, r2;
        CHECK(hiner_classifier_train(&p, &d, &c1, &r1) == HINER_OK);
        CHECK(hiner_classifier_train_patches(&p, &pd, &c2, &r2) == HINER_OK);
        if (!c1 || !c2) return;
        test_accuracy(c1, cube, valid, te, map1);
        test_accuracy(c2, cube, valid, te, map2);
        CHECK_MSG(r1.final_loss == r2.final_loss && memcmp(map1, map2, n) == 0,
                  "patches%s: loss %.9g vs the cube's %.9g", isi ? " with ISI" : "",
                  r2.final_loss, r1.final_loss);
        hiner_classifier_free(c1);
        hiner_classifier_free(c2);
    }
    printf("%-28s ok\n", "patches train as the cube");
    for (int variant = 0; variant < 2; variant++) {
        hiner_classify_params q = small_params();
        if (variant == 0) q.band_stride = 2, q.band_group = 3; /* 5 tokens of 10 bands */
        else q.augment = 1;
        hiner_classify_patches pd = {NT, C, (uint32_t)P, vals, pv, plab, K, lo, hi, 0, NULL};
        hiner_classifier *c = NULL;
        hiner_classify_report r;
        CHECK(hiner_classifier_train_patches(&q, &pd, &c, &r) == HINER_OK);
        if (!c) return;
        double oa = test_accuracy(c, cube, valid, te, map1);
        printf("%s: %llu parameters, test OA %.4f\n", variant ? "augment" : "band stride 2",
               (unsigned long long)r.classifier_params, oa);
        CHECK_MSG(oa > 0.9, "%s: test OA %.3f on an easy scene", variant ? "augment" : "stride",
                  oa);
        hiner_classifier_free(c);
    }
    /* refused: a NoData centre, a band range upside down, another patch size */
    hiner_classify_patches pd = {NT, C, (uint32_t)P, vals, pv, plab, K, lo, hi, 0, NULL};
    hiner_classifier *c = NULL;
    pv[4] = 0;
    CHECK(hiner_classifier_train_patches(&p, &pd, &c, NULL) == HINER_E_INVALID_ARG && !c);
    pv[4] = 1;
    lo[3] = hi[3] + 1;
    CHECK(hiner_classifier_train_patches(&p, &pd, &c, NULL) == HINER_E_INVALID_ARG && !c);
    lo[3] = hi[3] - 1;
    pd.patch = 5;
    CHECK(hiner_classifier_train_patches(&p, &pd, &c, NULL) == HINER_E_INVALID_ARG && !c);
    free(aug), free(vals), free(avals);
}

/* ISI: decoding at jittered wavelengths through a trained model's spectral encoder */
static void test_isi(void)
{
    enum { IW = 16, IH = 16, IC = 12 };
    static uint16_t cube[IC * IH * IW];
    double wl[IC];
    for (int b = 0; b < IC; b++) {
        wl[b] = 450.0 + 25.0 * b;
        for (int i = 0; i < IH * IW; i++)
            cube[b * IH * IW + i] =
                (uint16_t)(2000 + 1500 * sin(0.3 * (i % IW) + 0.02 * wl[b]) + 10 * (i / IW));
    }
    /* a bad band filled with one value: no neighbour to interpolate towards */
    for (int i = 0; i < IH * IW; i++) cube[6 * IH * IW + i] = 60000;
    hiner_cube hc = {0};
    hc.width = IW, hc.height = IH, hc.bands = IC, hc.dtype = HINER_UINT16;
    hc.data = cube, hc.wavelengths = wl;
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.model_bytes = 4000;
    p.min_width = 8;
    p.enc_freqs = 8;
    p.enc_hidden = 16;
    p.embed_channels = 8;
    p.epochs = 20;
    hiner_model *m = NULL;
    CHECK(hiner_train(&hc, &p, &m, NULL) == HINER_OK);
    if (!m) return;
    const size_t n = (size_t)IW * IH * IC;
    float *b0 = malloc(n * sizeof(float)), *j0 = malloc(n * sizeof(float));
    float *j1 = malloc(n * sizeof(float)), *j2 = malloc(n * sizeof(float));
    for (int b = 0; b < IC; b++) CHECK(hiner_model_decode_band(m, (uint32_t)b, b0 + b * IW * IH) == HINER_OK);
    CHECK(hiner_model_decode_jittered(m, 0.0, 1, j0) == HINER_OK);
    CHECK(hiner_model_decode_jittered(m, 0.1, 1, j1) == HINER_OK);
    CHECK(hiner_model_decode_jittered(m, 0.1, 2, j2) == HINER_OK);
    /* eta 0: the bands themselves (through the encoder); 0.1: close to them, not equal
     * (also next to the bad band, which is not jittered); the same seed gives the same
     * cube */
    double d0 = 0, d1 = 0, range = 3000;
    for (size_t i = 0; i < n; i++) {
        d0 = fmax(d0, fabs((double)j0[i] - b0[i]));
        d1 = fmax(d1, fmax(fabs((double)j1[i] - b0[i]), fabs((double)j2[i] - b0[i])));
    }
    printf("isi: max |eta 0 - bands| %.3g, |eta 0.1 - bands| %.3g (range %g)\n", d0, d1, range);
    CHECK_MSG(d0 < 1e-3 * range, "eta 0 differs from the bands by %g", d0);
    CHECK_MSG(d1 > 0 && d1 < 0.1 * range, "eta 0.1 differs from the bands by %g", d1);
    CHECK(memcmp(j1, j2, n * sizeof(float)) != 0);
    CHECK(hiner_model_decode_jittered(m, 0.1, 1, j2) == HINER_OK);
    CHECK(memcmp(j1, j2, n * sizeof(float)) == 0);
    CHECK(hiner_model_decode_jittered(m, -1.0, 1, j2) == HINER_E_INVALID_ARG);
    /* the wavelengths it decodes, band by band through a window, give the same cube */
    double jw[IC];
    CHECK(hiner_model_jitter_wavelengths(m, 0.1, 1, jw) == HINER_OK);
    for (int b = 0; b < IC; b++)
        CHECK(hiner_model_decode_window_as(m, 0, 0, IW, IH, 1, jw[b], HINER_FLOAT32,
                                           j2 + b * IW * IH) == HINER_OK);
    CHECK(memcmp(j1, j2, n * sizeof(float)) == 0);
    CHECK(jw[6] == wl[6] && jw[5] != wl[5]); /* the bad band is not jittered */
    free(b0), free(j0), free(j1), free(j2);
    hiner_model_free(m);
}

int main(void)
{
    static float cube[C * H * W];
    uint8_t valid[W * H], cls[W * H];
    make_scene(cube, valid, cls, 11);
    test_scores();
    test_split(cls);
    test_train(cube, valid, cls);
    test_patches(cube, valid, cls);
    test_isi();
    return check_exit();
}
