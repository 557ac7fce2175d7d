/*
 * container.c - the .hiner framing (docs/format.md, "Layout"): a 16-byte header, then
 * length-prefixed chunks with a critical flag and a CRC-32 each, INFO first and END! last.
 * The parser checks every length and checksum before a payload is looked at.
 */
#include "container.h"

const uint8_t hn_magic[8] = {0x89, 'H', 'N', 'R', '\r', '\n', 0x1a, '\n'};

void hn_file_header(hn_buf *out)
{
    hn_file_header_minor(out, HN_FORMAT_MINOR_ONE_TILE);
}

void hn_file_header_minor(hn_buf *out, int minor)
{
    hn_buf_put(out, hn_magic, 8);
    hn_buf_u16(out, HN_FORMAT_MAJOR);
    hn_buf_u16(out, (uint16_t)minor);
    hn_buf_u32(out, 0);
}

hiner_status hn_chunk_at(const uint8_t *p, size_t n, size_t pos, hn_chunk *c)
{
    HN_CHECK(pos > n || n - pos < 16, HINER_E_TRUNCATED);
    const uint8_t *h = p + pos;
    const uint32_t flags = hn_read_le32(h + 4), len = hn_read_le32(h + 8);
    HN_CHECK((size_t)len > n - pos - 16, HINER_E_TRUNCATED);
    const uint32_t crc = hn_crc32(hn_crc32(0, h, 12), h + 12, len);
    HN_CHECK(crc != hn_read_le32(h + 12 + len), HINER_E_CORRUPT);
    memcpy(c->type, h, 4);
    c->type[4] = 0;
    c->critical = (flags & HN_CHUNK_CRITICAL) != 0;
    c->data = h + 12;
    c->n = len;
    c->offset = pos;
    return HINER_OK;
}

void hn_chunk_put(hn_buf *out, const char *type, int critical, const void *payload, size_t n)
{
    uint8_t h[12];
    memcpy(h, type, 4);
    hn_write_le32(h + 4, critical ? HN_CHUNK_CRITICAL : 0);
    hn_write_le32(h + 8, (uint32_t)n);
    if (n > UINT32_MAX) {
        out->err = 1;
        return;
    }
    uint32_t crc = hn_crc32(0, h, 12);
    crc = hn_crc32(crc, payload, n);
    hn_buf_put(out, h, 12);
    hn_buf_put(out, payload, n);
    hn_buf_u32(out, crc);
}

int hn_chunk_is(const hn_chunk *c, const char *type)
{
    return memcmp(c->type, type, 4) == 0;
}

hiner_status hn_container_parse(const uint8_t *p, size_t n, hn_chunk *chunks, size_t max_chunks,
                                size_t *count, int *major, int *minor)
{
    *count = 0;
    HN_CHECK(n < 16, n >= 8 && memcmp(p, hn_magic, 8) == 0 ? HINER_E_TRUNCATED : HINER_E_CORRUPT);
    HN_CHECK(memcmp(p, hn_magic, 8) != 0, HINER_E_CORRUPT);
    *major = hn_read_le16(p + 8);
    *minor = hn_read_le16(p + 10);
    HN_CHECK(*major != HN_FORMAT_MAJOR, *major > HN_FORMAT_MAJOR ? HINER_E_VERSION : HINER_E_CORRUPT);
    size_t pos = 16;
    int ended = 0;
    while (pos < n) {
        HN_CHECK(ended, HINER_E_CORRUPT); /* bytes after END! */
        hn_chunk c;
        HN_FORWARD(hn_chunk_at(p, n, pos, &c));
        HN_CHECK(*count >= max_chunks, HINER_E_LIMIT);
        chunks[(*count)++] = c;
        HN_CHECK(*count == 1 && !hn_chunk_is(&c, "INFO"), HINER_E_CORRUPT);
        if (hn_chunk_is(&c, "END!")) ended = 1;
        pos += 16 + c.n;
    }
    HN_CHECK(!ended, HINER_E_TRUNCATED);
    return HINER_OK;
}
