#!/bin/sh
# Installing like a user: configures and builds a fresh tree (library, driver, tools; no
# tests or benches), installs it into a temporary prefix with the GDAL plugin under it, then
#   - checks the installed files (shared and static library, hiner.h, hiner.pc, tools, plugin),
#   - builds tests/install/consumer.c against the installed header and library with
#     `pkg-config --cflags --libs hiner` (and statically with --static) and runs it: version,
#     a small cube round-tripped through hiner_encode_mem / hiner_open_mem, written out,
#   - builds tests/install/consumer_classify.c with `pkg-config hiner-classify` and runs it,
#   - reads that file with the installed `hiner` tool and, through the installed plugin,
#     with gdalinfo (GDAL_DRIVER_PATH=<prefix>/lib/gdalplugins).
# usage: test_install.sh SOURCE_DIR [CMAKE [WITH_DRIVER]]   (ctest passes all three)
# Environment: CC (default cc), HINER_KEEP_TMP=1 keeps the temporary directory.
set -eu
SRC=$(cd "$1" && pwd)
CMAKE=${2:-cmake}
WITH_DRIVER=${3:-1}
CC=${CC:-cc}
for tool in pkg-config "$CC"; do
    command -v "$tool" > /dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done
if [ "$WITH_DRIVER" = 1 ] && ! command -v gdalinfo > /dev/null 2>&1; then
    echo "SKIP: gdalinfo not found"; exit 77
fi
unset GDAL_DRIVER_PATH PKG_CONFIG_PATH LD_LIBRARY_PATH

T=$(mktemp -d "${TMPDIR:-/tmp}/hiner-install.XXXXXX")
B=$T/build
P=$T/prefix
cleanup() {
    if [ "${HINER_KEEP_TMP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
step() { echo; echo "== $*"; }

step "configure a fresh tree ($B)"
"$CMAKE" -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DHINER_WERROR=ON \
    -DHINER_BUILD_TESTS=OFF -DHINER_BUILD_BENCH=OFF > "$T/configure.log" 2>&1 ||
    { cat "$T/configure.log"; fail "configure"; }
if [ "$WITH_DRIVER" = 1 ]; then
    # By default the plugin goes to GDAL's own plugin directory (the one holding GDAL's
    # drivers.ini), where GDAL, QGIS and rasterio look with nothing set.
    DEFAULT_DIR=$(sed -n 's/^HINER_GDAL_PLUGIN_DIR:PATH=//p' "$B/CMakeCache.txt")
    echo "default plugin directory: $DEFAULT_DIR"
    [ -f "$DEFAULT_DIR/drivers.ini" ] ||
        fail "default HINER_GDAL_PLUGIN_DIR $DEFAULT_DIR is not GDAL's plugin directory"
fi
"$CMAKE" -S "$SRC" -B "$B" -DHINER_GDAL_PLUGIN_DIR="$P/lib/gdalplugins" > "$T/configure2.log" 2>&1 ||
    { cat "$T/configure2.log"; fail "configure with HINER_GDAL_PLUGIN_DIR"; }

step "build"
"$CMAKE" --build "$B" -j 2 > "$T/build.log" 2>&1 || { tail -40 "$T/build.log"; fail "build"; }

step "cmake --install $B --prefix $P"
"$CMAKE" --install "$B" --prefix "$P" > "$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "install"; }
(cd "$P" && find . -type f -o -type l | sort)
for f in include/hiner.h include/hiner_classify.h lib/libhiner.a lib/libhiner.so \
    lib/libhiner_classify.a lib/pkgconfig/hiner.pc lib/pkgconfig/hiner-classify.pc bin/hiner; do
    [ -e "$P/$f" ] || fail "$f not installed"
done
[ -n "$(find "$P/lib" -maxdepth 1 -name 'libhiner.so.*' -type f)" ] || fail "no libhiner.so.N"
for src in "$SRC"/tools/*.c; do
    name=$(basename "$src" .c)
    [ -x "$P/bin/$name" ] || fail "tool $name not installed"
done
if [ "$WITH_DRIVER" = 1 ]; then
    [ -f "$P/lib/gdalplugins/gdal_HINER.so" ] || fail "gdal_HINER.so not installed"
fi

step "pkg-config"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
cat "$P/lib/pkgconfig/hiner.pc"
WANT=$(sed -n 's/^project(hiner VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
GOT=$(pkg-config --modversion hiner)
echo "modversion $GOT (CMakeLists.txt: $WANT)"
[ "$GOT" = "$WANT" ] || fail "hiner.pc says version $GOT, the project is $WANT"
CFLAGS_H=$(pkg-config --cflags hiner | sed "s/ *$//")
LIBS_H=$(pkg-config --libs hiner)
STATIC_H=$(pkg-config --static --libs hiner)
echo "cflags: $CFLAGS_H"
echo "libs: $LIBS_H"
echo "static libs: $STATIC_H"
[ "$CFLAGS_H" = "-I$P/include" ] || fail "unexpected --cflags"

step "build a program against the installed library (shared, then static)"
# shellcheck disable=SC2086 # the pkg-config flags are lists
"$CC" -std=c11 -Wall -Wextra -Werror -o "$T/consumer" "$SRC/tests/install/consumer.c" \
    $CFLAGS_H $LIBS_H -lm || fail "cannot build against the shared library"
# the static archive with only what Libs.private declares
STATIC_A=$(echo "$STATIC_H" | sed 's/-lhiner\( \|$\)/-l:libhiner.a /')
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -Werror -o "$T/consumer_static" \
    "$SRC/tests/install/consumer.c" $CFLAGS_H $STATIC_A -lm ||
    fail "cannot link statically with pkg-config --static --libs hiner"
LD_LIBRARY_PATH="$P/lib" ldd "$T/consumer" | grep "libhiner.so.0 => $P/lib/" ||
    fail "consumer is not linked to the installed libhiner.so.0"
if ldd "$T/consumer_static" | grep -q libhiner; then fail "consumer_static needs libhiner.so"; fi

step "run it"
LD_LIBRARY_PATH="$P/lib" "$T/consumer" "$T/cube.hiner" || fail "consumer (shared)"
"$T/consumer_static" "$T/cube_static.hiner" || fail "consumer (static)"
cmp "$T/cube.hiner" "$T/cube_static.hiner" || fail "shared and static builds wrote different files"

step "build and run a program against the installed libhiner_classify"
cat "$P/lib/pkgconfig/hiner-classify.pc"
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -Werror -o "$T/consumer_classify" \
    "$SRC/tests/install/consumer_classify.c" $(pkg-config --cflags --libs hiner-classify) -lm ||
    fail "cannot build against libhiner_classify with pkg-config hiner-classify"
LD_LIBRARY_PATH="$P/lib" "$T/consumer_classify" || fail "consumer_classify"

step "the installed hiner tool"
"$P/bin/hiner" version
"$P/bin/hiner" info "$T/cube.hiner" | tee "$T/info.txt"
grep -q "24 x 20 pixels, 8 bands, UInt16" "$T/info.txt" || fail "hiner info does not show the cube"

if [ "$WITH_DRIVER" = 1 ]; then
    step "the installed GDAL plugin"
    mkdir -p "$T/empty"
    if GDAL_DRIVER_PATH="$T/empty" gdalinfo --format HINER > /dev/null 2>&1; then
        fail "GDAL knows HINER without the plugin: the check below would prove nothing"
    fi
    export GDAL_DRIVER_PATH="$P/lib/gdalplugins"
    gdalinfo --format HINER | head -5 | tee "$T/format.txt"
    grep -q "Short Name: HINER" "$T/format.txt" || fail "the installed plugin does not load"
    gdalinfo -checksum "$T/cube.hiner" > "$T/gdalinfo.txt" || fail "gdalinfo cannot read the file"
    grep -E "^Driver|^Size|^Band 1 |Checksum" "$T/gdalinfo.txt" | head -4
    grep -q "^Driver: HINER" "$T/gdalinfo.txt" || fail "not read by the HINER driver"
    grep -q "^Size is 24, 20" "$T/gdalinfo.txt" || fail "wrong size through GDAL"
    [ "$(grep -c '^Band ' "$T/gdalinfo.txt")" = 8 ] || fail "not 8 bands through GDAL"
    gdalinfo -oo WAVELENGTHS=612.5 "$T/cube.hiner" | grep -q "wavelength=612.5" ||
        fail "WAVELENGTHS=612.5 through the installed plugin"
fi
echo
echo "PASS: installed library, header, pkg-config file, tools and plugin work from $P"
