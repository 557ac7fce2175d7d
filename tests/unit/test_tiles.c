/*
 * test_tiles.c - tiled files (docs/format.md, "Tiles"): round trips of 2 x 2 and 3 x 2 grids
 * with ragged edges, NoData in one tile only, a constant tile and an empty one; windows
 * across tile edges equal to the same window of a whole decode; the rate within 5 %; the
 * same file from 1 and 2 threads and from windows read through the callback; a lazy reader
 * that reads the head and only the tiles a window touches; truncated and corrupted tile
 * indexes refused cleanly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../synth.h"
#include "hiner.h"

#define W 75
#define H 50
#define C 12
#define TW 32
#define TH 24 /* 3 x 3 tiles, the last column 11 wide, the last row 2 high */

static float cube_data[C * H * W];
static double wl[C];

static void make_cube(void)
{
    static double tmp[C * H * W];
    synth_cube(tmp, W, H, C, wl);
    for (size_t i = 0; i < (size_t)C * H * W; i++) cube_data[i] = (float)(1000.0 * tmp[i]);
}

static hiner_cube the_cube(void)
{
    hiner_cube c;
    memset(&c, 0, sizeof c);
    c.width = W, c.height = H, c.bands = C, c.dtype = HINER_FLOAT32, c.data = cube_data;
    c.wavelengths = wl;
    return c;
}

static hiner_params params(int threads)
{
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.bpppb = 4.0;
    p.epochs = 60;
    p.qat_epochs = 2;
    p.threads = threads;
    p.tile_width = TW;
    p.tile_height = TH;
    p.lr = 3e-3f;
    return p;
}

/* Mean per-band PSNR of `dec` against the cube, valid pixels of region (x0,y0,w,h). */
static double psnr_of(const float *dec, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                      const float *nodata)
{
    double sum = 0;
    int n = 0;
    for (int b = 0; b < C; b++) {
        double mn = INFINITY, mx = -INFINITY, se = 0;
        size_t k = 0;
        for (size_t i = 0; i < (size_t)W * H; i++) {
            const float v = cube_data[(size_t)b * W * H + i];
            if (nodata && v == *nodata) continue;
            mn = fmin(mn, v), mx = fmax(mx, v);
        }
        for (uint32_t y = y0; y < y0 + h; y++)
            for (uint32_t x = x0; x < x0 + w; x++) {
                const float v = cube_data[((size_t)b * H + y) * W + x];
                if (nodata && v == *nodata) continue;
                const double d = (dec[((size_t)b * H + y) * W + x] - v) / (mx - mn);
                se += d * d, k++;
            }
        if (k) sum += -10 * log10(se / k + 1e-12), n++;
    }
    return sum / n;
}

static void *encode(const hiner_cube *c, const hiner_params *p, size_t *size)
{
    void *buf = NULL;
    hiner_encode_report rep;
    int st = hiner_encode_mem(c, NULL, p, &buf, size, &rep);
    CHECK_MSG(st == HINER_OK, "encode: %s", hiner_status_str(st));
    if (st == HINER_OK)
        printf("encoded %zu bytes (target %llu, %.4f bpppb), train PSNR %.2f dB\n", *size,
               (unsigned long long)rep.target_bytes, rep.bpppb, rep.psnr_float);
    return buf;
}

static void decode_all(hiner_model *m, float *out)
{
    for (uint32_t b = 0; b < C; b++)
        CHECK(hiner_model_decode_band(m, b, out + (size_t)b * W * H) == HINER_OK);
}

/* Round trip, grid, rate, windows against the whole decode. */
static void test_round_trip(const void *file, size_t size)
{
    hiner_model *m = NULL;
    CHECK(hiner_open_mem(file, size, &m) == HINER_OK);
    if (!m) return;
    hiner_info info;
    hiner_model_info(m, &info);
    CHECK(info.width == W && info.height == H && info.bands == C);
    CHECK(info.tiles_x == 3 && info.tiles_y == 3 && info.tile_width == TW && info.tile_height == TH);
    CHECK(info.format_major == 1 && info.format_minor == 2);
    CHECK(info.has_encoder);
    const double target = 4.0 * W * H * C / 8;
    CHECK_MSG(fabs((double)size - target) <= 0.05 * target, "%zu bytes for %.0f", size, target);
    static float dec[C * H * W];
    decode_all(m, dec);
    const double p = psnr_of(dec, 0, 0, W, H, NULL);
    printf("tiled round trip: %.2f dB\n", p);
    CHECK_MSG(p > 27, "PSNR %.2f", p); /* 60 epochs on 32 x 24 x 12 tiles: ~29.5 dB */
    /* windows across tile edges, typed and at a wavelength */
    static const uint32_t win[][4] = {{30, 20, 10, 10}, {0, 0, 75, 50}, {60, 40, 15, 10},
                                      {31, 23, 2, 2}, {74, 49, 1, 1}};
    for (size_t i = 0; i < sizeof win / sizeof *win; i++) {
        const uint32_t x0 = win[i][0], y0 = win[i][1], w = win[i][2], h = win[i][3];
        static float out[W * H];
        CHECK(hiner_model_decode_window_as(m, x0, y0, w, h, 0, 5, HINER_FLOAT32, out) == HINER_OK);
        int same = 1;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                same &= out[y * w + x] == dec[((size_t)5 * H + y0 + y) * W + x0 + x];
        CHECK_MSG(same, "window %u,%u %ux%u differs from the whole band", x0, y0, w, h);
    }
    /* a tile at a wavelength between two bands lies between them */
    static float a[TW * TH], lo[TW * TH], hi[TW * TH];
    CHECK(hiner_model_decode_tile_as(m, 1, 1, 1, 0.5 * (wl[3] + wl[4]), HINER_FLOAT32, a) ==
          HINER_OK);
    CHECK(hiner_model_decode_tile_as(m, 1, 1, 0, 3, HINER_FLOAT32, lo) == HINER_OK);
    CHECK(hiner_model_decode_tile_as(m, 1, 1, 0, 4, HINER_FLOAT32, hi) == HINER_OK);
    double off_mid = 0, apart = 0;
    for (int i = 0; i < TW * TH; i++) {
        off_mid += fabs(a[i] - 0.5 * (lo[i] + hi[i]));
        apart += fabs(hi[i] - lo[i]);
    }
    CHECK_MSG(off_mid < 0.5 * apart, "the wavelength between bands 3 and 4 is %.1f from their "
              "mean, the bands %.1f apart", off_mid / (TW * TH), apart / (TW * TH));
    CHECK(hiner_model_decode_tile_as(m, 3, 0, 0, 0, HINER_FLOAT32, a) == HINER_E_RANGE);
    CHECK(hiner_model_decode_window_as(m, 70, 0, 6, 1, 0, 0, HINER_FLOAT32, a) == HINER_E_RANGE);
    hiner_model_free(m);
}

/* Threads and windows read through the callback give the same bytes. */
static int read_window(void *user, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, void *out)
{
    int *calls = user;
    ++*calls;
    float *o = out;
    for (uint32_t b = 0; b < C; b++)
        for (uint32_t y = 0; y < h; y++)
            memcpy(o + ((size_t)b * h + y) * w, cube_data + ((size_t)b * H + y0 + y) * W + x0,
                   w * sizeof(float));
    return 0;
}

static void test_deterministic(const void *file, size_t size)
{
    hiner_cube c = the_cube();
    hiner_params p = params(1);
    size_t n1;
    void *f1 = encode(&c, &p, &n1);
    CHECK(f1 && n1 == size && memcmp(f1, file, size) == 0);
    int calls = 0;
    c.data = NULL;
    c.read_window = read_window;
    c.window_user = &calls;
    size_t n2;
    p.threads = 2;
    void *f2 = encode(&c, &p, &n2);
    CHECK(f2 && n2 == size && memcmp(f2, file, size) == 0);
    CHECK_MSG(calls == 18, "%d window reads (9 tiles, twice)", calls);
    hiner_free(f1);
    hiner_free(f2);
}

/* A lazy reader reads the head, then one range per tile touched. */
typedef struct counting {
    const uint8_t *p;
    size_t n, calls, bytes;
} counting;

static int count_read(void *user, uint64_t off, void *buf, size_t n)
{
    counting *c = user;
    if (off > c->n || n > c->n - off) return 1;
    memcpy(buf, c->p + off, n);
    c->calls++;
    c->bytes += n;
    return 0;
}

static void test_lazy(const void *file, size_t size)
{
    counting src = {file, size, 0, 0};
    hiner_reader r = {size, count_read, &src};
    hiner_model *m = NULL;
    CHECK(hiner_open_lazy(&r, &m) == HINER_OK);
    if (!m) return;
    const size_t head_calls = src.calls, head_bytes = src.bytes;
    printf("lazy open: %zu reads, %zu bytes of %zu\n", head_calls, head_bytes, size);
    static float out[16 * 16];
    src.calls = src.bytes = 0;
    CHECK(hiner_model_decode_window_as(m, 36, 28, 16, 16, 0, 0, HINER_FLOAT32, out) == HINER_OK);
    CHECK_MSG(src.calls == 1, "%zu reads for a window inside tile 4", src.calls); /* tile 0 was read at open */
    src.calls = 0;
    CHECK(hiner_model_decode_window_as(m, 36, 28, 16, 16, 0, 1, HINER_FLOAT32, out) == HINER_OK);
    CHECK_MSG(src.calls == 0, "%zu reads for a tile already read", src.calls);
    /* with room for one tile, each of the 9 is read again for the next band */
    hiner_model_set_tile_cache(m, 1);
    static float all[W * H], again[W * H];
    src.calls = 0;
    CHECK(hiner_model_decode_window_as(m, 0, 0, W, H, 0, 2, HINER_FLOAT32, all) == HINER_OK);
    CHECK(hiner_model_decode_window_as(m, 0, 0, W, H, 0, 2, HINER_FLOAT32, again) == HINER_OK);
    CHECK_MSG(src.calls == 18, "%zu reads for 9 tiles twice", src.calls);
    CHECK(memcmp(all, again, sizeof all) == 0);
    hiner_model_free(m);
}

/* NoData in one tile only, a constant tile, an empty tile. */
static void test_nodata_constant_empty(void)
{
    const float nod = -9999.0f;
    for (int b = 0; b < C; b++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float *v = &cube_data[((size_t)b * H + y) * W + x];
                if (x >= 32 && x < 64 && y < 24 && (x + y) % 7 == 0) *v = nod; /* tile 1 */
                if (x < 32 && y >= 24 && y < 48) *v = 500.0f + b;           /* tile 3: constant */
                if (x >= 64 && y >= 48) *v = nod;                           /* tile 8: empty */
            }
    hiner_cube c = the_cube();
    c.has_nodata = 1;
    c.nodata = nod;
    hiner_params p = params(2);
    p.epochs = 200;
    size_t size;
    void *file = encode(&c, &p, &size);
    hiner_model *m = NULL;
    CHECK(file && hiner_open_mem(file, size, &m) == HINER_OK);
    if (!m) {
        hiner_free(file);
        return;
    }
    hiner_info info;
    hiner_model_info(m, &info);
    CHECK(info.has_mask && info.has_nodata && info.nodata == nod);
    static float dec[C * H * W];
    decode_all(m, dec);
    size_t wrong_nodata = 0;
    double const_err = 0;
    for (int b = 0; b < C; b++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const size_t i = ((size_t)b * H + y) * W + x;
                wrong_nodata += (cube_data[i] == nod) != (dec[i] == nod);
                if (x < 32 && y >= 24 && y < 48) const_err += fabs(dec[i] - cube_data[i]);
            }
    const_err /= (double)C * 32 * 24;
    CHECK_MSG(wrong_nodata == 0, "%zu pixels with the wrong NoData", wrong_nodata);
    printf("constant tile: mean error %.3f (band ranges ~1000)\n", const_err);
    CHECK(const_err < 30.0);
    /* bytes follow detail: the constant tile gets fewer than the busy ones, the empty none */
    hiner_tile_info flat, busy, empty;
    CHECK(hiner_model_tile_info(m, 0, 1, &flat) == HINER_OK);
    CHECK(hiner_model_tile_info(m, 1, 1, &busy) == HINER_OK);
    CHECK(hiner_model_tile_info(m, 2, 2, &empty) == HINER_OK);
    printf("tile bytes: constant %llu, busy %llu, empty %llu\n", (unsigned long long)flat.bytes,
           (unsigned long long)busy.bytes, (unsigned long long)empty.bytes);
    CHECK(flat.bytes > 0 && flat.bytes < busy.bytes && empty.bytes == 0);
    const double ps = psnr_of(dec, 0, 0, W, H, &nod);
    printf("NoData, constant and empty tiles: %.2f dB\n", ps);
    CHECK(ps > 30);
    hiner_model_free(m);
    hiner_free(file);
    make_cube();
}

/* Hostile indexes: every entry, the counts, truncations. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static size_t find_chunk(const uint8_t *p, size_t n, const char *type)
{
    for (size_t pos = 16; pos + 16 <= n;) {
        uint32_t len = p[pos + 8] | p[pos + 9] << 8 | p[pos + 10] << 16 | (uint32_t)p[pos + 11] << 24;
        if (!memcmp(p + pos, type, 4)) return pos;
        pos += 16 + len;
    }
    return 0;
}

static void fix_crc(uint8_t *p, size_t at)
{
    uint32_t len = p[at + 8] | p[at + 9] << 8 | p[at + 10] << 16 | (uint32_t)p[at + 11] << 24;
    uint32_t c = crc32(p + at, 12 + len);
    memcpy(p + at + 12 + len, &c, 4);
}

static int open_and_decode(const uint8_t *p, size_t n)
{
    hiner_model *m = NULL;
    int st = hiner_open_mem(p, n, &m);
    static float out[W * H];
    for (uint32_t b = 0; st == HINER_OK && b < 2; b++) st = hiner_model_decode_band(m, b, out);
    hiner_model_free(m);
    return st;
}

static void test_hostile_index(const uint8_t *file, size_t size)
{
    uint8_t *p = malloc(size);
    const size_t at = find_chunk(file, size, "TIDX");
    CHECK(at > 0);
    const size_t e0 = at + 12 + 8; /* first entry */
    struct {
        const char *what;
        size_t where;
        uint64_t value;
        int bytes, want;
    } cases[] = {
        {"tiles_x 2", at + 12, 2, 4, HINER_E_CORRUPT},
        {"offset past the end", e0, size + 100, 8, HINER_E_CORRUPT},
        {"offset into the head", e0, 20, 8, HINER_E_CORRUPT},
        {"length past the end", e0 + 8, 0x7fffffff, 4, HINER_E_CORRUPT},
        {"an empty entry with an offset", e0 + 12 + 8, 0, 4, HINER_E_CORRUPT},
        {"tile 1 over tile 0", e0 + 12, 0, 8, HINER_E_CORRUPT},
        {"length one short", e0 + 8, 0, 4, HINER_E_CORRUPT},
    };
    const uint64_t off0 = (uint64_t)file[e0] | (uint64_t)file[e0 + 1] << 8 |
                          (uint64_t)file[e0 + 2] << 16 | (uint64_t)file[e0 + 3] << 24;
    const uint32_t len0 = file[e0 + 8] | file[e0 + 9] << 8 | file[e0 + 10] << 16 |
                          (uint32_t)file[e0 + 11] << 24;
    cases[5].value = off0 + 10; /* inside tile 0's run */
    cases[6].value = len0 - 1;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(p, file, size);
        for (int k = 0; k < cases[i].bytes; k++)
            p[cases[i].where + k] = (uint8_t)(cases[i].value >> (8 * k));
        fix_crc(p, at);
        int st = open_and_decode(p, size);
        printf("%-32s %s\n", cases[i].what, hiner_status_str(st));
        CHECK_MSG(st == cases[i].want || (i >= 5 && st != HINER_OK), "%s: %s", cases[i].what,
                  hiner_status_str(st));
    }
    /* every truncation and a flipped byte in every 97th: an error, never a crash */
    size_t ok = 0;
    for (size_t n = 0; n < size; n += 1 + size / 300) ok += open_and_decode(file, n) == HINER_OK;
    CHECK_MSG(ok == 0, "%zu truncations opened", ok);
    size_t flips = 0, caught = 0;
    for (size_t i = 0; i < size; i += 97) {
        memcpy(p, file, size);
        p[i] ^= 0x5a;
        flips++;
        caught += open_and_decode(p, size) != HINER_OK;
    }
    printf("flipped bytes: %zu of %zu refused\n", caught, flips);
    CHECK(caught == flips);
    free(p);
}

/* A 100,000 x 100,000 scene is accepted: the encode reads tile windows (the statistics of
 * the first are taken) and stops when cancelled, with little memory. */
static int cancel_at_first(double frac, const char *msg, void *user)
{
    (void)frac, (void)msg;
    return ++*(int *)user < 2;
}

static int constant_window(void *user, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                           void *out)
{
    (void)x0, (void)y0;
    ++*(int *)user;
    uint16_t *o = out;
    for (size_t i = 0; i < (size_t)2 * w * h; i++) o[i] = (uint16_t)(i % 977);
    return 0;
}

static void test_huge_scene_accepted(void)
{
    hiner_cube c;
    memset(&c, 0, sizeof c);
    int reads = 0, calls = 0;
    c.width = c.height = 100000, c.bands = 2, c.dtype = HINER_UINT16;
    c.read_window = constant_window;
    c.window_user = &reads;
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.threads = 1;
    p.progress = cancel_at_first;
    p.progress_user = &calls;
    void *buf = NULL;
    size_t n = 0;
    const int st = hiner_encode_mem(&c, NULL, &p, &buf, &n, NULL);
    printf("100000 x 100000 x 2: %s after %d window reads\n", hiner_status_str(st), reads);
    CHECK(st == HINER_E_ABORTED && buf == NULL && reads >= 1 && reads <= 3);
    uint64_t need = 0;
    CHECK(hiner_min_size(&c, NULL, &p, &need) == HINER_OK && need > 0);
    c.width = (uint32_t)INT32_MAX + 1u; /* past the format's side */
    CHECK(hiner_encode_mem(&c, NULL, &p, &buf, &n, NULL) == HINER_E_LIMIT);
}

int main(void)
{
    make_cube();
    hiner_cube c = the_cube();
    hiner_params p = params(2);
    size_t size = 0;
    void *file = encode(&c, &p, &size);
    if (!file) return check_exit();
    test_round_trip(file, size);
    test_deterministic(file, size);
    test_lazy(file, size);
    test_hostile_index(file, size);
    hiner_free(file);
    test_nodata_constant_empty();
    test_huge_scene_accepted();
    return check_exit();
}
