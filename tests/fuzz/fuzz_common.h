/*
 * fuzz_common.h - what the fuzz targets and the regression replay share: a CRC fix-up that
 * lets mutated bytes reach the payload parsers (every chunk carries a CRC-32, which random
 * mutations would almost always break), one pass over the public reading API, and the
 * payload decoders fed directly (fuzz_records).
 */
#ifndef HINER_FUZZ_COMMON_H
#define HINER_FUZZ_COMMON_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/codec/codec.h"
#include "../../core/model/model.h"
#include "hiner.h"

/* Rewrites the CRC of every whole chunk of p[0, n) (docs/format.md, "Layout"), walking the
 * framing as the container parser does; stops at the first length that runs past the end. */
static inline void fuzz_fix_crcs(uint8_t *p, size_t n)
{
    size_t pos = 16;
    while (n >= 16 && pos <= n - 16) {
        uint8_t *h = p + pos;
        uint32_t len = hn_read_le32(h + 8);
        if ((size_t)len > n - pos - 16) break;
        hn_write_le32(h + 12 + len, hn_crc32(hn_crc32(0, h, 12), h + 12, len));
        pos += 16 + (size_t)len;
    }
}

/* The statuses a reader may give for a bad stream (hiner.h, hiner_open). */
static inline int fuzz_clean_open_status(int st)
{
    return st == HINER_E_CORRUPT || st == HINER_E_TRUNCATED || st == HINER_E_VERSION ||
           st == HINER_E_LIMIT || st == HINER_E_NOMEM;
}

/* Largest decode the targets run: a hostile ARCH may ask for ~2^50 multiply-adds per band
 * (docs/robustness.md), which is slow, not unsafe; fuzzing spends its time elsewhere. */
#define FUZZ_MAX_MACS 4e7
#define FUZZ_MAX_PIXELS ((size_t)1 << 20)

/* Opens and exercises a stream through the public API; returns the open status, or a
 * positive value when a call on an opened model misbehaved (a status outside the set its
 * documentation allows). */
static inline int fuzz_exercise(const uint8_t *data, size_t size)
{
    hiner_model *m = NULL;
    int st = hiner_open_mem(data, size, &m);
    if (st != HINER_OK) return m == NULL ? st : 1;
    int bad = 0;
    hiner_info in;
    hiner_meta meta;
    hiner_plan pl;
    if (hiner_model_info(m, &in) != HINER_OK || hiner_model_meta(m, &meta) != HINER_OK ||
        hiner_model_plan(m, &pl) != HINER_OK) {
        hiner_model_free(m);
        return 2;
    }
    /* touch everything the metadata points at, as a caller would */
    size_t sum = strlen(in.training);
    if (meta.crs_wkt) sum += strlen(meta.crs_wkt);
    if (meta.gcp_crs_wkt) sum += strlen(meta.gcp_crs_wkt);
    if (meta.wavelength_units) sum += strlen(meta.wavelength_units);
    for (uint32_t i = 0; i < meta.n_gcps; i++)
        sum += strlen(meta.gcps[i].id) + strlen(meta.gcps[i].info);
    for (uint32_t i = 0; i < meta.n_items; i++) {
        const hiner_meta_item *it = &meta.items[i];
        sum += strlen(it->domain) + strlen(it->key) + strlen(it->value);
        if (it->band < -1 || it->band >= (int32_t)in.bands) bad = 3;
    }
    for (uint32_t b = 0; b < in.bands; b++) {
        if (meta.band_descriptions && meta.band_descriptions[b])
            sum += strlen(meta.band_descriptions[b]);
        if (meta.color_interp) sum += (size_t)meta.color_interp[b];
        if (meta.fwhm) sum += (size_t)(meta.fwhm[b] != 0);
    }
    const double *wl = hiner_model_wavelengths(m);
    if (wl && !in.has_wavelengths) bad = 4;
    (void)sum;

    const size_t npix = (size_t)in.width * in.height;
    if (in.tiles_x * (uint64_t)in.tiles_y > 1) {
        /* a tiled file: each tile's index entry and network, each small tile decoded */
        double *out = malloc((size_t)in.tile_width * in.tile_height * sizeof(double));
        for (uint32_t ty = 0; out && ty < in.tiles_y && ty < 8; ty++)
            for (uint32_t tx = 0; tx < in.tiles_x && tx < 8; tx++) {
                hiner_tile_info ti;
                int s = hiner_model_tile_info(m, tx, ty, &ti);
                if (s != HINER_OK) {
                    if (!fuzz_clean_open_status(s)) bad = 9;
                    continue;
                }
                if (ti.plan.forward_macs > FUZZ_MAX_MACS) continue;
                s = hiner_model_decode_tile_as(m, tx, ty, 0, in.bands - 1, HINER_FLOAT64, out);
                if (s != HINER_OK && !fuzz_clean_open_status(s)) bad = 10;
                if (in.has_encoder) {
                    const double at = in.wavelength_min + 0.37 * (in.wavelength_max - in.wavelength_min);
                    s = hiner_model_decode_tile_as(m, tx, ty, 1, at, HINER_UINT8, out);
                    if (s != HINER_OK && !fuzz_clean_open_status(s) && isfinite(at)) bad = 11;
                }
            }
        if (hiner_model_decode_tile_as(m, in.tiles_x, 0, 0, 0, HINER_FLOAT32, out) != HINER_E_RANGE)
            bad = 12;
        free(out);
        hiner_model_free(m);
        return bad;
    }
    if (pl.forward_macs <= FUZZ_MAX_MACS && npix <= FUZZ_MAX_PIXELS) {
        double *out = malloc(npix * sizeof(double));
        if (out) {
            /* the first, the last and a middle band, each in another type */
            const uint32_t bands[3] = {0, in.bands - 1, in.bands / 2};
            const hiner_dtype types[3] = {in.dtype, HINER_FLOAT64, HINER_UINT8};
            for (int k = 0; k < 3; k++) {
                int s = hiner_model_decode_band_as(m, bands[k], types[k], out);
                if (s != HINER_OK && s != HINER_E_NOMEM) bad = 5;
            }
            if (hiner_model_decode_band_as(m, in.bands, HINER_FLOAT32, out) != HINER_E_RANGE)
                bad = 6;
            /* a wavelength between the first two positions, and one outside */
            double lo = in.wavelength_min, hi = in.wavelength_max;
            double at = lo + 0.37 * (hi - lo);
            int s = hiner_model_decode_wavelength_as(m, at, HINER_FLOAT32, out);
            if (in.has_encoder ? (s != HINER_OK && s != HINER_E_NOMEM && isfinite(at))
                               : s != HINER_E_UNSUPPORTED)
                bad = 7;
            const double past = hi + fabs(hi) + 1.0;
            s = hiner_model_decode_wavelength(m, past, (float *)out);
            if (in.has_encoder && isfinite(past) && s != HINER_E_RANGE) bad = 8;
            free(out);
        }
    }
    hiner_model_free(m);
    return bad;
}

/* fuzz_records.c's target: the first byte picks a payload decoder, the next two its
 * dimensions, the rest is its input. Aborts on a result the decoder's contract excludes. */
static inline void fuzz_records_one(const uint8_t *data, size_t size)
{
    if (size < 3) return;
    const int which = data[0] % 7;
    const uint32_t dim = (uint32_t)data[1] | (uint32_t)data[2] << 8; /* 0..65535 */
    hn_rd r;
    hn_rd_init(&r, data + 3, size - 3);
    switch (which) {
    case 0:
    case 1:
    case 2: {
        hn_meta_store *s = hn_meta_store_new(dim % 2048 + 1);
        double *wl = calloc(dim % 2048 + 1, sizeof(double));
        if (s && wl) {
            hiner_status st = which == 0   ? hn_metarec_parse(&r, s)
                              : which == 1 ? hn_geo_parse(&r, s)
                                           : hn_wave_parse(&r, s, wl);
            if (st == HINER_OK) {
                const hiner_meta *v = hn_meta_store_view(s);
                size_t sum = 0;
                for (uint32_t i = 0; i < v->n_items; i++)
                    sum += strlen(v->items[i].key) + strlen(v->items[i].value) +
                           strlen(v->items[i].domain);
                for (uint32_t i = 0; i < v->n_gcps; i++)
                    sum += strlen(v->gcps[i].id) + strlen(v->gcps[i].info);
                (void)sum;
            } else if (st != HINER_E_CORRUPT && st != HINER_E_LIMIT && st != HINER_E_NOMEM) {
                abort();
            }
        }
        free(wl);
        hn_meta_store_free(s);
        break;
    }
    case 3: { /* W, H up to 64, planes up to 16 */
        size_t W = dim % 64 + 1, H = (dim >> 6) % 64 + 1, P = (dim >> 12) + 1;
        uint8_t *mask = malloc(W * H * P);
        if (mask) hn_mask_decode(&r, mask, W, H, P);
        free(mask);
        break;
    }
    case 4:
    case 5: { /* up to 4 segments of up to 4096 symbols, bits 1..16 */
        hn_sym_seg seg[4];
        uint16_t *buf = malloc(4 * 4096 * sizeof(uint16_t));
        size_t nseg = dim % 4 + 1;
        for (size_t i = 0; i < nseg && buf; i++) {
            seg[i].sym = buf + i * 4096;
            seg[i].n = ((dim >> 2) * (i + 7)) % 4097;
            seg[i].bits = (int)((dim >> (2 + i)) % 16) + 1;
            seg[i].ctx = (int)i;
        }
        if (buf && hn_entropy_decode(&r, seg, nseg, which == 4 ? 1 : 2) == HINER_OK)
            for (size_t i = 0; i < nseg; i++)
                for (size_t j = 0; j < seg[i].n; j++)
                    if (seg[i].sym[j] >> seg[i].bits) abort(); /* a symbol wider than bits */
        free(buf);
        break;
    }
    case 6: {
        uint8_t *out = NULL;
        size_t n = 0;
        /* 64 KB: a noise stream may decode up to 1536 bytes per input byte, slowly */
        if (hn_text_decode(&r, &out, &n, (size_t)1 << 16) == HINER_OK && out[n] != 0) abort();
        hn_free(out);
        break;
    }
    }
}

#endif
