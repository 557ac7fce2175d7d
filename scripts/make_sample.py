#!/usr/bin/python3
"""Writes the embedded default scene: a synthetic hyperspectral GeoTIFF (UInt16, band
wavelengths in ENVI-style band metadata, UTM georeferencing) that the main job compresses.

Four materials with plausible reflectance shapes (vegetation with a red edge, soil, water,
roof) mixed over fields, a river, roads and buildings, plus sensor-like noise.
usage: make_sample.py OUT.tif [WIDTH HEIGHT BANDS]"""
import sys
import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()


def spectra(wl):
    um = wl / 1000.0
    veg = 0.05 + 0.04 * np.exp(-((um - 0.55) / 0.03) ** 2) + 0.45 / (1 + np.exp(-(um - 0.72) / 0.015))
    veg -= 0.25 * np.exp(-((um - 1.45) / 0.06) ** 2) + 0.3 * np.exp(-((um - 1.95) / 0.08) ** 2)
    soil = 0.1 + 0.25 * (1 - np.exp(-(um - 0.4) / 0.5)) - 0.05 * np.exp(-((um - 2.2) / 0.05) ** 2)
    water = 0.08 * np.exp(-(um - 0.4) / 0.15) + 0.005
    roof = 0.2 + 0.05 * np.sin(um * 3.0) + 0.1 * (um > 1.0)
    return np.stack([veg, soil, water, roof])  # (4, C)


def abundances(h, w, rng):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    a = np.zeros((4, h, w))
    field = (np.sin(x / 7.0) * np.cos(y / 11.0) > 0).astype(float)
    a[0] = 0.3 + 0.6 * field * (0.8 + 0.2 * np.sin(x / 3.0 + y / 5.0))
    a[1] = 1.0 - a[0]
    river = np.abs(y - (0.5 * h + 0.15 * h * np.sin(x / 9.0))) < 0.06 * h
    a[:, river] = 0
    a[2, river] = 1
    roads = (np.abs(x - 0.3 * w) < 1.5) | (np.abs(y - 0.25 * h) < 1.5)
    blocks = ((x // 6 + y // 6) % 3 == 0) & (x > 0.65 * w) & (y < 0.45 * h)
    for m in (roads, blocks):
        a[:, m] = 0
        a[3, m] = 1
    return a


def main():
    out = sys.argv[1]
    w, h, c = (int(v) for v in sys.argv[2:5]) if len(sys.argv) >= 5 else (96, 80, 48)
    rng = np.random.default_rng(7)
    wl = np.linspace(420.0, 2400.0, c)
    refl = np.einsum('mhw,mc->chw', abundances(h, w, rng), spectra(wl))
    refl += rng.normal(0, 0.002, refl.shape)
    dn = np.clip(np.round(refl * 10000), 0, 65535).astype(np.uint16)
    ds = gdal.GetDriverByName('GTiff').Create(out, w, h, c, gdal.GDT_UInt16, ['INTERLEAVE=BAND'])
    ds.SetGeoTransform((368000.0, 30.0, 0.0, 5810000.0, 0.0, -30.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.SetMetadataItem('wavelength_units', 'Nanometers')
    for b in range(c):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(dn[b])
        band.SetDescription(f'band {b + 1} ({wl[b]:.1f} nm)')
        band.SetMetadataItem('wavelength', f'{wl[b]:.2f}')
        band.SetMetadataItem('wavelength_units', 'Nanometers')
        band.SetMetadataItem('fwhm', f'{(wl[1] - wl[0]) * 1.1:.2f}')
    ds = None
    print(f'{out}: {w} x {h} x {c} UInt16, {wl[0]:.0f}-{wl[-1]:.0f} nm')


if __name__ == '__main__':
    main()
