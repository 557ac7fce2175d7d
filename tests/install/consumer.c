/*
 * consumer.c - a program built against an *installed* libhiner (hiner.h and -lhiner from
 * pkg-config), as a user would: prints the library version, round-trips a small synthetic
 * cube through hiner_encode_mem and hiner_open_mem, checks the decoded bands and writes
 * the file for the installed tools and GDAL plugin to read.
 * usage: consumer OUT.hiner      (exit status 0 on success)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiner.h>

enum { W = 24, H = 20, C = 8 };

static int fail(const char *what, int st)
{
    fprintf(stderr, "consumer: %s: %s (%d)\n", what, hiner_status_str(st), st);
    return 1;
}

/* A smooth UInt16 cube with wavelengths 450..800 nm. */
static uint16_t cube_data[C * H * W];
static double wl[C];

static hiner_cube make_cube(void)
{
    for (int b = 0; b < C; b++) {
        wl[b] = 450.0 + 50.0 * b;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                cube_data[(b * H + y) * W + x] =
                    (uint16_t)(2000 + 1500 * sin(0.3 * x + 0.05 * b) * cos(0.25 * y) + 100 * b);
    }
    hiner_cube cube = {0};
    cube.width = W;
    cube.height = H;
    cube.bands = C;
    cube.dtype = HINER_UINT16;
    cube.data = cube_data;
    cube.wavelengths = wl;
    return cube;
}

/* The library the program runs with is the one its header describes. */
static int check_version(void)
{
    printf("hiner %s (header %d.%d.%d)\n", hiner_version_string(), HINER_VERSION_MAJOR,
           HINER_VERSION_MINOR, HINER_VERSION_PATCH);
    if (hiner_version() != HINER_VERSION_NUMBER) {
        fprintf(stderr, "consumer: library %u does not match header %d\n", hiner_version(),
                HINER_VERSION_NUMBER);
        return 1;
    }
    return 0;
}

/* Encodes the cube into *buf; the stream must identify as HINER. */
static int encode(void **buf, size_t *size)
{
    hiner_cube cube = make_cube();
    hiner_params p;
    int st = hiner_params_init(&p, HINER_ABI_VERSION);
    if (st != HINER_OK) return fail("hiner_params_init", st);
    p.bpppb = 8.0; /* a tiny cube needs a high rate to hold even the smallest network */
    p.epochs = 40;
    p.lr = 5e-3f;
    p.threads = 1;
    hiner_encode_report rep;
    st = hiner_encode_mem(&cube, NULL, &p, buf, size, &rep);
    if (st != HINER_OK) return fail("hiner_encode_mem", st);
    printf("encoded %ux%ux%u UInt16 into %zu bytes (%.3f bpppb)\n", W, H, C, *size, rep.bpppb);
    if (!hiner_identify(*buf, *size)) {
        fprintf(stderr, "consumer: hiner_identify does not recognise the encoded stream\n");
        return 1;
    }
    return 0;
}

/* The file's description matches the cube. */
static int check_info(const hiner_model *m)
{
    hiner_info info;
    int st = hiner_model_info(m, &info);
    if (st != HINER_OK) return fail("hiner_model_info", st);
    if (info.width != W || info.height != H || info.bands != C || info.dtype != HINER_UINT16 ||
        !info.has_wavelengths || info.wavelength_min != 450.0 || info.wavelength_max != 800.0) {
        fprintf(stderr, "consumer: info does not match the cube (%ux%ux%u %s, %g..%g)\n",
                info.width, info.height, info.bands, hiner_dtype_name(info.dtype),
                info.wavelength_min, info.wavelength_max);
        return 1;
    }
    return 0;
}

/* Decoded bands follow the source: the mean over bands of the PSNR over each band's own
 * range must pass a floor; a wavelength between two bands decodes too. */
static int check_decode(hiner_model *m)
{
    static uint16_t dec[H * W];
    double psnr_sum = 0;
    for (int b = 0; b < C; b++) {
        int st = hiner_model_decode_band_as(m, (uint32_t)b, HINER_UINT16, dec);
        if (st != HINER_OK) return fail("hiner_model_decode_band_as", st);
        const uint16_t *ref = cube_data + (size_t)b * H * W;
        double mn = 65535, mx = 0, se = 0;
        for (int i = 0; i < H * W; i++) mn = fmin(mn, ref[i]), mx = fmax(mx, ref[i]);
        for (int i = 0; i < H * W; i++) {
            double e = ((double)dec[i] - ref[i]) / (mx - mn);
            se += e * e;
        }
        psnr_sum += -10 * log10(fmax(se / (H * W), 1e-12));
    }
    const double psnr = psnr_sum / C;
    static float at[H * W];
    int st = hiner_model_decode_wavelength(m, 612.5, at);
    if (st != HINER_OK) return fail("hiner_model_decode_wavelength(612.5)", st);
    printf("decoded: mean PSNR %.2f dB; 612.5 nm interpolated, first pixel %.1f\n", psnr, at[0]);
    if (!(psnr > 20.0)) {
        fprintf(stderr, "consumer: PSNR %.2f dB is below the 20 dB floor\n", psnr);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer OUT.hiner\n");
        return 2;
    }
    if (check_version()) return 1;
    void *buf = NULL;
    size_t size = 0;
    if (encode(&buf, &size)) return 1;
    hiner_model *m = NULL;
    int st = hiner_open_mem(buf, size, &m);
    if (st != HINER_OK) return fail("hiner_open_mem", st);
    int bad = check_info(m) || check_decode(m);
    hiner_model_free(m);
    if (bad) return 1;

    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "consumer: cannot write %s\n", argv[1]);
        return 1;
    }
    hiner_free(buf);
    printf("wrote %s\n", argv[1]);
    return 0;
}
