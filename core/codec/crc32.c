/*
 * crc32.c - CRC-32 of the IEEE 802.3 polynomial (reflected 0xEDB88320), the checksum of
 * zlib, PNG and gzip, guarding every chunk of a .hiner file. Slice-by-1 table; the data
 * is small (headers and weights), so speed does not matter here.
 */
#include "codec.h"

static uint32_t crc_table(int i)
{
    uint32_t c = (uint32_t)i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    return c;
}

uint32_t hn_crc32(uint32_t crc, const void *data, size_t n)
{
    /* The table is built on the stack per call: no global state, no init race. */
    uint32_t t[256];
    for (int i = 0; i < 256; i++) t[i] = crc_table(i);
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}
