#!/bin/sh
# Installs every Debian 12 package the build, the tests and the benchmarks need.
# Usage: sudo scripts/install-deps.sh [--bench]   (--bench adds PyTorch and matplotlib for the reference and R-D benchmarks, scikit-learn for the classification baselines)
set -eu
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS="build-essential cmake pkg-config libopenblas-dev libgdal-dev gdal-bin python3-gdal python3-numpy python3-pytest"
# rasterio and its rio command, for the driver tests of rasterio as a client
PKGS="$PKGS python3-rasterio rasterio"
# Dask distributed, for hiner-dask-encode and its tests (tests/python/test_dask.py)
PKGS="$PKGS python3-dask python3-distributed"
# scripts/fuzz.sh (libFuzzer) and scripts/test-sanitize.sh --threads (ThreadSanitizer)
PKGS="$PKGS clang libclang-rt-14-dev llvm"
# QGIS for the qgis_render test (PyQGIS, headless); works without the recommended packages
PKGS="$PKGS qgis python3-qgis"
if [ "${1:-}" = "--bench" ]; then PKGS="$PKGS python3-torch python3-scipy python3-matplotlib python3-sklearn"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends $PKGS
