/*
 * test_golden.c - every golden file (README.md here) still reads and decodes as it did
 * when it was written:
 *   - the exact part of NAME.txt (info, plan, metadata, wavelengths, chunks, tensor bit
 *     widths and modes) is what golden_describe gives today, line for line;
 *   - every decoded plane is within TOL of the band's range of NAME.f32 (decoding runs
 *     float kernels that differ by instruction set), NaN and NoData pixels exactly;
 *   - the planes decoded to the file's type have the recorded checksum; where the floats
 *     are not bit-identical (a float kernel may move a value across a rounding edge),
 *     each sample is the rounding of the recorded float within TOL instead.
 *   test_golden FILE.hiner...
 * With HINER_GOLDEN_EXACT set, the planes must be bit-identical: it holds with the build
 * and CPU that wrote the files (AVX-512, OpenBLAS), and catches changes below TOL.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <stdlib.h>

#include "../check.h"
#include "golden.h"

#define TOL 1e-5 /* of the band's range */

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(len > 0 ? (size_t)len + 1 : 1);
    *n = p && len >= 0 ? fread(p, 1, (size_t)len, f) : 0;
    if (p) p[*n] = 0;
    fclose(f);
    return p;
}

/* The text's lines other than "typed" ones against the description, line by line. */
static void check_text(const char *name, const char *want, const char *got)
{
    int line = 1;
    while (*want || *got) {
        while (!strncmp(want, "typed ", 6)) want = strchr(want, '\n') ? strchr(want, '\n') + 1 : "";
        const char *we = strchr(want, '\n'), *ge = strchr(got, '\n');
        size_t wn = we ? (size_t)(we - want) : strlen(want), gn = ge ? (size_t)(ge - got) : strlen(got);
        if (!*want && !*got) break;
        if (wn != gn || memcmp(want, got, wn) != 0) {
            CHECK_MSG(0, "%s.txt line %d: recorded \"%.*s\", now \"%.*s\"", name, line, (int)wn,
                      want, (int)gn, got);
            return;
        }
        want += wn + (we != NULL), got += gn + (ge != NULL), line++;
    }
}

static double typed_at(const void *p, hiner_dtype t, size_t i)
{
    switch (t) {
    case HINER_UINT8: return ((const uint8_t *)p)[i];
    case HINER_INT8: return ((const int8_t *)p)[i];
    case HINER_UINT16: return ((const uint16_t *)p)[i];
    case HINER_INT16: return ((const int16_t *)p)[i];
    case HINER_UINT32: return ((const uint32_t *)p)[i];
    case HINER_INT32: return ((const int32_t *)p)[i];
    case HINER_FLOAT32: return ((const float *)p)[i];
    default: return ((const double *)p)[i];
    }
}

/* One plane: floats against the recorded ones, typed samples against the checksum. */
static void check_plane(const char *name, int k, hiner_model *m, const float *want,
                        const char *text, double *maxrel, int *ties)
{
    hiner_info in;
    hiner_model_info(m, &in);
    const size_t n = (size_t)in.width * in.height;
    float *got = malloc(n * sizeof(float));
    unsigned char *typed = malloc(n * 8);
    CHECK(golden_decode(m, k, got) == HINER_OK);
    CHECK(golden_decode_as(m, k, typed) == HINER_OK);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(want[i]) && !(in.has_nodata && want[i] == (float)in.nodata))
            lo = fmin(lo, want[i]), hi = fmax(hi, want[i]);
    const double tol = TOL * (hi > lo ? hi - lo : 1.0);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        int same = isnan(want[i]) ? isnan(got[i]) : d <= tol;
        if (in.has_nodata && want[i] == (float)in.nodata) same = got[i] == want[i];
        if (!same && bad++ < 3)
            fprintf(stderr, "%s plane %d pixel %zu: %.9g recorded, %.9g now\n", name, k, i,
                    want[i], got[i]);
        if (isfinite(d) && hi > lo) *maxrel = fmax(*maxrel, d / (hi - lo));
    }
    CHECK_MSG(bad == 0, "%s plane %d: %d pixels beyond %.3g", name, k, bad, tol);
    char key[32];
    snprintf(key, sizeof key, "\ntyped %d ", k);
    const char *rec = strstr(text, key);
    CHECK_MSG(rec != NULL, "%s.txt: no checksum for plane %d", name, k);
    unsigned long long sum = rec ? strtoull(rec + strlen(key), NULL, 16) : 0;
    const int same_floats = memcmp(got, want, n * sizeof(float)) == 0;
    if (getenv("HINER_GOLDEN_EXACT"))
        CHECK_MSG(same_floats, "%s plane %d: not bit-identical (HINER_GOLDEN_EXACT)", name, k);
    if (golden_fnv(GOLDEN_FNV0, typed, n * hiner_dtype_size(in.dtype)) != sum) {
        /* floats decoded as recorded must give the recorded samples; other floats, samples
         * that are each the rounding of the recorded value */
        CHECK_MSG(!same_floats, "%s plane %d: typed checksum differs", name, k);
        int off = 0, fl = in.dtype == HINER_FLOAT32 || in.dtype == HINER_FLOAT64;
        for (size_t i = 0; i < n; i++) {
            double v = typed_at(typed, in.dtype, i), w = want[i];
            if (isnan(w)) off += !(isnan(v) || (!fl && v == 0));
            else off += !(fabs(v - w) <= (fl ? tol : 0.5 + tol) || v == w);
        }
        CHECK_MSG(off == 0, "%s plane %d: %d typed samples off their recorded value", name, k,
                  off);
        (*ties)++;
    }
    free(got);
    free(typed);
}

static void check_file(const char *path)
{
    char base[1024], aux[1100];
    snprintf(base, sizeof base, "%s", path);
    char *dot = strrchr(base, '.');
    if (dot) *dot = 0;
    const char *name = strrchr(base, '/') ? strrchr(base, '/') + 1 : base;
    size_t nf = 0, nt = 0, nd = 0;
    unsigned char *f = slurp(path, &nf);
    snprintf(aux, sizeof aux, "%s.txt", base);
    char *text = (char *)slurp(aux, &nt);
    snprintf(aux, sizeof aux, "%s.f32", base);
    float *dec = (float *)slurp(aux, &nd);
    hiner_model *m = NULL;
    CHECK_MSG(f && text && dec, "%s: a file is missing", name);
    int st = f ? hiner_open_mem(f, nf, &m) : HINER_E_IO;
    CHECK_MSG(st == HINER_OK, "%s: %s", name, hiner_status_str(st));
    if (st == HINER_OK && text && dec) {
        char *got = NULL;
        size_t gn = 0;
        FILE *o = open_memstream(&got, &gn);
        CHECK(o && golden_describe(o, m, f, nf) == 0);
        if (o) fclose(o);
        check_text(name, text, got ? got : "");
        free(got);
        hiner_info in;
        hiner_model_info(m, &in);
        const size_t n = (size_t)in.width * in.height;
        const int planes = golden_planes(m);
        CHECK_MSG(nd == planes * n * sizeof(float), "%s.f32: %zu bytes", name, nd);
        double maxrel = 0;
        int ties = 0;
        for (int k = 0; nd == planes * n * sizeof(float) && k < planes; k++)
            check_plane(name, k, m, dec + (size_t)k * n, text, &maxrel, &ties);
        printf("%-20s format %d.%d, %zu bytes, %d planes: max error %.3g of the range, "
               "%d typed planes not bit-identical\n", name, in.format_major, in.format_minor,
               nf, planes, maxrel, ties);
    }
    hiner_model_free(m);
    free(f), free(text), free(dec);
}

int main(int argc, char **argv)
{
    CHECK_MSG(argc > 1, "usage: test_golden FILE.hiner...");
    for (int a = 1; a < argc; a++) check_file(argv[a]);
    return check_exit();
}
