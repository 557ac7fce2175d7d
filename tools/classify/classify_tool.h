/*
 * classify_tool.h - what the parts of hiner-classify share: its options, the image it
 * classifies (read window by window), the labelled pixels, the results of a run, and the
 * functions of each part (hiner-classify.c: options, progress, the run; raster.c: rasters
 * through libhiner and GDAL; stream.c: the passes over the image's windows; report.c:
 * text and JSON).
 */
#ifndef HINER_CLASSIFY_TOOL_H
#define HINER_CLASSIFY_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hiner_classify.h"

typedef struct options {
    const char *image, *labels, *out, *json, *split_only;
    hiner_classify_params cp; /* the library's defaults, then --param NAME=VALUE */
    long per_class;
    double fraction;
    unsigned long long seed;
    int asw, isi, isi_copies, epochs, batch, threads, quiet;
    double asw_beta, isi_eta, lr;
    int block_w, block_h; /* --block: the windows read; 0 = from the file's tiles and --memory */
    double memory_mb;     /* --memory: what one window and its copies may take */
} options;

/* The image: a .hiner file (libhiner, tiles read lazily) or a GDAL raster, read window by
 * window as (C,h,w) floats. */
typedef struct image {
    int W, H, C;
    int is_hiner;
    hiner_model *model;  /* .hiner */
    void *ds;            /* GDALDatasetH */
    int tile_w, tile_h;  /* the file's tiles or GDAL's blocks: windows follow them */
    int tiles;           /* a .hiner file of more than one tile */
    int *has_nodata;     /* (C) */
    double *nodata;      /* (C) */
    float *band_min, *band_max; /* (C): the normalisation (the file's band ranges) */
    int has_gt;
    double gt[6];
    char *wkt;           /* CRS, or NULL */
    double bpppb, ratio; /* .hiner: rate and ratio to the source's type */
    const char *dtype;
} image;

/* The labelled pixels in raster order, and the split of them. */
typedef struct labelled {
    size_t n;
    uint64_t *idx;       /* y * W + x */
    uint8_t *cls;        /* class 1..K */
    uint8_t *train;      /* class if drawn for training, else 0 */
    uint8_t *test;       /* class if a test pixel, else 0 */
} labelled;

/* One run: the labels and their split, the classifier, the test pixels' predictions and
 * scores, and the times. */
typedef struct run {
    int K;
    labelled lab;
    size_t n_train, n_test, ctrain[HINER_CLASS_MAX + 1], ctest[HINER_CLASS_MAX + 1];
    size_t dropped_train, dropped_test; /* labelled pixels found NoData in the image */
    hiner_classifier *clf;
    hiner_classify_report rep;
    uint8_t *pred;       /* (lab.n): the class given to each labelled pixel, 0 = none */
    uint64_t *cm;        /* (K,K) confusion: rows the true class */
    double *pc;          /* (K) per-class accuracy */
    hiner_class_scores sc;
    int block_w, block_h, windows;  /* the windows of the classification pass */
    double t_patches, t_read, t_pred, t_total; /* seconds: training patches (reading them,
                                                  ISI's decoding included), reading the
                                                  image for the map, classifying, all */
} run;

/* hiner-classify.c */
double now(void);
void die(const char *fmt, ...);
/* Status on stderr: a transient line is rewritten in place on a terminal and not shown
 * otherwise; a final line ends it (or stands alone). */
void status(int quiet, int transient, const char *fmt, ...);
/* Progress of a pass on stderr (a bar on a terminal, a line per 10 % otherwise). */
typedef struct prog {
    int quiet, tty, last_decile;
    const char *what;
    double t0;
} prog;
void prog_start(prog *p, int quiet, const char *what);
int on_progress(double frac, const char *msg, void *user);

/* raster.c: every exit on bad input goes through die() */
void open_image(image *im, const options *o);
void close_image(image *im);
/* Window (x0, y0, w, h) of every band into out: band b's h x w floats at out + b * plane
 * (rows contiguous). wl, when not NULL, gives each band's wavelength to decode instead
 * (ISI; .hiner only). */
void read_window(const image *im, int x0, int y0, int w, int h, const double *wl, float *out,
                 size_t plane);
/* valid (n) = 1 where every band of the n pixels read is finite and not NoData. */
void window_valid(const image *im, const float *buf, size_t plane, size_t n, uint8_t *valid);
/* The labelled pixels of a raster of the image's size, grid and CRS; *n_classes gets K. */
void load_labels(const options *o, const image *im, labelled *lab, int *n_classes);
/* The class map: a Byte GeoTIFF georeferenced like the image, a colour table for K
 * classes, 0 = NoData; written window by window. */
void *map_create(const options *o, const image *im, int K);
void map_write(void *map, const options *o, int x0, int y0, int w, int h, const uint8_t *buf,
               size_t stride);
void map_close(void *map, const options *o);
/* The split as a 2-band Byte GeoTIFF (band 1 training, band 2 test labels). */
void write_split(const options *o, const image *im, const labelled *lab);

/* stream.c */
/* Pass 1: the patches of the training pixels, read window by window (and from the ISI
 * cubes: each window decoded again at jittered wavelengths), into d; training pixels
 * that are NoData are dropped (r->dropped_train). */
void training_patches(const options *o, const image *im, run *r, hiner_classify_patches *d);
void patches_free(hiner_classify_patches *d);
/* Pass 2: every pixel (with a map) or the test pixels classified, window by window:
 * r->pred, the map written when o->out, the times. */
void classify_image(const options *o, const image *im, run *r);

/* report.c */
void print_report(const options *o, const image *im, const run *r);
void write_json(const options *o, const image *im, const run *r);

#endif /* HINER_CLASSIFY_TOOL_H */
