#!/bin/sh
# classify_map.sh - a class map of a large tiled .hiner file (issue #22): the EnMAP Potsdam
# mosaic and its labels mirror-tiled to N x N (bench/make_mosaic.py), the cube compressed
# with the driver's default tiles, then `hiner-classify FILE LABELS --out MAP.tif` timed
# with its peak resident memory. Prints the tool's own time split and /usr/bin/time's.
#
#   bench/classify_map.sh [BUILD_DIR] [WORK_DIR]
# Environment: N (side, default 1000), EPOCHS (the encoder's, default 2: the map's cost
# does not depend on the file's quality), THREADS (default 2), ARGS (more hiner-classify
# options), DATA (default ../shared/data next to the tree). The mosaic, its labels and the
# .hiner file are reused from WORK_DIR when present.
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$HERE/build}" && pwd)
WORK=${2:-/tmp/hiner-classify-map}
DATA=${DATA:-$HERE/../shared/data}
N=${N:-1000}
EPOCHS=${EPOCHS:-2}
THREADS=${THREADS:-2}
ARGS=${ARGS:-}
SRC=$DATA/enmap_potsdam_mosaic_224.tif
LAB=$DATA/enmap_potsdam_mosaic_labels.tif
if [ ! -f "$SRC" ] || [ ! -f "$LAB" ]; then
    echo "classify_map.sh: $SRC or its labels not found (set DATA): skipped" >&2
    exit 0
fi
mkdir -p "$WORK"
export GDAL_DRIVER_PATH="$BUILD/gdalplugins"
export OPENBLAS_NUM_THREADS=1
# 160 x 192 copies: K of them cover N on both sides
K=$(( (N + 159) / 160 ))
cube=$WORK/mosaic$N.tif labels=$WORK/labels$N.tif file=$WORK/mosaic$N.hiner
[ -f "$cube" ] || /usr/bin/python3 "$HERE/bench/make_mosaic.py" "$SRC" "$K" "$cube" --crop "$N"
[ -f "$labels" ] || /usr/bin/python3 "$HERE/bench/make_mosaic.py" "$LAB" "$K" "$labels" --crop "$N"
if [ ! -f "$file" ]; then
    echo "== compressing $cube (EPOCHS=$EPOCHS, $THREADS threads)" >&2
    # NUM_THREADS, not GDAL_NUM_THREADS: with it GDAL 3.6's threaded GTiff reader logs
    # "Bad value 223 for ExtraSamples" for every block of a 224-band source
    /usr/bin/time -f "encode: %e s, peak RSS %M KB" gdal_translate -q -of HINER \
        -co NUM_THREADS="$THREADS" -co EPOCHS="$EPOCHS" -co BPPPB=0.2 "$cube" "$file.part"
    mv "$file.part" "$file"
fi
gdalinfo "$file" | grep -E "^Size is|Block=" | head -2
lscpu | grep -E "Model name" || true
# shellcheck disable=SC2086
/usr/bin/time -f "class map: %e s, peak RSS %M KB" \
    "$BUILD/tools/hiner-classify" "$file" "$labels" --threads "$THREADS" \
    --out "$WORK/map$N.tif" --json "$WORK/map$N.json" $ARGS
gdalinfo "$WORK/map$N.tif" | grep -E "^Size is|^Origin|Pixel Size|Type="
