/*
 * cube.h - the caller's cube (cube.c): checks, reading a band through the data pointer or
 * the callback, and the normalised training data the encoder trains on.
 */
#ifndef HINER_CUBE_H
#define HINER_CUBE_H

#include "../internal.h"

HN_HIDDEN hiner_status hn_cube_check(const hiner_cube *cube);
/* A cube that reads by windows, as one window read into memory (*owned, freed by the
 * caller); any other cube as it is (*owned NULL). */
HN_HIDDEN hiner_status hn_cube_in_memory(const hiner_cube *in, hiner_cube *view, void **owned);
/* Band b as doubles into out (H*W) with valid[i] = 0 for NoData/NaN/inf; tmp holds one
 * band of the native type when the cube reads through its callback. */
HN_HIDDEN hiner_status hn_cube_read_band(const hiner_cube *cube, uint32_t b, void *tmp,
                                         double *out, uint8_t *valid, size_t *n_valid);
/* n samples of type t as doubles, valid[i] = 0 for NoData/NaN/inf; returns how many are
 * valid. */
HN_HIDDEN size_t hn_samples_read(const void *src, hiner_dtype t, size_t n, int has_nodata,
                                 double nodata, double *out, uint8_t *valid);
/* Min and max over valid samples (both 0 when none is valid). */
HN_HIDDEN void hn_band_minmax(const double *v, const uint8_t *valid, size_t n, double *mn,
                              double *mx);

/* ---- the training data ---- */
typedef struct hn_data {
    uint32_t W, H, C;
    hiner_dtype dtype;
    float *target;        /* (C,H,W) bands normalised to [0,1] by their own min and max */
    uint8_t *valid;       /* (C,H,W) or NULL when every pixel is valid */
    int mask_per_band;    /* the mask differs between bands */
    double *band_min, *band_max;
    double *wavelengths;  /* (C) or NULL: bands addressed by index */
    double lam_lo, lam_scale;
    double *lam;          /* (C) normalised wavelengths */
    int has_nodata;
    double nodata;
} hn_data;

/* Reads and normalises the cube (docs: DESIGN.md "The method"). HINER_E_NODATA when no
 * pixel is valid. */
HN_HIDDEN hiner_status hn_data_load(hn_data *d, const hiner_cube *cube, const hn_log *lg);
HN_HIDDEN void hn_data_free(hn_data *d);
/* d->wavelengths, lam, lam_lo and lam_scale for the cube's bands: real wavelengths mapped to
 * [0,1] when they are given and distinct, else band index / C (the reference's choice). */
HN_HIDDEN hiner_status hn_data_wavelengths(hn_data *d, const hiner_cube *cube, const hn_log *lg);
/* Normalised wavelength of `wl` (a wavelength, or a band position without wavelengths). */
HN_HIDDEN double hn_lambda_of(double wl, int has_wl, double lo, double scale);

#endif /* HINER_CUBE_H */
