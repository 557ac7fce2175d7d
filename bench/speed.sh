#!/bin/sh
# The speed figures in one run, for each kernel set this CPU runs (avx2 always; avx512 where
# present, avx2 then forced with HINER_ISA=avx2): the sgemm peak each set is held to
# (OpenBLAS's AVX2 kernels for avx2, its AVX-512 kernels for avx512), the C engine's
# training step and decode on the Pavia University configuration and a small one, the
# PyTorch reference's step in the same run with the same instruction set (oneDNN capped to
# AVX2 for the avx2 rows) when python3-torch is installed, each micro-kernel's throughput;
# then one epoch through gdal_translate and the whole-file decode to GeoTIFF with peak memory.
# usage: bench/speed.sh [build-dir] [threads]   (threads: 2 unless given)
set -eu
B=${1:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
REF="$HERE/../shared/bench/hiner_torch.py"
export GDAL_DRIVER_PATH="$B/gdalplugins"
T=${2:-2}
echo "== this machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs"
SETS=avx2
grep -qw avx512f /proc/cpuinfo && SETS="avx2 avx512"
torch_ok=0
[ -f "$REF" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && torch_ok=1
for isa in $SETS; do
    if [ "$isa" = avx2 ]; then core=Haswell; cap=AVX2; else core=SkylakeX; cap=ALL; fi
    echo "== kernel set $isa (HINER_ISA=$isa); reference: OpenBLAS sgemm with its $core kernels"
    OPENBLAS_CORETYPE=$core "$B/bench/bench_speed" sgemm $T
    HINER_ISA=$isa "$B/bench/bench_speed" train pavia $T 9
    HINER_ISA=$isa "$B/bench/bench_speed" decode pavia $T
    HINER_ISA=$isa "$B/bench/bench_speed" train small $T 50
    HINER_ISA=$isa "$B/bench/bench_speed" decode small $T
    if [ $torch_ok = 1 ]; then
        echo "-- PyTorch reference, same run (oneDNN ISA cap: $cap, OpenBLAS $core)"
        (cd "$(dirname "$REF")" && ONEDNN_MAX_CPU_ISA=$cap DNNL_MAX_CPU_ISA=$cap \
            OPENBLAS_CORETYPE=$core /usr/bin/python3 hiner_torch.py --shape 610,340,103 \
            --crop 720,360 --strides 5,4,3,2 --fc 6,3 --mb 1.0 --steps 5 --threads $T)
        (cd "$(dirname "$REF")" && ONEDNN_MAX_CPU_ISA=$cap DNNL_MAX_CPU_ISA=$cap \
            OPENBLAS_CORETYPE=$core /usr/bin/python3 hiner_torch.py --shape 100,100,200 \
            --crop 120,120 --strides 5,3,2,2 --fc 2,2 --mb 0.05 --steps 50 --threads $T)
    else
        echo "-- PyTorch reference: python3-torch not installed (scripts/install-deps.sh --bench)"
    fi
done
echo "== micro-kernels, one thread, operands in L1"
"$B/bench/bench_speed" kernels
echo "== gdal_translate: one epoch of a 610 x 340 x 103 scene, then the file to GeoTIFF"
echo "   (one tile, BLOCKXSIZE=1024: SIZE=900000 gives the reference widths 66 55 46 38 32)"
TMP=$(mktemp -d)
/usr/bin/python3 "$HERE/scripts/make_sample.py" "$TMP/pavia.tif" 340 610 103 > /dev/null
/usr/bin/time -f "encode: %e s wall, peak RSS %M KB" gdal_translate -q -of HINER \
    -co EPOCHS=1 -co STRIDES=5,4,3,2 -co SIZE=900000 -co QAT_EPOCHS=0 -co NUM_THREADS=$T \
    -co BLOCKXSIZE=1024 \
    "$TMP/pavia.tif" "$TMP/pavia.hiner"
"$B/tools/hiner" info "$TMP/pavia.hiner" | grep -E "architecture|decoder .* parameters|bits:"
GDAL_NUM_THREADS=$T /usr/bin/time -f "decode 103 bands to GeoTIFF: %e s wall, peak RSS %M KB" \
    gdal_translate -q -of GTiff "$TMP/pavia.hiner" "$TMP/back.tif"
rm -rf "$TMP"
