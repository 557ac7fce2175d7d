/*
 * test_entropy.c - the weight entropy coders (Huffman and adaptive arithmetic): exact round
 * trips over mixed segment lists and every edge (1- and 16-bit symbols, constant data, empty
 * segments and lists), sizes near the order-0 entropy, decoding that stops exactly at the
 * stream's end, and truncated, bit-flipped and random streams that fail cleanly; and the
 * weight quantizer's modes: restored values within half a step, and the mode picked once
 * side information is counted.
 */
#include <math.h>
#include <string.h>

#include "../../core/codec/codec.h"
#include "../../core/codec/quant.h"
#include "../check.h"

static const int methods[2] = {HN_ENTROPY_HUFFMAN, HN_ENTROPY_ARITH};
static const char *const method_name[2] = {"huffman", "arith"};

/* A rounded, clipped Gaussian: min/max-quantized weights look like this. */
static void fill_gauss(uint16_t *s, size_t n, int bits, double mean, double std, hn_rng *r)
{
    double hi = (double)((1u << bits) - 1);
    for (size_t i = 0; i < n; i++) {
        double v = floor(mean + std * hn_rng_normal(r) + 0.5);
        s[i] = (uint16_t)(v < 0 ? 0 : v > hi ? hi : v);
    }
}

/* One-sided and heavy near 0 (|w| of a peaked distribution), 8 bits. */
static void fill_skewed(uint16_t *s, size_t n, hn_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        double v = floor(-25.0 * log(1.0 - hn_rng_uniform(r)));
        s[i] = (uint16_t)(v > 255 ? 255 : v);
    }
}

static void fill_bimodal(uint16_t *s, size_t n, hn_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        double mean = hn_rng_below(r, 2) ? 70.0 : 190.0;
        double v = floor(mean + 18.0 * hn_rng_normal(r) + 0.5);
        s[i] = (uint16_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

/* Order-0 entropy in bits per symbol. */
static double entropy_bps(const uint16_t *s, size_t n, int bits)
{
    size_t A = (size_t)1 << bits;
    double *c = calloc(A, sizeof *c), h = 0;
    for (size_t i = 0; i < n; i++) c[s[i]]++;
    for (size_t a = 0; a < A; a++)
        if (c[a]) h -= c[a] / (double)n * log2(c[a] / (double)n);
    free(c);
    return h;
}

/* Segments with fresh sym arrays (freed by free_segs). */
static hn_sym_seg *alloc_segs(size_t nseg, const size_t *n, const int *bits, const int *ctx)
{
    hn_sym_seg *s = calloc(nseg ? nseg : 1, sizeof *s);
    for (size_t i = 0; i < nseg; i++) {
        s[i].n = n[i];
        s[i].bits = bits[i];
        s[i].ctx = ctx ? ctx[i] : 0;
        s[i].sym = calloc(n[i] ? n[i] : 1, sizeof *s[i].sym);
    }
    return s;
}

static void free_segs(hn_sym_seg *s, size_t nseg)
{
    for (size_t i = 0; i < nseg; i++) free(s[i].sym);
    free(s);
}

/* Encodes after a prefix byte, appends a sentinel, decodes into fresh arrays and checks the
 * symbols and that the cursor stops exactly at the sentinel. Returns the encoded size. */
static size_t roundtrip(const char *what, const hn_sym_seg *segs, size_t nseg, int mi)
{
    hn_buf b;
    hn_buf_init(&b);
    hn_buf_u8(&b, 0x5A);
    hiner_status st = hn_entropy_encode(&b, segs, nseg, methods[mi]);
    CHECK_MSG(st == HINER_OK, "%s %s: encode %d", what, method_name[mi], st);
    size_t len = b.n - 1;
    hn_buf_u8(&b, 0xA5);

    hn_sym_seg *dec = calloc(nseg ? nseg : 1, sizeof *dec);
    for (size_t i = 0; i < nseg; i++) {
        dec[i] = segs[i];
        dec[i].sym = malloc((segs[i].n ? segs[i].n : 1) * sizeof *dec[i].sym);
        memset(dec[i].sym, 0xEE, (segs[i].n ? segs[i].n : 1) * sizeof *dec[i].sym);
    }
    hn_rd rd;
    hn_rd_init(&rd, b.p + 1, b.n - 1);
    st = hn_entropy_decode(&rd, dec, nseg, methods[mi]);
    CHECK_MSG(st == HINER_OK, "%s %s: decode %d", what, method_name[mi], st);
    CHECK_MSG(rd.p == b.p + 1 + len, "%s %s: consumed %zu of %zu", what, method_name[mi],
              (size_t)(rd.p - b.p - 1), len);
    CHECK(hn_rd_u8(&rd) == 0xA5);
    size_t bad = 0;
    for (size_t i = 0; i < nseg; i++)
        for (size_t j = 0; j < segs[i].n; j++) bad += dec[i].sym[j] != segs[i].sym[j];
    CHECK_MSG(bad == 0, "%s %s: %zu symbols differ", what, method_name[mi], bad);
    for (size_t i = 0; i < nseg; i++) free(dec[i].sym);
    free(dec);
    hn_buf_free(&b);
    return len;
}

static void roundtrip_both(const char *what, const hn_sym_seg *segs, size_t nseg, size_t *bytes)
{
    for (int mi = 0; mi < 2; mi++) {
        size_t n = roundtrip(what, segs, nseg, mi);
        if (bytes) bytes[mi] = n;
    }
}

static void test_mixed(hn_rng *r)
{
    enum { NS = 9 };
    size_t n[NS] = {12, 100, 1000, 5000, 30000, 12, 700, 2000, 300};
    int bits[NS] = {8, 8, 8, 8, 8, 8, 5, 12, 8};
    int ctx[NS] = {0, 1, 2, 1, 3, 0, 4, 5, 15};
    hn_sym_seg *s = alloc_segs(NS, n, bits, ctx);
    for (int i = 0; i < NS; i++) {
        double full = (double)((1u << bits[i]) - 1);
        fill_gauss(s[i].sym, n[i], bits[i], full * (0.3 + 0.05 * i), full / 7, r);
    }
    size_t bytes[2];
    roundtrip_both("mixed", s, NS, bytes);
    printf("mixed 8-bit/5/12 segments: huffman %zu B, arith %zu B\n", bytes[0], bytes[1]);
    free_segs(s, NS);
}

static void test_bits(hn_rng *r)
{
    static const int bl[] = {1, 2, 5, 12, 16};
    for (size_t k = 0; k < sizeof bl / sizeof *bl; k++) {
        /* one Gaussian segment, one uniform one, one tiny one, all of these bits */
        size_t n[3] = {4000, 3000, 7};
        int bits[3] = {bl[k], bl[k], bl[k]}, ctx[3] = {0, 1, 0};
        hn_sym_seg *s = alloc_segs(3, n, bits, ctx);
        double full = (double)((1u << bl[k]) - 1);
        fill_gauss(s[0].sym, n[0], bl[k], full / 2, full / 7 + 0.3, r);
        for (size_t j = 0; j < n[1]; j++) s[1].sym[j] = (uint16_t)hn_rng_below(r, 1u << bl[k]);
        fill_gauss(s[2].sym, n[2], bl[k], full / 3, full / 5, r);
        char what[32];
        snprintf(what, sizeof what, "bits=%d", bl[k]);
        roundtrip_both(what, s, 3, NULL);
        free_segs(s, 3);
    }
}

static void test_edges(void)
{
    size_t bytes[2];
    /* a constant tensor: Huffman spends no bits per symbol; the adaptive coder pays for
     * learning and its probability floor, well under 1 % of the raw size */
    {
        size_t n[2] = {10000, 5};
        int bits[2] = {8, 16};
        hn_sym_seg *s = alloc_segs(2, n, bits, NULL);
        for (size_t j = 0; j < n[0]; j++) s[0].sym[j] = 77;
        for (size_t j = 0; j < n[1]; j++) s[1].sym[j] = 65535;
        roundtrip_both("constant", s, 2, bytes);
        CHECK_MSG(bytes[0] <= 16 && bytes[1] <= 100, "constant: %zu %zu B", bytes[0], bytes[1]);
        free_segs(s, 2);
    }
    /* empty segments between full ones, and lists with nothing to code at all */
    {
        size_t n[5] = {0, 50, 0, 0, 3};
        int bits[5] = {8, 8, 16, 3, 3};
        hn_sym_seg *s = alloc_segs(5, n, bits, NULL);
        for (size_t j = 0; j < 50; j++) s[1].sym[j] = (uint16_t)(j * 5);
        for (size_t j = 0; j < 3; j++) s[4].sym[j] = (uint16_t)j;
        roundtrip_both("n=0 segments", s, 5, NULL);
        s[1].n = s[4].n = 0;
        roundtrip_both("all n=0", s, 5, bytes);
        CHECK(bytes[0] == 0 && bytes[1] == 0);
        free_segs(s, 5);
        roundtrip_both("no segments", NULL, 0, bytes);
        CHECK(bytes[0] == 0 && bytes[1] == 0);
    }
    /* the largest symbol of every width, alone and next to 0 */
    {
        size_t n[32];
        int bits[32], ctx[32];
        for (int i = 0; i < 32; i++) {
            n[i] = i < 16 ? 1 : 4;
            bits[i] = 1 + i % 16;
            ctx[i] = i % 16;
        }
        hn_sym_seg *s = alloc_segs(32, n, bits, ctx);
        for (int i = 0; i < 32; i++)
            for (size_t j = 0; j < n[i]; j++)
                s[i].sym[j] = (uint16_t)(j % 2 ? 0 : (1u << bits[i]) - 1);
        roundtrip_both("max symbol", s, 32, NULL);
        free_segs(s, 32);
    }
}

/* Fibonacci counts make the deepest possible Huffman tree (depth 24 for 25 symbols), past
 * the length limit; a dense 16-bit Gaussian uses most of its 65536 symbols. */
static void test_long_codes(hn_rng *r)
{
    size_t n[2] = {0, 150000};
    int bits[2] = {8, 16};
    for (uint32_t a = 1, b = 1, k = 0; k < 25; k++, b += a, a = b - a) n[0] += a;
    hn_sym_seg *s = alloc_segs(2, n, bits, NULL);
    size_t j = 0;
    for (uint32_t a = 1, b = 1, k = 0; k < 25; k++, b += a, a = b - a)
        for (uint32_t t = 0; t < a; t++) s[0].sym[j++] = (uint16_t)(3 * k);
    for (size_t i = n[0]; i-- > 1;) { /* shuffle */
        size_t o = hn_rng_below(r, (uint32_t)i + 1);
        uint16_t t = s[0].sym[i];
        s[0].sym[i] = s[0].sym[o];
        s[0].sym[o] = t;
    }
    fill_gauss(s[1].sym, n[1], 16, 30000, 9000, r);
    size_t bytes[2];
    roundtrip_both("length limit", s, 1, bytes);
    double h = entropy_bps(s[0].sym, n[0], 8);
    printf("fibonacci counts      n=%zu  entropy %.4f  huffman %.4f  arith %.4f bits/sym\n", n[0],
           h, bytes[0] * 8.0 / n[0], bytes[1] * 8.0 / n[0]);
    CHECK(bytes[0] * 8.0 < 1.05 * h * n[0]);
    roundtrip_both("dense 16-bit", s + 1, 1, bytes);
    h = entropy_bps(s[1].sym, n[1], 16);
    printf("16-bit std 9000       n=%zu  entropy %.4f  huffman %.4f  arith %.4f bits/sym\n", n[1],
           h, bytes[0] * 8.0 / n[1], bytes[1] * 8.0 / n[1]);
    free_segs(s, 2);
}

static void test_many(hn_rng *r)
{
    enum { NS = 3000 };
    size_t *n = malloc(NS * sizeof *n);
    int *bits = malloc(NS * sizeof *bits), *ctx = malloc(NS * sizeof *ctx);
    for (int i = 0; i < NS; i++) {
        n[i] = hn_rng_below(r, 60);
        bits[i] = 1 + (int)hn_rng_below(r, 16);
        ctx[i] = (int)hn_rng_below(r, 16);
    }
    hn_sym_seg *s = alloc_segs(NS, n, bits, ctx);
    for (int i = 0; i < NS; i++) {
        double full = (double)((1u << bits[i]) - 1);
        fill_gauss(s[i].sym, n[i], bits[i], full / 2, full / 6, r);
    }
    roundtrip_both("many segments", s, NS, NULL);
    free_segs(s, NS);
    free(n);
    free(bits);
    free(ctx);
}

/* Sizes against the order-0 entropy; table and flush overhead allowed on top of 2 %. */
static void size_check(const char *what, const uint16_t *sym, size_t n, double tol)
{
    size_t nn[1] = {n};
    int bits[1] = {8};
    hn_sym_seg *s = alloc_segs(1, nn, bits, NULL);
    memcpy(s[0].sym, sym, n * sizeof *sym);
    size_t bytes[2];
    roundtrip_both(what, s, 1, bytes);
    double h = entropy_bps(sym, n, 8);
    double hb = bytes[0] * 8.0 / n, ab = bytes[1] * 8.0 / n;
    printf("%-22s n=%zu  entropy %.4f  huffman %.4f (%+.2f%%)  arith %.4f (%+.2f%%) bits/sym\n",
           what, n, h, hb, 100 * (hb / h - 1), ab, 100 * (ab / h - 1));
    double limit = (1 + tol) * h * n + 8.0 * 160; /* 160 B: a 256-symbol length table */
    CHECK_MSG(bytes[0] * 8.0 <= limit, "%s huffman %zu B", what, bytes[0]);
    CHECK_MSG(bytes[1] * 8.0 <= limit, "%s arith %zu B", what, bytes[1]);
    free_segs(s, 1);
}

static void test_quality(hn_rng *r)
{
    enum { N = 100000 };
    uint16_t *sym = malloc(N * sizeof *sym);
    fill_gauss(sym, N, 8, 127.3, 30, r);
    size_check("gaussian std 30", sym, N, 0.02);
    fill_gauss(sym, N, 8, 90, 12, r);
    size_check("gaussian std 12", sym, N, 0.02);
    fill_skewed(sym, N, r);
    size_check("skewed (exponential)", sym, N, 0.02);
    fill_bimodal(sym, N, r);
    size_check("bimodal", sym, N, 0.02);
    free(sym);
}

/* A decode of bytes [0, n) from their own allocation, so ASan sees any read past them.
 * A success must leave every symbol in range and the cursor inside the input. */
static hiner_status decode_copy(const uint8_t *p, size_t n, hn_sym_seg *segs, size_t nseg,
                                int method)
{
    uint8_t *q = malloc(n ? n : 1);
    memcpy(q, p, n);
    hn_rd rd;
    hn_rd_init(&rd, q, n);
    hiner_status st = hn_entropy_decode(&rd, segs, nseg, method);
    CHECK(st == HINER_OK || st == HINER_E_CORRUPT || st == HINER_E_TRUNCATED);
    if (st == HINER_OK) {
        CHECK(rd.p >= q && rd.p <= q + n);
        for (size_t i = 0; i < nseg; i++)
            for (size_t j = 0; j < segs[i].n; j++) CHECK(segs[i].sym[j] < 1u << segs[i].bits);
    }
    free(q);
    return st;
}

static void test_robust(hn_rng *r)
{
    enum { NS = 4 };
    size_t n[NS] = {40, 300, 12, 200};
    int bits[NS] = {8, 8, 3, 12}, ctx[NS] = {0, 1, 0, 2};
    hn_sym_seg *s = alloc_segs(NS, n, bits, ctx);
    hn_sym_seg *d = alloc_segs(NS, n, bits, ctx);
    for (int i = 0; i < NS; i++) {
        double full = (double)((1u << bits[i]) - 1);
        fill_gauss(s[i].sym, n[i], bits[i], full / 2, full / 8, r);
    }
    for (int mi = 0; mi < 2; mi++) {
        hn_buf b;
        hn_buf_init(&b);
        CHECK(hn_entropy_encode(&b, s, NS, methods[mi]) == HINER_OK);
        /* every truncation needs bytes that are not there */
        size_t fails = 0;
        for (size_t len = 0; len < b.n; len++)
            fails += decode_copy(b.p, len, d, NS, methods[mi]) != HINER_OK;
        CHECK_MSG(fails == b.n, "%s: %zu of %zu truncations decoded", method_name[mi], b.n - fails,
                  b.n);
        /* single bit flips: any status, but no crash, hang or stray read */
        size_t ok = 0;
        for (int t = 0; t < 2000; t++) {
            size_t bit = hn_rng_below(r, (uint32_t)(b.n * 8));
            b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ok += decode_copy(b.p, b.n, d, NS, methods[mi]) == HINER_OK;
            b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* random bytes */
        for (int t = 0; t < 300; t++) {
            size_t len = hn_rng_below(r, 600);
            for (size_t k = 0; k < len; k++) b.p[k % b.n] = (uint8_t)hn_rng_next(r);
            decode_copy(b.p, len < b.n ? len : b.n, d, NS, methods[mi]);
        }
        printf("%s: %zu B stream, %zu of 2000 bit flips still decoded\n", method_name[mi], b.n, ok);
        hn_buf_free(&b);
    }
    free_segs(s, NS);
    free_segs(d, NS);
}

static void test_rejects(void)
{
    uint16_t sym[4] = {1, 2, 3, 255};
    hn_sym_seg s = {sym, 4, 8, 0};
    hn_buf b;
    hn_buf_init(&b);
    hn_rd rd;
    uint8_t zero[16] = {0};
    for (int mi = 0; mi < 2; mi++) {
        int m = methods[mi];
        s.bits = 7; /* 255 does not fit */
        CHECK(hn_entropy_encode(&b, &s, 1, m) == HINER_E_INVALID_ARG);
        s.bits = 0;
        CHECK(hn_entropy_encode(&b, &s, 1, m) == HINER_E_INVALID_ARG);
        hn_rd_init(&rd, zero, sizeof zero);
        CHECK(hn_entropy_decode(&rd, &s, 1, m) == HINER_E_INVALID_ARG);
        s.bits = 17;
        CHECK(hn_entropy_encode(&b, &s, 1, m) == HINER_E_INVALID_ARG);
        CHECK(hn_entropy_decode(&rd, &s, 1, m) == HINER_E_INVALID_ARG);
        s.bits = 8;
        s.ctx = 16;
        CHECK(hn_entropy_encode(&b, &s, 1, m) == HINER_E_INVALID_ARG);
        s.ctx = -1;
        CHECK(hn_entropy_decode(&rd, &s, 1, m) == HINER_E_INVALID_ARG);
        s.ctx = 0;
        CHECK(hn_entropy_encode(&b, NULL, 1, m) == HINER_E_INVALID_ARG);
        CHECK(hn_entropy_encode(NULL, &s, 1, m) == HINER_E_INVALID_ARG);
        CHECK(hn_entropy_decode(NULL, &s, 1, m) == HINER_E_INVALID_ARG);
    }
    CHECK(hn_entropy_encode(&b, &s, 1, 0) == HINER_E_INVALID_ARG);
    CHECK(hn_entropy_encode(&b, &s, 1, 3) == HINER_E_INVALID_ARG);
    CHECK(hn_entropy_decode(&rd, &s, 1, 3) == HINER_E_INVALID_ARG);
    CHECK(b.n == 0);
    /* a sticky allocation failure in the output shows as HINER_E_NOMEM */
    b.err = 1;
    CHECK(hn_entropy_encode(&b, &s, 1, HN_ENTROPY_ARITH) == HINER_E_NOMEM);
    hn_buf_free(&b);
}

/* Hand-made Huffman headers: lengths that oversubscribe or undersubscribe the code. */
static void test_bad_tables(void)
{
    uint16_t sym[4];
    hn_sym_seg s = {sym, 4, 2, 0};
    /* EG(m-1 = 2) "011", then three times EG(gap 0) "1" and the length step: +1 as
     * EG(zigzag 2) "011", then 0 as "1": three 1-bit codes, Kraft sum 3/2 */
    const uint8_t over[] = {0x77, 0xF0, 0, 0, 0, 0}; /* 0111 0111 1111 */
    /* EG(m-1 = 1) "010", "1" + length +2 as EG(zigzag 4) "00101", "1" + "1": two 2-bit
     * codes, Kraft sum 1/2 */
    const uint8_t under[] = {0x52, 0xE0, 0, 0, 0, 0}; /* 0101 0010 111 */
    CHECK(decode_copy(over, sizeof over, &s, 1, HN_ENTROPY_HUFFMAN) == HINER_E_CORRUPT);
    CHECK(decode_copy(under, sizeof under, &s, 1, HN_ENTROPY_HUFFMAN) == HINER_E_CORRUPT);
}

/* The quantizer's three modes and its choice between them. */
static void test_quant(hn_rng *r)
{
    enum { ROWS = 64, COLS = 48 };
    static float w[ROWS * COLS], back[ROWS * COLS], fake[ROWS * COLS];
    /* rows whose scales span 2^10: per row pays, per tensor would waste the small rows */
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < COLS; j++)
            w[i * COLS + j] = (float)(ldexp(1.0, -(i % 11)) * hn_rng_normal(r));
    w[5] = 0.0f;
    for (int j = 0; j < COLS; j++) w[7 * COLS + j] = 0.0f; /* an all-zero row */
    for (int mode = 0; mode <= 2; mode++)
        for (int bits = 2; bits <= 12; bits += 5) {
            hn_qtensor qt;
            double err;
            CHECK(hn_quantize(&qt, w, ROWS, COLS, bits, mode, &err) == HINER_OK);
            CHECK(qt.mode == mode && qt.bits == bits);
            hn_dequantize(back, &qt);
            hn_fake_quant(fake, w, ROWS, COLS, bits, mode);
            double e = 0.0;
            int bad = 0;
            for (int i = 0; i < ROWS; i++) {
                float lo = INFINITY, hi = -INFINITY;
                for (int j = 0; j < COLS; j++) {
                    lo = fminf(lo, w[i * COLS + j]);
                    hi = fmaxf(hi, w[i * COLS + j]);
                }
                if (mode == 0) lo = -4.0f, hi = 4.0f; /* bound loosely by the tensor range */
                /* each value within a step of the row's range (clipping below 8 bits may
                 * clamp the extremes a little more) */
                double step = 2.2 * fmax(fabs(lo), fabs(hi)) / ((1 << bits) - 2) + 1e-6;
                for (int j = 0; j < COLS; j++) {
                    size_t k = (size_t)i * COLS + j;
                    double d = (double)back[k] - w[k];
                    e += d * d;
                    bad += fabs(d) > (bits < 8 ? 0.15 * (hi - lo) + step : step);
                    bad += back[k] != fake[k]; /* QAT sees exactly what is stored */
                    bad += qt.q[k] >= 1u << bits;
                }
                if (mode != 0 && hi == lo) bad += back[i * COLS] != lo; /* exact zero rows */
            }
            CHECK_MSG(bad == 0, "mode %d bits %d: %d values off", mode, bits, bad);
            CHECK(fabs(e - err) <= 1e-6 * (e + 1e-12));
            hn_qtensor_free(&qt);
        }
    /* the choice: per row on a shared grid for the rows above; per tensor for a bias of
     * 200 values (as 200 rows of 1, mode 1 would take 800 bytes of side information) */
    hn_qtensor qt;
    CHECK(hn_quantize(&qt, w, ROWS, COLS, 8, -1, NULL) == HINER_OK);
    CHECK_MSG(qt.mode == 2, "mode %d for rows of spread scales", qt.mode);
    hn_qtensor_free(&qt);
    static float bias[200];
    for (int i = 0; i < 200; i++) bias[i] = (float)(0.1 * hn_rng_normal(r));
    CHECK(hn_quantize(&qt, bias, 200, 1, 8, -1, NULL) == HINER_OK);
    CHECK_MSG(qt.mode == 0, "mode %d for a bias", qt.mode);
    hn_qtensor_free(&qt);
    CHECK(hn_quantize(&qt, bias, 200, 1, 1, 2, NULL) == HINER_E_INVALID_ARG);
    CHECK(hn_quantize(&qt, bias, 200, 1, 8, 3, NULL) == HINER_E_INVALID_ARG);
    CHECK(hn_qtensor_side_bytes(0, 200) == 4 && hn_qtensor_side_bytes(1, 200) == 800 &&
          hn_qtensor_side_bytes(2, 200) == 202);
}

int main(void)
{
    hn_rng r;
    hn_rng_seed(&r, 2024);
    test_mixed(&r);
    test_bits(&r);
    test_edges();
    test_long_codes(&r);
    test_many(&r);
    test_quality(&r);
    test_robust(&r);
    test_rejects();
    test_bad_tables();
    test_quant(&r);
    return check_exit();
}
