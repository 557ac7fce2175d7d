/*
 * buf.c - little-endian serialisation: a growable output buffer with a sticky error, and a
 * bounds-checked input cursor that yields zeros and a sticky overrun flag past its end.
 */
#include "codec.h"

void hn_buf_init(hn_buf *b)
{
    memset(b, 0, sizeof *b);
}

void hn_buf_free(hn_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void hn_buf_put(hn_buf *b, const void *data, size_t n)
{
    if (b->err || n == 0) return;
    if (n > SIZE_MAX / 2 - b->n) {
        b->err = 1;
        return;
    }
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->err = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

void hn_buf_u8(hn_buf *b, uint8_t v)
{
    hn_buf_put(b, &v, 1);
}
void hn_buf_u16(hn_buf *b, uint16_t v)
{
    uint8_t t[2];
    hn_write_le16(t, v);
    hn_buf_put(b, t, 2);
}
void hn_buf_u32(hn_buf *b, uint32_t v)
{
    uint8_t t[4];
    hn_write_le32(t, v);
    hn_buf_put(b, t, 4);
}
void hn_buf_u64(hn_buf *b, uint64_t v)
{
    uint8_t t[8];
    hn_write_le64(t, v);
    hn_buf_put(b, t, 8);
}
void hn_buf_f32(hn_buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    hn_buf_u32(b, u);
}
void hn_buf_f64(hn_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    hn_buf_u64(b, u);
}
void hn_buf_uvar(hn_buf *b, uint64_t v)
{
    uint8_t t[10];
    int n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        t[n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
    hn_buf_put(b, t, (size_t)n);
}
void hn_buf_str(hn_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    hn_buf_uvar(b, n);
    hn_buf_put(b, s, n);
}

void hn_rd_init(hn_rd *r, const void *p, size_t n)
{
    static const uint8_t empty[1];
    r->p = p ? p : empty; /* p + 0 on NULL is undefined behaviour */
    r->end = r->p + (p ? n : 0);
    r->overrun = 0;
}

int hn_rd_get(hn_rd *r, void *out, size_t n)
{
    if (n > hn_rd_left(r)) {
        r->overrun = 1;
        r->p = r->end;
        memset(out, 0, n);
        return 0;
    }
    memcpy(out, r->p, n);
    r->p += n;
    return 1;
}

uint8_t hn_rd_u8(hn_rd *r)
{
    uint8_t v;
    hn_rd_get(r, &v, 1);
    return v;
}
uint16_t hn_rd_u16(hn_rd *r)
{
    uint8_t t[2];
    hn_rd_get(r, t, 2);
    return hn_read_le16(t);
}
uint32_t hn_rd_u32(hn_rd *r)
{
    uint8_t t[4];
    hn_rd_get(r, t, 4);
    return hn_read_le32(t);
}
uint64_t hn_rd_u64(hn_rd *r)
{
    uint8_t t[8];
    hn_rd_get(r, t, 8);
    return hn_read_le64(t);
}
float hn_rd_f32(hn_rd *r)
{
    uint32_t u = hn_rd_u32(r);
    float v;
    memcpy(&v, &u, 4);
    return v;
}
double hn_rd_f64(hn_rd *r)
{
    uint64_t u = hn_rd_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
uint64_t hn_rd_uvar(hn_rd *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t c = hn_rd_u8(r);
        if (r->overrun) return 0;
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) return v;
    }
    r->overrun = 1;
    return 0;
}
char *hn_rd_str(hn_rd *r, size_t max_len)
{
    uint64_t n = hn_rd_uvar(r);
    if (r->overrun || n > max_len || n > hn_rd_left(r)) {
        r->overrun = 1;
        return NULL;
    }
    char *s = hn_malloc((size_t)n + 1, 1);
    if (!s) return NULL;
    hn_rd_get(r, s, (size_t)n);
    s[n] = 0;
    return s;
}
