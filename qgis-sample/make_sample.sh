#!/bin/sh
# Makes qgis-sample/enmap_potsdam.hiner, the layer hiner.qgs opens: the shared EnMAP mosaic
# (160 x 192 pixels, 224 bands, Float32 reflectance, NoData -9999, UTM 33N) compressed with
# the HINER driver. A short training (EPOCHS=60) keeps it to a few minutes on 2 cores; the
# 300-epoch default gives a sharper image.
# usage: qgis-sample/make_sample.sh [SOURCE.tif]   environment: EPOCHS, BPPPB, HINER_BUILD
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SRC=${1:-$ROOT/../shared/data/enmap_potsdam_mosaic_224.tif}
BUILD=${HINER_BUILD:-$ROOT/build}
if [ ! -f "$SRC" ]; then
    echo "make_sample.sh: $SRC not found (the shared data is absent); give a cube as argument" >&2
    exit 1
fi
# The plugin: GDAL_DRIVER_PATH if set, else the build tree's, else GDAL's own (cmake --install).
if [ -z "${GDAL_DRIVER_PATH:-}" ] && [ -f "$BUILD/gdalplugins/gdal_HINER.so" ]; then
    export GDAL_DRIVER_PATH="$BUILD/gdalplugins"
fi
if ! gdalinfo --format HINER > /dev/null 2>&1; then
    echo "make_sample.sh: GDAL does not know the HINER driver: build it (scripts/build.sh)" \
         "or set GDAL_DRIVER_PATH" >&2
    exit 1
fi
OUT="$HERE/enmap_potsdam.hiner"
rm -f "$OUT" "$OUT.aux.xml"
gdal_translate -of HINER -co EPOCHS="${EPOCHS:-60}" -co BPPPB="${BPPPB:-0.2}" "$SRC" "$OUT"
ls -l "$OUT"
echo "next: open qgis-sample/hiner.qgs in QGIS (GDAL_DRIVER_PATH=${GDAL_DRIVER_PATH:-unset}), or"
echo "      /usr/bin/python3 qgis-sample/render.py --project qgis-sample/hiner.qgs -o sample_"
