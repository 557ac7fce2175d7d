#!/usr/bin/python3
"""Large test scenes from a real one by mirror-tiling (the tiles benchmark, docs/benchmarks.md).

    bench/make_mosaic.py SRC.tif K OUT.tif [--crop N]

The scene is repeated K x K times, every other copy mirrored so that the copies meet
without a step (a 150 x 150 scene gives 300, 600, ... 1050 pixels a side at K = 2, 4 ... 7).
Band metadata (wavelengths), NoData and the data type are the source's; the geotransform
continues the source's pixel grid. --crop keeps the top-left N x N.
"""
import argparse
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('src')
    ap.add_argument('k', type=int)
    ap.add_argument('out')
    ap.add_argument('--crop', type=int, default=0)
    a = ap.parse_args()
    src = gdal.Open(a.src)
    w, h, c = src.RasterXSize, src.RasterYSize, src.RasterCount
    cw, ch = w * a.k, h * a.k
    if a.crop:
        cw, ch = min(cw, a.crop), min(ch, a.crop)
    b1 = src.GetRasterBand(1)
    out = gdal.GetDriverByName('GTiff').Create(
        a.out, cw, ch, c, b1.DataType,
        ['TILED=YES', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256', 'INTERLEAVE=BAND', 'BIGTIFF=IF_SAFER'])
    gt = src.GetGeoTransform(can_return_null=True)
    if gt:
        out.SetGeoTransform(gt)
    if src.GetProjection():
        out.SetProjection(src.GetProjection())
    ys = np.arange(ch)
    xs = np.arange(cw)
    # mirrored copies: index along a side runs 0..n-1, n-1..0, 0..n-1 ...
    yi = np.where((ys // h) % 2 == 0, ys % h, h - 1 - ys % h)
    xi = np.where((xs // w) % 2 == 0, xs % w, w - 1 - xs % w)
    for b in range(1, c + 1):
        sb = src.GetRasterBand(b)
        a2 = sb.ReadAsArray()
        ob = out.GetRasterBand(b)
        ob.WriteArray(a2[np.ix_(yi, xi)])
        nd = sb.GetNoDataValue()
        if nd is not None:
            ob.SetNoDataValue(nd)
        md = sb.GetMetadata()
        if md:
            ob.SetMetadata(md)
        if sb.GetDescription():
            ob.SetDescription(sb.GetDescription())
    for dom in ('', 'ENVI', 'IMAGERY'):
        md = src.GetMetadata(dom)
        if md:
            out.SetMetadata(md, dom)
    out = None
    print(f'{a.out}: {cw} x {ch} x {c}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
