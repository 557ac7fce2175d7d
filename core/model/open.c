/*
 * open.c - the reading side of the public API: open a stream from callbacks, a file or
 * memory, and describe it (info, metadata, wavelengths). Decoding is in model.c.
 */
#include <math.h>
#include <stdio.h>

#include "../codec/container.h"
#include "fileio.h"

/* Largest stream read into memory: a version-1 file is one network and its metadata. */
#define MAX_FILE ((uint64_t)1 << 30)

int hiner_identify(const void *data, size_t n)
{
    return data && n >= 8 && memcmp(data, hn_magic, 8) == 0;
}

hiner_status hiner_open(const hiner_reader *r, hiner_model **out)
{
    HN_CHECK(!r || !r->read_at || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    HN_CHECK(r->size > MAX_FILE, HINER_E_LIMIT);
    HN_CHECK(r->size < HN_HEADER_BYTES, r->size == 0 ? HINER_E_CORRUPT : HINER_E_TRUNCATED);
    uint8_t head[HN_HEADER_BYTES];
    HN_CHECK(r->read_at(r->user, 0, head, sizeof head) != 0, HINER_E_IO);
    HN_CHECK(!hiner_identify(head, sizeof head), HINER_E_CORRUPT);
    uint8_t *buf = hn_malloc((size_t)r->size, 1);
    HN_CHECK(!buf, HINER_E_NOMEM);
    hiner_status st = HINER_OK;
    if (r->read_at(r->user, 0, buf, (size_t)r->size) != 0) st = HINER_E_IO;
    hn_log lg = {0};
    if (st == HINER_OK) st = hn_read_model(buf, (size_t)r->size, out, &lg);
    hn_free(buf);
    return st;
}

hiner_status hiner_open_mem(const void *data, size_t size, hiner_model **out)
{
    HN_CHECK(!data || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    HN_CHECK(size > MAX_FILE, HINER_E_LIMIT);
    hn_log lg = {0};
    return hn_read_model(data, size, out, &lg);
}

static int file_read_at(void *user, uint64_t off, void *buf, size_t n)
{
    FILE *fp = user;
    if (fseek(fp, (long)off, SEEK_SET) != 0) return 1;
    return fread(buf, 1, n, fp) == n ? 0 : 1;
}

hiner_status hiner_open_file(const char *path, hiner_model **out)
{
    HN_CHECK(!path || !out, HINER_E_INVALID_ARG);
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    HN_CHECK(!fp, HINER_E_IO);
    hiner_status st = HINER_E_IO;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long size = ftell(fp);
        if (size >= 0) {
            hiner_reader r = {(uint64_t)size, file_read_at, fp};
            st = hiner_open(&r, out);
        }
    }
    fclose(fp);
    return st;
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
