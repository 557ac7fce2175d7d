"""GDAL's command-line tools on .hiner files, each checked against what osgeo.gdal decodes:
gdalinfo (-stats, -checksum, -json, -mdd all), gdal_translate (-srcwin, -b, -outsize,
-of VRT, -of COG), gdalwarp from and to HINER (and its exit status when the target
cannot be met, at Create or at the final flush), gdaladdo, gdallocationinfo,
gdalbuildvrt, /vsizip/ and gdal_edit.py -ro.

Run by ctest's driver_conformance, or by hand:
    GDAL_DRIVER_PATH=build/gdalplugins /usr/bin/python3 -m pytest tests/driver/test_tools.py
"""
import json
import os
import re
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()

FAST = ['EPOCHS=3', 'QAT_EPOCHS=0', 'NUM_THREADS=2']
SMALLEST = re.compile(r'BPPPB=([0-9.]+) or above \(SIZE=(\d+)\)')


@pytest.fixture(autouse=True)
def need_driver():
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')


def run(*args, check=True):
    """Runs a command-line tool; returns (returncode, stdout + stderr)."""
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    out = p.stdout + p.stderr
    if check and p.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, args))} failed ({p.returncode}):\n{out}')
    return p.returncode, out


def co(*options):
    return [a for o in options for a in ('-co', o)]


@pytest.fixture(scope='module')
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp('hiner_tools')


@pytest.fixture(scope='module')
def hiner(tmp):
    """A 32 x 24 x 4 UInt16 file (UTM 33N, wavelengths) and the bands it decodes to."""
    src = str(tmp / 'src.tif')
    y, x = np.mgrid[0:24, 0:32].astype(np.float64)
    ds = gdal.GetDriverByName('GTiff').Create(src, 32, 24, 4, gdal.GDT_UInt16)
    ds.SetGeoTransform((500000, 30, 0, 5800000, 0, -30))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetSpatialRef(srs)
    for b in range(4):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(np.round(2000 + 800 * np.sin(0.3 * x + 0.5 * b) + 20 * y))
        band.SetMetadataItem('wavelength', str(500 + 10 * b))
        band.SetMetadataItem('wavelength_units', 'nm')
    ds = None
    path = str(tmp / 'cube.hiner')
    run('gdal_translate', '-q', '-of', 'HINER', *co('SIZE=3000', *FAST), src, path)
    ds = gdal.Open(path)
    decoded = ds.ReadAsArray()
    checksums = [ds.GetRasterBand(b + 1).Checksum() for b in range(4)]
    ds = None
    return path, src, decoded, checksums


def fresh_copy(hiner, tmp, name):
    path = str(tmp / name)
    shutil.copy(hiner[0], path)
    return path


def read(path):
    ds = gdal.Open(path)
    arr = ds.ReadAsArray()
    ds = None
    return arr


# ---- gdalinfo ----

def test_gdalinfo_checksum(hiner):
    _, out = run('gdalinfo', '-checksum', hiner[0])
    assert 'Driver: HINER/' in out
    assert [int(v) for v in re.findall(r'Checksum=(\d+)', out)] == hiner[3]


def test_gdalinfo_stats(hiner, tmp):
    path = fresh_copy(hiner, tmp, 'stats.hiner')
    _, out = run('gdalinfo', '-stats', path)
    mins = [float(v) for v in re.findall(r'STATISTICS_MINIMUM=([0-9.]+)', out)]
    maxs = [float(v) for v in re.findall(r'STATISTICS_MAXIMUM=([0-9.]+)', out)]
    decoded = hiner[2]
    assert mins == [float(decoded[b].min()) for b in range(4)]
    assert maxs == [float(decoded[b].max()) for b in range(4)]
    assert os.path.exists(path + '.aux.xml'), 'statistics are kept in the .aux.xml'
    _, again = run('gdalinfo', path)
    assert 'STATISTICS_MINIMUM' in again


def test_gdalinfo_json(hiner):
    _, out = run('gdalinfo', '-json', hiner[0])
    info = json.loads(out)
    assert info['driverShortName'] == 'HINER'
    assert info['size'] == [32, 24] and len(info['bands']) == 4
    assert info['geoTransform'] == [500000, 30, 0, 5800000, 0, -30]
    assert 'UTM zone 33N' in info['coordinateSystem']['wkt']
    assert info['bands'][2]['type'] == 'UInt16'
    assert info['bands'][2]['metadata']['']['wavelength'] == '520'
    assert info['metadata']['IMAGE_STRUCTURE']['COMPRESSION_REVERSIBILITY'] == 'LOSSY'


def test_gdalinfo_mdd_all(hiner):
    _, out = run('gdalinfo', '-mdd', 'all', hiner[0])
    assert 'Metadata (HINER):' in out and 'STORED_BANDS=4' in out
    assert re.search(r'BPPPB=\d+\.\d{4}', out)
    assert 'Image Structure Metadata:' in out and 'INTERLEAVE=BAND' in out


# ---- gdal_translate ----

def test_gdal_translate_srcwin_and_bands(hiner, tmp):
    out = str(tmp / 'win.tif')
    run('gdal_translate', '-q', '-srcwin', 5, 3, 10, 8, hiner[0], out)
    assert np.array_equal(read(out), hiner[2][:, 3:11, 5:15])
    out = str(tmp / 'bands.tif')
    run('gdal_translate', '-q', '-b', 2, '-b', 4, hiner[0], out)
    assert np.array_equal(read(out), hiner[2][[1, 3]])
    ds = gdal.Open(out)
    assert ds.GetRasterBand(1).GetMetadataItem('wavelength') == '510'
    assert ds.GetRasterBand(2).GetMetadataItem('wavelength') == '530'


def test_gdal_translate_outsize(hiner, tmp):
    out = str(tmp / 'half.tif')
    run('gdal_translate', '-q', '-outsize', '50%', '50%', hiner[0], out)
    ds = gdal.Open(hiner[0])
    expect = ds.ReadAsArray(buf_xsize=16, buf_ysize=12)
    ds = None
    got = read(out)
    assert got.shape == (4, 12, 16)
    assert np.array_equal(got, expect)
    assert set(np.unique(got)) <= set(np.unique(hiner[2])), 'nearest: decoded values only'


def test_gdal_translate_to_vrt_and_cog(hiner, tmp):
    vrt = str(tmp / 'cube.vrt')
    run('gdal_translate', '-q', '-of', 'VRT', hiner[0], vrt)
    assert 'cube.hiner' in open(vrt).read()
    assert np.array_equal(read(vrt), hiner[2])
    cog = str(tmp / 'cube_cog.tif')
    run('gdal_translate', '-q', '-of', 'COG', hiner[0], cog)
    ds = gdal.Open(cog)
    assert ds.GetMetadataItem('LAYOUT', 'IMAGE_STRUCTURE') == 'COG'
    assert np.array_equal(ds.ReadAsArray(), hiner[2])
    assert ds.GetGeoTransform() == (500000, 30, 0, 5800000, 0, -30)


# ---- gdalwarp ----

def test_gdalwarp_from_hiner(hiner, tmp):
    out = str(tmp / 'warped.tif')
    run('gdalwarp', '-q', '-overwrite', hiner[0], out)
    ds = gdal.Open(out)
    assert ds.GetGeoTransform() == (500000, 30, 0, 5800000, 0, -30)
    assert np.array_equal(ds.ReadAsArray(), hiner[2])
    ds = None
    out = str(tmp / 'warped_4326.tif')
    run('gdalwarp', '-q', '-overwrite', '-t_srs', 'EPSG:4326', hiner[0], out)
    ds = gdal.Open(out)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '4326'
    arr = ds.ReadAsArray()
    valid = arr[arr > 0]
    assert valid.size > 0.5 * arr.size and set(np.unique(valid)) <= set(np.unique(hiner[2]))


def test_gdalwarp_to_hiner(hiner, tmp):
    out = str(tmp / 'warped.hiner')
    run('gdalwarp', '-q', '-overwrite', '-of', 'HINER', *co('SIZE=3000', *FAST), hiner[1], out)
    ds = gdal.Open(out)
    assert ds.GetDriver().ShortName == 'HINER' and ds.RasterCount == 4
    assert ds.GetGeoTransform() == (500000, 30, 0, 5800000, 0, -30)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '32633'
    assert abs(os.path.getsize(out) / 3000 - 1) < 0.05
    assert not os.path.exists(out + '.hiner-bands')


def test_gdalwarp_target_too_small_exits_nonzero(byte_tif, tmp):
    """The issue's command: at the default rate Create() fails and gdalwarp exits non-zero
    naming the smallest BPPPB and SIZE for the shape and type."""
    out = str(tmp / 'byte.hiner')
    rc, msg = run('gdalwarp', '-q', '-overwrite', '-of', 'HINER', '-co', 'EPOCHS=5', byte_tif,
                  out, check=False)
    assert rc != 0, msg
    assert SMALLEST.search(msg) and 'BPPPB=0.2' in msg, msg
    assert not os.path.exists(out) and not os.path.exists(out + '.hiner-bands')


def test_gdalwarp_failure_at_the_final_flush_exits_nonzero(byte_tif, tmp):
    """The smallest SIZE for the shape and type passes Create, but the CRS gdalwarp sets
    afterwards does not fit in it: the training at gdalwarp's final flush fails, gdalwarp
    exits non-zero naming the SIZE that fits; that SIZE works."""
    out = str(tmp / 'byte_flush.hiner')
    _, msg = run('gdalwarp', '-q', '-overwrite', '-of', 'HINER', *co(*FAST), byte_tif, out,
                 check=False)
    size = int(SMALLEST.search(msg).group(2))
    rc, msg = run('gdalwarp', '-q', '-overwrite', '-of', 'HINER', *co(f'SIZE={size}', *FAST),
                  byte_tif, out, check=False)
    assert rc != 0, msg
    m = SMALLEST.search(msg)
    assert m and int(m.group(2)) > size, msg
    assert not os.path.exists(out) and not os.path.exists(out + '.hiner-bands')
    need = int(m.group(2))
    run('gdalwarp', '-q', '-overwrite', '-of', 'HINER', *co(f'SIZE={need}', *FAST), byte_tif, out)
    ds = gdal.Open(out)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '26711'
    assert abs(os.path.getsize(out) / need - 1) < 0.05


# ---- overviews, locations, VRT mosaics, /vsizip/ ----

def test_gdaladdo_external_overviews(hiner, tmp):
    path = fresh_copy(hiner, tmp, 'ovr.hiner')
    run('gdaladdo', '-q', '-r', 'average', path, 2)
    assert os.path.exists(path + '.ovr')
    ds = gdal.Open(path)
    band = ds.GetRasterBand(3)
    assert band.GetOverviewCount() == 1
    ovr = band.GetOverview(0).ReadAsArray().astype(np.float64)
    full = hiner[2][2].astype(np.float64)
    blocks = full.reshape(12, 2, 16, 2).mean(axis=(1, 3))
    assert ovr.shape == (12, 16) and np.abs(ovr - blocks).max() <= 1.0
    _, out = run('gdalinfo', path)
    assert 'Overviews: 16x12' in out


def test_gdallocationinfo(hiner):
    _, out = run('gdallocationinfo', '-valonly', hiner[0], 5, 7)
    assert [int(v) for v in out.split()] == [int(v) for v in hiner[2][:, 7, 5]]
    # georeferenced coordinates: the centre of pixel (5, 7)
    _, out = run('gdallocationinfo', '-valonly', '-geoloc', hiner[0], 500000 + 30 * 5.5,
                 5800000 - 30 * 7.5)
    assert [int(v) for v in out.split()] == [int(v) for v in hiner[2][:, 7, 5]]


def test_gdalbuildvrt(hiner, tmp):
    vrt = str(tmp / 'mosaic.vrt')
    run('gdalbuildvrt', '-q', vrt, hiner[0])
    assert np.array_equal(read(vrt), hiner[2])
    sep = str(tmp / 'separate.vrt')
    run('gdalbuildvrt', '-q', '-separate', sep, hiner[0], hiner[1])  # band 1 of each
    got = read(sep)
    assert got.shape == (2, 24, 32) and np.array_equal(got[0], hiner[2][0])
    assert np.array_equal(got[1], read(hiner[1])[0])


def test_vsizip(hiner, tmp):
    zp = str(tmp / 'cube.zip')
    with zipfile.ZipFile(zp, 'w') as z:
        z.write(hiner[0], 'in/cube.hiner')
    _, out = run('gdalinfo', '-checksum', f'/vsizip/{zp}/in/cube.hiner')
    assert 'Driver: HINER/' in out
    assert [int(v) for v in re.findall(r'Checksum=(\d+)', out)] == hiner[3]
    back = str(tmp / 'from_zip.tif')
    run('gdal_translate', '-q', f'/vsizip/{zp}/in/cube.hiner', back)
    assert np.array_equal(read(back), hiner[2])


# ---- gdal_edit.py ----

def test_gdal_edit_read_only_changes_what_gdalinfo_shows(hiner, tmp):
    path = fresh_copy(hiner, tmp, 'edit.hiner')
    _, before = run('gdalinfo', path)
    assert 'Origin = (500000.000000000000000,5800000.000000000000000)' in before
    assert 'NoData' not in before
    run('gdal_edit.py', '-ro', '-a_ullr', 10, 44, 42, 20, '-a_srs', 'EPSG:4326',
        '-a_nodata', 9, '-mo', 'EDITED=yes', path)
    assert os.path.exists(path + '.aux.xml')
    _, after = run('gdalinfo', path)
    assert 'Origin = (10.000000000000000,44.000000000000000)' in after
    assert 'Pixel Size = (1.000000000000000,-1.000000000000000)' in after
    assert 'ID["EPSG",4326]' in after and 'UTM zone 33N' not in after
    assert after.count('NoData Value=9') == 4
    assert 'EDITED=yes' in after
    # the pixels are the file's: only the description changed
    _, out = run('gdalinfo', '-checksum', path)
    assert [int(v) for v in re.findall(r'Checksum=(\d+)', out)] == hiner[3]
