/*
 * mask.c - lossless validity (NoData) masks over the range coder. NoData is usually the
 * same in every band, so each band first says whether it repeats the previous one or is
 * uniform; other bands code each pixel from a few causal neighbours (JBIG-like) and, after a
 * non-uniform band, the previous band's pixel and its 4 neighbours.
 */
#include "codec.h"

/* Adaptation rate of every probability: masks are small data, so learning fast matters
 * more than precision; the probabilities saturate near 32/65536, so uniform areas still
 * cost almost nothing. */
enum { SHIFT = 4 };

/* Context sizes are small on purpose: with JBIG's 10-pixel template or more previous-band
 * pixels, each context sees too few pixels to learn from, and bands of a few hundred
 * pixels a side code larger; only much larger bands gain a little back. */
enum { CTX_INTRA = 1 << 7, CTX_INTER = 1 << 7 };

typedef struct mask_model {
    hn_prob same;             /* band repeats the previous band */
    hn_prob uniform[2];       /* band is all valid or all invalid; [band > 0] */
    hn_prob valid[2];         /* a uniform band is valid; [band > 0] */
    hn_prob intra[CTX_INTRA]; /* band 0, or after a uniform band: this band's pixels */
    hn_prob inter[CTX_INTER]; /* with a previous band to look at */
} mask_model;

/* Exactly one of e and d is set. */
typedef struct mask_io {
    hn_rc_enc *e;
    hn_rc_dec *d;
} mask_io;

static int code_bit(mask_io *io, hn_prob *p, int bit)
{
    if (io->e) {
        hn_rc_enc_bit(io->e, p, bit, SHIFT);
        return bit;
    }
    return hn_rc_dec_bit(io->d, p, SHIFT);
}

/* Pixel x of a row as 0/1; outside the image (x wrapped below 0, x >= W, or no row) is 0. */
static inline unsigned px(const uint8_t *row, size_t x, size_t W)
{
    return row && x < W ? row[x] != 0 : 0;
}

/* Codes one band's pixels. `cur` is the band being coded: the encoder's input, or for the
 * decoder its output `dst` filled so far (only causal pixels are read). `prev` is the
 * previous band, NULL when there is none worth looking at. Pixels are compared with 0, so
 * the encoder's "nonzero" and the decoder's 1 agree. */
static void code_pixels(mask_io *io, mask_model *m, const uint8_t *cur, uint8_t *dst,
                        const uint8_t *prev, size_t W, size_t H)
{
    for (size_t y = 0; y < H; y++) {
        if (io->d && hn_rc_dec_overrun(io->d)) return; /* garbage from here on */
        const uint8_t *r0 = cur + y * W;
        const uint8_t *r1 = y > 0 ? r0 - W : NULL;
        const uint8_t *p0 = prev ? prev + y * W : NULL;
        const uint8_t *pn = prev && y > 0 ? p0 - W : NULL;
        const uint8_t *ps = prev && y + 1 < H ? p0 + W : NULL;
        for (size_t x = 0; x < W; x++) {
            hn_prob *p;
            if (prev) {
                /* W and N here; in the previous band the pixel itself and its 4 neighbours,
                 * which sees edges that moved by a pixel and holes that appear or vanish */
                unsigned ctx = px(r0, x - 1, W) | px(r1, x, W) << 1 | px(p0, x, W) << 2 |
                               px(p0, x - 1, W) << 3 | px(p0, x + 1, W) << 4 | px(pn, x, W) << 5 |
                               px(ps, x, W) << 6;
                p = &m->inter[ctx];
            } else {
                /* WW W in this row, five pixels above */
                unsigned ctx = px(r1, x - 2, W) | px(r1, x - 1, W) << 1 | px(r1, x, W) << 2 |
                               px(r1, x + 1, W) << 3 | px(r1, x + 2, W) << 4 |
                               px(r0, x - 2, W) << 5 | px(r0, x - 1, W) << 6;
                p = &m->intra[ctx];
            }
            int bit = code_bit(io, p, io->e ? r0[x] != 0 : 0);
            if (dst) dst[y * W + x] = (uint8_t)bit;
        }
    }
}

enum { BAND_SAME, BAND_VALID, BAND_INVALID, BAND_CODED };

/* What the encoder says about a band (plane pixels at b; prev is NULL for band 0). */
static int band_kind(const uint8_t *b, const uint8_t *prev, size_t plane)
{
    if (prev) {
        size_t i = 0;
        while (i < plane && (b[i] != 0) == (prev[i] != 0)) i++;
        if (i == plane) return BAND_SAME;
    }
    size_t nz = 0;
    for (size_t i = 0; i < plane; i++) nz += b[i] != 0;
    return nz == plane ? BAND_VALID : nz == 0 ? BAND_INVALID : BAND_CODED;
}

/* Band headers then pixels. The encoder passes its input as `src`, the decoder its output
 * as both `src` and `dst`; the decoder stops at the first band that read past its input. */
static void code_mask(mask_io *io, mask_model *m, const uint8_t *src, uint8_t *dst, size_t plane,
                      size_t W, size_t H, size_t C)
{
    int prev_uniform = 1; /* band 0 has nothing to look back at */
    for (size_t c = 0; c < C; c++) {
        const uint8_t *b = src + c * plane;
        const uint8_t *prev = c > 0 ? b - plane : NULL;
        int kind = io->e ? band_kind(b, prev, plane) : 0;
        int later = c > 0;
        if (later && code_bit(io, &m->same, kind == BAND_SAME)) {
            kind = BAND_SAME;
        } else if (code_bit(io, &m->uniform[later], kind != BAND_CODED)) {
            kind = code_bit(io, &m->valid[later], kind == BAND_VALID) ? BAND_VALID : BAND_INVALID;
        } else {
            kind = BAND_CODED;
        }
        uint8_t *out = dst ? dst + c * plane : NULL;
        if (kind == BAND_CODED)
            code_pixels(io, m, b, out, prev_uniform ? NULL : prev, W, H);
        else if (out && kind == BAND_SAME)
            memcpy(out, prev, plane);
        else if (out)
            memset(out, kind == BAND_VALID, plane);
        if (kind != BAND_SAME) prev_uniform = kind != BAND_CODED;
        if (io->d && hn_rc_dec_overrun(io->d)) return;
    }
}

static void model_init(mask_model *m)
{
    m->same = HN_RC_PROB_INIT;
    for (int i = 0; i < 2; i++) m->uniform[i] = m->valid[i] = HN_RC_PROB_INIT;
    for (int i = 0; i < CTX_INTRA; i++) m->intra[i] = HN_RC_PROB_INIT;
    for (int i = 0; i < CTX_INTER; i++) m->inter[i] = HN_RC_PROB_INIT;
}

static hiner_status check_dims(size_t W, size_t H, size_t C, size_t *plane, size_t *total)
{
    HN_CHECK(!hn_mul_size(W, H, plane) || !hn_mul_size(*plane, C, total), HINER_E_LIMIT);
    return HINER_OK;
}

hiner_status hn_mask_encode(hn_buf *out, const uint8_t *mask, size_t W, size_t H, size_t C)
{
    size_t plane, total;
    HN_CHECK(!out, HINER_E_INVALID_ARG);
    HN_FORWARD(check_dims(W, H, C, &plane, &total));
    if (total == 0) return HINER_OK; /* nothing to say: no bytes at all */
    HN_CHECK(!mask, HINER_E_INVALID_ARG);

    mask_model m;
    model_init(&m);
    hn_rc_enc e;
    hn_rc_enc_init(&e, out);
    mask_io io = {&e, NULL};
    code_mask(&io, &m, mask, NULL, plane, W, H, C);
    hn_rc_enc_finish(&e);
    HN_CHECK(out->err, HINER_E_NOMEM);
    return HINER_OK;
}

hiner_status hn_mask_decode(hn_rd *in, uint8_t *mask, size_t W, size_t H, size_t C)
{
    size_t plane, total;
    HN_CHECK(!in, HINER_E_INVALID_ARG);
    HN_FORWARD(check_dims(W, H, C, &plane, &total));
    if (total == 0) return HINER_OK;
    HN_CHECK(!mask, HINER_E_INVALID_ARG);

    mask_model m;
    model_init(&m);
    hn_rc_dec d;
    hn_rc_dec_init(&d, in->p, hn_rd_left(in));
    mask_io io = {NULL, &d};
    code_mask(&io, &m, mask, mask, plane, W, H, C);
    HN_CHECK(hn_rc_dec_overrun(&d), HINER_E_TRUNCATED);
    in->p = d.in.p;
    return HINER_OK;
}
