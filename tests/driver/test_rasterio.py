"""rasterio (Debian's python3-rasterio) on .hiner files: it describes them (profile,
`rio info`), reads bands and windows equal to what osgeo.gdal reads. rasterio maps
IMAGE_STRUCTURE/COMPRESSION onto its own list of names, so the driver reports, as GDAL's
WEBP driver does, only COMPRESSION_REVERSIBILITY=LOSSY. rasterio runs in a child process
(its own GDAL bindings next to osgeo's), with GDAL_DRIVER_PATH inherited.
"""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal

gdal.UseExceptions()


def have_rasterio():
    return subprocess.run([sys.executable, '-c', 'import rasterio'],
                          capture_output=True).returncode == 0


@pytest.fixture(scope='module')
def hiner_file(tmp_path_factory):
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')
    d = tmp_path_factory.mktemp('hiner_rasterio')
    src = str(d / 'src.tif')
    c, h, w = 8, 32, 40
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    ds = gdal.GetDriverByName('GTiff').Create(src, w, h, c, gdal.GDT_UInt16)
    ds.SetGeoTransform([500000, 30, 0, 4000000, 0, -30])
    for b in range(c):
        ds.GetRasterBand(b + 1).WriteArray(np.round(3000 + 800 * np.sin(0.2 * x + 0.3 * b) + 10 * y))
    ds = None
    out = str(d / 'cube.hiner')
    gdal.Translate(out, src, format='HINER',
                   creationOptions=['EPOCHS=3', 'QAT_EPOCHS=0', 'BPPPB=3'])
    return out


def test_image_structure_says_lossy(hiner_file):
    ds = gdal.Open(hiner_file)
    md = ds.GetMetadata('IMAGE_STRUCTURE')
    assert md.get('COMPRESSION_REVERSIBILITY') == 'LOSSY'
    assert 'COMPRESSION' not in md
    assert md.get('INTERLEAVE') == 'BAND'


def test_rasterio_profile_and_reads(hiner_file):
    if not have_rasterio():
        pytest.skip('rasterio not installed (python3-rasterio)')
    code = '''
import json, sys, numpy as np, rasterio
from rasterio.windows import Window
with rasterio.open(sys.argv[1]) as r:
    p = r.profile
    full = r.read(3)
    win = r.read(3, window=Window(5, 7, 20, 11))
    print(json.dumps({"driver": p["driver"], "count": p["count"], "width": p["width"],
                      "height": p["height"], "dtype": p["dtype"],
                      "transform": list(r.transform)[:6], "sum": float(full.sum()),
                      "win_equal": bool(np.array_equal(win, full[7:18, 5:25]))}))
'''
    res = subprocess.run([sys.executable, '-c', code, hiner_file], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got['driver'] == 'HINER'
    assert (got['count'], got['width'], got['height'], got['dtype']) == (8, 40, 32, 'uint16')
    assert got['transform'] == [30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0]
    assert got['win_equal']
    ds = gdal.Open(hiner_file)
    ref = ds.GetRasterBand(3).ReadAsArray().astype(np.float64)
    assert got['sum'] == float(ref.sum())


def test_rio_info(hiner_file):
    if not have_rasterio():
        pytest.skip('rasterio not installed (python3-rasterio)')
    rio = shutil.which('rio')  # Debian's rasterio package; else the same entry point
    cmd = [rio, 'info', hiner_file] if rio else \
        [sys.executable, '-c', 'import sys; from rasterio.rio.main import main_group; '
         'sys.argv[0] = "rio"; main_group()', 'info', hiner_file]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info['driver'] == 'HINER' and info['count'] == 8


WRITE_CODE = '''
import json, sys, numpy as np, rasterio
from affine import Affine
path, size = sys.argv[1], sys.argv[2]
y, x = np.mgrid[0:20, 0:24].astype(np.float64)
data = np.array([np.round(2000 + 800 * np.sin(0.3 * x + 0.5 * b) + 20 * y)
                 for b in range(3)]).astype(np.uint16)
data[:, :2, :3] = 0
profile = dict(driver='HINER', width=24, height=20, count=3, dtype='uint16', nodata=0,
               crs='EPSG:32633', transform=Affine(30, 0, 500000, 0, -30, 5800000),
               EPOCHS=80, QAT_EPOCHS=0)
if size:
    profile['SIZE'] = size
try:
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
        dst.set_band_description(2, 'second')
        dst.update_tags(AUTHOR='rasterio')
except Exception as e:
    print(json.dumps({"raised": type(e).__name__, "message": str(e)}))
    sys.exit(0)
with rasterio.open(path) as r:
    back = r.read()
    print(json.dumps({"raised": None, "crs": r.crs.to_epsg(), "transform": list(r.transform)[:6],
                      "nodata": r.nodata, "descriptions": list(r.descriptions),
                      "author": r.tags().get("AUTHOR"),
                      "corr": float(np.corrcoef(back[:, 2:, 3:].ravel(),
                                                data[:, 2:, 3:].ravel())[0, 1]),
                      "nodata_kept": bool((back[:, :2, :3] == 0).all())}))
'''


def test_rasterio_write(tmp_path):
    """rasterio writes through Create(): georeferencing, NoData, descriptions and tags
    reach the file, the pixels come back (lossy: correlated)."""
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')
    if not have_rasterio():
        pytest.skip('rasterio not installed (python3-rasterio)')
    path = str(tmp_path / 'written.hiner')
    res = subprocess.run([sys.executable, '-c', WRITE_CODE, path, '6000'], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got['raised'] is None, got
    assert got['crs'] == 32633 and got['transform'] == [30.0, 0.0, 500000.0, 0.0, -30.0, 5800000.0]
    assert got['nodata'] == 0 and got['nodata_kept']
    assert got['descriptions'][1] == 'second' and got['author'] == 'rasterio'
    assert got['corr'] > 0.8, got


def test_rasterio_write_below_the_smallest_target_raises(tmp_path):
    """At the default rate (0.2 bpppb: 36 bytes for 24 x 20 x 3) the file cannot be made:
    rasterio.open(..., 'w') raises, naming the smallest target, and leaves nothing."""
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')
    if not have_rasterio():
        pytest.skip('rasterio not installed (python3-rasterio)')
    path = str(tmp_path / 'tiny.hiner')
    res = subprocess.run([sys.executable, '-c', WRITE_CODE, path, ''], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got['raised'] and 'or above (SIZE=' in got['message'], got
    assert list(tmp_path.iterdir()) == []
