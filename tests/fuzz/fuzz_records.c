/*
 * fuzz_records.c - libFuzzer target for the payload decoders one level below the file:
 * what the text coder and the range coder would hand them is out of reach of mutations
 * of a whole file (compressed bytes decompress to noise), so this target feeds raw bytes
 * straight to each. The first byte picks the decoder, the next ones its dimensions:
 * 0 META record, 1 GEO record, 2 WAVE record, 3 validity mask, 4 quantized symbols
 * (Huffman), 5 the same (arithmetic), 6 the text coder.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_records_one(data, size);
    return 0;
}
