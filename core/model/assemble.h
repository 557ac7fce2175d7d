/*
 * assemble.h - the parts of a .hiner file that do not depend on the weights (header, INFO,
 * BAND, MASK, WAVE, GEO, META, TRNG, ARCH), the training record's text, and the chunks put
 * together in the order of docs/format.md.
 */
#ifndef HINER_ASSEMBLE_H
#define HINER_ASSEMBLE_H

#include "fileio.h"

typedef struct hn_fixed {
    hn_buf info, band, mask, wave, geo, meta, trng, arch;
    int has_mask, has_wave, has_geo, has_meta, no_trng;
} hn_fixed;

/* The payloads of the cube's and metadata's chunks; trng and arch are left for the caller.
 * HINER_E_LIMIT when the metadata is beyond what a reader accepts. */
HN_HIDDEN hiner_status hn_fixed_build(hn_fixed *f, const hn_data *d, const hiner_meta *meta);
HN_HIDDEN void hn_fixed_free(hn_fixed *f);
/* Bytes of the file but for the DECO and ENCO/EMBD payloads, framing included. */
HN_HIDDEN uint64_t hn_fixed_bytes(const hn_fixed *f);

/* The informative TRNG record. No wall time in it: the same input, seed and thread count
 * must give byte-identical files. */
HN_HIDDEN void hn_training_text(char *s, size_t n, const hiner_params *p, int epochs, int qat,
                                double pf, double pq, int method);

/* The whole file into out (out->err set on allocation failure), with where its bytes went:
 * the fixed parts, then DECO and, as store_encoder says, ENCO or EMBD. */
HN_HIDDEN void hn_assemble(hn_buf *out, const hn_fixed *f, const hn_buf *deco, const hn_buf *rest,
                           int store_encoder, hiner_bits *bits);

#endif
