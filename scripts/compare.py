#!/usr/bin/python3
"""Prints what a compression cost and kept, with DESIGN.md's rules: file size, bpppb of the
whole file, PSNR (per band, normalised by the original band's min-max, valid pixels only,
mean over bands) and SAM (mean spectral angle over pixels).
usage: compare.py ORIGINAL DECODED COMPRESSED_FILE"""
import math
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()


def main():
    orig, dec, comp = sys.argv[1:4]
    a = gdal.Open(orig)
    ref = a.ReadAsArray().astype(np.float64)
    rec = gdal.Open(dec).ReadAsArray().astype(np.float64)
    if ref.ndim == 2:
        ref, rec = ref[None], rec[None]
    nod = a.GetRasterBand(1).GetNoDataValue()
    valid = np.isfinite(ref) & (True if nod is None else ref != nod)
    psnrs = []
    for b in range(ref.shape[0]):
        v = valid[b]
        if not v.any():
            continue
        r, d = ref[b][v], rec[b][v]
        rng = max(r.max() - r.min(), 1e-12)
        psnrs.append(-10 * math.log10(max(np.mean(((d - r) / rng) ** 2), 1e-12)))
    pix = valid.all(axis=0)
    p, q = ref[:, pix].T, rec[:, pix].T
    cos = (p * q).sum(1) / np.maximum(np.linalg.norm(p, axis=1) * np.linalg.norm(q, axis=1), 1e-12)
    sam = float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())
    size = os.path.getsize(comp)
    c, h, w = ref.shape
    raw = c * h * w * gdal.GetDataTypeSize(a.GetRasterBand(1).DataType) // 8
    print(f'{os.path.basename(comp)}: {size} bytes for {w} x {h} x {c} '
          f'({raw} bytes raw, ratio {raw / size:.1f}), {size * 8 / (w * h * c):.4f} bpppb, '
          f'PSNR {np.mean(psnrs):.2f} dB, SAM {sam:.3f} deg')


if __name__ == '__main__':
    main()
