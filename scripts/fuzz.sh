#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ with Debian's clang (-fsanitize=fuzzer,
# address,undefined) and fuzzes each for a bounded time, starting from the seed corpus and
# the kept regressions. A crash leaves its input in $BUILD/artifacts/ and fails the script.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#        default 60 s each; targets: container, open (the whole reading path through the
#        public API), records (the payload decoders fed directly); default all three
# Env:   FUZZ_BUILD (default build-fuzz), FUZZ_JOBS (parallel build jobs, default 2),
#        FUZZ_ARGS (extra libFuzzer flags), CC (default clang).
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=${*:-container open records}
BUILD=${FUZZ_BUILD:-build-fuzz}
CC=${CC:-clang}
JOBS=${FUZZ_JOBS:-2}

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz.sh: $CC not found (scripts/install-deps.sh installs clang); skipped"
    exit 0
fi
# libFuzzer ships in libclang-rt-*-dev: check that it links before building anything
probe=$(mktemp -d)
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
    > "$probe/p.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null; then
    rm -rf "$probe"
    echo "fuzz.sh: $CC cannot link -fsanitize=fuzzer (libclang-rt-dev missing?); skipped"
    exit 0
fi
rm -rf "$probe"

# the library, instrumented for coverage and with ASan + UBSan (aborting on any report)
echo "== building the library into $BUILD (clang, fuzzer-no-link, address,undefined)"
CC="$CC" CFLAGS="-fsanitize=fuzzer-no-link -g" cmake -S . -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHINER_SANITIZE=address,undefined \
    -DHINER_WITH_OPENBLAS=OFF -DHINER_BUILD_DRIVER=OFF -DHINER_BUILD_TESTS=OFF \
    -DHINER_BUILD_BENCH=OFF > "$BUILD.log" 2>&1 || { cat "$BUILD.log"; exit 1; }
cmake --build "$BUILD" -j "$JOBS" --target hiner_static >> "$BUILD.log" 2>&1 ||
    { tail -40 "$BUILD.log"; exit 1; }
rm -f "$BUILD.log"

status=0
mkdir -p "$BUILD/artifacts"
for t in $TARGETS; do
    src=tests/fuzz/fuzz_$t.c
    [ -f "$src" ] || { echo "fuzz.sh: no target $src"; exit 2; }
    "$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -Iinclude "$src" "$BUILD/libhiner.a" -lm -lpthread -o "$BUILD/fuzz_$t"
    # a working corpus per target: the seeds and the regressions, plus what fuzzing adds
    corpus="$BUILD/corpus-$t"
    mkdir -p "$corpus"
    seeds=tests/fuzz/corpus
    [ "$t" = records ] && seeds=tests/fuzz/corpus-records
    cp "$seeds"/* "$corpus/"
    for f in tests/fuzz/regressions/*; do [ -f "$f" ] && cp "$f" "$corpus/"; done
    echo "== fuzzing $t for $SECONDS_EACH s"
    log="$BUILD/fuzz_$t.log"
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$BUILD/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2560 \
        -malloc_limit_mb=2048 -max_len=16384 -print_final_stats=1 -dict=tests/fuzz/hiner.dict \
        -artifact_prefix="$BUILD/artifacts/$t-" ${FUZZ_ARGS:-} "$corpus" > "$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "   $t: ${runs:-?} executions, $cov, no crash"
    else
        status=1
        echo "   $t: FAILED, see $log; inputs in $BUILD/artifacts/"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20
    fi
done
exit $status
