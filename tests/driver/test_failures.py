"""Failures and hard inputs through the HINER driver (docs/robustness.md).

Writing: a full disk (gdal_translate and Create() in a child with RLIMIT_FSIZE, SIGXFSZ
ignored), a directory that does not exist, cubes that are hard to encode (an all-NaN band,
a constant band, zero bands, 1 x 1, more than 1000 bands, NoData everywhere, a type the
format has not): a clear error or a file that reads back right, never a partial file, the
source untouched. Reading: several threads opening the same file get identical arrays;
hostile files (the fuzzers' regressions, hand-made ones) fail cleanly, in-process and
through gdalinfo.

Run by ctest's driver_pytest with the other driver tests, or by hand:
    GDAL_DRIVER_PATH=build/gdalplugins /usr/bin/python3 -m pytest tests/driver/test_failures.py
"""
import concurrent.futures
import hashlib
import os
import resource
import signal
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from osgeo import gdal

gdal.UseExceptions()

HERE = os.path.dirname(os.path.abspath(__file__))
REGRESSIONS = os.path.join(HERE, '..', 'fuzz', 'regressions')
FAST = ['EPOCHS=3', 'QAT_EPOCHS=0', 'NUM_THREADS=2']


@pytest.fixture(autouse=True)
def need_driver():
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')


@pytest.fixture(scope='module')
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp('hiner_failures')


def md5(path):
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def scene(c=12, h=20, w=24):
    """A smooth synthetic cube (C, H, W) in [1000, 9000]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    lam = np.linspace(0, 1, c)
    a0 = 0.5 + 0.5 * np.sin(0.25 * x + 0.1 * y)
    a1 = 0.5 + 0.5 * np.cos(0.2 * y - 0.15 * x)
    cube = a0[None] * np.exp(-((lam - 0.2) / 0.2) ** 2)[:, None, None] \
        + a1[None] * np.exp(-((lam - 0.7) / 0.15) ** 2)[:, None, None]
    return np.round(1000 + 8000 * cube / cube.max())


def write_tif(path, cube, dtype=gdal.GDT_Float32, nodata=None):
    c, h, w = cube.shape
    ds = gdal.GetDriverByName('GTiff').Create(path, w, h, c, dtype)
    for b in range(c):
        band = ds.GetRasterBand(b + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(cube[b])
    ds = None
    return path


def leftovers(dst):
    return [p for p in (dst, dst + '.hiner-part', dst + '.hiner-bands') if os.path.exists(p)]


def limit_file_size(nbytes):
    """preexec_fn of a child whose files cannot grow past nbytes (a full disk)."""
    def setup():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return setup


# ---- a full disk ----

def test_disk_full_gdal_translate(tmp):
    src = write_tif(str(tmp / 'full_src.tif'), scene(), gdal.GDT_UInt16)
    before = md5(src)
    dst = str(tmp / 'full.hiner')
    p = subprocess.run(['gdal_translate', '-of', 'HINER', '-co', 'BPPPB=4'] +
                       [a for o in FAST for a in ('-co', o)] + [src, dst],
                       capture_output=True, text=True, preexec_fn=limit_file_size(1500))
    out = p.stdout + p.stderr
    print(out)
    assert p.returncode > 0, f'gdal_translate should fail cleanly, got {p.returncode}'
    assert 'HINER' in out
    assert leftovers(dst) == [], 'a partial file was left behind'
    assert md5(src) == before
    # the same without the limit writes a file that opens
    subprocess.run(['gdal_translate', '-q', '-of', 'HINER', '-co', 'BPPPB=4'] +
                   [a for o in FAST for a in ('-co', o)] + [src, dst], check=True)
    assert gdal.Open(dst).RasterCount == 12


CREATE_SCRIPT = r'''
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
dst = sys.argv[1]
ds = gdal.GetDriverByName('HINER').Create(dst, 48, 40, 16, gdal.GDT_Float32,
                                          options=['BPPPB=4', 'EPOCHS=3', 'QAT_EPOCHS=0'])
for b in range(16):
    ds.GetRasterBand(b + 1).WriteArray((np.arange(48 * 40).reshape(40, 48) + b).astype(np.float32))
failed = False
try:
    ds.FlushCache()  # the blocks to the temporary file: an error here is catchable
except RuntimeError as e:
    print('flush failed:', e)
    failed = True
ds = None  # trains and writes; an error is printed (Python ignores errors in destructors)
sys.exit(3 if failed else 0)
'''


def test_disk_full_create_writearray(tmp):
    """Create() buffers the bands in a temporary file (122 KB here) before training on
    close: when that write fails, no file at all, rather than one trained on zeros."""
    dst = str(tmp / 'created_full.hiner')
    p = subprocess.run([sys.executable, '-c', CREATE_SCRIPT, dst], capture_output=True,
                       text=True, preexec_fn=limit_file_size(60000))
    out = p.stdout + p.stderr
    print(out)
    assert p.returncode == 3 and 'could not be buffered' in out, out
    assert leftovers(dst) == []
    # with room, the same script writes a file holding the bands
    p = subprocess.run([sys.executable, '-c', CREATE_SCRIPT, dst], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    arr = gdal.Open(dst).ReadAsArray()
    assert abs(arr[10].mean() - (np.arange(48 * 40) + 10).mean()) < 100


def test_missing_directory(tmp):
    src = write_tif(str(tmp / 'nodir_src.tif'), scene(c=6))
    dst = str(tmp / 'no' / 'such' / 'dir' / 'x.hiner')
    with pytest.raises(RuntimeError, match='HINER'):
        gdal.Translate(dst, src, format='HINER', creationOptions=['BPPPB=8'] + FAST)
    assert not os.path.exists(os.path.dirname(dst))


# ---- hard cubes ----

def translate(tmp, name, cube, dtype=gdal.GDT_Float32, nodata=None, options=('BPPPB=8',)):
    src = write_tif(str(tmp / f'{name}.tif'), cube, dtype, nodata)
    before = md5(src)
    dst = str(tmp / f'{name}.hiner')
    try:
        gdal.Translate(dst, src, format='HINER', creationOptions=list(options) + FAST)
        return dst, None
    except RuntimeError as e:
        assert leftovers(dst) == [], f'{name}: a partial file after "{e}"'
        return None, str(e)
    finally:
        assert md5(src) == before, f'{name}: the source changed'


def test_all_nan_band_and_constant_band(tmp):
    cube = scene(c=8).astype(np.float32)
    cube[2] = np.nan
    cube[5] = 1234.5
    dst, err = translate(tmp, 'nan_const', cube)
    assert err is None, err
    arr = gdal.Open(dst).ReadAsArray()
    assert np.isnan(arr[2]).all(), 'the all-NaN band must stay NaN'
    assert (arr[5] == np.float32(1234.5)).all(), 'a constant band decodes exactly'
    assert np.isfinite(arr[[0, 1, 3, 4, 6, 7]]).all()


def test_nodata_everywhere(tmp):
    cube = np.full((6, 20, 24), -9999.0)
    dst, err = translate(tmp, 'all_nodata', cube, gdal.GDT_Int16, nodata=-9999)
    assert dst is None and 'NoData' in err, err


def test_zero_bands(tmp):
    src = gdal.GetDriverByName('MEM').Create('', 16, 12, 0)
    dst = str(tmp / 'zero_bands.hiner')
    with pytest.raises(RuntimeError):
        gdal.GetDriverByName('HINER').CreateCopy(dst, src, options=['BPPPB=8'] + FAST)
    assert leftovers(dst) == []
    with pytest.raises(RuntimeError):
        gdal.GetDriverByName('HINER').Create(dst, 16, 12, 0, gdal.GDT_Byte)
    assert leftovers(dst) == []


def test_one_by_one(tmp):
    cube = np.array([10.0, 200.0, 30.0]).reshape(3, 1, 1)
    dst, err = translate(tmp, 'one', cube, gdal.GDT_Byte, options=('SIZE=3000',))
    assert err is None, err
    arr = gdal.Open(dst).ReadAsArray()
    # one pixel per band: min = max, the value is exact
    assert arr.reshape(3).tolist() == [10, 200, 30]


def test_more_than_1000_bands(tmp):
    rng = np.random.default_rng(5)
    cube = rng.integers(0, 250, size=(1100, 5, 6)).astype(np.float64)
    dst, err = translate(tmp, 'many', cube, gdal.GDT_Byte, options=('SIZE=40000', 'EPOCHS=1'))
    assert err is None, err
    ds = gdal.Open(dst)
    assert ds.RasterCount == 1100
    arr = ds.ReadAsArray()
    assert arr.shape == (1100, 5, 6) and arr.dtype == np.uint8


def test_unsupported_type(tmp):
    cube = scene(c=4)
    dst, err = translate(tmp, 'complex', cube, gdal.GDT_CInt16)
    assert dst is None and 'not supported' in err, err


# ---- threads ----

def test_threads_read_identical(tmp):
    src = write_tif(str(tmp / 'threads.tif'), scene(c=16, h=32, w=40), gdal.GDT_UInt16)
    dst = str(tmp / 'threads.hiner')
    gdal.Translate(dst, src, format='HINER', creationOptions=['BPPPB=4'] + FAST)
    ref = gdal.Open(dst).ReadAsArray()
    ref_wl = gdal.OpenEx(dst, open_options=['WAVELENGTHS=2.5,7.25,11']).ReadAsArray()

    def read(i):
        opts = ['NUM_THREADS=%d' % (1 + i % 2)]
        if i % 3 == 2:
            opts.append('WAVELENGTHS=2.5,7.25,11')
        ds = gdal.OpenEx(dst, open_options=opts)
        return i, ds.ReadAsArray()

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as ex:
        results = list(ex.map(read, range(18)))
    for i, arr in results:
        expect = ref_wl if i % 3 == 2 else ref
        assert np.array_equal(arr, expect), f'reader {i} decoded something else'


# ---- hostile files ----

def chunks(raw):
    """(offset of the chunk header, type, payload offset, length) for each chunk."""
    out, pos = [], 16
    while pos + 16 <= len(raw):
        typ = raw[pos:pos + 4]
        n = struct.unpack_from('<I', raw, pos + 8)[0]
        out.append((pos, typ, pos + 12, n))
        pos += 16 + n
    return out


def fix_crc(raw, pos, n):
    raw[pos + 12 + n:pos + 16 + n] = struct.pack('<I', zlib.crc32(bytes(raw[pos:pos + 12 + n])))


def hostile_files(tmp):
    src = write_tif(str(tmp / 'hostile_src.tif'), scene(c=6), gdal.GDT_UInt16)
    good = str(tmp / 'hostile_good.hiner')
    gdal.Translate(good, src, format='HINER', creationOptions=['BPPPB=8'] + FAST)
    raw = bytearray(open(good, 'rb').read())
    files = {'truncated-20-bytes': bytes(raw[:20])}
    pos, typ, pay, n = chunks(raw)[0]
    assert typ == b'INFO'
    billion = bytearray(raw)
    struct.pack_into('<I', billion, pay + 8, 1000000000)
    fix_crc(billion, pos, n)
    files['billion-bands'] = bytes(billion)
    wide = bytearray(raw)
    struct.pack_into('<II', wide, pay, 65535, 65535)
    fix_crc(wide, pos, n)
    files['65535-squared'] = bytes(wide)
    for pos, typ, pay, n in chunks(raw):
        if typ == b'ARCH':
            arch = bytearray(raw)
            struct.pack_into('<HHHH', arch, pay + 36, 256, 64, 64, 4096)
            fix_crc(arch, pos, n)
            files['arch-maximal'] = bytes(arch)
    if os.path.isdir(REGRESSIONS):
        for name in sorted(os.listdir(REGRESSIONS)):
            if not name.startswith('.'):
                files['regression-' + name] = open(os.path.join(REGRESSIONS, name), 'rb').read()
    return files


def test_hostile_files_fail_cleanly(tmp):
    for name, data in hostile_files(tmp).items():
        path = str(tmp / f'{name}.bin')
        open(path, 'wb').write(data)
        try:
            ds = gdal.OpenEx(path, gdal.OF_RASTER, allowed_drivers=['HINER'])
            ds.ReadAsArray()
            opened = True
        except RuntimeError:
            opened = False
        p = subprocess.run(['gdalinfo', '-stats', path], capture_output=True, text=True)
        print(f'{name}: opened={opened}, gdalinfo exit {p.returncode}')
        assert p.returncode >= 0, f'{name}: gdalinfo died from signal {-p.returncode}'
        if not name.startswith('regression-'):
            assert not opened and p.returncode != 0, f'{name} was accepted'
