#!/bin/sh
# The main job on the embedded default: a generated sample scene (96 x 80 x 48 UInt16 with
# wavelengths and UTM georeferencing) compressed to .hiner with gdal_translate, decoded back
# to GeoTIFF, and the size, bpppb and PSNR printed. Extra arguments go to gdal_translate
# (for example -co BPPPB=0.4 -co EFFORT=5). EFFORT=3 keeps it well under a minute.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh > /dev/null
scripts/build.sh
export GDAL_DRIVER_PATH="$PWD/build/gdalplugins"
mkdir -p out
/usr/bin/python3 scripts/make_sample.py out/sample.tif
rm -f out/sample.hiner out/sample_decoded.tif
# the caller's options first: GDAL takes the first of a repeated creation option
gdal_translate -of HINER "$@" -co BPPPB=0.2 -co EFFORT=3 out/sample.tif out/sample.hiner
gdal_translate -q -of GTiff out/sample.hiner out/sample_decoded.tif
/usr/bin/python3 scripts/compare.py out/sample.tif out/sample_decoded.tif out/sample.hiner
