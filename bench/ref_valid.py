#!/usr/bin/python3
"""A shared reference script (../shared/bench/j2k_rd.py or pca_j2k_rd.py) on a scene with
NoData, measured as bench/rd.py measures HINER (DESIGN.md): PSNR and SAM over the valid
pixels only, each band's range from its valid pixels. The reference codecs have no mask, so
they get the easier cube: NoData pixels replaced by their band's mean over the valid pixels
(a constant that neither PCA's basis nor JPEG 2000 spends bits on), the mask not counted in
their rate. The scripts themselves count the fill value (-9999 in the EnMAP mosaic) in each
band's range, which makes every error look about a hundred times smaller.

usage: bench/ref_valid.py SCRIPT SRC RATES   (prints the script's own lines)
"""
import importlib.util
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'bench')


def main(script, src, rates):
    sys.path.insert(0, SHARED)
    spec = importlib.util.spec_from_file_location('ref', os.path.join(SHARED, script))
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    ds = gdal.Open(src)
    cube = ds.ReadAsArray().astype(np.float64).transpose(1, 2, 0)    # (H, W, C)
    nod = ds.GetRasterBand(1).GetNoDataValue()
    valid = np.isfinite(cube) & (True if nod is None else cube != nod)
    filled = cube.copy()
    for b in range(cube.shape[2]):
        v = valid[:, :, b]
        filled[:, :, b][~v] = cube[:, :, b][v].mean() if v.any() else 0.0

    # the scripts pass the cube they coded (j2k_rd.py's rescaled to UInt16): measured against it
    def band_psnr(ref_cube, rec):
        out = []
        for b in range(cube.shape[2]):
            v = valid[:, :, b]
            if not v.any():
                continue
            r = ref_cube[:, :, b][v].astype(np.float64)
            rg = r.max() - r.min()
            if rg <= 0:
                continue
            mse = np.mean(((rec[:, :, b][v].astype(np.float64) - r) / rg) ** 2)
            out.append(-10 * np.log10(max(mse, 1e-12)))
        return float(np.mean(out))

    def sam_deg(ref_cube, rec):
        px = valid.all(2).reshape(-1)
        a = ref_cube.reshape(-1, cube.shape[2])[px].astype(np.float64)
        b = rec.reshape(-1, rec.shape[2])[px].astype(np.float64)
        cos = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1),
                                          1e-12)
        return float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())

    ref.load = lambda path: filled
    ref.band_psnr = band_psnr
    ref.sam_deg = sam_deg
    ref.main(src, [float(r) for r in rates.split(',')])


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
