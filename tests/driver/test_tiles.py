"""Tiled .hiner files through GDAL (docs/format.md, "Tiles"): BLOCKXSIZE/BLOCKYSIZE make a
grid of tiles that GDAL sees as blocks; windows that cross tile edges read the same values
as the whole band; over /vsicurl/ from a server on 127.0.0.1 that honours Range requests,
a window fetches the head of the file and the tiles it touches, not the file.
"""
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
W, H, C, TILE = 100, 76, 10, 32


def need_driver():
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')


def make_source(path, W=W, H=H):
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    ds = gdal.GetDriverByName('GTiff').Create(path, W, H, C, gdal.GDT_UInt16)
    ds.SetGeoTransform([300000, 30, 0, 5800000, 0, -30])
    for b in range(C):
        band = ds.GetRasterBand(b + 1)
        v = 2000 + 900 * np.sin(0.11 * x + 0.05 * b) * np.cos(0.07 * y) + 15 * b
        v[50:70, 80:95] = 0  # NoData in one tile only
        band.WriteArray(np.round(v).astype(np.uint16))
        band.SetNoDataValue(0)
        band.SetMetadataItem('wavelength', str(450 + 40 * b))
        band.SetMetadataItem('wavelength_units', 'Nanometers')
    ds = None


@pytest.fixture(scope='module')
def tiled(tmp_path_factory):
    need_driver()
    d = tmp_path_factory.mktemp('hiner_tiles')
    src = str(d / 'src.tif')
    make_source(src)
    out = str(d / 'tiled.hiner')
    gdal.Translate(out, src, format='HINER',
                   creationOptions=['BLOCKXSIZE=%d' % TILE, 'BLOCKYSIZE=%d' % TILE, 'EPOCHS=60',
                                    'BPPPB=3', 'NUM_THREADS=2'])
    return src, out


def tile_index(path):
    """(head_end, [(offset, length)]) from the file's TIDX (docs/format.md)."""
    with open(path, 'rb') as f:
        data = f.read()
    pos, head_end, tidx = 16, None, None
    while pos < len(data):
        typ = data[pos:pos + 4]
        n = struct.unpack('<I', data[pos + 8:pos + 12])[0]
        if typ == b'TIDX':
            nx, ny = struct.unpack('<II', data[pos + 12:pos + 20])
            tidx = [struct.unpack('<QI', data[pos + 20 + 12 * i:pos + 32 + 12 * i])
                    for i in range(nx * ny)]
        if typ in (b'ARCH', b'END!') and head_end is None:
            head_end = pos
        pos += 16 + n
    return head_end, tidx


def test_grid_blocks_and_rate(tiled):
    src, out = tiled
    ds = gdal.Open(out)
    assert ds.GetRasterBand(1).GetBlockSize() == [TILE, TILE]
    rate = os.path.getsize(out) * 8 / (W * H * C)
    assert abs(rate - 3) <= 0.05 * 3, rate
    head_end, tidx = tile_index(out)
    assert len(tidx) == 4 * 3 and all(n > 0 for _, n in tidx)
    with open(out, 'rb') as f:
        assert struct.unpack('<HH', f.read(12)[8:12]) == (1, 2)  # version 1.2
    ref = gdal.Open(src)
    assert ds.GetGeoTransform() == ref.GetGeoTransform()
    assert ds.GetRasterBand(3).GetMetadataItem('wavelength') == '530'


@pytest.mark.parametrize('win', [(20, 20, 30, 30), (0, 0, W, H), (90, 60, 10, 16),
                                 (31, 31, 2, 2), (64, 0, 36, 76)])
def test_windows_equal_the_whole_band(tiled, win):
    _, out = tiled
    ds = gdal.Open(out)
    x, y, w, h = win
    for b in (1, 6):
        band = ds.GetRasterBand(b)
        whole = band.ReadAsArray()
        part = band.ReadAsArray(x, y, w, h)
        np.testing.assert_array_equal(part, whole[y:y + h, x:x + w])


def test_quality_nodata_and_srcwin(tiled, tmp_path):
    src, out = tiled
    rds, dds = gdal.Open(src), gdal.Open(out)  # GDAL 3.6's bindings crash on chains
    ref = rds.ReadAsArray().astype(np.float64)
    dec = dds.ReadAsArray().astype(np.float64)
    valid = ref != 0
    assert np.array_equal(dec == 0, ~valid)  # NoData where and only where the source has it
    rng = ref.max((1, 2)) - np.where(valid, ref, np.inf).min((1, 2))
    mse = (((dec - ref) / rng[:, None, None]) ** 2 * valid).sum((1, 2)) / valid.sum((1, 2))
    psnr = float(np.mean(-10 * np.log10(mse)))
    assert psnr > 20, psnr
    part = str(tmp_path / 'part.tif')
    gdal.Translate(part, out, srcWin=[25, 10, 40, 40], bandList=[2, 7])
    pds = gdal.Open(part)
    np.testing.assert_array_equal(pds.ReadAsArray(), dec[[1, 6], 10:50, 25:65])


def test_interpolated_wavelength_per_tile(tiled):
    _, out = tiled
    ds = gdal.OpenEx(out, open_options=['WAVELENGTHS=510,530'])
    assert ds.GetRasterBand(1).GetBlockSize() == [TILE, TILE]
    sds = gdal.Open(out)
    stored = sds.GetRasterBand(3).ReadAsArray()
    np.testing.assert_array_equal(ds.GetRasterBand(2).ReadAsArray(), stored)
    between = ds.GetRasterBand(1).ReadAsArray(30, 30, 10, 10).astype(float)
    lo = sds.GetRasterBand(2).ReadAsArray(30, 30, 10, 10).astype(float)
    assert np.abs(between - 0.5 * (lo + stored[30:40, 30:40])).mean() < \
        np.abs(stored[30:40, 30:40] - lo).mean() + 30


def test_one_tile_when_the_block_covers_the_scene(tmp_path):
    need_driver()
    src = str(tmp_path / 'src.tif')
    make_source(src)
    out = str(tmp_path / 'one.hiner')
    gdal.Translate(out, src, format='HINER',
                   creationOptions=['BLOCKXSIZE=512', 'EPOCHS=2', 'BPPPB=3'])
    with open(out, 'rb') as f:
        assert struct.unpack('<HH', f.read(12)[8:12]) == (1, 1)  # version 1.1: one tile
    assert tile_index(out)[1] is None


@pytest.fixture(scope='module')
def big(tmp_path_factory):
    """A 3 x 3 grid of 96-pixel tiles (about 30 KB each), so tiles outweigh the head and
    /vsicurl/'s 16 KB reads."""
    need_driver()
    d = tmp_path_factory.mktemp('hiner_tiles_big')
    src = str(d / 'src.tif')
    make_source(src, 288, 288)
    out = str(d / 'big.hiner')
    gdal.Translate(out, src, format='HINER',
                   creationOptions=['BLOCKXSIZE=96', 'EPOCHS=4', 'BPPPB=3', 'NUM_THREADS=2'])
    return out


@pytest.fixture()
def server(big):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'range_server.py'),
                             os.path.dirname(big)], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield proc, port
    proc.kill()
    proc.wait()


def fetched(proc):
    """Bytes served so far (the server prints a line per request)."""
    proc.kill()
    out, _ = proc.communicate()
    return sum(int(line.split()[-1]) for line in out.splitlines() if line.startswith('GET'))


def test_vsicurl_reads_the_head_and_the_tiles_a_window_touches(big, server):
    out = big
    proc, port = server
    url = '/vsicurl/http://127.0.0.1:%d/%s' % (port, os.path.basename(out))
    head_end, tidx = tile_index(out)
    lds = gdal.Open(out)
    local = lds.GetRasterBand(4).ReadAsArray(40, 40, 20, 20)
    conf = {'GDAL_DISABLE_READDIR_ON_OPEN': 'EMPTY_DIR'}
    for k, v in conf.items():
        gdal.SetConfigOption(k, v)
    try:
        ds = gdal.Open(url)
        remote = ds.GetRasterBand(4).ReadAsArray(40, 40, 20, 20)
        ds = None
    finally:
        for k in conf:
            gdal.SetConfigOption(k, None)
        gdal.VSICurlClearCache()
    np.testing.assert_array_equal(remote, local)
    tile = tidx[0][1]  # the window lies in tile (0, 0)
    got = fetched(proc)
    size = os.path.getsize(out)
    # the head, the last 16 bytes and one tile, at /vsicurl/'s 16 KB granularity, and far
    # from the whole file
    assert got <= 2 * (head_end + tile) + 2 * 16384, (got, head_end, tile, size)
    assert got < size / 2, (got, size)


def test_vsicurl_window_across_neighbouring_tiles(big, server):
    """A window across four tiles, two pairs that follow each other in the file: fetched,
    the head and those tiles, not the tiles after them (/vsicurl/ doubles a download that
    continues its handle's last one; the driver reads each tile through a handle of its
    own)."""
    proc, port = server
    url = '/vsicurl/http://127.0.0.1:%d/%s' % (port, os.path.basename(big))
    head_end, tidx = tile_index(big)
    lds = gdal.Open(big)
    local = lds.GetRasterBand(2).ReadAsArray(80, 80, 32, 32)
    gdal.SetConfigOption('GDAL_DISABLE_READDIR_ON_OPEN', 'EMPTY_DIR')
    try:
        ds = gdal.Open(url)
        remote = ds.GetRasterBand(2).ReadAsArray(80, 80, 32, 32)
        ds = None
    finally:
        gdal.SetConfigOption('GDAL_DISABLE_READDIR_ON_OPEN', None)
        gdal.VSICurlClearCache()
    np.testing.assert_array_equal(remote, local)
    touched = sum(tidx[t][1] for t in (0, 1, 3, 4))  # tiles (0,0) (1,0) (0,1) (1,1)
    got = fetched(proc)
    # the head and the tail's 16 KB block, and per tile at most one 16 KB block of slack
    assert got <= head_end + touched + 6 * 16384, (got, head_end, touched)
