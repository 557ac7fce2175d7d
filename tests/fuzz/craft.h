/*
 * craft.h - builds .hiner streams by hand, with correct framing and CRCs, for the tests of
 * hostile input (tests/unit/test_limits.c): any field may be set to a value no writer
 * would produce. The tensors are coded as one-symbol Huffman codes (0 bits per weight), so
 * a stream of a few hundred bytes can declare the largest network the limits allow.
 */
#ifndef HINER_FUZZ_CRAFT_H
#define HINER_FUZZ_CRAFT_H

#include <stdlib.h>
#include <string.h>

#include "../../core/codec/container.h"
#include "../../core/model/fileio.h"

typedef struct craft {
    uint32_t W, H, C;
    int dtype, flags;          /* INFO: dtype and flags (bit 1 MASK, bit 2 WAVE, ...) */
    uint32_t tiles;
    hiner_plan plan;           /* ARCH: set by craft_init, change at will */
    int lam_mode;
    double lam_lo, lam_scale;
    int encoder;               /* 1: ENCO, 0: EMBD */
    int band_f64;
    int band_dummy;            /* BAND payload of one byte (for limits checked before BAND) */
} craft;

/* A small valid network for W x H x C: one stride-2 stage, padded and centred. */
static inline void craft_init(craft *c, uint32_t W, uint32_t H, uint32_t C)
{
    memset(c, 0, sizeof *c);
    c->W = W, c->H = H, c->C = C;
    c->dtype = HINER_UINT16;
    c->tiles = 1;
    c->encoder = 1;
    c->lam_scale = C ? 1.0 / C : 1.0;
    hiner_plan *p = &c->plan;
    p->width = W, p->height = H, p->bands = C;
    p->n_stages = 1;
    p->strides[0] = 2;
    p->kernels[0] = 3;
    p->widths[0] = 8;
    p->widths[1] = 4;
    p->embed_channels = 4;
    p->embed_height = (int)((H + 1) / 2);
    p->embed_width = (int)((W + 1) / 2);
    p->pad_height = 2u * (uint32_t)p->embed_height;
    p->pad_width = 2u * (uint32_t)p->embed_width;
    p->pad_top = (p->pad_height - H) / 2;
    p->pad_left = (p->pad_width - W) / 2;
    p->enc_freqs = 4;
    p->enc_base = 1.25f;
    p->enc_hidden = 8;
}

/* Sets the strides, embedding and padding for a stack of `n` stages of stride s. */
static inline void craft_stack(craft *c, int n, const int *s, const int *widths)
{
    hiner_plan *p = &c->plan;
    uint32_t P = 1;
    p->width = c->W, p->height = c->H;
    p->n_stages = n;
    for (int i = 0; i < n; i++) {
        p->strides[i] = s[i];
        p->kernels[i] = 3;
        P *= (uint32_t)s[i];
    }
    for (int i = 0; i <= n; i++) p->widths[i] = widths[i];
    p->embed_height = (int)((c->H + P - 1) / P);
    p->embed_width = (int)((c->W + P - 1) / P);
    p->pad_height = P * (uint32_t)p->embed_height;
    p->pad_width = P * (uint32_t)p->embed_width;
    p->pad_top = (p->pad_height - c->H) / 2;
    p->pad_left = (p->pad_width - c->W) / 2;
}

static inline void craft_info(hn_buf *b, const craft *c)
{
    hn_buf_u32(b, c->W);
    hn_buf_u32(b, c->H);
    hn_buf_u32(b, c->C);
    hn_buf_u8(b, (uint8_t)c->dtype);
    hn_buf_u8(b, (uint8_t)c->flags);
    hn_buf_f64(b, 0.0);
    hn_buf_u32(b, c->tiles);
    hn_buf_u32(b, c->W);
    hn_buf_u32(b, c->H);
}

/* A DECO/ENCO/EMBD payload of nt tensors, every weight 0 at 1 bit, Huffman coded: the
 * one-symbol code for bits = 1 is EG(0) EG(0) EG(zigzag(1)) = 1 1 011, then no bit per
 * symbol, padded to the byte: 0xD8. */
static inline void craft_zero_tensors(hn_buf *b, size_t nt)
{
    hn_buf_u32(b, 0);
    hn_buf_u8(b, 1);
    hn_buf_u16(b, (uint16_t)nt);
    for (size_t t = 0; t < nt; t++) {
        hn_buf_u8(b, 1);  /* bits */
        hn_buf_u8(b, 0);  /* one (min, scale) for the tensor */
        hn_buf_u16(b, 0); /* min 0.0 */
        hn_buf_u16(b, 0); /* scale 0.0 */
    }
    hn_buf_u8(b, 0xD8);
}

typedef struct craft_chunk {
    const char *type;
    int critical;
    const hn_buf *payload;
} craft_chunk;

/* The whole stream: INFO, BAND, the extra chunks, ARCH, DECO, ENCO or EMBD, END!. */
static inline void craft_build(hn_buf *out, const craft *c, const craft_chunk *extra, size_t nx)
{
    hn_buf info, band, arch, deco, rest;
    hn_buf_init(&info), hn_buf_init(&band), hn_buf_init(&arch);
    hn_buf_init(&deco), hn_buf_init(&rest);
    craft_info(&info, c);
    /* every band's range [0, 1] (f32), or huge ones in f64 */
    if (c->band_dummy) {
        hn_buf_u8(&band, 0);
    } else {
        size_t nb = c->C ? c->C : 1;
        double *mn = calloc(nb, sizeof(double)), *mx = calloc(nb, sizeof(double));
        for (uint32_t k = 0; k < c->C && mn && mx; k++) {
            mn[k] = c->band_f64 ? -1e300 : 0.0;
            mx[k] = c->band_f64 ? 1e300 : 1.0;
        }
        if (mn && mx) hn_pl_band(&band, mn, mx, c->C);
        free(mn), free(mx);
    }
    hn_pl_arch(&arch, &c->plan, c->lam_mode, c->lam_lo, c->lam_scale);
    craft_zero_tensors(&deco, (size_t)(4 + 2 * c->plan.n_stages));
    craft_zero_tensors(&rest, c->encoder ? 4 : 1);
    hn_buf_init(out);
    hn_file_header(out);
    hn_chunk_put(out, "INFO", 1, info.p, info.n);
    hn_chunk_put(out, "BAND", 1, band.p, band.n);
    for (size_t i = 0; i < nx; i++)
        hn_chunk_put(out, extra[i].type, extra[i].critical, extra[i].payload->p,
                     extra[i].payload->n);
    hn_chunk_put(out, "ARCH", 1, arch.p, arch.n);
    hn_chunk_put(out, "DECO", 1, deco.p, deco.n);
    hn_chunk_put(out, c->encoder ? "ENCO" : "EMBD", 1, rest.p, rest.n);
    hn_chunk_put(out, "END!", 1, NULL, 0);
    hn_buf_free(&info), hn_buf_free(&band), hn_buf_free(&arch);
    hn_buf_free(&deco), hn_buf_free(&rest);
}

#endif
