/*
 * fileio_read.c - a whole file back into a model (docs/format.md): the container's chunks
 * read one at a time in a fixed order, each field checked against the format's limits
 * before anything is allocated; then the network is rebuilt and its weights restored.
 */
#include <math.h>

#include "../codec/container.h"
#include "../codec/quant.h"
#include "fileio.h"
#include "tiles.h"

#define MAX_CHUNKS 64

hiner_status hn_parse_info(const hn_chunk *c, rd_info *in)
{
    hn_rd r;
    hn_rd_init(&r, c->data, c->n);
    in->W = hn_rd_u32(&r);
    in->H = hn_rd_u32(&r);
    in->C = hn_rd_u32(&r);
    in->dtype = hn_rd_u8(&r);
    in->flags = hn_rd_u8(&r);
    in->nodata = hn_rd_f64(&r);
    in->tiles = hn_rd_u32(&r);
    in->tw = hn_rd_u32(&r);
    in->th = hn_rd_u32(&r);
    HN_CHECK(r.overrun, HINER_E_CORRUPT);
    HN_CHECK(in->W == 0 || in->H == 0 || in->C == 0, HINER_E_CORRUPT);
    HN_CHECK(in->C > 65535, HINER_E_LIMIT);
    HN_CHECK(hiner_dtype_size((hiner_dtype)in->dtype) == 0, HINER_E_CORRUPT);
    HN_CHECK((in->flags & 1) && !isfinite(in->nodata) && !isnan(in->nodata), HINER_E_CORRUPT);
    if (in->tiles == 1) { /* one tile: the raster */
        HN_CHECK(in->W > 65535 || in->H > 65535, HINER_E_LIMIT);
        HN_CHECK(in->tw != in->W || in->th != in->H, HINER_E_VERSION);
        return HINER_OK;
    }
    HN_CHECK(in->tiles == 0 || in->tw == 0 || in->th == 0, HINER_E_CORRUPT);
    HN_CHECK(in->W > HN_MAX_SIDE || in->H > HN_MAX_SIDE, HINER_E_LIMIT);
    HN_CHECK(in->tw > 65535 || in->th > 65535, HINER_E_LIMIT);
    const uint64_t nx = (in->W + (uint64_t)in->tw - 1) / in->tw;
    const uint64_t ny = (in->H + (uint64_t)in->th - 1) / in->th;
    HN_CHECK(nx * ny != in->tiles, HINER_E_CORRUPT);
    HN_CHECK(in->tiles > HN_MAX_TILES, HINER_E_LIMIT);
    return HINER_OK;
}

/* ARCH of tile `tile` at (x0, y0), of the size in->W x in->H (the tile's). */
static hiner_status parse_arch(const hn_chunk *c, const rd_info *in, uint32_t etile, uint32_t ex0,
                               uint32_t ey0, rd_arch *a, const hn_log *lg)
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
    HN_CHECK(in->tiles == 1 && (tile != 0 || x0 != 0 || y0 != 0), HINER_E_VERSION);
    HN_CHECK(tile != etile || x0 != ex0 || y0 != ey0, HINER_E_CORRUPT);
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

static hiner_status parse_tensors(const hn_chunk *c, uint32_t etile, const rd_tensor *tens,
                                  size_t nt, int *method_out, int *max_bits)
{
    hiner_status st = HINER_OK;
    hn_rd r;
    hn_rd_init(&r, c->data, c->n);
    uint32_t tile = hn_rd_u32(&r);
    int method = hn_rd_u8(&r);
    uint32_t count = hn_rd_u16(&r);
    HN_CHECK(r.overrun, HINER_E_CORRUPT);
    HN_CHECK(tile != etile, etile == 0 ? HINER_E_VERSION : HINER_E_CORRUPT);
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
    HN_FORWARD(hn_text_decode(&r, out, n, HN_MAX_TEXT));
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


/* INFO, and the chunks its flags and the format require. */
static hiner_status read_info(reader *R, const hn_chunk *c)
{
    HN_CHECK(!c, HINER_E_CORRUPT);
    HN_FORWARD(hn_parse_info(c, &R->in));
    HN_CHECK(R->in.tiles != 1, R->minor >= 2 ? HINER_E_CORRUPT : HINER_E_VERSION);
    const hn_chunk *ch = R->ch;
    const size_t n = R->nch;
    const hn_chunk *cm = find(ch, n, "MASK"), *cw = find(ch, n, "WAVE");
    const int flags = R->in.flags;
    HN_CHECK(!find(ch, n, "BAND") || !find(ch, n, "ARCH") || !find(ch, n, "DECO") ||
                 (!find(ch, n, "ENCO") && !find(ch, n, "EMBD")), HINER_E_CORRUPT);
    HN_CHECK(!!(flags & 2) != !!cm || !!(flags & 4) != !!cw, HINER_E_CORRUPT);
    HN_CHECK((flags & 8) && !cw, HINER_E_CORRUPT);
    return HINER_OK;
}

/* ARCH: the plan, then the model it makes (no weights yet). */
hiner_status hn_read_arch(reader *R, const hn_chunk *c)
{
    rd_arch *a = &R->a;
    HN_FORWARD(parse_arch(c, &R->in, R->tile, R->x0, R->y0, a, R->lg));
    HN_FORWARD(hn_model_alloc(&R->m, &a->plan));
    hiner_model *m = R->m;
    m->log = *R->lg;
    m->format_major = R->major;
    m->format_minor = R->minor;
    m->dtype = (hiner_dtype)R->in.dtype;
    m->has_nodata = R->in.flags & 1;
    m->nodata = R->in.nodata;
    m->lam_lo = a->lam_lo;
    m->lam_scale = a->lam_scale;
    m->meta = hn_meta_store_new(R->in.C);
    HN_CHECK(!m->meta, HINER_E_NOMEM);
    return HINER_OK;
}

/* BAND: each band's min and max, as f32 or f64. */
hiner_status hn_read_bandrange(reader *R, const hn_chunk *c)
{
    hiner_status st = HINER_OK;
    hiner_model *m = R->m;
    const uint32_t C = R->in.C;
    uint8_t *text = NULL;
    size_t tn = 0;
    HN_CHECK(c->n < 1, HINER_E_CORRUPT);
    const int f64 = c->data[0];
    HN_CHECK(f64 > 1, HINER_E_CORRUPT);
    HN_FORWARD(decode_text(c, 1, &text, &tn));
    HN_GOTO_IF(tn != (size_t)C * (f64 ? 16 : 8), HINER_E_CORRUPT);
    hn_rd r;
    hn_rd_init(&r, text, tn);
    for (uint32_t k = 0; k < C; k++) {
        m->band_min[k] = f64 ? hn_rd_f64(&r) : hn_rd_f32(&r);
        m->band_max[k] = f64 ? hn_rd_f64(&r) : hn_rd_f32(&r);
        HN_GOTO_IF(!isfinite(m->band_min[k]) || !isfinite(m->band_max[k]) ||
                   m->band_max[k] < m->band_min[k], HINER_E_CORRUPT);
    }
fail:
    hn_free(text);
    return st;
}

/* MASK: one validity plane, or one per band; TMSK (tiled files) the same after the tile. */
hiner_status hn_read_mask(reader *R, const hn_chunk *c)
{
    if (!c) return HINER_OK;
    hiner_model *m = R->m;
    const size_t skip = R->in.tiles > 1 ? 4 : 0;
    HN_CHECK(c->n < skip + 1 || c->data[skip] > 1, HINER_E_CORRUPT);
    HN_CHECK(skip && hn_read_le32(c->data) != R->tile, HINER_E_CORRUPT);
    m->mask_per_band = c->data[skip];
    size_t planes = m->mask_per_band ? R->in.C : 1, total;
    HN_CHECK(!hn_mul_size(planes, (size_t)R->in.W * R->in.H, &total), HINER_E_LIMIT);
    m->valid = hn_malloc(total, 1);
    HN_CHECK(!m->valid, HINER_E_NOMEM);
    hn_rd r;
    hn_rd_init(&r, c->data + skip + 1, c->n - skip - 1);
    HN_FORWARD(hn_mask_decode(&r, m->valid, R->in.W, R->in.H, planes));
    HN_CHECK(hn_rd_left(&r) != 0, HINER_E_CORRUPT);
    return HINER_OK;
}

/* WAVE (wavelengths, units, FWHM), then each band's normalised wavelength, from its
 * wavelength or its index as ARCH says. */
hiner_status hn_read_wave(reader *R, const hn_chunk *c)
{
    hiner_status st = HINER_OK;
    hiner_model *m = R->m;
    const rd_arch *a = &R->a;
    const uint32_t C = R->in.C;
    uint8_t *text = NULL;
    size_t tn = 0;
    if (c) {
        HN_FORWARD(decode_text(c, 0, &text, &tn));
        m->wavelengths = hn_malloc(C, sizeof(double));
        HN_GOTO_IF(!m->wavelengths, HINER_E_NOMEM);
        hn_rd r;
        hn_rd_init(&r, text, tn);
        HN_GOTO_FWD(hn_wave_parse(&r, m->meta, m->wavelengths));
        HN_GOTO_IF(hn_rd_left(&r) != 0, HINER_E_CORRUPT);
    }
    HN_GOTO_IF(a->lam_mode == 1 && !m->wavelengths, HINER_E_CORRUPT);
    if (a->lam_mode == 0 && m->wavelengths) { /* wavelengths are metadata only */
        hn_free(m->wavelengths);
        m->wavelengths = NULL;
    }
    for (uint32_t k = 0; k < C; k++)
        m->lam[k] = hn_lambda_of(a->lam_mode ? m->wavelengths[k] : (double)k, a->lam_mode,
                                 a->lam_lo, a->lam_scale);
fail:
    hn_free(text);
    return st;
}

/* GEO and META are informative, but a damaged one is still a damaged file. */
static hiner_status read_record(reader *R, const hn_chunk *c,
                                hiner_status (*parse)(hn_rd *, hn_meta_store *))
{
    if (!c) return HINER_OK;
    uint8_t *text = NULL;
    size_t tn = 0;
    HN_FORWARD(decode_text(c, 0, &text, &tn));
    hn_rd r;
    hn_rd_init(&r, text, tn);
    hiner_status st = parse(&r, R->m->meta);
    hn_free(text);
    return st;
}

hiner_status hn_read_geo(reader *R, const hn_chunk *c)
{
    return read_record(R, c, hn_geo_parse);
}

hiner_status hn_read_meta(reader *R, const hn_chunk *c)
{
    return read_record(R, c, hn_metarec_parse);
}

/* TRNG: the training record's "key=value" lines, kept as text. */
hiner_status hn_read_trng(reader *R, const hn_chunk *c)
{
    size_t tn;
    return c ? decode_text(c, 0, (uint8_t **)&R->m->training, &tn) : HINER_OK;
}

/* The net's tensors [lo, hi) as destinations of a tensor chunk; returns how many. */
static size_t net_tensors(const hn_net *net, int lo, int hi, rd_tensor *tens)
{
    size_t nt = 0;
    for (int t = lo; t < hi; t++, nt++) {
        tens[nt].dst = net->params + net->t[t].off;
        tens[nt].rows = net->t[t].shape[0];
        tens[nt].cols = net->t[t].n / net->t[t].shape[0];
    }
    return nt;
}

/* DECO: the decoder's tensors. */
hiner_status hn_read_deco(reader *R, const hn_chunk *c)
{
    const hn_net *net = &R->m->net;
    rd_tensor tens[HN_MAX_TENSORS];
    const size_t nt = net_tensors(net, HN_T_CONV0_W, net->n_tensors, tens);
    return parse_tensors(c, R->tile, tens, nt, &R->method, &R->max_bits);
}

/* ENCO: the spectral encoder's tensors, when the file stores them. */
hiner_status hn_read_enco(reader *R, const hn_chunk *c)
{
    if (!c) return HINER_OK;
    rd_tensor tens[HN_MAX_TENSORS];
    const size_t nt = net_tensors(&R->m->net, 0, HN_T_CONV0_W, tens);
    HN_FORWARD(parse_tensors(c, R->tile, tens, nt, &R->method, &R->max_bits));
    R->m->has_encoder = 1;
    return HINER_OK;
}

/* EMBD: the stored bands' embeddings; without it they come from the encoder. */
hiner_status hn_read_embd(reader *R, const hn_chunk *c)
{
    hiner_model *m = R->m;
    if (!c) return hn_model_compute_embeddings(m);
    rd_tensor tens = {m->embed, R->in.C, hn_embed_size(&R->a.plan)};
    return parse_tensors(c, R->tile, &tens, 1, &R->method, &R->max_bits);
}

/* The chunks this version knows, in the order they are read: each reader gets its chunk,
 * or NULL when the file has none (read_info has checked which must be there). */
static const struct {
    char type[5];
    hiner_status (*read)(reader *R, const hn_chunk *c);
} readers[] = {
    {"INFO", read_info},       {"ARCH", hn_read_arch}, {"BAND", hn_read_bandrange},
    {"MASK", hn_read_mask},    {"WAVE", hn_read_wave}, {"GEO ", hn_read_geo},
    {"META", hn_read_meta},    {"TRNG", hn_read_trng}, {"DECO", hn_read_deco},
    {"ENCO", hn_read_enco},    {"EMBD", hn_read_embd},
};
#define N_READERS (sizeof readers / sizeof *readers)

/* No critical chunk unknown to this version, no known chunk twice. */
static hiner_status check_chunk_set(const hn_chunk *ch, size_t nch, const hn_log *lg)
{
    for (size_t i = 0; i < nch; i++) {
        int k = hn_chunk_is(&ch[i], "END!");
        for (size_t j = 0; j < N_READERS; j++) k |= hn_chunk_is(&ch[i], readers[j].type);
        if (!k && ch[i].critical) {
            hn_logf(lg, 0, "chunk '%.4s' is critical and unknown to this version", ch[i].type);
            return HINER_E_VERSION;
        }
        for (size_t j = 0; j < i; j++)
            HN_CHECK(k && hn_chunk_is(&ch[j], ch[i].type), HINER_E_CORRUPT);
    }
    return HINER_OK;
}

/* The byte breakdown of a file of n bytes (hiner_bits). */
static void count_bytes(hiner_bits *bits, const hn_chunk *ch, size_t nch, size_t n)
{
    bits->total = n;
    for (size_t i = 0; i < nch; i++) {
        const hn_chunk *c = &ch[i];
        uint64_t pay = c->n;
        bits->header += HN_CHUNK_OVERHEAD;
        if (hn_chunk_is(c, "ARCH") || hn_chunk_is(c, "DECO")) bits->decoder += pay;
        else if (hn_chunk_is(c, "ENCO")) bits->encoder += pay;
        else if (hn_chunk_is(c, "EMBD")) bits->embeddings += pay;
        else if (hn_chunk_is(c, "INFO") || hn_chunk_is(c, "END!")) bits->header += pay;
        else bits->metadata += pay;
    }
    bits->header += HN_HEADER_BYTES;
}

hiner_status hn_read_model(const uint8_t *p, size_t n, hiner_model **out, const hn_log *lg)
{
    hn_chunk ch[MAX_CHUNKS];
    reader R;
    memset(&R, 0, sizeof R);
    R.ch = ch;
    R.lg = lg;
    *out = NULL;
    HN_FORWARD(hn_container_parse(p, n, ch, MAX_CHUNKS, &R.nch, &R.major, &R.minor));
    HN_FORWARD(check_chunk_set(ch, R.nch, lg));
    for (size_t i = 0; i < N_READERS; i++) {
        hiner_status st = readers[i].read(&R, find(ch, R.nch, readers[i].type));
        if (st != HINER_OK) {
            hiner_model_free(R.m);
            return st;
        }
    }
    R.m->entropy = R.method;
    R.m->quant_bits = R.max_bits;
    count_bytes(&R.m->bits, ch, R.nch, n);
    *out = R.m;
    return HINER_OK;
}
