#!/usr/bin/python3
"""A sanity reference for bench/classify.sh: k-nearest-neighbour classification of the
EnMAP Potsdam mosaic with the same split rule (50 training pixels per class, seeded, the
rest for testing), on each pixel's min-max normalised spectrum. It tells how hard the
scene is for a model-free classifier with 300 training pixels.

usage: bench/classify_knn.py [DATA_DIR]   (default ../shared/data next to the tree)
"""
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'shared', 'data')
src = os.path.join(data, 'enmap_potsdam_mosaic_224.tif')
lab = os.path.join(data, 'enmap_potsdam_mosaic_labels.tif')
if not (os.path.exists(src) and os.path.exists(lab)):
    print('classify_knn.py: scene not found, skipped')
    sys.exit(0)
ds = gdal.Open(src)
X = ds.ReadAsArray().astype(np.float64)
nd = ds.GetRasterBand(1).GetNoDataValue()
L = gdal.Open(lab).ReadAsArray()
valid = np.isfinite(X).all(0) & ((X[0] != nd) if nd is not None else True)
L = np.where(valid, L, 0)
for c in range(X.shape[0]):
    v = X[c][valid]
    X[c] = np.where(valid, (X[c] - v.min()) / max(v.max() - v.min(), 1e-12), 0)
K = int(L.max())
for seed in (1, 2, 3):
    rng = np.random.default_rng(seed)
    tr = np.zeros_like(L)
    te = np.zeros_like(L)
    for k in range(1, K + 1):
        idx = np.flatnonzero(L == k)
        rng.shuffle(idx)
        tr.flat[idx[:50]] = k
        te.flat[idx[50:]] = k
    ftr, ytr = X[:, tr > 0].T, tr[tr > 0]
    fte, yte = X[:, te > 0].T, te[te > 0]
    d2 = (fte ** 2).sum(1)[:, None] - 2 * fte @ ftr.T + (ftr ** 2).sum(1)[None, :]
    for kk in (1, 5):
        votes = ytr[np.argsort(d2, axis=1)[:, :kk]]
        pred = np.array([np.bincount(v, minlength=K + 1).argmax() for v in votes])
        print(f'seed {seed} k={kk}: OA {(pred == yte).mean():.3f}')
