/*
 * container.h - chunk framing of .hiner files (docs/format.md, "Layout").
 */
#ifndef HINER_CONTAINER_H
#define HINER_CONTAINER_H

#include "codec.h"

#define HN_FORMAT_MAJOR 1
#define HN_FORMAT_MINOR 2          /* the newest this library reads and writes */
#define HN_FORMAT_MINOR_ONE_TILE 1 /* what a file of one tile is written as */
#define HN_CHUNK_CRITICAL 1u
#define HN_CHUNK_OVERHEAD 16 /* type, flags, length, crc */
#define HN_HEADER_BYTES 16

extern HN_HIDDEN const uint8_t hn_magic[8];

typedef struct hn_chunk {
    char type[5];
    int critical;
    const uint8_t *data; /* payload, inside the caller's buffer */
    size_t n;
    size_t offset;       /* of the chunk header in the file */
} hn_chunk;

HN_HIDDEN void hn_file_header(hn_buf *out);
HN_HIDDEN void hn_file_header_minor(hn_buf *out, int minor);
/* The chunk at pos of p[0, n): framing and CRC checked. */
HN_HIDDEN hiner_status hn_chunk_at(const uint8_t *p, size_t n, size_t pos, hn_chunk *c);
HN_HIDDEN void hn_chunk_put(hn_buf *out, const char *type, int critical, const void *payload,
                            size_t n);
HN_HIDDEN int hn_chunk_is(const hn_chunk *c, const char *type);
/* Splits a whole file into chunks, checking magic, version, lengths, CRCs, INFO first and
 * END! last with nothing after it. */
HN_HIDDEN hiner_status hn_container_parse(const uint8_t *p, size_t n, hn_chunk *chunks,
                                          size_t max_chunks, size_t *count, int *major,
                                          int *minor);

#endif
