"""The HINER driver's options: one table gives both the XML option lists and the parsers,
with libhiner's ranges (hiner_params_validate in core/api.c). Bad creation options fail
before any work and leave no file; a bad open option that only tunes the reading
(NUM_THREADS, CACHE_MB) is a warning and the default is used, as GTiff does.

Run by ctest's driver_conformance with the other fast driver tests, or by hand:
    GDAL_DRIVER_PATH=build/gdalplugins /usr/bin/python3 -m pytest tests/driver/test_options.py
"""
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from osgeo import gdal

gdal.UseExceptions()

FAST = ['EPOCHS=2', 'QAT_EPOCHS=0', 'NUM_THREADS=2']


@pytest.fixture(autouse=True)
def need_driver():
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')


@pytest.fixture(scope='module')
def src(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('hiner_options') / 'src.tif')
    c, h, w = 16, 40, 48
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    ds = gdal.GetDriverByName('GTiff').Create(path, w, h, c, gdal.GDT_UInt16)
    for b in range(c):
        cube = 2000 + 500 * np.sin(0.2 * x + 0.1 * b) + 20 * y
        ds.GetRasterBand(b + 1).WriteArray(np.round(cube))
    ds = None
    return path


@pytest.fixture(scope='module')
def hiner_file(src):
    dst = os.path.join(os.path.dirname(src), 'ok.hiner')
    gdal.Translate(dst, src, format='HINER', creationOptions=FAST + ['BPPPB=2'])
    return dst


def with_fast(options):
    """FAST training, the given options taking the place of FAST's of the same name."""
    names = {o.split('=')[0] for o in options}
    return [o for o in FAST if o.split('=')[0] not in names] + options


def translate_errors(src, dst, options):
    """gdal.Translate with errors collected: (dataset or None, [(class, number, message)])."""
    options = with_fast(options)
    errors = []
    gdal.DontUseExceptions()
    gdal.PushErrorHandler(lambda cls, no, msg: errors.append((cls, no, msg)))
    try:
        out = gdal.Translate(dst, src, format='HINER', creationOptions=options)
    finally:
        gdal.PopErrorHandler()
        gdal.UseExceptions()
    return out, errors


def open_errors(path, open_options):
    """gdal.OpenEx with errors collected: (dataset or None, [(class, number, message)])."""
    errors = []
    gdal.DontUseExceptions()
    gdal.PushErrorHandler(lambda cls, no, msg: errors.append((cls, no, msg)))
    try:
        ds = gdal.OpenEx(path, gdal.OF_RASTER, open_options=open_options)
    finally:
        gdal.PopErrorHandler()
        gdal.UseExceptions()
    return ds, errors


def option_list(item):
    xml = gdal.GetDriverByName('HINER').GetMetadataItem(item)
    return {o.get('name'): o for o in ET.fromstring(xml).findall('Option')}


def test_lr_one_refused_with_no_file(src):
    dst = os.path.join(os.path.dirname(src), 'lr1.hiner')
    out, errors = translate_errors(src, dst, ['LR=1'])
    assert out is None
    assert any(cls == gdal.CE_Failure and no == gdal.CPLE_IllegalArg and 'LR=1' in msg and
               '(0, 1)' in msg for cls, no, msg in errors), errors
    assert not os.path.exists(dst) and not os.path.exists(dst + '.hiner-part')


def test_lr_half_writes_a_file(src):
    dst = os.path.join(os.path.dirname(src), 'lr05.hiner')
    gdal.Translate(dst, src, format='HINER', creationOptions=with_fast(['LR=0.5', 'BPPPB=2']))
    ds = gdal.Open(dst)
    assert ds.RasterCount == 16
    assert np.isfinite(ds.GetRasterBand(1).ReadAsArray().astype(np.float64)).all()


def test_xml_lr_range_matches_the_library():
    lr = option_list('DMD_CREATIONOPTIONLIST')['LR']
    assert lr.get('type') == 'float'
    assert float(lr.get('min')) == 0 and float(lr.get('max')) == 1
    # GDAL's min/max are inclusive: the exclusive bounds are in the description
    assert '(0, 1)' in lr.get('description')


def test_values_past_the_xml_bounds_are_refused(src):
    """The parser and the XML list agree: one step past each listed bound fails."""
    dst = os.path.join(os.path.dirname(src), 'bound.hiner')
    for name, opt in option_list('DMD_CREATIONOPTIONLIST').items():
        if opt.get('type') not in ('int', 'float'):
            continue
        step = 1 if opt.get('type') == 'int' else 1e-6
        bad = [float(opt.get('min')) - step]
        if opt.get('max') is not None:
            bad.append(float(opt.get('max')) + step)
        for value in bad:
            text = str(int(value)) if opt.get('type') == 'int' else repr(value)
            out, errors = translate_errors(src, dst, [f'{name}={text}'])
            assert out is None, (name, text)
            assert any(no == gdal.CPLE_IllegalArg and f'{name}={text}' in msg
                       for _, no, msg in errors), (name, text, errors)
            assert not os.path.exists(dst)


def test_open_num_threads_abc_warns_and_reads(hiner_file):
    ref_ds = gdal.Open(hiner_file)  # kept open while its band is read
    ref = ref_ds.GetRasterBand(1).Checksum()
    ds, errors = open_errors(hiner_file, ['NUM_THREADS=abc'])
    assert ds is not None
    assert any(cls == gdal.CE_Warning and no == gdal.CPLE_IllegalArg and 'NUM_THREADS=abc' in msg
               for cls, no, msg in errors), errors
    assert ds.GetRasterBand(1).Checksum() == ref


def test_open_cache_mb_negative_warns_and_reads(hiner_file):
    ds, errors = open_errors(hiner_file, ['CACHE_MB=-1'])
    assert ds is not None
    assert any(cls == gdal.CE_Warning and 'CACHE_MB=-1' in msg for cls, _, msg in errors), errors


def test_open_bad_wavelength_step_fails(hiner_file):
    ds, errors = open_errors(hiner_file, ['WAVELENGTH_STEP=-2'])
    assert ds is None
    assert any(cls == gdal.CE_Failure and 'WAVELENGTH_STEP=-2' in msg
               for cls, _, msg in errors), errors
