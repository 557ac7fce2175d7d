/*
 * model.h - the hiner_model handle the public API hands out (model.c): the plan, the
 * network with its decode activations, the stored bands' embeddings and ranges, the mask
 * and the metadata a file said. It includes the headers of the modules the handle is made
 * of, and train.h for the encoder's stages.
 */
#ifndef HINER_MODEL_H
#define HINER_MODEL_H

#include "cube.h"
#include "meta.h"
#include "net.h"
#include "plan.h"
#include "train.h"

struct hiner_model {
    hiner_plan plan;
    hn_net net;
    hn_acts acts;        /* decode-mode activations, allocated on first decode */
    int acts_ready;
    int threads;         /* decoding threads (hiner_model_set_threads) */
    hn_pool *pool;       /* their pool, created with the activations */
    int has_encoder;     /* the encoder tensors hold trained values */
    float *embed;        /* (C, E) stored-band embeddings */
    double *band_min, *band_max;
    double *wavelengths; /* (C) or NULL */
    double lam_lo, lam_scale; /* normalised lambda = (wl - lam_lo) * lam_scale */
    double *lam;         /* (C) normalised wavelength per stored band */
    int has_nodata;
    double nodata;
    uint8_t *valid;      /* (P,H,W) validity, P = C or 1; NULL when every pixel is valid */
    int mask_per_band;   /* P == C */
    hiner_dtype dtype;   /* of the source */
    hn_log log;
    /* what a file said (zero for a trained model) */
    int format_major, format_minor, entropy, quant_bits;
    hiner_bits bits;
    hn_meta_store *meta;        /* owned copy of the metadata, or NULL */
    char *training;             /* "key=value\n" lines, or NULL */
    /* a tiled file: its tiles, each a model of its own read when needed (the plan above is
     * then only the raster's size); their decodes share acts, made for acts_plan */
    struct hn_tileset *ts;
    hiner_plan acts_plan;
    hiner_plan tile_plan; /* the first tile's, for hiner_model_plan */
    int has_mask_flag;    /* INFO says some pixel is invalid */
};

/* Moves the normalisation, wavelengths and mask of d into m (d keeps its target). */
HN_HIDDEN hiner_status hn_model_take_data(hiner_model *m, hn_data *d);
/* Band b's validity plane, or NULL. */
static inline const uint8_t *hn_model_valid(const hiner_model *m, uint32_t b)
{
    if (!m->valid) return NULL;
    return m->valid + (m->mask_per_band ? (size_t)b : 0) * m->plan.width * m->plan.height;
}
/* Fills m->embed from the encoder at each band's wavelength. */
HN_HIDDEN hiner_status hn_model_compute_embeddings(hiner_model *m);
/* Creates the decode activations (and thread pool) on first use. */
HN_HIDDEN hiner_status hn_model_ready(hiner_model *m);
/* hiner_model_decode_wavelength, also naming the band whose validity mask applies. */
HN_HIDDEN hiner_status hn_model_decode_wavelength_plane(hiner_model *m, double wl, float *out,
                                                        int *plane);
/* Allocates the tables of a model for a plan (no weights). */
HN_HIDDEN hiner_status hn_model_alloc(hiner_model **out, const hiner_plan *pl);
/* The decoder output for band b's embedding, cropped and in [0,1]: (H,W) floats. */
HN_HIDDEN hiner_status hn_model_decode_norm(hiner_model *m, const float *emb, float *out);

#endif /* HINER_MODEL_H */
