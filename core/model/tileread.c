/*
 * tileread.c - reading tiled files (docs/format.md, "Tiles"): the head of the stream (header,
 * the scene's chunks, the tile index, checked as a whole) read in a few reads at open; each
 * tile's chunks read with one read when a decode first needs it, checked, and kept in a
 * cache of a bounded size; tiles decoded on the model's shared activations.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>

#include "../codec/container.h"
#include "fileio.h"
#include "tiles.h"

#define MAX_HEAD_CHUNKS 64
#define MAX_HEAD ((uint64_t)512 << 20) /* bytes of the scene's chunks (metadata is capped) */
#define FIRST_READ ((size_t)16 << 10)
#define DEFAULT_CACHE ((size_t)64 << 20)

struct hn_tileset {
    hn_grid g;
    uint64_t *off;
    uint32_t *len;
    uint64_t size;                /* of the stream */
    hiner_reader rd;              /* tiles are read through it */
    FILE *fp;                     /* owned (hiner_open_file), or NULL */
    uint8_t *mem;                 /* an owned copy of the stream (hiner_open, _mem), or NULL */
    int8_t *status;               /* per tile: 0 not read, 1 loaded, or the failure */
    hiner_model **sub;            /* loaded tiles */
    uint64_t *stamp;              /* when each loaded tile was last used */
    uint32_t *loaded;             /* the loaded tiles */
    uint32_t n_loaded;
    size_t bytes, cache;          /* held by loaded tiles, and the most kept */
    uint64_t clock;
    rd_info in;                   /* the scene's INFO */
    int major, minor;
};

static int mem_read_at(void *user, uint64_t off, void *buf, size_t n)
{
    const hn_tileset *ts = user;
    if (off > ts->size || n > ts->size - off) return 1;
    memcpy(buf, ts->mem + off, n);
    return 0;
}

static int file_read_at(void *user, uint64_t off, void *buf, size_t n)
{
    FILE *fp = user;
    if (fseeko(fp, (off_t)off, SEEK_SET) != 0) return 1;
    return fread(buf, 1, n, fp) == n ? 0 : 1;
}

void hn_tileset_free(hn_tileset *ts)
{
    if (!ts) return;
    if (ts->sub)
        for (uint32_t i = 0; i < ts->n_loaded; i++) hiner_model_free(ts->sub[ts->loaded[i]]);
    hn_free(ts->sub);
    hn_free(ts->off);
    hn_free(ts->len);
    hn_free(ts->status);
    hn_free(ts->stamp);
    hn_free(ts->loaded);
    hn_free(ts->mem);
    if (ts->fp) fclose(ts->fp);
    free(ts);
}

/* ---- the head ---- */

/* The first bytes of the stream, grown on demand. */
typedef struct head_buf {
    const hiner_reader *rd;
    uint8_t *p;
    size_t n;
} head_buf;

static hiner_status head_need(head_buf *h, uint64_t upto)
{
    if (upto <= h->n) return HINER_OK;
    HN_CHECK(upto > h->rd->size, HINER_E_TRUNCATED);
    HN_CHECK(upto > MAX_HEAD, HINER_E_LIMIT);
    size_t want = h->n ? h->n * 2 : FIRST_READ;
    if (want < upto) want = (size_t)upto;
    if (want > h->rd->size) want = (size_t)h->rd->size;
    uint8_t *p = realloc(h->p, want);
    HN_CHECK(!p, HINER_E_NOMEM);
    h->p = p;
    HN_CHECK(h->rd->read_at(h->rd->user, h->n, p + h->n, want - h->n) != 0, HINER_E_IO);
    h->n = want;
    return HINER_OK;
}

static int is_tile_chunk(const char *type)
{
    return !memcmp(type, "ARCH", 4) || !memcmp(type, "TMSK", 4) || !memcmp(type, "DECO", 4) ||
           !memcmp(type, "ENCO", 4) || !memcmp(type, "EMBD", 4) || !memcmp(type, "END!", 4);
}

/* The scene's chunks: from the header to the first tile chunk (or END!). */
static hiner_status head_chunks(head_buf *h, hn_chunk *ch, size_t *nch, uint64_t *end)
{
    uint64_t pos = HN_HEADER_BYTES;
    *nch = 0;
    for (;;) {
        HN_FORWARD(head_need(h, pos + 16));
        if (is_tile_chunk((const char *)h->p + pos)) break;
        HN_CHECK(*nch >= MAX_HEAD_CHUNKS, HINER_E_LIMIT);
        const uint32_t len = hn_read_le32(h->p + pos + 8);
        HN_FORWARD(head_need(h, pos + 16 + (uint64_t)len));
        ++*nch;
        pos += 16 + (uint64_t)len;
    }
    /* the buffer is final now: point the chunks into it */
    pos = HN_HEADER_BYTES;
    for (size_t i = 0; i < *nch; i++) {
        HN_FORWARD(hn_chunk_at(h->p, h->n, (size_t)pos, &ch[i]));
        pos += 16 + ch[i].n;
    }
    *end = pos;
    return HINER_OK;
}

/* TIDX into ts->off, ts->len: in range, in the tile area, not overlapping. */
static int cmp_off(const void *a, const void *b, void *ctx)
{
    const uint64_t *off = ctx;
    const uint64_t x = off[*(const uint32_t *)a], y = off[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

static void sort_by_offset(uint32_t *idx, size_t n, const uint64_t *off)
{
    /* heap sort: no recursion, no allocation, bounded time for any input */
    for (size_t k = n / 2; k-- > 0;)
        for (size_t i = k;;) {
            size_t c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && cmp_off(&idx[c + 1], &idx[c], (void *)off) > 0) c++;
            if (cmp_off(&idx[c], &idx[i], (void *)off) <= 0) break;
            uint32_t t = idx[c];
            idx[c] = idx[i];
            idx[i] = t;
            i = c;
        }
    for (size_t end = n; end-- > 1;) {
        uint32_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        for (size_t i = 0;;) {
            size_t c = 2 * i + 1;
            if (c >= end) break;
            if (c + 1 < end && cmp_off(&idx[c + 1], &idx[c], (void *)off) > 0) c++;
            if (cmp_off(&idx[c], &idx[i], (void *)off) <= 0) break;
            uint32_t u = idx[c];
            idx[c] = idx[i];
            idx[i] = u;
            i = c;
        }
    }
}

static hiner_status parse_tidx(hn_tileset *ts, const hn_chunk *c, uint64_t lo, uint64_t hi)
{
    const uint32_t n = hn_grid_count(&ts->g);
    HN_CHECK(c->n != 8 + 12 * (uint64_t)n, HINER_E_CORRUPT);
    HN_CHECK(hn_read_le32(c->data) != ts->g.nx || hn_read_le32(c->data + 4) != ts->g.ny,
             HINER_E_CORRUPT);
    ts->off = hn_malloc(n, sizeof(uint64_t));
    ts->len = hn_malloc(n, sizeof(uint32_t));
    uint32_t *idx = hn_malloc(n, sizeof(uint32_t));
    hiner_status st = HINER_OK;
    HN_GOTO_IF(!ts->off || !ts->len || !idx, HINER_E_NOMEM);
    size_t used = 0;
    for (uint32_t t = 0; t < n; t++) {
        const uint8_t *e = c->data + 8 + 12 * (size_t)t;
        ts->off[t] = hn_read_le64(e);
        ts->len[t] = hn_read_le32(e + 8);
        if (ts->len[t] == 0) {
            HN_GOTO_IF(ts->off[t] != 0, HINER_E_CORRUPT);
            continue;
        }
        HN_GOTO_IF(ts->off[t] < lo || ts->off[t] > hi || ts->len[t] > hi - ts->off[t],
                   HINER_E_CORRUPT);
        idx[used++] = t;
    }
    sort_by_offset(idx, used, ts->off);
    for (size_t i = 1; i < used; i++)
        HN_GOTO_IF(ts->off[idx[i - 1]] + ts->len[idx[i - 1]] > ts->off[idx[i]], HINER_E_CORRUPT);
fail:
    hn_free(idx);
    return st;
}

/* The scene model: no network, the ranges, wavelengths and metadata of every tile. */
static hiner_status scene_model(reader *R, hiner_model **out)
{
    const rd_info *in = &R->in;
    hiner_model *m = calloc(1, sizeof *m);
    HN_CHECK(!m, HINER_E_NOMEM);
    *out = m;
    m->plan.width = in->W;
    m->plan.height = in->H;
    m->plan.bands = in->C;
    m->band_min = hn_calloc(in->C, sizeof(double));
    m->band_max = hn_calloc(in->C, sizeof(double));
    m->lam = hn_calloc(in->C, sizeof(double));
    m->meta = hn_meta_store_new(in->C);
    HN_CHECK(!m->band_min || !m->band_max || !m->lam || !m->meta, HINER_E_NOMEM);
    m->threads = 1;
    m->log = *R->lg;
    m->format_major = R->major;
    m->format_minor = R->minor;
    m->dtype = (hiner_dtype)in->dtype;
    m->has_nodata = in->flags & 1;
    m->nodata = in->nodata;
    m->has_mask_flag = (in->flags & 2) != 0;
    m->lam_scale = 1.0;
    R->m = m;
    return HINER_OK;
}

/* Each band's normalised wavelength, as the writer computes it (hn_data_wavelengths). */
static void scene_lambda(hiner_model *m)
{
    const uint32_t C = m->plan.bands;
    if (m->wavelengths) {
        double lo = INFINITY, hi = -INFINITY;
        for (uint32_t b = 0; b < C; b++) {
            lo = fmin(lo, m->wavelengths[b]);
            hi = fmax(hi, m->wavelengths[b]);
        }
        m->lam_lo = lo;
        m->lam_scale = 1.0 / (hi - lo);
    } else {
        m->lam_lo = 0.0;
        m->lam_scale = 1.0 / C;
    }
    for (uint32_t b = 0; b < C; b++)
        m->lam[b] = hn_lambda_of(m->wavelengths ? m->wavelengths[b] : (double)b,
                                 m->wavelengths != NULL, m->lam_lo, m->lam_scale);
}

static const hn_chunk *find_chunk(const hn_chunk *ch, size_t n, const char *type)
{
    const hn_chunk *f = NULL;
    for (size_t i = 0; i < n; i++)
        if (hn_chunk_is(&ch[i], type)) f = f ? &ch[n] : &ch[i]; /* twice: past the end */
    return f;
}

/* The scene's chunks into the model: INFO, TIDX, BAND, WAVE, GEO, META, TRNG. */
static hiner_status read_scene(reader *R, hn_tileset *ts, const hn_chunk *ch, size_t nch,
                               uint64_t head_end)
{
    static const char *known[] = {"INFO", "TIDX", "BAND", "WAVE", "GEO ", "META", "TRNG"};
    for (size_t i = 0; i < nch; i++) {
        int k = 0;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++) k |= hn_chunk_is(&ch[i], known[j]);
        HN_CHECK(!k && ch[i].critical, HINER_E_VERSION);
        HN_CHECK(hn_chunk_is(&ch[i], "MASK"), HINER_E_CORRUPT);
    }
    const hn_chunk *c[7];
    for (size_t j = 0; j < 7; j++) {
        c[j] = find_chunk(ch, nch, known[j]);
        HN_CHECK(c[j] == &ch[nch], HINER_E_CORRUPT); /* a chunk twice */
    }
    HN_CHECK(!c[1] || !c[2], HINER_E_CORRUPT);
    HN_CHECK(!!(R->in.flags & 4) != !!c[3] || ((R->in.flags & 8) && !c[3]), HINER_E_CORRUPT);
    HN_FORWARD(parse_tidx(ts, c[1], head_end, ts->size - HN_CHUNK_OVERHEAD));
    HN_FORWARD(scene_model(R, &R->m));
    HN_FORWARD(hn_read_bandrange(R, c[2]));
    R->a.lam_mode = (R->in.flags & 8) ? 1 : 0;
    R->a.lam_scale = 1.0;
    HN_FORWARD(hn_read_wave(R, c[3]));
    scene_lambda(R->m);
    HN_FORWARD(hn_read_geo(R, c[4]));
    HN_FORWARD(hn_read_meta(R, c[5]));
    return hn_read_trng(R, c[6]);
}

/* The last 16 bytes: an END! chunk. */
static hiner_status check_end(const hiner_reader *rd)
{
    uint8_t e[16];
    HN_CHECK(rd->size < HN_HEADER_BYTES + 16, HINER_E_TRUNCATED);
    HN_CHECK(rd->read_at(rd->user, rd->size - 16, e, 16) != 0, HINER_E_IO);
    hn_chunk c;
    hiner_status st = hn_chunk_at(e, 16, 0, &c);
    HN_CHECK(st != HINER_OK || !hn_chunk_is(&c, "END!") || c.n != 0, HINER_E_TRUNCATED);
    return HINER_OK;
}

hiner_status hn_open_tiled(const hiner_reader *rd, hn_tileset *owner, hiner_model **out)
{
    hn_log lg = {0};
    head_buf h = {rd, NULL, 0};
    hn_chunk ch[MAX_HEAD_CHUNKS];
    size_t nch = 0;
    uint64_t head_end = 0;
    reader R;
    memset(&R, 0, sizeof R);
    R.lg = &lg;
    hn_tileset *ts = owner;
    hiner_status st = HINER_OK;
    *out = NULL;
    HN_GOTO_FWD(head_need(&h, HN_HEADER_BYTES));
    R.major = hn_read_le16(h.p + 8);
    R.minor = hn_read_le16(h.p + 10);
    HN_GOTO_IF(R.major != HN_FORMAT_MAJOR,
               R.major > HN_FORMAT_MAJOR ? HINER_E_VERSION : HINER_E_CORRUPT);
    HN_GOTO_FWD(head_chunks(&h, ch, &nch, &head_end));
    HN_GOTO_IF(nch == 0 || !hn_chunk_is(&ch[0], "INFO"), HINER_E_CORRUPT);
    HN_GOTO_FWD(hn_parse_info(&ch[0], &R.in));
    HN_GOTO_IF(R.in.tiles < 2, HINER_E_GENERIC);
    HN_GOTO_IF(R.minor < 2, HINER_E_CORRUPT);
    HN_GOTO_FWD(check_end(rd));
    HN_GOTO_FWD(hn_grid_make(&ts->g, R.in.W, R.in.H, (int)R.in.tw, (int)R.in.th, 0));
    HN_GOTO_IF(hn_grid_count(&ts->g) != R.in.tiles, HINER_E_CORRUPT);
    ts->in = R.in;
    ts->major = R.major;
    ts->minor = R.minor;
    ts->rd = *rd;
    HN_GOTO_FWD(read_scene(&R, ts, ch, nch, head_end));
    const uint32_t n = R.in.tiles;
    ts->status = hn_calloc(n, 1);
    ts->sub = hn_calloc(n, sizeof(hiner_model *));
    ts->stamp = hn_calloc(n, sizeof(uint64_t));
    ts->loaded = hn_calloc(n, sizeof(uint32_t));
    HN_GOTO_IF(!ts->status || !ts->sub || !ts->stamp || !ts->loaded, HINER_E_NOMEM);
    ts->cache = DEFAULT_CACHE;
    R.m->ts = ts;
    R.m->bits.total = rd->size;
    R.m->bits.header = head_end + HN_CHUNK_OVERHEAD;
    for (size_t i = 1; i < nch; i++)
        if (!hn_chunk_is(&ch[i], "TIDX")) {
            R.m->bits.metadata += ch[i].n;
            R.m->bits.header -= ch[i].n;
        }
    free(h.p);
    R.m->has_encoder = (R.in.flags & 16) != 0;
    *out = R.m;
    return HINER_OK;
fail:
    free(h.p);
    if (R.m) {
        R.m->ts = NULL; /* the caller frees ts */
        hiner_model_free(R.m);
    }
    return st;
}

/* ---- tiles ---- */

/* The chunks of tile t's run into a model of the tile. */
static hiner_status read_run(const hiner_model *scene, uint32_t t, const uint8_t *p, size_t n,
                             hiner_model **out)
{
    hn_tileset *ts = scene->ts;
    const hn_rect k = hn_grid_tile(&ts->g, t);
    hn_chunk ch[5];
    size_t nch = 0, pos = 0;
    while (pos < n) {
        HN_CHECK(nch >= 5, HINER_E_CORRUPT);
        HN_FORWARD(hn_chunk_at(p, n, pos, &ch[nch]));
        pos += 16 + ch[nch].n;
        nch++;
    }
    /* ARCH [TMSK] DECO (ENCO | EMBD | ENCO EMBD) */
    size_t i = 0;
    const hn_chunk *arch = NULL, *tmsk = NULL, *deco = NULL, *enco = NULL, *embd = NULL;
    if (i < nch && hn_chunk_is(&ch[i], "ARCH")) arch = &ch[i++];
    if (i < nch && hn_chunk_is(&ch[i], "TMSK")) tmsk = &ch[i++];
    if (i < nch && hn_chunk_is(&ch[i], "DECO")) deco = &ch[i++];
    if (i < nch && hn_chunk_is(&ch[i], "ENCO")) enco = &ch[i++];
    if (i < nch && hn_chunk_is(&ch[i], "EMBD")) embd = &ch[i++];
    HN_CHECK(i != nch || !arch || !deco || (!enco && !embd), HINER_E_CORRUPT);
    HN_CHECK(!enco != !scene->has_encoder, HINER_E_CORRUPT); /* as INFO says */
    hn_log lg = scene->log;
    reader R;
    memset(&R, 0, sizeof R);
    R.lg = &lg;
    R.major = ts->major;
    R.minor = ts->minor;
    R.in = ts->in;
    R.in.W = k.w;
    R.in.H = k.h;
    R.tile = t;
    R.x0 = k.x;
    R.y0 = k.y;
    hiner_status st = HINER_OK;
    HN_GOTO_FWD(hn_read_arch(&R, arch));
    hiner_model *m = R.m;
    const uint32_t C = ts->in.C;
    HN_GOTO_IF(R.a.lam_mode != (scene->wavelengths != NULL) || R.a.lam_lo != scene->lam_lo ||
                   R.a.lam_scale != scene->lam_scale, HINER_E_CORRUPT);
    memcpy(m->band_min, scene->band_min, C * sizeof(double));
    memcpy(m->band_max, scene->band_max, C * sizeof(double));
    memcpy(m->lam, scene->lam, C * sizeof(double));
    m->lam_lo = scene->lam_lo;
    m->lam_scale = scene->lam_scale;
    if (scene->wavelengths) {
        m->wavelengths = hn_malloc(C, sizeof(double));
        HN_GOTO_IF(!m->wavelengths, HINER_E_NOMEM);
        memcpy(m->wavelengths, scene->wavelengths, C * sizeof(double));
    }
    HN_GOTO_FWD(hn_read_mask(&R, tmsk));
    HN_GOTO_FWD(hn_read_deco(&R, deco));
    HN_GOTO_FWD(hn_read_enco(&R, enco));
    HN_GOTO_FWD(hn_read_embd(&R, embd));
    m->entropy = R.method;
    m->quant_bits = R.max_bits;
    m->bits.total = n;
    m->bits.header = nch * HN_CHUNK_OVERHEAD;
    m->bits.decoder = arch->n + deco->n;
    m->bits.metadata = tmsk ? tmsk->n : 0;
    m->bits.encoder = enco ? enco->n : 0;
    m->bits.embeddings = embd ? embd->n : 0;
    *out = m;
    return HINER_OK;
fail:
    hiner_model_free(R.m);
    return st;
}

static size_t model_bytes(const hiner_model *m)
{
    size_t planes = m->valid ? (m->mask_per_band ? m->plan.bands : 1) : 0;
    return m->net.n_params * sizeof(float) + hn_embed_size(&m->plan) * m->plan.bands * sizeof(float) +
           planes * m->plan.width * m->plan.height + m->plan.bands * 5 * sizeof(double);
}

/* Drops the least recently used tiles until `need` more bytes fit (one tile at least
 * stays possible). */
static void evict(hn_tileset *ts, size_t need)
{
    while (ts->n_loaded > 0 && ts->bytes + need > ts->cache) {
        uint32_t oldest = 0;
        for (uint32_t i = 1; i < ts->n_loaded; i++)
            if (ts->stamp[ts->loaded[i]] < ts->stamp[ts->loaded[oldest]]) oldest = i;
        const uint32_t t = ts->loaded[oldest];
        ts->bytes -= model_bytes(ts->sub[t]);
        hiner_model_free(ts->sub[t]);
        ts->sub[t] = NULL;
        ts->status[t] = 0;
        ts->loaded[oldest] = ts->loaded[--ts->n_loaded];
    }
}

hiner_status hn_tile_get(hiner_model *scene, uint32_t t, hiner_model **out)
{
    hn_tileset *ts = scene->ts;
    *out = NULL;
    HN_CHECK(t >= hn_grid_count(&ts->g), HINER_E_RANGE);
    ts->stamp[t] = ++ts->clock;
    if (ts->status[t] == 1) {
        *out = ts->sub[t];
        return HINER_OK;
    }
    HN_CHECK(ts->status[t] < 0, (hiner_status)ts->status[t]); /* failed before */
    if (ts->len[t] == 0) return HINER_OK;                     /* empty */
    uint8_t *buf = hn_malloc(ts->len[t], 1);
    HN_CHECK(!buf, HINER_E_NOMEM);
    hiner_status st = HINER_OK;
    if (ts->rd.read_at(ts->rd.user, ts->off[t], buf, ts->len[t]) != 0) st = HINER_E_IO;
    hiner_model *m = NULL;
    if (st == HINER_OK) st = read_run(scene, t, buf, ts->len[t], &m);
    hn_free(buf);
    if (st != HINER_OK) {
        if (st != HINER_E_IO && st != HINER_E_NOMEM) ts->status[t] = (int8_t)st;
        return st;
    }
    m->log = scene->log;
    const size_t b = model_bytes(m);
    evict(ts, b);
    ts->sub[t] = m;
    ts->status[t] = 1;
    ts->loaded[ts->n_loaded++] = t;
    ts->bytes += b;
    if (!scene->entropy) scene->entropy = m->entropy, scene->tile_plan = m->plan;
    if (m->quant_bits > scene->quant_bits) scene->quant_bits = m->quant_bits;
    *out = m;
    return HINER_OK;
}

const hn_grid *hn_tiles_grid(const hiner_model *m)
{
    return &m->ts->g;
}

void hn_tiles_set_cache(hiner_model *m, size_t bytes)
{
    m->ts->cache = bytes;
    evict(m->ts, 0);
}

/* ---- opening: whole streams, lazily read ones, files, memory ---- */

/* INFO's tile count from the first bytes of a stream; 1 for anything else, which the
 * reader of whole streams then refuses with the right status. */
static uint32_t peek_tiles(const hiner_reader *r)
{
    uint8_t h[HN_HEADER_BYTES + 12 + 26];
    if (r->size < sizeof h || r->read_at(r->user, 0, h, sizeof h) != 0) return 1;
    if (!hiner_identify(h, sizeof h) || memcmp(h + 16, "INFO", 4) != 0 ||
        hn_read_le32(h + 24) < 34)
        return 1;
    return hn_read_le32(h + HN_HEADER_BYTES + 12 + 22);
}

hiner_status hn_open_stream(const hiner_reader *r, int lazy, FILE *fp, hiner_model **out)
{
    *out = NULL;
    hiner_status st = HINER_OK;
    if (peek_tiles(r) > 1) {
        hn_tileset *ts = calloc(1, sizeof *ts);
        if (!ts) {
            if (fp) fclose(fp);
            return HINER_E_NOMEM;
        }
        ts->size = r->size;
        ts->fp = fp;
        hiner_reader rd = *r;
        if (!lazy) { /* the whole stream, read now, tiles parsed from memory */
            if (r->size > HN_MAX_FILE) st = HINER_E_LIMIT;
            if (st == HINER_OK && !(ts->mem = hn_malloc((size_t)r->size, 1))) st = HINER_E_NOMEM;
            if (st == HINER_OK && r->read_at(r->user, 0, ts->mem, (size_t)r->size) != 0)
                st = HINER_E_IO;
            rd.read_at = mem_read_at;
            rd.user = ts;
        } else if (fp) {
            rd.read_at = file_read_at;
            rd.user = fp;
        }
        if (st == HINER_OK) st = hn_open_tiled(&rd, ts, out);
        if (st != HINER_OK) hn_tileset_free(ts);
        return st;
    }
    /* one tile: the whole stream */
    uint8_t *buf = NULL;
    if (r->size > HN_MAX_FILE) st = HINER_E_LIMIT;
    if (st == HINER_OK && !(buf = hn_malloc((size_t)r->size, 1))) st = HINER_E_NOMEM;
    if (st == HINER_OK && r->read_at(r->user, 0, buf, (size_t)r->size) != 0) st = HINER_E_IO;
    hn_log lg = {0};
    if (st == HINER_OK) st = hn_read_model(buf, (size_t)r->size, out, &lg);
    hn_free(buf);
    if (fp) fclose(fp);
    return st;
}

hiner_status hiner_model_tile_info(hiner_model *m, uint32_t tx, uint32_t ty, hiner_tile_info *out)
{
    HN_CHECK(!m || !out, HINER_E_INVALID_ARG);
    memset(out, 0, sizeof *out);
    if (!m->ts) {
        HN_CHECK(tx != 0 || ty != 0, HINER_E_RANGE);
        out->width = m->plan.width;
        out->height = m->plan.height;
        out->bytes = m->bits.total;
        out->plan = m->plan;
        out->bits = m->bits;
        return HINER_OK;
    }
    const hn_tileset *ts = m->ts;
    HN_CHECK(tx >= ts->g.nx || ty >= ts->g.ny, HINER_E_RANGE);
    const uint32_t t = ty * ts->g.nx + tx;
    const hn_rect k = hn_grid_tile(&ts->g, t);
    out->x0 = k.x, out->y0 = k.y, out->width = k.w, out->height = k.h;
    out->offset = ts->off[t];
    out->bytes = ts->len[t];
    if (!ts->len[t]) return HINER_OK; /* empty: no network */
    hiner_model *sub;
    HN_FORWARD(hn_tile_get(m, t, &sub));
    out->plan = sub->plan;
    out->bits = sub->bits;
    out->quant_bits = sub->quant_bits;
    out->entropy = sub->entropy;
    return HINER_OK;
}
