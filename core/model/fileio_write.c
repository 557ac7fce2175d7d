/*
 * fileio_write.c - the payload of each chunk of docs/format.md a writer puts in a file
 * (INFO, BAND, MASK, WAVE, GEO, META, TRNG, ARCH, DECO/ENCO/EMBD). Text records are
 * replayed through the reader's parsers first, so no file is written that the reader refuses.
 */
#include "../codec/quant.h"
#include "fileio.h"

void hn_pl_info(hn_buf *b, const hn_data *d, int has_mask, int has_wave)
{
    hn_pl_info_grid(b, d, has_mask, has_wave, 0, 1, d->W, d->H);
}

void hn_pl_info_grid(hn_buf *b, const hn_data *d, int has_mask, int has_wave, int encoders,
                     uint32_t tiles, uint32_t tile_w, uint32_t tile_h)
{
    hn_buf_u32(b, d->W);
    hn_buf_u32(b, d->H);
    hn_buf_u32(b, d->C);
    hn_buf_u8(b, (uint8_t)d->dtype);
    uint8_t flags = (uint8_t)((d->has_nodata ? 1 : 0) | (has_mask ? 2 : 0) | (has_wave ? 4 : 0) |
                              (d->wavelengths ? 8 : 0) | (encoders ? 16 : 0));
    hn_buf_u8(b, flags);
    hn_buf_f64(b, d->has_nodata ? d->nodata : 0.0);
    hn_buf_u32(b, tiles);
    hn_buf_u32(b, tile_w);
    hn_buf_u32(b, tile_h);
}

void hn_pl_tidx(hn_buf *b, uint32_t nx, uint32_t ny, const uint64_t *off, const uint32_t *len)
{
    hn_buf_u32(b, nx);
    hn_buf_u32(b, ny);
    for (uint64_t t = 0; t < (uint64_t)nx * ny; t++) {
        hn_buf_u64(b, off ? off[t] : 0);
        hn_buf_u32(b, len ? len[t] : 0);
    }
}

hiner_status hn_pl_tmsk(hn_buf *b, uint32_t tile, const uint8_t *valid, uint32_t W, uint32_t H,
                        int per_band, uint32_t C)
{
    hn_buf_u32(b, tile);
    hn_buf_u8(b, (uint8_t)per_band);
    return hn_mask_encode(b, valid, W, H, per_band ? C : 1);
}

hiner_status hn_pl_band(hn_buf *b, const double *mn, const double *mx, uint32_t C)
{
    int f64 = 0;
    for (uint32_t k = 0; k < C; k++)
        if ((double)(float)mn[k] != mn[k] || (double)(float)mx[k] != mx[k]) f64 = 1;
    hn_buf raw;
    hn_buf_init(&raw);
    for (uint32_t k = 0; k < C; k++) {
        if (f64) {
            hn_buf_f64(&raw, mn[k]);
            hn_buf_f64(&raw, mx[k]);
        } else {
            hn_buf_f32(&raw, (float)mn[k]);
            hn_buf_f32(&raw, (float)mx[k]);
        }
    }
    hn_buf_u8(b, (uint8_t)f64);
    hiner_status st = raw.err ? HINER_E_NOMEM : hn_text_encode(b, raw.p, raw.n);
    hn_buf_free(&raw);
    return st;
}

hiner_status hn_pl_mask(hn_buf *b, const hn_data *d)
{
    hn_buf_u8(b, (uint8_t)d->mask_per_band);
    return hn_mask_encode(b, d->valid, d->W, d->H, d->mask_per_band ? d->C : 1);
}

/* Compresses a text record after replaying the reader on it (hn_read_model: HN_MAX_TEXT per
 * record, the metadata store's cap across WAVE, GEO and META in that order), so the writer
 * never makes a file its own reader would refuse. */
static hiner_status text_payload(hn_buf *b, const hn_buf *raw, hn_meta_store *trial,
                                 hiner_status (*parse)(hn_rd *, hn_meta_store *, double *),
                                 double *wl)
{
    HN_CHECK(raw->err, HINER_E_NOMEM);
    HN_CHECK(raw->n > HN_MAX_TEXT, HINER_E_LIMIT);
    hn_rd r;
    hn_rd_init(&r, raw->p, raw->n);
    hiner_status st = parse(&r, trial, wl);
    if (st != HINER_OK) return st == HINER_E_NOMEM ? st : HINER_E_LIMIT; /* a string > MAX_STR */
    return hn_text_encode(b, raw->p, raw->n);
}

static hiner_status parse_geo(hn_rd *r, hn_meta_store *s, double *wl)
{
    (void)wl;
    return hn_geo_parse(r, s);
}

static hiner_status parse_metarec(hn_rd *r, hn_meta_store *s, double *wl)
{
    (void)wl;
    return hn_metarec_parse(r, s);
}

hiner_status hn_pl_wave(hn_buf *b, const hn_data *d, const hiner_meta *meta, hn_meta_store *trial)
{
    hn_buf raw;
    hn_buf_init(&raw);
    hn_wave_serialize(&raw, meta ? meta->wavelength_units : NULL, d->wavelengths,
                      meta ? meta->fwhm : NULL, d->C);
    double *wl = hn_malloc(d->C, sizeof(double));
    hiner_status st = wl ? text_payload(b, &raw, trial, hn_wave_parse, wl) : HINER_E_NOMEM;
    hn_free(wl);
    hn_buf_free(&raw);
    return st;
}

hiner_status hn_pl_geo(hn_buf *b, const hiner_meta *meta, hn_meta_store *trial)
{
    hn_buf raw;
    hn_buf_init(&raw);
    hn_geo_serialize(&raw, meta);
    hiner_status st = text_payload(b, &raw, trial, parse_geo, NULL);
    hn_buf_free(&raw);
    return st;
}

hiner_status hn_pl_meta(hn_buf *b, const hiner_meta *meta, uint32_t C, hn_meta_store *trial)
{
    hn_buf raw;
    hn_buf_init(&raw);
    hn_metarec_serialize(&raw, meta, C);
    hiner_status st = text_payload(b, &raw, trial, parse_metarec, NULL);
    hn_buf_free(&raw);
    return st;
}

hiner_status hn_pl_text(hn_buf *b, const char *text)
{
    return hn_text_encode(b, (const uint8_t *)text, strlen(text));
}

void hn_pl_arch(hn_buf *b, const hiner_plan *pl, int lam_mode, double lam_lo, double lam_scale)
{
    hn_pl_arch_tile(b, pl, 0, 0, 0, lam_mode, lam_lo, lam_scale);
}

void hn_pl_arch_tile(hn_buf *b, const hiner_plan *pl, uint32_t tile, uint32_t x0, uint32_t y0,
                     int lam_mode, double lam_lo, double lam_scale)
{
    hn_buf_u32(b, tile);
    hn_buf_u32(b, x0);
    hn_buf_u32(b, y0);
    hn_buf_u32(b, pl->width);
    hn_buf_u32(b, pl->height);
    hn_buf_u32(b, pl->pad_width);
    hn_buf_u32(b, pl->pad_height);
    hn_buf_u32(b, pl->pad_left);
    hn_buf_u32(b, pl->pad_top);
    hn_buf_u16(b, (uint16_t)pl->embed_channels);
    hn_buf_u16(b, (uint16_t)pl->embed_height);
    hn_buf_u16(b, (uint16_t)pl->embed_width);
    hn_buf_u16(b, (uint16_t)pl->widths[0]);
    hn_buf_u8(b, (uint8_t)pl->n_stages);
    for (int i = 0; i < pl->n_stages; i++) {
        hn_buf_u8(b, (uint8_t)pl->strides[i]);
        hn_buf_u8(b, (uint8_t)pl->kernels[i]);
        hn_buf_u16(b, (uint16_t)pl->widths[i + 1]);
    }
    hn_buf_u8(b, 3); /* head kernel */
    hn_buf_u8(b, 0); /* exact GELU */
    hn_buf_u8(b, 0); /* tanh * 0.5 + 0.5 */
    hn_buf_u16(b, (uint16_t)pl->enc_freqs);
    hn_buf_f32(b, pl->enc_base);
    hn_buf_u16(b, (uint16_t)pl->enc_hidden);
    hn_buf_u8(b, (uint8_t)lam_mode);
    hn_buf_f64(b, lam_lo);
    hn_buf_f64(b, lam_scale);
}

hiner_status hn_pl_tensors(hn_buf *b, int method, hn_qtensor *qt, size_t nt)
{
    hn_buf_u32(b, 0); /* tile */
    hn_buf_u8(b, (uint8_t)method);
    hn_buf_u16(b, (uint16_t)nt);
    for (size_t t = 0; t < nt; t++) {
        hn_buf_u8(b, (uint8_t)qt[t].bits);
        hn_buf_u8(b, (uint8_t)qt[t].mode);
        size_t ns = hn_qtensor_side_count(&qt[t]);
        for (size_t i = 0; i < ns; i++) {
            if (qt[t].mode == 2 && i > 0) hn_buf_u8(b, (uint8_t)qt[t].side[i]);
            else hn_buf_u16(b, qt[t].side[i]);
        }
    }
    hn_sym_seg segs[HN_MAX_TENSORS];
    HN_CHECK(nt > HN_MAX_TENSORS, HINER_E_GENERIC);
    for (size_t t = 0; t < nt; t++) {
        segs[t].sym = qt[t].q;
        segs[t].n = qt[t].rows * qt[t].cols;
        segs[t].bits = qt[t].bits;
        segs[t].ctx = t < 15 ? (int)t : 15;
    }
    HN_FORWARD(hn_entropy_encode(b, segs, nt, method));
    HN_CHECK(b->err, HINER_E_NOMEM);
    return HINER_OK;
}
