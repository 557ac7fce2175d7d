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
/* Epochs of each tile when the params leave them automatic. */
#define HN_TILE_EPOCHS 150
/* The share of those epochs a tile trains for when it starts from the prior tile's
 * network (docs/benchmarks.md, "Tiles"). */
#ifndef HN_WARM_SHARE
#define HN_WARM_SHARE 0.35
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
