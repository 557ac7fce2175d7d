/*
 * golden.h - what make_golden.c records of a golden file and test_golden.c checks again:
 * the exact part as text (info, plan, metadata, wavelengths, the chunks and every stored
 * tensor's bit width and quantization mode) and the decoded planes as floats. Public API
 * only, so the same code builds against an old library to record old files.
 */
#ifndef HINER_TEST_GOLDEN_H
#define HINER_TEST_GOLDEN_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hiner.h"

static uint32_t golden_le32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Rows of the tensors of a DECO / ENCO / EMBD chunk, in file order (docs/format.md). */
static int golden_rows(const char *type, const hiner_plan *pl, int *rows)
{
    int n = 0;
    if (!memcmp(type, "DECO", 4)) {
        rows[n++] = pl->widths[0], rows[n++] = pl->widths[0];
        for (int i = 0; i < pl->n_stages; i++) {
            int r = pl->widths[i + 1] * pl->strides[i] * pl->strides[i];
            rows[n++] = r, rows[n++] = r;
        }
        rows[n++] = 1, rows[n++] = 1;
    } else if (!memcmp(type, "ENCO", 4)) {
        int e = pl->embed_channels * pl->embed_height * pl->embed_width;
        rows[n++] = pl->enc_hidden, rows[n++] = pl->enc_hidden, rows[n++] = e, rows[n++] = e;
    } else if (!memcmp(type, "EMBD", 4)) {
        rows[n++] = (int)pl->bands;
    }
    return n;
}

/* One line per chunk: type, length and, for tensor chunks, the coder and each tensor's
 * bits/mode. Returns 0, or -1 when the bytes do not parse as the format says. */
static int golden_chunks(FILE *o, const unsigned char *f, size_t size, const hiner_plan *pl)
{
    size_t at = 16;
    while (at + 12 <= size) {
        uint32_t len = golden_le32(f + at + 8);
        const unsigned char *p = f + at + 12;
        if (len > size - at - 16) return -1;
        fprintf(o, "chunk %.4s %u", (const char *)(f + at), len);
        int rows[4 + 2 * HINER_MAX_STAGES];
        int nt = golden_rows((const char *)(f + at), pl, rows);
        if (nt > 0 && len >= 7) {
            int count = p[5] | p[6] << 8;
            size_t q = 7;
            fprintf(o, " method %d tensors %d:", p[4], count);
            for (int t = 0; t < count && t < nt && q + 2 <= len; t++) {
                int bits = p[q], mode = p[q + 1];
                fprintf(o, " %d/%d", bits, mode);
                q += 2 + (mode == 0 ? 4 : mode == 1 ? 4 * (size_t)rows[t] : 2 + (size_t)rows[t]);
            }
        }
        fprintf(o, "\n");
        at += 16 + (size_t)len;
    }
    return at == size ? 0 : -1;
}

static void golden_str(FILE *o, const char *key, const char *s)
{
    fprintf(o, "%s \"", key);
    for (; s && *s; s++) fputc(*s == '\n' ? '|' : *s, o);
    fprintf(o, "\"\n");
}

/* The exact description of an opened file. */
static int golden_describe(FILE *o, hiner_model *m, const unsigned char *f, size_t size)
{
    hiner_info in;
    hiner_plan pl;
    hiner_meta mt;
    if (hiner_model_info(m, &in) || hiner_model_plan(m, &pl) || hiner_model_meta(m, &mt))
        return -1;
    fprintf(o, "format %d.%d\nsize %u %u %u\ndtype %s\n", in.format_major, in.format_minor,
            in.width, in.height, in.bands, hiner_dtype_name(in.dtype));
    fprintf(o, "nodata %d %.17g\nmask %d\nencoder %d\nwavelengths %d %.17g %.17g\n",
            in.has_nodata, in.nodata, in.has_mask, in.has_encoder, in.has_wavelengths,
            in.wavelength_min, in.wavelength_max);
    fprintf(o, "entropy %d\nquant_bits %d\nbpppb %.17g\n", in.entropy, in.quant_bits, in.bpppb);
    fprintf(o, "bits %llu %llu %llu %llu %llu %llu\n", (unsigned long long)in.bits.header,
            (unsigned long long)in.bits.metadata, (unsigned long long)in.bits.decoder,
            (unsigned long long)in.bits.embeddings, (unsigned long long)in.bits.encoder,
            (unsigned long long)in.bits.total);
    fprintf(o, "plan pad %u %u at %u %u embed %d %d %d enc %d %d %.9g stages", pl.pad_width,
            pl.pad_height, pl.pad_left, pl.pad_top, pl.embed_channels, pl.embed_height,
            pl.embed_width, pl.enc_freqs, pl.enc_hidden, (double)pl.enc_base);
    for (int i = 0; i < pl.n_stages; i++)
        fprintf(o, " %d/%d/%d", pl.strides[i], pl.kernels[i], pl.widths[i + 1]);
    fprintf(o, " width0 %d params %llu %llu %llu\n", pl.widths[0],
            (unsigned long long)pl.decoder_params, (unsigned long long)pl.embedding_params,
            (unsigned long long)pl.encoder_params);
    golden_str(o, "training", in.training);
    if (mt.has_geotransform)
        fprintf(o, "geotransform %.17g %.17g %.17g %.17g %.17g %.17g\n", mt.geotransform[0],
                mt.geotransform[1], mt.geotransform[2], mt.geotransform[3], mt.geotransform[4],
                mt.geotransform[5]);
    if (mt.crs_wkt) golden_str(o, "crs", mt.crs_wkt);
    for (uint32_t i = 0; i < mt.n_gcps; i++)
        fprintf(o, "gcp \"%s\" \"%s\" %.17g %.17g %.17g %.17g %.17g\n", mt.gcps[i].id,
                mt.gcps[i].info, mt.gcps[i].pixel, mt.gcps[i].line, mt.gcps[i].x, mt.gcps[i].y,
                mt.gcps[i].z);
    if (mt.gcp_crs_wkt) golden_str(o, "gcp_crs", mt.gcp_crs_wkt);
    if (mt.wavelength_units) golden_str(o, "units", mt.wavelength_units);
    for (uint32_t b = 0; b < in.bands; b++) {
        if (mt.band_descriptions && mt.band_descriptions[b])
            fprintf(o, "band %u description \"%s\"\n", b, mt.band_descriptions[b]);
        if (mt.color_interp) fprintf(o, "band %u color %d\n", b, mt.color_interp[b]);
        if (mt.fwhm) fprintf(o, "band %u fwhm %.17g\n", b, mt.fwhm[b]);
    }
    for (uint32_t i = 0; i < mt.n_items; i++)
        fprintf(o, "item %d \"%s\" \"%s\" \"%s\"\n", mt.items[i].band, mt.items[i].domain,
                mt.items[i].key, mt.items[i].value);
    const double *wl = hiner_model_wavelengths(m);
    for (uint32_t b = 0; wl && b < in.bands; b++) fprintf(o, "wavelength %u %.17g\n", b, wl[b]);
    return golden_chunks(o, f, size, &pl);
}

/* The decoded planes recorded with a file: every band (hiner_model_decode_band), then,
 * with a stored encoder, the wavelength halfway between the first two bands. */
static int golden_planes(const hiner_model *m)
{
    hiner_info in;
    hiner_model_info(m, &in);
    return (int)in.bands + (in.has_encoder ? 1 : 0);
}

static double golden_between(hiner_model *m)
{
    const double *wl = hiner_model_wavelengths(m);
    return wl ? 0.5 * (wl[0] + wl[1]) : 0.5;
}

static hiner_status golden_decode(hiner_model *m, int plane, float *out)
{
    hiner_info in;
    hiner_model_info(m, &in);
    if ((uint32_t)plane < in.bands) return hiner_model_decode_band(m, (uint32_t)plane, out);
    return hiner_model_decode_wavelength(m, golden_between(m), out);
}

static hiner_status golden_decode_as(hiner_model *m, int plane, void *out)
{
    hiner_info in;
    hiner_model_info(m, &in);
    if ((uint32_t)plane < in.bands)
        return hiner_model_decode_band_as(m, (uint32_t)plane, in.dtype, out);
    return hiner_model_decode_wavelength_as(m, golden_between(m), in.dtype, out);
}

/* FNV-1a 64 of bytes. */
static uint64_t golden_fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
#define GOLDEN_FNV0 0xcbf29ce484222325ull

#endif
