/*
 * hiner-classify.c - land-cover classification of a hyperspectral image, compressed or not:
 * SpectralFormer trained on part of a label raster, optionally with ASW and
 * ISI, scored on the rest, and a class map written as a GeoTIFF.
 *   hiner-classify [options] IMAGE LABELS
 * IMAGE is a .hiner file (decoded with the library, tile by tile; ISI decodes it again at
 * jittered wavelengths) or any raster GDAL reads (the uncompressed baseline). The image is
 * read window by window (classify/stream.c), so a scene of any size fits in memory;
 * rasters are read and written through GDAL's C API (classify/raster.c), the results
 * reported by classify/report.c; everything else is the public API of libhiner and
 * libhiner_classify.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify/classify_tool.h"

#ifdef HINER_WITH_OPENBLAS
#include <cblas.h>
#endif

#ifdef HINER_HAVE_GDAL
#include <gdal.h>
#endif

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hiner-classify: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

void status(int quiet, int transient, const char *fmt, ...)
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

#ifndef HINER_HAVE_GDAL
int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    die("built without GDAL (gdal-config was not found when configuring)");
    return 1;
}
#else

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
    "  --memory MB             what a window of the image may take (default 1024): the\n"
    "                          image is read in windows of whole tiles within it\n"
    "  --block WxH             read windows of W x H pixels instead\n"
    "  --param NAME=VALUE      any other classifier setting (hiner_classify_params): patch,\n"
    "                          band_group, band_stride, dim, depth, heads, mlp_dim, caf,\n"
    "                          dropout, augment, weight_decay, lr_gamma, isi_clean,\n"
    "                          isi_until, asw_hidden, asw_reduce\n"
    "  --split-only FILE.tif   write the split (band 1: training labels, band 2: test\n"
    "                          labels) and stop: other classifiers can use the same pixels\n"
    "  --quiet                 no progress on stderr\n"
    "  --help                  this text\n"
    "environment: on an AVX-512 CPU with OPENBLAS_CORETYPE unset, the tool sets it to\n"
    "SkylakeX (OpenBLAS's faster kernels) and runs itself again; set it to keep yours.\n";

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

/* --param NAME=VALUE: a field of hiner_classify_params by name. */
static void parse_param(hiner_classify_params *p, const char *arg)
{
    static const struct {
        const char *name;
        size_t off;
        char type; /* i: int, f: float */
    } fields[] = {
#define F(n, t) {#n, offsetof(hiner_classify_params, n), t}
        F(patch, 'i'),        F(band_group, 'i'),   F(band_stride, 'i'), F(dim, 'i'),
        F(depth, 'i'),        F(heads, 'i'),        F(mlp_dim, 'i'),     F(caf, 'i'),
        F(dropout, 'f'),      F(augment, 'i'),      F(weight_decay, 'f'), F(lr_gamma, 'f'),
        F(isi_clean, 'f'),    F(isi_until, 'f'),    F(asw_hidden, 'i'),  F(asw_reduce, 'i'),
#undef F
    };
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq) die("--param %s: expected NAME=VALUE", arg ? arg : "(missing)");
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        if (strlen(fields[i].name) != (size_t)(eq - arg) ||
            strncmp(fields[i].name, arg, (size_t)(eq - arg)) != 0)
            continue;
        char *field = (char *)p + fields[i].off;
        if (fields[i].type == 'i') {
            int v = (int)parse_long(arg, eq + 1, -1000000, 1000000);
            memcpy(field, &v, sizeof v);
        } else {
            float v = (float)parse_double(arg, eq + 1, -1e9, 1e9, 0);
            memcpy(field, &v, sizeof v);
        }
        return;
    }
    die("--param %s: no such setting (see --help)", arg);
}

static void parse(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    if (hiner_classify_params_init(&o->cp, HINER_ABI_VERSION) != HINER_OK)
        die("the library does not match this tool's header");
    const hiner_classify_params d = o->cp; /* the library's defaults */
    o->per_class = -1;
    o->seed = 1;
    o->asw_beta = d.asw_beta;
    o->isi_copies = 3;
    o->isi_eta = 0.1;
    o->epochs = d.epochs;
    o->batch = d.batch;
    o->lr = d.lr;
    o->memory_mb = 1024;
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
        } else if (OPT("--memory")) {
            o->memory_mb = parse_double(a, v, 16, 1e7, 0), i++;
        } else if (OPT("--block")) {
            char *x = v ? strchr(v, 'x') : NULL;
            if (!x) die("--block %s: expected WxH", v ? v : "(missing)");
            *x = '\0';
            o->block_w = (int)parse_long(a, v, 1, 1 << 30);
            o->block_h = (int)parse_long(a, x + 1, 1, 1 << 30);
            *x = 'x', i++;
        } else if (OPT("--param")) {
            parse_param(&o->cp, v), i++;
        } else if (OPT("--split-only")) {
            if (!v) die("--split-only needs a file name");
            o->split_only = v, i++;
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

/* ---- progress and log from the library ---- */
void prog_start(prog *p, int quiet, const char *what)
{
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->last_decile = -1;
    p->what = what;
    p->t0 = now();
}

int on_progress(double frac, const char *msg, void *user)
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

/* ---- the run ---- */
/* The split of the labelled pixels: the test pixels are never seen by training. */
static void make_split(run *r, const options *o)
{
    labelled *lab = &r->lab;
    int st = hiner_classify_split(lab->cls, lab->n, r->K,
                                  o->per_class > 0 ? (uint32_t)o->per_class : 0, o->fraction,
                                  o->seed, lab->train, lab->test, on_log, NULL);
    if (st != HINER_OK)
        die("%s: too few labelled pixels for this split (%s); try a smaller --train-per-class "
            "or --train-fraction", o->labels, hiner_status_str(st));
    for (size_t k = 0; k < lab->n; k++) {
        r->n_train += lab->train[k] != 0, r->ctrain[lab->train[k]]++;
        r->n_test += lab->test[k] != 0, r->ctest[lab->test[k]]++;
    }
}

static void train(run *r, const options *o, const image *im)
{
    hiner_classify_params p = o->cp;
    p.asw = o->asw;
    p.asw_beta = (float)o->asw_beta;
    p.epochs = o->epochs;
    p.batch = o->batch;
    p.lr = (float)o->lr;
    p.seed = o->seed;
    p.threads = o->threads;
    p.log = on_log;
    if (hiner_classify_params_validate(&p) != HINER_OK) die("bad classifier settings");
    hiner_classify_patches d;
    training_patches(o, im, r, &d);
    prog pr;
    prog_start(&pr, o->quiet, "training");
    p.progress = on_progress;
    p.progress_user = &pr;
    status(o->quiet, 0, "training on %u pixels (%d classes, %d epochs, %d threads%s%s)", d.n,
           r->K, o->epochs, o->threads, o->asw ? ", ASW" : "", o->isi ? ", ISI" : "");
    int st = hiner_classifier_train_patches(&p, &d, &r->clf, &r->rep);
    if (st != HINER_OK) die("training failed: %s", hiner_status_str(st));
    patches_free(&d);
}

/* The scores on the test pixels that are valid in the image. */
static void score(run *r)
{
    const int K = r->K;
    labelled *lab = &r->lab;
    for (size_t k = 0; k < lab->n; k++)
        if (lab->test[k] && !r->pred[k]) { /* NoData in the image: not scored */
            r->dropped_test++;
            r->ctest[lab->test[k]]--;
            lab->test[k] = 0;
        }
    if (r->dropped_test)
        fprintf(stderr, "hiner-classify: warning: %zu test pixels are NoData in the image and "
                        "were not scored\n", r->dropped_test);
    r->n_test -= r->dropped_test;
    r->cm = calloc((size_t)K * K, sizeof *r->cm);
    r->pc = calloc((size_t)K, sizeof *r->pc);
    if (!r->cm || !r->pc) die("out of memory");
    int st = hiner_classify_score(lab->test, r->pred, lab->n, K, r->cm, r->pc, &r->sc);
    if (st != HINER_OK) die("scoring failed: %s", hiner_status_str(st));
}

static void run_free(run *r)
{
    hiner_classifier_free(r->clf);
    free(r->lab.idx), free(r->lab.cls), free(r->lab.train), free(r->lab.test);
    free(r->pred), free(r->cm), free(r->pc);
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
    open_image(&im, &o);
    if (o.isi && !im.is_hiner)
        die("--isi needs a .hiner IMAGE: it decodes the cube again at jittered wavelengths "
            "through the stored spectral encoder");
    run r;
    memset(&r, 0, sizeof r);
    load_labels(&o, &im, &r.lab, &r.K);
    make_split(&r, &o);
    if (o.split_only) {
        write_split(&o, &im, &r.lab);
        status(o.quiet, 0, "split written to %s: %zu training, %zu test pixels", o.split_only,
               r.n_train, r.n_test);
    } else {
        train(&r, &o, &im);
        classify_image(&o, &im, &r);
        score(&r);
        r.t_total = now() - t_start;
        print_report(&o, &im, &r);
        if (o.json) write_json(&o, &im, &r);
    }
    run_free(&r);
    close_image(&im);
    return 0;
}
#endif
