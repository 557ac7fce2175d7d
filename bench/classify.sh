#!/bin/sh
# classify.sh - classification on compressed HSI: SpectralFormer on the EnMAP Potsdam mosaic
# and its labels, (a) on the original Float32 cube, (b) on HINER files at each rate, (c) the
# same with ASW, (d) with ASW + ISI; k-nearest neighbours, an SVM and a random forest on the
# original cube (bench/classify_baselines.py). Every configuration runs the same seeds: the
# seed draws the split (50 training pixels per class, the other labelled pixels for
# testing) and the classifier's initial weights, so results are paired by seed. Prints the
# tables of docs/benchmarks.md (bench/classify_summary.py): mean and standard deviation over
# the seeds, and paired OA differences with their 95 % confidence intervals.
#
#   bench/classify.sh [BUILD_DIR] [WORK_DIR]
#     BUILD_DIR  a build of this tree with the tool and the GDAL plugin (default: build)
#     WORK_DIR   .hiner files, JSON results (default: /tmp/hiner-classify-bench); existing
#                .hiner files and results there are reused, so an interrupted run resumes
# Environment: SEEDS (default 1..10), RATES (default "0.01 0.02 0.05 0.1"), PAR (runs at
# once, default 2, each on THREADS threads, default 1), PER_CLASS (default 50), DATA
# (default ../shared/data next to the tree), ARGS (more hiner-classify options for every
# run), BASELINES=0 to skip them, HINER_EFFORT (the encoder's EFFORT, default: the driver's),
# MAPS=1 to write the class maps too.
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$HERE/build}" && pwd)
WORK=${2:-/tmp/hiner-classify-bench}
DATA=${DATA:-$HERE/../shared/data}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
RATES=${RATES:-"0.01 0.02 0.05 0.1"}
PAR=${PAR:-2}
THREADS=${THREADS:-1}
PER_CLASS=${PER_CLASS:-50}
ARGS=${ARGS:-}
BASELINES=${BASELINES:-1}
HINER_EFFORT=${HINER_EFFORT:-}
MAPS=${MAPS:-0}
SRC=$DATA/enmap_potsdam_mosaic_224.tif
LAB=$DATA/enmap_potsdam_mosaic_labels.tif
TOOL=$BUILD/tools/hiner-classify

if [ ! -f "$SRC" ] || [ ! -f "$LAB" ]; then
    echo "classify.sh: $SRC or its labels not found (set DATA): skipped" >&2
    exit 0
fi
[ -x "$TOOL" ] || { echo "classify.sh: $TOOL not built" >&2; exit 1; }
mkdir -p "$WORK"
export GDAL_DRIVER_PATH="$BUILD/gdalplugins"
export OPENBLAS_NUM_THREADS=1

# the compressed files, with the command and the library's commit beside each
for r in $RATES; do
    f="$WORK/enmap_$r.hiner"
    [ -f "$f" ] && continue
    echo "== compressing at $r bpppb" >&2
    set -- -of HINER -co BPPPB="$r" ${HINER_EFFORT:+-co EFFORT="$HINER_EFFORT"}
    echo "gdal_translate $* $SRC $f  # $(git -C "$HERE" rev-parse HEAD 2>/dev/null)" \
        > "$f.cmd"
    GDAL_NUM_THREADS=$((PAR * THREADS)) gdal_translate -q "$@" "$SRC" "$f.part"
    mv "$f.part" "$f"
done

# every run as one line: NAME IMAGE [OPTIONS]
jobs="$WORK/jobs.txt"
: > "$jobs"
for s in $SEEDS; do
    echo "a_orig_s$s $SRC --seed $s" >> "$jobs"
    for r in $RATES; do
        f="$WORK/enmap_$r.hiner"
        echo "b_${r}_s$s $f --seed $s" >> "$jobs"
        echo "c_${r}_s$s $f --seed $s --asw" >> "$jobs"
        echo "d_${r}_s$s $f --seed $s --asw --isi" >> "$jobs"
    done
done
run_one() { # NAME IMAGE [OPTIONS]
    name=$1 img=$2
    shift 2
    [ -f "$WORK/$name.json" ] && return 0
    [ "$MAPS" = 1 ] && set -- "$@" --out "$WORK/$name.tif"
    # shellcheck disable=SC2086
    "$TOOL" "$img" "$LAB" --train-per-class "$PER_CLASS" --threads "$THREADS" --quiet \
        --json "$WORK/$name.json.part" "$@" $ARGS > "$WORK/$name.txt" &&
        mv "$WORK/$name.json.part" "$WORK/$name.json" && echo "== $name" >&2
}
# PAR workers, each taking every PAR-th line
i=1
while [ "$i" -le "$PAR" ]; do
    sed -n "$i~${PAR}p" "$jobs" | while read -r line; do
        # shellcheck disable=SC2086
        run_one $line || echo "classify.sh: failed: $line (see $WORK)" >&2
    done &
    i=$((i + 1))
done
wait

if [ "$BASELINES" = 1 ]; then
    /usr/bin/python3 "$HERE/bench/classify_baselines.py" "$TOOL" "$SRC" "$LAB" \
        "$WORK/baselines" $SEEDS >&2
fi
/usr/bin/python3 "$HERE/bench/classify_summary.py" "$WORK" "$RATES" "$SEEDS"
