#!/usr/bin/python3
"""How far any classifier can go on the EnMAP mosaic's labels (issue #22): the RBF SVM of
bench/classify_baselines.py (the strongest baseline) given more than each pixel's spectrum,
or more training pixels, on the splits hiner-classify draws.

  spatial:  the spectrum plus the mean spectrum of the valid pixels in a 3 x 3, 5 x 5 or
            7 x 7 window around it (what a patch classifier sees, summarised), 50 training
            pixels per class, one row per seed;
  neighbours: how often a labelled pixel's labelled 8-neighbours carry its class (what
            a patch around a pixel shows of its class), per class;
  labels:   the spectrum alone and with the 5 x 5 mean, trained on 25 or 80 pixels per class
            (the smallest class has 91) or on 10 %, 25 %, 50 % and 80 % of each class's
            labelled pixels (--train-fraction, so in the test set's proportions), tested on
            the rest.

usage: bench/classify_ceiling.py TOOL IMAGE LABELS OUT_DIR [SEEDS [LABEL_SEEDS]]
  SEEDS        comma-separated, default 1..10 (spatial);  LABEL_SEEDS default 1,2,3
  OUT_DIR      the splits and one JSON of all results (ceiling.json); prints the tables
Needs python3-sklearn (scripts/install-deps.sh --bench).
"""
import json
import os
import sys

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classify_baselines import load_image, models, scores, tool_split  # noqa: E402

gdal.UseExceptions()


def window_mean(x, valid, side):
    """Per-pixel mean spectrum of the valid pixels in a side x side window (edges mirrored)."""
    from scipy.ndimage import uniform_filter
    h, w = valid.shape
    cube = x.T.reshape(-1, h, w)
    m = valid.astype(np.float64)
    den = uniform_filter(m, side, mode="mirror")
    num = np.stack([uniform_filter(b * m, side, mode="mirror") for b in cube])
    return (num / np.maximum(den, 1e-9)).reshape(cube.shape[0], -1).T


def neighbour_agreement(lab):
    """Per class: the share of a labelled pixel's labelled 8-neighbours in its class."""
    h, w = lab.shape
    pad = np.pad(lab, 1)
    same, tot = np.zeros(256), np.zeros(256)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            nb = pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            m = (lab > 0) & (nb > 0)
            np.add.at(tot, lab[m], 1)
            np.add.at(same, lab[m], (nb[m] == lab[m]).astype(float))
    return {int(k): same[k] / tot[k] for k in np.flatnonzero(tot)}, same.sum() / tot.sum()


def mean_sd(rows):
    """' | '-joined 'mean ± sd' of each column of rows."""
    r = np.array(rows)
    sd = r.std(0, ddof=1 if len(r) > 1 else 0)
    return " | ".join(f"{m:.2f} ± {s:.2f}" for m, s in zip(r.mean(0), sd))


def svm_oa(feats, tr, te, seed):
    m = models()["svm"](seed)
    m.fit(feats[tr > 0], tr[tr > 0])
    k = int(max(tr.max(), te.max()))
    return scores(te[te > 0], m.predict(feats[te > 0]), k)[0]


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    tool, image, labels, out = sys.argv[1:5]
    seeds = [int(s) for s in sys.argv[5].split(",")] if len(sys.argv) > 5 else range(1, 11)
    lseeds = [int(s) for s in sys.argv[6].split(",")] if len(sys.argv) > 6 else (1, 2, 3)
    os.makedirs(out, exist_ok=True)
    x, valid = load_image(image)
    feats = {"spectrum": x}
    for side in (3, 5, 7):
        feats[f"+{side}x{side} mean"] = np.hstack([x, window_mean(x, valid, side)])
    res_path = os.path.join(out, "ceiling.json")
    res = json.load(open(res_path)) if os.path.exists(res_path) else {}

    def run(key, f, tr, te, seed):
        if key not in res:
            res[key] = svm_oa(feats[f], tr, te, seed)
            with open(res_path + ".part", "w") as fp:
                json.dump(res, fp)
            os.replace(res_path + ".part", res_path)
        return 100 * res[key]

    lab = gdal.Open(labels).ReadAsArray().astype(np.int64) * valid
    per, total = neighbour_agreement(lab)
    print("labelled 8-neighbours in the pixel's class: "
          + ", ".join(f"class {k} {100 * a:.0f} %" for k, a in per.items())
          + f"; all {100 * total:.0f} %\n")
    def split(seed, fraction, per_class=50):
        """fraction 0: per_class pixels of each class."""
        tag = f"_f{fraction}" if fraction else f"_n{per_class}" if per_class != 50 else ""
        args = (["--train-fraction", str(fraction)] if fraction else
                ["--train-per-class", str(per_class)])
        return tool_split(tool, image, labels, os.path.join(out, f"split_s{seed}{tag}.tif"),
                          valid, ["--seed", str(seed), *args])

    print("| seed | " + " | ".join(feats) + " |")
    rows = []
    for seed in seeds:
        tr, te = split(seed, 0)
        rows.append([run(f"spatial {f} s{seed}", f, tr, te, seed) for f in feats])
        print(f"| {seed} | " + " | ".join(f"{o:.2f}" for o in rows[-1]) + " |", flush=True)
    print("| mean | " + mean_sd(rows) + " |")
    print("\n| training pixels | spectrum | + 5x5 mean |")
    for frac, per in ((0, 25), (0, 80), (0.1, 0), (0.25, 0), (0.5, 0), (0.8, 0)):
        o = []
        for seed in lseeds:
            tr, te = split(seed, frac, per)
            tag = f"f{frac}" if frac else f"n{per}"
            o.append([run(f"labels {f} {tag} s{seed}", f, tr, te, seed)
                      for f in ("spectrum", "+5x5 mean")])
        what = f"{int(frac * 100)} %" if frac else f"{per} a class"
        print(f"| {what} ({int((tr > 0).sum())}) | {mean_sd(o)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
