"""Tiled encodes on a Dask cluster (docs/distributed.md).

The client plans: one task per tile reads the tile's pixels on a worker and returns its
statistics (a few hundred bytes); the plugin plans the tiles with the source's metadata as
CreateCopy does. Then the prior tile trains, with the tiles that do not start from it
beside it; then the others, given the prior's weights. Each task reads its own training
window with GDAL, trains on one thread and returns the tile's bytes; no pixel goes through
the scheduler. The client keeps each finished tile in the scratch directory (a rerun after
a crash reuses them) and writes the file, in tile order, under a temporary name renamed at
the end: the bytes gdal_translate -of HINER writes with the same options, whatever the
number of workers and the order in which tiles finish.

A worker that dies in the middle of a tile costs that tile: Dask runs it again elsewhere.
A tile that fails for a reason of its own (a read error, a target it cannot meet) stops
the job: the other tasks are cancelled, no file and no temporary file are left.
"""
import time
import uuid

from . import _lib as L
from .tiled import Job, Progress, single_task, stats_task, tile_task


def encode(src, dst, options=(), client=None, scratch=None, progress=False, warn=None):
    """Encodes the GDAL source src into dst on the cluster of `client` (a
    distributed.Client; None: the current one). options: the driver's creation options
    ('KEY=VALUE'). scratch: the directory of finished tiles (default dst + '.hiner-tiles',
    removed once the file is written). progress: GDAL's 0...10...100 bar over the tiles on
    stdout. Returns a report (dict); raises HinerError when a tile or the plan fails."""
    from distributed import as_completed, get_client
    client = client or get_client()
    t0 = time.perf_counter()
    job = Job(src, dst, options, scratch, warn)
    rep = dict(tiles=job.n, workers=len(client.scheduler_info()['workers']))
    futures = []
    try:
        if job.n == 1:
            f = client.submit(single_task, job.src, job.options, pure=False)
            futures.append(f)
            rep['bytes'] = job.write_single(f.result())
            rep['seconds'] = time.perf_counter() - t0
            return rep
        bar = Progress(job, progress)
        bar.set(0.0)
        token = uuid.uuid4().hex[:12]
        stats = [client.submit(stats_task, job.spec, t, key='hiner-stats-%s-%d' % (token, t))
                 for t in range(job.n)]
        futures += stats
        for k, (_, blob) in enumerate(as_completed(stats, with_results=True)):
            job.add_stats(blob)
            bar.stats(k + 1, job.n)
        job.finish_plan()
        rep['reused'] = job.reused
        rep['plan_s'] = time.perf_counter() - t0
        bar.reuse(job)
        blob = client.scatter(job.blob, broadcast=True)
        done = as_completed()
        prior_w = None
        if job.prior_weights is not None:
            prior_w = client.scatter(job.prior_weights, broadcast=True)

        top = 1 + max(job.weight(t) for t in range(job.n))

        def submit(t):
            # the prior first, then the largest tiles first: the last ones to finish are small
            start = job.needs_prior(t)
            f = client.submit(tile_task, job.spec, blob, t, prior_w if start else None,
                              t == job.prior, key='hiner-tile-%s-%d' % (job.key[:16], t),
                              priority=top if t == job.prior else job.weight(t))
            futures.append(f)
            done.add(f)

        waiting = []
        for t in job.todo():
            if job.needs_prior(t) and prior_w is None:
                waiting.append(t)  # until the prior's weights are known
            else:
                submit(t)
        busy = cpu = 0.0
        rep['tile_cpu'] = {}
        for f in done:
            t, run, weights, sec, csec = f.result()
            busy += sec
            cpu += csec
            rep['tile_cpu'][t] = csec
            job.store(t, run, weights)
            f.release()
            if weights is not None and waiting:
                prior_w = client.scatter(weights, broadcast=True)
                for w in waiting:
                    submit(w)
                waiting = []
            bar.tile(job, t)
        rep['tiles_s'] = time.perf_counter() - t0 - rep['plan_s']
        rep['tile_seconds'], rep['tile_cpu_seconds'] = busy, cpu
        rep['bytes'] = job.write()
        bar.set(1.0)
    except BaseException as e:
        client.cancel(futures)
        # a tile or the plan that failed for a reason of its own: nothing of it is kept;
        # an interrupted client or a lost cluster: the finished tiles stay for a rerun
        job.fail(drop_scratch=isinstance(e, L.HinerError))
        raise
    finally:
        job.close()
    rep['seconds'] = time.perf_counter() - t0
    return rep
