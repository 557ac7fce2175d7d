#!/usr/bin/python3
"""The tables of docs/benchmarks.md's classification section from the JSON results of
bench/classify.sh: per configuration the mean and standard deviation over seeds of OA, AA
and kappa; the baselines (bench/classify_baselines.py) on the same splits; and the paired
differences of OA between configurations of the same seed (same split, same initial
weights) with their 95 % confidence interval (Student's t over the seeds).

usage: bench/classify_summary.py WORK_DIR RATES SEEDS
  WORK_DIR  bench/classify.sh's work directory (a_orig_s1.json, b_0.1_s1.json, ...,
            baselines/knn_s1.json, ...)
  RATES     "0.01 0.02 ..." as bench/classify.sh ran them
  SEEDS     "1 2 ..."
"""
import json
import math
import os
import statistics
import sys


def t95(n):
    """Two-sided 95 % quantile of Student's t with n - 1 degrees of freedom."""
    try:
        from scipy.stats import t
        return float(t.ppf(0.975, n - 1))
    except ImportError:  # a table for the usual seed counts
        table = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365,
                 9: 2.306, 10: 2.262, 11: 2.228, 12: 2.201, 15: 2.145, 20: 2.093}
        return table.get(n, 1.96)


def load(work, name, seeds):
    out = []
    for s in seeds:
        p = os.path.join(work, f"{name}_s{s}.json")
        out.append(json.load(open(p)) if os.path.exists(p) else None)
    return out


def ms(v):
    v = [100.0 * x for x in v]
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return f"{statistics.mean(v):.2f} ± {sd:.2f}"


def paired(a, b):
    """mean [95 % CI] of 100 * (a - b) over the seeds both have."""
    d = [100.0 * (x["oa"] - y["oa"]) for x, y in zip(a, b) if x and y]
    if len(d) < 2:
        return "n/a", d
    m, sd = statistics.mean(d), statistics.stdev(d)
    h = t95(len(d)) * sd / math.sqrt(len(d))
    return f"{m:+.2f} [{m - h:+.2f}, {m + h:+.2f}]", d


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    work, rates, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
    rows = [("(a) original Float32", "a_orig")]
    for r in rates:
        rows += [(f"(b) HINER {r}", f"b_{r}"), (f"(c) HINER {r} + ASW", f"c_{r}"),
                 (f"(d) HINER {r} + ASW + ISI", f"d_{r}")]
    print(f"{len(seeds)} seeds ({', '.join(seeds)})\n")
    print("| data | bpppb | ratio | OA % | AA % | kappa x 100 | training s | total s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, name in rows:
        js = [j for j in load(work, name, seeds) if j]
        if not js:
            continue
        bp, ratio = js[0]["bpppb"], js[0]["compression_ratio"]
        rate = f"{bp:.4f} | {ratio:.0f}" if bp else "32 | 1"
        n = f" ({len(js)} seeds)" if len(js) != len(seeds) else ""
        print(f"| {label}{n} | {rate} | {ms([j['oa'] for j in js])} | "
              f"{ms([j['aa'] for j in js])} | {ms([j['kappa'] for j in js])} | "
              f"{statistics.mean(j['train_seconds'] for j in js):.0f} | "
              f"{statistics.mean(j['total_seconds'] for j in js):.0f} |")
    base = os.path.join(work, "baselines")
    if os.path.isdir(base):
        print("\nBaselines on the original cube, the same splits:\n")
        print("| method | OA % | AA % | kappa x 100 | SpectralFormer - method, OA points "
              "[95 % CI] |")
        print("| --- | --- | --- | --- | --- |")
        a = load(work, "a_orig", seeds)
        for m in ("knn", "svm", "rf"):
            js = load(base, m, seeds)
            ok = [j for j in js if j]
            if not ok:
                continue
            d, _ = paired(a, js)
            print(f"| {m} | {ms([j['oa'] for j in ok])} | {ms([j['aa'] for j in ok])} | "
                  f"{ms([j['kappa'] for j in ok])} | {d} |")
    print("\nPaired OA differences in points, mean [95 % CI] over the seeds:\n")
    print("| rate | (b) - (a) | (c) - (b) | (d) - (b) | (d) - (c) | (d) - (a) | "
          "recovered (d-b)/(a-b) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    a = load(work, "a_orig", seeds)
    for r in rates:
        b, c, d = (load(work, f"{x}_{r}", seeds) for x in "bcd")
        ba, dba = paired(b, a)
        db, ddb = paired(d, b)
        rec = (f"{statistics.mean(ddb) / -statistics.mean(dba):.2f}"
               if dba and ddb and statistics.mean(dba) < 0 else "n/a")
        print(f"| {r} | {ba} | {paired(c, b)[0]} | {db} | {paired(d, c)[0]} | "
              f"{paired(d, a)[0]} | {rec} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
