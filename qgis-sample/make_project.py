#!/usr/bin/python3
"""Writes qgis-sample/hiner.qgs, the sample QGIS project, over a .hiner layer (default
qgis-sample/enmap_potsdam.hiner, made by make_sample.sh). Three layers of the same file:

  1. true colour at 640, 550 and 470 nm, decoded through the spectral encoder
     (data source `enmap_potsdam.hiner|option:WAVELENGTHS=640,550,470`), shown;
  2. 700.5 nm, a wavelength the source does not have (`|option:WAVELENGTHS=700.5`), grey;
  3. the stored bands nearest 640, 550 and 470 nm in true colour (the plain file: what a
     file written with ENCODER=NO, or any other hyperspectral raster, allows).

Paths are saved relative to the project, so the project works wherever the folder is,
once the .hiner beside it exists. The stretches (2-98 % cumulative cut) are computed from
the file and saved in the project, so QGIS does not recompute them on opening.
usage: make_project.py [FILE.hiner [OUT.qgs]]     (Debian's /usr/bin/python3, python3-qgis)
"""
import os
import sys

import render  # noqa: E402  (sets QT_QPA_PLATFORM, GDAL_DRIVER_PATH, GDAL_PAM_ENABLED first)
from qgis.core import (QgsApplication, QgsMultiBandColorRenderer, QgsProject,  # noqa: E402
                       QgsRasterLayer, QgsReferencedRectangle)


def main():
    src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                          else os.path.join(render.HERE, 'enmap_potsdam.hiner'))
    out = os.path.abspath(sys.argv[2] if len(sys.argv) > 2
                          else os.path.join(render.HERE, 'hiner.qgs'))
    if not os.path.exists(src):
        raise SystemExit(f'make_project.py: {src} not found: run make_sample.sh first')
    app = QgsApplication([], False)
    app.initQgis()
    try:
        bands, hiner, _ = render.gdal_bands(render.layer_uri(src))
        if hiner.get('WAVELENGTH_INTERPOLATION') != 'AVAILABLE':
            raise SystemExit(f'make_project.py: {src} has no spectral encoder (ENCODER=NO)')
        wls = [(b, render.to_nm(wl, u)) for b, _, wl, u in bands if wl is not None]
        units, sample = bands[0][3], bands[0][2]

        def file_units(nm):
            return render.fmt(render.from_nm(nm, units, sample))

        rgb = render.true_colour_layer(src, 'True colour: 640, 550, 470 nm (decoded by '
                                       'wavelength)', bands, hiner)
        red_edge = render.grey_layer(src, '700.5 nm: not in the source (interpolated)',
                                     [f'WAVELENGTHS={file_units(700.5)}'])
        nearest = [min(wls, key=lambda w: abs(w[1] - nm)) for nm in render.TRUE_COLOUR_NM]
        stored = QgsRasterLayer(render.layer_uri(src), 'Stored bands nearest 640, 550, 470 nm '
                                '(bands %s)' % ', '.join(str(b) for b, _ in nearest), 'gdal')
        stored.setRenderer(QgsMultiBandColorRenderer(stored.dataProvider(),
                                                     *(b for b, _ in nearest)))
        render.stretch(stored)

        project = QgsProject.instance()
        project.setTitle('HINER sample: EnMAP, Potsdam (2022-07-24)')
        md = project.metadata()
        md.setAuthor('HINER for GDAL')
        md.setAbstract('A .hiner layer (EnMAP L2A reflectance, Potsdam) in true colour at '
                       '640, 550 and 470 nm decoded by wavelength, at 700.5 nm (a wavelength '
                       'the source does not have), and from the nearest stored bands. Make '
                       'enmap_potsdam.hiner with make_sample.sh first.')
        project.setMetadata(md)
        project.setCrs(rgb.crs())
        for layer in (rgb, red_edge, stored):
            project.addMapLayer(layer)
        root = project.layerTreeRoot()
        root.findLayer(red_edge.id()).setItemVisibilityChecked(False)
        root.findLayer(stored.id()).setItemVisibilityChecked(False)
        project.viewSettings().setDefaultViewExtent(
            QgsReferencedRectangle(rgb.extent(), rgb.crs()))
        if not project.write(out):
            raise SystemExit(f'make_project.py: cannot write {out}: {project.error()}')
        if os.path.exists(out + '~'):  # QGIS's backup of the project it overwrote
            os.remove(out + '~')
        print(f'{out}: {", ".join(l.name() for l in (rgb, red_edge, stored))}')
        project.clear()
    finally:
        app.exitQgis()


if __name__ == '__main__':
    main()
