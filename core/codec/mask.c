/*
 * mask.c - lossless validity (NoData) masks over the range coder. NoData is usually the
 * same in every band, so each band first says whether it repeats the previous one or is
 * uniform; other bands code each pixel from a JBIG-like 10-pixel causal template plus three
 * pixels of the previous band.
 */
#include "codec.h"

/* Adaptation rates: pixels use a slow rate so long uniform runs cost ~0.001 bit/pixel; the
 * band headers are few and change regime, so they adapt fast. */
enum { SHIFT_PX = 5, SHIFT_HDR = 4 };

typedef struct mask_model {
    hn_prob same;         /* band repeats the previous band */
    hn_prob uniform[2];   /* band is all valid or all invalid; [band > 0] */
    hn_prob valid[2];     /* uniform band is valid; [band > 0] */
    hn_prob px0[1 << 10]; /* band 0 (or after a uniform band): template only */
    hn_prob px[1 << 13];  /* template + previous band at (x,y), (x+1,y), (x,y+1) */
} mask_model;

/* Exactly one of e and d is set: the encoder reads `src`, the decoder writes `dst`. */
typedef struct mask_io {
    hn_rc_enc *e;
    hn_rc_dec *d;
} mask_io;

static int code_bit(mask_io *io, hn_prob *p, int bit, int shift)
{
    if (io->e) {
        hn_rc_enc_bit(io->e, p, bit, shift);
        return bit;
    }
    return hn_rc_dec_bit(io->d, p, shift);
}

static void model_init(mask_model *m)
{
    m->same = HN_RC_PROB_INIT;
    for (int i = 0; i < 2; i++) m->uniform[i] = m->valid[i] = HN_RC_PROB_INIT;
    for (size_t i = 0; i < sizeof m->px0 / sizeof *m->px0; i++) m->px0[i] = HN_RC_PROB_INIT;
    for (size_t i = 0; i < sizeof m->px / sizeof *m->px; i++) m->px[i] = HN_RC_PROB_INIT;
}

/* Pixel x of a row as 0/1; outside the image (x wrapped below 0, or >= W, or no row) is 0. */
static inline unsigned px(const uint8_t *row, size_t x, size_t W)
{
    return row && x < W ? row[x] != 0 : 0;
}

/* Codes one band's pixels. `cur` is the band being coded: the encoder's input, or for the
 * decoder its output `dst` filled so far (only causal pixels are read). `prev` is the
 * previous band or NULL. Values are compared with 0, so the encoder's "nonzero" and the
 * decoder's 1 agree. */
static void code_pixels(mask_io *io, mask_model *m, const uint8_t *cur, uint8_t *dst,
                        const uint8_t *prev, size_t W, size_t H)
{
    for (size_t y = 0; y < H; y++) {
        const uint8_t *r0 = cur + y * W;
        const uint8_t *r1 = y >= 1 ? r0 - W : NULL;
        const uint8_t *r2 = y >= 2 ? r0 - 2 * W : NULL;
        const uint8_t *p0 = prev ? prev + y * W : NULL;
        const uint8_t *p1 = prev && y + 1 < H ? p0 + W : NULL;
        for (size_t x = 0; x < W; x++) {
            /* JBIG's three-line template: NW N NE two rows up, 5 pixels one row up,
             * W WW in this row */
            unsigned ctx = px(r2, x - 1, W) | px(r2, x, W) << 1 | px(r2, x + 1, W) << 2 |
                           px(r1, x - 2, W) << 3 | px(r1, x - 1, W) << 4 | px(r1, x, W) << 5 |
                           px(r1, x + 1, W) << 6 | px(r1, x + 2, W) << 7 |
                           px(r0, x - 2, W) << 8 | px(r0, x - 1, W) << 9;
            hn_prob *p;
            if (prev)
                p = &m->px[ctx | px(p0, x, W) << 10 | px(p0, x + 1, W) << 11 |
                           px(p1, x, W) << 12];
            else
                p = &m->px0[ctx];
            int bit = code_bit(io, p, r0[x] != 0, SHIFT_PX);
            if (dst) dst[y * W + x] = (uint8_t)bit;
        }
    }
}

enum { BAND_SAME, BAND_VALID, BAND_INVALID, BAND_CODED };

/* What the encoder says about band c (plane bytes at b, previous band at prev). */
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
static void code_mask(mask_io *io, mask_model *m, const uint8_t *src, uint8_t *dst,
                      size_t plane, size_t W, size_t H, size_t C)
{
    for (size_t c = 0; c < C; c++) {
        const uint8_t *b = src + c * plane;
        const uint8_t *prev = c > 0 ? b - plane : NULL;
        int kind = io->e ? band_kind(b, prev, plane) : 0;
        int later = c > 0;
        if (later && code_bit(io, &m->same, kind == BAND_SAME, SHIFT_HDR)) {
            kind = BAND_SAME;
        } else if (code_bit(io, &m->uniform[later], kind != BAND_CODED, SHIFT_HDR)) {
            kind = code_bit(io, &m->valid[later], kind == BAND_VALID, SHIFT_HDR) ? BAND_VALID
                                                                                 : BAND_INVALID;
        } else {
            kind = BAND_CODED;
        }
        uint8_t *out = dst ? dst + c * plane : NULL;
        if (kind == BAND_CODED)
            code_pixels(io, m, b, out, prev, W, H);
        else if (out && kind == BAND_SAME)
            memcpy(out, prev, plane);
        else if (out)
            memset(out, kind == BAND_VALID, plane);
        if (io->d && hn_rc_dec_overrun(io->d)) return;
    }
}

static hiner_status check_dims(size_t W, size_t H, size_t C, size_t *plane, size_t *total)
{
    HN_CHECK(!hn_mul_size(W, H, plane) || !hn_mul_size(*plane, C, total), HINER_E_LIMIT);
    return HINER_OK;
}

hiner_status hn_mask_encode(hn_buf *out, const uint8_t *mask, size_t W, size_t H, size_t C)
{
    hiner_status st = HINER_OK;
    size_t plane, total;
    HN_CHECK(!out, HINER_E_INVALID_ARG);
    HN_FORWARD(check_dims(W, H, C, &plane, &total));
    if (total == 0) return HINER_OK; /* nothing to say: no stream at all */
    HN_CHECK(!mask, HINER_E_INVALID_ARG);

    mask_model *m = hn_malloc(1, sizeof *m);
    HN_CHECK(!m, HINER_E_NOMEM);
    model_init(m);
    hn_rc_enc e;
    hn_rc_enc_init(&e, out);
    mask_io io = {&e, NULL};
    code_mask(&io, m, mask, NULL, plane, W, H, C);
    hn_rc_enc_finish(&e);
    HN_GOTO_IF(out->err, HINER_E_NOMEM);
fail:
    hn_free(m);
    return st;
}

hiner_status hn_mask_decode(hn_rd *in, uint8_t *mask, size_t W, size_t H, size_t C)
{
    hiner_status st = HINER_OK;
    size_t plane, total;
    HN_CHECK(!in, HINER_E_INVALID_ARG);
    HN_FORWARD(check_dims(W, H, C, &plane, &total));
    if (total == 0) return HINER_OK;
    HN_CHECK(!mask, HINER_E_INVALID_ARG);

    mask_model *m = hn_malloc(1, sizeof *m);
    HN_CHECK(!m, HINER_E_NOMEM);
    model_init(m);
    hn_rc_dec d;
    hn_rc_dec_init(&d, in->p, hn_rd_left(in));
    mask_io io = {NULL, &d};
    code_mask(&io, m, mask, mask, plane, W, H, C);
    HN_GOTO_IF(hn_rc_dec_overrun(&d), HINER_E_TRUNCATED);
    in->p = d.in.p;
fail:
    hn_free(m);
    return st;
}
