#!/usr/bin/python3
"""The distributed encoding benchmark (docs/benchmarks.md, "Distributed encoding"): the
tiles benchmark's scene (bench/make_mosaic.py: abu_beach1_188 mirror-tiled K x K, cropped
to N x N) in tiles of --tile pixels encoded

- in this process, tile after tile on one thread (hiner.tiled.encode_local): the baseline;
- by hiner.dask on a LocalCluster of 1, then 2 worker processes of one thread (the cluster
  started before the clock, its start-up reported apart);
- by gdal_translate with NUM_THREADS=2 (and 1 with --driver1): the driver's threaded
  encoder, for reference;

each file checked byte for byte against gdal_translate's. Each is timed in wall and in CPU
seconds (this process and its children: the cluster's processes), since the machines are
shared. Speed-up: 1 worker / 2 workers, wall. Dask's overhead: 1 worker against in process,
the same tiles on one thread each way. --default-tile also times one default tile at the
default settings (EFFORT), for the scaling on paper in docs/distributed.md.

usage: bench/dask_bench.py [--build build] [--k 4] [--crop 600] [--tile 128] [--epochs 2]
                           [--bpppb 0.2] [--work /tmp/hiner-dask-bench] [--default-tile]
                           [--driver1]
Results: WORK/dask.json and a Markdown table on stdout.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', 'shared')


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def default_tile(src, bpppb, dst):
    """A default tile (160 x 160) at the default settings, without training it in full: the
    epochs the default EFFORT gives it (read from the library's log, the encode cancelled
    at its first step), then the tile trained for one epoch, its stages timed by the log
    (epoch, sensitivities, rate fit) and scaled to the thread's CPU time."""
    import re

    import hiner
    import hiner._lib as L
    import hiner.tiled as T
    out = {}
    for opts in (['BPPPB=%g' % bpppb], ['BPPPB=%g' % bpppb, 'EPOCHS=1']):
        job = T.Job(src, dst, opts)
        for t in range(job.n):
            job.add_stats(T.stats_task(job.spec, t))
        job.finish_plan()
        tiler = hiner.Tiler.load(job.blob, job.spec['shape'][0], job.spec['dtype'])
        lines = []
        log = L.LogCollector(lambda level, msg: lines.append(msg))
        first = 'EPOCHS=1' not in opts
        progress = L.PROGRESS_FN(lambda frac, msg, user: 0 if first else 1)
        L.check(tiler._dll.hiner_tiler_set_callbacks(tiler.handle, progress, None, log.fn, None))
        _, train = tiler.window(0)
        px = T.read_window(src, train, job.spec['gdal_type'], 0)
        c0, t0 = time.thread_time(), time.perf_counter()
        try:
            tiler.encode(0, px)
        except hiner.HinerError as e:
            if e.name != 'HINER_E_ABORTED':
                raise
        cpu, wall = time.thread_time() - c0, time.perf_counter() - t0
        text = '\n'.join(lines)
        if first:
            m = re.search(r'training: (\d+) epochs(?: \(automatic\))?, then (\d+) of '
                          r'fine-tuning', text)
            out['default_epochs'], out['default_qat'] = int(m.group(1)), int(m.group(2))
        else:
            epoch = float(re.search(r'training epoch 1/1 .* ([\d.]+) s', text).group(1))
            scale = cpu / wall  # the machine is shared: wall seconds to this thread's CPU
            out['epoch_cpu_s'] = epoch * scale
            out['fixed_cpu_s'] = cpu - epoch * scale
            out['one_epoch_tile_cpu_s'] = cpu
        tiler.close()
        job.drop_scratch()
        job.close()
    out['default_tile_cpu_s'] = ((out['default_epochs'] + out['default_qat']) *
                                 out['epoch_cpu_s'] + out['fixed_cpu_s'])
    return out


_windows = {}


def tile_pixels(src, options, t):
    """Pixels of tile t's training window (the priority hiner.dask gives it)."""
    import hiner
    key = (src, tuple(options))
    if key not in _windows:
        plan = hiner.SourcePlan(src, options)
        _windows[key] = [plan.tiler.window(k)[1] for k in range(plan.tiler.count)]
        plan.close()
    w = _windows[key][t]
    return w[2] * w[3]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
    ap.add_argument('--scene', default='abu_beach1_188')
    ap.add_argument('--k', type=int, default=4)
    ap.add_argument('--crop', type=int, default=600)
    ap.add_argument('--tile', type=int, default=128)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--bpppb', type=float, default=0.2)
    ap.add_argument('--work', default='/tmp/hiner-dask-bench')
    ap.add_argument('--default-tile', action='store_true')
    ap.add_argument('--driver1', action='store_true')
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(build, 'python'))
    os.environ['GDAL_DRIVER_PATH'] = os.path.join(build, 'gdalplugins')
    import psutil
    import hiner
    import hiner.dask
    import hiner.tiled
    from distributed import Client, LocalCluster

    src0 = os.path.join(SHARED, 'data', a.scene + '.tif')
    if not os.path.exists(src0):
        print('%s not found: skipping' % src0)
        return 0
    os.makedirs(a.work, exist_ok=True)
    src = os.path.join(a.work, '%s_x%d_%d.tif' % (a.scene, a.k, a.crop))
    if not os.path.exists(src):
        subprocess.run([sys.executable, os.path.join(HERE, 'make_mosaic.py'), src0, str(a.k),
                        src, '--crop', str(a.crop)], check=True, stdout=subprocess.DEVNULL)
    options = ['BPPPB=%g' % a.bpppb, 'EPOCHS=%d' % a.epochs, 'BLOCKXSIZE=%d' % a.tile]
    rec = dict(scene=os.path.basename(src), options=options,
               cpu=subprocess.run(['sh', '-c', "lscpu | sed -n 's/^Model name: *//p'"],
                                  capture_output=True, text=True).stdout.strip())
    loads = [os.getloadavg()[0]]

    def dst(name):
        return os.path.join(a.work, name + '.hiner')

    def cpu_of_tree():
        """CPU seconds of this process and its live children (the cluster's processes)."""
        me = psutil.Process()
        total = sum(me.cpu_times()[:2])
        for c in me.children(recursive=True):
            try:
                total += sum(c.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total

    def measure(name, fn):
        c0, t0 = cpu_of_tree(), time.perf_counter()
        r = fn()
        rec[name + '_s'] = time.perf_counter() - t0
        rec[name + '_cpu_s'] = cpu_of_tree() - c0
        loads.append(os.getloadavg()[0])
        return r

    co = sum((['-co', o] for o in options), [])
    ref = dst('driver2')
    for n in (2, 1) if a.driver1 else (2,):
        def translate():
            p = subprocess.run(['/usr/bin/time', '-f', '%U %S', 'gdal_translate', '-q', '-of',
                                'HINER', '-co', 'NUM_THREADS=%d' % n] + co +
                               [src, dst('driver%d' % n)], check=True, capture_output=True,
                               text=True)
            return sum(float(v) for v in p.stderr.split()[-2:])
        rec['driver_%d_cpu_s' % n] = measure('driver_%d' % n, translate)
    rec['bytes'] = os.path.getsize(ref)

    rep = measure('local', lambda: hiner.tiled.encode_local(src, dst('local'), options))
    rec['tiles'] = rep['tiles']
    rec['local_tile_cpu_s'] = rep['tile_cpu_seconds']
    # 2 workers each on a core of its own: the tiles' CPU times in hiner.dask's order
    # (largest training window first), each to the worker free first
    job_w = {t: rep['tile_cpu'][t] for t in rep['tile_cpu']}
    order = sorted(job_w, key=lambda t: -tile_pixels(src, options, t))
    free = [0.0, 0.0]
    for t in order:
        free[free.index(min(free))] += job_w[t]
    rec['model_2_makespan_s'] = max(free)
    rec['model_speedup'] = sum(job_w.values()) / max(free)
    assert read(dst('local')) == read(ref), 'in-process file differs'
    for n in (1, 2):
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=':0')
        client = Client(cluster)
        rec['cluster_%d_start_s' % n] = time.perf_counter() - t0
        rep = measure('dask_%d' % n, lambda: hiner.dask.encode(src, dst('dask%d' % n), options,
                                                                client=client))
        rec['dask_%d_tile_cpu_s' % n] = rep['tile_cpu_seconds']
        rec['dask_%d_plan_s' % n] = rep['plan_s']
        client.close()
        cluster.close()
        assert read(dst('dask%d' % n)) == read(ref), 'Dask file (%d workers) differs' % n
    rec['speedup'] = rec['dask_1_s'] / rec['dask_2_s']
    rec['overhead_wall'] = rec['dask_1_s'] / rec['local_s'] - 1
    rec['overhead_cpu'] = rec['dask_1_cpu_s'] / rec['local_cpu_s'] - 1
    rec['loadavg'] = loads

    with open(os.path.join(a.work, 'dask.json'), 'w') as f:
        json.dump(rec, f, indent=1)
    if a.default_tile:
        rec.update(default_tile(src, a.bpppb, dst('default')))
        with open(os.path.join(a.work, 'dask.json'), 'w') as f:
            json.dump(rec, f, indent=1)
    print(json.dumps(rec))
    print('\n| %s, %d tiles, %s | wall s | CPU s |' % (rec['scene'], rec['tiles'],
                                                    ' '.join(options)))
    print('| --- | --- | --- |')
    rows = [('in process, tile after tile (hiner.tiled.encode_local)', 'local'),
            ('Dask, 1 worker of 1 thread', 'dask_1'), ('Dask, 2 workers of 1 thread', 'dask_2'),
            ('gdal_translate NUM_THREADS=1', 'driver_1'),
            ('gdal_translate NUM_THREADS=2', 'driver_2')]
    for label, k in rows:
        if k + '_s' in rec:
            print('| %s | %.1f | %.1f |' % (label, rec[k + '_s'], rec[k + '_cpu_s']))
    print('\nspeed-up 1 -> 2 workers %.2fx (%.2fx for 2 free cores from the tiles\' CPU times); '
          'Dask overhead against in process: wall %+.1f %%, CPU %+.1f %%; cluster start-up '
          '%.1f s (1 worker), %.1f s (2); load average %s'
          % (rec['speedup'], rec['model_speedup'], 100 * rec['overhead_wall'],
             100 * rec['overhead_cpu'],
             rec['cluster_1_start_s'], rec['cluster_2_start_s'],
             ' '.join('%.1f' % v for v in loads)))
    if 'default_tile_cpu_s' in rec:
        print('one default tile at the default settings: %d + %d epochs, about %.0f s of CPU '
              '(%.1f s per epoch, %.1f s of sensitivities and rate fit)'
              % (rec['default_epochs'], rec['default_qat'], rec['default_tile_cpu_s'],
                 rec['epoch_cpu_s'], rec['fixed_cpu_s']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
