"""Fixtures shared by the driver's tests."""
import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()


@pytest.fixture(scope='session')
def byte_tif(tmp_path_factory):
    """GDAL's byte.tif: 20 x 20 Byte, NAD27 / UTM 11N (a smooth pattern)."""
    path = str(tmp_path_factory.mktemp('hiner_byte') / 'byte.tif')
    ds = gdal.GetDriverByName('GTiff').Create(path, 20, 20, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((440720, 60, 0, 3751320, 0, -60))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(26711)
    ds.SetSpatialRef(srs)
    y, x = np.mgrid[0:20, 0:20]
    ds.GetRasterBand(1).WriteArray((100 + 50 * np.sin(x / 3.0) + 3 * y).astype(np.uint8))
    ds = None
    return path
