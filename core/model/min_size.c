/*
 * min_size.c - hiner_min_size: the smallest size target the encoder's planning accepts for a
 * cube and its metadata, from its pixels or, without them, from its shape, type and
 * wavelengths alone, so that a writer (the GDAL driver's Create) can refuse a target before
 * any band is written. It counts the file's parts as the encoder lays them out: for a
 * scene of one tile, the fixed chunks (encode.c: stage_read, stage_plan, plan_for_target)
 * and the smallest network budget hn_plan_for_rate accepts; for a grid of tiles, the head
 * and each tile's floor (tiled.c: write_head, tile_floor, set_budgets).
 */
#include <math.h>

#include "../codec/container.h"
#include "tiles.h"

/* Budgets searched up to this many bytes: far above any network the format can hold. */
#define MAX_BUDGET ((uint64_t)1 << 40)

/* Band ranges that code as poorly as the type allows: the BAND chunk holds each band's min
 * and max, coded, so its size depends on values unknown before the pixels are read.
 * Pseudo-random values of the type (doubles where the type needs them) stand for them. */
static void worst_ranges(hiner_dtype t, uint32_t C, double *mn, double *mx)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (uint32_t k = 0; k < 2 * C; k++) {
        s ^= s << 13; /* xorshift64 */
        s ^= s >> 7;
        s ^= s << 17;
        const uint32_t lo = (uint32_t)s;
        double v;
        switch (t) {
        case HINER_UINT8:
            v = (double)(lo & 0xff);
            break;
        case HINER_INT8:
            v = (double)(int8_t)(lo & 0xff);
            break;
        case HINER_UINT16:
            v = (double)(lo & 0xffff);
            break;
        case HINER_INT16:
            v = (double)(int16_t)(lo & 0xffff);
            break;
        case HINER_UINT32:
            v = (double)lo;
            break;
        case HINER_INT32:
            v = (double)(int32_t)lo;
            break;
        case HINER_FLOAT32: /* 24-bit mantissas: exact as floats, as any float32 value */
            v = ldexp((double)(lo & 0xffffff), (int)((s >> 32) % 64) - 32);
            break;
        default: /* 53-bit mantissas: the chunk then holds doubles */
            v = ldexp((double)(s >> 11), (int)((s >> 3) % 64) - 84);
            break;
        }
        if (k % 2)
            mx[k / 2] = v;
        else
            mn[k / 2] = v;
    }
}

/* The cube's description without its pixels, as the training data the fixed chunks are
 * built from: band ranges at their worst, no pixel masked. */
static hiner_status describe_cube(hn_data *d, const hiner_cube *cube)
{
    memset(d, 0, sizeof *d);
    d->W = cube->width, d->H = cube->height, d->C = cube->bands;
    d->dtype = cube->dtype;
    d->has_nodata = cube->has_nodata;
    d->nodata = cube->nodata;
    d->band_min = hn_malloc(d->C, sizeof(double));
    d->band_max = hn_malloc(d->C, sizeof(double));
    HN_CHECK(!d->band_min || !d->band_max, HINER_E_NOMEM);
    worst_ranges(cube->dtype, d->C, d->band_min, d->band_max);
    const hn_log quiet = {NULL, NULL};
    return hn_data_wavelengths(d, cube, &quiet);
}

static int plan_fits(const hiner_params *p, const hn_data *d, uint64_t bytes, hiner_plan *pl)
{
    return hn_plan_for_rate(p, d->W, d->H, d->C, (double)bytes, pl, NULL) == HINER_OK;
}

/* The smallest network budget (bytes of the stored tensors) hn_plan_for_rate accepts: the
 * first that fits by doubling, then bisection down to the byte. */
static hiner_status min_budget(const hiner_params *p, const hn_data *d, uint64_t *out,
                               const hn_log *lg)
{
    hiner_plan pl;
    const hiner_status st = hn_plan_for_rate(p, d->W, d->H, d->C, (double)MAX_BUDGET, &pl, lg);
    HN_CHECK(st != HINER_OK, st); /* a geometry no budget fixes (strides, embedding size) */
    uint64_t lo = 0, hi = 64;     /* lo does not fit, hi is being tried */
    while (hi < MAX_BUDGET && !plan_fits(p, d, hi, &pl)) {
        lo = hi;
        hi = 2 * hi < MAX_BUDGET ? 2 * hi : MAX_BUDGET;
    }
    while (hi - lo > 1) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (plan_fits(p, d, mid, &pl))
            hi = mid;
        else
            lo = mid;
    }
    plan_fits(p, d, hi, &pl);
    HN_FORWARD(hn_plan_readable(&pl, lg)); /* the smallest network too large to read back */
    *out = hi;
    return HINER_OK;
}

/* A scene of one tile: the fixed chunks (with pixels, read as the encoder reads them: the
 * exact ranges and NoData mask) and the smallest network. */
static hiner_status one_tile(const hiner_params *q, const hiner_cube *cube, const hiner_meta *meta,
                             const hn_log *lg, uint64_t *bytes)
{
    hn_data d;
    hn_fixed f;
    memset(&f, 0, sizeof f);
    hiner_status st = cube->data || cube->read_band || cube->read_window
                          ? hn_data_load(&d, cube, lg)
                          : describe_cube(&d, cube);
    HN_GOTO_IF(st != HINER_OK, st);
    HN_GOTO_FWD(hn_fixed_build(&f, &d, meta));
    /* the training record's placeholder, as the encoder writes it before training */
    char trng[512];
    hn_training_text(trng, sizeof trng, q, q->epochs < 0 ? 1000 : q->epochs, 0, 0.0, 0.0,
                     HN_ENTROPY_ARITH);
    HN_GOTO_FWD(hn_pl_text(&f.trng, trng));
    f.arch.n = hn_arch_bound(); /* counted, not written */
    const uint64_t fixed = hn_fixed_bytes(&f);
    const uint64_t trng_bytes = HN_CHUNK_OVERHEAD + f.trng.n;
    uint64_t budget;
    HN_GOTO_FWD(min_budget(q, &d, &budget, lg));
    /* the target must exceed the fixed chunks (the training record with them), and what is
     * left once the record is dropped must hold the smallest network */
    const uint64_t with_net = fixed - trng_bytes + budget;
    *bytes = with_net > fixed + 1 ? with_net : fixed + 1;
fail:
    hn_fixed_free(&f);
    hn_data_free(&d);
    return st;
}

/* A grid of tiles: the head (header, INFO, TIDX, BAND, WAVE, GEO, META, TRNG), END! and each
 * tile's floor, as the tiler counts them. The pixels are not read: ranges at their worst,
 * every tile holding valid pixels, and with pixels given a mask in each tile wherever
 * NoData or NaN can occur, so the answer is a target that is accepted (at or above the
 * encoder's threshold). */
static hiner_status tiles(const hiner_params *q, const hiner_cube *cube, const hiner_meta *meta,
                          const hn_grid *g, const hn_log *lg, uint64_t *bytes)
{
    const uint32_t n = hn_grid_count(g);
    const int has_pixels = cube->data || cube->read_band || cube->read_window;
    const int maybe_invalid = has_pixels && (cube->has_nodata || cube->dtype == HINER_FLOAT32 ||
                                             cube->dtype == HINER_FLOAT64);
    hn_data d;
    hiner_tiler *T = NULL;
    hiner_status st = describe_cube(&d, cube);
    HN_GOTO_IF(st != HINER_OK, st);
    HN_GOTO_FWD(hn_tiler_new(cube, q, g, &T));
    double need = 0;
    HN_GOTO_FWD(hn_tiler_min_bytes(T, d.band_min, d.band_max, maybe_invalid, meta, &need));
    for (uint32_t t = 0; t < n; t++) {
        const hn_rect kt = hn_grid_tile(g, t);
        const double fl = hn_tile_floor(hn_tiler_tile_params(T), g, t, cube->bands, maybe_invalid);
        if (!isfinite(fl)) {
            hn_logf(lg, 0, "no network fits tile %u (%ux%u) with these params", t, kt.w, kt.h);
            HN_GOTO_IF(1, HINER_E_INVALID_ARG);
        }
        need += fl;
    }
    *bytes = (uint64_t)ceil(need);
fail:
    hiner_tiler_free(T);
    hn_data_free(&d);
    return st;
}

hiner_status hiner_min_size(const hiner_cube *cube, const hiner_meta *meta, const hiner_params *p,
                            uint64_t *bytes)
{
    HN_CHECK(!cube || !p || !bytes, HINER_E_INVALID_ARG);
    *bytes = 0;
    /* the size target is what is being asked for: any valid one stands in for it */
    hiner_params q = *p;
    q.model_bytes = 0;
    q.size_bytes = 0;
    q.bpppb = 1;
    HN_FORWARD(hiner_params_validate(&q));
    const hn_log lg = {p->log, p->log_user};
    HN_CHECK(cube->width == 0 || cube->height == 0 || cube->bands == 0, HINER_E_INVALID_ARG);
    HN_CHECK(hiner_dtype_size(cube->dtype) == 0, HINER_E_INVALID_ARG);
    HN_CHECK(cube->width > HN_MAX_SIDE || cube->height > HN_MAX_SIDE || cube->bands > 65535,
             HINER_E_LIMIT);
    if (cube->wavelengths)
        for (uint32_t b = 0; b < cube->bands; b++)
            HN_CHECK(!isfinite(cube->wavelengths[b]), HINER_E_INVALID_ARG);
    hn_grid g;
    HN_FORWARD(
        hn_grid_make(&g, cube->width, cube->height, q.tile_width, q.tile_height, q.tile_margin));
    if (hn_grid_count(&g) > 1) return tiles(&q, cube, meta, &g, &lg, bytes);
    return one_tile(&q, cube, meta, &lg, bytes);
}
