/*
 * raster.c - hiner-classify's rasters: the image (a .hiner file through libhiner, its tiles
 * read lazily, or any raster through GDAL's C API) read window by window with its band
 * ranges and NoData, the labelled pixels of a label raster checked against the image's
 * size, grid and CRS, the class map written window by window as a GeoTIFF, and the split.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "classify_tool.h"

/* A CRS as WKT from any form GDAL understands (WKT, "EPSG:n" as .hiner files may store). */
static char *crs_to_wkt(const char *crs)
{
    if (!crs || !*crs) return NULL;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    char *wkt = NULL, *out = NULL;
    if (s && OSRSetFromUserInput(s, crs) == OGRERR_NONE && OSRExportToWkt(s, &wkt) == OGRERR_NONE)
        out = strdup(wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(s);
    return out ? out : strdup(crs);
}

static int is_hiner_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return hiner_identify(head, n);
}

static void alloc_bands(image *im)
{
    im->has_nodata = calloc((size_t)im->C, sizeof *im->has_nodata);
    im->nodata = calloc((size_t)im->C, sizeof *im->nodata);
    im->band_min = calloc((size_t)im->C, sizeof *im->band_min);
    im->band_max = calloc((size_t)im->C, sizeof *im->band_max);
    if (!im->has_nodata || !im->nodata || !im->band_min || !im->band_max) die("out of memory");
}

/* A .hiner file: opened lazily (a tiled file's tiles are read when a window needs them);
 * the band ranges are those the file stores, which decoding restores. */
static void open_hiner(image *im, const options *o)
{
    int st = hiner_open_file(o->image, &im->model);
    if (st != HINER_OK) die("%s: %s", o->image, hiner_status_str(st));
    hiner_model_set_threads(im->model, o->threads);
    hiner_info in;
    hiner_meta meta;
    hiner_model_info(im->model, &in);
    hiner_model_meta(im->model, &meta);
    im->is_hiner = 1;
    im->W = (int)in.width, im->H = (int)in.height, im->C = (int)in.bands;
    im->tile_w = (int)in.tile_width, im->tile_h = (int)in.tile_height;
    im->tiles = in.tiles_x * in.tiles_y > 1;
    im->bpppb = in.bpppb;
    im->ratio = in.bpppb > 0 ? 8.0 * (double)hiner_dtype_size(in.dtype) / in.bpppb : 0;
    im->dtype = hiner_dtype_name(in.dtype);
    im->has_gt = meta.has_geotransform;
    memcpy(im->gt, meta.geotransform, sizeof im->gt);
    im->wkt = crs_to_wkt(meta.crs_wkt);
    alloc_bands(im);
    for (int b = 0; b < im->C; b++) {
        double mn = 0, mx = 1;
        if (hiner_model_band_range(im->model, (uint32_t)b, &mn, &mx) != HINER_OK) mn = 0, mx = 1;
        im->band_min[b] = (float)mn, im->band_max[b] = (float)mx;
        im->has_nodata[b] = in.has_nodata;
        im->nodata[b] = in.nodata;
    }
}

/* Any other raster: the band ranges are GDAL's exact minimum and maximum (one read of
 * each band, NoData left out). */
static void open_gdal(image *im, const options *o)
{
    GDALDatasetH ds = GDALOpen(o->image, GA_ReadOnly);
    if (!ds) die("%s: cannot be opened as a raster (%s)", o->image, CPLGetLastErrorMsg());
    im->ds = ds;
    im->W = GDALGetRasterXSize(ds), im->H = GDALGetRasterYSize(ds), im->C = GDALGetRasterCount(ds);
    if (im->C < 1) die("%s: no bands", o->image);
    im->has_gt = GDALGetGeoTransform(ds, im->gt) == CE_None;
    im->wkt = crs_to_wkt(GDALGetProjectionRef(ds));
    im->dtype = GDALGetDataTypeName(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)));
    GDALGetBlockSize(GDALGetRasterBand(ds, 1), &im->tile_w, &im->tile_h);
    alloc_bands(im);
    for (int b = 0; b < im->C; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        im->nodata[b] = GDALGetRasterNoDataValue(band, &im->has_nodata[b]);
        double mm[2] = {0, 1};
        CPLPushErrorHandler(CPLQuietErrorHandler); /* a band of NoData only: range 0..1 */
        if (GDALComputeRasterMinMax(band, FALSE, mm) != CE_None || !(mm[0] <= mm[1]))
            mm[0] = 0, mm[1] = 1;
        CPLPopErrorHandler();
        im->band_min[b] = (float)mm[0], im->band_max[b] = (float)mm[1];
        status(o->quiet, 1, "reading %s: band %d/%d", o->image, b + 1, im->C);
    }
    status(o->quiet, 0, "%s: %d x %d pixels, %d bands", o->image, im->W, im->H, im->C);
}

void open_image(image *im, const options *o)
{
    memset(im, 0, sizeof *im);
    if (is_hiner_file(o->image)) open_hiner(im, o);
    else open_gdal(im, o);
}

void close_image(image *im)
{
    hiner_model_free(im->model);
    if (im->ds) GDALClose(im->ds);
    free(im->has_nodata), free(im->nodata), free(im->band_min), free(im->band_max);
    free(im->wkt);
    memset(im, 0, sizeof *im);
}

void read_window(const image *im, int x0, int y0, int w, int h, const double *wl, float *out,
                 size_t plane)
{
    if (!im->is_hiner) {
        if (GDALDatasetRasterIOEx(im->ds, GF_Read, x0, y0, w, h, out, w, h, GDT_Float32, im->C,
                                  NULL, (GSpacing)sizeof(float), (GSpacing)(sizeof(float) * w),
                                  (GSpacing)(sizeof(float) * plane), NULL) != CE_None)
            die("reading window %d,%d %dx%d: %s", x0, y0, w, h, CPLGetLastErrorMsg());
        return;
    }
    for (int b = 0; b < im->C; b++) {
        int st = hiner_model_decode_window_as(im->model, (uint32_t)x0, (uint32_t)y0, (uint32_t)w,
                                              (uint32_t)h, wl != NULL, wl ? wl[b] : (double)b,
                                              HINER_FLOAT32, out + (size_t)b * plane);
        if (st != HINER_OK)
            die("decoding band %d of window %d,%d %dx%d: %s", b + 1, x0, y0, w, h,
                hiner_status_str(st));
    }
}

void window_valid(const image *im, const float *buf, size_t plane, size_t n, uint8_t *valid)
{
    memset(valid, 1, n);
    for (int b = 0; b < im->C; b++) {
        const float *x = buf + (size_t)b * plane;
        const float nd = (float)im->nodata[b];
        const int has = im->has_nodata[b];
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i]) || (has && x[i] == nd)) valid[i] = 0;
    }
}

/* ---- labels: same size and georeference as the image ---- */
static void check_grid(const options *o, const image *im, GDALDatasetH ds)
{
    const int W = GDALGetRasterXSize(ds), H = GDALGetRasterYSize(ds);
    if (W != im->W || H != im->H)
        die("%s is %d x %d pixels, the image %s is %d x %d: they must match", o->labels, W, H,
            o->image, im->W, im->H);
    double gt[6];
    const int has_gt = GDALGetGeoTransform(ds, gt) == CE_None;
    if (has_gt && im->has_gt) {
        const double px = fabs(im->gt[1]) + fabs(im->gt[2]) + fabs(im->gt[4]) + fabs(im->gt[5]);
        for (int k = 0; k < 6; k++)
            if (fabs(gt[k] - im->gt[k]) > 1e-6 * px)
                die("%s is not on the image's grid: geotransform %.10g,%.10g,%.10g,%.10g,%.10g,"
                    "%.10g against %.10g,%.10g,%.10g,%.10g,%.10g,%.10g",
                    o->labels, gt[0], gt[1], gt[2], gt[3], gt[4], gt[5], im->gt[0], im->gt[1],
                    im->gt[2], im->gt[3], im->gt[4], im->gt[5]);
    } else if (has_gt != im->has_gt) {
        fprintf(stderr, "hiner-classify: warning: %s has %s georeferencing: pixels are matched "
                        "by position\n",
                has_gt ? "the labels but not the image" : "the image but not the labels",
                has_gt ? "only its own" : "no");
    }
    const char *wkt = GDALGetProjectionRef(ds);
    if (wkt && *wkt && im->wkt) {
        OGRSpatialReferenceH a = OSRNewSpatialReference(wkt), b = OSRNewSpatialReference(im->wkt);
        int same = a && b && OSRIsSame(a, b);
        OSRDestroySpatialReference(a);
        OSRDestroySpatialReference(b);
        if (!same)
            die("%s and %s have different coordinate reference systems", o->labels, o->image);
    }
}

static void lab_push(labelled *lab, size_t *cap, uint64_t idx, uint8_t cls)
{
    if (lab->n == *cap) {
        *cap = *cap ? 2 * *cap : 4096;
        lab->idx = realloc(lab->idx, *cap * sizeof *lab->idx);
        lab->cls = realloc(lab->cls, *cap);
        if (!lab->idx || !lab->cls) die("out of memory for the labelled pixels");
    }
    lab->idx[lab->n] = idx;
    lab->cls[lab->n++] = cls;
}

void load_labels(const options *o, const image *im, labelled *lab, int *n_classes)
{
    GDALDatasetH ds = GDALOpen(o->labels, GA_ReadOnly);
    if (!ds) die("%s: cannot be opened as a raster (%s)", o->labels, CPLGetLastErrorMsg());
    check_grid(o, im, ds);
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    int has_nd = 0;
    const double nd = GDALGetRasterNoDataValue(band, &has_nd);
    const int W = im->W, H = im->H, rows = 256;
    int32_t *v = malloc((size_t)W * rows * sizeof(int32_t));
    if (!v) die("out of memory");
    memset(lab, 0, sizeof *lab);
    size_t cap = 0, count[HINER_CLASS_MAX + 1] = {0};
    int K = 0;
    for (int y0 = 0; y0 < H; y0 += rows) { /* a strip of rows at a time */
        const int h = H - y0 < rows ? H - y0 : rows;
        if (GDALRasterIO(band, GF_Read, 0, y0, W, h, v, W, h, GDT_Int32, 0, 0) != CE_None)
            die("%s: cannot be read (%s)", o->labels, CPLGetLastErrorMsg());
        for (size_t i = 0; i < (size_t)W * h; i++) {
            int32_t x = v[i];
            if (has_nd && (double)x == nd) x = 0;
            if (x < 0 || x > HINER_CLASS_MAX)
                die("%s: label %d at pixel %zu, %zu: classes are 1..%d, 0 = unlabelled",
                    o->labels, (int)x, i % W, y0 + i / W, HINER_CLASS_MAX);
            if (!x) continue;
            lab_push(lab, &cap, (uint64_t)y0 * W + i, (uint8_t)x);
            count[x]++;
            if (x > K) K = x;
        }
    }
    free(v);
    GDALClose(ds);
    if (K < 2) die("%s: %d class(es) with labelled pixels: at least 2 are needed", o->labels, K);
    for (int k = 1; k <= K; k++)
        if (!count[k])
            die("%s: class %d has no labelled pixel: classes must be numbered 1..%d without "
                "gaps", o->labels, k, K);
    lab->train = calloc(lab->n, 1);
    lab->test = calloc(lab->n, 1);
    if (!lab->train || !lab->test) die("out of memory");
    *n_classes = K;
}

/* ---- the class map ---- */
static void class_colour(int k, short rgb[3])
{
    /* a fixed qualitative palette, then golden-angle hues */
    static const short pal[12][3] = {{230, 25, 75},  {60, 180, 75},  {255, 225, 25},
                                     {0, 130, 200},  {245, 130, 48}, {145, 30, 180},
                                     {70, 240, 240}, {240, 50, 230}, {210, 245, 60},
                                     {250, 190, 212}, {0, 128, 128}, {170, 110, 40}};
    if (k >= 1 && k <= 12) {
        memcpy(rgb, pal[k - 1], sizeof pal[0]);
        return;
    }
    double h = fmod(k * 0.618033988749895, 1.0) * 6.0, s = 0.65, v = 0.9;
    int i = (int)h;
    double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (i % 6) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
    }
    rgb[0] = (short)lrint(r * 255), rgb[1] = (short)lrint(g * 255), rgb[2] = (short)lrint(b * 255);
}

/* A Byte GeoTIFF of `bands` bands, georeferenced like the image, 0 = NoData; tiled, so
 * that windows are written as they come. */
static GDALDatasetH create_byte_tif(const char *path, const image *im, int bands)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv) die("GDAL has no GTiff driver");
    char **co = CSLSetNameValue(NULL, "COMPRESS", "DEFLATE");
    co = CSLSetNameValue(co, "TILED", "YES");
    co = CSLSetNameValue(co, "BIGTIFF", "IF_SAFER");
    GDALDatasetH ds = GDALCreate(drv, path, im->W, im->H, bands, GDT_Byte, co);
    CSLDestroy(co);
    if (!ds) die("%s: cannot be created (%s)", path, CPLGetLastErrorMsg());
    if (im->has_gt) GDALSetGeoTransform(ds, (double *)im->gt);
    if (im->wkt) GDALSetProjection(ds, im->wkt);
    for (int b = 1; b <= bands; b++) GDALSetRasterNoDataValue(GDALGetRasterBand(ds, b), 0);
    return ds;
}

void *map_create(const options *o, const image *im, int K)
{
    GDALDatasetH ds = create_byte_tif(o->out, im, 1);
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    GDALColorTableH ct = GDALCreateColorTable(GPI_RGB);
    GDALColorEntry e0 = {0, 0, 0, 0};
    GDALSetColorEntry(ct, 0, &e0);
    for (int k = 1; k <= K; k++) {
        short rgb[3];
        class_colour(k, rgb);
        GDALColorEntry e = {rgb[0], rgb[1], rgb[2], 255};
        GDALSetColorEntry(ct, k, &e);
    }
    GDALSetRasterColorTable(band, ct);
    GDALSetRasterColorInterpretation(band, GCI_PaletteIndex);
    GDALDestroyColorTable(ct);
    return ds;
}

void map_write(void *map, const options *o, int x0, int y0, int w, int h, const uint8_t *buf,
               size_t stride)
{
    if (GDALRasterIO(GDALGetRasterBand(map, 1), GF_Write, x0, y0, w, h, (void *)buf, w, h,
                     GDT_Byte, 1, (int)stride) != CE_None)
        die("%s: write failed (%s)", o->out, CPLGetLastErrorMsg());
}

void map_close(void *map, const options *o)
{
    GDALClose(map);
    if (CPLGetLastErrorType() == CE_Failure)
        die("%s: write failed (%s)", o->out, CPLGetLastErrorMsg());
}

void write_split(const options *o, const image *im, const labelled *lab)
{
    GDALDatasetH ds = create_byte_tif(o->split_only, im, 2);
    const uint8_t *bands[2] = {lab->train, lab->test};
    const char *names[2] = {"training labels", "test labels"};
    const int W = im->W, rows = 256;
    uint8_t *buf = malloc((size_t)W * rows);
    if (!buf) die("out of memory");
    for (int b = 0; b < 2; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        GDALSetDescription(band, names[b]);
        size_t k = 0;
        for (int y0 = 0; y0 < im->H; y0 += rows) {
            const int h = im->H - y0 < rows ? im->H - y0 : rows;
            memset(buf, 0, (size_t)W * h);
            const uint64_t end = (uint64_t)(y0 + h) * W;
            for (; k < lab->n && lab->idx[k] < end; k++)
                buf[lab->idx[k] - (uint64_t)y0 * W] = bands[b][k];
            if (GDALRasterIO(band, GF_Write, 0, y0, W, h, buf, W, h, GDT_Byte, 0, 0) != CE_None)
                die("%s: write failed (%s)", o->split_only, CPLGetLastErrorMsg());
        }
    }
    free(buf);
    GDALClose(ds);
}
