#!/bin/sh
# The main job on the embedded default: generates a sample scene, trains HINER on it and
# prints the model size and the decoded PSNR. (Moves to gdal_translate with the driver.)
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh > /dev/null
scripts/build.sh
mkdir -p out
/usr/bin/python3 scripts/make_sample.py out/sample.tif
build/bench/bench_train --tif out/sample.tif --bpppb 1.0 --epochs 100 --threads 2
