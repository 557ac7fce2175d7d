/*
 * raster.c - hiner-classify's rasters: the image (a .hiner file through libhiner, or any
 * raster through GDAL's C API) as (C,H,W) floats with a valid mask, the labels checked
 * against the image's size, grid and CRS, and the class map written as a GeoTIFF.
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

int is_hiner_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return hiner_identify(head, n);
}

void load_hiner(image *im, const options *o)
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
    im->bpppb = in.bpppb;
    im->ratio = in.bpppb > 0 ? 8.0 * (double)hiner_dtype_size(in.dtype) / in.bpppb : 0;
    im->dtype = hiner_dtype_name(in.dtype);
    im->has_gt = meta.has_geotransform;
    memcpy(im->gt, meta.geotransform, sizeof im->gt);
    im->wkt = crs_to_wkt(meta.crs_wkt);
    const size_t HW = (size_t)im->W * im->H;
    im->cube = malloc(HW * im->C * sizeof(float));
    im->valid = malloc(HW);
    if (!im->cube || !im->valid) die("out of memory for a %d x %d x %d cube", im->W, im->H, im->C);
    memset(im->valid, 1, HW);
    double t0 = now();
    for (int b = 0; b < im->C; b++) {
        float *band = im->cube + (size_t)b * HW;
        st = hiner_model_decode_band(im->model, (uint32_t)b, band);
        if (st != HINER_OK) die("%s: band %d: %s", o->image, b + 1, hiner_status_str(st));
        for (size_t i = 0; i < HW; i++)
            if (isnan(band[i]) || (in.has_nodata && band[i] == (float)in.nodata)) im->valid[i] = 0;
        status(o->quiet, 1, "decoding %s: band %d/%d", o->image, b + 1, im->C);
    }
    status(o->quiet, 0, "decoded %s: %d bands (%.1f s)", o->image, im->C, now() - t0);
}

void load_gdal(image *im, const options *o)
{
    GDALDatasetH ds = GDALOpen(o->image, GA_ReadOnly);
    if (!ds) die("%s: cannot be opened as a raster (%s)", o->image, CPLGetLastErrorMsg());
    im->W = GDALGetRasterXSize(ds), im->H = GDALGetRasterYSize(ds), im->C = GDALGetRasterCount(ds);
    if (im->C < 1) die("%s: no bands", o->image);
    im->has_gt = GDALGetGeoTransform(ds, im->gt) == CE_None;
    im->wkt = crs_to_wkt(GDALGetProjectionRef(ds));
    im->dtype = GDALGetDataTypeName(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)));
    const size_t HW = (size_t)im->W * im->H;
    im->cube = malloc(HW * im->C * sizeof(float));
    im->valid = malloc(HW);
    if (!im->cube || !im->valid) die("out of memory for a %d x %d x %d cube", im->W, im->H, im->C);
    memset(im->valid, 1, HW);
    for (int b = 0; b < im->C; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        float *out = im->cube + (size_t)b * HW;
        if (GDALRasterIO(band, GF_Read, 0, 0, im->W, im->H, out, im->W, im->H, GDT_Float32, 0, 0) !=
            CE_None)
            die("%s: band %d cannot be read (%s)", o->image, b + 1, CPLGetLastErrorMsg());
        int has_nd = 0;
        double nd = GDALGetRasterNoDataValue(band, &has_nd);
        for (size_t i = 0; i < HW; i++)
            if (isnan(out[i]) || (has_nd && out[i] == (float)nd)) im->valid[i] = 0;
        status(o->quiet, 1, "reading %s: band %d/%d", o->image, b + 1, im->C);
    }
    status(o->quiet, 0, "read %s: %d bands", o->image, im->C);
    GDALClose(ds);
}

/* ---- labels: same size and georeference as the image ---- */
uint8_t *load_labels(const options *o, const image *im, int *n_classes)
{
    GDALDatasetH ds = GDALOpen(o->labels, GA_ReadOnly);
    if (!ds) die("%s: cannot be opened as a raster (%s)", o->labels, CPLGetLastErrorMsg());
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
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    const size_t HW = (size_t)W * H;
    int32_t *v = malloc(HW * sizeof(int32_t));
    uint8_t *lab = malloc(HW);
    if (!v || !lab) die("out of memory");
    if (GDALRasterIO(band, GF_Read, 0, 0, W, H, v, W, H, GDT_Int32, 0, 0) != CE_None)
        die("%s: cannot be read (%s)", o->labels, CPLGetLastErrorMsg());
    int has_nd = 0;
    const double nd = GDALGetRasterNoDataValue(band, &has_nd);
    int K = 0;
    size_t dropped = 0;
    for (size_t i = 0; i < HW; i++) {
        int32_t x = v[i];
        if (has_nd && (double)x == nd) x = 0;
        if (x < 0 || x > HINER_CLASS_MAX)
            die("%s: label %d at pixel %zu, %zu: classes are 1..%d, 0 = unlabelled", o->labels,
                (int)x, i % W, i / W, HINER_CLASS_MAX);
        if (x && !im->valid[i]) x = 0, dropped++;
        lab[i] = (uint8_t)x;
        if (x > K) K = x;
    }
    free(v);
    GDALClose(ds);
    if (dropped)
        fprintf(stderr, "hiner-classify: warning: %zu labelled pixels are NoData in the image and "
                        "were left out\n", dropped);
    if (K < 2) die("%s: %d class(es) with labelled pixels: at least 2 are needed", o->labels, K);
    size_t count[HINER_CLASS_MAX + 1] = {0};
    for (size_t i = 0; i < HW; i++) count[lab[i]]++;
    for (int k = 1; k <= K; k++)
        if (!count[k])
            die("%s: class %d has no labelled (valid) pixel: classes must be numbered 1..%d "
                "without gaps", o->labels, k, K);
    *n_classes = K;
    return lab;
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

void write_map(const options *o, const image *im, const uint8_t *map, int K)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv) die("GDAL has no GTiff driver");
    char **co = CSLSetNameValue(NULL, "COMPRESS", "DEFLATE");
    GDALDatasetH ds = GDALCreate(drv, o->out, im->W, im->H, 1, GDT_Byte, co);
    CSLDestroy(co);
    if (!ds) die("%s: cannot be created (%s)", o->out, CPLGetLastErrorMsg());
    if (im->has_gt) GDALSetGeoTransform(ds, (double *)im->gt);
    if (im->wkt) GDALSetProjection(ds, im->wkt);
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(band, 0);
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
    if (GDALRasterIO(band, GF_Write, 0, 0, im->W, im->H, (void *)map, im->W, im->H, GDT_Byte, 0,
                     0) != CE_None)
        die("%s: write failed (%s)", o->out, CPLGetLastErrorMsg());
    GDALClose(ds);
}
