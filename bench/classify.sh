#!/bin/sh
# classify.sh - classification on compressed HSI: SpectralFormer on the EnMAP
# Potsdam mosaic and its labels, (a) on the original Float32 cube, (b) on HINER files at
# about 0.1 and 0.2 bpppb, (c) the same with ASW, (d) with ASW + ISI; three seeds each
# (the seed draws the split, so the four configurations of a seed share their training
# and test pixels). Prints a markdown table of OA / AA / kappa (mean and standard
# deviation), compression ratios and training times (the section of docs/benchmarks.md).
#
#   bench/classify.sh [BUILD_DIR] [WORK_DIR]
#     BUILD_DIR  a build of this tree with the tool and the GDAL plugin (default: build)
#     WORK_DIR   .hiner files, class maps and JSON metrics (default: /tmp/hiner-classify-bench);
#                existing .hiner files and JSON results there are reused, so an interrupted
#                run resumes where it stopped
# Environment: SEEDS (default "1 2 3"), RATES (default "0.1 0.2"), EPOCHS (classifier,
# default: the tool's), PER_CLASS (training pixels per class, default 50), THREADS
# (default 2), HINER_EPOCHS (compression, default: the driver's automatic budget), DATA
# (default ../shared/data next to the tree), MAPS=1 to write the class maps too.
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$HERE/build}" && pwd)
WORK=${2:-/tmp/hiner-classify-bench}
DATA=${DATA:-$HERE/../shared/data}
SEEDS=${SEEDS:-"1 2 3"}
RATES=${RATES:-"0.1 0.2"}
EPOCHS=${EPOCHS:-}
PER_CLASS=${PER_CLASS:-50}
THREADS=${THREADS:-2}
HINER_EPOCHS=${HINER_EPOCHS:-AUTO}
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

# the compressed files (HINER training, about 7 minutes each with the default budget)
for r in $RATES; do
    f="$WORK/enmap_$r.hiner"
    if [ ! -f "$f" ]; then
        echo "== compressing at $r bpppb ($HINER_EPOCHS epochs)" >&2
        GDAL_NUM_THREADS=$THREADS gdal_translate -q -of HINER -co BPPPB="$r" \
            -co EPOCHS="$HINER_EPOCHS" "$SRC" "$f"
    fi
done

run() { # name image [options]
    name=$1 img=$2
    shift 2
    [ -f "$WORK/$name.json" ] && return 0
    echo "== $name" >&2
    set -- "$@" ${EPOCHS:+--epochs "$EPOCHS"}
    [ "$MAPS" = 1 ] && set -- "$@" --out "$WORK/$name.tif"
    "$TOOL" "$img" "$LAB" --train-per-class "$PER_CLASS" --threads "$THREADS" --quiet \
        --json "$WORK/$name.json.part" "$@" > "$WORK/$name.txt"
    mv "$WORK/$name.json.part" "$WORK/$name.json"
}

for s in $SEEDS; do
    run "a_orig_s$s" "$SRC" --seed "$s"
    for r in $RATES; do
        run "b_${r}_s$s" "$WORK/enmap_$r.hiner" --seed "$s"
        run "c_${r}_s$s" "$WORK/enmap_$r.hiner" --seed "$s" --asw
        run "d_${r}_s$s" "$WORK/enmap_$r.hiner" --seed "$s" --asw --isi
    done
done

python3 - "$WORK" "$RATES" "$SEEDS" <<'EOF'
import json, os, statistics, sys
work, rates, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def load(name):
    return [json.load(open(os.path.join(work, f"{name}_s{s}.json"))) for s in seeds]
def ms(v, scale=100.0):
    v = [x * scale for x in v]
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return f"{statistics.mean(v):.2f} ± {sd:.2f}"
rows = [("(a) original Float32", "a_orig")]
for r in rates:
    rows += [(f"(b) HINER {r}", f"b_{r}"), (f"(c) HINER {r} + ASW", f"c_{r}"),
             (f"(d) HINER {r} + ASW + ISI", f"d_{r}")]
j0 = load("a_orig")[0]
print(f"{len(seeds)} seeds; {j0['split']['per_class']} training pixels per class "
      f"({j0['split']['train_pixels']} training, {j0['split']['test_pixels']} test pixels)\n")
print("| data | bpppb | ratio | OA % | AA % | kappa x 100 | training s | total s |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for label, name in rows:
    js = load(name)
    bp = js[0]["bpppb"]
    ratio = js[0]["compression_ratio"]
    print(f"| {label} | {bp:.4f} | {ratio:.0f} |" if bp else f"| {label} | 32 | 1 |",
          ms([j["oa"] for j in js]), "|", ms([j["aa"] for j in js]), "|",
          ms([j["kappa"] for j in js]), "|",
          f"{statistics.mean(j['train_seconds'] for j in js):.0f} |",
          f"{statistics.mean(j['total_seconds'] for j in js):.0f} |")
# paired by seed (same split and initialisation): what the targets compare
print("\nPaired OA differences in points (mean ± sd over seeds; per seed):\n")
print("| rate | (b) - (a) | (c) - (b) | (d) - (b) | (d) - (a) |")
print("| --- | --- | --- | --- | --- |")
def diff(x, y):
    d = [100.0 * (p["oa"] - q["oa"]) for p, q in zip(load(x), load(y))]
    sd = statistics.stdev(d) if len(d) > 1 else 0.0
    return f"{statistics.mean(d):+.2f} ± {sd:.2f} (" + ", ".join(f"{v:+.1f}" for v in d) + ")"
for r in rates:
    print(f"| {r} | {diff(f'b_{r}', 'a_orig')} | {diff(f'c_{r}', f'b_{r}')} | "
          f"{diff(f'd_{r}', f'b_{r}')} | {diff(f'd_{r}', 'a_orig')} |")
EOF
