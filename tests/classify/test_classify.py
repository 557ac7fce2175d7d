#!/usr/bin/python3
"""End-to-end test of tools/hiner-classify on a small synthetic scene written
by the test: a GeoTIFF cube (UTM, NoData holes, band wavelengths) and a label raster.
Checks the class map (size, georeference, colour table, NoData pixels at 0), the JSON
metrics (they parse, accuracy well above chance), the .hiner path with ASW and ISI when
the HINER driver is available, a tiled .hiner file read in windows that cross its tile
edges (the same class map and scores as one window over the whole scene, with ISI's
jittered windows too), the split written for other classifiers, and clear failures for
mismatched or bad input.
Exit status 77 (skipped) without osgeo.gdal / numpy or without the tool.

usage: test_classify.py PATH/TO/hiner-classify
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from osgeo import gdal, osr
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

gdal.UseExceptions()
W, H, C = 30, 24, 16
GT = (364095.0, 30.0, 0.0, 5809965.0, 0.0, -30.0)
NODATA = -9999.0
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def srs_wkt(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    return s.ExportToWkt()


def write_scene(d):
    """Three classes in blocks with distinct spectra plus noise; NoData in one corner."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:H, 0:W]
    cls = np.where(xx < 10, 1, np.where(yy < 12, 2, 3)).astype(np.uint8)
    lam = np.linspace(0, 1, C)
    spectra = {1: 0.2 + 0.5 * lam, 2: 0.6 - 0.3 * lam, 3: 0.4 + 0.2 * np.sin(7 * lam)}
    cube = np.zeros((C, H, W), np.float32)
    for k, s in spectra.items():
        cube[:, cls == k] = s[:, None]
    cube += 0.05 * rng.standard_normal(cube.shape).astype(np.float32)
    nodata = (yy < 3) & (xx < 3)
    cube[:, nodata] = NODATA
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(os.path.join(d, "image.tif"), W, H, C, gdal.GDT_Float32)
    ds.SetGeoTransform(GT)
    ds.SetProjection(srs_wkt(32633))
    for b in range(C):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(cube[b])
        band.SetNoDataValue(NODATA)
        band.SetMetadataItem("wavelength", f"{450 + 40 * b}")
        band.SetMetadataItem("wavelength_units", "Nanometers")
    ds = None
    labels = cls.copy()
    labels[nodata] = 0
    labels[::5, ::3] = 0  # some unlabelled pixels
    write_labels(os.path.join(d, "labels.tif"), labels)
    return labels, nodata


def write_labels(path, labels, gt=GT, epsg=32633):
    ds = gdal.GetDriverByName("GTiff").Create(path, labels.shape[1], labels.shape[0], 1,
                                               gdal.GDT_Byte)
    ds.SetGeoTransform(gt)
    ds.SetProjection(srs_wkt(epsg))
    ds.GetRasterBand(1).WriteArray(labels)
    ds = None


def run(tool, *args):
    r = subprocess.run([tool, *args], capture_output=True, text=True, timeout=240)
    return r.returncode, r.stdout, r.stderr


def check_outputs(d, tag, labels, nodata, min_oa):
    ds = gdal.Open(os.path.join(d, f"map_{tag}.tif"))
    check(ds.RasterXSize == W and ds.RasterYSize == H and ds.RasterCount == 1,
          f"{tag}: class map is {W} x {H}, one band")
    check(all(abs(a - b) < 1e-9 for a, b in zip(ds.GetGeoTransform(), GT)),
          f"{tag}: class map has the image's geotransform")
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    check(srs.GetAuthorityCode(None) == "32633", f"{tag}: class map has the image's CRS")
    band = ds.GetRasterBand(1)
    ct = band.GetColorTable()
    check(ct is not None and ct.GetCount() >= 4, f"{tag}: class map has a colour table")
    check(band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == 0,
          f"{tag}: Byte map with NoData 0")
    m = band.ReadAsArray()
    check(bool((m[nodata] == 0).all()) and bool((m[~nodata] >= 1).all()) and m.max() <= 3,
          f"{tag}: NoData pixels are 0, every other pixel has a class 1..3")
    check(not os.path.exists(os.path.join(d, f"map_{tag}.tif.aux.xml")),
          f"{tag}: no .aux.xml beside the map")
    with open(os.path.join(d, f"m_{tag}.json")) as f:
        j = json.load(f)
    check(j["n_classes"] == 3 and len(j["per_class"]) == 3 and len(j["confusion"]) == 3,
          f"{tag}: JSON has 3 classes, per-class accuracy and the confusion matrix")
    n_lab = int((labels > 0).sum())
    check(j["split"]["train_pixels"] == 30 and j["split"]["test_pixels"] == n_lab - 30,
          f"{tag}: 10 training pixels per class, the other labelled pixels are the test set")
    check(sum(map(sum, j["confusion"])) == j["split"]["test_pixels"] == j["test_scored"],
          f"{tag}: the confusion matrix counts the test pixels")
    # the scores agree with the map
    test_mask = labels > 0
    check(j["oa"] > min_oa, f"{tag}: OA {j['oa']:.3f} > {min_oa} (chance: 0.33)")
    check(0 <= j["kappa"] <= 1 and 0 <= j["aa"] <= 1, f"{tag}: kappa and AA in [0, 1]")
    correct_all = int((m[test_mask] == labels[test_mask]).sum())
    check(correct_all >= j["oa"] * j["test_scored"] - 0.5,
          f"{tag}: the map agrees with the JSON scores")
    return j


def tiled(tool, d, img, lab, common):
    """A 2 x 2 grid of 16 x 16 tiles: one window over the scene (the default here: it fits
    in --memory), windows of one tile (rows carried down from one to the next) and windows
    of 7 x 9 pixels that cross every tile edge give the same map."""
    hp = os.path.join(d, "tiled.hiner")
    gdal.Translate(hp, img, format="HINER",
                   creationOptions=["BPPPB=6", "EPOCHS=60", "BLOCKXSIZE=16", "BLOCKYSIZE=16"])
    maps, scores = {}, {}
    for tag, extra in (("whole", []), ("tiles", ["--block", "16x16"]),
                       ("small", ["--block", "7x9"])):
        for isi in (0, 1):
            name = f"{tag}{'_isi' if isi else ''}"
            args = [*common, "--out", os.path.join(d, f"map_{name}.tif"),
                    "--json", os.path.join(d, f"m_{name}.json"), *extra]
            if isi:
                args += ["--isi", "--isi-copies", "2"]
            rc, out, err = run(tool, hp, lab, *args)
            check(rc == 0, f"tiled {name}: exit status 0 ({err.strip()[-300:]})")
            if rc != 0:
                return
            maps[name] = gdal.Open(os.path.join(d, f"map_{name}.tif")).ReadAsArray()
            with open(os.path.join(d, f"m_{name}.json")) as f:
                scores[name] = json.load(f)
    check(scores["whole"]["windows"] == 1 and scores["tiles"]["windows"] == 4
          and scores["small"]["windows"] == 15,
          f"tiled: windows {scores['whole']['windows']}, {scores['tiles']['windows']}, "
          f"{scores['small']['windows']} (1 over the scene, 2 x 2 tiles, 5 x 3 of 7 x 9)")
    for isi in ("", "_isi"):
        same = all((maps[f"{t}{isi}"] == maps[f"whole{isi}"]).all() for t in ("tiles", "small"))
        check(same and all(scores[f"{t}{isi}"]["oa"] == scores[f"whole{isi}"]["oa"]
                           for t in ("tiles", "small")),
              f"tiled{isi}: windows across tile edges give the map and OA of one window "
              f"(OA {scores['whole' + isi]['oa']:.3f})")
        check(scores[f"whole{isi}"]["oa"] > 0.7, f"tiled{isi}: OA above 0.7 (chance: 0.33)")
    # without a map only the windows with test pixels are read (rows not carried then)
    rc, out, err = run(tool, hp, lab, *common, "--block", "7x9", "--json",
                       os.path.join(d, "m_nomap.json"))
    with open(os.path.join(d, "m_nomap.json")) as f:
        j = json.load(f)
    check(rc == 0 and j["oa"] == scores["whole"]["oa"] and j["confusion"] ==
          scores["whole"]["confusion"], "tiled, no map: the test pixels' scores are the same")


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print("SKIP: no hiner-classify tool given")
        return 77
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        labels, nodata = write_scene(d)
        img, lab = os.path.join(d, "image.tif"), os.path.join(d, "labels.tif")
        common = ["--train-per-class", "10", "--epochs", "60", "--threads", "2", "--seed", "3",
                  "--quiet"]
        # 1. the uncompressed baseline from a GeoTIFF
        rc, out, err = run(tool, img, lab, *common, "--out", os.path.join(d, "map_tif.tif"),
                           "--json", os.path.join(d, "m_tif.json"))
        check(rc == 0, f"tif: exit status 0 ({err.strip()[-300:]})")
        if rc == 0:
            check("OA " in out and "kappa" in out, "tif: metrics printed on stdout")
            j = check_outputs(d, "tif", labels, nodata, 0.8)
            check(j["source"] == "gdal" and j["asw"] is False, "tif: JSON says GDAL, no ASW")
        # 2. a .hiner file with ASW and ISI (needs the HINER driver to write it)
        if gdal.GetDriverByName("HINER") is not None:
            hp = os.path.join(d, "image.hiner")
            gdal.Translate(hp, img, format="HINER", creationOptions=["BPPPB=2", "EPOCHS=40"])
            rc, out, err = run(tool, hp, lab, *common, "--asw", "--isi", "--isi-copies", "2",
                               "--out", os.path.join(d, "map_hiner.tif"),
                               "--json", os.path.join(d, "m_hiner.json"))
            check(rc == 0, f"hiner: exit status 0 ({err.strip()[-300:]})")
            if rc == 0:
                j = check_outputs(d, "hiner", labels, nodata, 0.7)
                check(j["source"] == "hiner" and j["asw"] and j["isi"] and j["isi_copies"] == 2
                      and j["bpppb"] > 0 and j["compression_ratio"] > 1
                      and j["asw_params"] > 0, "hiner: JSON has the rate, ASW and ISI")
            tiled(tool, d, img, lab, common)
        else:
            print("skip .hiner case: HINER driver not found (GDAL_DRIVER_PATH)")
        # the split, for other classifiers
        sp = os.path.join(d, "split.tif")
        rc, _, err = run(tool, img, lab, "--train-per-class", "10", "--seed", "3", "--quiet",
                         "--split-only", sp)
        check(rc == 0, f"split: exit status 0 ({err.strip()[-300:]})")
        if rc == 0:
            a = gdal.Open(sp).ReadAsArray()
            check(a.shape == (2, H, W) and all(int((a[0] == k).sum()) == 10 for k in (1, 2, 3))
                  and not bool(((a[0] > 0) & (a[1] > 0)).any())
                  and bool((np.maximum(a[0], a[1]) == labels).all()),
                  "split: 10 training pixels per class, the rest test, disjoint, covering")
        # 3. clear failures
        small = os.path.join(d, "small.tif")
        write_labels(small, labels[:20, :])
        rc, _, err = run(tool, img, small, *common)
        check(rc != 0 and "must match" in err, "labels of another size are refused")
        moved = os.path.join(d, "moved.tif")
        write_labels(moved, labels, gt=(GT[0] + 15, *GT[1:]))
        rc, _, err = run(tool, img, moved, *common)
        check(rc != 0 and "grid" in err, "labels on another grid are refused")
        other = os.path.join(d, "other_crs.tif")
        write_labels(other, labels, epsg=32632)
        rc, _, err = run(tool, img, other, *common)
        check(rc != 0 and "coordinate reference" in err, "labels in another CRS are refused")
        gap = os.path.join(d, "gap.tif")
        write_labels(gap, np.where(labels == 2, 0, labels).astype(np.uint8))
        rc, _, err = run(tool, img, gap, *common)
        check(rc != 0 and "class 2 has no labelled" in err, "an empty class is refused")
        rc, _, err = run(tool, img, lab, "--train-per-class", "500", "--epochs", "1", "--quiet")
        check(rc != 0 and "too few labelled pixels" in err, "too few labelled pixels: refused")
        rc, _, err = run(tool, img, lab, "--epochs", "zero")
        check(rc != 0 and "--epochs" in err, "a bad option value is refused")
        rc, _, err = run(tool, img, lab, "--frobnicate")
        check(rc != 0 and "unknown option" in err, "an unknown option is refused")
        rc, _, err = run(tool, img, lab, "--isi", "--epochs", "1", "--quiet")
        check(rc != 0 and ".hiner" in err, "--isi on a GeoTIFF is refused")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
