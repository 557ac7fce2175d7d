/*
 * gdal_cube.h - benches read real scenes through GDAL's C API into a hiner_cube (the
 * core never links GDAL): samples as Float64, NoData of band 1, wavelengths from the
 * ENVI-style band metadata item `wavelength` when every band has one.
 */
#ifndef HINER_BENCH_GDAL_CUBE_H
#define HINER_BENCH_GDAL_CUBE_H

#include <gdal.h>
#include <stdio.h>
#include <stdlib.h>

#include "hiner.h"

typedef struct bench_cube {
    hiner_cube cube;
    double *data, *wl;
    int W, H, C;
} bench_cube;

static int bench_cube_load(bench_cube *bc, const char *path)
{
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds) return 0;
    int W = GDALGetRasterXSize(ds), H = GDALGetRasterYSize(ds), C = GDALGetRasterCount(ds);
    bc->W = W, bc->H = H, bc->C = C;
    bc->data = malloc((size_t)W * H * C * sizeof(double));
    bc->wl = malloc((size_t)C * sizeof(double));
    int ok = 1, have_wl = 1;
    for (int b = 0; b < C && ok; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        ok = GDALRasterIO(band, GF_Read, 0, 0, W, H, bc->data + (size_t)b * W * H, W, H,
                          GDT_Float64, 0, 0) == CE_None;
        const char *w = GDALGetMetadataItem(band, "wavelength", NULL);
        if (w) bc->wl[b] = atof(w);
        else have_wl = 0;
    }
    hiner_cube c = {0};
    c.width = (uint32_t)W, c.height = (uint32_t)H, c.bands = (uint32_t)C;
    c.dtype = HINER_FLOAT64;
    c.data = bc->data;
    int has_nd = 0;
    double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(ds, 1), &has_nd);
    c.has_nodata = has_nd;
    c.nodata = nd;
    c.wavelengths = have_wl ? bc->wl : NULL;
    bc->cube = c;
    GDALClose(ds);
    return ok;
}

static void bench_cube_free(bench_cube *bc)
{
    free(bc->data);
    free(bc->wl);
}

#endif
