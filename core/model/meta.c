/*
 * meta.c - the metadata a file carries besides the network (docs/format.md: GEO, META,
 * WAVE): the store that owns what a file's records hold, their parsers, and the
 * serialisation of each chunk's record before the text coder compresses it.
 */
#include <locale.h>
#include <math.h>

#include "../codec/codec.h"
#include "cnumeric.h"
#include "meta.h"

/* Longest string a reader accepts inside a record (a CRS WKT is a few KB). */
#define MAX_STR ((size_t)1 << 24)
/* Memory the metadata read from one file may take (strings, items, GCPs, per-band arrays).
 * Records are at most 64 MiB of text each, but a record can name far more memory than its
 * size: one band column's domain and key are copied for every band that has the item, so
 * 128 KB of text would make 500 MB. Real metadata takes kilobytes. */
#define MAX_STORE ((size_t)128 << 20)
/* What an allocation of n bytes costs with the allocator's header and rounding. */
#define ALLOC_COST(n) (((n) + 16 + 15) & ~(size_t)15)

struct hn_meta_store {
    hiner_meta view;    /* what hiner_model_meta hands out; points into the fields below */
    uint32_t bands;
    char *crs, *gcp_crs, *units;
    hiner_gcp *gcps;
    char **desc;        /* bands entries or NULL */
    int *color;         /* bands entries or NULL */
    hiner_meta_item *items;
    uint32_t n_items, cap_items;
    double *fwhm;
    size_t bytes;       /* charged against MAX_STORE while reading */
    int over;           /* a charge went over MAX_STORE */
};

static char *dup_str(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1); /* not hn_malloc: its 64-byte alignment would triple small strings */
    if (d) memcpy(d, s, n + 1);
    return d;
}

void hn_meta_store_free(hn_meta_store *s)
{
    if (!s) return;
    hn_free(s->crs);
    hn_free(s->gcp_crs);
    hn_free(s->units);
    if (s->gcps)
        for (uint32_t i = 0; i < s->view.n_gcps; i++) {
            hn_free((char *)s->gcps[i].id);
            hn_free((char *)s->gcps[i].info);
        }
    hn_free(s->gcps);
    if (s->desc)
        for (uint32_t b = 0; b < s->bands; b++) hn_free(s->desc[b]);
    hn_free(s->desc);
    hn_free(s->color);
    for (uint32_t i = 0; i < s->n_items; i++) {
        hn_free((char *)s->items[i].domain);
        hn_free((char *)s->items[i].key);
        hn_free((char *)s->items[i].value);
    }
    hn_free(s->items);
    hn_free(s->fwhm);
    free(s);
}

hn_meta_store *hn_meta_store_new(uint32_t bands)
{
    hn_meta_store *s = calloc(1, sizeof *s);
    if (s) s->bands = bands;
    return s;
}

/* Counts n bytes against MAX_STORE before they are allocated; 0 (and `over` set) beyond. */
static int charge(hn_meta_store *s, size_t n)
{
    size_t c = n > MAX_STORE ? MAX_STORE + 1 : ALLOC_COST(n);
    if (s->over || c > MAX_STORE - s->bytes) {
        s->over = 1;
        return 0;
    }
    s->bytes += c;
    return 1;
}

/* The status of a string or array the reader could not get. */
static hiner_status why(const hn_rd *r, const hn_meta_store *s)
{
    return s->over ? HINER_E_LIMIT : r->overrun ? HINER_E_CORRUPT : HINER_E_NOMEM;
}

/* A copy of s charged to the store (band items' domain and key). */
static char *dup_charged(hn_meta_store *st, const char *s)
{
    return charge(st, strlen(s) + 1) ? dup_str(s) : NULL;
}

/* hn_rd_str, charged to the store. */
static char *rd_str(hn_rd *r, hn_meta_store *s)
{
    hn_rd t = *r; /* peek at the length */
    uint64_t n = hn_rd_uvar(&t);
    if (!t.overrun && n <= MAX_STR && n <= hn_rd_left(&t) && !charge(s, (size_t)n + 64))
        return NULL;
    return hn_rd_str(r, MAX_STR);
}

/* Rebuilds the public view after the fields changed. */
static void refresh_view(hn_meta_store *s)
{
    s->view.crs_wkt = s->crs;
    s->view.gcp_crs_wkt = s->gcp_crs;
    s->view.gcps = s->gcps;
    s->view.band_descriptions = (const char *const *)s->desc;
    s->view.color_interp = s->color;
    s->view.items = s->items;
    s->view.n_items = s->n_items;
    s->view.wavelength_units = s->units;
    s->view.fwhm = s->fwhm;
}

const hiner_meta *hn_meta_store_view(hn_meta_store *s)
{
    refresh_view(s);
    return &s->view;
}

/* Takes ownership of the three strings (freed on failure). */
static hiner_status add_item(hn_meta_store *s, int32_t band, char *domain, char *key, char *value)
{
    if (!domain || !key || !value) goto fail;
    if (s->n_items == s->cap_items) {
        uint32_t cap = s->cap_items ? 2 * s->cap_items : 16;
        if (!charge(s, (size_t)cap * sizeof *s->items)) {
            hn_free(domain);
            hn_free(key);
            hn_free(value);
            return HINER_E_LIMIT;
        }
        hiner_meta_item *it = realloc(s->items, cap * sizeof *it);
        if (!it) goto fail;
        s->items = it;
        s->cap_items = cap;
    }
    s->items[s->n_items].band = band;
    s->items[s->n_items].domain = domain;
    s->items[s->n_items].key = key;
    s->items[s->n_items].value = value;
    s->n_items++;
    return HINER_OK;
fail:
    hn_free(domain);
    hn_free(key);
    hn_free(value);
    return HINER_E_NOMEM;
}

/* ---- GEO ---- */

void hn_geo_serialize(hn_buf *b, const hiner_meta *m)
{
    uint8_t flags = 0;
    if (m && m->has_geotransform) flags |= 1;
    if (m && m->crs_wkt && m->crs_wkt[0]) flags |= 2;
    if (m && m->n_gcps && m->gcps) flags |= 4;
    hn_buf_u8(b, flags);
    if (flags & 1)
        for (int i = 0; i < 6; i++) hn_buf_f64(b, m->geotransform[i]);
    if (flags & 2) hn_buf_str(b, m->crs_wkt);
    if (flags & 4) {
        hn_buf_uvar(b, m->n_gcps);
        hn_buf_str(b, m->gcp_crs_wkt);
        for (uint32_t i = 0; i < m->n_gcps; i++) {
            const hiner_gcp *g = &m->gcps[i];
            hn_buf_str(b, g->id);
            hn_buf_str(b, g->info);
            hn_buf_f64(b, g->pixel);
            hn_buf_f64(b, g->line);
            hn_buf_f64(b, g->x);
            hn_buf_f64(b, g->y);
            hn_buf_f64(b, g->z);
        }
    }
}

int hn_geo_empty(const hiner_meta *m)
{
    return !m || (!m->has_geotransform && !(m->crs_wkt && m->crs_wkt[0]) &&
                  !(m->n_gcps && m->gcps));
}

hiner_status hn_geo_parse(hn_rd *r, hn_meta_store *s)
{
    uint8_t flags = hn_rd_u8(r);
    if (flags & 1) {
        s->view.has_geotransform = 1;
        for (int i = 0; i < 6; i++) s->view.geotransform[i] = hn_rd_f64(r);
    }
    if (flags & 2) {
        s->crs = rd_str(r, s);
        HN_CHECK(!s->crs, why(r, s));
    }
    if (flags & 4) {
        uint64_t n = hn_rd_uvar(r);
        /* each GCP takes at least 42 bytes: a count beyond what remains is corrupt */
        HN_CHECK(r->overrun || n == 0 || n > hn_rd_left(r) / 42, HINER_E_CORRUPT);
        s->gcp_crs = rd_str(r, s);
        HN_CHECK(!s->gcp_crs, why(r, s));
        HN_CHECK(!charge(s, (size_t)n * sizeof(hiner_gcp)), HINER_E_LIMIT);
        s->gcps = hn_calloc((size_t)n, sizeof(hiner_gcp));
        HN_CHECK(!s->gcps, HINER_E_NOMEM);
        for (uint64_t i = 0; i < n; i++) {
            hiner_gcp *g = &s->gcps[i];
            g->id = rd_str(r, s);
            g->info = g->id ? rd_str(r, s) : NULL;
            s->view.n_gcps = (uint32_t)(i + 1); /* so that free releases what was read */
            HN_CHECK(!g->id || !g->info, why(r, s));
            g->pixel = hn_rd_f64(r);
            g->line = hn_rd_f64(r);
            g->x = hn_rd_f64(r);
            g->y = hn_rd_f64(r);
            g->z = hn_rd_f64(r);
        }
    }
    HN_CHECK(r->overrun, HINER_E_CORRUPT);
    refresh_view(s);
    return HINER_OK;
}

/* ---- META: dataset items, then band columns ---- */

static void put_z(hn_buf *b, const char *s) /* NUL-terminated */
{
    if (s) hn_buf_put(b, s, strlen(s));
    hn_buf_u8(b, 0);
}

/* A NUL-terminated string out of the record, charged to the store. */
static char *get_z(hn_rd *r, hn_meta_store *st)
{
    const uint8_t *z = memchr(r->p, 0, hn_rd_left(r));
    if (!z) {
        r->overrun = 1;
        r->p = r->end;
        return NULL;
    }
    size_t n = (size_t)(z - r->p);
    if (!charge(st, n + 1)) return NULL;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, r->p, n + 1);
    r->p = z + 1;
    return s;
}

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

void hn_metarec_serialize(hn_buf *b, const hiner_meta *m, uint32_t bands)
{
    /* dataset items */
    uint32_t nds = 0;
    for (uint32_t i = 0; m && i < m->n_items; i++) nds += m->items[i].band < 0;
    hn_buf_uvar(b, nds);
    for (uint32_t i = 0; m && i < m->n_items; i++) {
        const hiner_meta_item *it = &m->items[i];
        if (it->band >= 0) continue;
        put_z(b, it->domain);
        put_z(b, it->key);
        put_z(b, it->value);
    }
    /* descriptions and colour interpretation */
    int has_desc = 0, has_color = 0;
    for (uint32_t k = 0; m && m->band_descriptions && k < bands; k++)
        has_desc |= m->band_descriptions[k] && m->band_descriptions[k][0];
    for (uint32_t k = 0; m && m->color_interp && k < bands; k++) has_color |= m->color_interp[k];
    hn_buf_u8(b, (uint8_t)has_desc);
    for (uint32_t k = 0; has_desc && k < bands; k++) put_z(b, m->band_descriptions[k]);
    hn_buf_u8(b, (uint8_t)has_color);
    for (uint32_t k = 0; has_color && k < bands; k++)
        hn_buf_u8(b, (uint8_t)(m->color_interp[k] & 0xff));
    /* band items, one column per distinct (domain, key), in order of first appearance */
    uint32_t n = m ? m->n_items : 0;
    uint8_t *done = n ? calloc(n, 1) : NULL;
    if (n && !done) {
        b->err = 1;
        return;
    }
    uint32_t ncol = 0;
    for (uint32_t i = 0; i < n; i++) {
        const hiner_meta_item *it = &m->items[i];
        if (it->band < 0 || (uint32_t)it->band >= bands || done[i]) continue;
        ncol++;
        for (uint32_t j = i; j < n; j++)
            if (m->items[j].band >= 0 && same(m->items[j].domain, it->domain) &&
                same(m->items[j].key, it->key))
                done[j] = 1;
    }
    if (done) memset(done, 0, n); /* memset(NULL, 0, 0) is undefined */
    hn_buf_uvar(b, ncol);
    size_t pb = ((size_t)bands + 7) / 8;
    uint8_t *pres = calloc(pb ? pb : 1, 1);
    const char **val = calloc(bands ? bands : 1, sizeof(char *));
    if (!pres || !val) b->err = 1;
    for (uint32_t i = 0; i < n && !b->err; i++) {
        const hiner_meta_item *it = &m->items[i];
        if (it->band < 0 || (uint32_t)it->band >= bands || done[i]) continue;
        memset(pres, 0, pb);
        memset(val, 0, bands * sizeof(char *));
        for (uint32_t j = i; j < n; j++) {
            const hiner_meta_item *jt = &m->items[j];
            if (jt->band < 0 || (uint32_t)jt->band >= bands || !same(jt->domain, it->domain) ||
                !same(jt->key, it->key))
                continue;
            done[j] = 1;
            pres[jt->band / 8] |= (uint8_t)(1u << (jt->band % 8));
            val[jt->band] = jt->value ? jt->value : "";
        }
        put_z(b, it->domain);
        put_z(b, it->key);
        hn_buf_put(b, pres, pb);
        for (uint32_t k = 0; k < bands; k++)
            if (val[k]) put_z(b, val[k]);
    }
    free(done);
    free(pres);
    free(val);
}

hiner_status hn_metarec_parse(hn_rd *r, hn_meta_store *s)
{
    const uint32_t bands = s->bands;
    uint64_t nds = hn_rd_uvar(r);
    HN_CHECK(r->overrun || nds > hn_rd_left(r) / 3, HINER_E_CORRUPT);
    for (uint64_t i = 0; i < nds; i++) {
        char *d = get_z(r, s), *k = get_z(r, s), *v = get_z(r, s);
        if (!d || !k || !v) {
            hn_free(d), hn_free(k), hn_free(v);
            return why(r, s);
        }
        HN_FORWARD(add_item(s, -1, d, k, v));
    }
    if (hn_rd_u8(r)) {
        HN_CHECK(!charge(s, (size_t)bands * sizeof(char *)), HINER_E_LIMIT);
        s->desc = hn_calloc(bands, sizeof(char *));
        HN_CHECK(!s->desc, HINER_E_NOMEM);
        for (uint32_t k = 0; k < bands; k++) {
            s->desc[k] = get_z(r, s);
            HN_CHECK(!s->desc[k], why(r, s));
        }
    }
    if (hn_rd_u8(r)) {
        HN_CHECK(!charge(s, (size_t)bands * sizeof(int)), HINER_E_LIMIT);
        s->color = hn_calloc(bands, sizeof(int));
        HN_CHECK(!s->color, HINER_E_NOMEM);
        for (uint32_t k = 0; k < bands; k++) s->color[k] = hn_rd_u8(r);
    }
    uint64_t ncol = hn_rd_uvar(r);
    size_t pb = ((size_t)bands + 7) / 8;
    HN_CHECK(r->overrun || ncol > hn_rd_left(r) / (2 + pb), HINER_E_CORRUPT);
    for (uint64_t c = 0; c < ncol; c++) {
        char *d = get_z(r, s), *k = get_z(r, s);
        const uint8_t *pres = r->p;
        if (!d || !k || hn_rd_left(r) < pb) {
            hiner_status st = !d || !k ? why(r, s) : HINER_E_CORRUPT;
            hn_free(d), hn_free(k);
            return st;
        }
        r->p += pb;
        for (uint32_t bnd = 0; bnd < bands; bnd++) {
            if (!(pres[bnd / 8] & (1u << (bnd % 8)))) continue;
            char *v = get_z(r, s);
            hiner_status st = !v ? why(r, s)
                                 : add_item(s, (int32_t)bnd, dup_charged(s, d),
                                            dup_charged(s, k), v);
            if (st == HINER_E_NOMEM && s->over) st = HINER_E_LIMIT;
            if (st != HINER_OK) {
                hn_free(d), hn_free(k);
                return st;
            }
        }
        hn_free(d);
        hn_free(k);
    }
    HN_CHECK(r->overrun, HINER_E_CORRUPT);
    refresh_view(s);
    return HINER_OK;
}

/* ---- WAVE ---- */

/* The numbers are C-locale decimals whatever the process's locale: an application that
 * runs with the user's (QGIS, any Qt program) would otherwise write 412.5 as "412,5" and
 * fail to read "412.5". The conversions run under the C locale for this thread only. */
void c_numeric_begin(c_numeric *n)
{
    n->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    n->old = n->c ? uselocale(n->c) : (locale_t)0;
}

void c_numeric_end(c_numeric *n)
{
    if (!n->c) return;
    uselocale(n->old);
    freelocale(n->c);
}

/* The shortest decimal that parses back to exactly v, without an exponent between 1e-4
 * and 1e15 (640, not 6.4e+02). */
static void put_double(hn_buf *b, double v)
{
    char s[40];
    const double a = fabs(v);
    const int plain = a == 0 || (a >= 1e-4 && a < 1e15);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v && (!plain || !strchr(s, 'e'))) break;
    }
    for (char *c = s; *c; c++) /* when the C locale could not be had */
        if (*c == ',') *c = '.';
    put_z(b, s);
}

void hn_wave_serialize(hn_buf *b, const char *units, const double *wl, const double *fwhm,
                       uint32_t bands)
{
    c_numeric cn;
    c_numeric_begin(&cn);
    put_z(b, units);
    for (uint32_t k = 0; k < bands; k++) put_double(b, wl[k]);
    put_z(b, fwhm ? "1" : "0");
    for (uint32_t k = 0; fwhm && k < bands; k++) put_double(b, fwhm[k]);
    c_numeric_end(&cn);
}

static hiner_status get_double(hn_rd *r, hn_meta_store *st, double *v)
{
    char *s = get_z(r, st);
    HN_CHECK(!s, why(r, st));
    char *end;
    *v = strtod(s, &end);
    if (*end == ',') { /* written by libhiner 0.1.0 under a decimal-comma locale */
        *end = '.';
        *v = strtod(s, &end);
    }
    int ok = end != s && *end == 0 && isfinite(*v);
    hn_free(s);
    HN_CHECK(!ok, HINER_E_CORRUPT);
    return HINER_OK;
}

static hiner_status wave_parse(hn_rd *r, hn_meta_store *s, double *wl)
{
    s->units = get_z(r, s);
    HN_CHECK(!s->units, why(r, s));
    for (uint32_t k = 0; k < s->bands; k++) HN_FORWARD(get_double(r, s, &wl[k]));
    char *has = get_z(r, s);
    HN_CHECK(!has, why(r, s));
    int f = has[0] == '1';
    hn_free(has);
    if (f) {
        HN_CHECK(!charge(s, (size_t)s->bands * sizeof(double)), HINER_E_LIMIT);
        s->fwhm = hn_malloc(s->bands, sizeof(double));
        HN_CHECK(!s->fwhm, HINER_E_NOMEM);
        for (uint32_t k = 0; k < s->bands; k++) HN_FORWARD(get_double(r, s, &s->fwhm[k]));
    }
    refresh_view(s);
    return HINER_OK;
}

hiner_status hn_wave_parse(hn_rd *r, hn_meta_store *s, double *wl)
{
    c_numeric cn;
    c_numeric_begin(&cn);
    hiner_status st = wave_parse(r, s, wl);
    c_numeric_end(&cn);
    return st;
}
