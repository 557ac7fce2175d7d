/*
 * fuzz_open.c - libFuzzer target for the whole reading path through the public API:
 * hiner_open_mem, info, metadata, and decoding a few bands and a wavelength
 * (fuzz_common.h). Chunk CRCs are made right first, so mutations reach every payload
 * parser; an input whose CRCs are left wrong only exercises the CRC check.
 */
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    fuzz_fix_crcs(copy, size);
    int st = fuzz_exercise(copy, size);
    free(copy);
    /* an error status outside hiner_open's documented set, or a misbehaving model */
    if (st > 0 || (st < 0 && !fuzz_clean_open_status(st))) abort();
    return 0;
}
