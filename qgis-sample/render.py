#!/usr/bin/python3
"""Loads a .hiner file into QGIS as a raster layer, lists its bands with their wavelengths
and renders it to a PNG, headless (no display needed).

usage:
  render.py FILE.hiner [-o OUT.png] [--rgb 640,550,470 | --wavelength 700.5 | --band N]
            [--width 800] [--json SUMMARY.json]
  render.py --project hiner.qgs [-o OUT_PREFIX] [--width 800] [--json SUMMARY.json]

Without a choice of bands, a file whose wavelengths cover 470-640 nm is rendered in true
colour at 640, 550 and 470 nm, decoded through the stored spectral encoder (the open option
WAVELENGTHS, which QGIS passes to GDAL as `FILE|option:WAVELENGTHS=...`), or from the
stored bands nearest those wavelengths when the file has no encoder; any other file as
one grey band. --project loads a QGIS project instead and renders each of its raster
layers to OUT_PREFIX<layer>.png.

Every PNG gets a world file (.pgw) and, with --json, a summary of what was drawn (extent,
size, CRS, bands). Run it with Debian's /usr/bin/python3 (python3-qgis). The HINER driver
is found through GDAL_DRIVER_PATH; when that is unset, the build tree's gdalplugins
(../build/gdalplugins, or $HINER_BUILD/gdalplugins) is used if present, otherwise GDAL's
own plugin directory (cmake --install).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def setup_environment():
    """Before QGIS and GDAL load: no display, and the driver plugin."""
    os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
    # Workaround: the driver keeps one .aux.xml per file for every way of opening it, so the
    # statistics QGIS computes for a WAVELENGTHS=... layer (and the interpolated bands'
    # descriptions and wavelengths) would be saved as those of the stored bands 1, 2, 3 and
    # read back by every later open. Without PAM nothing is saved (README.md, Known issues).
    os.environ.setdefault('GDAL_PAM_ENABLED', 'NO')
    os.environ.setdefault('XDG_RUNTIME_DIR', '/tmp/runtime-' + str(os.getuid()))
    os.makedirs(os.environ['XDG_RUNTIME_DIR'], mode=0o700, exist_ok=True)
    if not os.environ.get('GDAL_DRIVER_PATH'):
        build = os.environ.get('HINER_BUILD', os.path.join(HERE, '..', 'build'))
        plugins = os.path.join(build, 'gdalplugins')
        if os.path.exists(os.path.join(plugins, 'gdal_HINER.so')):
            os.environ['GDAL_DRIVER_PATH'] = os.path.abspath(plugins)


setup_environment()

from osgeo import gdal  # noqa: E402
from qgis.core import (  # noqa: E402
    QgsApplication, QgsContrastEnhancement, QgsMapRendererParallelJob, QgsMapSettings,
    QgsMapSettingsUtils, QgsMultiBandColorRenderer, QgsProject, QgsProviderRegistry,
    QgsRasterLayer, QgsRasterMinMaxOrigin, QgsRectangle, QgsSingleBandGrayRenderer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

gdal.UseExceptions()

TRUE_COLOUR_NM = (640.0, 550.0, 470.0)
UNIT_TO_NM = {'nanometers': 1.0, 'nanometer': 1.0, 'nm': 1.0, 'micrometers': 1000.0,
              'micrometer': 1000.0, 'microns': 1000.0, 'um': 1000.0, 'millimeters': 1e6,
              'mm': 1e6}


def layer_uri(path, open_options=()):
    """The GDAL provider's data source: `path|option:KEY=VALUE|option:...`."""
    return QgsProviderRegistry.instance().encodeUri(
        'gdal', {'path': path, 'openOptions': list(open_options)})


def gdal_bands(uri):
    """(number, description, wavelength, units) for each band, read through GDAL with the
    layer's own path and open options."""
    parts = QgsProviderRegistry.instance().decodeUri('gdal', uri)
    ds = gdal.OpenEx(parts['path'], gdal.OF_RASTER,
                     open_options=parts.get('openOptions') or [])
    out = []
    for b in range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(b)
        wl = band.GetMetadataItem('wavelength')
        units = band.GetMetadataItem('wavelength_units') or ''
        out.append((b, band.GetDescription(), float(wl) if wl else None, units))
    hiner = ds.GetMetadata('HINER') or {}
    driver = ds.GetDriver().ShortName
    return out, hiner, driver


def to_nm(value, units):
    """A wavelength in nanometres; without units, values above 100 are nanometres."""
    if value is None:
        return None
    scale = UNIT_TO_NM.get(units.strip().lower())
    if scale is None:
        scale = 1.0 if value > 100 else 1000.0
    return value * scale


def from_nm(nm, units, sample):
    scale = UNIT_TO_NM.get(units.strip().lower())
    if scale is None:
        scale = 1.0 if sample > 100 else 1000.0
    return nm / scale


def fmt(v):
    return ('%.6f' % v).rstrip('0').rstrip('.')


def print_bands(name, bands, hiner):
    print(f'{name}: {len(bands)} bands'
          + (f', {hiner["STORED_BANDS"]} stored, {hiner.get("BPPPB", "?")} bpppb, '
             f'interpolation {hiner.get("WAVELENGTH_INTERPOLATION", "?").lower()}'
             if hiner else ''))
    for b, desc, wl, units in bands:
        where = f'{fmt(wl)} {units}'.strip() if wl is not None else 'no wavelength'
        print(f'  band {b:3d}  {where:24s} {desc}')


def stretch(layer):
    """2-98 % cumulative-cut stretch of the renderer's bands, as QGIS does by default."""
    layer.setContrastEnhancement(QgsContrastEnhancement.StretchToMinimumMaximum,
                                 QgsRasterMinMaxOrigin.CumulativeCut, QgsRectangle(), 250000)


def true_colour_layer(path, name, bands, hiner, rgb_nm=TRUE_COLOUR_NM):
    """A layer drawn in true colour (red, green, blue at rgb_nm), or None when the file's
    wavelengths do not cover them."""
    wls = [(b, to_nm(wl, u), wl, u) for b, _, wl, u in bands if wl is not None]
    if len(wls) < 3:
        return None
    lo, hi = min(w[1] for w in wls), max(w[1] for w in wls)
    if lo > min(rgb_nm) or hi < max(rgb_nm):
        return None
    units, sample = wls[0][3], wls[0][2]
    if hiner.get('WAVELENGTH_INTERPOLATION') == 'AVAILABLE':
        req = ','.join(fmt(from_nm(nm, units, sample)) for nm in rgb_nm)
        layer = QgsRasterLayer(layer_uri(path, [f'WAVELENGTHS={req}']), name, 'gdal')
        rgb = (1, 2, 3)
    else:
        layer = QgsRasterLayer(layer_uri(path), name, 'gdal')
        rgb = tuple(min(wls, key=lambda w: abs(w[1] - nm))[0] for nm in rgb_nm)
    if not layer.isValid():
        raise SystemExit(f'render.py: QGIS cannot open {layer.source()}: '
                         f'{layer.error().summary()}')
    layer.setRenderer(QgsMultiBandColorRenderer(layer.dataProvider(), *rgb))
    stretch(layer)
    return layer


def grey_layer(path, name, open_options=(), band=1):
    layer = QgsRasterLayer(layer_uri(path, open_options), name, 'gdal')
    if not layer.isValid():
        raise SystemExit(f'render.py: QGIS cannot open {layer.source()}: '
                         f'{layer.error().summary()}')
    if band < 1 or band > layer.bandCount():
        raise SystemExit(f'render.py: band {band} is not in 1..{layer.bandCount()}')
    layer.setRenderer(QgsSingleBandGrayRenderer(layer.dataProvider(), band))
    stretch(layer)
    return layer


def render(layer, png, width):
    """Draws the layer's whole extent into a PNG `width` pixels wide (transparent where
    there is no data) with a world file beside it; returns the summary."""
    ext = layer.extent()
    height = max(1, round(width * ext.height() / ext.width()))
    ms = QgsMapSettings()
    ms.setLayers([layer])
    ms.setDestinationCrs(layer.crs())
    ms.setExtent(ext)
    ms.setOutputSize(QSize(width, height))
    ms.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererParallelJob(ms)
    job.start()
    job.waitForFinished()
    for err in job.errors():
        print(f'render.py: {err.layerID}: {err.message}', file=sys.stderr)
    image = job.renderedImage()
    if image.isNull() or not image.save(png, 'PNG'):
        raise SystemExit(f'render.py: cannot write {png}')
    with open(os.path.splitext(png)[0] + '.pgw', 'w') as f:
        f.write(QgsMapSettingsUtils.worldFileContent(ms) + '\n')
    vis = ms.visibleExtent()
    r = layer.renderer()
    if isinstance(r, QgsMultiBandColorRenderer):
        ces = [r.redContrastEnhancement(), r.greenContrastEnhancement(),
               r.blueContrastEnhancement()]
    elif isinstance(r, QgsSingleBandGrayRenderer):
        ces = [r.contrastEnhancement()]
    else:
        ces = []
    stretches = [[ce.minimumValue(), ce.maximumValue()] if ce else None for ce in ces]
    print(f'{png}: {width} x {height} px, extent {ext.toString(3)} ({layer.crs().authid()})')
    return {'png': os.path.abspath(png), 'width': width, 'height': height, 'layer': layer.name(),
            'source': layer.source(), 'crs': layer.crs().authid(),
            'band_count': layer.bandCount(), 'renderer': layer.renderer().type(),
            'renderer_bands': layer.renderer().usesBands(), 'stretch': stretches,
            'layer_extent': [ext.xMinimum(), ext.yMinimum(), ext.xMaximum(), ext.yMaximum()],
            'map_extent': [vis.xMinimum(), vis.yMinimum(), vis.xMaximum(), vis.yMaximum()],
            'errors': [e.message for e in job.errors()]}


def render_file(args):
    path = os.path.abspath(args.file)
    name = os.path.splitext(os.path.basename(path))[0]
    bands, hiner, driver = gdal_bands(layer_uri(path))
    print(f'{path}: GDAL driver {driver}')
    print_bands(name, bands, hiner)
    if args.wavelength is not None:
        layer = grey_layer(path, f'{name} {fmt(args.wavelength)}',
                           [f'WAVELENGTHS={fmt(args.wavelength)}'])
    elif args.band is not None:
        layer = grey_layer(path, f'{name} band {args.band}', band=args.band)
    else:
        rgb_nm = TRUE_COLOUR_NM
        if args.rgb is not None:
            rgb_nm = tuple(float(v) for v in args.rgb.split(','))
            if len(rgb_nm) != 3:
                raise SystemExit('render.py: --rgb takes three wavelengths in nm')
        layer = true_colour_layer(path, f'{name} true colour', bands, hiner, rgb_nm)
        if layer is None:
            if args.rgb is not None:
                raise SystemExit(f'render.py: {path}: the wavelengths do not cover {args.rgb}')
            layer = grey_layer(path, f'{name} band {(len(bands) + 1) // 2}',
                               band=(len(bands) + 1) // 2)
    if layer.source() != layer_uri(path):
        shown, _, _ = gdal_bands(layer.source())
        print(f'layer {layer.source()}')
        print_bands(layer.name(), shown, {})
    summary = render(layer, args.out or name + '.png', args.width)
    summary['bands'] = [{'band': b, 'description': d, 'wavelength': w, 'units': u}
                        for b, d, w, u in gdal_bands(layer.source())[0]]
    return [summary]


def render_project(args):
    project = QgsProject.instance()
    if not project.read(os.path.abspath(args.project)):
        raise SystemExit(f'render.py: cannot read {args.project}: {project.error()}')
    prefix = args.out or os.path.splitext(os.path.basename(args.project))[0] + '_'
    out = []
    for layer in project.layerTreeRoot().layerOrder():
        if not isinstance(layer, QgsRasterLayer):
            continue
        print(f'layer "{layer.name()}": {layer.source()}')
        if not layer.isValid():
            raise SystemExit(f'render.py: layer "{layer.name()}" is not valid: '
                             f'{layer.error().summary()} (GDAL_DRIVER_PATH set? '
                             f'{os.path.basename(layer.source().split("|")[0])} made?)')
        bands, hiner, _ = gdal_bands(layer.source())
        print_bands(layer.name(), bands, hiner)
        safe = ''.join(c if c.isalnum() else '_' for c in layer.name()).strip('_')
        summary = render(layer, f'{prefix}{safe}.png', args.width)
        summary['bands'] = [{'band': b, 'description': d, 'wavelength': w, 'units': u}
                            for b, d, w, u in bands]
        out.append(summary)
    if not out:
        raise SystemExit(f'render.py: {args.project} has no raster layer')
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('file', nargs='?', help='a .hiner file (any GDAL raster works too)')
    ap.add_argument('--project', help='a QGIS project (.qgs) to render layer by layer')
    ap.add_argument('-o', '--out', help='PNG to write (with --project: a prefix)')
    choice = ap.add_mutually_exclusive_group()
    choice.add_argument('--rgb', help='true colour at these wavelengths in nm '
                        '(default 640,550,470)')
    choice.add_argument('--wavelength', type=float,
                        help='one grey band decoded at this wavelength (file units)')
    choice.add_argument('--band', type=int, help='one grey stored band (1-based)')
    ap.add_argument('--width', type=int, default=800, help='PNG width in pixels')
    ap.add_argument('--json', help='write a summary of what was drawn here')
    args = ap.parse_args()
    if bool(args.file) == bool(args.project):
        ap.error('give a .hiner file or --project, not both')

    app = QgsApplication([], False)
    app.initQgis()
    try:
        if gdal.GetDriverByName('HINER') is None:
            print('render.py: GDAL has no HINER driver: set GDAL_DRIVER_PATH to the build\'s '
                  'gdalplugins directory, or cmake --install', file=sys.stderr)
        summaries = render_project(args) if args.project else render_file(args)
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(summaries, f, indent=1)
    finally:
        QgsProject.instance().clear()
        app.exitQgis()


if __name__ == '__main__':
    main()
