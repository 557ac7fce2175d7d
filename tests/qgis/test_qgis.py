"""QGIS reads .hiner layers: qgis-sample/render.py run headless (QT_QPA_PLATFORM=offscreen)
on a small synthetic .hiner made here, and on the shared EnMAP mosaic through the sample
project qgis-sample/hiner.qgs when the data is present.

Each PNG is checked against GDAL's own decoding of the same layer: it covers the layer's
extent exactly (world file), it is not blank (opaque, many colours), transparent exactly
where the file has NoData, and its channels follow the decoded bands (correlation), so a
render of the wrong band, of nothing, or of a shifted extent fails.

Run by ctest (registered when Debian's python3-qgis is installed) with GDAL_DRIVER_PATH at
the built plugin, or by hand:
    GDAL_DRIVER_PATH=build/gdalplugins /usr/bin/python3 -m pytest tests/qgis -v
"""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(ROOT, 'qgis-sample')
RENDER = os.path.join(SAMPLE, 'render.py')
PROJECT = os.path.join(SAMPLE, 'hiner.qgs')
DATA = os.environ.get('HINER_DATA', os.path.join(ROOT, '..', 'shared', 'data'))
ENMAP = os.path.join(DATA, 'enmap_potsdam_mosaic_224.tif')
PYTHON = '/usr/bin/python3'  # Debian's, with python3-qgis
NODATA = -9999.0


def qgis_env():
    env = dict(os.environ)
    env['QT_QPA_PLATFORM'] = 'offscreen'
    env.setdefault('GDAL_NUM_THREADS', '2')
    return env


def have_qgis():
    try:
        return subprocess.run([PYTHON, '-c', 'import qgis.core'], env=qgis_env(),
                              capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = [
    pytest.mark.skipif(not have_qgis(), reason='QGIS (python3-qgis) is not installed'),
    pytest.mark.skipif(gdal.GetDriverByName('HINER') is None,
                       reason='the HINER driver is not loaded (set GDAL_DRIVER_PATH)'),
]


def run(*args, cwd=None, timeout=600):
    args = [str(a) for a in args]
    p = subprocess.run(args, cwd=cwd, env=qgis_env(), capture_output=True, text=True,
                       timeout=timeout)
    out = p.stdout + p.stderr
    assert p.returncode == 0, f'{" ".join(args)} failed ({p.returncode}):\n{out}'
    return out


def render(tmp, *args):
    """render.py with a JSON summary; returns (stdout, summaries)."""
    summary = os.path.join(tmp, 'summary.json')
    out = run(PYTHON, RENDER, *args, '--json', summary, cwd=tmp)
    with open(summary) as f:
        return out, json.load(f)


def gdal_extent(path):
    ds = gdal.Open(path)
    gt = ds.GetGeoTransform()
    return (gt[0], gt[3] + gt[5] * ds.RasterYSize, gt[0] + gt[1] * ds.RasterXSize, gt[3])


def decode(path, open_options=(), bands=None):
    """Bands (1-based; default all) as float64 (bands, rows, cols) with NaN at NoData,
    through GDAL."""
    ds = gdal.OpenEx(path, gdal.OF_RASTER, open_options=list(open_options))
    out = []
    for b in bands or range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(b)
        a = band.ReadAsArray().astype(np.float64)
        nd = band.GetNoDataValue()
        if nd is not None:
            a[a == nd] = np.nan
        out.append(a)
    return np.stack(out)


def check_png(summary, extent, decoded):
    """The PNG shows the layer: its extent, not blank, NoData transparent, channels that
    follow `decoded` (one band for grey, three for RGB) resampled to the PNG's pixels."""
    png = summary['png']
    ds = gdal.Open(png)
    img = ds.ReadAsArray().astype(np.float64)  # (4, rows, cols): RGBA
    assert img.shape[0] == 4, f'{png}: expected RGBA, got {img.shape[0]} bands'
    rows, cols = img.shape[1:]
    assert (cols, rows) == (summary['width'], summary['height'])

    # extent: the world file, independently of what QGIS reports
    with open(os.path.splitext(png)[0] + '.pgw') as f:
        a, d, b, e, c, f_ = (float(v) for v in f.read().split())
    assert d == 0 and b == 0
    shown = (c - a / 2, f_ - e / 2 + e * rows, c - a / 2 + a * cols, f_ - e / 2)
    tol = max(abs(a), abs(e)) / 2
    assert np.allclose(shown, extent, atol=tol), \
        f'{png} shows {shown}, the layer covers {extent}'
    assert np.allclose(summary['layer_extent'], extent, atol=1e-6)

    # the decoded bands at the PNG's pixel centres (nearest neighbour, as QGIS draws)
    nb, h, w = decoded.shape
    yi = np.minimum(((np.arange(rows) + 0.5) * h / rows).astype(int), h - 1)
    xi = np.minimum(((np.arange(cols) + 0.5) * w / cols).astype(int), w - 1)
    ref = decoded[:, yi][:, :, xi]
    valid = np.all(np.isfinite(ref), axis=0)

    # not blank, and transparent exactly where the file has no data
    opaque = img[3] > 0
    agree = np.mean(opaque == valid)
    frac = opaque.mean()
    rgb = img[:3, opaque]
    colours = len(np.unique(rgb.T.astype(np.uint32) @ np.array([1, 256, 65536])))
    print(f'{os.path.basename(png)}: {cols} x {rows}, {100 * frac:.1f} % opaque '
          f'(valid pixels {100 * valid.mean():.1f} %, agreement {100 * agree:.2f} %), '
          f'{colours} colours')
    assert frac > 0.3, f'{png} is blank: {100 * frac:.1f} % of its pixels drawn'
    assert agree > 0.97, f'{png}: transparency matches the NoData mask on {agree:.3f} only'
    rows_drawn = np.flatnonzero(opaque.any(axis=1))
    cols_drawn = np.flatnonzero(opaque.any(axis=0))
    assert rows_drawn[0] <= 1 and rows_drawn[-1] >= rows - 2, 'the layer does not fill the height'
    assert cols_drawn[0] <= 1 and cols_drawn[-1] >= cols - 2, 'the layer does not fill the width'
    assert colours >= 20, f'{png}: only {colours} distinct colours'
    assert rgb.std(axis=1).min() > 5, f'{png}: flat image (channel std {rgb.std(axis=1)})'

    # the channels follow the data: grey = band 1 everywhere; RGB = bands 1, 2, 3
    m = opaque & valid
    channels = [0, 1, 2] if nb == 3 else [0]
    if nb == 1:
        assert np.array_equal(img[0, m], img[1, m]) and np.array_equal(img[0, m], img[2, m]), \
            'a grey render has unequal R, G, B'
    for ch in channels:
        band = ref[ch if nb == 3 else 0, m]
        r = np.corrcoef(img[ch, m], band)[0, 1]
        # QGIS's min-max stretch, as the renderer holds it: 0..255 between min and max
        lo, hi = summary['stretch'][ch if nb == 3 else 0]
        want = np.clip((band - lo) / (hi - lo) * 255.0, 0, 255)
        err = np.abs(img[ch, m] - want)
        close = np.mean(err <= 2)
        print(f'  channel {"RGB"[ch]}: correlation with the decoded band {r:.4f}, '
              f'{100 * close:.1f} % within 2 levels of the stretched band')
        assert r > 0.9, f'{png}: channel {"RGB"[ch]} does not follow the band (r = {r:.3f})'
        assert close > 0.98, f'{png}: channel {"RGB"[ch]} is not the stretched band ' \
            f'({100 * close:.1f} % within 2 levels, median error {np.median(err):.1f})'
    return frac


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    """A 64 x 48 x 32 Float32 cube, 400-1000 nm, UTM, with a NoData hole; to .hiner."""
    d = tmp_path_factory.mktemp('qgis_synth')
    w, h, c = 64, 48, 32
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    lam = np.linspace(400, 1000, c)
    l = (lam - 400) / 600
    ends = [np.exp(-((l - 0.2) / 0.2) ** 2), np.exp(-((l - 0.7) / 0.15) ** 2), 0.2 + 0.6 * l]
    ab = [0.5 + 0.5 * np.sin(0.2 * x + 0.1 * y), 0.5 + 0.5 * np.cos(0.17 * y - 0.12 * x)]
    ab.append(1 - 0.5 * (ab[0] + ab[1]))
    cube = sum(a[None] * e[:, None, None] for a, e in zip(ab, ends)) * 3000.0
    cube[:, 30:44, 40:58] = NODATA  # a hole, as in mosaics
    tif = str(d / 'synth.tif')
    ds = gdal.GetDriverByName('GTiff').Create(tif, w, h, c, gdal.GDT_Float32)
    ds.SetGeoTransform((500000.0, 20.0, 0.0, 5800000.0, 0.0, -20.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(c):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(cube[b])
        band.SetNoDataValue(NODATA)
        band.SetDescription(f'band {b + 1} ({lam[b]:.2f} Nanometers)')
        band.SetMetadataItem('wavelength', f'{lam[b]:.2f}')
        band.SetMetadataItem('wavelength_units', 'Nanometers')
    ds = None
    hiner = str(d / 'synth.hiner')
    run('gdal_translate', '-q', '-of', 'HINER', '-co', 'EPOCHS=40', '-co', 'BPPPB=1',
        '-co', 'NUM_THREADS=2', tif, hiner)
    return {'dir': str(d), 'tif': tif, 'hiner': hiner, 'wavelengths': lam}


def test_true_colour_by_wavelength(synthetic):
    """Default render: bands listed with wavelengths, then 640/550/470 nm decoded through
    the WAVELENGTHS open option that QGIS passes in the layer URI."""
    out, [s] = render(synthetic['dir'], synthetic['hiner'], '-o', 'rgb.png', '--width', 256)
    print(out)
    for b, wl in enumerate(synthetic['wavelengths'], 1):
        assert f'band {b:3d}  {float(f"{wl:.2f}"):g} Nanometers' in out, f'band {b} not listed'
    assert s['source'].endswith('|option:WAVELENGTHS=640,550,470'), s['source']
    assert s['renderer'] == 'multibandcolor' and s['renderer_bands'] == [1, 2, 3]
    assert [b['wavelength'] for b in s['bands']] == [640, 550, 470]
    assert s['crs'] == 'EPSG:32633' and not s['errors']
    check_png(s, gdal_extent(synthetic['tif']),
              decode(synthetic['hiner'], ['WAVELENGTHS=640,550,470']))


def test_interpolated_band(synthetic):
    """One grey band at 700.5 nm, a wavelength the source does not have."""
    assert 700.5 not in np.round(synthetic['wavelengths'], 2)
    out, [s] = render(synthetic['dir'], synthetic['hiner'], '--wavelength', '700.5',
                      '-o', 'nm700.png', '--width', 200)
    assert s['source'].endswith('|option:WAVELENGTHS=700.5'), s['source']
    assert s['renderer'] == 'singlebandgray' and s['band_count'] == 1
    assert s['bands'][0]['wavelength'] == 700.5
    check_png(s, gdal_extent(synthetic['tif']),
              decode(synthetic['hiner'], ['WAVELENGTHS=700.5']))


def test_stored_band(synthetic):
    """A stored band through the plain path (no open option)."""
    out, [s] = render(synthetic['dir'], synthetic['hiner'], '--band', '20', '-o', 'b20.png',
                      '--width', 128)
    assert '|option:' not in s['source'] and s['band_count'] == 32
    assert s['renderer_bands'] == [20]
    check_png(s, gdal_extent(synthetic['tif']), decode(synthetic['hiner'], bands=[20]))


def test_file_left_as_it_was(synthetic):
    """After the renders, a plain open still sees the stored bands' own descriptions and
    wavelengths (QGIS's statistics of interpolated layers must not land in the file's
    .aux.xml as those of the stored bands)."""
    ds = gdal.Open(synthetic['hiner'])
    for b in (1, 2, 3):
        band = ds.GetRasterBand(b)
        assert float(band.GetMetadataItem('wavelength')) == \
            pytest.approx(synthetic['wavelengths'][b - 1], abs=0.01)
        assert 'interpolated' not in band.GetDescription()


def test_enmap_project(tmp_path):
    """The sample project over the EnMAP mosaic: every layer valid and drawn over the
    mosaic's extent, NoData transparent, channels following GDAL's decoding."""
    if not os.path.exists(ENMAP):
        pytest.skip(f'{ENMAP} not present (shared data absent)')
    hiner = str(tmp_path / 'enmap_potsdam.hiner')
    # a short training: this checks QGIS, not the quality of the network
    run('gdal_translate', '-q', '-of', 'HINER', '-co', 'EPOCHS=1', '-co', 'NUM_THREADS=2',
        ENMAP, hiner)
    shutil.copy(PROJECT, tmp_path / 'hiner.qgs')
    out, summaries = render(str(tmp_path), '--project', 'hiner.qgs', '-o', 'enmap_',
                            '--width', 320)  # 2 PNG pixels per pixel
    print(out)
    extent = gdal_extent(ENMAP)
    src = gdal.Open(ENMAP)
    valid = (src.GetRasterBand(1).ReadAsArray() != NODATA).mean()  # about 60 %: a mosaic
    src = None
    sources = {s['source'].replace(str(tmp_path), '.') for s in summaries}
    assert sources == {'./enmap_potsdam.hiner', './enmap_potsdam.hiner|option:WAVELENGTHS=700.5',
                       './enmap_potsdam.hiner|option:WAVELENGTHS=640,550,470'}, sources
    for s in summaries:
        assert not s['errors'], s['errors']
        opts = s['source'].split('|option:')[1:]
        dec = decode(hiner, opts, bands=s['renderer_bands'])
        if not opts:  # the stored bands nearest 640, 550, 470 nm
            wl = [s['bands'][b - 1]['wavelength'] for b in s['renderer_bands']]
            assert all(abs(a - b) < 10 for a, b in zip(wl, (640, 550, 470))), wl
        frac = check_png(s, extent, dec)
        assert abs(frac - valid) < 0.03, f'{100 * valid:.1f} % of the mosaic is valid, ' \
            f'{100 * frac:.1f} % drawn'
