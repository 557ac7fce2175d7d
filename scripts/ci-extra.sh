#!/bin/sh
# CI after scripts/test.sh (.ci/run): the whole test suite under ASan + UBSan, then the
# two fuzz targets of the file reader for a bounded time (docs/robustness.md). Measured
# on 2 shared cores, about 8 minutes: sanitizer build and C tests ~3.5, the driver tests
# under ASan ~1.5, the fuzz build ~0.7, fuzzing 2 x 60 s.
# Env: FUZZ_SECONDS (default 60), CI_EXTRA=none to skip all of it.
set -eu
cd "$(dirname "$0")/.."
if [ "${CI_EXTRA:-}" = none ]; then
    echo "ci-extra: skipped (CI_EXTRA=none)"
    exit 0
fi
start=$(date +%s)
scripts/test-sanitize.sh
mid=$(date +%s)
scripts/fuzz.sh "${FUZZ_SECONDS:-60}" container open
end=$(date +%s)
echo "ci-extra: sanitizers $((mid - start)) s, fuzzing $((end - mid)) s"
