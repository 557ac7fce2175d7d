/*
 * gdal_threads.c - the concurrency check of docs/robustness.md: several threads each open
 * the same .hiner through GDAL (a dataset of their own, with one or two decoding threads,
 * stored bands or interpolated wavelengths), read every band and compare with what one
 * thread read alone. Built and run by `scripts/test-sanitize.sh --threads`, under
 * ThreadSanitizer and under valgrind --tool=helgrind. Exit status 0 when all agree.
 * Usage: gdal_threads FILE [THREADS] [ROUNDS]   (FILE is written first when absent)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpl_conv.h"
#include "cpl_string.h"
#include "gdal.h"

enum { W = 40, H = 32, C = 12 };

static const char *path;
static int rounds = 3;
static double *ref[2]; /* stored bands; wavelengths 2.5, 7.25, 11 */
static int ref_bands[2];

static const char *const *options(int k, int threads)
{
    static const char *o[2][2][3] = {
        {{"NUM_THREADS=1", NULL, NULL}, {"NUM_THREADS=2", NULL, NULL}},
        {{"NUM_THREADS=1", "WAVELENGTHS=2.5,7.25,11", NULL},
         {"NUM_THREADS=2", "WAVELENGTHS=2.5,7.25,11", NULL}}};
    return o[k][threads - 1];
}

/* Reads every band of FILE opened with the options; a new array (bands x H x W). */
static double *read_all(int k, int threads, int *bands)
{
    const char *const drivers[] = {"HINER", NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, drivers,
                                 options(k, threads), NULL);
    if (!ds) return NULL;
    int nb = GDALGetRasterCount(ds);
    double *buf = malloc(sizeof(double) * (size_t)nb * W * H);
    if (buf && GDALDatasetRasterIO(ds, GF_Read, 0, 0, W, H, buf, W, H, GDT_Float64, nb, NULL,
                                   0, 0, 0) != CE_None) {
        free(buf);
        buf = NULL;
    }
    GDALClose(ds);
    *bands = nb;
    return buf;
}

static void *worker(void *arg)
{
    const int t = (int)(size_t)arg;
    size_t bad = 0;
    for (int r = 0; r < rounds; r++) {
        int k = (t + r) % 2, nb = 0;
        double *got = read_all(k, 1 + (t + r / 2) % 2, &nb);
        if (!got || nb != ref_bands[k] ||
            memcmp(got, ref[k], sizeof(double) * (size_t)nb * W * H) != 0)
            bad++;
        free(got);
    }
    return (void *)bad;
}

/* A smooth synthetic cube through the MEM driver, written with HINER once. */
static int make_file(void)
{
    GDALDriverH mem = GDALGetDriverByName("MEM"), hiner = GDALGetDriverByName("HINER");
    if (!mem || !hiner) return 1;
    GDALDatasetH src = GDALCreate(mem, "", W, H, C, GDT_UInt16, NULL);
    static unsigned short band[W * H];
    for (int b = 0; b < C; b++) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                band[y * W + x] =
                    (unsigned short)(1000 + 4000 * (1 + sin(0.2 * x + 0.1 * y + 0.3 * b)));
        if (GDALRasterIO(GDALGetRasterBand(src, b + 1), GF_Write, 0, 0, W, H, band, W, H,
                         GDT_UInt16, 0, 0) != CE_None)
            return 1;
    }
    const char *co[] = {"BPPPB=4", "EPOCHS=3", "QAT_EPOCHS=0", "NUM_THREADS=1", NULL};
    GDALDatasetH dst = GDALCreateCopy(hiner, path, src, FALSE, (char **)co, NULL, NULL);
    GDALClose(src);
    if (!dst) return 1;
    GDALClose(dst);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [THREADS] [ROUNDS]\n", argv[0]);
        return 2;
    }
    path = argv[1];
    const int T = argc > 2 ? atoi(argv[2]) : 4;
    rounds = argc > 3 ? atoi(argv[3]) : 3;
    GDALAllRegister();
    if (access(path, R_OK) != 0 && make_file() != 0) {
        fprintf(stderr, "cannot write %s (is the HINER driver on GDAL_DRIVER_PATH?)\n", path);
        return 1;
    }
    for (int k = 0; k < 2; k++) {
        ref[k] = read_all(k, 1, &ref_bands[k]);
        if (!ref[k]) {
            fprintf(stderr, "cannot read %s\n", path);
            return 1;
        }
    }
    pthread_t th[64];
    const int n = T < 64 ? T : 64;
    for (int t = 0; t < n; t++) pthread_create(&th[t], NULL, worker, (void *)(size_t)t);
    size_t bad = 0;
    for (int t = 0; t < n; t++) {
        void *r;
        pthread_join(th[t], &r);
        bad += (size_t)r;
    }
    printf("%d threads x %d rounds reading %s (%d stored bands, %d interpolated): %s\n", n,
           rounds, path, ref_bands[0], ref_bands[1],
           bad ? "MISMATCH" : "every read identical to the reference");
    free(ref[0]);
    free(ref[1]);
    GDALDestroyDriverManager();
    return bad ? 1 : 0;
}
