#!/bin/sh
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (any report aborts)
# into build-asan (SANITIZE_BUILD overrides) and runs the test suite there: every ctest
# test that runs an executable of the build (the C tests), then the driver's pytest in a
# python process with libasan and libstdc++ preloaded (the plugin is instrumented, python
# is not; leak detection off for python's own allocations): every driver test that needs
# no real scene (HINER_SANITIZE_PYTEST=all: every one, =none: none). The other tests run
# by python or sh (qgis_render, install, ...) are named and left out.
#
# Usage: scripts/test-sanitize.sh [--threads]
#   --threads: instead, the one-off concurrency check: the library and the plugin built
#   with ThreadSanitizer (build-tsan, clang), several threads reading one .hiner through
#   GDAL (tests/fuzz/gdal_threads.c), then the same program under valgrind --tool=helgrind.
set -eu
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

if [ "${1:-}" = "--threads" ]; then
    # 1. ThreadSanitizer: libhiner and the plugin instrumented (GDAL itself is not: races
    #    inside GDAL go unseen, its locks are seen through TSan's pthread interceptors)
    CC=${CC:-clang}
    CXX=${CXX:-clang++}
    TSAN=${TSAN_BUILD:-build-tsan}
    echo "== building the plugin into $TSAN with -fsanitize=thread ($CC)"
    CC="$CC" CXX="$CXX" cmake -S . -B "$TSAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DHINER_SANITIZE=thread -DHINER_WITH_OPENBLAS=OFF -DHINER_BUILD_TESTS=OFF \
        -DHINER_BUILD_BENCH=OFF > "$TSAN.log" 2>&1 || { cat "$TSAN.log"; exit 1; }
    cmake --build "$TSAN" -j "$JOBS" --target gdal_HINER >> "$TSAN.log" 2>&1 ||
        { tail -50 "$TSAN.log"; exit 1; }
    rm -f "$TSAN.log"
    # shellcheck disable=SC2046
    "$CC" -g -O1 -fsanitize=thread $(gdal-config --cflags) tests/fuzz/gdal_threads.c \
        $(gdal-config --libs) -lm -lpthread -o "$TSAN/gdal_threads"
    rm -f "$TSAN/threads.hiner"
    echo "== $TSAN/gdal_threads: 8 threads x 4 rounds under ThreadSanitizer"
    GDAL_DRIVER_PATH="$(abspath "$TSAN")/gdalplugins" \
        TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/tests/fuzz/tsan.supp" \
        "$TSAN/gdal_threads" "$TSAN/threads.hiner" 8 4
    # 2. helgrind over the uninstrumented Release plugin: sees GDAL's accesses too
    if command -v valgrind >/dev/null 2>&1; then
        PLAIN=${PLAIN_BUILD:-build}
        [ -f "$PLAIN/gdalplugins/gdal_HINER.so" ] || scripts/build.sh
        # shellcheck disable=SC2046
        cc -g -O1 $(gdal-config --cflags) tests/fuzz/gdal_threads.c $(gdal-config --libs) \
            -lm -lpthread -o "$TSAN/gdal_threads_plain"
        echo "== the same under valgrind --tool=helgrind (4 threads x 2 rounds)"
        # helgrind does not model C11 atomics, which the decode thread pool hands jobs over
        # with (core/nn/pool.c): it reports every hand-off; the reads must still agree
        GDAL_DRIVER_PATH="$(abspath "$PLAIN")/gdalplugins" \
            valgrind --tool=helgrind "$TSAN/gdal_threads_plain" "$TSAN/threads.hiner" 4 2
    else
        echo "== valgrind absent: helgrind skipped"
    fi
    exit 0
fi

BUILD=${SANITIZE_BUILD:-build-asan}
echo "== building into $BUILD with -fsanitize=address,undefined"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHINER_WERROR=ON \
    -DHINER_SANITIZE=address,undefined -DHINER_BUILD_BENCH=OFF > "$BUILD.log" 2>&1 ||
    { cat "$BUILD.log"; exit 1; }
cmake --build "$BUILD" -j "$JOBS" >> "$BUILD.log" 2>&1 || { tail -50 "$BUILD.log"; exit 1; }
rm -f "$BUILD.log"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
# Here the tests that run an executable of this build. Those run by python or sh need
# the runtime preloaded (driver_pytest, below) or build their own tree (install): listed,
# not run under ASan.
ABS_BUILD=$(abspath "$BUILD")
OTHERS=$(cd "$BUILD" && ctest --show-only=json-v1 | /usr/bin/python3 -c '
import json, sys
tests = json.load(sys.stdin)["tests"]
print("|".join(t["name"] for t in tests if not t["command"][0].startswith(sys.argv[1])))
' "$ABS_BUILD/")
echo "== ctest under ASan + UBSan (not here: ${OTHERS:-none})"
if [ -n "$OTHERS" ]; then
    (cd "$BUILD" && ctest --output-on-failure -j 2 -E "^($OTHERS)\$")
else
    (cd "$BUILD" && ctest --output-on-failure -j 2)
fi

MODE=${HINER_SANITIZE_PYTEST:-quick}
if [ "$MODE" = none ] || [ ! -f "$BUILD/gdalplugins/gdal_HINER.so" ]; then
    echo "== driver pytest under ASan: skipped"
    exit 0
fi
# libstdc++ preloaded too: python does not link it, and ASan's __cxa_throw interceptor
# must find it at startup (else the first C++ exception, in PROJ, aborts)
LIBASAN=$(${CC:-cc} -print-file-name=libasan.so)
LIBSTDCXX=$(${CXX:-c++} -print-file-name=libstdc++.so)
if [ ! -e "$LIBASAN" ]; then
    echo "== driver pytest under ASan: libasan.so not found, skipped"
    exit 0
fi
# the real scenes take minutes under ASan; every other driver test runs
SEL="not enmap and not aviris"
[ "$MODE" = all ] && SEL=""
echo "== driver pytest under ASan (LD_PRELOAD=$LIBASAN:$LIBSTDCXX${SEL:+, -k '$SEL'})"
export GDAL_DRIVER_PATH="$(abspath "$BUILD")/gdalplugins" GDAL_NUM_THREADS=2
export LD_PRELOAD="$LIBASAN:$LIBSTDCXX" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
if [ -n "$SEL" ]; then
    /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider -k "$SEL" tests/driver
else
    /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/driver
fi
