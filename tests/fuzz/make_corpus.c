/*
 * make_corpus.c - writes the fuzzers' seed corpus: small real .hiner streams (a few KB)
 * trained briefly on synthetic cubes, one per feature of the format a reader must parse
 * (both entropy coders, the encoder or the embeddings, shared and per-band masks, f32 and
 * f64 band ranges, wavelengths or band indices, every metadata record).
 * With a second directory, also the seeds of fuzz_records: each text record of those
 * files decompressed (META, GEO, WAVE) behind fuzz_records' selector and band count, and
 * each MASK and tensor payload.
 * Usage: make_corpus DIR [RECORDS_DIR]   (files are named seed-*, no extension:
 *        .gitignore drops *.hiner)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/codec/container.h"
#include "../synth.h"
#include "hiner.h"

typedef struct seed {
    const char *name;
    int W, H, C;
    hiner_dtype t;
    int holes;       /* 0 none, 1 the same in every band, 2 varying per band */
    int wavelengths;
    int meta;
    int entropy, store_encoder;
    double scale;    /* value range; large values force f64 band ranges */
    double kbytes;   /* file size target */
    int tile;        /* tile side (0: one tile) */
} seed;

static const seed seeds[] = {
    {"seed-u16-meta-arith", 16, 12, 8, HINER_UINT16, 0, 1, 1, 2, 1, 9000, 4, 0},
    {"seed-u16-meta-huffman", 16, 12, 8, HINER_UINT16, 0, 1, 1, 1, 1, 9000, 4, 0},
    {"seed-f32-nan-noband-wl", 12, 10, 6, HINER_FLOAT32, 1, 0, 0, 2, 1, 1, 2, 0},
    {"seed-i16-perband-mask-embd", 12, 10, 6, HINER_INT16, 2, 1, 0, 1, 0, 3000, 2, 0},
    {"seed-f64-wide-range", 10, 8, 5, HINER_FLOAT64, 0, 1, 0, 2, 1, 1e12, 2, 0},
    {"seed-u8-1x1", 1, 1, 4, HINER_UINT8, 0, 1, 0, 1, 1, 200, 2, 0},
    {"seed-u8-many-bands", 6, 5, 48, HINER_UINT8, 1, 1, 1, 2, 0, 200, 4, 0},
    {"seed-tiled-u16-holes", 24, 20, 6, HINER_UINT16, 2, 1, 1, 2, 1, 9000, 14, 10},
    {"seed-tiled-f32-nan-embd", 21, 16, 5, HINER_FLOAT32, 1, 0, 0, 1, 0, 1, 10, 8},
};

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    int ok = fwrite(p, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    printf("%-32s %6zu bytes\n", name, n);
    return !ok;
}

/* fuzz_records seeds from one stream: selector, band count (LE16), then the record. */
static int records(const char *dir, const char *name, const uint8_t *p, size_t n, uint32_t C)
{
    hn_chunk ch[64];
    size_t count;
    int major, minor, rc = 0;
    if (hn_container_parse(p, n, ch, 64, &count, &major, &minor) != HINER_OK) return 1;
    for (size_t i = 0; i < count; i++) {
        int sel = hn_chunk_is(&ch[i], "META") ? 0 : hn_chunk_is(&ch[i], "GEO ") ? 1
                : hn_chunk_is(&ch[i], "WAVE") ? 2 : -1;
        hn_buf out;
        hn_buf_init(&out);
        hn_buf_u8(&out, (uint8_t)(sel >= 0 ? sel : 6));
        hn_buf_u16(&out, (uint16_t)(C - 1)); /* fuzz_records: bands = dim % 2048 + 1 */
        if (sel >= 0) {
            hn_rd r;
            hn_rd_init(&r, ch[i].data, ch[i].n);
            uint8_t *text = NULL;
            size_t tn = 0;
            if (hn_text_decode(&r, &text, &tn, (size_t)1 << 24) != HINER_OK) rc = 1;
            hn_buf_put(&out, text, tn);
            hn_free(text);
        } else if (hn_chunk_is(&ch[i], "TRNG")) {
            hn_buf_put(&out, ch[i].data, ch[i].n); /* the text coder itself */
        } else {
            hn_buf_free(&out);
            continue;
        }
        char file[256];
        snprintf(file, sizeof file, "%s-%.4s", name, ch[i].type);
        for (char *c = file; *c; c++)
            if (*c == ' ') *c = '_';
        rc |= out.err || write_file(dir, file, out.p, out.n);
        hn_buf_free(&out);
    }
    return rc;
}

/* The seed's samples in its own type, with its holes (fills wl); the caller frees them. */
static unsigned char *seed_samples(const seed *s, double *wl, double nodata)
{
    const size_t n = (size_t)s->W * s->H, total = n * s->C;
    double *unit = malloc(total * sizeof(double)), *src = malloc(total * sizeof(double));
    unsigned char *data = malloc(total * hiner_dtype_size(s->t));
    if (!unit || !src || !data) {
        free(unit), free(src), free(data);
        return NULL;
    }
    synth_cube(unit, s->W, s->H, s->C, wl);
    for (size_t k = 0; k < total; k++) {
        size_t b = k / n, i = k % n;
        int hole = (s->holes == 1 && i % 7 == 3) || (s->holes == 2 && (i + b) % 5 == 0);
        src[k] = hole ? nodata : nearbyint(unit[k] * s->scale);
    }
    for (size_t k = 0; k < total; k++) {
        double v = src[k];
        switch (s->t) {
        case HINER_UINT8: ((uint8_t *)data)[k] = (uint8_t)v; break;
        case HINER_INT16: ((int16_t *)data)[k] = (int16_t)v; break;
        case HINER_UINT16: ((uint16_t *)data)[k] = (uint16_t)v; break;
        case HINER_FLOAT32: ((float *)data)[k] = (float)v; break;
        case HINER_FLOAT64: ((double *)data)[k] = v; break;
        default: break;
        }
    }
    free(unit), free(src);
    return data;
}

static const hiner_gcp seed_gcps[2] = {{"1", "corner", 0.5, 0.5, 10, 20, 8},
                                       {"2", "", 5.5, 4.5, 40, 60, 1}};
static const hiner_meta_item seed_items[4] = {{-1, "", "SENSOR", "synthetic"},
                                              {-1, "IMAGERY", "SATELLITEID", "TEST"},
                                              {0, "", "bbl", "1"},
                                              {1, "ENVI", "note", "odd"}};

typedef struct seed_meta_store {
    const char *descs[64];
    int color[64];
    double fwhm[64];
} seed_meta_store;

/* Every metadata record: geotransform, CRS, GCPs, band descriptions and colours, items,
 * wavelength units and FWHM (when the seed has wavelengths); m holds the per-band arrays. */
static void seed_meta(const seed *s, hiner_meta *meta, seed_meta_store *m)
{
    for (int b = 0; b < s->C && b < 64; b++) {
        m->descs[b] = b % 2 ? "odd band" : "even band";
        m->color[b] = b == 0 ? 1 : 0;
        m->fwhm[b] = 10.0 + b;
    }
    meta->has_geotransform = 1;
    const double gt[6] = {500000, 30, 0, 5800000, 0, -30};
    memcpy(meta->geotransform, gt, sizeof gt);
    meta->crs_wkt = "EPSG:32633";
    meta->n_gcps = 2;
    meta->gcps = seed_gcps;
    meta->gcp_crs_wkt = "EPSG:4326";
    meta->band_descriptions = m->descs;
    meta->color_interp = m->color;
    meta->n_items = 4;
    meta->items = seed_items;
    meta->wavelength_units = "Nanometers";
    meta->fwhm = s->wavelengths ? m->fwhm : NULL;
}

static int make(const char *dir, const char *rdir, const seed *s)
{
    double *wl = malloc(s->C * sizeof(double));
    const double nodata = s->t == HINER_FLOAT32 ? NAN : -999;
    unsigned char *data = wl ? seed_samples(s, wl, nodata) : NULL;
    if (!data) {
        free(wl);
        return 1;
    }
    hiner_cube cube = {0};
    cube.width = (uint32_t)s->W, cube.height = (uint32_t)s->H, cube.bands = (uint32_t)s->C;
    cube.dtype = s->t;
    cube.data = data;
    cube.wavelengths = s->wavelengths ? wl : NULL;
    cube.has_nodata = s->holes && s->t != HINER_FLOAT32;
    cube.nodata = nodata;

    hiner_meta meta = {0};
    seed_meta_store store;
    if (s->meta) seed_meta(s, &meta, &store);
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.size_bytes = (uint64_t)(s->kbytes * 1000);
    p.epochs = 4;
    p.qat_epochs = 1;
    p.entropy = s->entropy;
    p.store_encoder = s->store_encoder;
    p.tile_width = p.tile_height = s->tile;
    void *f = NULL;
    size_t size = 0;
    int st = hiner_encode_mem(&cube, s->meta ? &meta : NULL, &p, &f, &size, NULL);
    int rc = 0;
    if (st != HINER_OK) {
        fprintf(stderr, "%s: %s\n", s->name, hiner_status_str(st));
        rc = 1;
    } else {
        rc = write_file(dir, s->name, f, size);
        if (rdir) rc |= records(rdir, s->name, f, size, (uint32_t)s->C);
    }
    hiner_free(f);
    free(wl), free(data);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s DIR [RECORDS_DIR]\n", argv[0]);
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++)
        rc |= make(argv[1], argc == 3 ? argv[2] : NULL, &seeds[i]);
    return rc;
}
