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
#define HN_MAX_FILE ((uint64_t)1 << 30) /* a stream read whole into memory */

HN_HIDDEN void hn_pl_info(hn_buf *b, const hn_data *d, int has_mask, int has_wave);
/* INFO with a tile grid of `tiles` tiles of tile_w x tile_h; `encoders`: every tile stores
 * its spectral encoder (tiled files). */
HN_HIDDEN void hn_pl_info_grid(hn_buf *b, const hn_data *d, int has_mask, int has_wave,
                               int encoders, uint32_t tiles, uint32_t tile_w, uint32_t tile_h);
/* TIDX: nx x ny entries (offset, length); NULL arrays write zeros (a placeholder of the
 * final size). */
HN_HIDDEN void hn_pl_tidx(hn_buf *b, uint32_t nx, uint32_t ny, const uint64_t *off,
                          const uint32_t *len);
/* TMSK of a tile: `valid` is (P, H, W), P = C when per_band, else 1. */
HN_HIDDEN hiner_status hn_pl_tmsk(hn_buf *b, uint32_t tile, const uint8_t *valid, uint32_t W,
                                  uint32_t H, int per_band, uint32_t C);
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
/* ARCH of tile `tile` at (x0, y0): pl's width, height and pad offsets are the tile's. */
HN_HIDDEN void hn_pl_arch_tile(hn_buf *b, const hiner_plan *pl, uint32_t tile, uint32_t x0,
                               uint32_t y0, int lam_mode, double lam_lo, double lam_scale);
HN_HIDDEN hiner_status hn_pl_tensors(hn_buf *b, int method, hn_qtensor *qt, size_t nt);

/* Reads a whole file held in memory into a new model. */
HN_HIDDEN hiner_status hn_read_model(const uint8_t *p, size_t n, hiner_model **out,
                                     const hn_log *lg);

/* ---- the chunk readers (fileio_read.c), shared by the reader of tiles (tileread.c) ---- */
typedef struct rd_info {
    uint32_t W, H, C; /* of the raster; for a tile's reader, of the tile */
    int dtype, flags;
    double nodata;
    uint32_t tiles, tw, th;
} rd_info;

typedef struct rd_arch {
    hiner_plan plan;
    int lam_mode;
    double lam_lo, lam_scale;
} rd_arch;

/* What a reader has gathered so far, chunk by chunk. */
typedef struct reader {
    const struct hn_chunk *ch;
    size_t nch;
    const hn_log *lg;
    int major, minor;
    rd_info in;
    uint32_t tile, x0, y0; /* the tile the chunks must name (0, 0, 0 for one tile) */
    rd_arch a;
    hiner_model *m;        /* from ARCH on */
    int method, max_bits;  /* over the tensor chunks */
} reader;

/* INFO, checked against the limits (a tiled grid's too). */
HN_HIDDEN hiner_status hn_parse_info(const struct hn_chunk *c, rd_info *in);
/* Each chunk into R->m (ARCH creates it); c may be NULL where the chunk is optional. */
HN_HIDDEN hiner_status hn_read_arch(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_bandrange(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_mask(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_wave(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_geo(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_meta(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_trng(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_deco(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_enco(reader *R, const struct hn_chunk *c);
HN_HIDDEN hiner_status hn_read_embd(reader *R, const struct hn_chunk *c);

#endif
