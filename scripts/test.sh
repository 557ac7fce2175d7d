#!/bin/sh
# From a fresh Debian 12 machine to green tests: installs the packages, builds, runs ctest.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd build && ctest --output-on-failure -j 2
