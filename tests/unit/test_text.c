/*
 * test_text.c - the metadata text coder: exact round trips on realistic GDAL metadata
 * (per-band records, column layout, WKT), the sizes they reach, that decoding stops exactly
 * at the end of its data, and that truncated, bit-flipped or oversized streams fail cleanly
 * (run under ASan in CI). The validity-mask coder has test_mask.c.
 */
#include <stdarg.h>
#include <string.h>

#include "../../core/codec/codec.h"
#include "../check.h"

/* ---- a growable byte string for building samples ---- */
typedef struct sbuf {
    uint8_t *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *s, const void *d, size_t n)
{
    if (s->n + n > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->n + n) cap *= 2;
        uint8_t *q = realloc(s->p, cap);
        if (!q) abort();
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->n, d, n);
    s->n += n;
}

/* A printf-formatted record followed by its NUL separator. */
static void sb_rec(sbuf *s, const char *fmt, ...)
{
    char t[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (k < 0 || k >= (int)sizeof t) abort();
    sb_put(s, t, (size_t)k + 1);
}

/* GDAL prints floats with %.15g; sensors' header values are short decimals like these. */
static void fmt_trim(char *t, size_t cap, double v, int decimals)
{
    snprintf(t, cap, "%.*f", decimals, v);
    char *dot = strchr(t, '.');
    if (!dot) return;
    char *e = t + strlen(t) - 1;
    while (e > dot && *e == '0') *e-- = 0;
    if (e == dot) *e = 0;
}

enum { NB = 224 };

/* An AVIRIS-like 224-band sensor: four spectrometers with slightly different dispersion. */
static void sensor(hn_rng *r, double *wl, double *fw, int *bbl)
{
    for (int i = 0; i < NB; i++) {
        int sp = i < 32 ? 0 : i < 96 ? 1 : i < 160 ? 2 : 3;
        double base[4] = {365.93, 662.35, 1263.34, 1872.61}, step[4] = {9.59, 9.45, 9.87, 9.93};
        int first[4] = {0, 32, 96, 160};
        wl[i] = base[sp] + step[sp] * (i - first[sp]) + 0.0006 * (i - first[sp]) * (i - first[sp]) +
                0.02 * (hn_rng_uniform(r) - 0.5);
        fw[i] = 8.1 + 0.012 * i + 1.4 * (sp == 0) + 0.4 * (hn_rng_uniform(r) - 0.5);
        bbl[i] =
            !((wl[i] > 1340 && wl[i] < 1450) || (wl[i] > 1790 && wl[i] < 1960) || wl[i] > 2480);
    }
}

static const char WKT[] =
    "PROJCRS[\"WGS 84 / UTM zone 11N\",\n"
    "    BASEGEOGCRS[\"WGS 84\",\n"
    "        ENSEMBLE[\"World Geodetic System 1984 ensemble\",\n"
    "            MEMBER[\"World Geodetic System 1984 (Transit)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G730)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G873)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G1150)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G1674)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G1762)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G2139)\"],\n"
    "            ELLIPSOID[\"WGS 84\",6378137,298.257223563,\n"
    "                LENGTHUNIT[\"metre\",1]],\n"
    "            ENSEMBLEACCURACY[2.0]],\n"
    "        PRIMEM[\"Greenwich\",0,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433]],\n"
    "        ID[\"EPSG\",4326]],\n"
    "    CONVERSION[\"UTM zone 11N\",\n"
    "        METHOD[\"Transverse Mercator\",\n"
    "            ID[\"EPSG\",9807]],\n"
    "        PARAMETER[\"Latitude of natural origin\",0,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433],\n"
    "            ID[\"EPSG\",8801]],\n"
    "        PARAMETER[\"Longitude of natural origin\",-117,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433],\n"
    "            ID[\"EPSG\",8802]],\n"
    "        PARAMETER[\"Scale factor at natural origin\",0.9996,\n"
    "            SCALEUNIT[\"unity\",1],\n"
    "            ID[\"EPSG\",8805]],\n"
    "        PARAMETER[\"False easting\",500000,\n"
    "            LENGTHUNIT[\"metre\",1],\n"
    "            ID[\"EPSG\",8806]],\n"
    "        PARAMETER[\"False northing\",0,\n"
    "            LENGTHUNIT[\"metre\",1],\n"
    "            ID[\"EPSG\",8807]]],\n"
    "    CS[Cartesian,2],\n"
    "        AXIS[\"(E)\",east,\n"
    "            ORDER[1],\n"
    "            LENGTHUNIT[\"metre\",1]],\n"
    "        AXIS[\"(N)\",north,\n"
    "            ORDER[2],\n"
    "            LENGTHUNIT[\"metre\",1]],\n"
    "    USAGE[\n"
    "        SCOPE[\"Navigation and medium accuracy spatial referencing.\"],\n"
    "        AREA[\"Between 120°W and 114°W, northern hemisphere between equator and 84°N, "
    "onshore and offshore. Canada - Alberta; British Columbia (BC); Northwest Territories "
    "(NWT); Nunavut. Mexico. United States (USA).\"],\n"
    "        BBOX[0,-120,84,-114]],\n"
    "    ID[\"EPSG\",32611]]";

/* Not WGS 84: the coder's built-in WKT phrases help less here. */
static const char WKT_LAEA[] =
    "PROJCRS[\"ETRS89-extended / LAEA Europe\",\n"
    "    BASEGEOGCRS[\"ETRS89\",\n"
    "        ENSEMBLE[\"European Terrestrial Reference System 1989 ensemble\",\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1989\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1990\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1991\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1992\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1993\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1994\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1996\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 1997\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 2000\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 2005\"],\n"
    "            MEMBER[\"European Terrestrial Reference Frame 2014\"],\n"
    "            ELLIPSOID[\"GRS 1980\",6378137,298.257222101,\n"
    "                LENGTHUNIT[\"metre\",1]],\n"
    "            ENSEMBLEACCURACY[0.1]],\n"
    "        PRIMEM[\"Greenwich\",0,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433]],\n"
    "        ID[\"EPSG\",4258]],\n"
    "    CONVERSION[\"Europe Equal Area 2001\",\n"
    "        METHOD[\"Lambert Azimuthal Equal Area\",\n"
    "            ID[\"EPSG\",9820]],\n"
    "        PARAMETER[\"Latitude of natural origin\",52,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433],\n"
    "            ID[\"EPSG\",8801]],\n"
    "        PARAMETER[\"Longitude of natural origin\",10,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433],\n"
    "            ID[\"EPSG\",8802]],\n"
    "        PARAMETER[\"False easting\",4321000,\n"
    "            LENGTHUNIT[\"metre\",1],\n"
    "            ID[\"EPSG\",8806]],\n"
    "        PARAMETER[\"False northing\",3210000,\n"
    "            LENGTHUNIT[\"metre\",1],\n"
    "            ID[\"EPSG\",8807]]],\n"
    "    CS[Cartesian,2],\n"
    "        AXIS[\"northing (Y)\",north,\n"
    "            ORDER[1],\n"
    "            LENGTHUNIT[\"metre\",1]],\n"
    "        AXIS[\"easting (X)\",east,\n"
    "            ORDER[2],\n"
    "            LENGTHUNIT[\"metre\",1]],\n"
    "    USAGE[\n"
    "        SCOPE[\"Statistical analysis.\"],\n"
    "        AREA[\"Europe - European Union (EU) countries and candidates. Europe - onshore and "
    "offshore: Albania; Andorra; Austria; Belgium; Bosnia and Herzegovina; Bulgaria; Croatia; "
    "Cyprus; Czechia; Denmark; Estonia; Faroe Islands; Finland; France; Germany; Gibraltar; "
    "Greece; Hungary; Iceland; Ireland; Italy; Kosovo; Latvia; Liechtenstein; Lithuania; "
    "Luxembourg; Malta; Monaco; Montenegro; Netherlands; North Macedonia; Norway including "
    "Svalbard and Jan Mayen; Poland; Portugal including Madeira and Azores; Romania; San "
    "Marino; Serbia; Slovakia; Slovenia; Spain including Canary Islands; Sweden; Switzerland; "
    "Turkey; United Kingdom (UK) including Channel Islands and Isle of Man; Vatican City "
    "State.\"],\n"
    "        BBOX[24.6,-35.58,84.73,44.83]],\n"
    "    ID[\"EPSG\",3035]]";

/* ---- text ---- */

static size_t text_total_in, text_total_out;

/* Round trip with a sentinel byte after the stream; returns the coded size. */
static size_t text_rt(const char *what, const uint8_t *data, size_t n)
{
    hn_buf b;
    hn_buf_init(&b);
    hiner_status st = hn_text_encode(&b, data, n);
    CHECK_MSG(st == HINER_OK, "%s: encode %d", what, st);
    size_t coded = b.n;
    hn_buf_u8(&b, 0xA5);
    hn_rd rd;
    hn_rd_init(&rd, b.p, b.n);
    uint8_t *out = NULL;
    size_t m = 0;
    st = hn_text_decode(&rd, &out, &m, n);
    CHECK_MSG(st == HINER_OK, "%s: decode %d", what, st);
    CHECK_MSG(m == n && (n == 0 || memcmp(out, data, n) == 0), "%s: mismatch", what);
    CHECK_MSG(out && out[m] == 0, "%s: no terminator", what);
    CHECK_MSG(rd.p == b.p + coded && hn_rd_u8(&rd) == 0xA5, "%s: stopped at %td of %zu", what,
              rd.p - b.p, coded);
    printf("text %-34s %7zu -> %6zu bytes (%5.1f %%)\n", what, n, coded,
           n ? 100.0 * coded / n : 0.0);
    text_total_in += n;
    text_total_out += coded;
    hn_free(out);
    hn_buf_free(&b);
    return coded;
}

/* Realistic metadata of the 224-band sensor: each key's values for all bands as the
 * container lays them out (one column per key, NUL-separated), and the same as rows. */
typedef struct text_samples {
    sbuf col_wl, col_fw, col_units, col_bbl, col_desc, rows;
} text_samples;

static void text_samples_make(hn_rng *r, text_samples *ts)
{
    double wl[NB], fw[NB];
    int bbl[NB];
    sensor(r, wl, fw, bbl);
    char t[64];
    memset(ts, 0, sizeof *ts);
    for (int i = 0; i < NB; i++) {
        fmt_trim(t, sizeof t, wl[i], 2);
        sb_rec(&ts->col_wl, "%s", t);
        sb_rec(&ts->col_desc, "band %d (%s Nanometers)", i + 1, t);
        sb_rec(&ts->rows, "wavelength=%s", t);
        fmt_trim(t, sizeof t, fw[i], 4);
        sb_rec(&ts->col_fw, "%s", t);
        sb_rec(&ts->rows, "fwhm=%s", t);
        sb_rec(&ts->col_units, "Nanometers");
        sb_rec(&ts->rows, "wavelength_units=Nanometers");
        sb_rec(&ts->col_bbl, "%d", bbl[i]);
        sb_rec(&ts->rows, "bbl=%d", bbl[i]);
        sb_rec(&ts->rows, "band %d (%s Nanometers)", i + 1, t);
    }
}

static void text_samples_free(text_samples *ts)
{
    free(ts->col_wl.p);
    free(ts->col_fw.p);
    free(ts->col_units.p);
    free(ts->col_bbl.p);
    free(ts->col_desc.p);
    free(ts->rows.p);
}

/* exact round trips of metadata, and the sizes columns, WKT and short strings reach */
static void test_text_metadata(const text_samples *ts)
{
    CHECK(text_rt("empty", (const uint8_t *)"", 0) == 1);
    CHECK(text_rt("one byte", (const uint8_t *)"x", 1) <= 7);
    size_t z_wl = text_rt("column: 224 wavelengths", ts->col_wl.p, ts->col_wl.n);
    CHECK_MSG(z_wl * 100 < ts->col_wl.n * 40, "wavelengths %zu of %zu", z_wl, ts->col_wl.n);
    text_rt("column: 224 fwhm", ts->col_fw.p, ts->col_fw.n);
    size_t z_units = text_rt("column: 224 x \"Nanometers\"", ts->col_units.p, ts->col_units.n);
    CHECK_MSG(z_units < 2 * NB, "units %zu", z_units);
    text_rt("column: 224 bbl", ts->col_bbl.p, ts->col_bbl.n);
    text_rt("column: 224 descriptions", ts->col_desc.p, ts->col_desc.n);
    text_rt("rows: 224 x 5 records", ts->rows.p, ts->rows.n);
    size_t z_wkt = text_rt("WKT: WGS 84 / UTM zone 11N", (const uint8_t *)WKT, strlen(WKT));
    CHECK_MSG(z_wkt * 100 < strlen(WKT) * 50, "WKT %zu of %zu", z_wkt, strlen(WKT));
    z_wkt = text_rt("WKT: ETRS89 / LAEA Europe", (const uint8_t *)WKT_LAEA, strlen(WKT_LAEA));
    CHECK_MSG(z_wkt * 100 < strlen(WKT_LAEA) * 50, "WKT %zu of %zu", z_wkt, strlen(WKT_LAEA));

    const char *shorts[] = {"Nanometers",
                            "EPSG:32611",
                            "AVIRIS-NG L2 surface reflectance",
                            "2023-06-14T18:42:07Z",
                            "Area",
                            "Micrometers",
                            "ang20230614t184207_rfl_v2b1 (orthocorrected, 5.1 m GSD)"};
    char t[64];
    for (size_t i = 0; i < sizeof shorts / sizeof *shorts; i++) {
        snprintf(t, sizeof t, "short \"%.24s\"", shorts[i]);
        size_t z = text_rt(t, (const uint8_t *)shorts[i], strlen(shorts[i]));
        CHECK(z <= strlen(shorts[i]) + 7);
    }
}

/* incompressible data must not expand by more than ~1 %; long runs and every byte value */
static void test_text_incompressible(hn_rng *r)
{
    size_t nr = 100000;
    uint8_t *rnd = malloc(nr);
    for (size_t i = 0; i < nr; i++) rnd[i] = (uint8_t)hn_rng_next(r);
    size_t z_rnd = text_rt("100 KB random bytes", rnd, nr);
    CHECK_MSG(z_rnd <= nr + nr / 100, "random %zu", z_rnd);
    uint8_t *run = calloc(20000, 1);
    for (size_t i = 10000; i < 20000; i++) run[i] = (uint8_t)i;
    text_rt("10 KB zeros + 10 KB ramp", run, 20000);
    free(rnd);
    free(run);
}

/* every truncation of a stream fails, with nothing returned; the count of failures */
static size_t test_text_truncations(const sbuf *data)
{
    hn_buf b;
    hn_buf_init(&b);
    CHECK(hn_text_encode(&b, data->p, 300) == HINER_OK);
    size_t fails = 0;
    for (size_t cut = 0; cut < b.n; cut++) {
        /* a copy of exactly `cut` bytes so ASan sees any read past it */
        uint8_t *cp = malloc(cut ? cut : 1);
        memcpy(cp, b.p, cut);
        hn_rd rd;
        hn_rd_init(&rd, cp, cut);
        uint8_t *out = NULL;
        size_t m = 0;
        hiner_status st = hn_text_decode(&rd, &out, &m, 300);
        CHECK_MSG(st != HINER_OK, "truncated to %zu decoded", cut);
        CHECK(out == NULL);
        fails += st != HINER_OK;
        hn_free(out);
        free(cp);
    }
    hn_buf_free(&b);
    return fails;
}

/* random bit flips: a clean failure with nothing returned, or a terminated text within
 * max_n that stayed inside its input */
static void test_text_bit_flips(hn_rng *r, const sbuf *data, size_t fails)
{
    hn_buf b;
    hn_buf_init(&b);
    CHECK(hn_text_encode(&b, data->p, 500) == HINER_OK);
    size_t ok = 0;
    uint8_t *cp = malloc(b.n);
    for (int it = 0; it < 2000; it++) {
        memcpy(cp, b.p, b.n);
        size_t bit = hn_rng_below(r, (uint32_t)(b.n * 8));
        cp[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        hn_rd rd;
        hn_rd_init(&rd, cp, b.n);
        uint8_t *out = NULL;
        size_t m = 0;
        hiner_status st = hn_text_decode(&rd, &out, &m, 1000);
        if (st == HINER_OK) {
            ok++;
            CHECK(out && out[m] == 0 && m <= 1000 && rd.p <= rd.end);
        } else {
            fails++;
            CHECK(out == NULL);
        }
        hn_free(out);
    }
    free(cp);
    hn_buf_free(&b);
    printf("text robustness: %zu clean failures, %zu decodes of flipped streams\n", fails, ok);
}

/* a declared length over max_n fails before allocating; so does one more than the input
 * could ever decode to */
static void test_text_declared_lengths(void)
{
    hn_buf b;
    hn_buf_init(&b);
    hn_buf_uvar(&b, (uint64_t)1 << 60);
    hn_buf_u32(&b, 0);
    hn_rd rd;
    hn_rd_init(&rd, b.p, b.n);
    uint8_t *out = NULL;
    size_t m = 0;
    CHECK(hn_text_decode(&rd, &out, &m, (size_t)1 << 20) == HINER_E_LIMIT && out == NULL);
    hn_rd_init(&rd, b.p, b.n);
    CHECK(hn_text_decode(&rd, &out, &m, SIZE_MAX) == HINER_E_LIMIT && out == NULL);
    hn_buf_free(&b);
    hn_buf_init(&b);
    hn_buf_uvar(&b, 1001);
    hn_rd_init(&rd, b.p, b.n);
    CHECK(hn_text_decode(&rd, &out, &m, 1000) == HINER_E_LIMIT && out == NULL);
    /* within max_n, but more than 16 input bytes could ever decode to */
    hn_buf_free(&b);
    hn_buf_init(&b);
    hn_buf_uvar(&b, 100000000);
    for (int i = 0; i < 4; i++) hn_buf_u32(&b, 0x12345678);
    hn_rd_init(&rd, b.p, b.n);
    CHECK(hn_text_decode(&rd, &out, &m, SIZE_MAX) == HINER_E_TRUNCATED && out == NULL);
    hn_buf_free(&b);
}

/* the same input always gives the same bytes */
static void test_text_deterministic(const sbuf *data)
{
    hn_buf b, b2;
    hn_buf_init(&b);
    hn_buf_init(&b2);
    CHECK(hn_text_encode(&b, data->p, data->n) == HINER_OK);
    CHECK(hn_text_encode(&b2, data->p, data->n) == HINER_OK);
    CHECK(b.n == b2.n && memcmp(b.p, b2.p, b.n) == 0);
    hn_buf_free(&b);
    hn_buf_free(&b2);
}

static void test_text(void)
{
    hn_rng r;
    hn_rng_seed(&r, 42);
    text_samples ts;
    text_samples_make(&r, &ts);
    test_text_metadata(&ts);
    test_text_incompressible(&r);
    printf("text total %zu -> %zu bytes\n", text_total_in, text_total_out);
    size_t fails = test_text_truncations(&ts.col_desc);
    test_text_bit_flips(&r, &ts.rows, fails);
    test_text_declared_lengths();
    test_text_deterministic(&ts.col_wl);
    text_samples_free(&ts);
}

int main(void)
{
    test_text();
    return check_exit();
}
