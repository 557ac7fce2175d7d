/*
 * entropy.c - lossless coding of the quantized weight symbols, two methods. Huffman (as in
 * HNeRV): one canonical code per distinct `bits`, lengths sent up front, codes packed MSB
 * first. Arithmetic: adaptive binary trees over the range coder, one model per (ctx, bits),
 * nothing sent up front. Both are self-delimiting given the segments' n and bits.
 */
#include "codec.h"

#define MAX_BITS 16
#define MAX_CTX 16

/* ---- arguments ---- */

/* Shared by both directions; on encode every symbol must also fit its bits. */
static hiner_status check_segs(const hn_sym_seg *segs, size_t nseg, int method, int enc)
{
    HN_CHECK(method != HN_ENTROPY_HUFFMAN && method != HN_ENTROPY_ARITH, HINER_E_INVALID_ARG);
    HN_CHECK(nseg && !segs, HINER_E_INVALID_ARG);
    for (size_t i = 0; i < nseg; i++) {
        const hn_sym_seg *s = &segs[i];
        HN_CHECK(s->bits < 1 || s->bits > MAX_BITS, HINER_E_INVALID_ARG);
        HN_CHECK(s->ctx < 0 || s->ctx >= MAX_CTX, HINER_E_INVALID_ARG);
        HN_CHECK(s->n && !s->sym, HINER_E_INVALID_ARG);
        if (!enc) continue;
        uint32_t lim = 1u << s->bits;
        for (size_t j = 0; j < s->n; j++) HN_CHECK(s->sym[j] >= lim, HINER_E_INVALID_ARG);
    }
    return HINER_OK;
}

/* Whether some segment with n > 0 has these bits (0: any bits). */
static int has_symbols(const hn_sym_seg *segs, size_t nseg, int bits)
{
    for (size_t i = 0; i < nseg; i++)
        if (segs[i].n && (!bits || segs[i].bits == bits)) return 1;
    return 0;
}

/* ---- MSB-first bit I/O for the Huffman stream ---- */

typedef struct bitw {
    hn_buf *out;
    uint64_t acc; /* the low n bits are pending, oldest first */
    int n;
} bitw;

/* k <= 32 bits of v, v < 2^k. */
static void bw_put(bitw *w, uint32_t v, int k)
{
    w->acc = (w->acc << k) | v;
    w->n += k;
    while (w->n >= 8) {
        w->n -= 8;
        hn_buf_u8(w->out, (uint8_t)(w->acc >> w->n));
    }
}

/* Exp-Golomb (order 0): small values cost few bits; the reader takes up to 2^25-2 and we
 * write at most 65535. */
static void bw_eg(bitw *w, uint32_t v)
{
    uint32_t x = v + 1;
    int nb = 0;
    while (x >> (nb + 1)) nb++;
    bw_put(w, 0, nb);
    bw_put(w, x, nb + 1);
}

static void bw_flush(bitw *w)
{
    if (w->n) bw_put(w, 0, 8 - w->n);
}

typedef struct bitr {
    const uint8_t *start, *p, *end;
    uint64_t acc; /* the next n bits, MSB-aligned */
    int n;
    size_t extra; /* zero bytes fed in past end */
} bitr;

static void br_init(bitr *r, const uint8_t *p, const uint8_t *end)
{
    r->start = r->p = p;
    r->end = end;
    r->acc = 0;
    r->n = 0;
    r->extra = 0;
}

/* Tops acc up to at least 57 bits; past the end it feeds zeros and counts them, so reads
 * never leave [start, end) and an overrun shows in br_overrun. */
static void br_refill(bitr *r)
{
    while (r->n <= 56) {
        uint64_t c = 0;
        if (r->p < r->end)
            c = *r->p++;
        else
            r->extra++;
        r->acc |= c << (56 - r->n);
        r->n += 8;
    }
}

static size_t br_consumed(const bitr *r)
{
    return ((size_t)(r->p - r->start) + r->extra) * 8 - (size_t)r->n;
}

static int br_overrun(const bitr *r)
{
    return r->extra * 8 > (size_t)r->n;
}

/* k in 0..32. */
static uint32_t br_get(bitr *r, int k)
{
    if (k == 0) return 0;
    if (r->n < k) br_refill(r);
    uint32_t v = (uint32_t)(r->acc >> (64 - k));
    r->acc <<= k;
    r->n -= k;
    return v;
}

/* Exp-Golomb; UINT32_MAX on a run of zeros longer than any value we write. */
static uint32_t br_eg(bitr *r)
{
    int nb = 0;
    while (br_get(r, 1) == 0)
        if (++nb > 24) return UINT32_MAX;
    return ((1u << nb) | br_get(r, nb)) - 1;
}

/* ---- Huffman ----
 * Stream: one MSB-first bit string, zero-padded to a byte. First, for each bits value
 * b = 1..16 that some segment with n > 0 uses, its code: EG(m - 1) for m used symbols,
 * then per used symbol, in increasing order, EG(symbol - previous - 1) (previous starts at
 * -1) and EG(zigzag(length - previous length)) (zigzag 0,-1,1,-2.. -> 0,1,2,3..; previous
 * length starts at 0). Gaussian-shaped tensors give gaps of 0 and steps of 0 or +-1, about
 * 3 bits per used symbol. Codewords are canonical (Deflate: by length, then symbol). Then
 * every segment's symbols in order. A one-symbol code (sent with length 1) spends 0 bits
 * per symbol; any other code must be complete (Kraft sum 1) with lengths 1..20. */

#define HUF_MAXLEN 20  /* >= 16 so a full 16-bit alphabet fits; bounds the decoder's work */
#define HUF_TABBITS 11 /* first-level decode table: 8 KB, covers the common lengths */

typedef struct huf_leaf {
    uint64_t w;
    uint32_t sym;
} huf_leaf;

static int leaf_cmp(const void *a, const void *b)
{
    const huf_leaf *x = a, *y = b;
    if (x->w != y->w) return x->w < y->w ? -1 : 1;
    return x->sym < y->sym ? -1 : x->sym > y->sym;
}

/* Lengths for the A counts into len (zero for unused symbols). Huffman by the two-queue
 * method over sorted leaves; when the tree is deeper than HUF_MAXLEN the counts are halved
 * (kept nonzero) and the tree rebuilt, as bzip2 does: the flatter counts cost little, and
 * only very skewed codes over tens of thousands of symbols or more get there. */
static hiner_status huf_lengths(const uint64_t *cnt, size_t A, uint8_t *len)
{
    hiner_status st = HINER_OK;
    huf_leaf *lf = NULL;
    uint64_t *iw = NULL;
    uint32_t *lpar = NULL, *ipar = NULL;
    size_t m = 0;
    memset(len, 0, A);
    for (size_t s = 0; s < A; s++) m += cnt[s] != 0;
    if (m == 0) return HINER_OK;
    if (m == 1) {
        for (size_t s = 0; s < A; s++)
            if (cnt[s]) len[s] = 1;
        return HINER_OK;
    }
    lf = hn_malloc(m, sizeof *lf);
    iw = hn_malloc(m, sizeof *iw);
    lpar = hn_malloc(m, sizeof *lpar);
    ipar = hn_malloc(m, sizeof *ipar);
    HN_GOTO_IF(!lf || !iw || !lpar || !ipar, HINER_E_NOMEM);
    m = 0;
    for (size_t s = 0; s < A; s++)
        if (cnt[s]) lf[m++] = (huf_leaf){cnt[s], (uint32_t)s};
    /* halving is monotone, so the order stays valid for every rebuild */
    qsort(lf, m, sizeof *lf, leaf_cmp);
    for (;;) {
        /* merged nodes come out in nondecreasing weight: two queues find the two smallest */
        size_t li = 0, ii = 0;
        for (size_t k = 0; k + 1 < m; k++) {
            uint64_t w = 0;
            for (int t = 0; t < 2; t++) {
                if (li < m && (ii >= k || lf[li].w <= iw[ii])) {
                    w += lf[li].w;
                    lpar[li++] = (uint32_t)k;
                } else {
                    w += iw[ii];
                    ipar[ii++] = (uint32_t)k;
                }
            }
            iw[k] = w;
        }
        /* depths from the root (node m - 2) down; ipar is reused to hold them */
        ipar[m - 2] = 0;
        for (size_t k = m - 2; k-- > 0;) ipar[k] = ipar[ipar[k]] + 1;
        uint32_t maxd = 0;
        for (size_t i = 0; i < m; i++) {
            uint32_t d = ipar[lpar[i]] + 1;
            maxd = d > maxd ? d : maxd;
            len[lf[i].sym] = (uint8_t)(d < 255 ? d : 255);
        }
        if (maxd <= HUF_MAXLEN) break;
        for (size_t i = 0; i < m; i++) lf[i].w = 1 + lf[i].w / 2;
    }
fail:
    hn_free(lf);
    hn_free(iw);
    hn_free(lpar);
    hn_free(ipar);
    return st;
}

/* For each length l, the first canonical codeword (codes count up within a length, in
 * symbol order, then shift left to the next length: Deflate's construction). */
static void huf_first(const uint32_t *nlen, uint32_t *first)
{
    uint32_t code = 0;
    first[0] = 0;
    for (int l = 1; l <= HUF_MAXLEN; l++) {
        code = (code + nlen[l - 1]) << 1;
        first[l] = code;
    }
}

/* Writes the lengths of one code; fills code[s] = codeword << 5 | length (0 for a
 * one-symbol code, which spends no bits). */
static hiner_status huf_put_code(bitw *w, const uint64_t *cnt, size_t A, uint32_t *code)
{
    hiner_status st = HINER_OK;
    uint8_t *len = hn_malloc(A, 1);
    HN_GOTO_IF(!len, HINER_E_NOMEM);
    HN_GOTO_FWD(huf_lengths(cnt, A, len));
    uint32_t nlen[HUF_MAXLEN + 1] = {0}, next[HUF_MAXLEN + 1];
    size_t m = 0;
    for (size_t s = 0; s < A; s++) {
        nlen[len[s]]++;
        m += len[s] != 0;
    }
    nlen[0] = 0;
    bw_eg(w, (uint32_t)(m - 1));
    long prev = -1;
    int plen = 0;
    for (size_t s = 0; s < A; s++) {
        if (!len[s]) continue;
        int d = len[s] - plen;
        bw_eg(w, (uint32_t)((long)s - prev - 1));
        bw_eg(w, d >= 0 ? 2u * (uint32_t)d : 2u * (uint32_t)-d - 1);
        prev = (long)s;
        plen = len[s];
    }
    huf_first(nlen, next);
    for (size_t s = 0; s < A; s++) code[s] = len[s] && m > 1 ? next[len[s]]++ << 5 | len[s] : 0;
fail:
    hn_free(len);
    return st;
}

static hiner_status huf_encode(hn_buf *out, const hn_sym_seg *segs, size_t nseg)
{
    hiner_status st = HINER_OK;
    uint32_t *code[MAX_BITS + 1] = {0};
    uint64_t *cnt = NULL;
    bitw w = {out, 0, 0};
    for (int b = 1; b <= MAX_BITS; b++) {
        size_t A = (size_t)1 << b;
        if (!has_symbols(segs, nseg, b)) continue;
        cnt = hn_calloc(A, sizeof *cnt);
        code[b] = hn_malloc(A, sizeof *code[b]);
        HN_GOTO_IF(!cnt || !code[b], HINER_E_NOMEM);
        for (size_t i = 0; i < nseg; i++)
            if (segs[i].bits == b)
                for (size_t j = 0; j < segs[i].n; j++) cnt[segs[i].sym[j]]++;
        HN_GOTO_FWD(huf_put_code(&w, cnt, A, code[b]));
        hn_free(cnt);
        cnt = NULL;
    }
    for (size_t i = 0; i < nseg; i++) {
        const uint32_t *c = code[segs[i].bits];
        for (size_t j = 0; j < segs[i].n; j++) {
            uint32_t e = c[segs[i].sym[j]];
            bw_put(&w, e >> 5, e & 31);
        }
    }
    bw_flush(&w);
fail:
    hn_free(cnt);
    for (int b = 0; b <= MAX_BITS; b++) hn_free(code[b]);
    return st;
}

typedef struct huf_dec {
    uint32_t m; /* used symbols; 1 means no bits are read */
    uint32_t maxlen;
    uint32_t nlen[HUF_MAXLEN + 1], first[HUF_MAXLEN + 1], off[HUF_MAXLEN + 1];
    uint16_t *sorted; /* symbols by (length, symbol): canonical order */
    uint32_t *tab;    /* HUF_TABBITS-bit prefix -> symbol << 8 | length, 0 if longer */
} huf_dec;

/* Canonical order and the first-level table from pairs (symbol << 5 | length) of a code
 * with m >= 2 symbols; HINER_E_CORRUPT unless the lengths make a complete code. */
static hiner_status huf_table(huf_dec *d, const uint32_t *pairs, uint32_t m)
{
    /* Kraft sum exactly 1: a complete code decodes every bit string, so neither the table
     * nor the long-code search below has holes, and an oversubscribed one is rejected */
    uint64_t kraft = 0;
    for (int l = 1; l <= HUF_MAXLEN; l++) kraft += (uint64_t)d->nlen[l] << (HUF_MAXLEN - l);
    HN_CHECK(kraft != (uint64_t)1 << HUF_MAXLEN, HINER_E_CORRUPT);
    huf_first(d->nlen, d->first);
    uint32_t next[HUF_MAXLEN + 1], o = 0;
    for (int l = 1; l <= HUF_MAXLEN; l++) {
        d->off[l] = o;
        next[l] = o;
        o += d->nlen[l];
    }
    for (uint32_t i = 0; i < m; i++) d->sorted[next[pairs[i] & 31]++] = (uint16_t)(pairs[i] >> 5);
    /* completeness also keeps first[l] + nlen[l] <= 2^l, so every index is in the table */
    for (int l = 1; l <= HUF_TABBITS; l++) {
        uint32_t span = 1u << (HUF_TABBITS - l);
        for (uint32_t k = 0; k < d->nlen[l]; k++) {
            uint32_t c = (d->first[l] + k) * span;
            uint32_t e = (uint32_t)d->sorted[d->off[l] + k] << 8 | (uint32_t)l;
            for (uint32_t t = 0; t < span; t++) d->tab[c + t] = e;
        }
    }
    return HINER_OK;
}

/* Reads and validates one code's lengths for an alphabet of A symbols. */
static hiner_status huf_get_code(bitr *r, size_t A, huf_dec *d)
{
    hiner_status st = HINER_OK;
    uint32_t *pairs = NULL;
    uint32_t m = br_eg(r);
    HN_GOTO_IF(m >= A, HINER_E_CORRUPT);
    d->m = ++m;
    pairs = hn_malloc(m, sizeof *pairs);
    d->sorted = hn_malloc(m, sizeof *d->sorted);
    d->tab = hn_calloc((size_t)1 << HUF_TABBITS, sizeof *d->tab);
    HN_GOTO_IF(!pairs || !d->sorted || !d->tab, HINER_E_NOMEM);
    uint64_t s = (uint64_t)-1;
    int len = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t gap = br_eg(r), z = br_eg(r);
        HN_GOTO_IF(gap == UINT32_MAX || z == UINT32_MAX, HINER_E_CORRUPT);
        s += (uint64_t)gap + 1;
        len += z & 1 ? -(int)(z >> 1) - 1 : (int)(z >> 1);
        HN_GOTO_IF(s >= A || len < 1 || len > HUF_MAXLEN, HINER_E_CORRUPT);
        pairs[i] = (uint32_t)s << 5 | (uint32_t)len;
        d->nlen[len]++;
        d->maxlen = (uint32_t)len > d->maxlen ? (uint32_t)len : d->maxlen;
    }
    if (m == 1)
        d->sorted[0] = (uint16_t)(pairs[0] >> 5);
    else
        HN_GOTO_FWD(huf_table(d, pairs, m));
fail:
    hn_free(pairs);
    return st;
}

static uint16_t huf_sym(bitr *r, const huf_dec *d)
{
    if (d->m == 1) return d->sorted[0];
    if (r->n < HUF_MAXLEN) br_refill(r);
    uint32_t e = d->tab[r->acc >> (64 - HUF_TABBITS)];
    if (e & 0xFF) {
        br_get(r, (int)(e & 0xFF));
        return (uint16_t)(e >> 8);
    }
    for (uint32_t l = HUF_TABBITS + 1; l <= d->maxlen; l++) {
        uint32_t c = (uint32_t)(r->acc >> (64 - l)) - d->first[l];
        if (c < d->nlen[l]) {
            br_get(r, (int)l);
            return d->sorted[d->off[l] + c];
        }
    }
    return 0; /* unreachable: the code is complete */
}

static hiner_status huf_decode(hn_rd *in, hn_sym_seg *segs, size_t nseg)
{
    hiner_status st = HINER_OK;
    huf_dec dec[MAX_BITS + 1];
    memset(dec, 0, sizeof dec);
    bitr r;
    br_init(&r, in->p, in->end);
    for (int b = 1; b <= MAX_BITS; b++) {
        if (!has_symbols(segs, nseg, b)) continue;
        HN_GOTO_FWD(huf_get_code(&r, (size_t)1 << b, &dec[b]));
        HN_GOTO_IF(br_overrun(&r), HINER_E_TRUNCATED);
    }
    for (size_t i = 0; i < nseg; i++) {
        const huf_dec *d = &dec[segs[i].bits];
        for (size_t j = 0; j < segs[i].n; j++) {
            segs[i].sym[j] = huf_sym(&r, d);
            /* stop at once on a short stream rather than decode zeros for a huge n */
            HN_GOTO_IF(br_overrun(&r), HINER_E_TRUNCATED);
        }
    }
    HN_GOTO_IF(br_get(&r, (int)((8 - br_consumed(&r) % 8) % 8)) != 0, HINER_E_CORRUPT);
    HN_GOTO_IF(br_overrun(&r), HINER_E_TRUNCATED);
    in->p += br_consumed(&r) / 8;
fail:
    /* a bad header read past the end is a short stream, not a corrupt one */
    if (st == HINER_E_CORRUPT && br_overrun(&r)) st = HINER_E_TRUNCATED;
    for (int b = 0; b <= MAX_BITS; b++) {
        hn_free(dec[b].sorted);
        hn_free(dec[b].tab);
    }
    return st;
}

/* ---- adaptive arithmetic ----
 * Stream: the range coder's bytes (nothing at all when there are no symbols). A symbol
 * goes MSB first down a binary tree of adaptive probabilities (LZMA's literal bit tree)
 * over its top min(bits, 8) bits; the remaining low bits of a wider symbol go down a
 * second tree shared by all top values: min/max quantization spreads a tensor over the
 * whole range, so the low bits are near uniform. That codes about as well as a full tree
 * over all the bits, in far less memory (at most 512 nodes per model, 4096 for 12 bits).
 *
 * Each node adapts at a rate set by how many bits it has seen: shift 4 while fresh, then
 * 5, 6 and 7 (roughly the 1/n of a frequency count, as AV1's CDF adaptation). On quantized
 * weights this codes smaller than any fixed shift or a two-rate mix; the exact switch
 * points hardly matter. */

#define ARITH_TOP 8
#define ARITH_SEEN 56 /* a node's count saturates where the rate stops changing */

typedef struct arith_node {
    hn_prob p;
    uint8_t seen;
} arith_node;

/* Top tree nodes 1..2^tb-1, then the low tree's 1..2^lb-1; node 0 of each is unused. */
typedef struct arith_model {
    int tb, lb;
    arith_node *top, *low;
} arith_model;

static int node_shift(const arith_node *q)
{
    return 4 + (q->seen >= 8) + (q->seen >= 24) + (q->seen >= ARITH_SEEN);
}

static hiner_status model_get(arith_model **tab, int ctx, int bits, arith_model **out)
{
    arith_model **slot = &tab[ctx * (MAX_BITS + 1) + bits];
    if (!*slot) {
        int tb = bits < ARITH_TOP ? bits : ARITH_TOP, lb = bits - tb;
        size_t nn = ((size_t)1 << tb) + ((size_t)1 << lb);
        arith_model *m = hn_malloc(1, sizeof *m + nn * sizeof(arith_node));
        HN_CHECK(!m, HINER_E_NOMEM);
        m->tb = tb;
        m->lb = lb;
        m->top = (arith_node *)(m + 1);
        m->low = m->top + ((size_t)1 << tb);
        for (size_t i = 0; i < nn; i++) m->top[i] = (arith_node){HN_RC_PROB_INIT, 0};
        *slot = m;
    }
    *out = *slot;
    return HINER_OK;
}

static void enc_tree(hn_rc_enc *e, arith_node *t, uint32_t v, int nb)
{
    uint32_t i = 1;
    for (int k = nb - 1; k >= 0; k--) {
        int bit = (v >> k) & 1;
        arith_node *q = &t[i];
        hn_rc_enc_bit(e, &q->p, bit, node_shift(q));
        q->seen += q->seen < ARITH_SEEN;
        i = 2 * i + (uint32_t)bit;
    }
}

static uint32_t dec_tree(hn_rc_dec *d, arith_node *t, int nb)
{
    uint32_t i = 1;
    for (int k = 0; k < nb; k++) {
        arith_node *q = &t[i];
        int bit = hn_rc_dec_bit(d, &q->p, node_shift(q));
        q->seen += q->seen < ARITH_SEEN;
        i = 2 * i + (uint32_t)bit;
    }
    return i - (1u << nb);
}

static hiner_status arith_encode(hn_buf *out, const hn_sym_seg *segs, size_t nseg)
{
    hiner_status st = HINER_OK;
    arith_model *tab[MAX_CTX * (MAX_BITS + 1)] = {0};
    if (!has_symbols(segs, nseg, 0)) return HINER_OK;
    hn_rc_enc e;
    hn_rc_enc_init(&e, out);
    for (size_t i = 0; i < nseg; i++) {
        const hn_sym_seg *s = &segs[i];
        if (!s->n) continue;
        arith_model *m;
        HN_GOTO_FWD(model_get(tab, s->ctx, s->bits, &m));
        for (size_t j = 0; j < s->n; j++) {
            enc_tree(&e, m->top, s->sym[j] >> m->lb, m->tb);
            if (m->lb) enc_tree(&e, m->low, s->sym[j] & ((1u << m->lb) - 1), m->lb);
        }
    }
    hn_rc_enc_finish(&e);
fail:
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) hn_free(tab[i]);
    return st;
}

static hiner_status arith_decode(hn_rd *in, hn_sym_seg *segs, size_t nseg)
{
    hiner_status st = HINER_OK;
    arith_model *tab[MAX_CTX * (MAX_BITS + 1)] = {0};
    if (!has_symbols(segs, nseg, 0)) return HINER_OK;
    hn_rc_dec d;
    hn_rc_dec_init(&d, in->p, hn_rd_left(in));
    HN_GOTO_IF(hn_rc_dec_overrun(&d), HINER_E_TRUNCATED);
    /* the encoder's first byte is always 0 (low + range never carries into it): xz's
     * LZMA decoder rejects anything else the same way */
    HN_GOTO_IF(in->p[0] != 0, HINER_E_CORRUPT);
    for (size_t i = 0; i < nseg; i++) {
        hn_sym_seg *s = &segs[i];
        if (!s->n) continue;
        arith_model *m;
        HN_GOTO_FWD(model_get(tab, s->ctx, s->bits, &m));
        for (size_t j = 0; j < s->n; j++) {
            uint32_t v = dec_tree(&d, m->top, m->tb) << m->lb;
            if (m->lb) v |= dec_tree(&d, m->low, m->lb);
            s->sym[j] = (uint16_t)v;
            HN_GOTO_IF(hn_rc_dec_overrun(&d), HINER_E_TRUNCATED);
        }
    }
    in->p = d.in.p;
fail:
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) hn_free(tab[i]);
    return st;
}

/* ---- entry points ---- */

hiner_status hn_entropy_encode(hn_buf *out, const hn_sym_seg *segs, size_t nseg, int method)
{
    HN_CHECK(!out, HINER_E_INVALID_ARG);
    HN_FORWARD(check_segs(segs, nseg, method, 1));
    HN_CHECK(out->err, HINER_E_NOMEM);
    size_t n0 = out->n;
    hiner_status st =
        method == HN_ENTROPY_HUFFMAN ? huf_encode(out, segs, nseg) : arith_encode(out, segs, nseg);
    if (st == HINER_OK && out->err) st = HINER_E_NOMEM;
    if (st != HINER_OK) out->n = n0; /* no half-written stream left behind */
    return st;
}

/* On success `in` ends just past the stream; on failure it is left where it was. */
hiner_status hn_entropy_decode(hn_rd *in, hn_sym_seg *segs, size_t nseg, int method)
{
    HN_CHECK(!in, HINER_E_INVALID_ARG);
    HN_FORWARD(check_segs(segs, nseg, method, 0));
    HN_CHECK(in->overrun, HINER_E_TRUNCATED);
    return method == HN_ENTROPY_HUFFMAN ? huf_decode(in, segs, nseg) : arith_decode(in, segs, nseg);
}
