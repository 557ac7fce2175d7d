/*
 * codec.h - the bitstream's building blocks: growable output buffer and bounds-checked
 * input cursor (little-endian), CRC-32, float16, the adaptive binary range coder, and the
 * entropy coders built on it (quantized weights, metadata text, validity masks).
 * Readers never read past `end`: an overrun sets a flag and yields zeros.
 */
#ifndef HINER_CODEC_H
#define HINER_CODEC_H

#include "../internal.h"

/* ---- buf.c: output buffer ---- */
typedef struct hn_buf {
    uint8_t *p;
    size_t n, cap;
    int err; /* sticky: an allocation failed; later writes are dropped */
} hn_buf;

HN_HIDDEN void hn_buf_init(hn_buf *b);
HN_HIDDEN void hn_buf_free(hn_buf *b);
HN_HIDDEN void hn_buf_put(hn_buf *b, const void *data, size_t n);
HN_HIDDEN void hn_buf_u8(hn_buf *b, uint8_t v);
HN_HIDDEN void hn_buf_u16(hn_buf *b, uint16_t v);
HN_HIDDEN void hn_buf_u32(hn_buf *b, uint32_t v);
HN_HIDDEN void hn_buf_u64(hn_buf *b, uint64_t v);
HN_HIDDEN void hn_buf_f32(hn_buf *b, float v);
HN_HIDDEN void hn_buf_f64(hn_buf *b, double v);
/* Unsigned LEB128 varint. */
HN_HIDDEN void hn_buf_uvar(hn_buf *b, uint64_t v);
/* A string as uvar length + bytes (no terminator); NULL is written as length 0. */
HN_HIDDEN void hn_buf_str(hn_buf *b, const char *s);

/* ---- buf.c: input cursor ---- */
typedef struct hn_rd {
    const uint8_t *p, *end;
    int overrun; /* sticky: a read went past end */
} hn_rd;

HN_HIDDEN void hn_rd_init(hn_rd *r, const void *p, size_t n);
static inline size_t hn_rd_left(const hn_rd *r)
{
    return (size_t)(r->end - r->p);
}
HN_HIDDEN int hn_rd_get(hn_rd *r, void *out, size_t n); /* 1 ok, 0 overrun (out zeroed) */
HN_HIDDEN uint8_t hn_rd_u8(hn_rd *r);
HN_HIDDEN uint16_t hn_rd_u16(hn_rd *r);
HN_HIDDEN uint32_t hn_rd_u32(hn_rd *r);
HN_HIDDEN uint64_t hn_rd_u64(hn_rd *r);
HN_HIDDEN float hn_rd_f32(hn_rd *r);
HN_HIDDEN double hn_rd_f64(hn_rd *r);
HN_HIDDEN uint64_t hn_rd_uvar(hn_rd *r); /* overrun on more than 10 bytes */
/* A uvar-prefixed string copied into a new NUL-terminated allocation (hn_free); at most
 * max_len bytes; NULL (and overrun set) when longer or truncated. Length 0 gives "". */
HN_HIDDEN char *hn_rd_str(hn_rd *r, size_t max_len);

/* ---- crc32.c: CRC-32 (IEEE 802.3, as zlib and PNG) ---- */
/* Start with crc = 0; chain by passing the previous result. */
HN_HIDDEN uint32_t hn_crc32(uint32_t crc, const void *data, size_t n);

/* ---- f16.c: IEEE 754 binary16 ---- */
/* Round to nearest even; overflow gives +-inf, NaN stays NaN. */
HN_HIDDEN uint16_t hn_f32_to_f16(float f);
/* Round toward -inf (dir < 0) or +inf (dir > 0): the result brackets f from that side. */
HN_HIDDEN uint16_t hn_f32_to_f16_dir(float f, int dir);
HN_HIDDEN float hn_f16_to_f32(uint16_t h);

/* ---- rc.c: adaptive binary range coder (LZMA-style carry-less encoder, 16-bit probs) ----
 * A probability is the chance of a 0 bit in 1/65536 units; init with HN_RC_PROB_INIT. */
#define HN_RC_PROB_INIT 32768
typedef uint16_t hn_prob;

typedef struct hn_rc_enc {
    hn_buf *out;
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t cache_size;
} hn_rc_enc;

typedef struct hn_rc_dec {
    hn_rd in;
    uint32_t range, code;
} hn_rc_dec;

HN_HIDDEN void hn_rc_enc_init(hn_rc_enc *e, hn_buf *out);
/* Codes `bit` with probability *p, then adapts *p by 1/2^shift of the error (shift 4..7). */
HN_HIDDEN void hn_rc_enc_bit(hn_rc_enc *e, hn_prob *p, int bit, int shift);
/* Codes n raw bits (equiprobable), MSB first, n <= 16. */
HN_HIDDEN void hn_rc_enc_direct(hn_rc_enc *e, uint32_t v, int n);
HN_HIDDEN void hn_rc_enc_finish(hn_rc_enc *e);

/* Reads from the cursor (which it advances as bytes are consumed). */
HN_HIDDEN void hn_rc_dec_init(hn_rc_dec *d, const uint8_t *p, size_t n);
HN_HIDDEN int hn_rc_dec_bit(hn_rc_dec *d, hn_prob *p, int shift);
HN_HIDDEN uint32_t hn_rc_dec_direct(hn_rc_dec *d, int n);
/* Nonzero once the decoder read past its input (a truncated or corrupt stream). */
static inline int hn_rc_dec_overrun(const hn_rc_dec *d)
{
    return d->in.overrun;
}

/* ---- entropy.c: quantized symbol arrays ----
 * A segment is n symbols, each in [0, 2^bits), bits in 1..16. A segment's ctx (0..15)
 * selects an adaptive model set in the arithmetic coder (the encoder and decoder agree on
 * it from the architecture); Huffman shares one canonical code per distinct `bits`.
 * Output is self-delimiting: the decoder knows each segment's n and bits. */
enum { HN_ENTROPY_HUFFMAN = 1, HN_ENTROPY_ARITH = 2 };

typedef struct hn_sym_seg {
    uint16_t *sym;  /* encoder reads, decoder writes */
    size_t n;
    int bits;
    int ctx;
} hn_sym_seg;

HN_HIDDEN hiner_status hn_entropy_encode(hn_buf *out, const hn_sym_seg *segs, size_t nseg,
                                         int method);
HN_HIDDEN hiner_status hn_entropy_decode(hn_rd *in, hn_sym_seg *segs, size_t nseg, int method);

/* ---- textcm.c: metadata text (and other small byte strings) ----
 * A context-mixing coder over the range coder (orders 1-6, word, column, number-prediction
 * and match models, primed with common GDAL/WKT phrases); good on repetitive key/value text
 * and numeric columns. Writes uvar(n) then the coded bytes. */
HN_HIDDEN hiner_status hn_text_encode(hn_buf *out, const uint8_t *data, size_t n);
/* *data is a new allocation (hn_free) of *n bytes plus a NUL; fails with HINER_E_LIMIT
 * when the declared size exceeds max_n, HINER_E_CORRUPT/TRUNCATED on a bad stream. */
HN_HIDDEN hiner_status hn_text_decode(hn_rd *in, uint8_t **data, size_t *n, size_t max_n);

/* ---- mask.c: validity masks, lossless ----
 * mask is (C,H,W) bytes, 0 invalid / nonzero valid. Context: causal neighbours in the band
 * and the same pixel in the previous band, so a mask repeated over bands costs ~nothing. */
HN_HIDDEN hiner_status hn_mask_encode(hn_buf *out, const uint8_t *mask, size_t W, size_t H,
                                      size_t C);
/* Writes 0/1 into mask (C,H,W). */
HN_HIDDEN hiner_status hn_mask_decode(hn_rd *in, uint8_t *mask, size_t W, size_t H, size_t C);

#endif /* HINER_CODEC_H */
