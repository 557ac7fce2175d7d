#!/bin/sh
# The speed figures in one run: sgemm peak (OpenBLAS default and AVX-512 kernels), the
# C engine's training step and decode on the Pavia University configuration and a small
# one, the PyTorch reference's step in the same run (when python3-torch is installed),
# one epoch through gdal_translate, and the whole-file decode to GeoTIFF with peak memory.
# usage: bench/speed.sh [build-dir]   (threads: 2)
set -eu
B=${1:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
REF="$HERE/../shared/bench/hiner_torch.py"
export GDAL_DRIVER_PATH="$B/gdalplugins"
T=2
echo "== sgemm (this machine, same run)"
"$B/bench/bench_speed" sgemm $T
OPENBLAS_CORETYPE=SkylakeX "$B/bench/bench_speed" sgemm $T
echo "== C engine: training step and decode"
"$B/bench/bench_speed" train pavia $T 9
"$B/bench/bench_speed" decode pavia $T
"$B/bench/bench_speed" train small $T 50
"$B/bench/bench_speed" decode small $T
if [ -f "$REF" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "== PyTorch reference (same run)"
    (cd "$(dirname "$REF")" && /usr/bin/python3 hiner_torch.py --shape 610,340,103 --crop 720,360 \
        --strides 5,4,3,2 --fc 6,3 --mb 1.0 --steps 5 --threads $T)
    (cd "$(dirname "$REF")" && /usr/bin/python3 hiner_torch.py --shape 100,100,200 --crop 120,120 \
        --strides 5,3,2,2 --fc 2,2 --mb 0.05 --steps 50 --threads $T)
else
    echo "== PyTorch reference: python3-torch not installed (scripts/install-deps.sh --bench)"
fi
echo "== gdal_translate: one epoch of a 610 x 340 x 103 scene (SIZE=900000 gives the reference widths 66 55 46 38 32), then the file to GeoTIFF"
TMP=$(mktemp -d)
/usr/bin/python3 "$HERE/scripts/make_sample.py" "$TMP/pavia.tif" 340 610 103 > /dev/null
/usr/bin/time -f "encode: %e s wall, peak RSS %M KB" gdal_translate -q -of HINER \
    -co EPOCHS=1 -co STRIDES=5,4,3,2 -co SIZE=900000 -co QAT_EPOCHS=0 -co NUM_THREADS=$T \
    "$TMP/pavia.tif" "$TMP/pavia.hiner"
"$B/tools/hiner" info "$TMP/pavia.hiner" | grep -E "architecture|decoder .* parameters|bits:"
GDAL_NUM_THREADS=$T /usr/bin/time -f "decode 103 bands to GeoTIFF: %e s wall, peak RSS %M KB" \
    gdal_translate -q -of GTiff "$TMP/pavia.hiner" "$TMP/back.tif"
rm -rf "$TMP"
