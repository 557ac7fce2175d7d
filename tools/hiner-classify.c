/*
 * hiner-classify.c - land-cover classification of a hyperspectral image, compressed or not:
 * SpectralFormer trained on part of a label raster, optionally with ASW and
 * ISI, scored on the rest, and a class map written as a GeoTIFF.
 *   hiner-classify [options] IMAGE LABELS
 * IMAGE is a .hiner file (decoded with the library; ISI decodes it again at jittered
 * wavelengths) or any raster GDAL reads (the uncompressed baseline). Rasters are read
 * and written through GDAL's C API; everything else is the public API of libhiner and
 * libhiner_classify.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hiner_classify.h"

#ifdef HINER_WITH_OPENBLAS
#include <cblas.h>
#endif

#ifdef HINER_HAVE_GDAL
#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#endif

static const char *usage_text =
    "usage: hiner-classify [options] IMAGE LABELS\n"
    "  IMAGE   a .hiner file, or any raster GDAL reads (the uncompressed baseline)\n"
    "  LABELS  a raster of the same size and georeference; band 1: class 1..K, 0 = unlabelled\n"
    "options:\n"
    "  --out FILE.tif          class map: GeoTIFF, Byte, colour table, 0 = NoData\n"
    "  --json FILE             metrics as JSON\n"
    "  --train-per-class N     training pixels drawn per class (default 50)\n"
    "  --train-fraction F      instead: that fraction of each class (0 < F < 1)\n"
    "                          (the other labelled pixels are the test set)\n"
    "  --seed S                split, initialisation, shuffling, ISI draws (default 1)\n"
    "  --asw                   adaptive spectral weighting in front of the classifier\n"
    "  --asw-beta B            weight of its reconstruction loss (default 2.5)\n"
    "  --isi                   implicit spectral interpolation (IMAGE must be .hiner)\n"
    "  --isi-copies K          jittered cubes decoded for ISI (default 3)\n"
    "  --isi-eta E             jitter as a fraction of the band spacing (default 0.1)\n"
    "  --epochs N              training epochs (default 60)\n"
    "  --batch N               pixels per step (default 64)\n"
    "  --lr X                  Adam learning rate (default 5e-4)\n"
    "  --threads N             worker threads (default: the number of CPUs)\n"
    "  --quiet                 no progress on stderr\n"
    "  --help                  this text\n"
    "environment: on an AVX-512 CPU with OPENBLAS_CORETYPE unset, the tool sets it to\n"
    "SkylakeX (OpenBLAS's faster kernels) and runs itself again; set it to keep yours.\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hiner-classify: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

#ifndef HINER_HAVE_GDAL
int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    die("built without GDAL (gdal-config was not found when configuring)");
    return 1;
}
#else

typedef struct options {
    const char *image, *labels, *out, *json;
    long per_class;
    double fraction;
    unsigned long long seed;
    int asw, isi, isi_copies, epochs, batch, threads, quiet;
    double asw_beta, isi_eta, lr;
} options;

static long parse_long(const char *opt, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || end == v || x < lo || x > hi)
        die("%s %s: expected an integer in [%ld, %ld]", opt, v ? v : "(missing)", lo, hi);
    return x;
}

static double parse_double(const char *opt, const char *v, double lo, double hi, int open_lo)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || errno || *end || end == v || !(open_lo ? x > lo : x >= lo) || !(x <= hi))
        die("%s %s: expected a number in %c%g, %g]", opt, v ? v : "(missing)", open_lo ? '(' : '[',
            lo, hi);
    return x;
}

static void parse(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    hiner_classify_params d; /* the library's defaults */
    if (hiner_classify_params_init(&d, HINER_ABI_VERSION) != HINER_OK)
        die("the library does not match this tool's header");
    o->per_class = -1;
    o->seed = 1;
    o->asw_beta = d.asw_beta;
    o->isi_copies = 3;
    o->isi_eta = 0.1;
    o->epochs = d.epochs;
    o->batch = d.batch;
    o->lr = d.lr;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cpus > 0 ? (int)(cpus < 64 ? cpus : 64) : 1;
    int isi_opts = 0, asw_opts = 0;
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0)
        if (OPT("--help") || OPT("-h")) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (OPT("--out")) {
            if (!v) die("--out needs a file name");
            o->out = v, i++;
        } else if (OPT("--json")) {
            if (!v) die("--json needs a file name");
            o->json = v, i++;
        } else if (OPT("--train-per-class")) {
            o->per_class = parse_long(a, v, 1, 1000000), i++;
        } else if (OPT("--train-fraction")) {
            o->fraction = parse_double(a, v, 0.0, 0.999, 1), i++;
        } else if (OPT("--seed")) {
            o->seed = (unsigned long long)parse_long(a, v, 0, 2147483647L), i++;
        } else if (OPT("--asw")) {
            o->asw = 1;
        } else if (OPT("--asw-beta")) {
            o->asw_beta = parse_double(a, v, 0.0, 1e6, 0), i++, asw_opts = 1;
        } else if (OPT("--isi")) {
            o->isi = 1;
        } else if (OPT("--isi-copies")) {
            o->isi_copies = (int)parse_long(a, v, 1, 16), i++, isi_opts = 1;
        } else if (OPT("--isi-eta")) {
            o->isi_eta = parse_double(a, v, 0.0, 1.0, 1), i++, isi_opts = 1;
        } else if (OPT("--epochs")) {
            o->epochs = (int)parse_long(a, v, 1, 100000), i++;
        } else if (OPT("--batch")) {
            o->batch = (int)parse_long(a, v, 1, 4096), i++;
        } else if (OPT("--lr")) {
            o->lr = parse_double(a, v, 0.0, 1.0, 1), i++;
        } else if (OPT("--threads")) {
            o->threads = (int)parse_long(a, v, 1, 256), i++;
        } else if (OPT("--quiet") || OPT("-q")) {
            o->quiet = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            die("unknown option %s (see --help)", a);
        } else {
            if (npos == 2) die("one IMAGE and one LABELS raster expected, %s is a third", a);
            pos[npos++] = a;
        }
#undef OPT
    }
    if (npos != 2) {
        fputs(usage_text, stderr);
        die("an IMAGE and a LABELS raster are needed");
    }
    o->image = pos[0];
    o->labels = pos[1];
    if (o->per_class > 0 && o->fraction > 0)
        die("--train-per-class and --train-fraction exclude each other");
    if (o->per_class < 0 && o->fraction == 0) o->per_class = 50;
    if (isi_opts && !o->isi) die("--isi-copies and --isi-eta need --isi");
    if (asw_opts && !o->asw) die("--asw-beta needs --asw");
}

/* ---- the image: a .hiner file or a GDAL raster, as (C,H,W) floats and a valid mask ---- */
typedef struct image {
    int W, H, C;
    float *cube;
    uint8_t *valid;
    int is_hiner;
    hiner_model *model;
    int has_gt;
    double gt[6];
    char *wkt;           /* CRS, or NULL */
    double bpppb, ratio; /* .hiner: rate and ratio to the source's type */
    const char *dtype;
} image;

/* A CRS as WKT from any form GDAL understands (WKT, "EPSG:n" as .hiner files may store). */
static char *crs_to_wkt(const char *crs)
{
    if (!crs || !*crs) return NULL;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    char *wkt = NULL, *out = NULL;
    if (s && OSRSetFromUserInput(s, crs) == OGRERR_NONE && OSRExportToWkt(s, &wkt) == OGRERR_NONE)
        out = strdup(wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(s);
    return out ? out : strdup(crs);
}

static int is_hiner_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return hiner_identify(head, n);
}

/* Status on stderr: a transient line is rewritten in place on a terminal and not shown
 * otherwise; a final line ends it (or stands alone). */
static void status(int quiet, int transient, const char *fmt, ...)
{
    static int tty = -1;
    if (tty < 0) tty = isatty(fileno(stderr));
    if (quiet || (transient && !tty)) return;
    va_list ap;
    va_start(ap, fmt);
    if (tty) fputc('\r', stderr);
    vfprintf(stderr, fmt, ap);
    if (!transient) fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

static void load_hiner(image *im, const options *o)
{
    int st = hiner_open_file(o->image, &im->model);
    if (st != HINER_OK) die("%s: %s", o->image, hiner_status_str(st));
    hiner_model_set_threads(im->model, o->threads);
    hiner_info in;
    hiner_meta meta;
    hiner_model_info(im->model, &in);
    hiner_model_meta(im->model, &meta);
    im->is_hiner = 1;
    im->W = (int)in.width, im->H = (int)in.height, im->C = (int)in.bands;
    im->bpppb = in.bpppb;
    im->ratio = in.bpppb > 0 ? 8.0 * (double)hiner_dtype_size(in.dtype) / in.bpppb : 0;
    im->dtype = hiner_dtype_name(in.dtype);
    im->has_gt = meta.has_geotransform;
    memcpy(im->gt, meta.geotransform, sizeof im->gt);
    im->wkt = crs_to_wkt(meta.crs_wkt);
    const size_t HW = (size_t)im->W * im->H;
    im->cube = malloc(HW * im->C * sizeof(float));
    im->valid = malloc(HW);
    if (!im->cube || !im->valid) die("out of memory for a %d x %d x %d cube", im->W, im->H, im->C);
    memset(im->valid, 1, HW);
    double t0 = now();
    for (int b = 0; b < im->C; b++) {
        float *band = im->cube + (size_t)b * HW;
        st = hiner_model_decode_band(im->model, (uint32_t)b, band);
        if (st != HINER_OK) die("%s: band %d: %s", o->image, b + 1, hiner_status_str(st));
        for (size_t i = 0; i < HW; i++)
            if (isnan(band[i]) || (in.has_nodata && band[i] == (float)in.nodata)) im->valid[i] = 0;
        status(o->quiet, 1, "decoding %s: band %d/%d", o->image, b + 1, im->C);
    }
    status(o->quiet, 0, "decoded %s: %d bands (%.1f s)", o->image, im->C, now() - t0);
}

static void load_gdal(image *im, const options *o)
{
    GDALDatasetH ds = GDALOpen(o->image, GA_ReadOnly);
    if (!ds) die("%s: cannot be opened as a raster (%s)", o->image, CPLGetLastErrorMsg());
    im->W = GDALGetRasterXSize(ds), im->H = GDALGetRasterYSize(ds), im->C = GDALGetRasterCount(ds);
    if (im->C < 1) die("%s: no bands", o->image);
    im->has_gt = GDALGetGeoTransform(ds, im->gt) == CE_None;
    im->wkt = crs_to_wkt(GDALGetProjectionRef(ds));
    im->dtype = GDALGetDataTypeName(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)));
    const size_t HW = (size_t)im->W * im->H;
    im->cube = malloc(HW * im->C * sizeof(float));
    im->valid = malloc(HW);
    if (!im->cube || !im->valid) die("out of memory for a %d x %d x %d cube", im->W, im->H, im->C);
    memset(im->valid, 1, HW);
    for (int b = 0; b < im->C; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        float *out = im->cube + (size_t)b * HW;
        if (GDALRasterIO(band, GF_Read, 0, 0, im->W, im->H, out, im->W, im->H, GDT_Float32, 0, 0) !=
            CE_None)
            die("%s: band %d cannot be read (%s)", o->image, b + 1, CPLGetLastErrorMsg());
        int has_nd = 0;
        double nd = GDALGetRasterNoDataValue(band, &has_nd);
        for (size_t i = 0; i < HW; i++)
            if (isnan(out[i]) || (has_nd && out[i] == (float)nd)) im->valid[i] = 0;
        status(o->quiet, 1, "reading %s: band %d/%d", o->image, b + 1, im->C);
    }
    status(o->quiet, 0, "read %s: %d bands", o->image, im->C);
    GDALClose(ds);
}

/* ---- labels: same size and georeference as the image ---- */
static uint8_t *load_labels(const options *o, const image *im, int *n_classes)
{
    GDALDatasetH ds = GDALOpen(o->labels, GA_ReadOnly);
    if (!ds) die("%s: cannot be opened as a raster (%s)", o->labels, CPLGetLastErrorMsg());
    const int W = GDALGetRasterXSize(ds), H = GDALGetRasterYSize(ds);
    if (W != im->W || H != im->H)
        die("%s is %d x %d pixels, the image %s is %d x %d: they must match", o->labels, W, H,
            o->image, im->W, im->H);
    double gt[6];
    const int has_gt = GDALGetGeoTransform(ds, gt) == CE_None;
    if (has_gt && im->has_gt) {
        const double px = fabs(im->gt[1]) + fabs(im->gt[2]) + fabs(im->gt[4]) + fabs(im->gt[5]);
        for (int k = 0; k < 6; k++)
            if (fabs(gt[k] - im->gt[k]) > 1e-6 * px)
                die("%s is not on the image's grid: geotransform %.10g,%.10g,%.10g,%.10g,%.10g,"
                    "%.10g against %.10g,%.10g,%.10g,%.10g,%.10g,%.10g",
                    o->labels, gt[0], gt[1], gt[2], gt[3], gt[4], gt[5], im->gt[0], im->gt[1],
                    im->gt[2], im->gt[3], im->gt[4], im->gt[5]);
    } else if (has_gt != im->has_gt) {
        fprintf(stderr, "hiner-classify: warning: %s has %s georeferencing: pixels are matched "
                        "by position\n",
                has_gt ? "the labels but not the image" : "the image but not the labels",
                has_gt ? "only its own" : "no");
    }
    const char *wkt = GDALGetProjectionRef(ds);
    if (wkt && *wkt && im->wkt) {
        OGRSpatialReferenceH a = OSRNewSpatialReference(wkt), b = OSRNewSpatialReference(im->wkt);
        int same = a && b && OSRIsSame(a, b);
        OSRDestroySpatialReference(a);
        OSRDestroySpatialReference(b);
        if (!same) die("%s and %s have different coordinate reference systems", o->labels, o->image);
    }
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    const size_t HW = (size_t)W * H;
    int32_t *v = malloc(HW * sizeof(int32_t));
    uint8_t *lab = malloc(HW);
    if (!v || !lab) die("out of memory");
    if (GDALRasterIO(band, GF_Read, 0, 0, W, H, v, W, H, GDT_Int32, 0, 0) != CE_None)
        die("%s: cannot be read (%s)", o->labels, CPLGetLastErrorMsg());
    int has_nd = 0;
    const double nd = GDALGetRasterNoDataValue(band, &has_nd);
    int K = 0;
    size_t dropped = 0;
    for (size_t i = 0; i < HW; i++) {
        int32_t x = v[i];
        if (has_nd && (double)x == nd) x = 0;
        if (x < 0 || x > HINER_CLASS_MAX)
            die("%s: label %d at pixel %zu, %zu: classes are 1..%d, 0 = unlabelled", o->labels,
                (int)x, i % W, i / W, HINER_CLASS_MAX);
        if (x && !im->valid[i]) x = 0, dropped++;
        lab[i] = (uint8_t)x;
        if (x > K) K = x;
    }
    free(v);
    GDALClose(ds);
    if (dropped)
        fprintf(stderr, "hiner-classify: warning: %zu labelled pixels are NoData in the image and "
                        "were left out\n", dropped);
    if (K < 2) die("%s: %d class(es) with labelled pixels: at least 2 are needed", o->labels, K);
    size_t count[HINER_CLASS_MAX + 1] = {0};
    for (size_t i = 0; i < HW; i++) count[lab[i]]++;
    for (int k = 1; k <= K; k++)
        if (!count[k])
            die("%s: class %d has no labelled (valid) pixel: classes must be numbered 1..%d "
                "without gaps", o->labels, k, K);
    *n_classes = K;
    return lab;
}

/* ---- output ---- */
static void class_colour(int k, short rgb[3])
{
    /* a fixed qualitative palette, then golden-angle hues */
    static const short pal[12][3] = {{230, 25, 75},  {60, 180, 75},  {255, 225, 25},
                                     {0, 130, 200},  {245, 130, 48}, {145, 30, 180},
                                     {70, 240, 240}, {240, 50, 230}, {210, 245, 60},
                                     {250, 190, 212}, {0, 128, 128}, {170, 110, 40}};
    if (k >= 1 && k <= 12) {
        memcpy(rgb, pal[k - 1], sizeof pal[0]);
        return;
    }
    double h = fmod(k * 0.618033988749895, 1.0) * 6.0, s = 0.65, v = 0.9;
    int i = (int)h;
    double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (i % 6) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
    }
    rgb[0] = (short)lrint(r * 255), rgb[1] = (short)lrint(g * 255), rgb[2] = (short)lrint(b * 255);
}

static void write_map(const options *o, const image *im, const uint8_t *map, int K)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv) die("GDAL has no GTiff driver");
    char **co = CSLSetNameValue(NULL, "COMPRESS", "DEFLATE");
    GDALDatasetH ds = GDALCreate(drv, o->out, im->W, im->H, 1, GDT_Byte, co);
    CSLDestroy(co);
    if (!ds) die("%s: cannot be created (%s)", o->out, CPLGetLastErrorMsg());
    if (im->has_gt) GDALSetGeoTransform(ds, (double *)im->gt);
    if (im->wkt) GDALSetProjection(ds, im->wkt);
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(band, 0);
    GDALColorTableH ct = GDALCreateColorTable(GPI_RGB);
    GDALColorEntry e0 = {0, 0, 0, 0};
    GDALSetColorEntry(ct, 0, &e0);
    for (int k = 1; k <= K; k++) {
        short rgb[3];
        class_colour(k, rgb);
        GDALColorEntry e = {rgb[0], rgb[1], rgb[2], 255};
        GDALSetColorEntry(ct, k, &e);
    }
    GDALSetRasterColorTable(band, ct);
    GDALSetRasterColorInterpretation(band, GCI_PaletteIndex);
    GDALDestroyColorTable(ct);
    if (GDALRasterIO(band, GF_Write, 0, 0, im->W, im->H, (void *)map, im->W, im->H, GDT_Byte, 0,
                     0) != CE_None)
        die("%s: write failed (%s)", o->out, CPLGetLastErrorMsg());
    GDALClose(ds);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.6g", x);
    else fputs("null", f);
}

/* ---- progress and log from the library ---- */
typedef struct prog {
    int quiet, tty, last_decile;
    const char *what;
    double t0;
} prog;

static int on_progress(double frac, const char *msg, void *user)
{
    prog *p = user;
    if (p->quiet) return 1;
    if (p->tty) {
        fprintf(stderr, "\r%s: %3.0f%% %s [%.0f s]   ", p->what, 100.0 * frac, msg ? msg : "",
                now() - p->t0);
        if (frac >= 1.0) fputc('\n', stderr);
    } else if ((int)(frac * 10) > p->last_decile) {
        p->last_decile = (int)(frac * 10);
        fprintf(stderr, "%s: %3.0f%% %s [%.0f s]\n", p->what, 100.0 * frac, msg ? msg : "",
                now() - p->t0);
    }
    fflush(stderr);
    return 1;
}

static void on_log(int level, const char *msg, void *user)
{
    (void)user;
    if (level <= 1) fprintf(stderr, "hiner-classify: %s%s\n", level == 1 ? "warning: " : "", msg);
}

/* OpenBLAS reads OPENBLAS_CORETYPE once, when it loads, and on AVX-512 CPUs it does not
 * know (AMD Zen 4/5) it picks its AVX2 kernels; its SkylakeX ones train faster
 * (docs/benchmarks.md). So when the variable is unset on such a CPU, the tool runs itself
 * again with it set. Set OPENBLAS_CORETYPE (to anything) to keep your own choice. */
static void prefer_avx512_blas(char **argv)
{
#if defined(__linux__) && defined(__x86_64__) && defined(__GNUC__)
    if (getenv("OPENBLAS_CORETYPE")) return;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
        return;
    if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) != 0) return;
    execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    prefer_avx512_blas(argv);
#ifdef HINER_WITH_OPENBLAS
    /* the classifier's workers each run their own matrix products: one BLAS thread each */
    openblas_set_num_threads(1);
#endif
    options o;
    parse(&o, argc, argv);
    GDALAllRegister();
    const double t_start = now();
    image im;
    memset(&im, 0, sizeof im);
    if (is_hiner_file(o.image)) load_hiner(&im, &o);
    else load_gdal(&im, &o);
    if (o.isi && !im.is_hiner)
        die("--isi needs a .hiner IMAGE: it decodes the cube again at jittered wavelengths "
            "through the stored spectral encoder");
    int K = 0;
    uint8_t *labels = load_labels(&o, &im, &K);
    const size_t HW = (size_t)im.W * im.H;

    /* the split: the test pixels are never seen by training */
    uint8_t *train = malloc(HW), *test = malloc(HW);
    if (!train || !test) die("out of memory");
    int st = hiner_classify_split(labels, HW, K, o.per_class > 0 ? (uint32_t)o.per_class : 0,
                                  o.fraction, o.seed, train, test, on_log, NULL);
    if (st != HINER_OK)
        die("%s: too few labelled pixels for this split (%s); try a smaller --train-per-class "
            "or --train-fraction", o.labels, hiner_status_str(st));
    size_t n_train = 0, n_test = 0, ctrain[HINER_CLASS_MAX + 1] = {0}, ctest[HINER_CLASS_MAX + 1] = {0};
    for (size_t i = 0; i < HW; i++) {
        n_train += train[i] != 0, ctrain[train[i]]++;
        n_test += test[i] != 0, ctest[test[i]]++;
    }

    /* ISI: jittered cubes */
    float **aug = NULL;
    double t_isi = 0;
    if (o.isi) {
        double t0 = now();
        aug = calloc((size_t)o.isi_copies, sizeof *aug);
        if (!aug) die("out of memory");
        for (int k = 0; k < o.isi_copies; k++) {
            aug[k] = malloc(HW * im.C * sizeof(float));
            if (!aug[k]) die("out of memory for ISI cube %d", k + 1);
            status(o.quiet, 0, "ISI: decoding cube %d/%d at wavelengths + U(-%g, %g) spacings",
                   k + 1, o.isi_copies, o.isi_eta, o.isi_eta);
            st = hiner_model_decode_jittered(im.model, o.isi_eta, o.seed * 1000003ULL + (unsigned)k,
                                             aug[k]);
            if (st == HINER_E_UNSUPPORTED)
                die("%s stores no spectral encoder (written with ENCODER=NO): ISI is not "
                    "available", o.image);
            if (st != HINER_OK) die("ISI decoding: %s", hiner_status_str(st));
        }
        t_isi = now() - t0;
    }

    /* train */
    hiner_classify_params p;
    hiner_classify_params_init(&p, HINER_ABI_VERSION);
    p.asw = o.asw;
    p.asw_beta = (float)o.asw_beta;
    p.epochs = o.epochs;
    p.batch = o.batch;
    p.lr = (float)o.lr;
    p.seed = o.seed;
    p.threads = o.threads;
    prog pr = {o.quiet, isatty(fileno(stderr)), -1, "training", now()};
    p.progress = on_progress;
    p.progress_user = &pr;
    p.log = on_log;
    hiner_classify_data d = {0};
    d.width = (uint32_t)im.W, d.height = (uint32_t)im.H, d.bands = (uint32_t)im.C;
    d.cube = im.cube;
    d.valid = im.valid;
    d.labels = train;
    d.n_classes = K;
    d.n_augment = o.isi ? (uint32_t)o.isi_copies : 0;
    d.augment = (const float *const *)aug;
    status(o.quiet, 0, "training on %zu pixels (%d classes, %d epochs, %d threads%s%s)", n_train,
           K, o.epochs, o.threads, o.asw ? ", ASW" : "", o.isi ? ", ISI" : "");
    hiner_classifier *clf = NULL;
    hiner_classify_report rep;
    st = hiner_classifier_train(&p, &d, &clf, &rep);
    if (st != HINER_OK) die("training failed: %s", hiner_status_str(st));

    /* classify every pixel for the map; without one, only the test pixels (a pixel's
     * class depends on its patch only, so the scores are the same) */
    uint8_t *map = malloc(HW);
    if (!map) die("out of memory");
    prog pp = {o.quiet, pr.tty, -1, "classifying", now()};
    const double t_pred0 = now();
    st = hiner_classifier_predict(clf, (uint32_t)im.W, (uint32_t)im.H, im.cube, im.valid,
                                  o.out ? NULL : test, map, on_progress, &pp);
    if (st != HINER_OK) die("classification failed: %s", hiner_status_str(st));
    const double t_pred = now() - t_pred0;

    /* scores on the test pixels */
    uint64_t *cm = calloc((size_t)K * K, sizeof *cm);
    double *pc = calloc((size_t)K, sizeof *pc);
    hiner_class_scores sc;
    if (!cm || !pc) die("out of memory");
    st = hiner_classify_score(test, map, HW, K, cm, pc, &sc);
    if (st != HINER_OK) die("scoring failed: %s", hiner_status_str(st));
    const double t_total = now() - t_start;

    if (o.out) write_map(&o, &im, map, K);

    /* report */
    printf("image: %s (%d x %d x %d, %s", o.image, im.W, im.H, im.C, im.dtype);
    if (im.is_hiner) printf("; HINER %.4f bpppb, ratio %.1f", im.bpppb, im.ratio);
    printf(")\n");
    if (o.per_class > 0)
        printf("split: %ld training pixels per class, seed %llu: %zu training, %zu test pixels\n",
               o.per_class, o.seed, n_train, n_test);
    else
        printf("split: %.3g of each class for training, seed %llu: %zu training, %zu test pixels\n",
               o.fraction, o.seed, n_train, n_test);
    printf("model: SpectralFormer (CAF) %llu parameters", (unsigned long long)rep.classifier_params);
    if (o.asw) printf(" + ASW %llu (beta %g)", (unsigned long long)rep.asw_params, o.asw_beta);
    if (o.isi) printf(", ISI %d cubes, eta %g", o.isi_copies, o.isi_eta);
    printf("\ntraining: %d epochs, %llu steps, %.1f s; last epoch loss %.4f, accuracy %.4f\n",
           rep.epochs_done, (unsigned long long)rep.steps, rep.seconds, rep.final_loss,
           rep.train_accuracy);
    printf("OA %.4f  AA %.4f  kappa %.4f  (%llu test pixels)\n", sc.oa, sc.aa, sc.kappa,
           (unsigned long long)sc.n);
    printf("class  train   test  accuracy\n");
    for (int k = 0; k < K; k++)
        printf("%5d %6zu %6zu  %.4f\n", k + 1, ctrain[k + 1], ctest[k + 1], pc[k]);
    printf("confusion (rows: true class, columns: predicted class)\n");
    for (int t = 0; t < K; t++) {
        for (int k = 0; k < K; k++) printf(" %6llu", (unsigned long long)cm[t * K + k]);
        printf("\n");
    }
    printf("time: %.1f s in all (training %.1f s, ISI decoding %.1f s, classifying %.1f s)\n",
           t_total, rep.seconds, t_isi, t_pred);

    if (o.json) {
        FILE *f = fopen(o.json, "w");
        if (!f) die("%s: %s", o.json, strerror(errno));
        fprintf(f, "{\n  \"image\": ");
        json_str(f, o.image);
        fprintf(f, ",\n  \"labels\": ");
        json_str(f, o.labels);
        fprintf(f, ",\n  \"source\": \"%s\",\n  \"width\": %d, \"height\": %d, \"bands\": %d,\n",
                im.is_hiner ? "hiner" : "gdal", im.W, im.H, im.C);
        fprintf(f, "  \"dtype\": ");
        json_str(f, im.dtype);
        fprintf(f, ",\n  \"bpppb\": ");
        json_num(f, im.is_hiner ? im.bpppb : NAN);
        fprintf(f, ", \"compression_ratio\": ");
        json_num(f, im.is_hiner ? im.ratio : NAN);
        fprintf(f, ",\n  \"asw\": %s, \"asw_beta\": %g, \"isi\": %s, \"isi_copies\": %d, "
                   "\"isi_eta\": %g,\n",
                o.asw ? "true" : "false", o.asw_beta, o.isi ? "true" : "false",
                o.isi ? o.isi_copies : 0, o.isi_eta);
        fprintf(f, "  \"split\": {\"per_class\": %ld, \"fraction\": %g, \"seed\": %llu, "
                   "\"train_pixels\": %zu, \"test_pixels\": %zu},\n",
                o.per_class > 0 ? o.per_class : 0, o.fraction, o.seed, n_train, n_test);
        fprintf(f, "  \"epochs\": %d, \"steps\": %llu, \"threads\": %d,\n", rep.epochs_done,
                (unsigned long long)rep.steps, o.threads);
        fprintf(f, "  \"classifier_params\": %llu, \"asw_params\": %llu,\n",
                (unsigned long long)rep.classifier_params, (unsigned long long)rep.asw_params);
        fprintf(f, "  \"train_seconds\": %.2f, \"isi_seconds\": %.2f, \"predict_seconds\": %.2f, "
                   "\"total_seconds\": %.2f,\n",
                rep.seconds, t_isi, t_pred, t_total);
        fprintf(f, "  \"final_loss\": ");
        json_num(f, rep.final_loss);
        fprintf(f, ", \"train_accuracy\": ");
        json_num(f, rep.train_accuracy);
        fprintf(f, ",\n  \"n_classes\": %d, \"test_scored\": %llu,\n", K,
                (unsigned long long)sc.n);
        fprintf(f, "  \"oa\": ");
        json_num(f, sc.oa);
        fprintf(f, ", \"aa\": ");
        json_num(f, sc.aa);
        fprintf(f, ", \"kappa\": ");
        json_num(f, sc.kappa);
        fprintf(f, ",\n  \"per_class\": [");
        for (int k = 0; k < K; k++) {
            fprintf(f, "%s{\"class\": %d, \"train\": %zu, \"test\": %zu, \"accuracy\": ",
                    k ? ", " : "", k + 1, ctrain[k + 1], ctest[k + 1]);
            json_num(f, pc[k]);
            fputc('}', f);
        }
        fprintf(f, "],\n  \"confusion\": [");
        for (int t = 0; t < K; t++) {
            fprintf(f, "%s[", t ? ", " : "");
            for (int k = 0; k < K; k++)
                fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)cm[t * K + k]);
            fputc(']', f);
        }
        fprintf(f, "]\n}\n");
        if (fclose(f) != 0) die("%s: write failed", o.json);
    }

    hiner_classifier_free(clf);
    hiner_model_free(im.model);
    if (aug)
        for (int k = 0; k < o.isi_copies; k++) free(aug[k]);
    free(aug);
    free(im.cube), free(im.valid), free(im.wkt);
    free(labels), free(train), free(test), free(map), free(cm), free(pc);
    return 0;
}
#endif
