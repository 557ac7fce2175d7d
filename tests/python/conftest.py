"""Shared by the python/hiner tests: a small scene written as GeoTIFF (96 x 96 x 8 UInt16,
wavelengths, UTM, a band unit that goes to the .aux.xml), the options that tile it 3 x 3,
and the file gdal_translate -of HINER writes from it with those options."""
import os
import subprocess

import numpy as np
import pytest

from osgeo import gdal, osr

gdal.UseExceptions()

# 3 x 3 tiles of 32; enough epochs that a tile trains for a while (the kill test)
OPTIONS = ['BPPPB=4', 'BLOCKXSIZE=32', 'EPOCHS=200', 'SEED=7']


def make_scene(path, C=8, H=96, W=96, seed=3):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    cube = np.stack([1000 + 400 * np.sin(x / 9.0 + b) + 300 * np.cos(y / 7.0 - b * 0.5) +
                     50 * rng.standard_normal((H, W)) for b in range(C)]).astype(np.uint16)
    ds = gdal.GetDriverByName('GTiff').Create(path, W, H, C, gdal.GDT_UInt16)
    ds.SetGeoTransform([500000, 30, 0, 4000000, 0, -30])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(C):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(cube[b])
        band.SetMetadataItem('wavelength', str(450 + 40 * b))
        band.SetMetadataItem('wavelength_units', 'Nanometers')
    ds.GetRasterBand(1).SetUnitType('W/m2/sr/um')
    ds = None
    return cube


@pytest.fixture(scope='session')
def scene(tmp_path_factory):
    d = tmp_path_factory.mktemp('scene')
    src = str(d / 'scene.tif')
    make_scene(src)
    return src


def translate(src, dst, options):
    """gdal_translate -of HINER (the plugin from GDAL_DRIVER_PATH, as ctest sets it)."""
    cmd = ['gdal_translate', '-q', '-of', 'HINER'] + sum((['-co', o] for o in options), [])
    subprocess.run(cmd + [src, dst], check=True)
    with open(dst, 'rb') as f:
        return f.read()


@pytest.fixture(scope='session')
def reference(scene, tmp_path_factory):
    """(bytes of the driver's file, text of its .aux.xml)."""
    dst = str(tmp_path_factory.mktemp('reference') / 'driver.hiner')
    data = translate(scene, dst, OPTIONS)
    with open(dst + '.aux.xml') as f:
        return data, f.read()


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def leftovers(dst):
    """What an encode into dst must not leave behind after a failure."""
    return [p for p in (dst, dst + '.hiner-part', dst + '.hiner-tiles') if os.path.exists(p)]
