#!/usr/bin/python3
"""The baselines of bench/classify.sh: k-nearest neighbours, an RBF support vector machine
and a random forest (scikit-learn) on each pixel's spectrum, on exactly the training and
test pixels hiner-classify draws for a seed (its --split-only file), with the image
normalised as hiner-classify normalises it (each band min-max over its valid pixels). The
hyperparameters are chosen per seed by 5-fold cross-validation on the training pixels
only: k in 1, 3, 5, 7, 9 (distance-weighted or not); C in 1 .. 1e4 and gamma in 0.01 .. 100
(on spectra scaled to unit variance); the forest has 500 trees and max_features in
sqrt, 0.1, 0.3.

usage: bench/classify_baselines.py TOOL IMAGE LABELS OUT_DIR [SEED ...]
  TOOL      hiner-classify (for the split)
  IMAGE     any raster GDAL reads (a .hiner file through the HINER driver)
  OUT_DIR   one JSON per method and seed: {method}_s{seed}.json with oa, aa, kappa and the
            chosen parameters; existing ones are kept
Needs python3-sklearn (scripts/install-deps.sh --bench).
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal

gdal.UseExceptions()


def load_image(path):
    """(n_pixels, bands) spectra normalised per band, and the valid mask (H, W)."""
    ds = gdal.Open(path)
    x = ds.ReadAsArray().astype(np.float64)
    if x.ndim == 2:
        x = x[None]
    valid = np.isfinite(x).all(0)
    for b in range(ds.RasterCount):
        nd = ds.GetRasterBand(b + 1).GetNoDataValue()
        if nd is not None:
            valid &= x[b] != nd
    for b in range(x.shape[0]):
        v = x[b][valid]
        lo, hi = (v.min(), v.max()) if v.size else (0.0, 1.0)
        x[b] = np.where(valid, (x[b] - lo) / (hi - lo if hi - lo > 1e-20 else 1.0), 0.0)
    return x.reshape(x.shape[0], -1).T, valid


def tool_split(tool, image, labels, path, valid, args=()):
    """The training and test labels (flat, 0 elsewhere and on invalid pixels) of the split
    hiner-classify draws with ARGS (--seed, --train-per-class, ...), written to PATH once."""
    if not os.path.exists(path):
        subprocess.run([tool, image, labels, "--quiet", "--split-only", path, *args],
                       check=True)
    s = gdal.Open(path).ReadAsArray().reshape(2, -1)
    return np.where(valid.ravel(), s[0], 0), np.where(valid.ravel(), s[1], 0)


def scores(truth, pred, k):
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (truth - 1, pred - 1), 1)
    n = cm.sum()
    oa = np.trace(cm) / n
    rec = [cm[i, i] / cm[i].sum() for i in range(k) if cm[i].sum()]
    pe = (cm.sum(0) * cm.sum(1)).sum() / n ** 2
    return float(oa), float(np.mean(rec)), float((oa - pe) / (1 - pe)), cm.tolist()


def models():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    def cv(seed):
        return StratifiedKFold(5, shuffle=True, random_state=seed)
    return {
        "knn": lambda seed: GridSearchCV(
            KNeighborsClassifier(), {"n_neighbors": [1, 3, 5, 7, 9],
                                     "weights": ["uniform", "distance"]}, cv=cv(seed)),
        "svm": lambda seed: GridSearchCV(
            make_pipeline(StandardScaler(), SVC(kernel="rbf")),
            {"svc__C": [1, 10, 100, 1000, 10000],
             "svc__gamma": [x / 224 for x in (0.01, 0.1, 1, 10, 100)]}, cv=cv(seed)),
        "rf": lambda seed: GridSearchCV(
            RandomForestClassifier(500, random_state=seed, n_jobs=1),
            {"max_features": ["sqrt", 0.1, 0.3]}, cv=cv(seed)),
    }


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    tool, image, labels, out = sys.argv[1:5]
    seeds = [int(s) for s in sys.argv[5:]] or list(range(1, 11))
    os.makedirs(out, exist_ok=True)
    x, valid = load_image(image)
    for seed in seeds:
        tr, te = tool_split(tool, image, labels, os.path.join(out, f"split_s{seed}.tif"),
                            valid, ["--seed", str(seed)])
        k = int(max(tr.max(), te.max()))
        for name, make in models().items():
            path = os.path.join(out, f"{name}_s{seed}.json")
            if os.path.exists(path):
                continue
            t0 = time.time()
            m = make(seed)
            m.fit(x[tr > 0], tr[tr > 0])
            pred = m.predict(x[te > 0])
            oa, aa, kappa, cm = scores(te[te > 0], pred, k)
            j = {"method": name, "seed": seed, "oa": oa, "aa": aa, "kappa": kappa,
                 "params": {a: (b if isinstance(b, (int, float, str)) else str(b))
                            for a, b in m.best_params_.items()},
                 "train_pixels": int((tr > 0).sum()), "test_pixels": int((te > 0).sum()),
                 "seconds": round(time.time() - t0, 2), "confusion": cm}
            with open(path + ".part", "w") as f:
                json.dump(j, f)
            os.replace(path + ".part", path)
            print(f"seed {seed} {name}: OA {100 * oa:.2f} {j['params']} ({j['seconds']} s)",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
