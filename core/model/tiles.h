/*
 * tiles.h - the tile grid of a scene (docs/format.md, "Tiles"), the tiled encoder
 * (tiled.c: statistics pass, budgets, tiles trained in parallel, the file written in tile
 * order with its index filled in last) and the lazily read tiles of a model (tileread.c).
 */
#ifndef HINER_TILES_H
#define HINER_TILES_H

#include "encode.h"

/* Largest side of a tiled raster, and most tiles (docs/format.md, "Limits"). */
#define HN_MAX_SIDE ((uint32_t)INT32_MAX)
#define HN_MAX_TILES ((uint64_t)1 << 24)
/* Automatic margin: pixels of the neighbouring tiles a tile's network is trained on. */
#define HN_TILE_MARGIN_AUTO 4
/* How strongly a tile's bytes follow its detail (tiled.c, tile_weights): 0 gives every
 * valid sample the same bytes. */
#ifndef HN_DETAIL_EXP
#define HN_DETAIL_EXP 0.3
#endif
/* The share of its epochs a tile trains for when it starts from the prior tile's
 * network (docs/benchmarks.md, "Tiles"). */
#ifndef HN_WARM_SHARE
#define HN_WARM_SHARE 1.0
#endif

typedef struct hn_rect {
    uint32_t x, y, w, h;
} hn_rect;

typedef struct hn_grid {
    uint32_t W, H;   /* the raster */
    uint32_t tw, th; /* nominal tile size */
    uint32_t nx, ny; /* tiles per row and per column */
    uint32_t margin;
} hn_grid;

static inline uint32_t hn_grid_count(const hn_grid *g)
{
    return g->nx * g->ny;
}
/* The grid for a W x H raster of tiles tw x th (0 = HINER_TILE_AUTO, and a side up to a
 * quarter more than that stays one tile); HINER_E_LIMIT beyond HN_MAX_TILES. */
HN_HIDDEN hiner_status hn_grid_make(hn_grid *g, uint32_t W, uint32_t H, int tw, int th,
                                    int margin);
/* Tile t's pixels, and the window its network is trained on (the tile and `margin`
 * pixels of its neighbours, within the raster). */
HN_HIDDEN hn_rect hn_grid_tile(const hn_grid *g, uint32_t t);
HN_HIDDEN hn_rect hn_grid_region(const hn_grid *g, uint32_t t);

/* ---- a tiled encode in parts (tiler.c), which tiled.c runs on threads ---- */
/* A tile's statistics: valid samples, neighbour pairs, per band (C) the range of the valid
 * samples (+inf, -inf without any) and the squared differences of valid neighbours. */
typedef struct hn_tstats {
    uint64_t nvalid, pairs;
    double *mn, *mx;
    float *grad;
} hn_tstats;
/* Where a tile's encode reports to. */
typedef struct hn_tile_job {
    hiner_progress_fn progress;
    void *progress_user;
    hn_log log;
} hn_tile_job;
/* What a tile's encode did. */
typedef struct hn_tile_result {
    double seconds, psnr_float, psnr_q;
    uint64_t steps, huff, arith;
    hiner_plan plan;
    int qat, method, min_bits, max_bits;
    hiner_bits bits;
} hn_tile_result;

/* A tiler for a cube (shape, type, NoData, wavelengths) on grid g. */
HN_HIDDEN hiner_status hn_tiler_new(const hiner_cube *cube, const hiner_params *p,
                                    const hn_grid *g, hiner_tiler **out);
HN_HIDDEN const hn_grid *hn_tiler_grid(const hiner_tiler *T);
/* Statistics of tile t from its pixels (C, h, w of the tile, the cube's type); s's arrays
 * hold C values each. Reads only T. */
HN_HIDDEN hiner_status hn_tiler_stats(const hiner_tiler *T, uint32_t t, const void *raw,
                                      hn_tstats *s);
HN_HIDDEN hiner_status hn_tiler_merge(hiner_tiler *T, uint32_t t, const hn_tstats *s);
/* Once every tile's statistics are in: ranges, the head, budgets, the shared architecture. */
HN_HIDDEN hiner_status hn_tiler_plan(hiner_tiler *T, const hiner_meta *meta);
/* The head (header to TRNG), with the index given (NULL: zeros of the final size). */
HN_HIDDEN hiner_status hn_tiler_head(const hiner_tiler *T, const uint64_t *off,
                                     const uint32_t *len, hn_buf *out);
HN_HIDDEN void hn_tiler_head_bits(const hiner_tiler *T, hiner_bits *bits);
/* The tile every full tile starts from (encode it first), or UINT32_MAX. */
HN_HIDDEN uint32_t hn_tiler_prior(const hiner_tiler *T);
HN_HIDDEN size_t hn_tiler_prior_floats(const hiner_tiler *T);
HN_HIDDEN int hn_tiler_tile_empty(const hiner_tiler *T, uint32_t t);
/* Tile t from the pixels of its training window (hn_grid_region): its run of chunks into
 * run (nothing for an empty tile), the prior's trained weights into *trained when asked
 * (the caller's to free), starting from `prior` where the plan says so. Reads only T. */
HN_HIDDEN hiner_status hn_tiler_encode(const hiner_tiler *T, uint32_t t, const void *raw,
                                       const float *prior, const hn_tile_job *job, hn_buf *run,
                                       float **trained, hn_tile_result *res);
/* The head's and END!'s bytes with these band ranges and mask flag, as a plan would
 * write them (hiner_min_size). */
HN_HIDDEN hiner_status hn_tiler_min_bytes(hiner_tiler *T, const double *mn, const double *mx,
                                          int any_invalid, const hiner_meta *meta,
                                          double *bytes);
/* The params every tile trains with. */
HN_HIDDEN const hiner_params *hn_tiler_tile_params(const hiner_tiler *T);
/* The smallest bytes of tile t (its smallest network and chunks). */
HN_HIDDEN double hn_tile_floor(const hiner_params *pt, const hn_grid *g, uint32_t t, uint32_t C,
                               int any_invalid);

/* Where the tiled encoder's bytes go: random-access writes (the index is written last). */
typedef struct hn_out {
    int (*write_at)(void *user, uint64_t offset, const void *data, size_t n);
    void *user;
} hn_out;
/* write_at into a growing buffer (user: an hn_buf). */
HN_HIDDEN int hn_buf_write_at(void *user, uint64_t offset, const void *data, size_t n);

/* The file for a cube of more than one tile, through `out`; *size gets its length. */
HN_HIDDEN hiner_status hn_encode_tiled(const hiner_cube *cube, const hiner_meta *meta,
                                       const hiner_params *p, const hn_grid *g, const hn_out *out,
                                       uint64_t *size, hiner_encode_report *rep);
/* The encode behind every public entry point: one tile (as encode.c) or tiled. */
HN_HIDDEN hiner_status hn_encode_out(const hiner_cube *cube, const hiner_meta *meta,
                                     const hiner_params *p, const hn_out *out, uint64_t *size,
                                     hiner_encode_report *rep);

/* ---- reading (tileread.c) ---- */
typedef struct hn_tileset hn_tileset;
HN_HIDDEN void hn_tileset_free(hn_tileset *ts);
/* A stream as a model: a tiled one lazily through r (lazy; r must outlive the model) or
 * from a copy read now; one of a single tile read whole. fp, when set, is the FILE behind
 * r, which the model then owns (closed here unless a lazy tiled model keeps it). */
HN_HIDDEN hiner_status hn_open_stream(const hiner_reader *r, int lazy, FILE *fp,
                                      hiner_model **out);
/* Tile t of a tiled model, read when first needed: *out NULL for an empty tile. */
HN_HIDDEN hiner_status hn_tile_get(hiner_model *scene, uint32_t t, hiner_model **out);
HN_HIDDEN const hn_grid *hn_tiles_grid(const hiner_model *m);
HN_HIDDEN void hn_tiles_set_cache(hiner_model *m, size_t bytes);

#endif
