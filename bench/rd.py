#!/usr/bin/python3
"""Rate-distortion bench: on every shared scene, the HINER driver at several
rates with default settings (what a user gets with no options), against per-band
JPEG 2000 and PCA + JPEG 2000 (../shared/bench/j2k_rd.py and pca_j2k_rd.py, run in the
same session). Writes a Markdown table (PSNR, SAM, bpppb, encode time), an R-D plot and,
per scene, one picture (a band, its reconstruction, the error map).

usage: bench/rd.py [--build build] [--rates 0.05,0.1,0.2,0.4] [--scenes a,b] [--out DIR]
                   [--co KEY=VALUE ...] [--no-refs] [--resume [--redo]]
Results go to DIR/rd.md, DIR/rd.json, DIR/rd.png and DIR/<scene>.png. With --resume the
(scene, rate) pairs already in DIR/rd.json are kept and only the others run; --redo runs
RATES on SCENES again.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', 'shared')
SCENES = ['sandiego_189', 'jasper_ridge_198', 'abu_beach1_188', 'hydice_urban_162',
          'samson_156', 'paviau_crop_103']


def band_psnr(ref, rec, valid=None):
    """DESIGN.md: per band, normalised by the original band's min-max over its valid pixels,
    valid pixels only, mean over bands; constant bands (zeroed water-absorption bands) are
    left out, not counted as 120 dB."""
    out = []
    for b in range(ref.shape[0]):
        v = np.isfinite(ref[b]) if valid is None else valid[b]
        if not v.any():
            continue
        r = ref[b][v].astype(np.float64)
        rg = r.max() - r.min()
        if rg <= 0:
            continue
        mse = np.mean(((rec[b][v].astype(np.float64) - r) / rg) ** 2)
        out.append(-10 * np.log10(max(mse, 1e-12)))
    return float(np.mean(out))


def sam_deg(ref, rec):
    a = ref.reshape(ref.shape[0], -1).T.astype(np.float64)
    b = rec.reshape(rec.shape[0], -1).T.astype(np.float64)
    cos = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    return float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())


def run_hiner(src, rate, tmp, extra, build):
    dst = os.path.join(tmp, f'h_{rate}.hiner')
    env = dict(os.environ, GDAL_DRIVER_PATH=os.path.join(build, 'gdalplugins'))
    cmd = ['gdal_translate', '-q', '-of', 'HINER', '-co', f'BPPPB={rate}']
    for kv in extra:
        cmd += ['-co', kv]
    t0 = time.time()
    p = subprocess.run(cmd + [src, dst], env=env, capture_output=True, text=True)
    secs = time.time() - t0
    if p.returncode != 0:
        return {'rate': rate, 'error': (p.stderr or p.stdout).strip().splitlines()[-1]}
    gdal.SetConfigOption('GDAL_DRIVER_PATH', env['GDAL_DRIVER_PATH'])
    gdal.AllRegister()
    rec = gdal.Open(dst).ReadAsArray()
    size = os.path.getsize(dst)
    return {'rate': rate, 'file': dst, 'bytes': size, 'secs': secs, 'rec': rec}


def run_ref(script, src, rates, masked=False):
    """The shared reference scripts print one line per rate. A scene with NoData goes through
    bench/ref_valid.py: measured on its valid pixels, as HINER is."""
    cmd = [os.path.join(SHARED, 'bench', script)]
    if masked:
        cmd = [os.path.join(HERE, 'ref_valid.py'), script]
    p = subprocess.run(['/usr/bin/python3'] + cmd + [src, ','.join(str(r) for r in rates)],
                       capture_output=True, text=True)
    out = {}
    for line in p.stdout.splitlines():
        m = re.search(r'target ([\d.]+)\s+actual bpppb ([\d.]+)\s+PSNR ([\d.]+) dB\s+SAM ([\d.]+)', line)
        if m:
            out[float(m.group(1))] = {'bpppb': float(m.group(2)), 'psnr': float(m.group(3)),
                                      'sam': float(m.group(4))}
    return out


def picture(path, ref, rec, band, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    r, d = ref[band].astype(np.float64), rec[band].astype(np.float64)
    lo, hi = np.percentile(r, 1), np.percentile(r, 99)
    fig, ax = plt.subplots(1, 3, figsize=(10, 3.6))
    ax[0].imshow(r, cmap='gray', vmin=lo, vmax=hi)
    ax[0].set_title(f'band {band + 1}, original')
    ax[1].imshow(d, cmap='gray', vmin=lo, vmax=hi)
    ax[1].set_title('HINER')
    e = d - r
    m = max(np.percentile(np.abs(e), 99.5), 1e-12)
    im = ax[2].imshow(e, cmap='RdBu_r', vmin=-m, vmax=m)
    ax[2].set_title('error')
    fig.colorbar(im, ax=ax[2], fraction=0.046)
    for a in ax:
        a.axis('off')
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
    ap.add_argument('--rates', default='0.05,0.1,0.2,0.4')
    ap.add_argument('--scenes', default=','.join(SCENES))
    ap.add_argument('--out', default=os.path.join(HERE, '..', 'docs', 'rd'))
    ap.add_argument('--co', action='append', default=[])
    ap.add_argument('--no-refs', action='store_true')
    ap.add_argument('--resume', action='store_true',
                    help='keep the (scene, rate) results already in OUT/rd.json and run the others')
    ap.add_argument('--redo', action='store_true',
                    help='with --resume: measure RATES on SCENES again even where present')
    a = ap.parse_args()
    rates = [float(r) for r in a.rates.split(',')]
    os.makedirs(a.out, exist_ok=True)
    results = {}
    saved = os.path.join(a.out, 'rd.json')
    if a.resume and os.path.exists(saved):
        with open(saved) as f:
            results = json.load(f)
        for res in results.values():  # JSON turned the rate keys into strings
            for key in ('j2k', 'pca'):
                res[key] = {float(k): v for k, v in res[key].items()}
    for scene in a.scenes.split(','):
        res = results.get(scene, {'hiner': [], 'j2k': {}, 'pca': {}})
        if a.redo:
            res['hiner'] = [r for r in res['hiner'] if r['rate'] not in rates]
        done = {r['rate'] for r in res['hiner']}
        todo = [r for r in rates if r not in done]
        if not todo:
            print(f'{scene}: kept from {saved}', flush=True)
            continue
        src = os.path.join(SHARED, 'data', scene + '.tif')
        if not os.path.exists(src):
            print(f'{scene}: not present, skipped', flush=True)
            continue
        sds = gdal.Open(src)
        ref = sds.ReadAsArray()
        nod = sds.GetRasterBand(1).GetNoDataValue()
        valid = np.isfinite(ref) & (True if nod is None else ref != nod)
        sds = None
        if not a.no_refs:
            masked = not valid.all()
            res['j2k'].update(run_ref('j2k_rd.py', src, todo, masked))
            res['pca'].update(run_ref('pca_j2k_rd.py', src, todo, masked))
        with tempfile.TemporaryDirectory() as tmp:
            for rate in todo:
                r = run_hiner(src, rate, tmp, a.co, a.build)
                if 'error' in r:
                    print(f'{scene} {rate}: {r["error"]}', flush=True)
                    res['hiner'].append(r)
                    continue
                C, H, W = ref.shape
                r['bpppb'] = r['bytes'] * 8 / (C * H * W)
                r['psnr'] = band_psnr(ref, r['rec'], valid)
                r['sam'] = sam_deg(ref, r['rec'])
                if rate == 0.2:
                    picture(os.path.join(a.out, f'{scene}.png'), ref, r['rec'], C // 2,
                            f'{scene} at {r["bpppb"]:.3f} bpppb: {r["psnr"]:.2f} dB')
                del r['rec']
                del r['file']
                res['hiner'].append(r)
                j = res['j2k'].get(rate, {})
                p = res['pca'].get(rate, {})
                print(f'{scene} {rate}: HINER {r["bpppb"]:.4f} bpppb {r["psnr"]:.2f} dB SAM {r["sam"]:.3f} '
                      f'({r["secs"]:.0f} s) | J2K {j.get("psnr", float("nan")):.2f} | '
                      f'PCA+J2K {p.get("psnr", float("nan")):.2f}', flush=True)
        res['hiner'].sort(key=lambda r: r['rate'])
        results[scene] = res
        with open(saved, 'w') as f:  # after every scene, so that --resume can go on
            json.dump(results, f, indent=1)
        write_table(results, a.out)
        plot(results, os.path.join(a.out, 'rd.png'))


def write_table(results, out):
    lines = ['| scene | target | HINER bpppb | HINER PSNR | SAM | encode | J2K | PCA+J2K | vs PCA+J2K |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for scene, res in results.items():
        for r in res['hiner']:
            if 'error' in r:
                lines.append(f'| {scene} | {r["rate"]} | failed: {r["error"]} | | | | | | |')
                continue
            j = res['j2k'].get(r['rate'], {}).get('psnr', float('nan'))
            p = res['pca'].get(r['rate'], {}).get('psnr', float('nan'))
            lines.append(f'| {scene} | {r["rate"]} | {r["bpppb"]:.4f} | {r["psnr"]:.2f} | '
                         f'{r["sam"]:.3f} | {r["secs"]:.0f} s | {j:.2f} | {p:.2f} | {r["psnr"] - p:+.2f} |')
    with open(os.path.join(out, 'rd.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def plot(results, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    n = len(results)
    if n == 0:
        return
    cols = 3
    rows = (n + cols - 1) // cols
    fig, axs = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, (scene, res) in zip(axs.flat, results.items()):
        h = [r for r in res['hiner'] if 'error' not in r]
        ax.plot([r['bpppb'] for r in h], [r['psnr'] for r in h], 'o-', label='HINER')
        for key, lab, st in (('pca', 'PCA+JPEG 2000', 's--'), ('j2k', 'JPEG 2000', '^:')):
            pts = sorted(res[key].values(), key=lambda v: v['bpppb'])
            if pts:
                ax.plot([v['bpppb'] for v in pts], [v['psnr'] for v in pts], st, label=lab)
        ax.set_title(scene)
        ax.set_xlabel('bpppb (whole file)')
        ax.set_ylabel('PSNR (dB)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axs.flat)[n:]:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


if __name__ == '__main__':
    main()
