/*
 * classify_tool.h - what the parts of hiner-classify share: its options, the image it
 * classifies, the results of a run, and the functions of each part (hiner-classify.c:
 * options, progress, the run; raster.c: rasters through GDAL; report.c: text and JSON).
 */
#ifndef HINER_CLASSIFY_TOOL_H
#define HINER_CLASSIFY_TOOL_H

#include <stdint.h>
#include <stdio.h>

#include "hiner_classify.h"

typedef struct options {
    const char *image, *labels, *out, *json;
    long per_class;
    double fraction;
    unsigned long long seed;
    int asw, isi, isi_copies, epochs, batch, threads, quiet;
    double asw_beta, isi_eta, lr;
} options;

/* The image: a .hiner file or a GDAL raster, as (C,H,W) floats and a valid mask. */
typedef struct image {
    int W, H, C;
    float *cube;
    uint8_t *valid;
    int is_hiner;
    hiner_model *model;
    int has_gt;
    double gt[6];
    char *wkt;           /* CRS, or NULL */
    double bpppb, ratio; /* .hiner: rate and ratio to the source's type */
    const char *dtype;
} image;

/* One run: the labels and their split, the ISI cubes, the classifier, the map and its
 * scores on the test pixels, and the times. */
typedef struct run {
    int K;
    uint8_t *labels, *train, *test, *map; /* (H,W): class 1..K, 0 = none */
    size_t n_train, n_test, ctrain[HINER_CLASS_MAX + 1], ctest[HINER_CLASS_MAX + 1];
    float **aug; /* ISI: isi_copies cubes (C,H,W), or NULL */
    hiner_classifier *clf;
    hiner_classify_report rep;
    uint64_t *cm; /* (K,K) confusion: rows the true class */
    double *pc;   /* (K) per-class accuracy */
    hiner_class_scores sc;
    double t_isi, t_pred, t_total; /* seconds */
} run;

/* hiner-classify.c */
double now(void);
void die(const char *fmt, ...);
/* Status on stderr: a transient line is rewritten in place on a terminal and not shown
 * otherwise; a final line ends it (or stands alone). */
void status(int quiet, int transient, const char *fmt, ...);

/* raster.c: every exit on bad input goes through die() */
int is_hiner_file(const char *path);
void load_hiner(image *im, const options *o);
void load_gdal(image *im, const options *o);
/* Labels of the same size and georeference as the image: (H,W) classes 1..K, 0 where
 * unlabelled or NoData in the image; *n_classes gets K. */
uint8_t *load_labels(const options *o, const image *im, int *n_classes);
void write_map(const options *o, const image *im, const uint8_t *map, int K);

/* report.c */
void print_report(const options *o, const image *im, const run *r);
void write_json(const options *o, const image *im, const run *r);

#endif /* HINER_CLASSIFY_TOOL_H */
