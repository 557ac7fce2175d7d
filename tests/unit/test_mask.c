/*
 * test_mask.c - the validity-mask coder: exact round trips on NoData masks (scene
 * footprints, band-varying edges, random pixels and shapes), the sizes they reach, that
 * decoding stops exactly at the end of its data, and that truncated, bit-flipped or
 * oversized streams fail cleanly (run under ASan in CI).
 */
#include <string.h>

#include "../../core/codec/codec.h"
#include "../check.h"

enum { NB = 224 }; /* bands of an AVIRIS-like sensor */

static size_t mask_rt(const char *what, const uint8_t *mask, size_t W, size_t H, size_t C)
{
    hn_buf b;
    hn_buf_init(&b);
    hiner_status st = hn_mask_encode(&b, mask, W, H, C);
    CHECK_MSG(st == HINER_OK, "%s: encode %d", what, st);
    size_t coded = b.n;
    hn_buf_u8(&b, 0x5A);
    size_t total = W * H * C;
    uint8_t *dec = malloc(total ? total : 1);
    memset(dec, 0xEE, total);
    hn_rd rd;
    hn_rd_init(&rd, b.p, b.n);
    st = hn_mask_decode(&rd, dec, W, H, C);
    CHECK_MSG(st == HINER_OK, "%s: decode %d", what, st);
    size_t bad = 0;
    for (size_t i = 0; i < total; i++) bad += dec[i] != (mask[i] != 0);
    CHECK_MSG(bad == 0, "%s: %zu pixels differ", what, bad);
    CHECK_MSG(rd.p == b.p + coded && hn_rd_u8(&rd) == 0x5A, "%s: stopped at %td of %zu", what,
              rd.p - b.p, coded);
    printf("mask %-40s %4zux%-4zux%-3zu -> %6zu bytes (%.4f bits/pixel)\n", what, W, H, C, coded,
           total ? 8.0 * coded / total : 0.0);
    free(dec);
    hn_buf_free(&b);
    return coded;
}

/* A scene footprint: valid inside a rotated, wobbly swath, NoData outside and in two
 * cloud-shadow holes: about 40 % invalid. */
static void footprint(uint8_t *m, size_t W, size_t H)
{
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            double u = (double)x / W - 0.5, v = (double)y / H - 0.5;
            double a = 0.8 * u + 0.6 * v, bb = -0.6 * u + 0.8 * v;
            int in = fabs(a + 0.03 * sin(14 * bb)) < 0.33 && fabs(bb) < 0.46;
            double h1 = (u - 0.1) * (u - 0.1) + (v + 0.15) * (v + 0.15);
            double h2 = (u + 0.05) * (u + 0.05) + (v - 0.2) * (v - 0.2);
            if (h1 < 0.006 || h2 < 0.003) in = 0;
            m[y * W + x] = in ? (uint8_t)(1 + (x * 7 + y) % 200) : 0; /* any nonzero is valid */
        }
}

/* the smallest masks, and uniform ones, which cost a few bytes */
static void test_mask_trivial(void)
{
    uint8_t one = 1, zero = 0;
    mask_rt("1x1x1 valid", &one, 1, 1, 1);
    mask_rt("1x1x1 invalid", &zero, 1, 1, 1);
    CHECK(mask_rt("empty (W=0)", &one, 0, 5, 3) == 0);

    size_t W = 256, H = 192, C = NB, plane = W * H;
    uint8_t *m = malloc(plane * C);
    memset(m, 1, plane * C);
    CHECK(mask_rt("all valid", m, W, H, C) <= 16);
    memset(m, 0, plane * C);
    CHECK(mask_rt("all invalid", m, W, H, C) <= 16);
    free(m);
}

/* a footprint the same in every band costs about what it costs in one band, also when
 * NoData appears after some all-valid bands */
static void test_mask_footprint(void)
{
    size_t W = 256, H = 192, C = NB, plane = W * H;
    uint8_t *m = malloc(plane * C);
    footprint(m, W, H);
    size_t invalid = 0;
    for (size_t i = 0; i < plane; i++) invalid += m[i] == 0;
    size_t z1 = mask_rt("footprint, 1 band", m, W, H, 1);
    for (size_t c = 1; c < C; c++) memcpy(m + c * plane, m, plane);
    size_t zc = mask_rt("footprint, same in all bands", m, W, H, C);
    printf("     (footprint %.1f %% invalid; %zu more bytes for %zu more bands)\n",
           100.0 * invalid / plane, zc - z1, C - 1);
    CHECK(zc <= z1 + 8);

    memset(m, 1, 4 * plane);
    for (size_t c = 4; c < 8; c++) footprint(m + c * plane, W, H);
    size_t z4 = mask_rt("4 valid bands, then the footprint", m, W, H, 8);
    CHECK(z4 <= z1 + 8);
    free(m);
}

/* masks that vary over the bands round-trip exactly */
static void test_mask_band_varying(hn_rng *r)
{
    size_t W = 256, H = 192, plane = W * H;
    uint8_t *m = malloc(plane * 32);
    /* the swath edge shifts with wavelength (keystone) and a few bands have extra dead
     * detector columns */
    for (size_t c = 0; c < 32; c++) {
        uint8_t *p = m + c * plane;
        footprint(p, W, H);
        size_t shift = c / 6;
        for (size_t y = 0; y < H; y++) {
            memmove(p + y * W + shift, p + y * W, W - shift);
            memset(p + y * W, 0, shift);
            if (c % 9 == 4) p[y * W + 100 + c] = 0;
        }
    }
    mask_rt("footprint, varying over 32 bands", m, W, H, 32);

    /* isolated NaN pixels over the footprint */
    footprint(m, W, H);
    for (int i = 0; i < 300; i++) m[hn_rng_below(r, (uint32_t)plane)] = 0;
    for (size_t c = 1; c < 8; c++) {
        memcpy(m + c * plane, m, plane);
        for (int i = 0; i < 40; i++) m[c * plane + hn_rng_below(r, (uint32_t)plane)] = 0;
    }
    mask_rt("footprint + random NaN pixels, 8 bands", m, W, H, 8);
    free(m);
}

/* random masks of several densities and odd shapes */
static void test_mask_random(hn_rng *r)
{
    static uint8_t m[64 * 64 * 2];
    const double dens[] = {0.5, 0.02, 0.98};
    size_t dims[][3] = {{1, 1, 7}, {13, 1, 2}, {1, 17, 3}, {37, 23, 4}, {64, 64, 2}};
    for (size_t d = 0; d < 3; d++)
        for (size_t k = 0; k < sizeof dims / sizeof *dims; k++) {
            size_t n = dims[k][0] * dims[k][1] * dims[k][2];
            for (size_t i = 0; i < n; i++) m[i] = hn_rng_uniform(r) < dens[d];
            char t[64];
            snprintf(t, sizeof t, "random, %.0f %% valid", 100 * dens[d]);
            mask_rt(t, m, dims[k][0], dims[k][1], dims[k][2]);
        }
}

/* every truncation fails; a bit-flipped stream fails or decodes to 0/1 inside its input;
 * sizes whose product overflows are refused */
static void test_mask_robustness(hn_rng *r)
{
    size_t rw = 40, rh = 30, rc = 3, rn = rw * rh * rc;
    uint8_t *m = malloc(rn);
    footprint(m, rw, rh);
    for (size_t i = 0; i < rn; i++)
        if (i >= rw * rh) m[i] = hn_rng_uniform(r) < 0.7;
    hn_buf b;
    hn_buf_init(&b);
    CHECK(hn_mask_encode(&b, m, rw, rh, rc) == HINER_OK);
    uint8_t *dec = malloc(rn);
    size_t fails = 0, ok = 0;
    for (size_t cut = 0; cut < b.n; cut++) {
        uint8_t *cp = malloc(cut ? cut : 1);
        memcpy(cp, b.p, cut);
        hn_rd rd;
        hn_rd_init(&rd, cp, cut);
        hiner_status st = hn_mask_decode(&rd, dec, rw, rh, rc);
        CHECK_MSG(st != HINER_OK, "mask truncated to %zu decoded", cut);
        fails += st != HINER_OK;
        free(cp);
    }
    uint8_t *cp = malloc(b.n);
    for (int it = 0; it < 2000; it++) {
        memcpy(cp, b.p, b.n);
        size_t bit = hn_rng_below(r, (uint32_t)(b.n * 8));
        cp[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        hn_rd rd;
        hn_rd_init(&rd, cp, b.n);
        hiner_status st = hn_mask_decode(&rd, dec, rw, rh, rc);
        if (st == HINER_OK) {
            ok++;
            for (size_t i = 0; i < rn; i++) CHECK(dec[i] <= 1);
            CHECK(rd.p <= rd.end);
        } else {
            fails++;
        }
    }
    printf("mask robustness: %zu clean failures, %zu decodes of flipped streams\n", fails, ok);
    free(cp);
    hn_buf_free(&b);

    hn_buf_init(&b);
    CHECK(hn_mask_encode(&b, m, SIZE_MAX / 2, 3, 1) != HINER_OK);
    hn_buf_free(&b);
    hn_rd rd;
    hn_rd_init(&rd, m, 16);
    CHECK(hn_mask_decode(&rd, dec, (size_t)1 << 40, (size_t)1 << 30, 2) != HINER_OK);
    free(dec);
    free(m);
}

static void test_mask(void)
{
    hn_rng r;
    hn_rng_seed(&r, 7);
    test_mask_trivial();
    test_mask_footprint();
    test_mask_band_varying(&r);
    test_mask_random(&r);
    test_mask_robustness(&r);
}

int main(void)
{
    test_mask();
    return check_exit();
}
