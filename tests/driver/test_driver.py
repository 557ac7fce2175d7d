"""The HINER GDAL driver through the real GDAL tools and osgeo.gdal.

Run by ctest with GDAL_DRIVER_PATH pointing at the built plugin, or by hand:
    GDAL_DRIVER_PATH=build/gdalplugins /usr/bin/python3 -m pytest tests/driver -v
Real scenes come from ../shared/data (HINER_DATA overrides); tests needing them skip
cleanly when they are absent. Training is kept short here (EPOCHS below): the PSNR floors
are stated for those settings, not for the 300-epoch default.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get('HINER_DATA', os.path.join(HERE, '..', '..', '..', 'shared', 'data'))
ENMAP = os.path.join(DATA, 'enmap_potsdam_mosaic_224.tif')
AVIRIS_INT16 = os.path.join(DATA, 'abu_beach1_188.tif')


def need(path):
    if not os.path.exists(path):
        pytest.skip(f'{path} not present (shared data absent)')


def run(*args, check=True):
    """Runs a GDAL command-line tool; returns (returncode, stdout + stderr)."""
    p = subprocess.run(list(args), capture_output=True, text=True)
    out = p.stdout + p.stderr
    if check and p.returncode != 0:
        raise AssertionError(f'{" ".join(args)} failed ({p.returncode}):\n{out}')
    return p.returncode, out


def band_psnr(ref, rec, nodata=None):
    """DESIGN.md: per band, both normalised by the original band's min-max, valid pixels
    of the true extent only; mean over bands."""
    ref = ref.astype(np.float64)
    rec = rec.astype(np.float64)
    out = []
    for b in range(ref.shape[0]):
        r, d = ref[b], rec[b]
        valid = np.isfinite(r)
        if nodata is not None:
            valid &= r != nodata
        if not valid.any():
            continue
        rv, dv = r[valid], d[valid]
        rng = max(rv.max() - rv.min(), 1e-12)
        mse = np.mean(((dv - rv) / rng) ** 2)
        out.append(-10 * math.log10(max(mse, 1e-12)))
    return float(np.mean(out))


def synthetic(path, w=40, h=32, c=24, dtype=gdal.GDT_UInt16, nodata=None, wl=True):
    """A smooth synthetic scene: endmember spectra mixed by smooth abundances."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    lam = np.linspace(400, 1000, c)
    l = (lam - 400) / 600
    e0 = np.exp(-((l - 0.2) / 0.2) ** 2)
    e1 = np.exp(-((l - 0.7) / 0.15) ** 2)
    e2 = 0.2 + 0.6 * l
    a0 = 0.5 + 0.5 * np.sin(0.25 * x + 0.1 * y)
    a1 = 0.5 + 0.5 * np.cos(0.2 * y - 0.15 * x)
    a2 = 1 - 0.5 * (a0 + a1)
    cube = (a0[None] * e0[:, None, None] + a1[None] * e1[:, None, None]
            + a2[None] * e2[:, None, None]) * 0.8
    cube = np.round(1000 + 8000 * cube)
    ds = gdal.GetDriverByName('GTiff').Create(path, w, h, c, dtype)
    ds.SetGeoTransform((500000, 30, 0, 5800000, 0, -30))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.SetMetadataItem('SENSOR', 'synthetic')
    for b in range(c):
        band = ds.GetRasterBand(b + 1)
        arr = cube[b].copy()
        if nodata is not None:
            arr[:4, :6] = nodata
            band.SetNoDataValue(nodata)
        band.WriteArray(arr)
        band.SetDescription(f'band {b + 1}')
        if wl:
            band.SetMetadataItem('wavelength', f'{lam[b]:.2f}')
            band.SetMetadataItem('wavelength_units', 'Nanometers')
            band.SetMetadataItem('fwhm', '12.5')
    ds = None
    return cube, lam


@pytest.fixture(scope='module')
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp('hiner')


def test_driver_registered():
    drv = gdal.GetDriverByName('HINER')
    assert drv is not None, 'HINER driver not found: set GDAL_DRIVER_PATH to the plugin'
    md = drv.GetMetadata()
    assert md['DMD_EXTENSION'] == 'hiner'
    assert md['DCAP_CREATECOPY'] == 'YES' and md['DCAP_CREATE'] == 'YES'
    assert md['DCAP_VIRTUALIO'] == 'YES'
    for opt in ('BPPPB', 'SIZE', 'EPOCHS', 'QUANT_BITS', 'SEED', 'NUM_THREADS', 'W_L1', 'W_CAM'):
        assert f"name='{opt}'" in md['DMD_CREATIONOPTIONLIST']
    for opt in ('WAVELENGTHS', 'WAVELENGTH_STEP', 'CACHE_MB'):
        assert f"name='{opt}'" in md['DMD_OPENOPTIONLIST']


def test_gdalinfo_format_lists_options():
    _, out = run('gdalinfo', '--format', 'HINER')
    for opt in ('BPPPB', 'EPOCHS', 'QUANT_BITS', 'NUM_THREADS', 'WAVELENGTHS', 'CACHE_MB'):
        assert opt in out
    assert 'Supports: Raster' in out or 'raster' in out.lower()


def test_synthetic_round_trip_and_metadata(tmp):
    src = str(tmp / 'syn.tif')
    cube, lam = synthetic(src)
    dst = str(tmp / 'syn.hiner')
    run('gdal_translate', '-q', '-of', 'HINER', '-co', 'BPPPB=2', '-co', 'EPOCHS=80', src, dst)
    assert not os.path.exists(dst + '.aux.xml'), 'no stray .aux.xml after CreateCopy'
    _, info = run('gdalinfo', dst)
    assert 'Driver: HINER' in info and 'wavelength=' in info and 'UTM zone 33N' in info
    ds = gdal.Open(dst)
    assert ds.RasterCount == 24 and ds.RasterXSize == 40 and ds.RasterYSize == 32
    assert ds.GetGeoTransform() == (500000, 30, 0, 5800000, 0, -30)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '32633'
    assert ds.GetMetadataItem('SENSOR') == 'synthetic'
    b5 = ds.GetRasterBand(5)
    assert b5.GetDescription() == 'band 5'
    assert float(b5.GetMetadataItem('wavelength')) == pytest.approx(lam[4], abs=0.006)
    assert b5.GetMetadataItem('wavelength_units') == 'Nanometers'
    assert b5.GetMetadataItem('fwhm') == '12.5'
    assert float(b5.GetMetadataItem('CENTRAL_WAVELENGTH_UM', 'IMAGERY')) == pytest.approx(lam[4] / 1000, abs=1e-5)
    assert b5.DataType == gdal.GDT_UInt16
    rec = ds.ReadAsArray()
    psnr = band_psnr(cube, rec)
    size = os.path.getsize(dst)
    target = 2 * 40 * 32 * 24 / 8
    print(f'synthetic 40x32x24 UInt16 at 2 bpppb, 80 epochs: {size} bytes ({size / target - 1:+.1%}), PSNR {psnr:.2f} dB')
    assert abs(size / target - 1) < 0.05
    assert psnr > 30
    # a window of one band equals the same window of the whole band
    win = ds.GetRasterBand(3).ReadAsArray(5, 7, 11, 9)
    assert np.array_equal(win, rec[2, 7:16, 5:16])
    # deterministic: a second open decodes the same values
    assert np.array_equal(gdal.Open(dst).ReadAsArray(), rec)
    # translate back to GeoTIFF keeps georeferencing and wavelengths
    back = str(tmp / 'syn_back.tif')
    run('gdal_translate', '-q', '-of', 'GTiff', dst, back)
    bds = gdal.Open(back)
    assert bds.GetGeoTransform() == ds.GetGeoTransform()
    assert bds.GetRasterBand(5).GetMetadataItem('wavelength') == b5.GetMetadataItem('wavelength')
    ds = None


def test_wavelength_interpolation(tmp):
    src = str(tmp / 'smooth.tif')
    cube, lam = synthetic(src, c=20)
    dst = str(tmp / 'smooth.hiner')
    run('gdal_translate', '-q', '-of', 'HINER', '-co', 'BPPPB=3', '-co', 'EPOCHS=100', src, dst)
    stored = gdal.Open(dst).ReadAsArray().astype(np.float64)
    # the file's own wavelengths give back the stored bands
    own = ','.join(f'{v:.2f}' for v in lam)
    ds = gdal.OpenEx(dst, open_options=[f'WAVELENGTHS={own}'])
    assert ds.RasterCount == 20
    same = ds.ReadAsArray().astype(np.float64)
    assert np.max(np.abs(same - stored)) <= 1.0  # UInt16 rounding of equal floats
    # mid-points lie between their neighbours (on average over pixels and band pairs)
    mids = ','.join(f'{0.5 * (lam[i] + lam[i + 1]):.3f}' for i in range(19))
    ds = gdal.OpenEx(dst, open_options=[f'WAVELENGTHS={mids}'])
    assert ds.RasterCount == 19
    band = ds.GetRasterBand(3)
    assert float(band.GetMetadataItem('wavelength')) == pytest.approx(0.5 * (lam[2] + lam[3]), abs=1e-3)
    assert 'interpolated' in band.GetDescription()
    mid = ds.ReadAsArray().astype(np.float64)
    lo, hi = np.minimum(stored[:-1], stored[1:]), np.maximum(stored[:-1], stored[1:])
    slack = 0.02 * (stored.max() - stored.min())
    between = np.mean((mid >= lo - slack) & (mid <= hi + slack))
    print(f'interpolated mid-points between their neighbours (2 % slack): {between:.1%}')
    assert between > 0.9
    # a regular grid, and a clear error outside the covered range
    ds = gdal.OpenEx(dst, open_options=['WAVELENGTH_STEP=50'])
    assert ds.RasterCount == 13  # 400, 450, ..., 1000
    with pytest.raises(RuntimeError, match='outside the range'):
        gdal.OpenEx(dst, open_options=['WAVELENGTHS=350'])
    # a file without the encoder says so
    noenc = str(tmp / 'noenc.hiner')
    run('gdal_translate', '-q', '-of', 'HINER', '-co', 'BPPPB=3', '-co', 'EPOCHS=5', '-co', 'ENCODER=NO', src, noenc)
    assert gdal.Open(noenc).GetMetadataItem('WAVELENGTH_INTERPOLATION', 'HINER') == 'UNAVAILABLE'
    with pytest.raises(RuntimeError, match='interpolation is unavailable'):
        gdal.OpenEx(noenc, open_options=['WAVELENGTHS=500'])


def test_create_writearray(tmp):
    dst = str(tmp / 'created.hiner')
    cube, lam = synthetic(str(tmp / 'c_src.tif'), w=48, h=40, c=12, dtype=gdal.GDT_Float32)
    ds = gdal.GetDriverByName('HINER').Create(dst, 48, 40, 12, gdal.GDT_Float32,
                                              options=['BPPPB=4', 'EPOCHS=60'])
    ds.SetGeoTransform((10, 1, 0, 20, 0, -1))
    ds.SetMetadataItem('AUTHOR', 'test')
    for b in range(12):
        ds.GetRasterBand(b + 1).WriteArray(cube[b].astype(np.float32))
        ds.GetRasterBand(b + 1).SetMetadataItem('wavelength', f'{lam[b]:.2f}')
    ds = None
    assert not os.path.exists(dst + '.hiner-bands')
    ds = gdal.Open(dst)
    assert ds.GetDriver().ShortName == 'HINER' and ds.RasterCount == 12
    assert ds.GetGeoTransform() == (10, 1, 0, 20, 0, -1)
    assert ds.GetMetadataItem('AUTHOR') == 'test'
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Float32
    psnr = band_psnr(cube, ds.ReadAsArray())
    print(f'Create + WriteArray 48x40x12 Float32 at 4 bpppb, 60 epochs: PSNR {psnr:.2f} dB')
    assert psnr > 28


def test_create_keeps_band_units_scale_offset_categories(tmp):
    """What the file does not store, set through Create, comes back (from the .aux.xml),
    as CreateCopy gives it: GDAL's testSetUnitType and rasterio's units/scales/offsets."""
    dst = str(tmp / 'created_units.hiner')
    ds = gdal.GetDriverByName('HINER').Create(dst, 24, 20, 3, gdal.GDT_UInt16,
                                              options=['SIZE=4000', 'EPOCHS=2', 'QAT_EPOCHS=0'])
    for b in range(3):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray((np.arange(480).reshape(20, 24) * (b + 1)).astype(np.uint16))
        assert band.SetUnitType('mg/m3') == 0
        assert band.SetScale(0.5 * (b + 1)) == 0 and band.SetOffset(10.0 + b) == 0
    ds.GetRasterBand(2).SetCategoryNames(['water', 'land'])
    ds = None
    ds = gdal.Open(dst)
    for b in range(3):
        band = ds.GetRasterBand(b + 1)
        assert band.GetUnitType() == 'mg/m3'
        assert band.GetScale() == 0.5 * (b + 1) and band.GetOffset() == 10.0 + b
    assert ds.GetRasterBand(2).GetCategoryNames() == ['water', 'land']
    assert ds.GetRasterBand(1).GetCategoryNames() is None


def test_vsimem_and_vsizip(tmp):
    src = str(tmp / 'v.tif')
    cube, _ = synthetic(src, w=32, h=24, c=12)
    mem = '/vsimem/test.hiner'
    gdal.Translate(mem, src, format='HINER', creationOptions=['BPPPB=4', 'EPOCHS=20'])
    ref = gdal.Open(mem).ReadAsArray()
    # /vsizip/ reads through VSI too
    data = gdal.VSIFOpenL(mem, 'rb')
    gdal.VSIFSeekL(data, 0, 2)
    n = gdal.VSIFTellL(data)
    gdal.VSIFSeekL(data, 0, 0)
    raw = gdal.VSIFReadL(1, n, data)
    gdal.VSIFCloseL(data)
    import zipfile
    zp = str(tmp / 'z.zip')
    with zipfile.ZipFile(zp, 'w') as z:
        z.writestr('in.hiner', raw)
    assert np.array_equal(gdal.Open(f'/vsizip/{zp}/in.hiner').ReadAsArray(), ref)
    gdal.Unlink(mem)


def test_bad_options_fail_naming_the_option(tmp):
    src = str(tmp / 'b.tif')
    synthetic(src, w=32, h=24, c=12)
    for opt, frag in (('BPPPB=abc', 'BPPPB=abc'), ('EPOCHS=0', 'EPOCHS=0'),
                      ('QUANT_BITS=40', 'QUANT_BITS=40'), ('NUM_THREADS=lots', 'NUM_THREADS=lots'),
                      ('W_CAM=-1', 'W_CAM=-1'), ('ENTROPY=zip', 'ENTROPY=zip')):
        dst = str(tmp / 'bad.hiner')
        errors = []
        gdal.DontUseExceptions()
        gdal.PushErrorHandler(lambda cls, no, msg: errors.append((no, msg)))
        try:
            out = gdal.Translate(dst, src, format='HINER', creationOptions=[opt])
        finally:
            gdal.PopErrorHandler()
            gdal.UseExceptions()
        assert out is None
        assert any(no == 5 and frag in msg for no, msg in errors), errors  # CPLE_IllegalArg
        assert not os.path.exists(dst)
    # a rate too small for any network: a clear error, no file
    dst = str(tmp / 'tiny.hiner')
    with pytest.raises(RuntimeError, match='HINER'):
        gdal.Translate(dst, src, format='HINER', creationOptions=['SIZE=200'])
    assert not os.path.exists(dst) and not os.path.exists(dst + '.hiner-part')


def test_cancel_leaves_no_file(tmp):
    src = str(tmp / 'cancel.tif')
    synthetic(src)
    dst = str(tmp / 'cancel.hiner')
    calls = []

    def cb(frac, msg, data):
        calls.append(frac)
        return 0 if frac > 0.2 else 1

    with pytest.raises(RuntimeError):
        gdal.Translate(dst, src, format='HINER', creationOptions=['EPOCHS=50', 'BPPPB=2'], callback=cb)
    assert calls and max(calls) < 0.5
    assert not os.path.exists(dst) and not os.path.exists(dst + '.hiner-part')


def test_corrupt_files_fail_cleanly(tmp):
    src = str(tmp / 'k.tif')
    synthetic(src, w=32, h=24, c=12)
    good = str(tmp / 'k.hiner')
    gdal.Translate(good, src, format='HINER', creationOptions=['BPPPB=4', 'EPOCHS=5'])
    raw = open(good, 'rb').read()
    rng = np.random.default_rng(3)
    bad = str(tmp / 'bad.hiner')
    for trial in range(60):
        b = bytearray(raw)
        if trial % 2:
            b = b[:int(rng.integers(8, len(b)))]
        else:
            i = int(rng.integers(16, len(b)))
            b[i] ^= 1 << int(rng.integers(0, 8))
        open(bad, 'wb').write(bytes(b))
        with pytest.raises(RuntimeError):
            ds = gdal.Open(bad)
            ds.ReadAsArray()
    # the command-line tool says so and exits nonzero, no crash
    rc, out = run('gdalinfo', bad, check=False)
    assert rc != 0 and 'HINER' in out


def _real_scene(tmp, path, bpppb, epochs, floor):
    need(path)
    name = os.path.basename(path)
    dst = str(tmp / (name + '.hiner'))
    back = str(tmp / (name + '.back.tif'))
    run('gdal_translate', '-q', '-of', 'HINER', '-co', f'BPPPB={bpppb}', '-co', f'EPOCHS={epochs}', path, dst)
    run('gdal_translate', '-q', '-of', 'GTiff', dst, back)
    s, d = gdal.Open(path), gdal.Open(back)
    assert d.GetGeoTransform() == s.GetGeoTransform()
    assert d.GetSpatialRef() is None and s.GetSpatialRef() is None or d.GetSpatialRef().IsSame(s.GetSpatialRef())
    assert d.RasterCount == s.RasterCount and d.GetRasterBand(1).DataType == s.GetRasterBand(1).DataType
    nod = s.GetRasterBand(1).GetNoDataValue()
    assert d.GetRasterBand(1).GetNoDataValue() == nod
    for b in range(1, s.RasterCount + 1, 37):
        sb, db = s.GetRasterBand(b), d.GetRasterBand(b)
        assert db.GetDescription() == sb.GetDescription()
        if sb.GetMetadataItem('wavelength') is not None:
            assert float(db.GetMetadataItem('wavelength')) == float(sb.GetMetadataItem('wavelength'))
            assert db.GetMetadataItem('wavelength_units') == sb.GetMetadataItem('wavelength_units')
            assert db.GetMetadataItem('fwhm') == sb.GetMetadataItem('fwhm')
    ref, rec = s.ReadAsArray(), d.ReadAsArray()
    if nod is not None:
        assert np.array_equal(rec == nod, ref == nod), 'NoData pixels come back as NoData'
    psnr = band_psnr(ref, rec, nod)
    size = os.path.getsize(dst)
    target = bpppb * s.RasterXSize * s.RasterYSize * s.RasterCount / 8
    print(f'{name}: {size} bytes ({size / target - 1:+.1%} of {bpppb} bpppb), {epochs} epochs: PSNR {psnr:.2f} dB (floor {floor})')
    assert abs(size / target - 1) < 0.05
    assert psnr > floor


def test_enmap_round_trip(tmp):
    # EnMAP L2A, NoData holes, 224 bands with wavelengths, UTM; short training
    _real_scene(tmp, ENMAP, 0.2, 12, 30)


def test_aviris_int16_round_trip(tmp):
    _real_scene(tmp, AVIRIS_INT16, 0.2, 12, 30)
