/*
 * make_golden.c - writes the golden files of tests/golden (README.md there): for each case
 * a small synthetic cube (tests/synth.h) encoded with the options the case names, and
 * beside it what the writer's own library reads back: NAME.txt (golden.h's description
 * and the typed outputs' checksums) and NAME.f32 (the decoded planes, little-endian f32).
 *   make_golden OUTDIR NAME...   (names from the table below; "all": every current case)
 * Built against the library of the version a case is for: v1_0_* cases need a 1.0 writer.
 */
#include <stdlib.h>

#include "../synth.h"
#include "golden.h"

enum { W = 16, H = 16 };

typedef struct {
    const char *name;
    int minor;          /* format version the library must write */
    hiner_dtype t;
    int bands;
    double lo, hi;      /* range the [0,1] cube is mapped to */
    int holes;          /* NoData holes: 1 with a NoData value, 2 NaN (floats) */
    double nodata;
    int wavelengths, meta, entropy, store_encoder;
    int no_training;    /* the smallest size that encodes: the TRNG record left out */
    int quant_bits;
} golden_case;

static const golden_case cases[] = {
    {"v1_0_uint16", 0, HINER_UINT16, 8, 100, 60000, 0, 0, 1, 0, 0, 1, 0, 8},
    {"v1_1_uint16", 1, HINER_UINT16, 8, 100, 60000, 0, 0, 1, 0, 0, 1, 0, 8},
    {"v1_1_huffman", 1, HINER_UINT16, 8, 100, 60000, 0, 0, 1, 0, 1, 1, 0, 8},
    {"v1_1_bits6", 1, HINER_UINT16, 8, 100, 60000, 0, 0, 1, 0, 2, 1, 0, 6},
    {"v1_1_noencoder", 1, HINER_UINT16, 8, 100, 60000, 0, 0, 1, 0, 0, 0, 0, 8},
    {"v1_1_nowave", 1, HINER_UINT16, 8, 100, 60000, 0, 0, 0, 0, 0, 1, 0, 8},
    {"v1_1_meta", 1, HINER_UINT16, 8, 100, 60000, 0, 0, 1, 1, 0, 1, 0, 8},
    {"v1_1_notraining", 1, HINER_UINT16, 8, 100, 60000, 0, 0, 1, 0, 0, 1, 1, 8},
    {"v1_1_uint8", 1, HINER_UINT8, 12, 0, 255, 0, 0, 1, 0, 0, 1, 0, 8},
    {"v1_1_int16_nodata", 1, HINER_INT16, 8, -2000, 6000, 1, -9999, 1, 0, 0, 1, 0, 8},
    {"v1_1_float32_nan", 1, HINER_FLOAT32, 8, 0, 1, 2, NAN, 1, 0, 0, 1, 0, 8},
    {"v1_1_float64", 1, HINER_FLOAT64, 8, -5, 5, 0, 0, 1, 0, 0, 1, 0, 8},
};

static void store(void *dst, size_t k, hiner_dtype t, double v)
{
    switch (t) {
    case HINER_UINT8: ((uint8_t *)dst)[k] = (uint8_t)v; break;
    case HINER_UINT16: ((uint16_t *)dst)[k] = (uint16_t)v; break;
    case HINER_INT16: ((int16_t *)dst)[k] = (int16_t)v; break;
    case HINER_FLOAT32: ((float *)dst)[k] = (float)v; break;
    default: ((double *)dst)[k] = v; break;
    }
}

/* The case's metadata: every kind of record the format stores. */
static hiner_meta case_meta(int C, const double *wl)
{
    static char dbuf[64][32], vbuf[64][4];
    static const char *descs[64];
    static int color[64];
    static double fwhm[64];
    static hiner_meta_item items[2 * 64 + 2];
    static const hiner_gcp gcps[2] = {{"1", "a", 0.5, 0.5, 10, 20, 0},
                                      {"2", "", 15.5, 15.5, 40, 60, 1}};
    for (int b = 0; b < C; b++) {
        snprintf(dbuf[b], sizeof dbuf[b], "band %d (%.1f nm)", b + 1, wl[b]);
        descs[b] = dbuf[b];
        snprintf(vbuf[b], sizeof vbuf[b], "%d", b % 3 == 0 ? 0 : 1);
        items[2 * b] = (hiner_meta_item){b, "", "bbl", vbuf[b]};
        items[2 * b + 1] = (hiner_meta_item){b, "ENVI", "note", b % 2 ? "odd" : "even"};
        color[b] = b == 0 ? 1 : 0;
        fwhm[b] = 10.0 + 0.01 * b;
    }
    items[2 * C] = (hiner_meta_item){-1, "", "start_time", "2022-07-24T10:45:26"};
    items[2 * C + 1] = (hiner_meta_item){-1, "IMAGERY", "SATELLITEID", "TESTSAT"};
    hiner_meta mt = {0};
    mt.has_geotransform = 1;
    const double gt[6] = {364095.0, 30.0, 0.0, 5809965.0, 0.0, -30.0};
    memcpy(mt.geotransform, gt, sizeof gt);
    mt.crs_wkt = "PROJCRS[\"WGS 84 / UTM zone 33N\",BASEGEOGCRS[\"WGS 84\"]]";
    mt.n_gcps = 2;
    mt.gcps = gcps;
    mt.gcp_crs_wkt = "GEOGCRS[\"WGS 84\"]";
    mt.band_descriptions = descs;
    mt.color_interp = color;
    mt.n_items = 2 * (uint32_t)C + 2;
    mt.items = items;
    mt.wavelength_units = "Nanometers";
    mt.fwhm = fwhm;
    return mt;
}

static int encode(const hiner_cube *cube, const hiner_meta *mt, const hiner_params *p,
                  void **f, size_t *n)
{
    *f = NULL;
    return hiner_encode_mem(cube, mt, p, f, n, NULL);
}

/* The case's samples in its type (src: 8 bytes a sample), with its holes; fills wl. */
static void case_samples(const golden_case *gc, void *src, double *wl)
{
    const int C = gc->bands;
    const size_t n = (size_t)W * H;
    double *unit = malloc(sizeof(double) * C * n);
    synth_cube(unit, W, H, C, wl);
    for (size_t k = 0; k < C * n; k++) {
        double v = gc->lo + unit[k] * (gc->hi - gc->lo);
        if (gc->t != HINER_FLOAT32 && gc->t != HINER_FLOAT64) v = nearbyint(v);
        size_t i = k % n;
        if (gc->holes && (i % 37 == 5 || (i / W > 12 && i % W < 3))) v = gc->nodata;
        store(src, k, gc->t, v);
    }
    free(unit);
}

/* The smallest size_bytes that encodes (bisection), for the case without a training record. */
static void smallest_size(const hiner_cube *cube, const hiner_meta *mt, hiner_params *p)
{
    void *f = NULL;
    size_t size = 0;
    p->bpppb = 0;
    size_t lo = 100, hi = 20000;
    while (hi - lo > 1) {
        p->size_bytes = (lo + hi) / 2;
        int st = encode(cube, mt, p, &f, &size);
        hiner_free(f);
        if (st == HINER_OK) hi = p->size_bytes;
        else lo = p->size_bytes;
    }
    p->size_bytes = hi;
}

/* NAME.txt (golden_describe and each typed plane's checksum) and NAME.f32 (the planes). */
static int write_decoded(const char *dir, const golden_case *gc, hiner_model *m,
                         const hiner_info *in, const void *f, size_t size)
{
    const size_t n = (size_t)W * H;
    char path[1024];
    int st = HINER_OK;
    snprintf(path, sizeof path, "%s/%s.txt", dir, gc->name);
    FILE *o = fopen(path, "w");
    if (!o || golden_describe(o, m, f, size) != 0) st = HINER_E_IO;
    float *plane = malloc(sizeof(float) * n);
    unsigned char *typed = malloc(8 * n);
    FILE *fo = NULL;
    if (st == HINER_OK) {
        snprintf(path, sizeof path, "%s/%s.f32", dir, gc->name);
        fo = fopen(path, "wb");
        if (!fo) st = HINER_E_IO;
    }
    for (int k = 0; st == HINER_OK && k < golden_planes(m); k++) {
        st = golden_decode(m, k, plane);
        if (st == HINER_OK) st = golden_decode_as(m, k, typed);
        if (st == HINER_OK && fwrite(plane, sizeof(float), n, fo) != n) st = HINER_E_IO;
        if (st == HINER_OK)
            fprintf(o, "typed %d %016llx\n", k,
                    (unsigned long long)golden_fnv(GOLDEN_FNV0, typed,
                                                   n * hiner_dtype_size(in->dtype)));
    }
    if (o) fclose(o);
    if (fo) fclose(fo);
    free(plane), free(typed);
    return st;
}

/* Writes NAME.hiner, NAME.txt and NAME.f32 under dir. */
static int make_case(const char *dir, const golden_case *gc)
{
    const int C = gc->bands;
    const size_t n = (size_t)W * H;
    double wl[64];
    void *src = malloc(8 * C * n);
    case_samples(gc, src, wl);
    hiner_cube cube = {0};
    cube.width = W, cube.height = H, cube.bands = (uint32_t)C, cube.dtype = gc->t;
    cube.data = src;
    cube.wavelengths = gc->wavelengths ? wl : NULL;
    cube.has_nodata = gc->holes == 1;
    cube.nodata = gc->holes == 1 ? gc->nodata : 0;
    hiner_meta mt = case_meta(C, wl);
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.size_bytes = 2400, p.epochs = 20, p.lr = 5e-3f, p.seed = 1, p.threads = 1;
    p.entropy = gc->entropy, p.store_encoder = gc->store_encoder;
    p.quant_bits = gc->quant_bits;
    if (gc->no_training) smallest_size(&cube, gc->meta ? &mt : NULL, &p);
    void *f = NULL;
    size_t size = 0;
    int st = encode(&cube, gc->meta ? &mt : NULL, &p, &f, &size);
    hiner_model *m = NULL;
    if (st == HINER_OK) st = hiner_open_mem(f, size, &m);
    hiner_info in;
    if (st == HINER_OK) st = hiner_model_info(m, &in);
    if (st == HINER_OK && (in.format_minor != gc->minor || (gc->no_training && in.training[0]))) {
        fprintf(stderr, "%s: this library writes format 1.%d%s\n", gc->name, in.format_minor,
                in.training[0] ? " with a training record" : "");
        st = HINER_E_VERSION;
    }
    if (st == HINER_OK) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.hiner", dir, gc->name);
        FILE *o = fopen(path, "wb");
        if (!o || fwrite(f, 1, size, o) != size) st = HINER_E_IO;
        if (o) fclose(o);
    }
    if (st == HINER_OK) st = write_decoded(dir, gc, m, &in, f, size);
    printf("%-20s %s: %zu bytes\n", gc->name, hiner_status_str(st), size);
    hiner_model_free(m);
    hiner_free(f);
    free(src);
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: make_golden OUTDIR NAME... | all\n");
        return 2;
    }
    int failed = 0;
    for (int a = 2; a < argc; a++)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
            if (!strcmp(argv[a], cases[i].name) ||
                (!strcmp(argv[a], "all") && cases[i].minor == 1))
                failed |= make_case(argv[1], &cases[i]) != HINER_OK;
    return failed;
}
