"""The HINER driver against what GDAL's own drivers do, in the manner of GDAL's autotest
(gdaltest.GDALTest's testOpen, testCreateCopy, testCreate, testSet*): open and identify,
CreateCopy to disk and /vsimem/, Create with 1 and 3 bands, each setter through Create,
PAM overrides on a read-only dataset, the driver's metadata against its parsers, the
smallest target (Create fails early, the message names a BPPPB and SIZE that work), and
Create() datasets trained at FlushCache so that errors reach the caller.

The command-line tools are in test_tools.py, rasterio in test_rasterio.py. Rasters are
small and training short (EPOCHS 2 to 150 on a few hundred pixels): the whole file runs
in well under a minute. Run by ctest's driver_conformance, or by hand:
    GDAL_DRIVER_PATH=build/gdalplugins /usr/bin/python3 -m pytest tests/driver/test_conformance.py
"""
import glob
import os
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
FAST = ['EPOCHS=3', 'QAT_EPOCHS=0', 'NUM_THREADS=2']
SMALLEST = re.compile(r'BPPPB=([0-9.]+) or above \(SIZE=(\d+)\)')


@pytest.fixture(autouse=True)
def need_driver():
    if gdal.GetDriverByName('HINER') is None:
        pytest.skip('HINER driver not found: set GDAL_DRIVER_PATH to the plugin')


@pytest.fixture(scope='module')
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp('hiner_conformance')


def smooth(c, h, w, base=2000.0):
    """(C, H, W) smooth bands in [base - 800, base + 800 + 20 h]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return np.array([np.round(base + 800 * np.sin(0.3 * x + 0.5 * b) + 20 * y)
                     for b in range(c)])


def utm33():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    return srs


def write_tif(path, cube, dtype=gdal.GDT_UInt16, georef=True):
    c, h, w = cube.shape
    ds = gdal.GetDriverByName('GTiff').Create(path, w, h, c, dtype)
    if georef:
        ds.SetGeoTransform((500000, 30, 0, 5800000, 0, -30))
        ds.SetSpatialRef(utm33())
    for b in range(c):
        ds.GetRasterBand(b + 1).WriteArray(cube[b])
        ds.GetRasterBand(b + 1).SetMetadataItem('wavelength', str(500 + 10 * b))
    ds = None
    return path


def with_errors(fn, *args, **kwargs):
    """fn(*args) with exceptions off and its errors collected: (result, [(class, no, msg)])."""
    errors = []
    gdal.DontUseExceptions()
    gdal.PushErrorHandler(lambda cls, no, msg: errors.append((cls, no, msg)))
    try:
        out = fn(*args, **kwargs)
    finally:
        gdal.PopErrorHandler()
        gdal.UseExceptions()
    return out, errors


def leftovers(path):
    return [p for p in (path, path + '.hiner-part', path + '.hiner-bands') if os.path.exists(p)]


def create(path, w, h, c, dtype=gdal.GDT_UInt16, options=()):
    return gdal.GetDriverByName('HINER').Create(path, w, h, c, dtype, options=list(options))


@pytest.fixture(scope='module')
def hiner(tmp):
    """A 32 x 24 x 4 UInt16 file with georeferencing and wavelengths, and its source."""
    src = write_tif(str(tmp / 'base.tif'), smooth(4, 24, 32))
    dst = str(tmp / 'base.hiner')
    gdal.Translate(dst, src, format='HINER', creationOptions=['SIZE=3000'] + FAST)
    return dst, src


# ---- open, identify, CreateCopy ----

def test_open_identify_and_file_list(hiner, tmp):
    path, src = hiner
    assert gdal.IdentifyDriver(path).ShortName == 'HINER'
    assert gdal.IdentifyDriver(src).ShortName == 'GTiff'
    ds = gdal.Open(path)
    assert ds.GetDriver().ShortName == 'HINER'
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (32, 24, 4)
    assert ds.GetRasterBand(1).DataType == gdal.GDT_UInt16
    assert ds.GetRasterBand(1).GetBlockSize()[0] == 32
    assert ds.GetFileList() == [path]
    # a stranger file named .hiner is not taken
    fake = str(tmp / 'fake.hiner')
    with open(fake, 'wb') as f:
        f.write(b'not a hiner file at all' * 4)
    with pytest.raises(RuntimeError):
        gdal.OpenEx(fake, allowed_drivers=['HINER'])
    # update access is refused with a message saying what to do instead
    with pytest.raises(RuntimeError, match='update'):
        gdal.Open(path, gdal.GA_Update)


def test_createcopy_to_disk_and_vsimem_give_the_same_file(hiner, tmp):
    _, src = hiner
    opts = ['SIZE=3000', 'SEED=7'] + FAST
    disk = str(tmp / 'copy.hiner')
    out = gdal.GetDriverByName('HINER').CreateCopy(disk, gdal.Open(src), options=opts)
    assert out is not None and out.RasterCount == 4
    out = None
    mem = '/vsimem/conformance_copy.hiner'
    out = gdal.GetDriverByName('HINER').CreateCopy(mem, gdal.Open(src), options=opts)
    assert out.GetDriver().ShortName == 'HINER'
    out = None
    f = gdal.VSIFOpenL(mem, 'rb')
    gdal.VSIFSeekL(f, 0, 2)
    n = gdal.VSIFTellL(f)
    gdal.VSIFSeekL(f, 0, 0)
    mem_bytes = gdal.VSIFReadL(1, n, f)
    gdal.VSIFCloseL(f)
    with open(disk, 'rb') as f:
        assert f.read() == mem_bytes, 'the same options give the same file on disk and in /vsimem/'
    a, b = gdal.Open(disk), gdal.Open(mem)
    assert np.array_equal(a.ReadAsArray(), b.ReadAsArray())
    assert b.GetGeoTransform() == (500000, 30, 0, 5800000, 0, -30)
    a = b = None
    assert gdal.VSIStatL(mem + '.aux.xml') is None
    gdal.Unlink(mem)


# ---- Create ----

@pytest.mark.parametrize('nbands,epochs', [(1, 200), (3, 80)])
def test_create_bands_round_trip(tmp, nbands, epochs):
    """testCreate: Create, write every band, close, reopen: the shape, type and the pixels
    (within the lossy coding: correlated with the source, small mean error)."""
    path = str(tmp / f'create_{nbands}.hiner')
    cube = smooth(nbands, 20, 24)
    ds = create(path, 24, 20, nbands, options=['SIZE=4000', f'EPOCHS={epochs}'])
    assert ds.RasterCount == nbands and ds.GetRasterBand(1).DataType == gdal.GDT_UInt16
    for b in range(nbands):
        ds.GetRasterBand(b + 1).WriteArray(cube[b])
    ds = None
    assert leftovers(path) == [path]
    ds = gdal.Open(path)
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (24, 20, nbands)
    got = ds.ReadAsArray().astype(np.float64).reshape(cube.shape)
    corr = np.corrcoef(got.ravel(), cube.ravel())[0, 1]
    mae = np.abs(got - cube).mean() / (cube.max() - cube.min())
    print(f'Create {nbands} band(s), {epochs} epochs: correlation {corr:.3f}, MAE {mae:.3f} of the range')
    assert corr > 0.8 and mae < 0.1
    assert abs(os.path.getsize(path) / 4000 - 1) < 0.05


def test_create_setters_round_trip(tmp):
    """testSet*: what each setter gives a Create() dataset is there after reopening (the
    file's own records, or its .aux.xml for what the format does not hold)."""
    path = str(tmp / 'setters.hiner')
    ds = create(path, 24, 20, 3, options=['SIZE=6000'] + FAST)
    assert ds.SetGeoTransform((10, 2, 0, 50, 0, -2)) == 0
    assert ds.SetSpatialRef(utm33()) == 0
    ds.SetMetadataItem('AUTHOR', 'conformance')
    ds.SetMetadataItem('MISSION', 'test', 'CUSTOM')
    ct = gdal.ColorTable()
    ct.SetColorEntry(0, (0, 0, 0, 255))
    ct.SetColorEntry(1, (255, 0, 0, 255))
    rat = gdal.RasterAttributeTable()
    rat.CreateColumn('name', gdal.GFT_String, gdal.GFU_Name)
    rat.SetRowCount(2)
    rat.SetValueAsString(0, 0, 'low')
    rat.SetValueAsString(1, 0, 'high')
    for b, (interp, desc) in enumerate([(gdal.GCI_RedBand, 'red'), (gdal.GCI_GreenBand, 'green'),
                                        (gdal.GCI_BlueBand, 'blue')]):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(smooth(1, 20, 24, 2000 + 100 * b)[0])
        assert band.SetNoDataValue(0) == 0
        assert band.SetColorInterpretation(interp) == 0
        band.SetDescription(desc)
        band.SetMetadataItem('wavelength', str(650 - 100 * b))
    assert ds.GetRasterBand(1).SetColorTable(ct) == 0
    assert ds.GetRasterBand(2).SetDefaultRAT(rat) == 0
    ds = None
    ds = gdal.Open(path)
    assert ds.GetGeoTransform() == (10, 2, 0, 50, 0, -2)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '32633'
    assert ds.GetMetadataItem('AUTHOR') == 'conformance'
    assert ds.GetMetadataItem('MISSION', 'CUSTOM') == 'test'
    for b, (interp, desc) in enumerate([(gdal.GCI_RedBand, 'red'), (gdal.GCI_GreenBand, 'green'),
                                        (gdal.GCI_BlueBand, 'blue')]):
        band = ds.GetRasterBand(b + 1)
        assert band.GetNoDataValue() == 0
        assert band.GetColorInterpretation() == interp
        assert band.GetDescription() == desc
        assert float(band.GetMetadataItem('wavelength')) == 650 - 100 * b
    got_ct = ds.GetRasterBand(1).GetColorTable()
    assert got_ct is not None and got_ct.GetCount() == 2 and got_ct.GetColorEntry(1) == (255, 0, 0, 255)
    got_rat = ds.GetRasterBand(2).GetDefaultRAT()
    assert got_rat is not None and got_rat.GetValueAsString(1, 0) == 'high'


def test_create_gcps_round_trip(tmp):
    path = str(tmp / 'gcps.hiner')
    ds = create(path, 24, 20, 1, options=['SIZE=3000'] + FAST)
    gcps = [gdal.GCP(500000 + 30 * px, 5800000 - 30 * ln, 0, px, ln, 'info', f'id{i}')
            for i, (px, ln) in enumerate([(0, 0), (24, 0), (0, 20), (24, 20)])]
    assert ds.SetGCPs(gcps, utm33()) == 0
    ds.GetRasterBand(1).WriteArray(smooth(1, 20, 24)[0])
    ds = None
    ds = gdal.Open(path)
    got = ds.GetGCPs()
    assert len(got) == 4 and got[3].GCPPixel == 24 and got[3].GCPX == 500000 + 30 * 24
    assert got[1].Id == 'id1'
    assert ds.GetGCPSpatialRef().GetAuthorityCode(None) == '32633'


def test_create_unsupported_type_and_bad_size_fail_at_create(tmp):
    path = str(tmp / 'bad_create.hiner')
    types = gdal.GetDriverByName('HINER').GetMetadataItem('DMD_CREATIONDATATYPES').split()
    assert 'CInt16' not in types and 'Float64' in types
    with pytest.raises(RuntimeError, match='not supported'):
        create(path, 8, 8, 1, gdal.GDT_CInt16, ['SIZE=100000'])
    for name in types:
        ds = create(path, 8, 8, 1, gdal.GetDataTypeByName(name), ['SIZE=3000'] + FAST)
        assert ds.GetRasterBand(1).DataType == gdal.GetDataTypeByName(name)
        ds.GetRasterBand(1).Fill(1)
        ds = None
    assert os.path.exists(path)
    os.unlink(path)
    with pytest.raises(RuntimeError):
        create(path, 70000, 2, 1, gdal.GDT_Byte, ['SIZE=100000'])
    assert leftovers(path) == []


# ---- PAM on a read-only dataset ----

def test_pam_overrides_georeferencing_and_nodata(hiner, tmp):
    """Set on a read-only dataset, geotransform, CRS and NoData go to the .aux.xml and
    override the file's, then and after reopening, as GTiff's PAM does; removing the
    .aux.xml gives the file's back."""
    path = str(tmp / 'pam.hiner')
    shutil.copy(hiner[0], path)
    ds = gdal.Open(path)
    assert ds.GetRasterBand(1).GetNoDataValue() is None
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    assert ds.SetGeoTransform((1, 0.5, 0, 60, 0, -0.5)) == 0
    assert ds.SetSpatialRef(wgs84) == 0
    assert ds.GetRasterBand(2).SetNoDataValue(7) == 0
    ds.SetMetadataItem('NOTE', 'pam')
    assert ds.GetGeoTransform() == (1, 0.5, 0, 60, 0, -0.5)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '4326'
    assert ds.GetRasterBand(2).GetNoDataValue() == 7
    ds = None
    assert os.path.exists(path + '.aux.xml')
    ds = gdal.Open(path)
    assert ds.GetGeoTransform() == (1, 0.5, 0, 60, 0, -0.5)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '4326'
    assert ds.GetRasterBand(2).GetNoDataValue() == 7
    assert ds.GetRasterBand(1).GetNoDataValue() is None
    assert ds.GetMetadataItem('NOTE') == 'pam'
    ds = None
    os.unlink(path + '.aux.xml')
    ds = gdal.Open(path)
    assert ds.GetGeoTransform() == (500000, 30, 0, 5800000, 0, -30)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == '32633'
    assert ds.GetRasterBand(2).GetNoDataValue() is None


def test_pam_overrides_nodata_of_the_file(tmp):
    src = str(tmp / 'nd.tif')
    cube = smooth(2, 20, 24)
    cube[:, :3, :4] = 0
    ds = gdal.GetDriverByName('GTiff').Create(src, 24, 20, 2, gdal.GDT_UInt16)
    for b in range(2):
        ds.GetRasterBand(b + 1).SetNoDataValue(0)
        ds.GetRasterBand(b + 1).WriteArray(cube[b])
    ds = None
    path = str(tmp / 'nd.hiner')
    gdal.Translate(path, src, format='HINER', creationOptions=['SIZE=3000'] + FAST)
    ds = gdal.Open(path)
    assert ds.GetRasterBand(1).GetNoDataValue() == 0
    ds.GetRasterBand(1).SetNoDataValue(1)
    ds = None
    ds = gdal.Open(path)
    assert ds.GetRasterBand(1).GetNoDataValue() == 1
    assert ds.GetRasterBand(2).GetNoDataValue() == 0
    # the pixels the file holds as NoData are still decoded as its NoData value
    assert (ds.GetRasterBand(1).ReadAsArray()[:3, :4] == 0).all()


def test_pam_gcps(hiner, tmp):
    path = str(tmp / 'pam_gcps.hiner')
    shutil.copy(hiner[0], path)
    ds = gdal.Open(path)
    gcps = [gdal.GCP(10 + px, 20 - ln, 0, px, ln) for px, ln in [(0, 0), (32, 0), (0, 24)]]
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    assert ds.SetGCPs(gcps, wgs84) == 0
    assert ds.GetGCPCount() == 3
    ds = None
    ds = gdal.Open(path)
    assert ds.GetGCPCount() == 3 and ds.GetGCPs()[1].GCPX == 42
    assert ds.GetGCPSpatialRef().GetAuthorityCode(None) == '4326'


def test_pam_statistics_and_description_round_trip(hiner, tmp):
    path = str(tmp / 'pam_stats.hiner')
    shutil.copy(hiner[0], path)
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    stats = band.ComputeStatistics(False)
    band.SetDescription('renamed')
    arr = band.ReadAsArray()
    ds = None
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    assert band.GetDescription() == 'renamed'
    assert float(band.GetMetadataItem('STATISTICS_MAXIMUM')) == arr.max() == stats[1]
    assert float(band.GetMetadataItem('STATISTICS_MINIMUM')) == arr.min() == stats[0]


# ---- the driver's metadata against its parsers ----

def option_list(item):
    xml = gdal.GetDriverByName('HINER').GetMetadataItem(item)
    return {o.get('name'): o for o in ET.fromstring(xml).findall('Option')}


def illegal_value(opt):
    return {'boolean': 'MAYBE', 'string-select': 'NONSENSE'}.get(opt.get('type'), 'abc')


def test_every_listed_creation_option_is_parsed(tmp):
    """Each option of the XML list, given an illegal value, fails Create naming it: the
    parser reads every option the list shows."""
    path = str(tmp / 'listed.hiner')
    options = option_list('DMD_CREATIONOPTIONLIST')
    assert len(options) >= 10
    for name, opt in options.items():
        value = illegal_value(opt)
        ds, errors = with_errors(create, path, 16, 16, 2, gdal.GDT_UInt16, [f'{name}={value}'])
        assert ds is None, name
        assert any(cls == gdal.CE_Failure and no == gdal.CPLE_IllegalArg and f'{name}={value}' in msg
                   for cls, no, msg in errors), (name, errors)
        assert leftovers(path) == []


def parsed_creation_options():
    """The creation option names the create path fetches, from its source."""
    names = set()
    for src in glob.glob(os.path.join(ROOT, 'driver', '*.cpp')):
        text = open(src).read()
        names |= set(re.findall(r'HINERFetch\(papszOptions, "([A-Z_0-9]+)"', text))
        names |= set(re.findall(r'CSLFetchNameValue(?:Def)?\(\s*papszOptions, "([A-Z_0-9]+)"', text))
    return names


def test_every_parsed_creation_option_is_listed(tmp):
    """Each option the create path reads is in the XML list, and GDAL's own check of
    creation options against that list does not warn about any of them."""
    parsed = parsed_creation_options()
    listed = set(option_list('DMD_CREATIONOPTIONLIST'))
    assert len(parsed) >= 10, parsed
    assert parsed <= listed, parsed - listed
    valid = {'BPPPB': None, 'SIZE': '3000', 'EPOCHS': '2', 'QUANT_BITS': '8', 'SEED': '3',
             'NUM_THREADS': '2', 'LR': '0.001', 'W_L1': '0.5', 'W_CAM': '0.005',
             'STRIDES': '4,2', 'QAT_EPOCHS': '0', 'ENCODER': 'YES', 'ENTROPY': 'ARITH',
             'BLOCKXSIZE': '16', 'BLOCKYSIZE': '16', 'TILE_MARGIN': '2', 'EFFORT': '3'}
    assert set(valid) == listed, 'a listed option with no valid value in this test'
    options = [f'{k}={v}' for k, v in valid.items() if v is not None]
    path = str(tmp / 'parsed.hiner')
    ds, errors = with_errors(create, path, 16, 16, 2, gdal.GDT_UInt16, options)
    assert ds is not None, errors
    assert not [m for _, _, m in errors if 'does not support' in m], errors
    ds.GetRasterBand(1).Fill(100)
    ds.GetRasterBand(2).Fill(200)
    ds = None
    assert os.path.getsize(path) > 0
    # an option not in the list is one GDAL warns about: the check is live
    ds, errors = with_errors(create, path + '2', 16, 16, 1, gdal.GDT_UInt16,
                             ['SIZE=3000', 'NOT_AN_OPTION=1'] + FAST)
    assert any('does not support' in m and 'NOT_AN_OPTION' in m for _, _, m in errors), errors
    ds = None


def test_every_listed_open_option_is_parsed(hiner):
    for name, opt in option_list('DMD_OPENOPTIONLIST').items():
        ds, errors = with_errors(gdal.OpenEx, hiner[0], gdal.OF_RASTER,
                                 open_options=[f'{name}=abc'])
        assert any(f'{name}=abc' in msg for _, _, msg in errors), (name, errors)


def test_driver_metadata_and_help_page():
    drv = gdal.GetDriverByName('HINER')
    md = drv.GetMetadata()
    assert md['DMD_LONGNAME'] and md['DMD_EXTENSION'] == 'hiner'
    assert md['DCAP_RASTER'] == 'YES' and md['DCAP_VIRTUALIO'] == 'YES'
    # the help topic is the page's path in GDAL's documentation layout, which this
    # repository ships (docs/drivers/raster/hiner.rst), whose text is docs/driver.md
    assert md['DMD_HELPTOPIC'] == 'drivers/raster/hiner.html'
    page = os.path.join(ROOT, 'docs', md['DMD_HELPTOPIC'].replace('.html', '.rst'))
    assert os.path.exists(page)
    rst = open(page).read()
    assert '.. _raster.hiner:' in rst
    inc = re.search(r'\.\. include:: (\S+)\n(?:\s+:.*\n)*?\s+:start-after: (.+)\n', rst)
    assert inc, 'the page includes the driver text'
    text = os.path.normpath(os.path.join(os.path.dirname(page), inc.group(1)))
    assert text.endswith(os.path.join('docs', 'driver.md'))
    body = open(text).read()
    assert inc.group(2) in body, 'the start-after marker is in driver.md'
    assert '## Creation options' in body.split(inc.group(2), 1)[1]


# ---- the smallest target (issue 23, items 2 and 6) ----

def smallest_in(text):
    m = SMALLEST.search(text)
    assert m, f'no smallest BPPPB / SIZE in: {text}'
    return m.group(1), int(m.group(2))


def test_create_below_the_smallest_target_fails_at_create(tmp):
    """A 20 x 20 Byte raster at the default rate (10 bytes): Create fails, naming a BPPPB
    and a SIZE; both work, one byte less does not; written, that file reads back."""
    path = str(tmp / 'tiny.hiner')
    ds, errors = with_errors(create, path, 20, 20, 1, gdal.GDT_Byte, FAST)
    assert ds is None and leftovers(path) == []
    fails = [(no, msg) for cls, no, msg in errors if cls == gdal.CE_Failure]
    assert fails and fails[-1][0] == gdal.CPLE_IllegalArg, errors
    bpppb, size = smallest_in(fails[-1][1])
    print(f'20 x 20 Byte: {fails[-1][1]}')
    assert 'BPPPB=0.2' in fails[-1][1]
    ds, errors = with_errors(create, path, 20, 20, 1, gdal.GDT_Byte, FAST + [f'SIZE={size - 1}'])
    assert ds is None and any(f'SIZE={size}' in m for _, _, m in errors)
    for opt in (f'SIZE={size}', f'BPPPB={bpppb}'):
        ds = create(path, 20, 20, 1, gdal.GDT_Byte, FAST + [opt])
        ds.GetRasterBand(1).WriteArray((np.arange(400).reshape(20, 20) % 97).astype(np.uint8))
        ds = None
        ds = gdal.Open(path)
        assert ds.ReadAsArray().shape == (20, 20)
        assert abs(os.path.getsize(path) / size - 1) < 0.05
        ds = None


def test_createcopy_names_the_exact_smallest_target(tmp, byte_tif):
    """gdal_translate of a 20 x 20 Byte raster with a UTM CRS (GDAL's byte.tif) at the
    default rate fails naming the smallest target for its pixels and metadata: that one
    writes the file, one byte less fails."""
    src = byte_tif
    dst = str(tmp / 'byte.hiner')
    with pytest.raises(RuntimeError) as e:
        gdal.Translate(dst, src, format='HINER', creationOptions=FAST)
    print(f'byte.tif at the default rate: {e.value}')
    bpppb, size = smallest_in(str(e.value))
    assert leftovers(dst) == []
    with pytest.raises(RuntimeError, match=f'SIZE={size}'):
        gdal.Translate(dst, src, format='HINER', creationOptions=FAST + [f'SIZE={size - 1}'])
    for opt in (f'SIZE={size}', f'BPPPB={bpppb}'):
        gdal.Translate(dst, src, format='HINER', creationOptions=FAST + [opt])
        ds = gdal.Open(dst)
        assert ds.GetSpatialRef().GetAuthorityCode(None) == '26711'
        assert abs(os.path.getsize(dst) / size - 1) < 0.05
        ds = None


def test_tiled_scene_smallest_target_works(tmp):
    """A scene wider than a tile (330 pixels: three tiles of 160) at the default rate fails
    naming a target counted per tile; that target writes the file."""
    src = write_tif(str(tmp / 'wide.tif'), smooth(2, 40, 330))
    dst = str(tmp / 'wide.hiner')
    with pytest.raises(RuntimeError) as e:
        gdal.Translate(dst, src, format='HINER', creationOptions=FAST)
    print(f'330 x 40 x 2 at the default rate: {e.value}')
    _, size = smallest_in(str(e.value))
    assert leftovers(dst) == []
    gdal.Translate(dst, src, format='HINER', creationOptions=FAST + [f'SIZE={size}'])
    ds = gdal.Open(dst)
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (330, 40, 2)
    assert ds.ReadAsArray().shape == (2, 40, 330)
    assert abs(os.path.getsize(dst) / size - 1) < 0.05


# ---- Create() datasets: trained at FlushCache, errors there ----

def test_flush_reports_what_only_training_can_tell(tmp):
    """A target Create accepts (shape and type only) that the CRS set afterwards makes too
    small: ds.FlushCache() raises, naming a SIZE that works; no file is left."""
    path = str(tmp / 'flush_fail.hiner')
    _, errors = with_errors(create, path, 20, 20, 1, gdal.GDT_Byte, FAST)
    _, size = smallest_in(errors[-1][2])
    ds = create(path, 20, 20, 1, gdal.GDT_Byte, FAST + [f'SIZE={size}'])
    ds.SetGeoTransform((440720, 60, 0, 3751320, 0, -60))
    ds.SetSpatialRef(utm33())
    ds.GetRasterBand(1).WriteArray((np.arange(400).reshape(20, 20) % 97).astype(np.uint8))
    try:  # not pytest.raises: its traceback would hold the dataset open
        ds.FlushCache()
        raised = ''
    except RuntimeError as e:
        raised = str(e)
    assert 'smallest target' in raised
    _, need = smallest_in(raised)
    assert need > size
    assert not os.path.exists(path)
    def close():
        nonlocal ds
        ds = None
    _, errors = with_errors(close)
    assert any(cls == gdal.CE_Failure and 'not written' in msg for cls, _, msg in errors), errors
    assert leftovers(path) == []
    # the SIZE it named works with the same CRS
    ds = create(path, 20, 20, 1, gdal.GDT_Byte, FAST + [f'SIZE={need}'])
    ds.SetGeoTransform((440720, 60, 0, 3751320, 0, -60))
    ds.SetSpatialRef(utm33())
    ds.GetRasterBand(1).WriteArray((np.arange(400).reshape(20, 20) % 97).astype(np.uint8))
    ds.FlushCache()
    assert os.path.exists(path)
    ds = None
    assert gdal.Open(path).GetSpatialRef().GetAuthorityCode(None) == '32633'


def test_flush_writes_the_file_and_close_trains_again_only_on_change(tmp):
    path = str(tmp / 'flush.hiner')
    cube = smooth(2, 20, 24)
    opts = ['SIZE=4000', 'EPOCHS=60']
    # flushed before every band is written: nothing trained yet
    ds = create(path, 24, 20, 2, options=opts)
    ds.GetRasterBand(1).WriteArray(cube[0])
    ds.FlushCache()
    assert not os.path.exists(path)
    ds.GetRasterBand(2).WriteArray(cube[1])
    ds.FlushCache()
    assert os.path.exists(path), 'a complete dataset is written when flushed'
    ino = os.stat(path).st_ino
    ds = None
    assert os.stat(path).st_ino == ino, 'closed unchanged: not trained again'
    assert leftovers(path) == [path]
    # changed after the flush: the pixels and an item reach the file at close
    ds = create(path, 24, 20, 2, options=opts)
    for b in range(2):
        ds.GetRasterBand(b + 1).WriteArray(cube[b])
    ds.FlushCache()
    first = gdal.Open(path)
    before = first.ReadAsArray().astype(np.float64)
    first = None
    flipped = cube[0].max() + cube[0].min() - cube[0]
    ds.GetRasterBand(1).WriteArray(flipped)
    ds.SetMetadataItem('AFTER_FLUSH', 'yes')
    ds = None
    ds = gdal.Open(path)
    after = ds.ReadAsArray().astype(np.float64)
    assert ds.GetMetadataItem('AFTER_FLUSH') == 'yes'
    assert np.corrcoef(after[0].ravel(), flipped.ravel())[0, 1] > 0.5
    assert np.corrcoef(before[0].ravel(), cube[0].ravel())[0, 1] > 0.5
