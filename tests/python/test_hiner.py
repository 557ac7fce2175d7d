"""python/hiner without Dask: a cube encoded from numpy and decoded (bands, tiles,
windows, wavelengths), a tiled encode in parts (Tiler) giving hiner_encode's bytes, the
driver's options parsed by the plugin, and a GDAL source encoded in this process giving
gdal_translate's bytes."""
import os

import numpy as np
import pytest

import hiner
import hiner.tiled
from conftest import OPTIONS, leftovers, read

CUBE_SHAPE = (6, 40, 56)


def small_cube():
    rng = np.random.default_rng(1)
    C, H, W = CUBE_SHAPE
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([500 + 200 * np.sin(x / 5.0 + b) + 100 * np.cos(y / 4.0) +
                     10 * rng.standard_normal((H, W)) for b in range(C)]).astype(np.int16)


def test_library_found():
    assert os.path.exists(hiner.library_path())
    assert os.path.exists(hiner.plugin_path())
    assert hiner.version().count('.') == 2


def test_encode_decode_one_tile():
    cube = small_cube()
    wl = [500.0 + 50 * b for b in range(cube.shape[0])]
    data = hiner.encode(cube, bpppb=2.0, epochs=200, wavelengths=wl,
                        meta=hiner.Meta(geotransform=[0, 1, 0, 0, 0, -1],
                                        wavelength_units='Nanometers'))
    m = hiner.Model(data=data)
    i = m.info
    assert (i.width, i.height, i.bands, i.dtype) == (56, 40, 6, 'int16')
    assert i.format == (1, 1) and i.tiles_x == 1 and i.has_wavelengths
    assert m.wavelengths == wl
    band = m.decode_band(2)
    assert band.dtype == np.int16 and band.shape == (40, 56)
    err = np.abs(band.astype(float) - cube[2]).mean()
    assert err < 0.25 * np.abs(cube[2] - cube[2].mean()).mean(), err  # it learned the band
    # a window and the one tile agree with the band; a wavelength between bands decodes
    assert np.array_equal(m.decode_window(5, 7, 20, 11, band=2), band[7:18, 5:25])
    assert np.array_equal(m.decode_tile(0, 0, band=2), band)
    between = m.decode_wavelength(625.0, dtype='float32')
    assert between.shape == (40, 56) and np.isfinite(between).all()
    m.close()


def test_tiler_parts_make_hiner_encode_bytes(tmp_path):
    """The tiled encode in parts, from numpy windows, assembled: hiner_encode's file."""
    cube = small_cube()
    C, H, W = cube.shape
    p = hiner.params(bpppb=12.0, epochs=30, tile_width=24, tile_height=16, threads=2)
    whole = hiner.encode(cube, p)
    t = hiner.Tiler.create(cube.shape, cube.dtype, p)
    n = t.count
    assert n == 3 * 3
    for k in reversed(range(n)):  # statistics in any order
        (x, y, w, h), _ = t.window(k)
        t.add_stats(t.stats(k, cube[:, y:y + h, x:x + w]))
    t.plan()
    worker = hiner.Tiler.load(t.save(), C, cube.dtype)  # as on another machine
    prior = t.prior()
    runs, weights = {}, None
    if prior is not None:
        _, (x, y, w, h) = worker.window(prior)
        runs[prior], weights = worker.encode(prior, cube[:, y:y + h, x:x + w], trained=True)
        assert weights
    for k in range(n):
        if k in runs:
            continue
        _, (x, y, w, h) = worker.window(k)
        runs[k], _ = worker.encode(k, cube[:, y:y + h, x:x + w], prior=weights)
    data = hiner.assemble(t.head([len(runs[k]) for k in range(n)]),
                          [runs[k] for k in range(n)], t.tail())
    assert data == whole
    m = hiner.Model(data=data)
    assert (m.info.tiles_x, m.info.tiles_y, m.info.format) == (3, 3, (1, 2))
    band = m.decode_band(1)
    assert np.array_equal(m.decode_tile(2, 1, band=1), band[16:32, 48:56])
    assert np.array_equal(m.decode_window(20, 10, 30, 20, band=1), band[10:30, 20:50])


def test_tiler_errors():
    cube = small_cube()
    t = hiner.Tiler.create(cube.shape, cube.dtype, hiner.params(tile_width=24, tile_height=16))
    with pytest.raises(ValueError):
        t.stats(0, cube[:, :16, :20])  # not the tile's size
    with pytest.raises(hiner.HinerError) as e:
        t.plan()  # no statistics yet
    assert e.value.name == 'HINER_E_INVALID_ARG'
    with pytest.raises(hiner.HinerError) as e:
        hiner.Tiler.load(b'not a tiler', 6, 'int16')
    assert e.value.name == 'HINER_E_CORRUPT'


def test_params_from_options():
    p = hiner.params_from_options(['BPPPB=0.5', 'EPOCHS=12', 'BLOCKXSIZE=64', 'SEED=9',
                                   'EFFORT=3'])
    assert (p.bpppb, p.epochs, p.tile_width, p.tile_height, p.seed, p.effort) == \
        (0.5, 12, 64, 64, 9, 3)
    assert hiner.params(effort=7).effort == 7
    with pytest.raises(hiner.HinerError) as e:
        hiner.params_from_options(['EPOCHS=-5'])
    assert 'EPOCHS' in str(e.value)


def test_encode_local_is_gdal_translate(scene, reference, tmp_path):
    dst = str(tmp_path / 'local.hiner')
    rep = hiner.tiled.encode_local(scene, dst, OPTIONS)
    assert rep['tiles'] == 9
    assert read(dst) == reference[0]
    assert read(dst + '.aux.xml') == reference[1].encode()
    assert leftovers(dst) == [dst]


def test_plan_refuses_a_small_target(scene, tmp_path):
    dst = str(tmp_path / 'small.hiner')
    with pytest.raises(hiner.HinerError) as e:
        hiner.tiled.encode_local(scene, dst, ['BPPPB=0.2', 'BLOCKXSIZE=32'])
    assert e.value.name == 'HINER_E_BUDGET'
    assert 'smallest target' in str(e.value)
    assert leftovers(dst) == []
