#!/usr/bin/python3
"""The tiles benchmark (docs/benchmarks.md, "Tiles"): large scenes made from a real one by
mirror-tiling (bench/make_mosaic.py), encoded with gdal_translate at default settings, and
what the issue asks of them:

- encode time per pixel from the smallest scene to the largest, and peak memory;
- PSNR against PCA + JPEG 2000 (../shared/bench/pca_j2k_rd.py) on the same cube;
- the error within 4 pixels of a tile edge against the tile interiors;
- a 256 x 256 window of 3 bands read in a new process; the whole file decoded to GeoTIFF;
- the same window over /vsicurl/ from a server on 127.0.0.1 honouring Range requests: the
  bytes fetched against the bytes of the tiles it touches.

usage: bench/tiles.py [--build build] [--scene abu_beach1_188] [--k 2,4,7] [--bpppb 0.2]
                      [--work /tmp/hiner-tiles-bench] [--co KEY=VALUE ...] [--no-pca]
Results: WORK/tiles.json, a Markdown table on stdout and, for each tiled scene,
WORK/corner_xK.png (a tile corner zoomed: source, decoded, error). Encodes already in WORK are kept
(delete the .hiner to measure again).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', 'shared')


def timed(cmd, env=None):
    """(wall seconds, peak RSS MB, stdout) of a command under /usr/bin/time."""
    r = subprocess.run(['/usr/bin/time', '-f', 'TIME %e %M'] + cmd, capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        sys.exit('%s failed:\n%s' % (' '.join(cmd), r.stderr[-2000:]))
    m = re.search(r'TIME ([\d.]+) (\d+)', r.stderr)
    return float(m.group(1)), int(m.group(2)) / 1024.0, r.stdout


def band_psnr(ref, rec, valid):
    """DESIGN.md: per band, the original band's min-max, valid pixels, constant bands out."""
    out = []
    for b in range(ref.shape[0]):
        v = valid[b]
        if not v.any():
            continue
        r = ref[b][v]
        rg = r.max() - r.min()
        if rg <= 0:
            continue
        mse = np.mean(((rec[b][v] - r) / rg) ** 2)
        out.append(-10 * np.log10(max(mse, 1e-12)))
    return float(np.mean(out))


def seams(ref, rec, valid, tw, th):
    """RMSE (values normalised per band) within 4 pixels of an inner tile edge, and elsewhere."""
    C, H, W = ref.shape
    x = np.arange(W)
    y = np.arange(H)
    nx = ((x % tw < 4) & (x >= 4)) | ((tw - 1 - x % tw < 4) & (x + 4 < W))
    ny = ((y % th < 4) & (y >= 4)) | ((th - 1 - y % th < 4) & (y + 4 < H))
    edge = ny[:, None] | nx[None, :]
    se = [0.0, 0.0]
    n = [0, 0]
    for b in range(C):
        v = valid[b]
        r = ref[b][v]
        if not v.any() or r.max() <= r.min():
            continue
        e = ((rec[b] - ref[b]) / (r.max() - r.min())) ** 2
        for k, m in ((1, edge & v), (0, ~edge & v)):
            se[k] += float(e[m].sum())
            n[k] += int(m.sum())
    return (se[1] / n[1]) ** 0.5, (se[0] / n[0]) ** 0.5


def corner_png(ref, dec, valid, tw, th, path):
    """A 48 x 48 crop centred on the first inner tile corner, one band in the middle of the
    spectrum: source, decoded, and the error (stretched), with the tile edges drawn."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    b = ref.shape[0] // 2
    r = 24
    sl = (slice(th - r, th + r), slice(tw - r, tw + r))
    v = valid[b]
    lo, hi = np.percentile(ref[b][sl], [1, 99])    # the crop's own stretch
    err = (dec[b] - ref[b])[sl] / (ref[b][v].max() - ref[b][v].min())
    e = max(float(np.abs(err).max()), 1e-12)
    fig, ax = plt.subplots(1, 3, figsize=(10, 3.6))
    for a, img, title, kw in (
            (ax[0], ref[b][sl], 'source, band %d' % (b + 1), dict(cmap='gray', vmin=lo, vmax=hi)),
            (ax[1], dec[b][sl], 'decoded', dict(cmap='gray', vmin=lo, vmax=hi)),
            (ax[2], err, 'error / band range (+-%.3f)' % e, dict(cmap='RdBu', vmin=-e, vmax=e))):
        a.imshow(img, interpolation='nearest', **kw)
        a.axhline(r - 0.5, color='y', lw=0.6)
        a.axvline(r - 0.5, color='y', lw=0.6)
        a.set_title(title, fontsize=9)
        a.set_xticks([])
        a.set_yticks([])
    fig.suptitle('a corner of four tiles (%d x %d), zoomed: the tile edges in yellow' % (tw, th),
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tiles_of(hiner_tool, path):
    """{(tx, ty): (x0, y0, w, h, offset, bytes)} from 'hiner info --tiles'."""
    out = subprocess.run([hiner_tool, 'info', '--tiles', path], capture_output=True,
                         text=True, check=True).stdout
    t = {}
    for m in re.finditer(r'tile (\d+),(\d+): (\d+),(\d+) (\d+) x (\d+), offset (\d+), (\d+) bytes',
                         out):
        v = [int(g) for g in m.groups()]
        t[(v[0], v[1])] = tuple(v[2:])
    head = re.search(r'header\s+(\d+) bytes', out)
    return t


def vsicurl_window(path, win, env):
    """Bytes a server on 127.0.0.1 sent while gdal_translate read the window over /vsicurl/."""
    srv = subprocess.Popen([sys.executable, os.path.join(HERE, '..', 'tests', 'driver',
                                                         'range_server.py'),
                            os.path.dirname(path)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        url = '/vsicurl/http://127.0.0.1:%d/%s' % (port, os.path.basename(path))
        e = dict(env, GDAL_DISABLE_READDIR_ON_OPEN='EMPTY_DIR')
        x, y, w, h = win
        subprocess.run(['gdal_translate', '-q', '-srcwin', str(x), str(y), str(w), str(h),
                        '-b', '1', '-b', '2', '-b', '3', url, path + '.curl.tif'], env=e,
                       check=True)
    finally:
        srv.kill()
        out, _ = srv.communicate()
    return sum(int(line.split()[-1]) for line in out.splitlines() if line.startswith('GET'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
    ap.add_argument('--scene', default='abu_beach1_188')
    ap.add_argument('--k', default='2,4,7')
    ap.add_argument('--bpppb', type=float, default=0.2)
    ap.add_argument('--work', default='/tmp/hiner-tiles-bench')
    ap.add_argument('--co', action='append', default=[])
    ap.add_argument('--no-pca', action='store_true')
    a = ap.parse_args()
    src0 = os.path.join(SHARED, 'data', a.scene + '.tif')
    if not os.path.exists(src0):
        print('%s not found: skipping' % src0)
        return 0
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ, GDAL_DRIVER_PATH=os.path.join(os.path.abspath(a.build), 'gdalplugins'),
               GDAL_NUM_THREADS='2')
    gdal.SetConfigOption('GDAL_DRIVER_PATH', env['GDAL_DRIVER_PATH'])
    gdal.AllRegister()
    hiner_tool = os.path.join(a.build, 'tools', 'hiner')
    results = []
    jpath = os.path.join(a.work, 'tiles.json')
    for k in [int(v) for v in a.k.split(',')]:
        src = os.path.join(a.work, '%s_x%d.tif' % (a.scene, k))
        if not os.path.exists(src):
            subprocess.run([sys.executable, os.path.join(HERE, 'make_mosaic.py'), src0, str(k),
                            src], check=True, stdout=subprocess.DEVNULL)
        dst = os.path.join(a.work, '%s_x%d.hiner' % (a.scene, k))
        co = ['-co', 'BPPPB=%g' % a.bpppb] + sum((['-co', c] for c in a.co), [])
        rec = {'k': k}
        if not os.path.exists(dst):
            rec['encode_s'], rec['encode_rss_mb'], _ = timed(
                ['gdal_translate', '-q', '-of', 'HINER'] + co + [src, dst], env)
            with open(dst + '.json', 'w') as f:
                json.dump(rec, f)
        with open(dst + '.json') as f:
            rec.update(json.load(f))
        ds = gdal.Open(src)
        W, H, C = ds.RasterXSize, ds.RasterYSize, ds.RasterCount
        rec.update(width=W, height=H, bands=C, bytes=os.path.getsize(dst))
        rec['bpppb'] = rec['bytes'] * 8 / (W * H * C)
        rec['us_per_pixel'] = 1e6 * rec['encode_s'] / (W * H)
        # whole file to GeoTIFF, 2 threads
        back = dst + '.tif'
        rec['decode_s'], rec['decode_rss_mb'], _ = timed(
            ['gdal_translate', '-q', '-of', 'GTiff', dst, back], env)
        rec['decode_msamples_s'] = W * H * C / rec['decode_s'] / 1e6
        ref = ds.ReadAsArray().astype(np.float64)
        nod = ds.GetRasterBand(1).GetNoDataValue()
        valid = np.isfinite(ref) & (True if nod is None else ref != nod)
        bds = gdal.Open(back)
        dec = bds.ReadAsArray().astype(np.float64)
        bds = None
        rec['psnr'] = band_psnr(ref, dec, valid)
        hds = gdal.Open(dst)
        tw, th = hds.GetRasterBand(1).GetBlockSize()
        hds = None
        rec['tile'] = [tw, th]
        if tw < W or th < H:
            rec['seam_rmse'], rec['interior_rmse'] = seams(ref, dec, valid, tw, th)
            if tw + 24 <= W and th + 24 <= H:
                rec['corner_png'] = os.path.join(a.work, 'corner_x%d.png' % k)
                corner_png(ref, dec, valid, tw, th, rec['corner_png'])
        del ref, dec, valid
        # a 256 x 256 window of 3 bands in a new process, and over /vsicurl/
        win = (max(0, W // 2 - 128), max(0, H // 2 - 128), min(256, W), min(256, H))
        x, y, w, h = win
        rec['window_s'], _, _ = timed(['gdal_translate', '-q', '-srcwin', str(x), str(y),
                                       str(w), str(h), '-b', '1', '-b', '2', '-b', '3', dst,
                                       dst + '.win.tif'], env)
        tiles = tiles_of(hiner_tool, dst)
        if tiles:
            touched = [v for v in tiles.values()
                       if v[0] < x + w and x < v[0] + v[2] and v[1] < y + h and y < v[1] + v[3]]
            rec['window_tile_bytes'] = sum(v[5] for v in touched)
            rec['window_tiles'] = len(touched)
        rec['window_fetched'] = vsicurl_window(dst, win, env)
        if not a.no_pca:
            out = subprocess.run([sys.executable, os.path.join(SHARED, 'bench', 'pca_j2k_rd.py'),
                                  src, '%g' % a.bpppb], capture_output=True, text=True).stdout
            m = re.search(r'actual bpppb ([\d.]+)\s+PSNR ([\d.]+)', out)
            if m:
                rec['pca_bpppb'], rec['pca_psnr'] = float(m.group(1)), float(m.group(2))
        for f in (back, dst + '.win.tif', dst + '.curl.tif'):
            if os.path.exists(f):
                os.remove(f)
        results.append(rec)
        print(json.dumps(rec), flush=True)
    with open(jpath, 'w') as f:
        json.dump(results, f, indent=1)
    print('\n| scene | tile | bpppb | PSNR | PCA + JPEG 2000 | encode | per pixel | peak RSS '
          '| seam / interior RMSE | window 3 x 256^2 | fetched / tiles touched | decode |')
    print('| --- ' * 12 + '|')
    for r in results:
        seam = ('%.3g / %.3g (%.2f)' % (r['seam_rmse'], r['interior_rmse'],
                                        r['seam_rmse'] / r['interior_rmse'])
                if 'seam_rmse' in r else '')
        fetched = ('%d / %d B (%d tiles)' % (r['window_fetched'], r['window_tile_bytes'],
                                             r['window_tiles'])
                   if 'window_tile_bytes' in r else '%d B' % r['window_fetched'])
        print('| %d x %d x %d | %dx%d | %.4f | %.2f | %s | %.0f s | %.1f us | %.0f MB | %s '
              '| %.2f s | %s | %.1f Msamples/s |' % (
                  r['width'], r['height'], r['bands'], r['tile'][0], r['tile'][1], r['bpppb'],
                  r['psnr'], '%.2f' % r['pca_psnr'] if 'pca_psnr' in r else '-',
                  r['encode_s'], r['us_per_pixel'], r['encode_rss_mb'], seam, r['window_s'],
                  fetched, r['decode_msamples_s']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
