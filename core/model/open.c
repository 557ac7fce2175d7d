/*
 * open.c - the reading side of the public API: open a stream from callbacks, a file or
 * memory, and describe it (info, metadata, wavelengths). Decoding is in model.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>

#include "../codec/container.h"
#include "tiles.h"

int hiner_identify(const void *data, size_t n)
{
    return data && n >= 8 && memcmp(data, hn_magic, 8) == 0;
}

/* The header's magic, then the stream as a model (tileread.c). */
static hiner_status open_reader(const hiner_reader *r, int lazy, FILE *fp, hiner_model **out)
{
    *out = NULL;
    hiner_status st = HINER_OK;
    uint8_t head[HN_HEADER_BYTES];
    if (r->size < HN_HEADER_BYTES) st = r->size == 0 ? HINER_E_CORRUPT : HINER_E_TRUNCATED;
    if (st == HINER_OK && r->read_at(r->user, 0, head, sizeof head) != 0) st = HINER_E_IO;
    if (st == HINER_OK && !hiner_identify(head, sizeof head)) st = HINER_E_CORRUPT;
    if (st != HINER_OK) {
        if (fp) fclose(fp);
        return st;
    }
    return hn_open_stream(r, lazy, fp, out);
}

hiner_status hiner_open(const hiner_reader *r, hiner_model **out)
{
    HN_CHECK(!r || !r->read_at || !out, HINER_E_INVALID_ARG);
    return open_reader(r, 0, NULL, out);
}

hiner_status hiner_open_lazy(const hiner_reader *r, hiner_model **out)
{
    HN_CHECK(!r || !r->read_at || !out, HINER_E_INVALID_ARG);
    return open_reader(r, 1, NULL, out);
}

typedef struct mem_src {
    const uint8_t *p;
    size_t n;
} mem_src;

static int mem_read_at(void *user, uint64_t off, void *buf, size_t n)
{
    const mem_src *m = user;
    if (off > m->n || n > m->n - off) return 1;
    memcpy(buf, m->p + off, n);
    return 0;
}

hiner_status hiner_open_mem(const void *data, size_t size, hiner_model **out)
{
    HN_CHECK(!data || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    HN_CHECK(size > HN_MAX_FILE, HINER_E_LIMIT);
    mem_src src = {data, size};
    const hiner_reader r = {size, mem_read_at, &src};
    return open_reader(&r, 0, NULL, out);
}

static int file_read_at(void *user, uint64_t off, void *buf, size_t n)
{
    FILE *fp = user;
    if (fseeko(fp, (off_t)off, SEEK_SET) != 0) return 1;
    return fread(buf, 1, n, fp) == n ? 0 : 1;
}

hiner_status hiner_open_file(const char *path, hiner_model **out)
{
    HN_CHECK(!path || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    HN_CHECK(!fp, HINER_E_IO);
    off_t size = -1;
    if (fseeko(fp, 0, SEEK_END) == 0) size = ftello(fp);
    if (size < 0) {
        fclose(fp);
        return HINER_E_IO;
    }
    const hiner_reader r = {(uint64_t)size, file_read_at, fp};
    return open_reader(&r, 1, fp, out); /* a tiled file keeps fp until hiner_model_free */
}

hiner_status hiner_model_info(const hiner_model *m, hiner_info *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    memset(out, 0, sizeof *out);
    out->width = m->plan.width;
    out->height = m->plan.height;
    out->bands = m->plan.bands;
    out->dtype = m->dtype;
    out->has_nodata = m->has_nodata;
    out->nodata = m->nodata;
    out->has_mask = m->valid != NULL;
    out->has_encoder = m->has_encoder;
    out->has_wavelengths = m->wavelengths != NULL;
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t b = 0; b < m->plan.bands; b++) {
        double x = m->wavelengths ? m->wavelengths[b] : (double)b;
        lo = fmin(lo, x);
        hi = fmax(hi, x);
    }
    out->wavelength_min = lo;
    out->wavelength_max = hi;
    out->format_major = m->format_major;
    out->format_minor = m->format_minor;
    out->entropy = m->entropy;
    out->quant_bits = m->quant_bits;
    out->bits = m->bits;
    out->bpppb = m->bits.total * 8.0 / ((double)m->plan.width * m->plan.height * m->plan.bands);
    out->training = m->training ? m->training : "";
    out->tile_width = m->plan.width;
    out->tile_height = m->plan.height;
    out->tiles_x = out->tiles_y = 1;
    if (m->ts) {
        const hn_grid *g = hn_tiles_grid(m);
        out->has_mask = m->has_mask_flag;
        out->tile_width = g->tw;
        out->tile_height = g->th;
        out->tiles_x = g->nx;
        out->tiles_y = g->ny;
    }
    return HINER_OK;
}

hiner_status hiner_model_meta(const hiner_model *m, hiner_meta *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    memset(out, 0, sizeof *out);
    if (m->meta) *out = *hn_meta_store_view(m->meta);
    return HINER_OK;
}

const double *hiner_model_wavelengths(const hiner_model *m)
{
    return m ? m->wavelengths : NULL;
}

hiner_status hiner_model_band_range(const hiner_model *m, uint32_t band, double *min, double *max)
{
    HN_CHECK(!m || !min || !max, HINER_E_INVALID_ARG);
    HN_CHECK(band >= m->plan.bands, HINER_E_RANGE);
    *min = m->band_min[band];
    *max = m->band_max[band];
    return HINER_OK;
}
