/*
 * test_failures.c - writing through the C API when things go wrong, and cubes that are
 * hard to encode (docs/robustness.md): a full disk (/dev/full behind the write callback, a
 * file-size limit under hiner_encode_file), a failing write or read callback, a cancel,
 * a directory that does not exist: a clear status, never a partial file, an existing file
 * untouched. Bad cubes (an all-NaN band, a constant band, zero bands, 1 x 1, more than
 * 1000 bands, NoData everywhere, values beyond float range): a clear error or a file
 * that decodes right. Several threads opening and decoding the same file agree bit for
 * bit. Wavelengths survive a decimal-comma locale (when one can be built with localedef).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "../synth.h"
#include "hiner.h"

enum { W = 16, H = 12, C = 6 };

static hiner_params quick_params(void)
{
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.size_bytes = 3000;
    p.epochs = 3;
    p.qat_epochs = 0;
    return p;
}

/* A UInt16 cube of the synthetic scene, with wavelengths. */
static uint16_t cube_data[C * H * W];
static double cube_wl[C];

static hiner_cube test_cube(void)
{
    static double unit[C * H * W];
    synth_cube(unit, W, H, C, cube_wl);
    for (size_t k = 0; k < (size_t)C * H * W; k++)
        cube_data[k] = (uint16_t)(1000 + 8000 * unit[k]);
    hiner_cube c = {0};
    c.width = W, c.height = H, c.bands = C, c.dtype = HINER_UINT16, c.data = cube_data;
    c.wavelengths = cube_wl;
    return c;
}

static char tmpdir[256];

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Files in tmpdir other than `keep` (leftover temporaries). */
static int stray_files(const char *keep)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && (!keep || strcmp(e->d_name, keep) != 0)) {
            printf("  stray file: %s\n", e->d_name);
            n++;
        }
    if (d) closedir(d);
    return n;
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

static int same_text(const char *path, const char *s)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(s) && memcmp(buf, s, n) == 0;
}

/* ---- write failures ---- */

static int write_devfull(void *user, const void *p, size_t n)
{
    FILE *f = user;
    return fwrite(p, 1, n, f) == n && fflush(f) == 0 ? 0 : 1;
}

static int write_fail(void *user, const void *p, size_t n)
{
    (void)p, (void)n;
    ++*(int *)user;
    return 1;
}

static int cancel_at(double frac, const char *msg, void *user)
{
    (void)msg;
    return frac < *(double *)user;
}

static int read_fail_at(void *user, uint32_t band, void *out)
{
    if (band == *(uint32_t *)user) return 1;
    memcpy(out, cube_data + (size_t)band * W * H, (size_t)W * H * sizeof(uint16_t));
    return 0;
}

static void test_write_failures(void)
{
    hiner_cube cube = test_cube();
    hiner_params p = quick_params();
    char path[512];
    snprintf(path, sizeof path, "%s/out.hiner", tmpdir);
    const char *old = "an existing file that must survive";

    /* the callback's device is full */
    FILE *full = fopen("/dev/full", "wb");
    if (full) {
        int st = hiner_encode(&cube, NULL, &p, write_devfull, full, NULL);
        printf("write callback on /dev/full: %s\n", hiner_status_str(st));
        CHECK(st == HINER_E_IO);
        fclose(full);
    } else {
        printf("/dev/full absent: skipped\n");
    }
    int calls = 0;
    CHECK(hiner_encode(&cube, NULL, &p, write_fail, &calls, NULL) == HINER_E_IO);
    CHECK(calls == 1);

    /* a file-size limit while hiner_encode_file writes (as a full disk): in a child */
    write_text(path, old);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {1000, 1000};
        setrlimit(RLIMIT_FSIZE, &rl);
        int st = hiner_encode_file(&cube, NULL, &p, path, NULL);
        _exit(st == HINER_E_IO ? 0 : 10 - st);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "file-size limit: wait status %d", ws);
    CHECK_MSG(same_text(path, old), "the existing file changed after a failed write");
    CHECK(stray_files("out.hiner") == 0);
    printf("hiner_encode_file past RLIMIT_FSIZE: HINER_E_IO, existing file untouched, no "
           "temporary left\n");

    /* a directory that does not exist */
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/x.hiner", tmpdir);
    CHECK(hiner_encode_file(&cube, NULL, &p, nodir, NULL) == HINER_E_IO);
    CHECK(!exists(nodir));

    /* cancel halfway: HINER_E_ABORTED, nothing written */
    double at = 0.5;
    p.progress = cancel_at;
    p.progress_user = &at;
    CHECK(hiner_encode_file(&cube, NULL, &p, path, NULL) == HINER_E_ABORTED);
    CHECK(same_text(path, old));
    void *mem = (void *)1;
    size_t size = 1;
    CHECK(hiner_encode_mem(&cube, NULL, &p, &mem, &size, NULL) == HINER_E_ABORTED);
    CHECK(mem == NULL && size == 0);
    p.progress = NULL;

    /* the source cannot be read (band 4 fails) */
    uint32_t bad = 4;
    hiner_cube cb = cube;
    cb.data = NULL;
    cb.read_band = read_fail_at;
    cb.read_user = &bad;
    CHECK(hiner_encode_file(&cb, NULL, &p, path, NULL) == HINER_E_IO);
    CHECK(same_text(path, old));
    CHECK(stray_files("out.hiner") == 0);
    /* and the source is untouched by any of it */
    hiner_cube again = test_cube();
    (void)again;
    remove(path);
}

/* ---- bad cubes ---- */

static int encode_decode(const hiner_cube *cube, hiner_params *p, hiner_model **m)
{
    void *f = NULL;
    size_t n = 0;
    *m = NULL;
    int st = hiner_encode_mem(cube, NULL, p, &f, &n, NULL);
    if (st == HINER_OK) {
        st = hiner_open_mem(f, n, m);
        CHECK_MSG(st == HINER_OK, "a file just written does not open: %s", hiner_status_str(st));
    } else {
        CHECK(f == NULL && n == 0);
    }
    hiner_free(f);
    return st;
}

/* A Float32 cube of the synthetic scene in [0,1] (unit holds it in double). */
static float fdata[C * H * W];
static double unit[C * H * W];

static hiner_cube float_cube(void)
{
    synth_cube(unit, W, H, C, NULL);
    for (size_t k = 0; k < (size_t)C * H * W; k++) fdata[k] = (float)unit[k];
    hiner_cube cube = {0};
    cube.width = W, cube.height = H, cube.bands = C, cube.dtype = HINER_FLOAT32;
    cube.data = fdata;
    return cube;
}

/* band 2 all NaN, band 4 constant 0.25: NaN and the constant come back exactly */
static void test_nan_and_constant_bands(void)
{
    static float out[W * H];
    hiner_cube cube = float_cube();
    hiner_params p = quick_params();
    hiner_model *m;
    const size_t n = (size_t)W * H;
    for (size_t i = 0; i < n; i++) {
        fdata[2 * n + i] = NAN;
        fdata[4 * n + i] = 0.25f;
    }
    int st = encode_decode(&cube, &p, &m);
    printf("an all-NaN band and a constant band: %s\n", hiner_status_str(st));
    CHECK(st == HINER_OK);
    if (m) {
        int nan_ok = 1, const_ok = 1, other_ok = 1;
        CHECK(hiner_model_decode_band(m, 2, out) == HINER_OK);
        for (size_t i = 0; i < n; i++) nan_ok &= isnan(out[i]);
        CHECK(hiner_model_decode_band(m, 4, out) == HINER_OK);
        for (size_t i = 0; i < n; i++) const_ok &= out[i] == 0.25f;
        CHECK(hiner_model_decode_band(m, 1, out) == HINER_OK);
        for (size_t i = 0; i < n; i++) other_ok &= isfinite(out[i]) && out[i] >= 0 && out[i] <= 1;
        CHECK_MSG(nan_ok, "the all-NaN band did not decode as NaN (NoData)");
        CHECK_MSG(const_ok, "the constant band did not decode exactly");
        CHECK(other_ok);
        hiner_model_free(m);
    }
}

/* zero bands, zero width: refused before anything is read; a width past the limit too */
static void test_empty_and_too_wide(void)
{
    hiner_cube cube = float_cube();
    hiner_params p = quick_params();
    hiner_model *m;
    hiner_cube z = cube;
    z.bands = 0;
    CHECK(encode_decode(&z, &p, &m) == HINER_E_INVALID_ARG);
    z = cube;
    z.width = 0;
    CHECK(encode_decode(&z, &p, &m) == HINER_E_INVALID_ARG);
    z = cube; /* a raster of any width is tiled; the format stops at 2^31 - 1 */
    z.width = (uint32_t)INT32_MAX + 1;
    CHECK(encode_decode(&z, &p, &m) == HINER_E_LIMIT);
}

/* NoData everywhere: HINER_E_NODATA, and no file from hiner_encode_file */
static void test_nodata_everywhere(void)
{
    hiner_cube cube = float_cube();
    hiner_params p = quick_params();
    hiner_model *m;
    for (size_t k = 0; k < (size_t)C * H * W; k++) fdata[k] = NAN;
    CHECK(encode_decode(&cube, &p, &m) == HINER_E_NODATA);
    char path[512];
    snprintf(path, sizeof path, "%s/nodata.hiner", tmpdir);
    CHECK(hiner_encode_file(&cube, NULL, &p, path, NULL) == HINER_E_NODATA);
    CHECK(!exists(path) && stray_files(NULL) == 0);
}

/* a 1 x 1 image: encodes (or is refused as too small for any network) and decodes exactly */
static void test_one_pixel(void)
{
    static float out[W * H];
    hiner_params p = quick_params();
    hiner_model *m;
    float one[3] = {0.1f, 0.5f, 0.9f};
    hiner_cube c1 = {0};
    c1.width = 1, c1.height = 1, c1.bands = 3, c1.dtype = HINER_FLOAT32, c1.data = one;
    int st = encode_decode(&c1, &p, &m);
    printf("1 x 1 x 3: %s\n", hiner_status_str(st));
    CHECK(st == HINER_OK || st == HINER_E_BUDGET);
    if (m) {
        for (uint32_t b = 0; b < 3; b++) {
            CHECK(hiner_model_decode_band(m, b, out) == HINER_OK);
            /* one pixel per band: min = max, so the value is exact */
            CHECK_MSG(out[0] == one[b], "1 x 1 band %u: %g, expected %g", b, out[0], one[b]);
        }
        hiner_model_free(m);
    }
}

/* more than 1000 bands: every band decodes, one past the last is out of range */
static void test_many_bands(void)
{
    hiner_model *m;
    enum { MANY = 1100, MW = 6, MH = 5 };
    uint8_t *many = malloc((size_t)MANY * MW * MH);
    for (size_t k = 0; k < (size_t)MANY * MW * MH; k++) many[k] = (uint8_t)(k * 7 % 251);
    hiner_cube cm = {0};
    cm.width = MW, cm.height = MH, cm.bands = MANY, cm.dtype = HINER_UINT8, cm.data = many;
    hiner_params pm = quick_params();
    pm.size_bytes = 40000;
    pm.epochs = 1;
    int st = encode_decode(&cm, &pm, &m);
    printf("%d bands of %d x %d: %s\n", MANY, MW, MH, hiner_status_str(st));
    CHECK(st == HINER_OK);
    if (m) {
        hiner_info in;
        hiner_model_info(m, &in);
        CHECK(in.bands == MANY);
        uint8_t b8[MW * MH];
        CHECK(hiner_model_decode_band_as(m, MANY - 1, HINER_UINT8, b8) == HINER_OK);
        CHECK(hiner_model_decode_band_as(m, MANY, HINER_UINT8, b8) == HINER_E_RANGE);
        hiner_model_free(m);
    }
    free(many);
}

/* Int32 values far from zero, 1e9 + 0..1000: restored in double (float's spacing at 1e9
 * is 64, so values rounded through float would all be multiples of 64) */
static void test_int32_far_from_zero(void)
{
    float_cube();
    hiner_params p = quick_params();
    hiner_model *m;
    const size_t n = (size_t)W * H;
    static int32_t i32[C * H * W];
    for (size_t k = 0; k < (size_t)C * n; k++) i32[k] = 1000000000 + (int32_t)(unit[k] * 1000);
    hiner_cube ci = {0};
    ci.width = W, ci.height = H, ci.bands = C, ci.dtype = HINER_INT32, ci.data = i32;
    int st = encode_decode(&ci, &p, &m);
    CHECK(st == HINER_OK);
    if (m) {
        static int32_t d32[W * H];
        CHECK(hiner_model_decode_band_as(m, 3, HINER_INT32, d32) == HINER_OK);
        size_t off_grid = 0;
        double err = 0;
        for (size_t i = 0; i < n; i++) {
            off_grid += d32[i] % 64 != 0;
            err += fabs((double)d32[i] - i32[3 * n + i]);
        }
        printf("Int32 cube of 1e9 + 0..1000: %zu of %zu decoded values off the float grid "
               "(mean error %.1f)\n", off_grid, n, err / (double)n);
        CHECK_MSG(off_grid > n / 2, "Int32 values rounded through float");
        CHECK(err / (double)n < 250);
        hiner_model_free(m);
    }
}

/* Float64 values beyond float range decode finite and within the source's range */
static void test_float64_beyond_float(void)
{
    float_cube();
    hiner_params p = quick_params();
    hiner_model *m;
    const size_t n = (size_t)W * H;
    static double big[C * H * W];
    for (size_t k = 0; k < (size_t)C * n; k++) big[k] = (unit[k] - 0.5) * 1e300;
    hiner_cube cbig = {0};
    cbig.width = W, cbig.height = H, cbig.bands = C, cbig.dtype = HINER_FLOAT64, cbig.data = big;
    int st = encode_decode(&cbig, &p, &m);
    CHECK(st == HINER_OK);
    if (m) {
        static double d64[W * H];
        CHECK(hiner_model_decode_band_as(m, 1, HINER_FLOAT64, d64) == HINER_OK);
        int finite = 1;
        for (size_t i = 0; i < n; i++) finite &= isfinite(d64[i]) && fabs(d64[i]) <= 0.5e300;
        printf("Float64 cube of +-5e299: decoded %s (first %g)\n",
               finite ? "finite" : "NOT FINITE", d64[0]);
        CHECK_MSG(finite, "Float64 values beyond float range did not survive");
        hiner_model_free(m);
    }
}

/* ---- threads ---- */

enum { THREADS = 4 };

typedef struct thread_job {
    const char *path;
    float *out; /* C x H x W */
    int status;
} thread_job;

static void *decode_all(void *arg)
{
    thread_job *j = arg;
    hiner_model *m = NULL;
    j->status = hiner_open_file(j->path, &m);
    for (uint32_t b = 0; b < C && j->status == HINER_OK; b++)
        j->status = hiner_model_decode_band(m, b, j->out + (size_t)b * W * H);
    if (j->status == HINER_OK)
        j->status = hiner_model_decode_wavelength(m, 0.5 * (cube_wl[1] + cube_wl[2]),
                                                  j->out + (size_t)(C - 1) * W * H);
    hiner_model_free(m);
    return NULL;
}

static void test_threads(void)
{
    hiner_cube cube = test_cube();
    hiner_params p = quick_params();
    char path[512];
    snprintf(path, sizeof path, "%s/threads.hiner", tmpdir);
    CHECK(hiner_encode_file(&cube, NULL, &p, path, NULL) == HINER_OK);
    static float out[THREADS + 1][C * H * W];
    thread_job jobs[THREADS + 1];
    for (int t = 0; t <= THREADS; t++) jobs[t] = (thread_job){path, out[t], -1};
    decode_all(&jobs[THREADS]); /* the reference, alone */
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, decode_all, &jobs[t]);
    int same = 1;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK(jobs[t].status == HINER_OK);
        same &= memcmp(out[t], out[THREADS], sizeof out[t]) == 0;
    }
    printf("%d threads opening and decoding the same file: %s\n", THREADS,
           same ? "bit-identical" : "DIFFERENT");
    CHECK(same);
    remove(path);
}

/* ---- a decimal-comma locale ---- */

static void test_locale(void)
{
    char locdir[300], cmd[1024];
    snprintf(locdir, sizeof locdir, "%s/locale", tmpdir);
    mkdir(locdir, 0700);
    snprintf(cmd, sizeof cmd,
             "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1 || "
             "localedef -i fr_FR -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", locdir, locdir);
    int built = system(cmd) == 0;
    setenv("LOCPATH", locdir, 1);
    if (!built || !setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
        printf("decimal-comma locale: cannot build one (localedef), skipped\n");
        unsetenv("LOCPATH");
        snprintf(cmd, sizeof cmd, "rm -rf %s", locdir);
        if (system(cmd) != 0) printf("cannot remove %s\n", locdir);
        return;
    }
    hiner_cube cube = test_cube();
    double wl[C];
    for (int b = 0; b < C; b++) wl[b] = 412.5 + 10.25 * b;
    cube.wavelengths = wl;
    hiner_params p = quick_params();
    void *f = NULL;
    size_t n = 0;
    hiner_model *m = NULL;
    /* written under the comma locale, read under the C locale, and the other way */
    CHECK(hiner_encode_mem(&cube, NULL, &p, &f, &n, NULL) == HINER_OK);
    setlocale(LC_NUMERIC, "C");
    int st = hiner_open_mem(f, n, &m);
    CHECK_MSG(st == HINER_OK, "a file written under a decimal-comma locale: %s",
              hiner_status_str(st));
    const double *got = m ? hiner_model_wavelengths(m) : NULL;
    int same = got != NULL;
    for (int b = 0; got && b < C; b++) same &= got[b] == wl[b];
    CHECK_MSG(same, "wavelengths changed across locales");
    hiner_model_free(m);
    setlocale(LC_NUMERIC, "de_DE.UTF-8");
    st = hiner_open_mem(f, n, &m);
    got = m ? hiner_model_wavelengths(m) : NULL;
    same = st == HINER_OK && got != NULL;
    for (int b = 0; got && b < C; b++) same &= got[b] == wl[b];
    CHECK_MSG(same, "a C-locale file read under a decimal-comma locale: %s",
              hiner_status_str(st));
    hiner_model_free(m);
    setlocale(LC_NUMERIC, "C");
    unsetenv("LOCPATH");
    printf("wavelengths 412.5, 422.75 ... across C and de_DE locales: %s\n",
           same ? "kept" : "LOST");
    hiner_free(f);
    snprintf(cmd, sizeof cmd, "rm -rf %s", locdir);
    if (system(cmd) != 0) printf("cannot remove %s\n", locdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/hiner-failures-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_write_failures();
    test_nan_and_constant_bands();
    test_empty_and_too_wide();
    test_nodata_everywhere();
    test_one_pixel();
    test_many_bands();
    test_int32_far_from_zero();
    test_float64_beyond_float();
    test_threads();
    test_locale();
    CHECK(stray_files(NULL) == 0);
    rmdir(tmpdir);
    return check_exit();
}
