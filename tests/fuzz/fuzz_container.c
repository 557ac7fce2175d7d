/*
 * fuzz_container.c - libFuzzer target for the chunk framing (core/codec/container.c): the
 * raw bytes, then the same bytes with every chunk's CRC made right so that lengths, chunk
 * order and END! handling are reached. Every chunk found must lie inside the input.
 */
#include <stdlib.h>

#include "../../core/codec/container.h"
#include "fuzz_common.h"

enum { MAX_CHUNKS = 64 };

static void parse(const uint8_t *p, size_t n)
{
    hn_chunk ch[MAX_CHUNKS];
    size_t count = 0;
    int major = 0, minor = 0;
    hiner_status st = hn_container_parse(p, n, ch, MAX_CHUNKS, &count, &major, &minor);
    if (st != HINER_OK) return;
    if (count == 0 || count > MAX_CHUNKS) abort();
    for (size_t i = 0; i < count; i++) {
        /* a payload outside the input would be an out-of-bounds read later */
        if (ch[i].data < p + 16 || ch[i].n > (size_t)(p + n - ch[i].data)) abort();
        if (ch[i].offset + 16 + ch[i].n > n) abort();
    }
    if (!hn_chunk_is(&ch[0], "INFO") || !hn_chunk_is(&ch[count - 1], "END!")) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    fuzz_fix_crcs(copy, size);
    parse(copy, size);
    free(copy);
    return 0;
}
