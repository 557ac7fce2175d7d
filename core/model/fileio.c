/*
 * fileio.c - a model to and from the chunks of docs/format.md: the payload of each chunk
 * (INFO, BAND, MASK, WAVE, GEO, META, TRNG, ARCH, DECO/ENCO/EMBD) and the reader that
 * checks every field against the format's limits before it allocates, then rebuilds the
 * network and restores its weights.
 */
#include <math.h>

#include "../codec/container.h"
#include "../codec/quant.h"
#include "fileio.h"

#define MAX_TEXT ((size_t)64 << 20)   /* decompressed text fields */
#define MAX_CHUNKS 64

/* ---- writer: payloads ---- */

void hn_pl_info(hn_buf *b, const hn_data *d, int has_mask, int has_wave)
{
    hn_buf_u32(b, d->W);
    hn_buf_u32(b, d->H);
    hn_buf_u32(b, d->C);
    hn_buf_u8(b, (uint8_t)d->dtype);
    uint8_t flags = (uint8_t)((d->has_nodata ? 1 : 0) | (has_mask ? 2 : 0) | (has_wave ? 4 : 0) |
                              (d->wavelengths ? 8 : 0));
    hn_buf_u8(b, flags);
    hn_buf_f64(b, d->has_nodata ? d->nodata : 0.0);
    hn_buf_u32(b, 1);    /* tile count */
    hn_buf_u32(b, d->W); /* tile size */
    hn_buf_u32(b, d->H);
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

/* Compresses a text record after replaying the reader on it (hn_read_model: MAX_TEXT per
 * record, the metadata store's cap across WAVE, GEO and META in that order), so the writer
 * never makes a file its own reader would refuse. */
static hiner_status text_payload(hn_buf *b, const hn_buf *raw, hn_meta_store *trial,
                                 hiner_status (*parse)(hn_rd *, hn_meta_store *, double *),
                                 double *wl)
{
    HN_CHECK(raw->err, HINER_E_NOMEM);
    HN_CHECK(raw->n > MAX_TEXT, HINER_E_LIMIT);
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
    hn_buf_u32(b, 0); /* tile */
    hn_buf_u32(b, 0);
    hn_buf_u32(b, 0);
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

/* ---- reader ---- */

typedef struct rd_info {
    uint32_t W, H, C;
    int dtype, flags;
    double nodata;
} rd_info;

static hiner_status parse_info(const hn_chunk *c, rd_info *in)
{
    hn_rd r;
    hn_rd_init(&r, c->data, c->n);
    in->W = hn_rd_u32(&r);
    in->H = hn_rd_u32(&r);
    in->C = hn_rd_u32(&r);
    in->dtype = hn_rd_u8(&r);
    in->flags = hn_rd_u8(&r);
    in->nodata = hn_rd_f64(&r);
    uint32_t tiles = hn_rd_u32(&r), tw = hn_rd_u32(&r), th = hn_rd_u32(&r);
    HN_CHECK(r.overrun, HINER_E_CORRUPT);
    HN_CHECK(in->W == 0 || in->H == 0 || in->C == 0, HINER_E_CORRUPT);
    HN_CHECK(in->W > 65535 || in->H > 65535 || in->C > 65535, HINER_E_LIMIT);
    HN_CHECK(hiner_dtype_size((hiner_dtype)in->dtype) == 0, HINER_E_CORRUPT);
    HN_CHECK(tiles != 1, HINER_E_VERSION);
    HN_CHECK(tw != in->W || th != in->H, HINER_E_VERSION);
    HN_CHECK((in->flags & 1) && !isfinite(in->nodata) && !isnan(in->nodata), HINER_E_CORRUPT);
    return HINER_OK;
}

typedef struct rd_arch {
    hiner_plan plan;
    int lam_mode;
    double lam_lo, lam_scale;
} rd_arch;

static hiner_status parse_arch(const hn_chunk *c, const rd_info *in, rd_arch *a,
                              const hn_log *lg)
{
    hn_rd r;
    hn_rd_init(&r, c->data, c->n);
    hiner_plan *pl = &a->plan;
    memset(a, 0, sizeof *a);
    uint32_t tile = hn_rd_u32(&r), x0 = hn_rd_u32(&r), y0 = hn_rd_u32(&r);
    pl->width = hn_rd_u32(&r);
    pl->height = hn_rd_u32(&r);
    pl->bands = in->C;
    pl->pad_width = hn_rd_u32(&r);
    pl->pad_height = hn_rd_u32(&r);
    pl->pad_left = hn_rd_u32(&r);
    pl->pad_top = hn_rd_u32(&r);
    pl->embed_channels = hn_rd_u16(&r);
    pl->embed_height = hn_rd_u16(&r);
    pl->embed_width = hn_rd_u16(&r);
    pl->widths[0] = hn_rd_u16(&r);
    pl->n_stages = hn_rd_u8(&r);
    HN_CHECK(r.overrun, HINER_E_CORRUPT);
    HN_CHECK(tile != 0 || x0 != 0 || y0 != 0, HINER_E_VERSION);
    HN_CHECK(pl->width != in->W || pl->height != in->H, HINER_E_CORRUPT);
    HN_CHECK(pl->n_stages < 1 || pl->n_stages > HINER_MAX_STAGES, HINER_E_LIMIT);
    uint64_t P = 1, frame, largest;
    HN_CHECK(pl->embed_channels < 1 || pl->embed_channels > 256, HINER_E_LIMIT);
    HN_CHECK(pl->embed_height < 1 || pl->embed_height > 64, HINER_E_LIMIT);
    HN_CHECK(pl->embed_width < 1 || pl->embed_width > 64, HINER_E_LIMIT);
    HN_CHECK(pl->widths[0] < 1 || pl->widths[0] > 4096, HINER_E_LIMIT);
    for (int i = 0; i < pl->n_stages; i++) {
        pl->strides[i] = hn_rd_u8(&r);
        pl->kernels[i] = hn_rd_u8(&r);
        pl->widths[i + 1] = hn_rd_u16(&r);
        HN_CHECK(pl->strides[i] < 1 || pl->strides[i] > 16, HINER_E_LIMIT);
        HN_CHECK(pl->kernels[i] < 1 || pl->kernels[i] > 7 || !(pl->kernels[i] & 1), HINER_E_LIMIT);
        HN_CHECK(pl->widths[i + 1] < 1 || pl->widths[i + 1] > 4096, HINER_E_LIMIT);
        P *= (uint64_t)pl->strides[i];
    }
    hn_plan_act_floats(pl, &frame, &largest);
    HN_CHECK(frame > HN_MAX_ACT, HINER_E_LIMIT);
    int head = hn_rd_u8(&r), act_id = hn_rd_u8(&r), out_id = hn_rd_u8(&r);
    pl->enc_freqs = hn_rd_u16(&r);
    pl->enc_base = hn_rd_f32(&r);
    pl->enc_hidden = hn_rd_u16(&r);
    a->lam_mode = hn_rd_u8(&r);
    a->lam_lo = hn_rd_f64(&r);
    a->lam_scale = hn_rd_f64(&r);
    HN_CHECK(r.overrun, HINER_E_CORRUPT);
    HN_CHECK(head != 3 || act_id != 0 || out_id != 0, HINER_E_VERSION);
    HN_CHECK(largest > HN_MAX_ACT, HINER_E_LIMIT);
    HN_CHECK((uint64_t)pl->embed_height * P != pl->pad_height ||
                 (uint64_t)pl->embed_width * P != pl->pad_width, HINER_E_CORRUPT);
    HN_CHECK((uint64_t)pl->pad_left + pl->width > pl->pad_width ||
                 (uint64_t)pl->pad_top + pl->height > pl->pad_height, HINER_E_CORRUPT);
    HN_CHECK(pl->enc_freqs < 1 || pl->enc_freqs > 256, HINER_E_LIMIT);
    HN_CHECK(pl->enc_hidden < 1 || pl->enc_hidden > 4096, HINER_E_LIMIT);
    HN_CHECK(!isfinite(pl->enc_base) || pl->enc_base <= 1.0f || pl->enc_base > 4.0f,
             HINER_E_CORRUPT);
    HN_CHECK(a->lam_mode > 1 || !isfinite(a->lam_lo) || !isfinite(a->lam_scale),
             HINER_E_CORRUPT);
    hn_plan_finish(pl);
    return hn_plan_readable(pl, lg);
}

/* Decodes a DECO/ENCO/EMBD payload into the tensors tens[0..nt) of `slab` (at the given
 * offsets, with rows x cols each). */
typedef struct rd_tensor {
    float *dst;
    size_t rows, cols;
} rd_tensor;

static hiner_status parse_tensors(const hn_chunk *c, const rd_tensor *tens, size_t nt,
                                  int *method_out, int *max_bits)
{
    hiner_status st = HINER_OK;
    hn_rd r;
    hn_rd_init(&r, c->data, c->n);
    uint32_t tile = hn_rd_u32(&r);
    int method = hn_rd_u8(&r);
    uint32_t count = hn_rd_u16(&r);
    HN_CHECK(r.overrun, HINER_E_CORRUPT);
    HN_CHECK(tile != 0, HINER_E_VERSION);
    HN_CHECK(method != HN_ENTROPY_HUFFMAN && method != HN_ENTROPY_ARITH, HINER_E_VERSION);
    HN_CHECK(count != nt || nt > HN_MAX_TENSORS, HINER_E_CORRUPT);
    hn_qtensor qt[HN_MAX_TENSORS];
    hn_sym_seg segs[HN_MAX_TENSORS];
    memset(qt, 0, sizeof qt);
    for (size_t t = 0; t < nt; t++) {
        qt[t].bits = hn_rd_u8(&r);
        qt[t].mode = hn_rd_u8(&r);
        qt[t].rows = tens[t].rows;
        qt[t].cols = tens[t].cols;
        HN_GOTO_IF(r.overrun, HINER_E_CORRUPT);
        HN_GOTO_IF(qt[t].bits < 1 || qt[t].bits > 16 || qt[t].mode > 2 ||
                       (qt[t].mode == 2 && qt[t].bits < 2), HINER_E_CORRUPT);
        if (qt[t].bits > *max_bits) *max_bits = qt[t].bits;
        size_t ns = hn_qtensor_side_count(&qt[t]);
        HN_GOTO_IF(hn_qtensor_side_bytes(qt[t].mode, qt[t].rows) > hn_rd_left(&r),
                   HINER_E_CORRUPT);
        qt[t].side = hn_malloc(ns, sizeof(uint16_t));
        qt[t].q = hn_malloc(qt[t].rows * qt[t].cols, sizeof(uint16_t));
        HN_GOTO_IF(!qt[t].side || !qt[t].q, HINER_E_NOMEM);
        for (size_t i = 0; i < ns; i++) {
            if (qt[t].mode == 2 && i > 0) { /* a grid index: any byte is valid */
                qt[t].side[i] = hn_rd_u8(&r);
                continue;
            }
            qt[t].side[i] = hn_rd_u16(&r);
            /* min, scale and S must be finite; a NaN or inf would poison every output */
            float v = hn_f16_to_f32(qt[t].side[i]);
            HN_GOTO_IF(!isfinite(v), HINER_E_CORRUPT);
        }
        segs[t].sym = qt[t].q;
        segs[t].n = qt[t].rows * qt[t].cols;
        segs[t].bits = qt[t].bits;
        segs[t].ctx = t < 15 ? (int)t : 15;
    }
    HN_GOTO_FWD(hn_entropy_decode(&r, segs, nt, method));
    HN_GOTO_IF(hn_rd_left(&r) != 0, HINER_E_CORRUPT);
    for (size_t t = 0; t < nt; t++) {
        hn_dequantize(tens[t].dst, &qt[t]);
        for (size_t i = 0; i < qt[t].rows * qt[t].cols; i++)
            HN_GOTO_IF(!isfinite(tens[t].dst[i]), HINER_E_CORRUPT);
    }
    *method_out = method;
fail:
    for (size_t t = 0; t < nt; t++) hn_qtensor_free(&qt[t]);
    return st;
}

static hiner_status decode_text(const hn_chunk *c, size_t skip, uint8_t **out, size_t *n)
{
    hn_rd r;
    hn_rd_init(&r, c->data + skip, c->n - skip);
    HN_FORWARD(hn_text_decode(&r, out, n, MAX_TEXT));
    if (hn_rd_left(&r) != 0) {
        hn_free(*out);
        *out = NULL;
        return HINER_E_CORRUPT;
    }
    return HINER_OK;
}

static const hn_chunk *find(const hn_chunk *ch, size_t n, const char *type)
{
    for (size_t i = 0; i < n; i++)
        if (hn_chunk_is(&ch[i], type)) return &ch[i];
    return NULL;
}

static const char *const known[] = {"INFO", "BAND", "MASK", "WAVE", "GEO ", "META",
                                    "TRNG", "ARCH", "DECO", "ENCO", "EMBD", "END!"};

hiner_status hn_read_model(const uint8_t *p, size_t n, hiner_model **out, const hn_log *lg)
{
    hiner_status st = HINER_OK;
    hn_chunk ch[MAX_CHUNKS];
    size_t nch = 0;
    int major = 0, minor = 0;
    uint8_t *text = NULL;
    size_t tn = 0;
    hiner_model *m = NULL;
    *out = NULL;
    HN_FORWARD(hn_container_parse(p, n, ch, MAX_CHUNKS, &nch, &major, &minor));
    /* unknown critical chunks, duplicates */
    for (size_t i = 0; i < nch; i++) {
        int k = 0;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++) k |= hn_chunk_is(&ch[i], known[j]);
        if (!k && ch[i].critical) {
            hn_logf(lg, 0, "chunk '%.4s' is critical and unknown to this version", ch[i].type);
            return HINER_E_VERSION;
        }
        for (size_t j = 0; j < i; j++)
            HN_CHECK(k && hn_chunk_is(&ch[j], ch[i].type), HINER_E_CORRUPT);
    }
    rd_info in;
    HN_FORWARD(parse_info(&ch[0], &in));
    const hn_chunk *cb = find(ch, nch, "BAND"), *cm = find(ch, nch, "MASK");
    const hn_chunk *cw = find(ch, nch, "WAVE"), *ca = find(ch, nch, "ARCH");
    const hn_chunk *cd = find(ch, nch, "DECO"), *ce = find(ch, nch, "ENCO");
    const hn_chunk *cemb = find(ch, nch, "EMBD");
    HN_CHECK(!cb || !ca || !cd || (!ce && !cemb), HINER_E_CORRUPT);
    HN_CHECK(!!(in.flags & 2) != !!cm || !!(in.flags & 4) != !!cw, HINER_E_CORRUPT);
    HN_CHECK((in.flags & 8) && !cw, HINER_E_CORRUPT);

    rd_arch a;
    HN_FORWARD(parse_arch(ca, &in, &a, lg));
    HN_FORWARD(hn_model_alloc(&m, &a.plan));
    m->log = *lg;
    m->format_major = major;
    m->format_minor = minor;
    m->dtype = (hiner_dtype)in.dtype;
    m->has_nodata = in.flags & 1;
    m->nodata = in.nodata;
    m->lam_lo = a.lam_lo;
    m->lam_scale = a.lam_scale;
    const uint32_t C = in.C;
    const size_t npix = (size_t)in.W * in.H;
    m->meta = hn_meta_store_new(C);
    HN_GOTO_IF(!m->meta, HINER_E_NOMEM);

    /* BAND: per-band min and max */
    {
        HN_GOTO_IF(cb->n < 1, HINER_E_CORRUPT);
        int f64 = cb->data[0];
        HN_GOTO_IF(f64 > 1, HINER_E_CORRUPT);
        HN_GOTO_FWD(decode_text(cb, 1, &text, &tn));
        HN_GOTO_IF(tn != (size_t)C * (f64 ? 16 : 8), HINER_E_CORRUPT);
        hn_rd r;
        hn_rd_init(&r, text, tn);
        for (uint32_t k = 0; k < C; k++) {
            m->band_min[k] = f64 ? hn_rd_f64(&r) : hn_rd_f32(&r);
            m->band_max[k] = f64 ? hn_rd_f64(&r) : hn_rd_f32(&r);
            HN_GOTO_IF(!isfinite(m->band_min[k]) || !isfinite(m->band_max[k]) ||
                       m->band_max[k] < m->band_min[k], HINER_E_CORRUPT);
        }
        hn_free(text);
        text = NULL;
    }
    /* MASK */
    if (cm) {
        HN_GOTO_IF(cm->n < 1 || cm->data[0] > 1, HINER_E_CORRUPT);
        m->mask_per_band = cm->data[0];
        size_t planes = m->mask_per_band ? C : 1, total;
        HN_GOTO_IF(!hn_mul_size(planes, npix, &total), HINER_E_LIMIT);
        m->valid = hn_malloc(total, 1);
        HN_GOTO_IF(!m->valid, HINER_E_NOMEM);
        hn_rd r;
        hn_rd_init(&r, cm->data + 1, cm->n - 1);
        HN_GOTO_FWD(hn_mask_decode(&r, m->valid, in.W, in.H, planes));
        HN_GOTO_IF(hn_rd_left(&r) != 0, HINER_E_CORRUPT);
    }
    /* WAVE */
    if (cw) {
        HN_GOTO_FWD(decode_text(cw, 0, &text, &tn));
        m->wavelengths = hn_malloc(C, sizeof(double));
        HN_GOTO_IF(!m->wavelengths, HINER_E_NOMEM);
        hn_rd r;
        hn_rd_init(&r, text, tn);
        HN_GOTO_FWD(hn_wave_parse(&r, m->meta, m->wavelengths));
        HN_GOTO_IF(hn_rd_left(&r) != 0, HINER_E_CORRUPT);
        hn_free(text);
        text = NULL;
    }
    HN_GOTO_IF(a.lam_mode == 1 && !m->wavelengths, HINER_E_CORRUPT);
    if (a.lam_mode == 0 && m->wavelengths) { /* wavelengths are metadata only */
        hn_free(m->wavelengths);
        m->wavelengths = NULL;
    }
    for (uint32_t k = 0; k < C; k++)
        m->lam[k] = hn_lambda_of(a.lam_mode ? m->wavelengths[k] : (double)k, a.lam_mode,
                                 a.lam_lo, a.lam_scale);
    /* GEO, META, TRNG: informative, but a damaged one is still a damaged file */
    const hn_chunk *cg = find(ch, nch, "GEO "), *cmeta = find(ch, nch, "META");
    const hn_chunk *ct = find(ch, nch, "TRNG");
    if (cg) {
        HN_GOTO_FWD(decode_text(cg, 0, &text, &tn));
        hn_rd r;
        hn_rd_init(&r, text, tn);
        HN_GOTO_FWD(hn_geo_parse(&r, m->meta));
        hn_free(text);
        text = NULL;
    }
    if (cmeta) {
        HN_GOTO_FWD(decode_text(cmeta, 0, &text, &tn));
        hn_rd r;
        hn_rd_init(&r, text, tn);
        HN_GOTO_FWD(hn_metarec_parse(&r, m->meta));
        hn_free(text);
        text = NULL;
    }
    if (ct) {
        HN_GOTO_FWD(decode_text(ct, 0, (uint8_t **)&m->training, &tn));
    }
    /* the network */
    hn_net *net = &m->net;
    int max_bits = 0, method = 0;
    {
        rd_tensor tens[HN_MAX_TENSORS];
        size_t nt = 0;
        for (int t = HN_T_CONV0_W; t < net->n_tensors; t++, nt++) {
            tens[nt].dst = net->params + net->t[t].off;
            tens[nt].rows = net->t[t].shape[0];
            tens[nt].cols = net->t[t].n / net->t[t].shape[0];
        }
        HN_GOTO_FWD(parse_tensors(cd, tens, nt, &method, &max_bits));
        if (ce) {
            for (int t = 0; t < HN_T_CONV0_W; t++) {
                tens[t].dst = net->params + net->t[t].off;
                tens[t].rows = net->t[t].shape[0];
                tens[t].cols = net->t[t].n / net->t[t].shape[0];
            }
            HN_GOTO_FWD(parse_tensors(ce, tens, HN_T_CONV0_W, &method, &max_bits));
            m->has_encoder = 1;
        }
        if (cemb) {
            const size_t E = hn_embed_size(&a.plan);
            tens[0].dst = m->embed;
            tens[0].rows = C;
            tens[0].cols = E;
            HN_GOTO_FWD(parse_tensors(cemb, tens, 1, &method, &max_bits));
        } else {
            HN_GOTO_FWD(hn_model_compute_embeddings(m));
        }
    }
    m->entropy = method;
    m->quant_bits = max_bits;
    /* the byte breakdown */
    m->bits.total = n;
    for (size_t i = 0; i < nch; i++) {
        const hn_chunk *c = &ch[i];
        uint64_t pay = c->n;
        m->bits.header += HN_CHUNK_OVERHEAD;
        if (hn_chunk_is(c, "ARCH") || hn_chunk_is(c, "DECO")) m->bits.decoder += pay;
        else if (hn_chunk_is(c, "ENCO")) m->bits.encoder += pay;
        else if (hn_chunk_is(c, "EMBD")) m->bits.embeddings += pay;
        else if (hn_chunk_is(c, "INFO") || hn_chunk_is(c, "END!")) m->bits.header += pay;
        else m->bits.metadata += pay;
    }
    m->bits.header += HN_HEADER_BYTES;
    *out = m;
    return HINER_OK;
fail:
    hn_free(text);
    hiner_model_free(m);
    return st;
}
