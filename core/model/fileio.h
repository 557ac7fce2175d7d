/*
 * fileio.h - chunk payloads of a model (fileio_write.c) and the whole-file reader
 * (fileio_read.c), after docs/format.md. Used by the encoder and the hiner_open* entry points.
 */
#ifndef HINER_FILEIO_H
#define HINER_FILEIO_H

#include "../codec/codec.h"
#include "../codec/quant.h"
#include "model.h"

#define HN_MAX_TEXT ((size_t)64 << 20) /* bytes of one decompressed text record */

HN_HIDDEN void hn_pl_info(hn_buf *b, const hn_data *d, int has_mask, int has_wave);
HN_HIDDEN hiner_status hn_pl_band(hn_buf *b, const double *mn, const double *mx, uint32_t C);
HN_HIDDEN hiner_status hn_pl_mask(hn_buf *b, const hn_data *d);
HN_HIDDEN hiner_status hn_pl_wave(hn_buf *b, const hn_data *d, const hiner_meta *meta,
                                     hn_meta_store *trial);
HN_HIDDEN hiner_status hn_pl_geo(hn_buf *b, const hiner_meta *meta, hn_meta_store *trial);
HN_HIDDEN hiner_status hn_pl_meta(hn_buf *b, const hiner_meta *meta, uint32_t C,
                                     hn_meta_store *trial);
HN_HIDDEN hiner_status hn_pl_text(hn_buf *b, const char *text);
HN_HIDDEN void hn_pl_arch(hn_buf *b, const hiner_plan *pl, int lam_mode, double lam_lo,
                          double lam_scale);
HN_HIDDEN hiner_status hn_pl_tensors(hn_buf *b, int method, hn_qtensor *qt, size_t nt);

/* Reads a whole file held in memory into a new model. */
HN_HIDDEN hiner_status hn_read_model(const uint8_t *p, size_t n, hiner_model **out,
                                     const hn_log *lg);

#endif
