/*
 * textcm.c - metadata text coder: a small context-mixing model in the style of lpaq1 that
 * predicts each bit for the range coder. Orders 0-4 and 6, word and sparse contexts, the
 * previous record's column, the previous record with its numbers extrapolated, and a match
 * model that also sees a built-in primer of GDAL/PROJ phrases; mixed in the logistic domain.
 */
#include "codec.h"

enum {
    NH = 10,          /* hashed contexts: orders 1-4 and 6, word, sparse, 2 column, numeric */
    NIN = 2 * NH + 3, /* mixer inputs: NH counters, order 0, match, bias, NH mapped counters */
    TB_MIN = 10,      /* hashed tables have 2^tb slots, tb from the text's length */
    TB_MAX = 16,
    MB_MIN = 12, /* the match model's table: 2^mb positions */
    MB_MAX = 18,
    MIX_SETS = 256, /* mixer weight sets, selected by the partial byte */
    MM_MIN = 5,     /* match model: context length hashed to find a candidate */
    MM_MAXLEN = 65535,
    PRED_MAX = 48, /* numeric model: longest predicted record */
    /* Counter limits: the adaptation rate is 1/(n+1.5) until n reaches the limit, so young
     * contexts learn fast and old ones average (lpaq's StateMap, without bit histories). */
    LIMIT_LO = 250, /* orders 0-2: stationary */
    LIMIT_HI = 20,  /* the rest: sparse, and keys or columns change */
    LIMIT_MAP = 255,
    LIMIT_PRIME = 30,
    /* mixer: initial weight (16 fractional bits), learning rate decaying by 1 per 32 bytes */
    W_INIT = 8000,
    W_MAX = 1 << 24,
    LR_START = 32,
    LR_END = 8,
};

/* Every stream starts as if this text had been coded just before it (see tc_prime): phrases
 * that GDAL metadata and PROJ's WKT repeat from file to file then cost a few bits each (a
 * WGS 84 / UTM WKT2 shrinks to a fraction of its unprimed size). Part of the format:
 * changing a byte of it breaks every existing stream. */
static const char PRIMER[] =
    "wavelength_units=Nanometers\0wavelength=\0fwhm=\0bbl=1\0band 1 (400.0 Nanometers)\0"
    "Micrometers\0AREA_OR_POINT=Area\0CENTRAL_WAVELENGTH_UM=\0FWHM_UM=\0"
    "PROJCRS[\"WGS 84 / UTM zone 33N\",\n"
    "    BASEGEOGCRS[\"WGS 84\",\n"
    "        ENSEMBLE[\"World Geodetic System 1984 ensemble\",\n"
    "            MEMBER[\"World Geodetic System 1984 (Transit)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G730)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G873)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G1150)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G1674)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G1762)\"],\n"
    "            MEMBER[\"World Geodetic System 1984 (G2139)\"],\n"
    "            ELLIPSOID[\"WGS 84\",6378137,298.257223563,\n"
    "                LENGTHUNIT[\"metre\",1]],\n"
    "            ENSEMBLEACCURACY[2.0]],\n"
    "        PRIMEM[\"Greenwich\",0,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433]],\n"
    "        ID[\"EPSG\",4326]],\n"
    "    CONVERSION[\"UTM zone 33N\",\n"
    "        METHOD[\"Transverse Mercator\",\n"
    "            ID[\"EPSG\",9807]],\n"
    "        PARAMETER[\"Latitude of natural origin\",0,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433],\n"
    "            ID[\"EPSG\",8801]],\n"
    "        PARAMETER[\"Longitude of natural origin\",15,\n"
    "            ANGLEUNIT[\"degree\",0.0174532925199433],\n"
    "            ID[\"EPSG\",8802]],\n"
    "        PARAMETER[\"Scale factor at natural origin\",0.9996,\n"
    "            SCALEUNIT[\"unity\",1],\n"
    "            ID[\"EPSG\",8805]],\n"
    "        PARAMETER[\"False easting\",500000,\n"
    "            LENGTHUNIT[\"metre\",1],\n"
    "            ID[\"EPSG\",8806]],\n"
    "        PARAMETER[\"False northing\",0,\n"
    "            LENGTHUNIT[\"metre\",1],\n"
    "            ID[\"EPSG\",8807]]],\n"
    "    CS[Cartesian,2],\n"
    "        AXIS[\"(E)\",east,\n"
    "            ORDER[1],\n"
    "            LENGTHUNIT[\"metre\",1]],\n"
    "        AXIS[\"(N)\",north,\n"
    "            ORDER[2],\n"
    "            LENGTHUNIT[\"metre\",1]],\n"
    "    USAGE[\n"
    "        SCOPE[\"Navigation and medium accuracy spatial referencing.\"],\n"
    "        AREA[\"Between 12\302\260E and 18\302\260E, northern hemisphere between equator "
    "and 84\302\260N, onshore and offshore.\"],\n"
    "        BBOX[0,12,84,18]],\n"
    "    ID[\"EPSG\",32633]]\0"
    "PROJCS[\"WGS 84 / UTM zone 33N\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\","
    "6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],"
    "PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,"
    "AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]],"
    "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],"
    "PARAMETER[\"central_meridian\",15],PARAMETER[\"scale_factor\",0.9996],"
    "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],"
    "UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],AXIS[\"Easting\",EAST],"
    "AXIS[\"Northing\",NORTH],AUTHORITY[\"EPSG\",\"32633\"]]\0";

typedef struct tc_state {
    uint8_t *buf; /* the primer, then the bytes coded so far */
    size_t pos;   /* index of the byte being coded */
    int tb, mb;

    uint32_t *ht;           /* NH tables of 2^tb counters: p (22 bits) << 10 | count (10 bits) */
    uint32_t *mm_pos;       /* 2^mb: position after the last occurrence of an MM_MIN-byte hash */
    int32_t *w;             /* MIX_SETS x NIN mixer weights, 16 fractional bits */
    uint16_t apm[256 * 33]; /* refinement of the mixer's output by the partial byte */
    uint32_t o0[256];
    uint32_t mm_sm[2 * 64];
    uint32_t map[NH * 16 * 32]; /* per model: counter (count, p) -> learned p */
    int16_t st[4096];           /* stretch(p) = ln(p/(1-p)), the inverse of squash */
    int32_t rtab[1024];         /* 65536 / (n + 1.5) */

    /* byte-level context, refreshed after each byte */
    uint32_t h[NH];
    uint32_t c4, c8; /* the last 8 bytes, newest in the low byte */
    uint32_t word;   /* hash of the current run of letters, 0 outside one */
    size_t rec_start, prev_start, pprev_start; /* the last 3 records (after NUL or '\n') */
    int above, above1;      /* previous record's bytes at this column and the next (256 = none) */
    int col_eq;             /* this record so far equals the previous one's prefix */
    uint8_t pred[PRED_MAX]; /* the previous record with its numbers extrapolated */
    int pred_len;
    int pred_state; /* this record vs pred: 0 equal so far, 1 above, 2 below, 3 longer */
    size_t mm_ptr, mm_len;

    /* bit-level state, refreshed after each bit */
    int c0; /* the partial byte with a leading 1 */
    uint32_t idx[NH], mi[NH];
    int x[NIN];
    int mm_expect, mm_ctx;
    int pr_mix, apm_i, pr;
    int32_t *wsel;
    int lr;
} tc_state;

/* Logistic squash, 1/(1 + e^-d) with d in 1/256 units, output 12 bits; interpolated from a
 * 33-point table so the encoder and decoder agree bit for bit (lpaq1). */
static int squash(int d)
{
    static const int t[33] = {1,    2,    3,    6,    10,   16,   27,   45,   73,   120,  194,
                              310,  488,  747,  1101, 1546, 2047, 2549, 2994, 3348, 3607, 3785,
                              3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094};
    if (d > 2047) return 4095;
    if (d < -2047) return 1;
    int wt = d & 127;
    d = (d >> 7) + 16;
    return (t[d] * (128 - wt) + t[d + 1] * wt + 64) >> 7;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static uint32_t hash32(uint32_t a, uint32_t b)
{
    uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 13;
    return h;
}

static void ctr_update(uint32_t *s, int y, int limit, const int32_t *rtab)
{
    uint32_t v = *s;
    int n = (int)(v & 1023);
    int p = (int)(v >> 10);
    int target = y ? (1 << 22) - 1 : 0;
    p += (int)(((int64_t)(target - p) * rtab[n]) >> 16);
    if (n < limit) n++;
    *s = (uint32_t)p << 10 | (uint32_t)n;
}

static int ctr_p12(uint32_t v)
{
    return clampi((int)(v >> 20), 1, 4095);
}

static int bits_for(size_t n, int lo, int hi)
{
    int b = lo;
    while (b < hi && ((size_t)1 << b) < n) b++;
    return b;
}

static hiner_status tc_create(tc_state *s, size_t n)
{
    size_t np = sizeof PRIMER - 1;
    memset(s, 0, sizeof *s);
    s->tb = bits_for(n * 8, TB_MIN, TB_MAX);
    s->mb = bits_for((np + n) * 2, MB_MIN, MB_MAX);
    size_t slots = (size_t)1 << s->tb;
    s->buf = hn_malloc(np + n, 1);
    s->ht = hn_malloc(slots * NH, sizeof *s->ht);
    s->mm_pos = hn_calloc((size_t)1 << s->mb, sizeof *s->mm_pos);
    s->w = hn_malloc((size_t)MIX_SETS * NIN, sizeof *s->w);
    if (!s->buf || !s->ht || !s->mm_pos || !s->w) return HINER_E_NOMEM;

    memcpy(s->buf, PRIMER, np);
    for (size_t i = 0; i < slots * NH; i++) s->ht[i] = 1u << 31;
    for (int i = 0; i < 256; i++) s->o0[i] = 1u << 31;
    for (int i = 0; i < 2 * 64; i++) s->mm_sm[i] = 1u << 31;
    for (int i = 0; i < NH * 16 * 32; i++) s->map[i] = (uint32_t)((i & 31) * 128 + 64) << 20;
    for (int i = 0; i < MIX_SETS * NIN; i++) s->w[i] = W_INIT;
    for (int j = 0; j < 33; j++) s->apm[j] = (uint16_t)(squash((j - 16) * 128) * 16);
    for (int i = 1; i < 256; i++) memcpy(s->apm + i * 33, s->apm, 33 * sizeof *s->apm);
    for (int i = 0; i < 1024; i++) s->rtab[i] = (int32_t)(65536 * 2 / (2 * i + 3));

    /* stretch = inverse of squash, by scanning squash's range */
    int pi = 0;
    for (int x = -2047; x <= 2047; x++) {
        int v = squash(x);
        for (int j = pi; j <= v; j++) s->st[j] = (int16_t)x;
        pi = v + 1;
    }
    for (int j = pi; j < 4096; j++) s->st[j] = 2047;

    s->c0 = 1;
    s->above = s->above1 = 256;
    s->col_eq = 1;
    s->lr = LR_START;
    return HINER_OK;
}

static void tc_free(tc_state *s)
{
    hn_free(s->buf);
    hn_free(s->ht);
    hn_free(s->mm_pos);
    hn_free(s->w);
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A decimal token at p: digits, optionally '.' and digits. Its value scaled by 10^dec, its
 * length and decimals; 0 when it has too many digits for exact arithmetic. */
static int parse_num(const uint8_t *p, size_t n, uint64_t *v, size_t *len, int *dec)
{
    size_t i = 0;
    int digits = 0;
    *v = 0;
    *dec = 0;
    while (i < n && is_digit(p[i])) {
        *v = *v * 10 + (uint64_t)(p[i++] - '0'); /* wraps past 19 digits: refused below */
        digits++;
    }
    if (i + 1 < n && p[i] == '.' && is_digit(p[i + 1])) {
        i++;
        while (i < n && is_digit(p[i])) {
            *v = *v * 10 + (uint64_t)(p[i++] - '0');
            digits++;
            (*dec)++;
        }
    }
    *len = i;
    return digits <= 17;
}

/* Writes v / 10^dec with dec decimals; trim drops trailing zeros of the fraction. */
static int format_num(uint8_t *out, uint64_t v, int dec, int trim)
{
    uint8_t t[24];
    int k = 0;
    for (int i = 0; i < dec; i++, v /= 10) {
        if (trim && k == 0 && v % 10 == 0) continue; /* nothing written yet: a trailing 0 */
        t[k++] = (uint8_t)('0' + v % 10);
    }
    if (k > 0) t[k++] = '.';
    do {
        t[k++] = (uint8_t)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (int i = 0; i < k; i++) out[i] = t[k - 1 - i];
    return k;
}

/* The record expected next: a copy of the previous record `a` whose numbers continue the
 * step from the record before, `b` (2a - b). Spectral metadata stored one key per column
 * ("418.24", "423.87", ...; "band 17 (512.35 Nanometers)") is mostly such sequences.
 * Writes at most PRED_MAX bytes; returns the length. */
static int predict_record(uint8_t *out, const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
    uint8_t t[PRED_MAX + 24]; /* a formatted number (<= 19 bytes) may pass PRED_MAX */
    size_t ia = 0, ib = 0;
    int o = 0;
    if (la > PRED_MAX) la = PRED_MAX;
    if (lb > PRED_MAX) lb = PRED_MAX;
    while (ia < la && o < PRED_MAX) {
        if (!is_digit(a[ia])) {
            if (ib < lb && !is_digit(b[ib])) ib++;
            t[o++] = a[ia++];
            continue;
        }
        uint64_t va, vb = 0;
        size_t na, nb = 0;
        int da, db = 0;
        int ok = parse_num(a + ia, la - ia, &va, &na, &da);
        ok = ok && ib < lb && is_digit(b[ib]) && parse_num(b + ib, lb - ib, &vb, &nb, &db);
        int d = da > db ? da : db;
        for (int k = da; ok && k < d; k++) ok = (va *= 10) < (uint64_t)1e17;
        for (int k = db; ok && k < d; k++) ok = (vb *= 10) < (uint64_t)1e17;
        if (ok && 2 * va >= vb) {
            /* writers that trim trailing zeros give varying decimals: follow them */
            o += format_num(t + o, 2 * va - vb, d, da != db);
        } else {
            size_t k = na < (size_t)(PRED_MAX - o) ? na : (size_t)(PRED_MAX - o);
            memcpy(t + o, a + ia, k);
            o += (int)k;
        }
        ia += na;
        ib += nb;
    }
    if (o > PRED_MAX) o = PRED_MAX;
    memcpy(out, t, (size_t)o);
    return o;
}

/* After a whole byte (s->buf[s->pos] == c): shift the histories, follow or find a match,
 * and hash the contexts of the next byte. */
static void tc_byte(tc_state *s, int c)
{
    const uint8_t *b = s->buf;
    size_t n = s->pos + 1; /* bytes known */
    s->c8 = s->c8 << 8 | s->c4 >> 24;
    s->c4 = s->c4 << 8 | (uint32_t)c;
    s->pos = n;

    /* records: the column contexts align this record with the previous one */
    size_t col = n - s->rec_start;
    if (c == 0 || c == '\n') {
        s->pprev_start = s->prev_start;
        s->prev_start = s->rec_start;
        s->rec_start = n;
        s->col_eq = 1;
        s->pred_state = 0;
        size_t la = s->rec_start - 1 - s->prev_start; /* without the separator */
        size_t lb = s->prev_start - s->pprev_start - (s->prev_start > 0);
        s->pred_len = predict_record(s->pred, b + s->prev_start, la, b + s->pprev_start, lb);
    } else {
        s->col_eq = s->col_eq && c == s->above;
        if (s->pred_state == 0 && col - 1 < (size_t)s->pred_len && c != s->pred[col - 1])
            s->pred_state = c > s->pred[col - 1] ? 1 : 2;
        else if (s->pred_state == 0 && col - 1 >= (size_t)s->pred_len)
            s->pred_state = 3;
    }
    col = n - s->rec_start;
    size_t prev_len = s->rec_start - s->prev_start; /* with its separator */
    s->above = col < prev_len ? b[s->prev_start + col] : 256;
    s->above1 = col + 1 < prev_len ? b[s->prev_start + col + 1] : 256;

    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        s->word = hash32(s->word + 1, (uint32_t)c);
    else
        s->word = 0;

    /* match model: extend the current match, or look up the last MM_MIN bytes and verify
     * the candidate (hash collisions would otherwise predict garbage) */
    if (s->mm_len > 0 && b[s->mm_ptr] == c) {
        s->mm_len += s->mm_len < MM_MAXLEN;
        s->mm_ptr++; /* <= n - 1: a match always starts before the current position */
    } else {
        s->mm_len = 0;
    }
    if (n >= MM_MIN) {
        uint32_t hm = hash32(s->c4, s->c8 & 0xff) >> (32 - s->mb);
        size_t cand = s->mm_pos[hm];
        if (s->mm_len == 0 && cand > 0) {
            size_t len = 0;
            while (len < cand && len < 32 && b[cand - 1 - len] == b[n - 1 - len]) len++;
            if (len >= MM_MIN) {
                s->mm_len = len;
                s->mm_ptr = cand;
            }
        }
        s->mm_pos[hm] = (uint32_t)n;
    }

    uint32_t c4 = s->c4;
    s->h[0] = hash32(1, c4 & 0xff);
    s->h[1] = hash32(2, c4 & 0xffff);
    s->h[2] = hash32(3, c4 & 0xffffff);
    s->h[3] = hash32(4, c4);
    s->h[4] = hash32(hash32(5, c4), s->c8 & 0xffff);
    s->h[5] = hash32(6 + s->word, c4 & 0xff);
    s->h[6] = hash32(9, c4 & 0xffff00); /* sparse: skips the last byte */
    s->h[7] = hash32(7, (uint32_t)s->above << 16 | (uint32_t)s->col_eq << 12 |
                            (uint32_t)(col < 15 ? col : 15) << 8 | (c4 & 0xff));
    s->h[8] = hash32(8, (uint32_t)s->above << 16 | (uint32_t)s->above1 << 4 | (uint32_t)s->col_eq);
    int pc = col < (size_t)s->pred_len ? s->pred[col] : col == (size_t)s->pred_len ? 0 : 256;
    s->h[9] = hash32(10, (uint32_t)pc << 8 | (uint32_t)s->pred_state);
}

/* Probability (12 bits) that the next bit is 1. */
static int tc_predict(tc_state *s)
{
    int c0 = s->c0;
    /* a slot per partial byte: Fibonacci hashing of c0 into the context's hash */
    uint32_t ck = (uint32_t)c0 * 0x9E3779B1u;
    int sh = 32 - s->tb;
    for (int i = 0; i < NH; i++) {
        s->idx[i] = ((s->h[i] ^ ck) >> sh) + ((uint32_t)i << s->tb);
        uint32_t v = s->ht[s->idx[i]];
        int n = (int)(v & 1023), p = ctr_p12(v);
        s->x[i] = s->st[p];
        /* the same counter through a learned map: how far to trust p after n updates */
        int nq = n < 8 ? n : 8 + ((n - 8) >> 3 < 7 ? (n - 8) >> 3 : 7);
        s->mi[i] = (uint32_t)((i * 16 + nq) * 32 + (p >> 7));
        s->x[NH + 3 + i] = s->st[ctr_p12(s->map[s->mi[i]])];
    }
    s->x[NH] = s->st[ctr_p12(s->o0[c0])];

    /* match model: the bit that followed the matched context, while the partial byte still
     * agrees with it; its reliability is learned per match length */
    s->mm_expect = -1;
    s->x[NH + 1] = 0;
    if (s->mm_len > 0) {
        int pb = s->buf[s->mm_ptr] | 256;
        int nb = 0;
        while ((c0 >> nb) > 1) nb++; /* bits known of this byte */
        if ((pb >> (8 - nb)) == c0) {
            int lb = s->mm_len < 16 ? (int)s->mm_len : 16 + (int)(s->mm_len >= 32);
            s->mm_expect = (pb >> (7 - nb)) & 1;
            s->mm_ctx = lb * 2 + s->mm_expect;
            s->x[NH + 1] = s->st[ctr_p12(s->mm_sm[s->mm_ctx])];
        }
    }
    s->x[NH + 2] = 256;

    s->wsel = s->w + (size_t)c0 * NIN;
    int64_t dot = 0;
    for (int i = 0; i < NIN; i++) dot += (int64_t)s->x[i] * s->wsel[i];
    dot >>= 16;
    s->pr_mix = squash(dot < -2047 ? -2047 : dot > 2047 ? 2047 : (int)dot);

    /* APM (lpaq1): interpolate between 33 buckets of stretch(p) in this context */
    int v = (s->st[s->pr_mix] + 2048) * 32;
    int wt = v & 0xfff;
    int base = c0 * 33 + (v >> 12);
    s->apm_i = base + (wt >> 11);
    int p1 = (s->apm[base] * (4096 - wt) + s->apm[base + 1] * wt) >> 16;
    s->pr = clampi((s->pr_mix + 3 * p1 + 2) >> 2, 1, 4095);
    return s->pr;
}

static void tc_update(tc_state *s, int y)
{
    for (int i = 0; i < NH; i++) {
        ctr_update(&s->ht[s->idx[i]], y, i < 2 ? LIMIT_LO : LIMIT_HI, s->rtab);
        ctr_update(&s->map[s->mi[i]], y, LIMIT_MAP, s->rtab);
    }
    ctr_update(&s->o0[s->c0], y, LIMIT_LO, s->rtab);
    if (s->mm_expect >= 0) ctr_update(&s->mm_sm[s->mm_ctx], y, LIMIT_LO, s->rtab);

    /* gradient step on coding cost: w += lr * x * err */
    int err = ((y << 12) - s->pr_mix) * s->lr;
    for (int i = 0; i < NIN; i++)
        s->wsel[i] = clampi(s->wsel[i] + ((s->x[i] * err) >> 14), -W_MAX, W_MAX);
    int g = (y << 16) + (y << 7) - y - y;
    s->apm[s->apm_i] = (uint16_t)(s->apm[s->apm_i] + ((g - s->apm[s->apm_i]) >> 7));

    s->c0 = s->c0 << 1 | y;
    if (s->c0 >= 256) {
        tc_byte(s, s->c0 & 255);
        s->c0 = 1;
        /* the mixer learns fast at first, then settles */
        if (s->lr > LR_END && (s->pos & 31) == 0) s->lr--;
    }
}

/* Runs the primer through the byte-level state (match table, records) and the order-0 and
 * order-1 counters, so that short strings start from ASCII statistics. The full model is
 * not primed: that would cost a model pass per call and it hurts number columns. */
static void tc_prime(tc_state *s)
{
    size_t np = sizeof PRIMER - 1;
    for (size_t i = 0; i < np; i++) {
        int c = s->buf[i];
        for (int k = 7, c0 = 1; k >= 0; k--) {
            int y = (c >> k) & 1;
            ctr_update(&s->o0[c0], y, LIMIT_PRIME, s->rtab);
            uint32_t ck = (uint32_t)c0 * 0x9E3779B1u;
            ctr_update(&s->ht[(s->h[0] ^ ck) >> (32 - s->tb)], y, LIMIT_PRIME, s->rtab);
            c0 = c0 << 1 | y;
        }
        tc_byte(s, c);
    }
}

/* Codes one bit with a fixed probability (12-bit chance of a 1): the model adapts, not the
 * range coder's cell, so it gets a throwaway copy. rc.c keeps it inside [32, 65504]. */
static void enc_bit(hn_rc_enc *e, int p1, int bit)
{
    hn_prob p = (hn_prob)clampi(65536 - p1 * 16, 32, 65504);
    hn_rc_enc_bit(e, &p, bit, 4);
}

static int dec_bit(hn_rc_dec *d, int p1)
{
    hn_prob p = (hn_prob)clampi(65536 - p1 * 16, 32, 65504);
    return hn_rc_dec_bit(d, &p, 4);
}

hiner_status hn_text_encode(hn_buf *out, const uint8_t *data, size_t n)
{
    hiner_status st = HINER_OK;
    tc_state *s = NULL;
    HN_CHECK(!out || (!data && n > 0), HINER_E_INVALID_ARG);
    HN_CHECK(n > UINT32_MAX / 2, HINER_E_LIMIT); /* match positions are 32-bit */
    hn_buf_uvar(out, n);
    if (n == 0) return out->err ? HINER_E_NOMEM : HINER_OK; /* no coded bytes at all */

    s = hn_malloc(1, sizeof *s);
    HN_GOTO_IF(!s, HINER_E_NOMEM);
    HN_GOTO_FWD(tc_create(s, n));
    tc_prime(s);
    memcpy(s->buf + s->pos, data, n);
    hn_rc_enc e;
    hn_rc_enc_init(&e, out);
    for (size_t i = 0; i < n; i++) {
        int c = data[i];
        for (int k = 7; k >= 0; k--) {
            int y = (c >> k) & 1;
            enc_bit(&e, tc_predict(s), y);
            tc_update(s, y);
        }
    }
    hn_rc_enc_finish(&e);
    HN_GOTO_IF(out->err, HINER_E_NOMEM);
fail:
    if (s) tc_free(s);
    hn_free(s);
    return st;
}

hiner_status hn_text_decode(hn_rd *in, uint8_t **data, size_t *n, size_t max_n)
{
    hiner_status st = HINER_OK;
    tc_state *s = NULL;
    uint8_t *out = NULL;
    HN_CHECK(!in || !data || !n, HINER_E_INVALID_ARG);
    *data = NULL;
    *n = 0;
    uint64_t len = hn_rd_uvar(in);
    HN_CHECK(in->overrun, HINER_E_TRUNCATED);
    HN_CHECK(len > max_n || len > UINT32_MAX / 2, HINER_E_LIMIT);
    /* Every bit costs at least -log2(65504/65536) bits (the coder's probability clamp), so a
     * byte of input holds at most ~1420 bytes: a corrupt length cannot make us allocate or
     * decode much more than the input justifies. */
    HN_CHECK(len / 1536 > hn_rd_left(in), HINER_E_TRUNCATED);
    size_t m = (size_t)len;
    out = hn_malloc(m + 1, 1);
    HN_CHECK(!out, HINER_E_NOMEM);
    out[m] = 0;
    if (m > 0) {
        s = hn_malloc(1, sizeof *s);
        HN_GOTO_IF(!s, HINER_E_NOMEM);
        HN_GOTO_FWD(tc_create(s, m));
        tc_prime(s);
        uint8_t *dst = s->buf + s->pos;
        hn_rc_dec d;
        hn_rc_dec_init(&d, in->p, hn_rd_left(in));
        for (size_t i = 0; i < m; i++) {
            int c = 1;
            while (c < 256) {
                int y = dec_bit(&d, tc_predict(s));
                c = c << 1 | y;
                if (c >= 256) dst[i] = (uint8_t)c; /* tc_byte reads it */
                tc_update(s, y);
            }
            /* past the end of the input: stop rather than decode up to max_n bytes of noise */
            HN_GOTO_IF(hn_rc_dec_overrun(&d), HINER_E_TRUNCATED);
        }
        memcpy(out, dst, m);
        in->p = d.in.p;
    }
    *data = out;
    *n = m;
    out = NULL;
fail:
    if (s) tc_free(s);
    hn_free(s);
    hn_free(out);
    return st;
}
