/*
 * rc.c - adaptive binary range coder (the LZMA design: 32-bit range, carry propagated
 * through a cached byte), with 16-bit probabilities and a per-call adaptation rate. Every
 * entropy coder of the format (weights, metadata text, masks) codes its bits through it.
 */
#include "codec.h"

#define TOP (1u << 24)

void hn_rc_enc_init(hn_rc_enc *e, hn_buf *out)
{
    e->out = out;
    e->low = 0;
    e->range = 0xFFFFFFFFu;
    e->cache = 0;
    e->cache_size = 1;
}

static void shift_low(hn_rc_enc *e)
{
    if ((uint32_t)e->low < 0xFF000000u || (e->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(e->low >> 32);
        uint8_t c = e->cache;
        do {
            hn_buf_u8(e->out, (uint8_t)(c + carry));
            c = 0xFF;
        } while (--e->cache_size != 0);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->cache_size++;
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

void hn_rc_enc_bit(hn_rc_enc *e, hn_prob *p, int bit, int shift)
{
    uint32_t bound = (e->range >> 16) * (*p);
    if (!bit) {
        e->range = bound;
        *p = (hn_prob)(*p + ((65536u - *p) >> shift));
    } else {
        e->low += bound;
        e->range -= bound;
        *p = (hn_prob)(*p - (*p >> shift));
    }
    /* keep p inside [32, 65504] so neither symbol's interval can vanish */
    if (*p < 32) *p = 32;
    if (*p > 65504) *p = 65504;
    while (e->range < TOP) {
        e->range <<= 8;
        shift_low(e);
    }
}

void hn_rc_enc_direct(hn_rc_enc *e, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        e->range >>= 1;
        if ((v >> i) & 1) e->low += e->range;
        while (e->range < TOP) {
            e->range <<= 8;
            shift_low(e);
        }
    }
}

void hn_rc_enc_finish(hn_rc_enc *e)
{
    for (int i = 0; i < 5; i++) shift_low(e);
}

void hn_rc_dec_init(hn_rc_dec *d, const uint8_t *p, size_t n)
{
    hn_rd_init(&d->in, p, n);
    d->range = 0xFFFFFFFFu;
    d->code = 0;
    for (int i = 0; i < 5; i++) d->code = (d->code << 8) | hn_rd_u8(&d->in);
}

int hn_rc_dec_bit(hn_rc_dec *d, hn_prob *p, int shift)
{
    uint32_t bound = (d->range >> 16) * (*p);
    int bit;
    if (d->code < bound) {
        d->range = bound;
        *p = (hn_prob)(*p + ((65536u - *p) >> shift));
        bit = 0;
    } else {
        d->code -= bound;
        d->range -= bound;
        *p = (hn_prob)(*p - (*p >> shift));
        bit = 1;
    }
    if (*p < 32) *p = 32;
    if (*p > 65504) *p = 65504;
    while (d->range < TOP) {
        d->range <<= 8;
        d->code = (d->code << 8) | hn_rd_u8(&d->in);
    }
    return bit;
}

uint32_t hn_rc_dec_direct(hn_rc_dec *d, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        d->range >>= 1;
        uint32_t b = d->code >= d->range;
        if (b) d->code -= d->range;
        v = (v << 1) | b;
        while (d->range < TOP) {
            d->range <<= 8;
            d->code = (d->code << 8) | hn_rd_u8(&d->in);
        }
    }
    return v;
}
